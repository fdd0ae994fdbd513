"""Run a command once, keep what it produced, and compare runs: what verify and explain share."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import time
from collections.abc import Mapping

DIFF_LINES = 12


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
        self.outputs = outputs  # "stdout" and each --compare path -> bytes (None: missing)
        self.stderr = stderr
        self.seconds = seconds
        self.unwritten = unwritten  # --compare path -> why it was not written by this run


def _modified(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def run_once(
    command: list[str], env: Mapping[str, str], compare: list[str], label: str
) -> RunOutcome:
    sys.stderr.write(f"autoseed: verify: {label}...")
    sys.stderr.flush()
    modified_before = {path: _modified(path) for path in compare}
    start = time.monotonic()
    try:
        process = subprocess.Popen(
            command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError:
        sys.stderr.write("\n")
        raise
    try:
        stdout, stderr = process.communicate()
    except BaseException:  # Ctrl-C, or SIGTERM made an exception: never leave the run behind
        sys.stderr.write("\n")
        stop(process)
        raise
    seconds = time.monotonic() - start
    sys.stderr.write(f" {seconds:.1f}s\n")
    outputs: dict[str, bytes | None] = {"stdout": stdout}
    unwritten: dict[str, str] = {}
    for path in compare:
        try:
            with open(path, "rb") as file:
                outputs[path] = file.read()
        except IsADirectoryError:
            outputs[path] = None
            unwritten[path] = "is a directory; --compare takes a file that the command writes"
            continue
        except OSError as error:
            outputs[path] = None
            unwritten[path] = f"missing after the run ({error.strerror or error})"
            continue
        # Identical stale files in every run would otherwise read as "reproducible".
        if _modified(path) == modified_before[path]:
            unwritten[path] = "its modification time did not change: a stale file, not written"
    return RunOutcome(process.returncode, outputs, stderr, seconds, unwritten)


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


def differences(outcomes: list[RunOutcome]) -> str | None:
    first = outcomes[0]
    for run, outcome in enumerate(outcomes[1:], 2):
        for name, data in first.outputs.items():
            if outcome.outputs[name] != data:
                return first_difference(name, data, outcome.outputs[name], run)
    return None
