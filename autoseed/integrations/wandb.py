"""Weights & Biases: the seed and the settings in force go into the config of each run the
script starts with ``wandb.init``, through W&B's own ``run.config.update``, under one key,
``autoseed``: ``seed`` (a number), ``seed_source``, ``settings`` (each ``AUTOSEED*`` setting
as it is in force), ``sources`` (where each came from), and the rank, autoseed's version and
the manifest's file where there is one.

Imported only once the script has imported wandb (the start-up hook waits for that import and
never makes it). Loggers that start their run through ``wandb.init`` (Lightning's
``WandbLogger``, transformers' ``WandbCallback``) are covered by the same wrapper. A run that
already holds another record (resumed by a process with another seed) keeps it, as W&B keeps
a config value; that is said once, never raised into the script.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from autoseed.integrations import run_facts
from autoseed.names import say_once
from autoseed.seeding.libraries import active_plan
from autoseed.settings.plan import SeedPlan

CONFIG_KEY = "autoseed"


def config_of(plan: SeedPlan) -> dict[str, Any]:
    """The run's ``autoseed`` config; the seeds and the rank as numbers, so that runs filter by
    them (``rank_from``: the variable that gave the rank)."""
    facts: dict[str, Any] = {**run_facts.seed_facts(plan), "seed": plan.seed}
    if plan.rank is not None:
        facts.update(rank=plan.rank[0], rank_from=plan.rank[1], effective_seed=plan.effective_seed)
    return {
        **facts,
        "settings": run_facts.settings_in_force(plan),
        "sources": run_facts.sources_of_settings(plan),
    }


def record_in_run(run: Any) -> None:
    """Put the seed and the settings into the run's config, if a seed is in force."""
    plan = active_plan()
    if plan is None or plan.seed is None or run is None:
        return
    record = config_of(plan)
    try:
        held = run.config.get(CONFIG_KEY)
        if held is not None and held != record:
            seed = held.get("seed") if isinstance(held, dict) else held
            say_once(
                f"W&B run {run.id} already holds another autoseed record (seed {seed!r}): "
                f"left as it is; this process ran with seed {plan.seed}"
            )
            return
        run.config.update({CONFIG_KEY: record})
    except Exception as exc:  # inside the script's wandb.init: report, never raise
        run_facts.say_not_recorded("W&B", getattr(run, "id", "?"), exc)


def watch_init(wandb: ModuleType) -> None:
    """From now on, each ``wandb.init`` records the seed in the run it returns."""
    run_facts.record_after_each_start(wandb, "init", record_in_run, getattr(wandb, "sdk", None))
