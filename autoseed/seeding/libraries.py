"""Seed ``random``, numpy and torch (and third parties' libraries): what seeding each one
means, and the plan applied to each at its first import, the one code path behind the
start-up hook and the API.

Each library is seeded when it is first imported (at once if it already is), so a seed that the
script sets itself afterwards still wins. A seeder takes the freshly imported module, the seed
and the plan, and returns a short detail for the record ("cudnn deterministic"). Third-party
packages add seeders through the ``autoseed.seeders`` entry-point group: the entry point's
*name* is the module to watch and its *value* a callable ``seed(module, seed) -> str | None``.
Only installed distributions declare entry points; nothing in a ``.env`` can name a module to
import.
"""

import os
import sys

from autoseed.hook import before_next_import, cancel, fully_imported, refuse_import, when_imported
from autoseed.names import (
    DRAWN_SEED_VARIABLE,
    EXPORTED_HASH_SEED_VARIABLE,
    HASH_SEED_VARIABLE,
    INDUCTOR_DETERMINISTIC_VARIABLE,
    is_autoseed_command,
    reported,
    say_once,
    warn,
)
from autoseed.seeding import calls, ledger, streams
from autoseed.settings.plan import (
    CUDNN_VARIABLE,
    DETERMINISTIC_VARIABLE,
    GENERATORS_VARIABLE,
    MAX_SEED,
    PORTABLE_VARIABLE,
    RANK_OFFSET_VARIABLE,
    RANK_VARIABLES,
    SEED_VARIABLE,
    VERBOSE_VARIABLE,
    ConfigError,
    SeedPlan,
    Setting,
    resolve_config,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    Seeder = Callable[[Any, int | None, SeedPlan], str]

ENTRY_POINT_GROUP = "autoseed.seeders"
# cuBLAS is only deterministic with a fixed workspace configuration (NVIDIA's cuBLAS docs,
# "Results reproducibility"); torch before the removal of its check (pytorch#161749) raises a
# RuntimeError without it. It must be in the environment before the first cuBLAS call.
CUBLAS_WORKSPACE_VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_WORKSPACE_SETTING = ":4096:8"
# Lightning's seed: its seed_everything() without an argument takes it, its DistributedSampler
# shuffles with it, its DDP ranks reseed with it (reset_seed), its launchers pass it on.
LIGHTNING_SEED_VARIABLE = "PL_GLOBAL_SEED"
# Lightning's seed module, in the unified package and in the standalone one (pytorch_lightning
# imports lightning_fabric's).
LIGHTNING_SEED_MODULES = ("lightning.fabric.utilities.seed", "lightning_fabric.utilities.seed")


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
    if plan.deterministic != "off" or plan.portable is not None:
        turn_tf32_off(module)
    if plan.portable is not None:
        from autoseed.seeding import portable

        portable.keep_inductor_deterministic(module)
    return describe_torch_settings(plan)


def turn_tf32_off(torch: "Any") -> None:
    """float32 matmuls and convolutions on GPUs in float32, not TF32 (whose use depends on the
    GPU model): torch's per-operator settings where it has them, its older flags elsewhere."""
    import warnings

    backends = torch.backends
    cudnn_conv = getattr(backends.cudnn, "conv", None)
    if cudnn_conv is None or not hasattr(cudnn_conv, "fp32_precision"):
        backends.cuda.matmul.allow_tf32 = False
        backends.cudnn.allow_tf32 = False
        return
    # torch's reader of the older cuDNN flag raises unless that flag agrees with the new
    # per-operator settings, which do not change it: it is set too, first (some torch
    # versions call it deprecated; said to nobody, it is autoseed's doing, not the script's).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backends.cudnn.allow_tf32 = False
    backends.cuda.matmul.fp32_precision = "ieee"
    cudnn_conv.fp32_precision = "ieee"
    backends.cudnn.rnn.fp32_precision = "ieee"


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
    if plan.deterministic != "off" or plan.portable is not None:
        detail += "; TF32 off"
    if plan.portable is not None:
        threads = "1 thread" if plan.portable == 1 else f"{plan.portable} threads"
        detail += f"; portable ({threads}, CPU features pinned)"
    return detail


def prepare_environment(plan: SeedPlan) -> None:
    """Environment that must be in place before the libraries start: cuBLAS, OpenMP, the BLAS
    libraries and numpy read it once, when they load."""
    if plan.portable is not None:  # first: a pin it finds set is the user's
        from autoseed.seeding import portable

        portable.pin_environment(plan.portable)
    if plan.deterministic != "off":
        os.environ.setdefault(CUBLAS_WORKSPACE_VARIABLE, CUBLAS_WORKSPACE_SETTING)
        os.environ.setdefault(INDUCTOR_DETERMINISTIC_VARIABLE, "1")


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


# Libraries whose import is refused while the configuration is invalid: running them unseeded
# would be silent. ``random`` is not among them: pip and most of the standard library import it.
REFUSED_WHEN_INVALID = ("numpy", "torch")

_plan: SeedPlan | None = None
_records: "list[SeedRecord]" = []
# What the exported variables held before autoseed first exported them, so that
# ``autoseed status`` can tell where each setting really came from.
_environment_before_export: dict[str, str | None] | None = None


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


class _SeedOnImport:
    """One library's seeder bound to a plan; a class because functools costs start-up time."""

    __slots__ = ("library", "seeder", "plan")

    def __init__(self, library: str, seeder: "Seeder", plan: SeedPlan) -> None:
        self.library = library
        self.seeder = seeder
        self.plan = plan

    def __call__(self, module: "ModuleType") -> None:
        plan = self.plan
        try:
            seed = seed_for_this_process(plan)
            with ledger.seeding_by_autoseed():
                detail = self.seeder(module, seed, plan)
        except Exception as exc:  # runs inside the user's import statement: report, never raise
            warn(f"could not seed {self.library}: {type(exc).__name__}: {exc}")
            return
        record = SeedRecord(self.library, seed, plan.source_of(SEED_VARIABLE), detail)
        _records.append(record)
        if plan.verbose:
            warn(record.describe())


class _TellLightning:
    """At Lightning's import, ``PL_GLOBAL_SEED`` = the seed, unless it holds a seed autoseed
    did not put there (yours, or one the script gave Lightning's own seed_everything).

    Set there and not at start-up: only a process that uses Lightning exports it to its
    children, as Lightning's seed_everything would, so that a seed from a ``.env`` reaches no
    process started elsewhere that does not use Lightning. Not with ``AUTOSEED_RANK_OFFSET``:
    Lightning's one seed for every rank would undo the offset (its DDP ranks reseed with it).
    """

    __slots__ = ("seed",)

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, module: "ModuleType") -> None:
        current = os.environ.get(LIGHTNING_SEED_VARIABLE)
        if current is None or current in _lightning_seeds_given:
            os.environ[LIGHTNING_SEED_VARIABLE] = str(self.seed)
            _lightning_seeds_given.add(str(self.seed))


_lightning_seeds_given: "set[str]" = set()
_watching: "list[tuple[str, _SeedOnImport | _TellLightning]]" = []


def _watch(
    seeders: "dict[str, tuple[str, Seeder]]", plan: SeedPlan, skip: "tuple[str, ...]" = ()
) -> None:
    for library, (module_name, seeder) in seeders.items():
        # Without a seed there is only torch's flags to set.
        if (plan.seed is not None or library == "torch") and library not in skip:
            callback = _SeedOnImport(library, seeder, plan)
            _watching.append((module_name, callback))
            when_imported(module_name, callback)


_third_party: "dict[str, tuple[str, Seeder]] | None" = None


def _found_third_party() -> "dict[str, tuple[str, Seeder]]":
    """The third-party seeders, looked up once per process (a scan of sys.path)."""
    global _third_party
    if _third_party is None:
        try:
            _third_party = third_party_seeders()
        except Exception as exc:  # runs inside the user's next import: report, never raise
            warn(f"could not look up {ENTRY_POINT_GROUP} entry points: {type(exc).__name__}: {exc}")
            _third_party = {}
    return _third_party


def _watch_third_party(plan: SeedPlan) -> None:
    if _plan is plan:  # else replaced by a later plan in the meantime
        _watch(_found_third_party(), plan)


def apply_plan(
    plan: SeedPlan,
    *,
    export: bool = True,
    third_party_now: bool = False,
    restarted: bool = False,
    skip: "tuple[str, ...]" = (),
) -> None:
    """Seed what is imported now and what is imported later; replaces any earlier plan.

    ``export`` puts the settings into ``os.environ`` for children, as ``load_dotenv()`` would:
    right for :func:`seed_everything`, wrong at start-up, where settings that came from a
    ``.env`` must configure only the processes started where that file applies (a Jupyter
    server's kernels, an IDE's helpers run elsewhere). Children always get what they cannot
    resolve themselves: the hash seed, and the number drawn for ``AUTOSEED=random``.
    ``third_party_now`` seeds third-party libraries at once instead of at the next import.
    ``restarted``: this interpreter was restarted by autoseed, which set ``PYTHONHASHSEED``.
    ``skip``: libraries (``"numpy"``) left as they are, now and at their import.
    """
    global _plan, _environment_before_export
    for module_name, callback in _watching:
        cancel(module_name, callback)
    _watching.clear()
    _plan = plan
    streams.set_process_seed(plan.effective_seed)
    ledger.set_verbose(plan.verbose)
    calls.configure(derive=plan.generators, override_seed=plan.override_seed)
    if not plan.active:
        return
    streams.reseed_forked_children_with(_reseed_forked_child)
    if plan.seed is not None and not _spawn_watched:
        _spawn_watched.append(True)  # once per process: plans come and go, the numbering stays
        when_imported("multiprocessing.spawn", _number_spawned_children)
        when_imported("torch.distributed.distributed_c10d", _watch_process_groups)
    settings = plan.exported_environment()
    exported = {**(settings if export else {}), **plan.drawn_seed_environment()}
    if plan.portable is not None:
        # Children get the pins' variables in any case: they get the setting too, so that
        # they apply the rest (TF32) and say so, whatever their working directory.
        exported[PORTABLE_VARIABLE] = settings[PORTABLE_VARIABLE]
    if _environment_before_export is None:
        _environment_before_export = {
            key: os.environ.get(key)
            for key in (
                *settings,
                DRAWN_SEED_VARIABLE,
                HASH_SEED_VARIABLE,
                EXPORTED_HASH_SEED_VARIABLE,
                CUBLAS_WORKSPACE_VARIABLE,
                INDUCTOR_DETERMINISTIC_VARIABLE,
                *_portable_variables(plan),
                LIGHTNING_SEED_VARIABLE,
            )
        }
        if restarted:  # our restart set them, not the user
            _environment_before_export[HASH_SEED_VARIABLE] = None
            _environment_before_export[EXPORTED_HASH_SEED_VARIABLE] = None
    os.environ.update(exported)
    if plan.seed is not None and HASH_SEED_VARIABLE not in os.environ:
        # Children agree on hash(), across ranks too (the base seed, not the rank's); this
        # interpreter's was fixed by the restart, or stays as is. The marker lets a child
        # (a kernel a seeded server starts) tell autoseed's PYTHONHASHSEED from the user's.
        os.environ[HASH_SEED_VARIABLE] = os.environ[EXPORTED_HASH_SEED_VARIABLE] = str(plan.seed)
    prepare_environment(plan)
    # The autoseed command itself says which seed it hands to the command it runs, if any.
    if plan.seed_drawn and not plan.seed_inherited and not is_autoseed_command():
        warn(f"{SEED_VARIABLE}={plan.seed}")
    _watch(BUILT_IN_SEEDERS, plan, skip)
    if plan.seed is not None and plan.rank is None:
        for module_name in LIGHTNING_SEED_MODULES:
            callback = _TellLightning(plan.seed)
            _watching.append((module_name, callback))
            when_imported(module_name, callback)
    if plan.seed is not None and third_party_now:
        _watch_third_party(plan)
    elif plan.seed is not None:
        # Looking for third-party seeders costs a scan of sys.path (and importlib.metadata where
        # a distribution declares one): defer it to the next import, so that an interpreter
        # that imports nothing more never pays.
        before_next_import(lambda: _watch_third_party(plan))


def _portable_variables(plan: SeedPlan) -> "tuple[str, ...]":
    """The variables that ``AUTOSEED_PORTABLE`` may set, when it is on."""
    if plan.portable is None:
        return ()
    from autoseed.seeding import portable

    pins, unpinned = portable.plan_pins(plan.portable, {})
    return (*pins, *unpinned, portable.PINNED_VARIABLE)


def reseed_everything(plan: SeedPlan, *, keep_code_seeds: bool = False) -> None:
    """Seed every library autoseed seeds (third-party ones included) again, now, with ``plan``;
    one imported later gets it at its import. For a fresh start inside a running process: a
    notebook's first cell, each test. Exports nothing.

    ``keep_code_seeds``: leave alone each library whose global generator the code seeded after
    autoseed last did (a fixture's ``np.random.seed(0)``): the user's own seed wins.
    """
    skip = tuple(
        library for library in BUILT_IN_SEEDERS if ledger.seeded_by_code_since_autoseed(library)
    )
    apply_plan(plan, export=False, third_party_now=True, skip=skip if keep_code_seeds else ())


_spawn_watched: "list[bool]" = []


@reported("number spawned children")
def _number_spawned_children(spawn: "ModuleType") -> None:
    streams.number_spawned_children(spawn)


@reported("watch init_process_group")
def _watch_process_groups(c10d: "ModuleType") -> None:
    from autoseed.seeding.ranks import watch_process_groups

    watch_process_groups(c10d, _join_as_rank)


@reported("give this process the streams of its rank")
def _join_as_rank(rank: int) -> None:
    """This process joined a process group as ``rank``: from now on it draws what rank
    ``rank`` of a torchrun job draws (``ranks.py``).

    A child (``torch.multiprocessing.spawn``'s ranks) leaves the streams derived for it for
    the job's, so that the ranks' model init and data split agree; a process that is on them
    already (torchrun's, srun's ranks) keeps its place in them. Libraries that the code seeded
    itself keep the code's seed. DataLoader workers are keyed on the rank either way.
    """
    from autoseed.seeding import ranks

    plan = _plan
    if plan is None or plan.seed is None:
        return
    torch = fully_imported("torch")
    child = bool(streams.fork_path())
    if child and torch is not None and not ledger.seeded_by_code_since_autoseed("torch"):
        note = ranks.draws_before_joining(torch, seed_for_this_process(plan), rank)
        if note is not None:
            warn(note)
    rank_plan = plan.as_rank(rank)
    if child or rank_plan.effective_seed != plan.effective_seed:
        reseed_everything(rank_plan, keep_code_seeds=True)
        if plan.verbose:
            warn(f"rank {rank} joined a process group: seeded as rank {rank} of the job")
    if torch is not None:
        calls.give_loader_workers_rank_streams(torch, rank)


def _reseed_forked_child() -> None:
    """In a forked child: every imported library gets the streams derived for this child."""
    if _plan is not None and _plan.seed is not None:
        seed_imported(_plan, third_party=_third_party or {})


def seed_imported(
    plan: SeedPlan,
    *,
    skip: tuple[str, ...] = (),
    third_party: "dict[str, tuple[str, Seeder]] | None" = None,
) -> None:
    """Seed the libraries already imported, now, except ``skip``; nothing else changes.

    ``third_party``: the third-party seeders to include (by default, looked up).
    """
    if third_party is None:
        third_party = _found_third_party()
    for library, (module_name, seeder) in {**BUILT_IN_SEEDERS, **third_party}.items():
        module = fully_imported(module_name)
        if library not in skip and module is not None:
            _SeedOnImport(library, seeder, plan)(module)


def refuse_unseeded_imports(error: ConfigError, told: str | None = None) -> None:
    """Make numpy and torch imports fail with ``error`` until a valid plan is applied; at the
    first refusal, ``told`` is said on stderr (once per job), as every notice is said at the
    first import of numpy or torch: a ``try: import torch`` that swallows the error must not
    leave the run silently unseeded."""

    def refusal() -> ConfigError:
        if told is not None:
            say_once(told)
        return ConfigError(str(error))

    for name in REFUSED_WHEN_INVALID:
        refuse_import(name, refusal)


def seed_everything(
    seed: int,
    *,
    cudnn: str = "deterministic",
    deterministic: bool | str = False,
    rank_offset: bool = False,
    generators: bool = True,
    verbose: bool = False,
    numpy_generators: bool | None = None,
) -> SeedPlan:
    """Seed random, numpy and torch now and at their first import, as ``AUTOSEED=seed`` would.

    Each keyword takes the values of its ``AUTOSEED_*`` variable (``deterministic="warn"``);
    the settings go through the same parser and the same seeding code as the environment's.
    ``numpy_generators`` is 0.2's name for ``generators`` and wins where given.
    Returns the plan that was applied.
    """
    # Any integral number (numpy.int64 included, by __index__) but a bool, surely a slip.
    index = getattr(type(seed), "__index__", None)
    number = index(seed) if index is not None and not isinstance(seed, bool) else None
    if number is None or not 0 <= number <= MAX_SEED:
        raise ConfigError(
            f"seed_everything(seed={seed!r}) is not valid; expected an integer 0..{MAX_SEED}"
        )
    seed = number
    values = {
        SEED_VARIABLE: str(seed),
        CUDNN_VARIABLE: cudnn,
        DETERMINISTIC_VARIABLE: deterministic,
        RANK_OFFSET_VARIABLE: rank_offset,
        GENERATORS_VARIABLE: generators if numpy_generators is None else numpy_generators,
        VERBOSE_VARIABLE: verbose,
    }
    settings = {
        variable: Setting(variable, _as_word(value), "seed_everything()")
        for variable, value in values.items()
    }
    portable = _plan.settings.get(PORTABLE_VARIABLE) if _plan is not None else None
    if portable is not None:
        # The pins were read when the libraries loaded and stay: so does the setting, for the
        # children and for what this process says.
        settings[PORTABLE_VARIABLE] = portable
    plan = resolve_config(settings, os.environ)
    apply_plan(plan)
    from autoseed.settings import notices

    notices.tell_now()  # what the start-up hook found wrong, now that the API is in use
    return plan


def _as_word(value: bool | str) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else value


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
