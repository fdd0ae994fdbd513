"""This process's random state, as plain JSON: ``random``, numpy's legacy generator, torch's
CPU generator and every initialised CUDA device, and autoseed's own counts (the derived
streams' counters and the children numbered so far).

JSON (with the generators' bytes in base64) so that a record loads with any reader, never
through pickle: torch's ``weights_only`` loading refuses pickled numpy objects.

A saved state comes back from disk, so :func:`parse` checks all of it before anything is
restored: :class:`SavedState` then restores every part or, where a library refuses one,
puts back what it had changed.
"""

from __future__ import annotations

import base64
import binascii
import sys
from typing import Any

from autoseed.hook import fully_imported
from autoseed.seeding import streams

MT_WORDS = 624  # the Mersenne Twister's state, in 32-bit words (random and numpy alike)
WORD_END = 2**32
WORDS = f"a list of {MT_WORDS} integers 0..{WORD_END - 1}"


class DamagedState(ValueError):
    """A saved state that is not one: where in the record, and what was expected there."""


class ForeignState(ValueError):
    """A saved state this process cannot take (CUDA devices it does not have)."""


def capture() -> dict[str, Any]:
    """The states of the libraries imported in this process."""
    state: dict[str, Any] = {"streams": streams.capture()}
    random = sys.modules.get("random")
    if random is not None:
        version, internal, gauss = random.getstate()
        state["random"] = {"version": version, "state": list(internal), "gauss": gauss}
    numpy_random = fully_imported("numpy.random")
    if numpy_random is not None:
        legacy = numpy_random.get_state(legacy=False)
        state["numpy"] = {
            "bit_generator": legacy["bit_generator"],
            "key": [int(word) for word in legacy["state"]["key"]],
            "pos": int(legacy["state"]["pos"]),
            "has_gauss": int(legacy["has_gauss"]),
            "gauss": float(legacy["gauss"]),
        }
    torch = sys.modules.get("torch")
    if torch is not None:
        state["torch"] = _encode(torch.get_rng_state())
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_initialized():
            state["cuda"] = [_encode(device_state) for device_state in cuda.get_rng_state_all()]
    return state


class SavedState:
    """A checked state, ready to restore: each part ``None`` where the run had not imported
    that library when it saved."""

    __slots__ = ("random", "numpy", "torch", "cuda", "streams")

    def __init__(
        self,
        random: tuple[int, tuple[int, ...], float | None] | None,
        numpy: tuple[str, list[int], int, int, float] | None,
        torch: bytes | None,
        cuda: list[bytes],
        counts: dict[str, Any],
    ) -> None:
        self.random = random
        self.numpy = numpy
        self.torch = torch
        self.cuda = cuda
        self.streams = counts

    @property
    def numpy_waits_for_import(self) -> bool:
        """numpy's state was saved, and ``numpy.random`` is not imported yet (numpy 2 imports
        it lazily): :meth:`restore_numpy` must run at its import."""
        return self.numpy is not None and fully_imported("numpy.random") is None

    def is_now(self) -> bool:
        """Whether the generators it holds are in these states now (nothing drew since)."""
        now = parse(capture())
        pairs = ((getattr(self, part), getattr(now, part)) for part in ("random", "numpy", "torch"))
        return all(saved is None or current is None or saved == current for saved, current in pairs)

    def restore(self) -> list[str]:
        """Put every saved part back, or none (a library that refuses its part gets what it
        had); the names of the libraries restored."""
        before = parse(capture())
        try:
            return self._restore()
        except Exception:
            before._restore()
            raise

    def _restore(self) -> list[str]:
        restored = []
        random = sys.modules.get("random")
        if random is not None and self.random is not None:
            random.setstate(self.random)
            restored.append("random")
        numpy_random = fully_imported("numpy.random")
        if numpy_random is not None and self.numpy is not None:
            self.restore_numpy(numpy_random)
            restored.append("numpy")
        torch = sys.modules.get("torch")
        if torch is not None and self.torch is not None:
            torch.set_rng_state(_tensor(torch, self.torch))
            restored.append("torch")
            if self.cuda:
                torch.cuda.set_rng_state_all([_tensor(torch, saved) for saved in self.cuda])
                restored.append("cuda")
        streams.restore(self.streams)
        return restored

    def restore_numpy(self, numpy_random: Any) -> None:
        if self.numpy is not None:
            import numpy

            name, key, pos, has_gauss, gauss = self.numpy
            numpy_random.set_state(
                (name, numpy.array(key, dtype=numpy.uint32), pos, has_gauss, gauss)
            )


def parse(state: object) -> SavedState:
    """``state`` (as :func:`capture` made it, read back from disk) checked whole.

    Raises :class:`DamagedState` naming the first part that is not what capture writes,
    :class:`ForeignState` where this process has fewer CUDA devices than the saved run.
    """
    if not isinstance(state, dict):
        raise DamagedState("state is not a JSON object")
    torch = sys.modules.get("torch")
    cuda = [_bytes(saved, "state.cuda[]") for saved in _list(state.get("cuda", []), "state.cuda")]
    if cuda:
        available = torch.cuda.device_count() if torch and torch.cuda.is_available() else 0
        if available < len(cuda):
            raise ForeignState(
                f"holds the states of {len(cuda)} CUDA devices; this process sees {available}"
            )
    torch_state = None
    if "torch" in state:
        torch_state = _bytes(state["torch"], "state.torch")
        if torch is not None and len(torch_state) != torch.get_rng_state().numel():
            raise DamagedState("state.torch is not the base64 of a torch CPU generator state")
    return SavedState(
        random=_random(state["random"]) if "random" in state else None,
        numpy=_numpy(state["numpy"]) if "numpy" in state else None,
        torch=torch_state,
        cuda=cuda,
        counts=_streams(state.get("streams", {})),
    )


def _random(saved: object) -> tuple[int, tuple[int, ...], float | None]:
    saved = _object(saved, "state.random")
    if saved.get("version") != 3:
        raise DamagedState("state.random.version is not 3")
    internal = _list(saved.get("state"), "state.random.state")
    words, position = internal[:MT_WORDS], internal[MT_WORDS:]
    if len(position) != 1 or not _is_integer(position[0], 0, MT_WORDS) or not _are_words(words):
        raise DamagedState(
            f"state.random.state is not {MT_WORDS} integers 0..{WORD_END - 1} and a position "
            f"0..{MT_WORDS}"
        )
    gauss = saved.get("gauss")
    return 3, tuple(internal), None if gauss is None else _number(gauss, "state.random.gauss")


def _numpy(saved: object) -> tuple[str, list[int], int, int, float]:
    saved = _object(saved, "state.numpy")
    if saved.get("bit_generator") != "MT19937":
        raise DamagedState("state.numpy.bit_generator is not 'MT19937'")
    key = saved.get("key")
    if not isinstance(key, list) or not _are_words(key):
        raise DamagedState(f"state.numpy.key is not {WORDS}")
    pos = _integer(saved.get("pos"), 0, MT_WORDS, "state.numpy.pos")
    has_gauss = _integer(saved.get("has_gauss"), 0, 1, "state.numpy.has_gauss")
    return "MT19937", key, pos, has_gauss, _number(saved.get("gauss"), "state.numpy.gauss")


def _streams(saved: object) -> dict[str, Any]:
    """The counts of ``streams.capture()``, checked (empty: a record without them)."""
    saved = _object(saved, "state.streams")
    if not saved:
        return {}
    fork_path = _list(saved.get("fork_path"), "state.streams.fork_path")
    for step in fork_path:
        if not (isinstance(step, list) and len(step) == 2 and isinstance(step[0], str)):
            raise DamagedState("state.streams.fork_path is not a list of [how, index] pairs")
        _count(step[1], "state.streams.fork_path[][1]")
    _count(saved.get("forks"), "state.streams.forks")
    _count(saved.get("spawns"), "state.streams.spawns")
    counters = _object(saved.get("counters"), "state.streams.counters")
    for value in counters.values():
        _count(value, "state.streams.counters[]")
    counted_for = saved.get("counted_for")
    if counted_for is not None:
        _count(counted_for, "state.streams.counted_for")
    return saved


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DamagedState(f"{where} is not a JSON object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise DamagedState(f"{where} is not a list")
    return value


def is_count(value: object) -> bool:
    """An integer 0 or more (never a bool)."""
    return _is_integer(value, 0, None)


def _count(value: object, where: str) -> int:
    return _integer(value, 0, None, where)


def _integer(value: object, low: int, high: int | None, where: str) -> int:
    if isinstance(value, int) and _is_integer(value, low, high):
        return value
    accepted = f"{low}..{high}" if high is not None else f"{low} or more"
    raise DamagedState(f"{where} is not an integer {accepted}")


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DamagedState(f"{where} is not a number")
    return float(value)


def _bytes(value: object, where: str) -> bytes:
    try:
        if isinstance(value, str):
            return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        pass
    raise DamagedState(f"{where} is not base64")


def _is_integer(value: object, low: int, high: int | None) -> bool:
    # bool is an int to Python, never to a record.
    return type(value) is int and value >= low and (high is None or value <= high)


def _are_words(values: list[Any]) -> bool:
    return len(values) == MT_WORDS and all(_is_integer(word, 0, WORD_END - 1) for word in values)


def _encode(tensor: Any) -> str:
    return base64.b64encode(tensor.numpy().tobytes()).decode("ascii")


def _tensor(torch: Any, data: bytes) -> Any:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).clone()
