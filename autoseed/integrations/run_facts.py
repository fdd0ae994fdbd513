"""What an experiment tracker records of a seeded process, whichever tracker it is, and when:
the settings in force and the facts about the seed (its value, where it came from, the rank,
autoseed's version, the manifest's file), right after the script's call that starts a run.
``mlflow.py`` and ``wandb.py`` each put them where their tracker keeps such things."""

from __future__ import annotations

import contextlib
import functools
from importlib import metadata
from typing import Any

from autoseed.names import ENV_FILE_VARIABLE, say_once
from autoseed.record.manifest import armed_path
from autoseed.settings.plan import KNOWN_VARIABLES, SEED_VARIABLE, SeedPlan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


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


def record_after_each_start(
    owner: Any, name: str, record: Callable[[Any], None], *holders: Any
) -> None:
    """From now on, each ``owner.<name>(...)`` (the tracker's call that starts a run) calls
    ``record`` with what it returned; ``holders`` are other modules that hold the same
    function under that name (the tracker's submodule that defines it). Wrapped once."""
    original = getattr(owner, name)
    if getattr(original, "__wrapped__", None) is not None:
        return

    @functools.wraps(original)
    def start(*args: Any, **kwargs: Any) -> Any:
        run = original(*args, **kwargs)
        record(run)
        return run

    for holder in (owner, *holders):
        if getattr(holder, name, None) is original:
            setattr(holder, name, start)


def say_not_recorded(tracker: str, run_id: str, error: Exception) -> None:
    """A failure to record, inside the script's call that starts a run: said, never raised."""
    say_once(
        f"could not record the seed in {tracker} run {run_id}: "
        f"{type(error).__name__}: {str(error)[:300]}"
    )
