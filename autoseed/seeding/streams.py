"""Seeds derived from the process's seed: for each request of fresh entropy, and for forked
children.

A derived seed is a digest (sha256) of the seed and what it is for: never ``hash()``, which
is salted per interpreter, and never a sum, because ``seed + 1`` for one child is ``seed + 0``
for the next run's other child. Requests are counted per library, so the ``n``-th unseeded
generator a process creates gets the same stream at every run; a process that forks numbers its
children, so the ``k``-th child gets streams of its own, the same at every run.

Inside a DataLoader worker the worker's seed (torch gives one per worker) takes the place of
the process's seed, so workers never share streams, with no opt-in.
"""

import _thread
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_lock = _thread.allocate_lock()
_process_seed: "int | None" = None
# How this process descends from the one where the seed was last set: ("fork", k) for the
# k-th child forked, ("spawn", k) for the k-th multiprocessing child spawned, per generation.
_fork_path: "tuple[tuple[str, int], ...]" = ()
_forks = 0  # children forked by this process so far
_spawns = 0  # multiprocessing children spawned by this process so far
_counters: "dict[str, int]" = {}
_counted_for: "int | None" = None
_reseed_child: "list[Callable[[], None]]" = []
_fork_handler_registered = False
_next_child_is_loader_worker = False


def derive(seed: int, *labels: object, bits: int = 32) -> int:
    """A ``bits``-bit seed for ``labels`` (what it is for), the same on every machine."""
    from hashlib import sha256  # random imports hashlib: no cost where anything is seeded

    text = "\0".join(str(part) for part in (seed, *labels))
    return int.from_bytes(sha256(text.encode()).digest(), "big") >> (256 - bits)


def set_process_seed(seed: "int | None") -> None:
    """The seed from which this process's derived seeds come; restarts every count."""
    global _process_seed
    with _lock:
        _process_seed = seed
        _count_anew_as(())


def _count_anew_as(path: "tuple[tuple[str, int], ...]") -> None:
    """This process is the child at ``path``: it has no children yet, and its requests of
    fresh entropy are counted from zero."""
    global _fork_path, _forks, _spawns, _counted_for
    _fork_path, _forks, _spawns = path, 0, 0
    _counters.clear()
    _counted_for = None


def in_this_process(seed: int) -> int:
    """``seed`` as this process uses it: in the ``k``-th forked (or spawned) child of a
    process seeded with ``seed``, the seed derived for that child (and so on down the
    generations)."""
    if seed != _process_seed:
        return seed
    for kind, index in _fork_path:
        seed = derive(seed, kind, index)
    return seed


def fork_path() -> "tuple[tuple[str, int], ...]":
    """Which child this process is: ``(how, index)`` at each generation (empty: neither forked
    nor spawned by a seeded process)."""
    return _fork_path


def loader_worker_seed() -> "int | None":
    """The seed torch gave this DataLoader worker, or ``None`` outside one."""
    data = sys.modules.get("torch.utils.data")
    info = None if data is None else data.get_worker_info()
    return None if info is None else int(info.seed) % 2**32


def current_seed() -> "int | None":
    """The seed this process's fresh-entropy requests derive from, or ``None`` when unseeded."""
    worker = loader_worker_seed()
    if worker is not None:
        return worker
    return None if _process_seed is None else in_this_process(_process_seed)


def capture() -> "dict[str, object]":
    """The counts that make this process's next derived seeds: for a checkpoint's record."""
    with _lock:
        return {
            "fork_path": [list(step) for step in _fork_path],
            "forks": _forks,
            "spawns": _spawns,
            "counters": dict(_counters),
            "counted_for": _counted_for,
        }


def restore(saved: "dict[str, Any]") -> None:
    """Take up the counts a checkpoint's record saved (a resumed run continues its streams)."""
    global _fork_path, _forks, _spawns, _counted_for
    if not saved:
        return
    with _lock:
        _fork_path = tuple((str(how), int(index)) for how, index in saved["fork_path"])
        _forks, _spawns = int(saved["forks"]), int(saved["spawns"])
        _counters.clear()
        _counters.update({str(key): int(value) for key, value in saved["counters"].items()})
        _counted_for = saved["counted_for"]


def fresh_seed(library: str, bits: int = 32) -> "int | None":
    """The seed for the next request of fresh entropy from ``library``, or ``None``."""
    global _counted_for
    seed = current_seed()
    if seed is None:
        return None
    with _lock:
        if _counted_for != seed:  # a worker's seed, a child's, or a new plan: count anew
            _counters.clear()
            _counted_for = seed
        count = _counters.get(library, 0)
        _counters[library] = count + 1
    return derive(seed, library, count, bits=bits)


def reseed_forked_children_with(reseed_child: "Callable[[], None]") -> None:
    """What a forked child calls to give itself its streams (the seeding's one path)."""
    _reseed_child[:] = [reseed_child]


def number_forked_children() -> None:
    """From now on, each forked child reseeds itself with the seed derived for it.

    Called after ``random``'s import: CPython runs after-fork handlers in registration order,
    and ``random`` reseeds its global generator from the OS in every child, so the child's
    seed must be the last word. A fork that starts a DataLoader worker is numbered but not
    reseeded: torch seeds its workers itself right after.
    """
    global _fork_handler_registered
    if _fork_handler_registered or not hasattr(os, "register_at_fork"):
        return
    _fork_handler_registered = True
    os.register_at_fork(before=_before_fork, after_in_child=_in_child)


def _before_fork() -> None:
    global _next_child_is_loader_worker
    _next_child_is_loader_worker = _forking_a_loader_worker()


def _forking_a_loader_worker() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "torch.utils.data.dataloader":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _in_child() -> None:
    # The parent's count: this child is number _forks (the parent counts it in its own copy).
    _count_anew_as((*_fork_path, ("fork", _forks)))
    if not _next_child_is_loader_worker:
        for reseed in _reseed_child:
            reseed()


_SPAWN_KEY = "autoseed_spawned"  # in multiprocessing's preparation data for a spawned child


def number_spawned_children(spawn: "Any") -> None:
    """``multiprocessing.spawn`` (spawn and forkserver start a fresh interpreter, which would
    draw the parent's first numbers again): the parent numbers each child it spawns in the
    preparation data it sends; the child, once prepared, takes the seed derived for it.

    A DataLoader worker is numbered but not reseeded: torch seeds its workers itself.
    """
    get_preparation_data = spawn.get_preparation_data
    prepare = spawn.prepare
    if getattr(prepare, "__wrapped__", None) is not None:
        return

    def numbered(name: str) -> "Any":
        global _spawns
        data = get_preparation_data(name)
        with _lock:
            index, _spawns = _spawns, _spawns + 1
        if _process_seed is not None and not _forking_a_loader_worker():
            data[_SPAWN_KEY] = (_process_seed, _fork_path, index)
        return data

    def prepared(data: "dict[str, Any]") -> None:
        prepare(data)  # runs the main module's imports, seeded as in the parent
        parent = data.get(_SPAWN_KEY)
        if parent is None or parent[0] != _process_seed:
            return
        seed, path, index = parent
        _count_anew_as((*path, ("spawn", index)))
        for reseed in _reseed_child:
            reseed()

    numbered.__wrapped__ = get_preparation_data  # type: ignore[attr-defined]
    prepared.__wrapped__ = prepare  # type: ignore[attr-defined]
    spawn.get_preparation_data = numbered
    spawn.prepare = prepared


def _count_fork_in_parent() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    # In the parent, after each fork: the next child gets the next number.
    os.register_at_fork(after_in_parent=_count_fork_in_parent)
