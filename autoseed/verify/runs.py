"""Run a command once, keep what it produced, and compare runs: what verify and explain share."""

from __future__ import annotations

import difflib
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

DIFF_LINES = 12
OWN_LINE_PREFIX = b"autoseed: "
NOTHING_COMPARED = "nothing compared"

# When the last run ended (wall clock): each run starts in a later second than the one in
# which the run before it ended, so that no two runs read the clock in the same second, and a
# script seeding from the clock in whole seconds can never repeat by luck.
_last_end: float | None = None


def _start_in_a_new_second() -> None:
    if _last_end is not None:
        wait = int(_last_end) + 1 - time.time()
        if wait > 0:
            time.sleep(wait)


def without_own_lines(stderr: bytes) -> bytes:
    """The command's stderr without autoseed's own lines (which say what it did)."""
    return b"".join(
        line for line in stderr.splitlines(keepends=True) if not line.startswith(OWN_LINE_PREFIX)
    )


class Comparison:
    """What each run of one ``verify`` compares (stdout, stderr, files; less what ``--ignore``
    matches), and the folder that keeps the runs' outputs (``--keep``), if any."""

    __slots__ = ("compare", "with_stderr", "ignore", "keep")

    def __init__(
        self,
        compare: list[str] | None = None,
        *,
        with_stderr: bool = False,
        ignore: list[str] | None = None,
        keep: str | None = None,
    ) -> None:
        self.compare = list(compare or [])
        self.with_stderr = with_stderr
        self.ignore = [re.compile(pattern) for pattern in ignore or []]  # re.error: the caller's
        self.keep = keep

    def compared(self, name: str, data: bytes) -> bytes:
        """``data`` as it is compared: stderr without autoseed's own lines; each line without
        the text that an ``--ignore`` pattern matches, and left out where nothing is left."""
        if name == "stderr":
            data = without_own_lines(data)
        if not self.ignore:
            return data
        kept = []
        for line in data.decode("utf-8", "surrogateescape").splitlines(keepends=True):
            text = line.rstrip("\r\n")
            ending = line[len(text) :]
            for pattern in self.ignore:
                text = pattern.sub("", text)
            if text or not line.rstrip("\r\n"):
                kept.append(text + ending)
        return "".join(kept).encode("utf-8", "surrogateescape")


class RunOutcome:
    """What one run of the command produced."""

    __slots__ = ("status", "outputs", "stderr", "seconds", "unwritten")

    def __init__(
        self,
        status: int,
        outputs: dict[str, bytes | None],
        stderr: bytes,
        seconds: float,
        unwritten: dict[str, str],
    ) -> None:
        self.status = status
        # "stdout" (and "stderr") and each --compare path -> bytes as compared (None: missing)
        self.outputs = outputs
        self.stderr = stderr
        self.seconds = seconds
        self.unwritten = unwritten  # --compare path -> why it was not written by this run


def _modified(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def run_once(
    command: list[str],
    env: Mapping[str, str],
    comparison: Comparison,
    label: str,
    kept_as: str,
) -> RunOutcome:
    """One run; what ``comparison`` compares is kept for comparison, and every output of the
    run in ``comparison.keep``'s folder ``kept_as``, if the user asked to keep them."""
    global _last_end
    _start_in_a_new_second()
    progress = f"autoseed: verify: {label}..."
    sys.stderr.write(progress)
    sys.stderr.flush()
    modified_before = {path: _modified(path) for path in comparison.compare}
    start = time.monotonic()
    process: subprocess.Popen[bytes] | None = None
    try:
        with signals_held():
            process = subprocess.Popen(
                command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        stdout, stderr = _wait(process, progress, start)
    except BaseException:  # Ctrl-C, or SIGTERM made an exception: never leave the run behind
        sys.stderr.write("\n")
        if process is not None:
            stop(process)
        raise
    seconds = time.monotonic() - start
    _last_end = time.time()
    sys.stderr.write(f"\r{progress} {seconds:.1f}s\n" if _live() else f" {seconds:.1f}s\n")
    outputs: dict[str, bytes | None] = {"stdout": comparison.compared("stdout", stdout)}
    if comparison.with_stderr:
        outputs["stderr"] = comparison.compared("stderr", stderr)
    files: dict[str, bytes | None] = {}
    unwritten: dict[str, str] = {}
    for path in comparison.compare:
        try:
            files[path] = read_written_file(path)
        except IsADirectoryError:
            files[path] = None
            unwritten[path] = "is a directory; --compare takes a file that the command writes"
            continue
        except NotARegularFile:
            files[path] = None
            unwritten[path] = "is not a regular file (a FIFO, a device); --compare takes a file"
            continue
        except OSError as error:
            files[path] = None
            unwritten[path] = f"missing after the run ({error.strerror or error})"
            continue
        # Identical stale files in every run would otherwise read as "reproducible".
        if _modified(path) == modified_before[path]:
            unwritten[path] = "its modification time did not change: a stale file, not written"
    if comparison.keep is not None:
        keep_outputs(os.path.join(comparison.keep, kept_as), stdout, stderr, files)
    for path, data in files.items():
        outputs[path] = None if data is None else comparison.compared(path, data)
    return RunOutcome(process.returncode, outputs, stderr, seconds, unwritten)


class NotARegularFile(OSError):
    """A compared path holds a FIFO or a device: reading it could block or never end."""


def read_written_file(path: str) -> bytes:
    """The regular file at ``path``, whole. A FIFO opens at once (non-blocking) and is then
    refused by its type, as is a device such as ``/dev/zero``, which would never end."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise IsADirectoryError(path) if stat.S_ISDIR(mode) else NotARegularFile(path)
    with os.fdopen(descriptor, "rb") as file:
        return file.read()


def _live() -> bool:
    """Whether progress goes to a terminal, where the elapsed time of a run can tick."""
    return sys.stderr.isatty()


def _wait(process: subprocess.Popen[bytes], progress: str, start: float) -> tuple[bytes, bytes]:
    """The run's stdout and stderr once it ends; on a terminal, its elapsed time meanwhile."""
    if not _live():
        return process.communicate()
    while True:
        try:
            return process.communicate(timeout=1.0)
        except subprocess.TimeoutExpired:  # communicate() may be called again, losing nothing
            sys.stderr.write(f"\r{progress} {int(time.monotonic() - start)}s")
            sys.stderr.flush()


def keep_outputs(
    folder: str, stdout: bytes, stderr: bytes, files: Mapping[str, bytes | None]
) -> None:
    """A run's stdout, stderr and compared files, as the run left them, in ``folder``: each
    file under its own name (a number before it where two names are the same)."""
    os.makedirs(folder, exist_ok=True)
    kept = {"stdout": stdout, "stderr": stderr}
    for index, (path, data) in enumerate(files.items(), 1):
        name = os.path.basename(path)
        if data is not None:
            kept[f"{index}-{name}" if name in kept else name] = data
    for name, data in kept.items():
        with open(os.path.join(folder, name), "wb") as file:
            file.write(data)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a run starts and is recorded, and deliver them after.

    An exception raised by a signal between a child's creation and the line that records it
    would leave that child running unseen after we stop the others and exit. The signal's
    arrival is noted, and the signal raised again once the block has ended, so the caller
    stops every run it has recorded. (Blocking the signals with a thread's mask instead would
    leave them blocked in the child, which inherits the mask through exec.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals and may set their handlers
        return
    arrived: list[int] = []
    previous = {
        number: signal.signal(number, lambda arrival, _: arrived.append(arrival))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for first in arrived[:1]:
            signal.raise_signal(first)


@contextmanager
def sigint_raises() -> Iterator[None]:
    """Ctrl-C raises ``KeyboardInterrupt`` in this block, even in a process started with
    SIGINT ignored.

    A shell without job control (a script's ``cmd &``) starts background commands with SIGINT
    ignored, and Python keeps it ignored. The runs do not inherit that (each starts while
    ``signals_held`` has a handler, which exec resets to the default): Ctrl-C to the process
    group ends them, and a sweep that ignored it would record them as failed and start the
    next. So the sweep stops with its runs, as in the foreground; one that must outlive a
    terminal's Ctrl-C belongs in a session of its own (``setsid``).
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous is signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


def stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Ask a run to stop (SIGTERM), and make it (SIGKILL) if it has not after ``grace`` s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def first_difference(name: str, first: bytes | None, other: bytes | None, run: int) -> str:
    """Where ``other`` (run ``run``) first differs from run 1, with a short unified diff."""
    if first is None or other is None:
        missing = 1 if first is None else run
        return f"{name} is missing after run {missing}"
    try:
        first_lines = first.decode().splitlines()
        other_lines = other.decode().splitlines()
    except UnicodeDecodeError:
        offset = next(
            (i for i, (a, b) in enumerate(zip(first, other, strict=False)) if a != b),
            min(len(first), len(other)),
        )
        return (
            f"{name} differs at byte {offset} (run 1: {len(first)} bytes, run {run}: {len(other)})"
        )
    if sorted(first_lines) == sorted(other_lines):
        return (
            f"{name} has the same lines in another order in run {run} than in run 1 (several "
            "processes or threads writing to one stream, in the order they finish)"
        )
    line = next(
        (i for i, (a, b) in enumerate(zip(first_lines, other_lines, strict=False)) if a != b),
        min(len(first_lines), len(other_lines)),
    )
    diff = list(
        difflib.unified_diff(
            first_lines, other_lines, f"run 1 {name}", f"run {run} {name}", n=1, lineterm=""
        )
    )
    shown = "\n".join(diff[:DIFF_LINES]) + ("\n..." if len(diff) > DIFF_LINES else "")
    return f"{name} differs from run 1 in run {run}, first at line {line + 1}:\n{shown}"


def nothing_to_compare(outcomes: list[RunOutcome]) -> bool:
    """Whether every run left every compared output empty: then equal runs prove nothing."""
    return all(not data for outcome in outcomes for data in outcome.outputs.values())


def first_differing(outcomes: list[RunOutcome]) -> tuple[int, str] | None:
    """The first run (its index in ``outcomes``) whose output differs from the first run's,
    and which output (``stdout``, ``stderr`` or a ``--compare`` path)."""
    first = outcomes[0]
    for index, outcome in enumerate(outcomes[1:], 1):
        for name, data in first.outputs.items():
            if outcome.outputs[name] != data:
                return index, name
    return None


def differences(outcomes: list[RunOutcome]) -> str | None:
    found = first_differing(outcomes)
    if found is None:
        return None
    index, name = found
    return first_difference(
        name, outcomes[0].outputs[name], outcomes[index].outputs[name], index + 1
    )


def say_failures(outcomes: list[RunOutcome], lines: list[str]) -> bool:
    """Whether a run failed or did not write a compared file; says the first such run in
    ``lines``."""
    for run, outcome in enumerate(outcomes, 1):
        if outcome.status != 0:
            tail = outcome.stderr.decode(errors="replace").strip().splitlines()[-5:]
            lines.append(f"failed: run {run} exited with status {outcome.status}")
            lines.extend(f"  {line}" for line in tail)
            return True
    for run, outcome in enumerate(outcomes, 1):
        for path, why in outcome.unwritten.items():
            lines.append(f"failed: run {run} did not write {path}: {why}")
            return True
    return False
