"""An operator trace for ``autoseed verify --explain``: where two runs of a script first differ.

Switched on only by the private ``_AUTOSEED_TRACE`` variable (a directory) that ``verify
--explain`` sets for its traced runs; the start-up hook then enters a ``TorchDispatchMode`` at
torch's first import, in every process of the run (DataLoader workers and torchrun ranks
inherit the variable and write their own file). For each operator call it records the
operator, a digest of every tensor input and output (bitwise, every element; on a GPU computed
on the device, copying a few bytes), and the innermost frame in the user's code. Recording
only reads tensors, so a traced run computes exactly what an untraced eager one does.

Limits: under the recording mode, functions given to ``torch.compile`` run eagerly, operator by
operator (and are recorded so): their results can differ in the last bits from the compiled
code's, and a difference that only compiled code makes does not show in the traced runs.
Recording stops after ``CALL_LIMIT`` calls per process, and the file says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import sysconfig
from typing import Any

from autoseed.names import PACKAGE_DIRECTORY, TRACE_VARIABLE

CALL_LIMIT = 200_000
# Operators whose output is uninitialised memory (its bytes are whatever was there before).
UNINITIALIZED = frozenset(
    ("empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "resize_")
)
TRUNCATED = "# truncated"
TRACE_SUFFIX = ".trace"
# "0" in a traced run: the ledger, the reads and the writes only, and a trace file that says
# torch was imported; the operators are left unrecorded (they cost a run two to three times).
OPERATORS_VARIABLE = "_AUTOSEED_TRACE_OPERATORS"
NOT_RECORDED = "# torch imported; operators not recorded"
_SKIPPED_PREFIXES = tuple(
    os.path.join(os.path.realpath(path), "")
    for path in {sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib")}
    | {os.path.dirname(PACKAGE_DIRECTORY)}
)


def dispatch_mode_class() -> Any:
    """torch's ``TorchDispatchMode``, or ``None`` where this torch lacks that private API."""
    try:
        from torch.utils._python_dispatch import TorchDispatchMode
    except ImportError:
        return None
    return TorchDispatchMode


def rank() -> str:
    return os.environ.get("RANK", "0")


def process_key() -> str:
    """Which process of the run this is: its rank and its command line."""
    command = hashlib.sha256("\0".join(getattr(sys, "orig_argv", sys.argv)).encode())
    return f"rank{rank()}-{command.hexdigest()[:8]}"


def process_name() -> str:
    """This process's name in a traced run: rank and command line, or rank and worker id for a
    DataLoader worker (whose command line differs per run), and which forked child it is."""
    from autoseed.seeding import streams

    data = sys.modules.get("torch.utils.data")
    worker = None if data is None else data.get_worker_info()
    if worker is not None:
        return f"rank{rank()}-worker{worker.id}"
    forks = "".join(f"-{how}{index}" for how, index in streams.fork_path())
    return f"{process_key()}{forks}-main"


# This process's open files of the traced run, by suffix, with the process they belong to.
_open_files: dict[str, tuple[int, Any]] = {}


def _file(suffix: str, binary: bool) -> Any:
    """This process's ``suffix`` file in the traced run's directory, or ``None`` where the
    script took the variable away. A forked child, which inherits its parent's open files,
    opens its own."""
    pid = os.getpid()
    opened = _open_files.get(suffix)
    if opened is None or opened[0] != pid:
        directory = os.environ.get(TRACE_VARIABLE)
        if not directory:
            return None
        path = os.path.join(directory, process_name() + suffix)
        # Unbuffered, or line-buffered: multiprocessing children end in os._exit, without atexit.
        file: Any = (
            open(path, "ab", 0)  # noqa: SIM115 - open for the rest of the process
            if binary
            else open(path, "a", 1, encoding="utf-8")  # noqa: SIM115 - the same
        )
        opened = _open_files[suffix] = (pid, file)
    return opened[1]


def append_line(suffix: str, line: str) -> None:
    """Add ``line`` to this process's ``suffix`` file (``.trace``, ``.seeds``, ``.reads``) in
    the traced run's directory. Raises ``OSError``: callers must never let it break the run."""
    file = _file(suffix, binary=False)
    if file is not None:
        file.write(line + "\n")


def append_bytes(suffix: str, data: bytes) -> None:
    """Add ``data`` to this process's ``suffix`` file, as :func:`append_line` does."""
    file = _file(suffix, binary=True)
    if file is not None:
        file.write(data)


def tensor_digest(value: Any) -> str:
    """A bitwise digest of every element, or a description for what has no plain storage."""
    import torch

    if not isinstance(value, torch.Tensor):
        return repr(value)[:80] if isinstance(value, int | float | bool | str) else "-"
    shape = "x".join(map(str, value.shape))
    kind = f"{str(value.dtype).removeprefix('torch.')}[{shape}]"
    if value.layout != torch.strided or value.device.type == "meta" or value.is_quantized:
        return f"{kind}:{value.layout}:{value.device.type}"
    data = value.detach().contiguous()
    if data.is_complex():
        data = torch.view_as_real(data)
    raw = data.reshape(-1).view(torch.uint8) if data.numel() else data.reshape(-1)
    if data.device.type == "cpu":
        return f"{kind}:{hashlib.blake2b(raw.numpy().tobytes(), digest_size=8).hexdigest()}"
    # On a device: two integer checksums computed there; only they are copied back.
    wide = raw.to(torch.int64)
    positions = torch.arange(1, wide.numel() + 1, device=wide.device, dtype=torch.int64)
    sums = torch.stack([wide.sum(), (wide * positions).sum()]).tolist()
    return f"{kind}:{sums[0]:x}.{sums[1]:x}"


def shape_only(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return "-" if shape is None else f"{value.dtype}[{'x'.join(map(str, shape))}]:uninitialised"


def is_user_file(filename: str) -> bool:
    """Whether ``filename`` is the user's code: not torch, the standard library, an installed
    package, autoseed, or importlib's frozen machinery."""
    return not filename.startswith("<") and not os.path.realpath(filename).startswith(
        _SKIPPED_PREFIXES
    )


def user_frame() -> str:
    """``FILE:LINE`` of the innermost frame outside torch, the standard library, site-packages
    and autoseed: the user's line that called the operator."""
    frame = sys._getframe(2)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def _flatten(values: Any) -> list[Any]:
    if isinstance(values, list | tuple):
        return [item for value in values for item in _flatten(value)]
    if isinstance(values, dict):
        return _flatten(list(values.values()))
    return [values]


def start_tracing(torch: Any, generator_watch: Any = None) -> None:
    """Enter the recording mode for the rest of this process (called at torch's import);
    ``generator_watch``, the profile hook that watches ``torch.Generator``'s seeding, is
    paused while an operator is recorded."""
    if not os.environ.get(TRACE_VARIABLE):
        return
    if os.environ.get(OPERATORS_VARIABLE) == "0":
        with contextlib.suppress(OSError):  # a traced run's record must never break the run
            append_line(TRACE_SUFFIX, NOT_RECORDED)
        return
    mode_class = dispatch_mode_class()
    if mode_class is None:
        return

    class RecordingMode(mode_class):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0
            self.pid = 0  # a forked child inherits this mode, and counts its own calls

        def __torch_dispatch__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            result = func(*args, **(kwargs or {}))
            if self.calls <= CALL_LIMIT:
                # The record's own calls are not the script's: the hook that watches
                # torch.Generator's seeding would see each of them (and double the run's time).
                paused = generator_watch is not None and sys.getprofile() is generator_watch
                if paused:
                    sys.setprofile(None)
                # Recording must never change or break the run.
                with contextlib.suppress(Exception):
                    self.record(func, args, kwargs or {}, result)
                if paused:
                    sys.setprofile(generator_watch)
            return result

        def record(self, func: Any, args: Any, kwargs: Any, result: Any) -> None:
            if self.pid != os.getpid():
                self.calls, self.pid = 0, os.getpid()
            self.calls += 1
            if self.calls > CALL_LIMIT:
                append_line(TRACE_SUFFIX, f"{TRUNCATED} after {CALL_LIMIT} calls")
                return
            inputs = ",".join(map(tensor_digest, _flatten([args, kwargs])))
            name = str(func)
            if name.split(".")[1:2] and name.split(".")[1] in UNINITIALIZED:
                # Fresh memory holds whatever was there: only its shape is the op's result.
                outputs = ",".join(shape_only(value) for value in _flatten(result))
            else:
                outputs = ",".join(map(tensor_digest, _flatten(result)))
            append_line(TRACE_SUFFIX, f"{func}\t{user_frame()}\t{inputs}\t{outputs}")

    RecordingMode().__enter__()
