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
follow ``AUTOSEED`` (``autoseed sweep``). The library sees the code's value first, so that
what it refuses it refuses as without autoseed; then it is seeded again with the replacement.
numpy's ``SeedSequence`` (which ``default_rng(x)``, ``PCG64(x)`` and every bit generator make
from ``x``) is reached where it turns ``x`` into entropy, so no class is replaced for it. A
``torch.Generator`` seeded by hand keeps its seed (its ``manual_seed`` is a method of a C
type, and it is where scripts fix their data split).
"""

import _thread
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


def _carries_its_own_state(value: "Any") -> bool:
    """A ``SeedSequence``, bit generator or ``Generator`` given as a seed: it was seeded (and,
    under the override, replaced) where it was made."""
    return any(hasattr(value, name) for name in ("generate_state", "random_raw", "bit_generator"))


def _as_key(value: "Any") -> "Any":
    """A seed value as data that prints the same in every process (never ``hash()``, salted
    per interpreter): ints stay ints (numpy's and torch's scalars too), ``str`` and ``bytes``
    stay themselves, arrays and sequences become tuples."""
    if isinstance(value, (str, bytes)):
        return value  # not a sequence: each character is a str again (endless recursion)
    if isinstance(value, bytearray):
        return bytes(value)  # random seeds both alike
    index = getattr(type(value), "__index__", None)
    if index is not None and not isinstance(value, bool):
        try:
            return index(value)
        except TypeError:  # an array of several numbers has __index__ too
            pass
    if _carries_its_own_state(value):
        return f"<{type(value).__name__}>"
    if hasattr(value, "__len__"):  # never an iterator: the library must still see its items
        try:
            return tuple(_as_key(item) for item in value)
        except TypeError:  # a 0-d array
            pass
    if getattr(type(value), "__repr__", None) is object.__repr__:
        return f"<{type(value).__qualname__}>"  # the default repr holds an address
    return value


_SHOWN_LENGTH = 80


def _shown(key: "Any") -> "Any":
    """``key`` as the ledger shows it: a long array or byte string as its start, its length
    and a digest (which keeps two runs' different values apart in ``verify --explain``)."""
    if not isinstance(key, (tuple, bytes, str)) or len(repr(key)) <= _SHOWN_LENGTH:
        return key
    from hashlib import sha256

    digest = sha256(repr(key).encode()).hexdigest()[:12]
    return f"{repr(key)[: _SHOWN_LENGTH // 2]}... (length {len(key)}, sha256 {digest})"


_SHOWN_LENGTH = 80


def overridden(value: "Any", override_seed: int, bits: int = 32) -> int:
    """The seed that replaces the code's ``value`` under ``AUTOSEED_OVERRIDE``: a digest of
    both, never a sum (``42 + 1`` under one AUTOSEED must not be ``42 + 0`` under the next)."""
    return streams.derive(override_seed, "override", repr(_as_key(value)), bits=bits)


# torch seeds each DataLoader worker itself, from a base seed that follows AUTOSEED already;
# replacing those seeds would break torch's own promise, torch.initial_seed() equal to
# get_worker_info().seed, which worker_init_fn's (Lightning's among them) build on.
_LOADER_WORKER_FILE = os.path.join("torch", "utils", "data", "_utils", "worker.py")


def explicit_seed(
    api: str, value: "Any", where: "tuple[str, int]", library: str = "", bits: int = 32
) -> "Any":
    """The value an explicit seeding call goes on with: the code's own, recorded, or under
    ``AUTOSEED_OVERRIDE`` one of ``bits`` bits derived from it (autoseed's own calls, the
    standard library's, torch's seeding of its DataLoader workers and objects that carry their
    own state are never replaced)."""
    override_seed = _Policy.override_seed
    if (
        override_seed is None
        or ledger.autoseed_is_seeding()
        or _from_standard_library(where[0])
        or where[0].endswith(_LOADER_WORKER_FILE)
        or _carries_its_own_state(value)
    ):
        ledger.record(api, _shown(_as_key(value)), where, ledger.EXPLICIT, library)
        return value
    replacement = overridden(value, override_seed, bits)
    replaced = _shown(_as_key(value))
    ledger.record(api, replacement, where, ledger.OVERRIDDEN, library, replaced=replaced)
    return replacement


def reseed_if_overridden(
    result: "Any",
    seed_with: "Any",
    api: str,
    value: "Any",
    where: "tuple[str, int]",
    library: str = "",
    bits: int = 32,
) -> "Any":
    """After the library was seeded with the code's ``value`` (and so refused what it refuses
    without autoseed), which gave ``result``: the call recorded, and under
    ``AUTOSEED_OVERRIDE`` seeded again through ``seed_with`` with the replacement."""
    replacement = explicit_seed(api, value, where, library, bits)
    return result if replacement is value else seed_with(replacement)


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
            original(self, a, version)
            reseed_if_overridden(
                None, lambda value: original(self, value, version), api, a, where, library
            )
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


class _SeedSequenceCalls(_thread._local):
    """Per thread: where numpy is in turning a seed into a ``SeedSequence``'s entropy."""

    api = "numpy.random.SeedSequence"  # the public call that made it, where a wrapper knows
    depth = 0  # > 0 inside numpy's own recursion over a sequence's items
    spawn_key_from: "Any" = None  # the frame whose SeedSequence coerces its spawn key next


_seed_sequence_calls = _SeedSequenceCalls()
# The entropy numpy's requests for fresh entropy got, most recent last: a SeedSequence made
# from it, or spawned from one made from it, is not the code's seed. Bounded: a script that
# makes a generator per sample must not grow without end.
_fresh_entropy: "dict[int, None]" = {}
_FRESH_ENTROPY_KEPT = 4096


def _remember_fresh_entropy(entropy: int) -> int:
    _fresh_entropy[entropy] = None
    if len(_fresh_entropy) > _FRESH_ENTROPY_KEPT:
        _fresh_entropy.pop(next(iter(_fresh_entropy)), None)
    return entropy


def wrap_numpy(numpy_random: "Any") -> None:
    """numpy's entropy source, the point where a seed becomes a ``SeedSequence``'s entropy,
    and its seeding functions, for the ledger and ``AUTOSEED_OVERRIDE``."""
    bit_generator = getattr(numpy_random, "bit_generator", None)
    original_randbits = original_of(getattr(bit_generator, "randbits", None))
    if bit_generator is not None and original_randbits is not None:

        def randbits(bits: int) -> int:
            # Called from numpy's compiled code, so the next frame is the code that asked.
            where = ledger.caller()
            derived = _derived_for("numpy", where, bits)
            if derived is None:
                return _remember_fresh_entropy(int(original_randbits(bits)))
            ledger.record("numpy fresh entropy", derived, where, ledger.DERIVED)
            return _remember_fresh_entropy(derived)

        bit_generator.randbits = mark_wrapper(randbits, original_randbits)
        _wrap_entropy_coercion(bit_generator)

    original_seed = original_of(numpy_random.seed)

    def seed(seed: "Any" = None) -> None:
        if seed is None:  # fresh entropy: randbits records the seed derived for it
            ledger.mark_seeded("numpy")
            original_seed(None)
            return
        where = ledger.caller()
        original_seed(seed)
        reseed_if_overridden(None, original_seed, "numpy.random.seed", seed, where, "numpy")

    numpy_random.seed = mark_wrapper(seed, original_seed)

    original_rng = original_of(numpy_random.default_rng)

    def default_rng(seed: "Any" = None) -> "Any":
        # Its SeedSequence is made in compiled code: the entropy wrapper names this call.
        calls = _seed_sequence_calls
        outer, calls.api = calls.api, "numpy.random.default_rng"
        try:
            return original_rng(seed)
        finally:
            calls.api = outer

    numpy_random.default_rng = mark_wrapper(default_rng, original_rng)
    # RandomState(x) seeds in compiled code that calls nothing a wrapper can reach (numpy's
    # legacy seeding, not a SeedSequence): only a stand-in class sees x. It changes type()
    # for the whole program, so it stands in only where asked: to override x, or in verify
    # --explain's traced runs (ledger).
    if _Policy.override_seed is not None or TRACE_VARIABLE in os.environ:
        current = numpy_random.RandomState
        if "__wrapped__" not in vars(current):
            stand_in = _overriding_random_state(current)
            numpy_random.RandomState = stand_in
            # Unpickling (and copy.deepcopy) make a RandomState through numpy.random._pickle:
            # the copy is of the class the script sees.
            pickling = sys.modules.get("numpy.random._pickle")
            if getattr(pickling, "RandomState", None) is current:
                pickling.RandomState = stand_in  # type: ignore[union-attr]


def _wrap_entropy_coercion(bit_generator: "Any") -> None:
    """Every explicit seed numpy turns into a ``SeedSequence`` (``SeedSequence(x)``,
    ``default_rng(x)``, ``PCG64(x)`` and the other bit generators, their ``spawn()``) passes
    through ``bit_generator._coerce_to_uint32_array``, a module-level function that numpy's
    compiled ``SeedSequence`` looks up by name: wrapped, it sees ``x`` with no class replaced,
    so every object keeps its type and pickles as it does without autoseed.

    ``SeedSequence`` coerces its entropy, then its spawn key, in one compiled call from the
    same frame; numpy coerces a sequence's items through the same function (``depth``).
    """
    original = original_of(getattr(bit_generator, "_coerce_to_uint32_array", None))
    if original is None:
        return

    def _coerce_to_uint32_array(x: "Any") -> "Any":
        calls = _seed_sequence_calls
        if calls.depth:
            return original(x)
        frame = sys._getframe(1)
        spawn_key = calls.spawn_key_from is frame and type(x) is tuple
        calls.spawn_key_from = None
        calls.depth += 1
        try:
            result = original(x)  # numpy refuses what it refuses, as without autoseed
            if not spawn_key and not (type(x) is int and x in _fresh_entropy):
                where = ledger.caller()
                result = reseed_if_overridden(result, original, calls.api, x, where, bits=128)
        finally:
            calls.depth -= 1
        if not spawn_key:
            calls.spawn_key_from = frame
        return result

    bit_generator._coerce_to_uint32_array = mark_wrapper(_coerce_to_uint32_array, original)


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


def _overriding_random_state(original: "Any") -> "Any":
    """``numpy.random.RandomState`` whose explicit seeds (``RandomState(x)``, ``.seed(x)``)
    are recorded, and follow ``AUTOSEED_OVERRIDE``."""

    def reseeded(self: "Any", api: str, seed: "Any") -> None:
        # A bit generator (unpickling gives one) was seeded, and recorded, where it was made.
        if seed is not None and not _carries_its_own_state(seed):
            where = ledger.caller()
            reseed_if_overridden(None, lambda value: original.seed(self, value), api, seed, where)

    def __init__(self: "Any", seed: "Any" = None) -> None:
        original.__init__(self, seed)
        reseeded(self, "numpy.random.RandomState", seed)

    def seed(self: "Any", seed: "Any" = None) -> None:
        original.seed(self, seed)
        reseeded(self, "numpy.random.RandomState.seed", seed)

    namespace = {
        "__init__": __init__,
        "seed": mark_wrapper(seed, original.seed),
        "__wrapped__": original,
        "__doc__": original.__doc__,
    }
    stand_in = _SameClassForChecks(original.__name__, (original,), namespace)
    stand_in.__module__, stand_in.__qualname__ = original.__module__, original.__qualname__
    return stand_in


# Where torch's seeding functions live: their own calls of a Generator's methods are how they
# do what the wrappers below record, under the function's name.
_TORCH_SEEDING_FILES = (os.path.join("torch", "random.py"), os.path.join("cuda", "random.py"))


def wrap_torch(torch: "Any") -> None:
    """torch's seeding functions: ``manual_seed`` for the ledger, ``seed`` derived."""
    original_manual_seed = original_of(torch.random.manual_seed)

    def manual_seed(seed: "Any") -> "Any":
        where = ledger.caller(_TORCH_SEEDING_FILES)
        generator = original_manual_seed(seed)
        return reseed_if_overridden(
            generator, original_manual_seed, "torch.manual_seed", seed, where, "torch"
        )

    original_seed = original_of(torch.random.seed)

    def seed() -> int:
        where = ledger.caller(_TORCH_SEEDING_FILES)
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
                mark_wrapper(_recorded(f"torch.cuda.{name}", original), original),
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


def _recorded(api: str, original: "Any") -> "Any":
    def seeding(seed: "Any") -> "Any":
        result = original(seed)
        # torch.manual_seed's own fan-out to the devices is not a call of the script's.
        if sys._getframe(1).f_code.co_filename.endswith(_TORCH_SEEDING_FILES):
            return result
        return reseed_if_overridden(result, original, api, seed, ledger.caller())

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
        if isinstance(generator, generator_type) and not frame.f_code.co_filename.endswith(
            _TORCH_SEEDING_FILES
        ):
            where = ledger.caller()  # the profile hook runs in the frame that called
            name = function.__name__
            origin = ledger.EXPLICIT if name == "manual_seed" else ledger.FROM_THE_OS
            ledger.record(f"torch.Generator.{name}", generator.initial_seed(), where, origin)

    threading.setprofile(profile)
    sys.setprofile(profile)
    return profile
