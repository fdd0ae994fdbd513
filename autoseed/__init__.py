"""autoseed: make an unmodified PyTorch / NumPy script reproducible from one environment variable.

``AUTOSEED=1024 python train.py`` seeds ``random``, numpy and torch at their first import and
sets the cudnn flags. In code, :func:`seed_everything` does the same through the same functions.

This module stays light on purpose: every module of the package imports it first, the start-up
hand-over (``autoseed/start/__init__.py``) included. The public names load on first use (PEP 562).

PYTEST_DONT_REWRITE: pytest asks to rewrite the asserts of every distribution that declares a
``pytest11`` plugin, and warns about any such module already imported, as this one is where
autoseed is active; with ``filterwarnings = error`` that warning stops the run.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from autoseed.seeding.libraries import SeedRecord, active_plan, seed_everything, seeded
    from autoseed.settings.plan import ConfigError, SeedPlan

__all__ = ["ConfigError", "SeedPlan", "SeedRecord", "active_plan", "seed_everything", "seeded"]

_HOMES = {
    "ConfigError": "autoseed.settings.plan",
    "SeedPlan": "autoseed.settings.plan",
    "SeedRecord": "autoseed.seeding.libraries",
    "active_plan": "autoseed.seeding.libraries",
    "seed_everything": "autoseed.seeding.libraries",
    "seeded": "autoseed.seeding.libraries",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'autoseed' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(home), name)


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext autoseed``: the ``%autoseed`` line magic in this IPython shell."""
    from autoseed.integrations.ipython import load_ipython_extension as load
    from autoseed.start.status import describe_status

    load(ipython, describe_status)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
