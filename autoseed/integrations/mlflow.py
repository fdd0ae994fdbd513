"""MLflow: the seed and the settings in force go into each run the script starts with
``mlflow.start_run``, as params and tags, through MLflow's own ``log_params`` and ``set_tags``.

Imported only once the script has imported mlflow (the start-up hook waits for that import and
never makes it). A run made with ``MlflowClient().create_run`` is not the script's active run
and is left alone. Params: each ``AUTOSEED*`` setting as it is in force (``AUTOSEED=1024``,
``AUTOSEED_CUDNN=deterministic``); tags: ``autoseed.seed``, where it came from, where each
setting came from, the rank, autoseed's version, the manifest's file.
"""

from __future__ import annotations

import contextlib
import functools
from importlib import metadata
from types import ModuleType
from typing import Any

from autoseed.names import ENV_FILE_VARIABLE, say_once
from autoseed.record.manifest import armed_path
from autoseed.seeding.libraries import active_plan
from autoseed.settings.plan import KNOWN_VARIABLES, SEED_VARIABLE, SeedPlan

TAG_PREFIX = "autoseed."


def params_of(plan: SeedPlan) -> dict[str, str]:
    """The settings in force, by variable (the ``.env`` lookup, which children never do
    again, is left out)."""
    in_force = plan.exported_environment()
    in_force.pop(ENV_FILE_VARIABLE, None)
    return in_force


def tags_of(plan: SeedPlan) -> dict[str, str]:
    tags = {
        f"{TAG_PREFIX}seed": str(plan.seed),
        f"{TAG_PREFIX}seed_source": plan.source_of(SEED_VARIABLE)
        + (" (drawn for AUTOSEED=random)" if plan.seed_drawn else ""),
    }
    if plan.rank is not None:
        tags[f"{TAG_PREFIX}rank"] = f"{plan.rank[0]} (from {plan.rank[1]})"
        tags[f"{TAG_PREFIX}effective_seed"] = str(plan.effective_seed)
    for variable in KNOWN_VARIABLES:
        if variable in plan.settings and variable != SEED_VARIABLE:
            tags[f"{TAG_PREFIX}source.{variable}"] = plan.source_of(variable)
    with contextlib.suppress(metadata.PackageNotFoundError):
        tags[f"{TAG_PREFIX}version"] = metadata.version("autoseed")
    manifest = armed_path()
    if manifest is not None:
        tags[f"{TAG_PREFIX}manifest"] = manifest
    return tags


def record_in_active_run(mlflow: Any) -> None:
    """Put the seed and the settings into the script's active run, if it has one and a seed
    is in force. A failure (a resumed run that holds another seed) is said once, never
    raised into the script."""
    plan = active_plan()
    run = mlflow.active_run()
    if plan is None or plan.seed is None or run is None:
        return
    try:
        mlflow.log_params(params_of(plan))
        mlflow.set_tags(tags_of(plan))
    except Exception as exc:  # inside the script's start_run: report, never raise
        say_once(
            f"could not record the seed in MLflow run {run.info.run_id}: "
            f"{type(exc).__name__}: {str(exc)[:300]}"
        )


def watch_start_run(mlflow: ModuleType) -> None:
    """From now on, each ``mlflow.start_run`` records the seed in the run it starts."""
    m: Any = mlflow
    original = m.start_run
    if getattr(original, "__wrapped__", None) is not None:
        return

    @functools.wraps(original)
    def start_run(*args: Any, **kwargs: Any) -> Any:
        run = original(*args, **kwargs)
        record_in_active_run(m)
        return run

    m.start_run = start_run
    fluent = getattr(getattr(m, "tracking", None), "fluent", None)
    if getattr(fluent, "start_run", None) is original:
        fluent.start_run = start_run  # type: ignore[union-attr]
