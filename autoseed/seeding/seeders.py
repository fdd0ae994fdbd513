"""The seeders: what "seed this library" means for each one, third parties' included.

A seeder takes the freshly imported module, the seed and the plan, and returns a short detail
for the record ("cudnn deterministic"). Third-party packages add seeders through the
``autoseed.seeders`` entry-point group: the entry point's *name* is the module to watch and its
*value* a callable ``seed(module, seed) -> str | None``. Only installed distributions declare
entry points; nothing in a ``.env`` can name a module to import.
"""

import os
import sys

from autoseed.names import warn
from autoseed.seeding import calls, streams
from autoseed.settings.plan import RANK_VARIABLES, SeedPlan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Seeder = Callable[[Any, int | None, SeedPlan], str]

ENTRY_POINT_GROUP = "autoseed.seeders"
# cuBLAS is only deterministic with a fixed workspace configuration (NVIDIA's cuBLAS docs,
# "Results reproducibility"); torch before the removal of its check (pytorch#161749) raises a
# RuntimeError without it. It must be in the environment before the first cuBLAS call.
CUBLAS_WORKSPACE_VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_WORKSPACE_SETTING = ":4096:8"


def seed_for_this_process(plan: SeedPlan) -> int | None:
    """The plan's seed as this process uses it: a DataLoader worker's own seed inside a worker,
    the seed derived for a forked child inside one (``streams.py``).

    torch seeds each worker with ``base_seed + worker_id`` after the worker has imported its
    modules; a library first imported later than that must get the worker's stream, not the
    job-wide seed, or every worker would draw the same numbers.
    """
    seed = plan.effective_seed
    if seed is None:
        return None
    worker = streams.loader_worker_seed()
    return streams.in_this_process(seed) if worker is None else worker


def seed_random(module: "Any", seed: int | None, plan: SeedPlan) -> str:
    calls.wrap_random(module)
    module.seed(seed)
    # After random's import: random's own after-fork reseed (from the OS) must come first.
    streams.number_forked_children()
    return ""


def seed_numpy(module: "Any", seed: int | None, plan: SeedPlan) -> str:
    """``module`` is numpy.random: seed its legacy global generator; requests for fresh
    entropy (``default_rng()``, ``RandomState()``) get derived seeds unless switched off."""
    calls.wrap_numpy(module)
    module.seed(seed)
    return "" if plan.generators else "unseeded generators left to the OS"


def seed_torch(module: "Any", seed: int | None, plan: SeedPlan) -> str:
    if seed is not None:
        calls.wrap_torch(module)
        calls.give_loader_workers_rank_streams(module, process_rank())
        # manual_seed covers every device lazily; manual_seed_all is the documented belt and
        # braces for CUDA and is safe (queued) before CUDA is initialised or without it, but
        # not in a child forked after CUDA started (it would fail at the child's first use).
        module.manual_seed(seed)
        if not getattr(module.cuda, "_is_in_bad_fork", bool)():
            module.cuda.manual_seed_all(seed)
    cudnn = module.backends.cudnn
    if plan.cudnn == "deterministic":
        cudnn.benchmark, cudnn.deterministic = False, True
    elif plan.cudnn == "benchmark":
        cudnn.benchmark, cudnn.deterministic = True, False
    if plan.deterministic != "off":
        module.use_deterministic_algorithms(True, warn_only=plan.deterministic == "warn")
    return describe_torch_settings(plan)


def process_rank() -> int | None:
    """This process's global rank: its process group's once it joined one (a rank that
    ``torch.multiprocessing.spawn`` started has no rank variable), else the launcher's
    variables, else ``None`` outside a job."""
    distributed = sys.modules.get("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        return int(distributed.get_rank())
    return launcher_number(RANK_VARIABLES)


def launcher_number(variables: "tuple[str, ...]") -> int | None:
    """The first of ``variables`` (a launcher's rank or world size) that holds a number."""
    for variable in variables:
        word = os.environ.get(variable, "").strip()
        if word.isascii() and word.isdigit() and len(word) <= 10:
            return int(word)
    return None


def describe_torch_settings(plan: SeedPlan) -> str:
    detail = f"cudnn {plan.cudnn}" if plan.cudnn != "keep" else "cudnn flags kept"
    if plan.deterministic == "on":
        detail += "; deterministic algorithms"
    elif plan.deterministic == "warn":
        detail += "; deterministic algorithms (warn only)"
    return detail


def prepare_environment(plan: SeedPlan) -> None:
    """Environment that must be in place before the libraries start (cuBLAS reads it once)."""
    if plan.deterministic != "off":
        os.environ.setdefault(CUBLAS_WORKSPACE_VARIABLE, CUBLAS_WORKSPACE_SETTING)


# Library name -> (module whose import triggers the seeding, seeder). numpy 2 imports
# numpy.random lazily, and importing it costs ~6 ms: seeding it when it is first imported keeps
# `import numpy` (and `import torch`, which imports numpy) as fast as without autoseed.
BUILT_IN_SEEDERS: "dict[str, tuple[str, Seeder]]" = {
    "random": ("random", seed_random),
    "numpy": ("numpy.random", seed_numpy),
    "torch": ("torch", seed_torch),
}


class _EntryPointSeeder:
    """A third party's ``seed(module, seed)`` as a seeder, loaded only when its module is."""

    __slots__ = ("entry_point",)

    def __init__(self, entry_point: "Any") -> None:
        self.entry_point = entry_point

    def __call__(self, module: "Any", seed: int | None, plan: SeedPlan) -> str:
        detail = self.entry_point.load()(module, seed)
        return detail if isinstance(detail, str) else f"via {self.entry_point.value}"


def third_party_seeders() -> "dict[str, tuple[str, Seeder]]":
    """Seeders that installed distributions declare in the ``autoseed.seeders`` group."""
    if not _some_distribution_declares_the_group():
        return {}
    from importlib.metadata import entry_points

    found: dict[str, tuple[str, Seeder]] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in BUILT_IN_SEEDERS or entry_point.name in found:
            warn(f"entry point {entry_point.name} = {entry_point.value} ignored: already seeded")
            continue
        found[entry_point.name] = (entry_point.name, _EntryPointSeeder(entry_point))
    return found


def _some_distribution_declares_the_group() -> bool:
    """A cheap look at each entry_points.txt on sys.path before paying for importlib.metadata.

    importlib.metadata costs 20-50 ms to import; most environments declare no seeders at all.
    """
    marker = f"[{ENTRY_POINT_GROUP}]".encode()
    for directory in sys.path:
        try:
            entries = os.scandir(directory or os.curdir)
        except OSError:
            continue
        with entries:
            for entry in entries:
                if not entry.name.endswith((".dist-info", ".egg-info")):
                    continue
                try:
                    with open(os.path.join(entry.path, "entry_points.txt"), "rb") as file:
                        if marker in file.read():
                            return True
                except OSError:
                    continue
    return False
