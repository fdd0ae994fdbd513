"""What an experiment tracker records of a seeded process, whichever tracker it is: the
settings in force, and the facts about the seed (its value, where it came from, the rank,
autoseed's version, the manifest's file). ``mlflow.py`` and ``wandb.py`` each put them where
their tracker keeps such things."""

from __future__ import annotations

import contextlib
from importlib import metadata

from autoseed.names import ENV_FILE_VARIABLE
from autoseed.record.manifest import armed_path
from autoseed.settings.plan import KNOWN_VARIABLES, SEED_VARIABLE, SeedPlan


def settings_in_force(plan: SeedPlan) -> dict[str, str]:
    """Each ``AUTOSEED*`` setting as it is in force, by variable (the ``.env`` lookup, which
    children never do again, is left out)."""
    in_force = plan.exported_environment()
    in_force.pop(ENV_FILE_VARIABLE, None)
    return in_force


def sources_of_settings(plan: SeedPlan) -> dict[str, str]:
    """Where each setting other than the seed came from, by variable."""
    return {
        variable: plan.source_of(variable)
        for variable in KNOWN_VARIABLES
        if variable in plan.settings and variable != SEED_VARIABLE
    }


def seed_facts(plan: SeedPlan) -> dict[str, str]:
    """The seed, where it came from, the rank and the seed it gives, autoseed's version and the
    manifest's file (the last three where there is one)."""
    facts = {
        "seed": str(plan.seed),
        "seed_source": plan.source_of(SEED_VARIABLE)
        + (" (drawn for AUTOSEED=random)" if plan.seed_drawn else ""),
    }
    if plan.rank is not None:
        facts["rank"] = f"{plan.rank[0]} (from {plan.rank[1]})"
        facts["effective_seed"] = str(plan.effective_seed)
    with contextlib.suppress(metadata.PackageNotFoundError):
        facts["version"] = metadata.version("autoseed")
    manifest = armed_path()
    if manifest is not None:
        facts["manifest"] = manifest
    return facts
