"""Seed ``random``, numpy and torch: the one code path behind the start-up hook and the API.

Each library is seeded when it is first imported (at once if it already is), so a seed that the
script sets itself afterwards still wins.
"""

import os

from autoseed import hook
from autoseed._startup import warn
from autoseed.config import (
    CUDNN_VARIABLE,
    MAX_SEED,
    SEED_VARIABLE,
    ConfigError,
    SeedPlan,
    Setting,
    parse_cudnn_mode,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    Seeder = Callable[[Any, SeedPlan], str]

HASH_SEED_VARIABLE = "PYTHONHASHSEED"
# Libraries whose import is refused while the configuration is invalid: running them unseeded
# would be silent. ``random`` is not among them: pip and most of the standard library import it.
REFUSED_WHEN_INVALID = ("numpy", "torch")


class SeedRecord:
    """One library that autoseed seeded (or configured), with what and from where."""

    __slots__ = ("library", "seed", "source", "detail")

    def __init__(self, library: str, seed: int | None, source: str, detail: str) -> None:
        self.library = library
        self.seed = seed
        self.source = source
        self.detail = detail

    def describe(self) -> str:
        if self.seed is None:
            return f"{self.library}: {self.detail} (not seeded)"
        done = f"seeded {self.library} with {self.seed}"
        return f"{done}; {self.detail}" if self.detail else done

    def __repr__(self) -> str:
        return (
            f"SeedRecord(library={self.library!r}, seed={self.seed!r}, "
            f"source={self.source!r}, detail={self.detail!r})"
        )


def _seed_random(module: "Any", plan: SeedPlan) -> str:
    module.seed(plan.seed)
    return ""


def _seed_numpy(module: "Any", plan: SeedPlan) -> str:
    module.random.seed(plan.seed)
    return ""


def _seed_torch(module: "Any", plan: SeedPlan) -> str:
    if plan.seed is not None:
        # manual_seed covers every device lazily; manual_seed_all is the documented belt and
        # braces for CUDA and is safe (queued) before CUDA is initialised or without it.
        module.manual_seed(plan.seed)
        module.cuda.manual_seed_all(plan.seed)
    cudnn = module.backends.cudnn
    if plan.cudnn == "deterministic":
        cudnn.benchmark, cudnn.deterministic = False, True
    elif plan.cudnn == "benchmark":
        cudnn.benchmark, cudnn.deterministic = True, False
    return f"cudnn {plan.cudnn}" if plan.cudnn != "keep" else "cudnn flags kept"


SEEDERS: "dict[str, Seeder]" = {"random": _seed_random, "numpy": _seed_numpy, "torch": _seed_torch}

_plan: SeedPlan | None = None
_records: list[SeedRecord] = []


class _SeedOnImport:
    """One library's seeder bound to a plan; a class because functools costs start-up time."""

    __slots__ = ("seeder", "plan")

    def __init__(self, seeder: "Seeder", plan: SeedPlan) -> None:
        self.seeder = seeder
        self.plan = plan

    def __call__(self, module: "ModuleType") -> None:
        try:
            detail = self.seeder(module, self.plan)
        except Exception as exc:  # runs inside the user's import statement: report, never raise
            warn(f"could not seed {module.__name__}: {type(exc).__name__}: {exc}")
            return
        plan = self.plan
        record = SeedRecord(module.__name__, plan.seed, plan.source_of(SEED_VARIABLE), detail)
        _records.append(record)
        if plan.verbose:
            warn(record.describe())


def apply_plan(plan: SeedPlan) -> None:
    """Seed what is imported now and what is imported later; replaces any earlier plan."""
    global _plan
    hook.forget(list(SEEDERS))
    _plan = plan
    if not plan.active:
        return
    os.environ.update(plan.exported_environment())
    if plan.seed is not None:
        # The running interpreter's hash seed is fixed already; children can still agree.
        os.environ.setdefault(HASH_SEED_VARIABLE, str(plan.seed))
    if plan.seed_drawn:
        warn(f"{SEED_VARIABLE}={plan.seed}")
    for name, seeder in SEEDERS.items():
        if plan.seed is not None or name == "torch":
            hook.when_imported(name, _SeedOnImport(seeder, plan))


def refuse_unseeded_imports(error: ConfigError) -> None:
    """Make numpy and torch imports fail with ``error`` until a valid plan is applied."""
    for name in REFUSED_WHEN_INVALID:
        hook.refuse_import(name, lambda: ConfigError(str(error)))


def seed_everything(seed: int, *, cudnn: str = "deterministic", verbose: bool = False) -> SeedPlan:
    """Seed random, numpy and torch now and at their first import, as ``AUTOSEED=seed`` would.

    ``cudnn`` takes the values of ``AUTOSEED_CUDNN``. Returns the plan that was applied.
    """
    source = "seed_everything()"
    if type(seed) is not int or not 0 <= seed <= MAX_SEED:
        raise ConfigError(
            f"seed_everything(seed={seed!r}) is not valid; expected an integer 0..{MAX_SEED}"
        )
    cudnn_setting = Setting(CUDNN_VARIABLE, cudnn, source)
    plan = SeedPlan(
        seed,
        cudnn=parse_cudnn_mode(cudnn_setting) or "deterministic",
        verbose=verbose,
        settings={
            SEED_VARIABLE: Setting(SEED_VARIABLE, str(seed), source),
            CUDNN_VARIABLE: cudnn_setting,
        },
    )
    apply_plan(plan)
    return plan


def seeded() -> tuple[SeedRecord, ...]:
    """What autoseed has seeded in this process so far, in order."""
    return tuple(_records)


def active_plan() -> SeedPlan | None:
    """The plan in force (from the environment or ``seed_everything``), if any."""
    return _plan
