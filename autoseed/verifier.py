"""``autoseed verify``: does a command give identical results under the same seed?"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from autoseed._startup import warn
from autoseed.config import SEED_VARIABLE
from autoseed.launcher import prepare_seeded_run
from autoseed.seeding import environment_before_autoseed

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
        result = subprocess.run(command, env=dict(env), capture_output=True, check=False)
    except FileNotFoundError:
        sys.stderr.write("\n")
        raise
    seconds = time.monotonic() - start
    sys.stderr.write(f" {seconds:.1f}s\n")
    outputs: dict[str, bytes | None] = {"stdout": result.stdout}
    unwritten: dict[str, str] = {}
    for path in compare:
        try:
            with open(path, "rb") as file:
                outputs[path] = file.read()
        except OSError as error:
            outputs[path] = None
            unwritten[path] = f"missing after the run ({error.strerror or error})"
            continue
        # Identical stale files in every run would otherwise read as "reproducible".
        if _modified(path) == modified_before[path]:
            unwritten[path] = "its modification time did not change: a stale file, not written"
    return RunOutcome(result.returncode, outputs, result.stderr, seconds, unwritten)


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


def _unseeded_environment(environ: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if not k.startswith(SEED_VARIABLE)}
    env[SEED_VARIABLE] = "off"  # also switches off a .env that would seed the command
    return env


def verify(
    command: list[str],
    *,
    runs: int,
    seed_word: str | None,
    compare: list[str],
    baseline: bool,
    explain: bool = False,
    as_json: bool = False,
) -> int:
    """0: reproducible; 1: not (or the command failed).

    Each run gets the user's own environment plus ``AUTOSEED``, and nothing else: the verdict
    is about ``AUTOSEED=N CMD`` exactly as the user types it, hash seed included. ``explain``
    says why and where seeded runs differ; ``as_json`` prints the whole report as JSON.
    """
    report: dict[str, Any] = {"command": command, "seed": None, "verdict": "failed"}
    status = _verify(command, runs, seed_word, compare, baseline, explain, report)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(report.get("lines", [])))
    return status


def _verify(
    command: list[str],
    runs: int,
    seed_word: str | None,
    compare: list[str],
    baseline: bool,
    explain: bool,
    report: dict[str, Any],
) -> int:
    lines: list[str] = report.setdefault("lines", [])
    prepared = prepare_seeded_run(seed_word, fix_hash_seed=False)
    if prepared is None:
        return 1
    seed, env = prepared
    report["seed"] = seed
    try:
        outcomes = [
            run_once(command, env, compare, f"run {i} of {runs} ({SEED_VARIABLE}={seed})")
            for i in range(1, runs + 1)
        ]
        bare = _unseeded_environment(environment_before_autoseed())
        unseeded = [
            run_once(command, bare, compare, f"unseeded run {i} of 2") for i in (1, 2) if baseline
        ]
    except FileNotFoundError:
        warn(f"verify: command not found: {command[0]}")
        report["verdict"] = "command not found"
        return 1
    report["run_seconds"] = [round(outcome.seconds, 3) for outcome in outcomes + unseeded]
    failed = [(i, o) for i, o in enumerate(outcomes + unseeded, 1) if o.status != 0]
    if failed:
        run, outcome = failed[0]
        tail = outcome.stderr.decode(errors="replace").strip().splitlines()[-5:]
        lines.append(f"failed: run {run} exited with status {outcome.status}")
        lines.extend(f"  {line}" for line in tail)
        return 1
    for run, outcome in enumerate(outcomes + unseeded, 1):
        for path, why in outcome.unwritten.items():
            lines.append(f"failed: run {run} did not write {path}: {why}")
            return 1
    difference = differences(outcomes)
    report["verdict"] = "reproducible" if difference is None else "not reproducible"
    report["difference"] = difference
    if difference is None:
        lines.append(f"reproducible ({runs} runs, {SEED_VARIABLE}={seed})")
    else:
        lines.append(f"not reproducible ({SEED_VARIABLE}={seed}): {difference}")
    if unseeded:
        report["baseline_varies"] = differences(unseeded) is not None
        if not report["baseline_varies"]:
            lines.append(
                "baseline: the same output without a seed too, so the verdict says little: "
                "the command does not depend on randomness, or seeds itself"
            )
        else:
            lines.append("baseline: without a seed the output varies, so seeding is what fixes it")
    if explain and difference is not None:
        from autoseed import explainer

        report["why"] = explainer.explain_why(command, env, compare, seed)
        report["where"] = explainer.explain_where(command, env, compare)
        lines.append(explainer.format_explanation(report["why"], report["where"]))
    return 0 if difference is None else 1
