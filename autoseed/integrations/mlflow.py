"""MLflow: the seed and the settings in force go into each run the script starts with
``mlflow.start_run``, as params and tags, through MLflow's own ``log_params`` and ``set_tags``.

Imported only once the script has imported mlflow (the start-up hook waits for that import and
never makes it). A run made with ``MlflowClient().create_run`` is not the script's active run
and is left alone. Params: each ``AUTOSEED*`` setting as it is in force (``AUTOSEED=1024``,
``AUTOSEED_CUDNN=deterministic``); tags: ``autoseed.seed``, where it came from, where each
setting came from, the rank, autoseed's version, the manifest's file.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from autoseed.integrations.run_facts import (
    record_after_each_start,
    say_not_recorded,
    seed_facts,
    settings_in_force,
    sources_of_settings,
)
from autoseed.seeding.libraries import active_plan
from autoseed.settings.plan import SeedPlan

TAG_PREFIX = "autoseed."


def tags_of(plan: SeedPlan) -> dict[str, str]:
    """The facts about the seed, and where each setting came from, as ``autoseed.*`` tags."""
    tags = {f"{TAG_PREFIX}{name}": value for name, value in seed_facts(plan).items()}
    for variable, source in sources_of_settings(plan).items():
        tags[f"{TAG_PREFIX}source.{variable}"] = source
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
        mlflow.log_params(settings_in_force(plan))
        mlflow.set_tags(tags_of(plan))
    except Exception as exc:  # inside the script's start_run: report, never raise
        say_not_recorded("MLflow", run.info.run_id, exc)


def watch_start_run(mlflow: ModuleType) -> None:
    """From now on, each ``mlflow.start_run`` records the seed in the run it starts."""
    fluent = getattr(getattr(mlflow, "tracking", None), "fluent", None)
    record_after_each_start(mlflow, "start_run", lambda _run: record_in_active_run(mlflow), fluent)
