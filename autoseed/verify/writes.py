"""What each process of ``verify --explain``'s traced runs wrote to stdout and stderr.

Several processes that share a pipe (DataLoader workers, ranks, a pool) write into it in
whatever order the scheduler lets them, within lines too: ``print()`` writes its parts and the
newline apart. When each process wrote the same text in both traced runs, and the runs' outputs
hold the same bytes, only that interleaving differs, and no seed decides it.

Each process keeps what its ``sys.stdout.write`` and ``sys.stderr.write`` were given, encoded
as the stream encodes it, in a file of its own (``<process>.stdout``, ``.stderr``), up to
``WRITE_LIMIT`` bytes; what the process writes around them (``os.write``, C code) is not seen.
Switched on only in traced runs.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from autoseed.seeding.calls import mark_wrapper

STREAMS = ("stdout", "stderr")
# A process that writes more stops being recorded; a file this long is then no evidence.
WRITE_LIMIT = 8 * 1024 * 1024

_written: dict[tuple[int, str], int] = {}


def start_recording() -> None:
    """Record this process's writes to ``sys.stdout`` and ``sys.stderr`` (a forked child
    inherits the wrapped streams, and records into its own file)."""
    for name in STREAMS:
        stream = getattr(sys, name, None)
        original = getattr(stream, "write", None)
        if original is None or hasattr(original, "__wrapped__"):
            continue
        with contextlib.suppress(AttributeError, TypeError):  # a stream without attributes
            stream.write = mark_wrapper(_recording(name, stream, original), original)  # type: ignore[union-attr]


def _recording(name: str, stream: Any, original: Callable[[str], int]) -> Callable[[str], int]:
    def write(text: str) -> int:
        written = original(text)
        with contextlib.suppress(Exception):  # recording must never change or break the run
            _keep(name, text.encode(stream.encoding or "utf-8", stream.errors or "strict"))
        return written

    return write


def _keep(name: str, data: bytes) -> None:
    from autoseed.verify.trace import append_bytes

    key = (os.getpid(), name)
    so_far = _written.get(key, 0)
    if so_far < WRITE_LIMIT:
        append_bytes(f".{name}", data)
        _written[key] = so_far + len(data)


def texts(directory: str, name: str) -> list[bytes] | None:
    """What each process of one traced run wrote to ``name`` (``stdout``, ``stderr``), or
    ``None`` where a process wrote past the limit (its record is incomplete)."""
    found = []
    for entry in sorted(os.listdir(directory)):
        if entry.endswith(f".{name}"):
            with open(os.path.join(directory, entry), "rb") as file:
                data = file.read()
            if len(data) >= WRITE_LIMIT:
                return None
            if data:
                found.append(data)
    return found


def same_bytes(first: bytes, *others: bytes) -> bool:
    """Whether each of ``others`` holds the bytes of ``first``, each as many times."""
    counts = _byte_counts(first)
    return all(len(other) == len(first) and _byte_counts(other) == counts for other in others)


def _byte_counts(data: bytes) -> list[int]:
    return [data.count(value) for value in range(256)]


def interleaved_writers(
    first_run: Iterable[bytes], second_run: Iterable[bytes], outputs: tuple[bytes, bytes]
) -> int:
    """How many processes wrote the two differing ``outputs`` between them, when each process
    wrote the same text in both traced runs (``first_run``, ``second_run``) and the outputs
    hold the same bytes as those texts: then only the interleaving differs. 0 otherwise."""
    first, second = sorted(first_run), sorted(second_run)
    if len(first) < 2 or first != second:
        return 0
    return len(first) if same_bytes(b"".join(first), *outputs) else 0
