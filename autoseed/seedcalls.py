"""The seeding APIs of ``random``, numpy and torch, wrapped: every call goes into the ledger,
and every request for fresh entropy gets a seed derived from the process's seed.

Which requests are answered (with ``AUTOSEED_GENERATORS`` on, the default):

- ``random``: ``random.seed()``, ``random.Random()`` and ``Random.seed()`` without a value;
- numpy: everything that asks ``numpy.random.bit_generator`` for entropy, which is every
  ``default_rng()``, ``SeedSequence()``, ``RandomState()``, ``PCG64()`` and
  ``numpy.random.seed()`` without a value;
- torch: ``torch.seed()`` (``torch.Generator().seed()`` is a method of a C type, which cannot
  be wrapped; ``autoseed verify --explain`` names it as a suspect).

Left alone: requests made by the standard library for its own purposes (``tempfile``'s name
sequence must stay unpredictable: jobs with one seed share ``/tmp``), and generators made
before the library's first import was seeded. Explicit seeds are only recorded.
"""

import os

from autoseed import ledger, streams

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_STANDARD_LIBRARY = os.path.join(os.path.dirname(os.__file__), "")
_INSTALLED = ("site-packages", "dist-packages")


def _from_standard_library(filename: str) -> bool:
    if filename.startswith("<frozen "):
        return True
    if not filename.startswith(_STANDARD_LIBRARY):
        return False
    return filename[len(_STANDARD_LIBRARY) :].split(os.sep, 1)[0] not in _INSTALLED


def _derived_for(library: str, where: "tuple[str, int]", bits: int, derive: bool) -> "int | None":
    """A derived seed for a request of fresh entropy from ``where``, or ``None`` to leave it."""
    if not derive or _from_standard_library(where[0]):
        return None
    return streams.fresh_seed(library, bits)


def _mark(wrapper: "Any", original: "Any") -> "Any":
    wrapper.__wrapped__ = original
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__name__ = getattr(original, "__name__", wrapper.__name__)
    wrapper.__qualname__ = getattr(original, "__qualname__", wrapper.__qualname__)
    wrapper.__module__ = getattr(original, "__module__", wrapper.__module__)
    return wrapper


def _unwrapped(function: "Any") -> "Any":
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


def wrap_random(module: "Any", derive: bool) -> None:
    """``random.Random.seed`` (which ``Random()`` calls), and ``random.seed`` with it."""
    original = _unwrapped(module.Random.seed)
    skipped = (module.__file__ or "random.py",)
    instance = module._inst

    def seed(self: "Any", a: "Any" = None, version: int = 2) -> None:
        where = ledger.caller(skipped)
        origin = ledger.EXPLICIT
        if a is None:
            a = _derived_for("random", where, 32, derive)
            origin = ledger.DERIVED
        global_one = self is instance
        if a is not None and not _from_standard_library(where[0]):
            ledger.record(
                "random.seed" if global_one else "random.Random",
                a,
                where,
                origin,
                "random" if global_one else "",
            )
        original(self, a, version)
        if global_one and ledger.seeded_by_code_since_autoseed("random"):
            _random_state_after_code_seed[:] = [self.getstate()]

    module.Random.seed = _mark(seed, original)
    # random.seed is the global generator's bound method, taken at random's import.
    module.seed = instance.seed


def wrap_numpy(numpy_random: "Any", derive: bool) -> None:
    """numpy's entropy source, and its seeding functions for the ledger."""
    bit_generator = getattr(numpy_random, "bit_generator", None)
    original_randbits = _unwrapped(getattr(bit_generator, "randbits", None))
    if bit_generator is not None and original_randbits is not None:

        def randbits(bits: int) -> int:
            # Called from numpy's compiled code, so the next frame is the code that asked.
            where = ledger.caller()
            derived = _derived_for("numpy", where, bits, derive)
            if derived is None:
                return int(original_randbits(bits))
            ledger.record("numpy fresh entropy", derived, where, ledger.DERIVED)
            return derived

        bit_generator.randbits = _mark(randbits, original_randbits)

    original_seed = _unwrapped(numpy_random.seed)

    def seed(seed: "Any" = None) -> None:
        if seed is not None:
            ledger.record("numpy.random.seed", seed, ledger.caller(), ledger.EXPLICIT, "numpy")
        else:  # fresh entropy: randbits records the seed derived for it
            ledger.mark_seeded("numpy")
        original_seed(seed)

    numpy_random.seed = _mark(seed, original_seed)

    original_rng = _unwrapped(numpy_random.default_rng)

    def default_rng(seed: "Any" = None) -> "Any":
        if isinstance(seed, int):
            ledger.record("numpy.random.default_rng", seed, ledger.caller(), ledger.EXPLICIT)
        return original_rng(seed)

    numpy_random.default_rng = _mark(default_rng, original_rng)


def wrap_torch(torch: "Any", derive: bool) -> None:
    """torch's seeding functions: ``manual_seed`` for the ledger, ``seed`` derived."""
    internal = (os.path.join("torch", "random.py"), os.path.join("cuda", "random.py"))
    original_manual_seed = _unwrapped(torch.random.manual_seed)

    def manual_seed(seed: "Any") -> "Any":
        where = ledger.caller(internal)
        ledger.record("torch.manual_seed", seed, where, ledger.EXPLICIT, "torch")
        return original_manual_seed(seed)

    original_seed = _unwrapped(torch.random.seed)

    def seed() -> int:
        where = ledger.caller(internal)
        derived = _derived_for("torch", where, 64, derive)
        if derived is None:
            return int(original_seed())
        ledger.record("torch.seed", derived, where, ledger.DERIVED, "torch")
        original_manual_seed(derived)
        return derived

    torch.manual_seed = torch.random.manual_seed = _mark(manual_seed, original_manual_seed)
    torch.seed = torch.random.seed = _mark(seed, original_seed)
    cuda = getattr(torch, "cuda", None)
    for name in ("manual_seed", "manual_seed_all"):
        original = _unwrapped(getattr(cuda, name, None))
        if original is not None:
            setattr(
                cuda, name, _mark(_recorded(f"torch.cuda.{name}", original, internal), original)
            )


def give_loader_workers_rank_streams(torch: "Any", rank: "int | None") -> None:
    """DataLoader workers of different ranks draw different streams.

    torch seeds worker ``k`` with ``base_seed + k``, and ``base_seed`` comes from the main
    process's generator, which every rank seeds alike (the model's init must agree): worker
    ``k`` of every rank drew the same augmentation (pytorch#5059). In the worker, before torch
    seeds it, ``base_seed`` becomes one derived from it and the rank: rank-distinct, repeatable,
    and still decided by whoever seeded the main process (autoseed, or the script itself). A
    ``worker_init_fn`` that seeds runs after, and wins. Without a rank variable, unchanged.
    """
    worker = getattr(getattr(torch.utils.data, "_utils", None), "worker", None)
    original = _unwrapped(getattr(worker, "_worker_loop", None))
    if worker is None or original is None or rank is None:
        return
    import inspect

    position = list(inspect.signature(original).parameters).index("base_seed")

    def _worker_loop(*args: "Any", **kwargs: "Any") -> "Any":
        if len(args) > position:
            base_seed = args[position]
            derived = streams.derive(base_seed, "rank", rank, bits=63)
            args = (*args[:position], derived, *args[position + 1 :])
        return original(*args, **kwargs)

    # Named as torch's own: a spawned worker unpickles its target by that name.
    worker._worker_loop = _mark(_worker_loop, original)


def _recorded(api: str, original: "Any", internal: "tuple[str, ...]") -> "Any":
    def seeding(seed: "Any") -> "Any":
        where = ledger.caller()
        if not where[0].endswith(internal):  # torch.manual_seed's own fan-out to the devices
            ledger.record(api, seed, where, ledger.EXPLICIT)
        return original(seed)

    return seeding
