"""The seeding APIs of ``random``, numpy and torch, wrapped: every call goes into the ledger,
and every request for fresh entropy gets a seed derived from the process's seed.

Which requests are answered (with ``AUTOSEED_GENERATORS`` on, the default):

- ``random``: ``random.seed()``, ``random.Random()`` and ``Random.seed()`` without a value;
- numpy: everything that asks ``numpy.random.bit_generator`` for entropy, which is every
  ``default_rng()``, ``SeedSequence()``, ``RandomState()``, ``PCG64()`` and
  ``numpy.random.seed()`` without a value;
- torch: ``torch.seed()`` (``torch.Generator().seed()`` is a method of a C type, which cannot
  be wrapped; ``autoseed verify --explain``'s traced runs see it, and its
  ``manual_seed``, through a profile hook: :func:`watch_generator_seeding`).

Left alone: requests made by the standard library for its own purposes (``tempfile``'s name
sequence must stay unpredictable: jobs with one seed share ``/tmp``), and generators made
before the library's first import was seeded.

Explicit seeds are recorded, and kept, unless ``AUTOSEED_OVERRIDE`` is on: then each value the
code gives becomes one derived from (``AUTOSEED``, value), so that a script's literal seeds
follow ``AUTOSEED`` (``autoseed sweep``). A ``torch.Generator`` seeded by hand keeps its seed
(its ``manual_seed`` is a method of a C type, and it is where scripts fix their data split).
"""

import os
import sys

from autoseed.names import TRACE_VARIABLE
from autoseed.seeding import ledger, streams

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_from_standard_library = ledger.from_standard_library


class _Policy:
    """What the wrappers do with the calls they see; set by the plan in force."""

    derive = True  # fresh-entropy requests get derived seeds (AUTOSEED_GENERATORS)
    override_seed: "int | None" = None  # the AUTOSEED that explicit seeds follow, if overridden


def configure(*, derive: bool, override_seed: "int | None") -> None:
    _Policy.derive = derive
    _Policy.override_seed = override_seed


def _derived_for(library: str, where: "tuple[str, int]", bits: int) -> "int | None":
    """A derived seed for a request of fresh entropy from ``where``, or ``None`` to leave it."""
    if not _Policy.derive or _from_standard_library(where[0]):
        return None
    return streams.fresh_seed(library, bits)


def _as_key(value: "Any") -> "Any":
    """A seed value as data that prints the same in every process: ints stay ints (numpy's
    too), sequences of ints become tuples."""
    index = getattr(type(value), "__index__", None)
    if index is not None and not isinstance(value, bool):
        return index(value)
    try:
        return tuple(_as_key(item) for item in value)
    except TypeError:
        return value


def overridden(value: "Any", override_seed: int) -> int:
    """The seed that replaces the code's ``value`` under ``AUTOSEED_OVERRIDE``: a digest of
    both, never a sum (``42 + 1`` under one AUTOSEED must not be ``42 + 0`` under the next)."""
    return streams.derive(override_seed, "override", repr(_as_key(value)))


def explicit_seed(api: str, value: "Any", where: "tuple[str, int]", library: str = "") -> "Any":
    """The value an explicit seeding call goes on with: the code's own, recorded, or under
    ``AUTOSEED_OVERRIDE`` one derived from it (autoseed's own calls are never replaced)."""
    override_seed = _Policy.override_seed
    if override_seed is None or ledger.autoseed_is_seeding() or _from_standard_library(where[0]):
        ledger.record(api, value, where, ledger.EXPLICIT, library)
        return value
    replacement = overridden(value, override_seed)
    ledger.record(api, replacement, where, ledger.OVERRIDDEN, library, replaced=value)
    return replacement


def mark_wrapper(wrapper: "Any", original: "Any") -> "Any":
    """``wrapper`` named and documented as ``original``, which ``__wrapped__`` leads back to
    (so that wrapping again wraps the original, and pickle finds the wrapper by its name)."""
    wrapper.__wrapped__ = original
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__name__ = getattr(original, "__name__", wrapper.__name__)
    wrapper.__qualname__ = getattr(original, "__qualname__", wrapper.__qualname__)
    wrapper.__module__ = getattr(original, "__module__", wrapper.__module__)
    return wrapper


def original_of(function: "Any") -> "Any":
    """What :func:`mark_wrapper` wrapped, or ``function`` itself."""
    return getattr(function, "__wrapped__", function)


_random_state_after_code_seed: "list[Any]" = []


def restore_random_as_code_seeded_it(module: "Any") -> bool:
    """Put ``random`` back in the state the code's last seed call left it in, if the code
    seeded it after autoseed: IPython's banner tips draw from it after a profile's startup
    file seeded it, before the first cell."""
    if not (_random_state_after_code_seed and ledger.seeded_by_code_since_autoseed("random")):
        return False
    module.setstate(_random_state_after_code_seed[0])
    return True


def wrap_random(module: "Any") -> None:
    """``random.Random.seed`` (which ``Random()`` calls), and ``random.seed`` with it."""
    original = original_of(module.Random.seed)
    skipped = (module.__file__ or "random.py",)
    instance = module._inst

    def seed(self: "Any", a: "Any" = None, version: int = 2) -> None:
        where = ledger.caller(skipped)
        global_one = self is instance
        api, library = ("random.seed", "random") if global_one else ("random.Random", "")
        if a is not None:
            a = explicit_seed(api, a, where, library)
        else:
            a = _derived_for("random", where, 32)
            if a is not None:
                ledger.record(api, a, where, ledger.DERIVED, library)
        original(self, a, version)
        if global_one and ledger.seeded_by_code_since_autoseed("random"):
            _random_state_after_code_seed[:] = [self.getstate()]

    module.Random.seed = mark_wrapper(seed, original)
    # random.seed is the global generator's bound method, taken at random's import.
    module.seed = instance.seed


def wrap_numpy(numpy_random: "Any") -> None:
    """numpy's entropy source, and its seeding functions for the ledger."""
    bit_generator = getattr(numpy_random, "bit_generator", None)
    original_randbits = original_of(getattr(bit_generator, "randbits", None))
    if bit_generator is not None and original_randbits is not None:

        def randbits(bits: int) -> int:
            # Called from numpy's compiled code, so the next frame is the code that asked.
            where = ledger.caller()
            derived = _derived_for("numpy", where, bits)
            if derived is None:
                return int(original_randbits(bits))
            ledger.record("numpy fresh entropy", derived, where, ledger.DERIVED)
            return derived

        bit_generator.randbits = mark_wrapper(randbits, original_randbits)

    original_seed = original_of(numpy_random.seed)

    def seed(seed: "Any" = None) -> None:
        if seed is not None:
            seed = explicit_seed("numpy.random.seed", seed, ledger.caller(), "numpy")
        else:  # fresh entropy: randbits records the seed derived for it
            ledger.mark_seeded("numpy")
        original_seed(seed)

    numpy_random.seed = mark_wrapper(seed, original_seed)

    original_rng = original_of(numpy_random.default_rng)

    def default_rng(seed: "Any" = None) -> "Any":
        if seed is not None and not hasattr(seed, "random_raw") and not hasattr(seed, "spawn"):
            # A number or numbers; a Generator, BitGenerator or SeedSequence passes through.
            seed = explicit_seed("numpy.random.default_rng", seed, ledger.caller())
        return original_rng(seed)

    numpy_random.default_rng = mark_wrapper(default_rng, original_rng)
    # A RandomState(x) or SeedSequence(x) seeds in compiled code that calls nothing a wrapper
    # can reach: only a stand-in class sees x. It changes type() for the whole program, so it
    # stands in only where asked: to override x, or in verify --explain's traced runs (ledger).
    if _Policy.override_seed is not None or TRACE_VARIABLE in os.environ:
        for name in ("RandomState", "SeedSequence"):
            original_class = original_of(getattr(numpy_random, name))
            setattr(
                numpy_random, name, _overriding_subclass(original_class, f"numpy.random.{name}")
            )


class _SameClassForChecks(type):
    """The metaclass of a stand-in subclass: instances of the original class still pass
    ``isinstance(x, numpy.random.RandomState)`` (the global generator, pickled ones).

    Only the stand-in itself is widened: a class the script derives from it inherits the
    metaclass, and must not claim every ``RandomState`` as its own.
    """

    def __instancecheck__(cls, instance: "Any") -> bool:
        return type.__instancecheck__(_widened(cls), instance)

    def __subclasscheck__(cls, subclass: "Any") -> bool:
        return type.__subclasscheck__(_widened(cls), subclass)


def _widened(cls: "Any") -> "Any":
    """The class an ``isinstance`` against ``cls`` means: the original, for a stand-in."""
    return cls.__dict__.get("__wrapped__", cls)


def _overriding_subclass(original: "Any", api: str) -> "Any":
    """``original`` (a class whose first argument is a seed) whose explicit seeds follow
    ``AUTOSEED_OVERRIDE``: only under that opt-in does it stand in for the class."""

    def __init__(self: "Any", seed: "Any" = None, *args: "Any", **kwargs: "Any") -> None:
        if seed is not None and not hasattr(seed, "spawn"):
            seed = explicit_seed(api, seed, ledger.caller())
        original.__init__(self, seed, *args, **kwargs)

    namespace = {"__init__": __init__, "__wrapped__": original, "__doc__": original.__doc__}
    stand_in = _SameClassForChecks(original.__name__, (original,), namespace)
    stand_in.__module__, stand_in.__qualname__ = original.__module__, original.__qualname__
    return stand_in


def wrap_torch(torch: "Any") -> None:
    """torch's seeding functions: ``manual_seed`` for the ledger, ``seed`` derived."""
    internal = (os.path.join("torch", "random.py"), os.path.join("cuda", "random.py"))
    original_manual_seed = original_of(torch.random.manual_seed)

    def manual_seed(seed: "Any") -> "Any":
        seed = explicit_seed("torch.manual_seed", seed, ledger.caller(internal), "torch")
        return original_manual_seed(seed)

    original_seed = original_of(torch.random.seed)

    def seed() -> int:
        where = ledger.caller(internal)
        derived = _derived_for("torch", where, 64)
        if derived is None:
            return int(original_seed())
        ledger.record("torch.seed", derived, where, ledger.DERIVED, "torch")
        original_manual_seed(derived)
        return derived

    torch.manual_seed = torch.random.manual_seed = mark_wrapper(manual_seed, original_manual_seed)
    torch.seed = torch.random.seed = mark_wrapper(seed, original_seed)
    cuda = getattr(torch, "cuda", None)
    for name in ("manual_seed", "manual_seed_all"):
        original = original_of(getattr(cuda, name, None))
        if original is not None:
            setattr(
                cuda,
                name,
                mark_wrapper(_recorded(f"torch.cuda.{name}", original, internal), original),
            )


def give_loader_workers_rank_streams(torch: "Any", rank: "int | None") -> None:
    """DataLoader workers of different ranks draw different streams.

    torch seeds worker ``k`` with ``base_seed + k``, and ``base_seed`` comes from the main
    process's generator, which every rank seeds alike (the model's init must agree): worker
    ``k`` of every rank drew the same augmentation (pytorch#5059). In the worker, before torch
    seeds it, ``base_seed`` becomes one derived from it and the rank: rank-distinct, repeatable,
    and still decided by whoever seeded the main process (autoseed, or the script itself). A
    ``worker_init_fn`` that seeds runs after, and wins. Without a rank, unchanged.
    """
    worker = getattr(getattr(torch.utils.data, "_utils", None), "worker", None)
    if worker is None or getattr(worker, "_worker_loop", None) is None or rank is None:
        return
    worker._worker_loop = _WorkerLoopOfRank(rank)


class _WorkerLoopOfRank:
    """torch's ``_worker_loop`` for the workers of rank ``rank``.

    It pickles as itself with its rank: a worker started by spawn or forkserver (which
    unpickles its target) keys on the rank of the process that started it, whose rank may be
    in no variable it inherits (``torch.multiprocessing.spawn``'s ranks learn it at
    ``init_process_group``).
    """

    def __init__(self, rank: int) -> None:
        from torch.utils.data._utils import worker

        self.rank = rank
        self.__wrapped__ = original_of(worker._worker_loop)
        import inspect

        parameters = list(inspect.signature(self.__wrapped__).parameters)
        self._base_seed_at = parameters.index("base_seed")

    def __call__(self, *args: "Any", **kwargs: "Any") -> "Any":
        position = self._base_seed_at
        if len(args) > position:
            derived = streams.derive(args[position], "rank", self.rank, bits=63)
            args = (*args[:position], derived, *args[position + 1 :])
        return self.__wrapped__(*args, **kwargs)

    def __reduce__(self) -> "tuple[type[_WorkerLoopOfRank], tuple[int]]":
        return (_WorkerLoopOfRank, (self.rank,))


def _recorded(api: str, original: "Any", internal: "tuple[str, ...]") -> "Any":
    def seeding(seed: "Any") -> "Any":
        # torch.manual_seed's own fan-out to the devices is not a call of the script's.
        if not sys._getframe(1).f_code.co_filename.endswith(internal):
            seed = explicit_seed(api, seed, ledger.caller())
        return original(seed)

    return seeding


_GENERATOR_SEEDING = ("manual_seed", "seed")


def watch_generator_seeding(torch: "Any") -> "Any":
    """In ``verify --explain``'s traced runs, put ``torch.Generator``'s ``manual_seed`` and
    ``seed`` calls into the ledger, with the seed they left and the calling line.

    They are methods of a C type: no wrapper reaches them, only a profile hook, which sees
    every call. Its cost suits a traced run (which records every operator already), never an
    ordinary one. A profiler already in place (``python -m cProfile``) is left alone.
    Returns the hook, or ``None`` where none was set.
    """
    import threading

    if sys.getprofile() is not None:
        return None
    generator_type = torch.Generator

    def profile(frame: "Any", event: str, function: "Any") -> None:
        if event != "c_return" or getattr(function, "__name__", "") not in _GENERATOR_SEEDING:
            return
        generator = getattr(function, "__self__", None)
        if isinstance(generator, generator_type):
            where = ledger.caller()  # the profile hook runs in the frame that called
            name = function.__name__
            origin = ledger.EXPLICIT if name == "manual_seed" else ledger.FROM_THE_OS
            ledger.record(f"torch.Generator.{name}", generator.initial_seed(), where, origin)

    threading.setprofile(profile)
    sys.setprofile(profile)
    return profile
