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
        return describe_seeding(self.library, self.seed, self.detail)

    def __repr__(self) -> str:
        return (
            f"SeedRecord(library={self.library!r}, seed={self.seed!r}, "
            f"source={self.source!r}, detail={self.detail!r})"
        )


def describe_seeding(library: str, seed: int | str | None, detail: str) -> str:
    """The wording of AUTOSEED_VERBOSE lines and of ``autoseed status``."""
    if seed is None:
        return f"{library}: {detail} (not seeded)"
    done = f"seeded {library} with {seed}"
    return f"{done}; {detail}" if detail else done


def _seed_random(module: "Any", plan: SeedPlan) -> str:
    module.seed(plan.seed)
    return ""


def _seed_numpy(module: "Any", plan: SeedPlan) -> str:
    module.seed(plan.seed)  # numpy.random: its legacy global generator
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
    return describe_cudnn(plan.cudnn)


def describe_cudnn(mode: str) -> str:
    return f"cudnn {mode}" if mode != "keep" else "cudnn flags kept"


# Library name -> (module whose import triggers the seeding, seeder). numpy 2 imports
# numpy.random lazily, and importing it costs ~6 ms: seeding it when it is first imported keeps
# `import numpy` (and `import torch`, which imports numpy) as fast as without autoseed.
SEEDERS: "dict[str, tuple[str, Seeder]]" = {
    "random": ("random", _seed_random),
    "numpy": ("numpy.random", _seed_numpy),
    "torch": ("torch", _seed_torch),
}

_plan: SeedPlan | None = None
_records: list[SeedRecord] = []
# What the exported variables held before autoseed first exported them, so that
# ``autoseed status`` can tell where each setting really came from.
_environment_before_export: dict[str, str | None] | None = None


class _SeedOnImport:
    """One library's seeder bound to a plan; a class because functools costs start-up time."""

    __slots__ = ("library", "seeder", "plan")

    def __init__(self, library: str, seeder: "Seeder", plan: SeedPlan) -> None:
        self.library = library
        self.seeder = seeder
        self.plan = plan

    def __call__(self, module: "ModuleType") -> None:
        try:
            detail = self.seeder(module, self.plan)
        except Exception as exc:  # runs inside the user's import statement: report, never raise
            warn(f"could not seed {self.library}: {type(exc).__name__}: {exc}")
            return
        plan = self.plan
        record = SeedRecord(self.library, plan.seed, plan.source_of(SEED_VARIABLE), detail)
        _records.append(record)
        if plan.verbose:
            warn(record.describe())


def apply_plan(plan: SeedPlan) -> None:
    """Seed what is imported now and what is imported later; replaces any earlier plan."""
    global _plan, _environment_before_export
    hook.forget([module_name for module_name, _ in SEEDERS.values()])
    _plan = plan
    if not plan.active:
        return
    exported = plan.exported_environment()
    if _environment_before_export is None:
        _environment_before_export = {
            key: os.environ.get(key) for key in (*exported, HASH_SEED_VARIABLE)
        }
    os.environ.update(exported)
    if plan.seed is not None:
        # The running interpreter's hash seed is fixed already; children can still agree.
        os.environ.setdefault(HASH_SEED_VARIABLE, str(plan.seed))
    if plan.seed_drawn:
        warn(f"{SEED_VARIABLE}={plan.seed}")
    for library, (module_name, seeder) in SEEDERS.items():
        if plan.seed is not None or library == "torch":
            hook.when_imported(module_name, _SeedOnImport(library, seeder, plan))


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


def environment_before_autoseed() -> dict[str, str]:
    """``os.environ`` as it was before autoseed exported its settings into it."""
    environ = dict(os.environ)
    for key, value in (_environment_before_export or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


def active_plan() -> SeedPlan | None:
    """The plan in force (from the environment or ``seed_everything``), if any."""
    return _plan
