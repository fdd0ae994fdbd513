"""``autoseed verify --explain``: when seeded runs differ, say why and where.

Why: rerun twice with one change at a time (each a fix autoseed knows), up to the first that
makes the runs repeat. Where: run twice more traced, and compare what the runs recorded: the
first torch operator whose result differs, classified (``trace.py``); the first seed
call whose value differs (``ledger.py``); and the reads of what no seed controls, the
clock and the OS's entropy among them (``outside.py``). Both reuse verify's runner.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from autoseed.names import HASH_SEED_VARIABLE, TRACE_VARIABLE, hash_seed_is_fixed
from autoseed.seeding.ledger import LEDGER_SUFFIX
from autoseed.settings.plan import (
    ADDRESSES_VARIABLE,
    GENERATORS_VARIABLE,
    ConfigError,
    collect_settings,
    resolve_config,
)
from autoseed.verify.outside import READS_SUFFIX
from autoseed.verify.runs import RunOutcome, differences, run_once
from autoseed.verify.trace import TRACE_SUFFIX, TRUNCATED, dispatch_mode_class

RANDOM_OPERATORS = (
    "rand", "randn", "randint", "randperm", "bernoulli", "dropout", "normal", "uniform",
    "exponential", "multinomial", "poisson", "geometric", "cauchy", "log_normal", "random_",
)  # fmt: skip


# Operators that torch's profiler inserts around record_function regions: bookkeeping whose
# order follows threads and workers, never the cause of a difference.
INTERNAL_OPERATOR_PREFIXES = ("profiler.",)
ORDER_ONLY = "the same lines in another order"


def candidate_fixes(seed: int, environ: Mapping[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """Each fix autoseed knows: a short name, what it means, and the environment change; the
    likeliest first. A fix already in force cannot be what is missing."""
    try:  # the plan each run resolves, by the same rules (the old name, the defaults)
        plan = resolve_config(collect_settings(environ), environ)
        generators_on, restarts = plan.generators, plan.reexec
    except ConfigError:  # verify refuses a bad configuration before any run; the defaults
        generators_on, restarts = True, True
    known = [
        (f"{HASH_SEED_VARIABLE}={seed}",
         "string hashing and set order; leave AUTOSEED_HASHSEED at its default, reexec, or "
         "launch with `autoseed run`", {HASH_SEED_VARIABLE: str(seed)},
         not restarts and not hash_seed_is_fixed(environ)),
        (f"{GENERATORS_VARIABLE}=1", "generators made without a seed (default_rng(), "
         "random.Random())", {GENERATORS_VARIABLE: "1"}, not generators_on),
        (f"{ADDRESSES_VARIABLE}=fixed", "object-address order: a set of objects, or sorting "
         "by id(), follows memory addresses (turns a security mitigation off for the job)",
         {ADDRESSES_VARIABLE: "fixed"}, environ.get(ADDRESSES_VARIABLE) != "fixed"),
        ("AUTOSEED_DETERMINISTIC=1", "nondeterministic kernels", {"AUTOSEED_DETERMINISTIC": "1"},
         environ.get("AUTOSEED_DETERMINISTIC") != "1"),
        ("OMP_NUM_THREADS=1", "a result that depends on the thread count",
         {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}, environ.get("OMP_NUM_THREADS") != "1"),
    ]  # fmt: skip
    return [(name, meaning, change) for name, meaning, change, missing in known if missing]


def explain_why(
    command: list[str], env: Mapping[str, str], compare: list[str], seed: int, with_stderr: bool
) -> list[dict[str, Any]]:
    """Two runs per fix, up to the first fix that makes the runs repeat."""
    tried = []
    for name, meaning, change in candidate_fixes(seed, env):
        changed = {**env, **change}
        runs = [
            run_once(command, changed, compare, f"with {name}: run {i} of 2",
                     with_stderr=with_stderr)
            for i in (1, 2)
        ]  # fmt: skip
        repeats = all(run.status == 0 for run in runs) and differences(runs) is None
        tried.append({"fix": name, "meaning": meaning, "environment": change, "repeats": repeats})
        if repeats:
            break
    return tried


def explain(
    command: list[str],
    env: Mapping[str, str],
    compare: list[str],
    seed: int,
    difference: str,
    with_stderr: bool,
) -> dict[str, Any]:
    """Why and where the seeded runs differ, as report entries."""
    if ORDER_ONLY in difference:
        return {"order_only": True, "why": [], "where": {"available": False, "why": ORDER_ONLY}}
    return {
        "why": explain_why(command, env, compare, seed, with_stderr),
        "where": explain_where(command, env, compare),
    }


class TraceLine:
    """One recorded operator call."""

    __slots__ = ("index", "text", "operator", "frame", "inputs", "outputs")

    def __init__(self, index: int, text: str) -> None:
        self.index = index
        self.text = text
        fields = (text.split("\t") + ["", "", "", ""])[:4]
        self.operator, self.frame, self.inputs, self.outputs = fields

    def shapes(self, digests: str) -> list[str]:
        return [digest.rsplit(":", 1)[0] for digest in digests.split(",")]

    def describe(self) -> dict[str, str]:
        return {"operator": self.operator, "where": self.frame, "source": source_line(self.frame)}


def source_line(frame: str) -> str:
    path, _, line = frame.rpartition(":")
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for number, text in enumerate(file, 1):
                if number == int(line):
                    return text.strip()
    except (OSError, ValueError):
        pass
    return ""


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().splitlines()
    except OSError:
        return []


def _read_trace(path: str) -> tuple[list[TraceLine], bool]:
    texts = _read_lines(path)
    truncated = any(text.startswith(TRUNCATED) for text in texts)
    lines = [TraceLine(i, t) for i, t in enumerate(texts) if not t.startswith("#")]
    return [line for line in lines if not line.operator.startswith(INTERNAL_OPERATOR_PREFIXES)], (
        truncated
    )


def classify(first: TraceLine, other: TraceLine) -> tuple[str, str]:
    """What kind of difference the first differing call shows, and what it suggests."""
    name = first.operator.split(".")[1] if first.operator.count(".") else first.operator
    if first.operator != other.operator or first.shapes(first.inputs) != other.shapes(other.inputs):
        return "control flow", "the sequence of calls itself differs: control flow changed"
    if first.inputs != other.inputs:
        return "outside data", (
            "an input differs that no recorded operator produced: the value came from outside "
            "torch's generators (the clock, os.urandom, an unseeded random.Random(), hash order, "
            "numpy, a file)"
        )
    if any(name.startswith(word) or word in name for word in RANDOM_OPERATORS):
        return "random operator", (
            "inputs equal, output differs, a random operator: a generator autoseed did not seed "
            "(e.g. torch.Generator().seed()), or a draw order that changed"
        )
    return "nondeterministic kernel", (
        "inputs equal, output differs: a nondeterministic kernel; try AUTOSEED_DETERMINISTIC=1"
    )


def _files(directory: str, suffix: str) -> set[str]:
    return {name for name in os.listdir(directory) if name.endswith(suffix)}


def compare_ledgers(first_dir: str, second_dir: str) -> list[str]:
    """Each process's first seed call whose value differs between the two runs, in words."""
    found = []
    for name in sorted(_files(first_dir, LEDGER_SUFFIX) | _files(second_dir, LEDGER_SUFFIX)):
        first = [line.split("\t") for line in _read_lines(os.path.join(first_dir, name))]
        second = [line.split("\t") for line in _read_lines(os.path.join(second_dir, name))]
        for one, two in zip(first, second, strict=False):
            if len(one) == len(two) == 4 and one[0] == two[0] and one[1] != two[1]:
                at = one[2] if one[2] == two[2] else f"{one[2]} and {two[2]}"
                found.append(f"{one[0]} got {one[1]} in run 1 and {two[1]} in run 2, at {at}")
                break
    return found


def outside_reads(directory: str) -> list[str]:
    """What the code read that no seed controls, with FILE:LINE, as one run recorded it."""
    reads: dict[str, None] = {}
    for name in sorted(_files(directory, READS_SUFFIX)):
        for line in _read_lines(os.path.join(directory, name)):
            source, _, where = line.partition("\t")
            reads.setdefault(f"{source} at {where}", None)
    return list(reads)


def compare_traces(first_dir: str, second_dir: str) -> dict[str, Any] | None:
    """The first differing operator call, preferring the process where the difference began."""
    names = sorted(_files(first_dir, TRACE_SUFFIX) | _files(second_dir, TRACE_SUFFIX))
    found: list[dict[str, Any]] = []
    truncated = False
    for name in names:
        first, cut_first = _read_trace(os.path.join(first_dir, name))
        second, cut_second = _read_trace(os.path.join(second_dir, name))
        truncated = truncated or cut_first or cut_second
        process = name.removesuffix(TRACE_SUFFIX)
        if not first or not second:
            only_once = "this process recorded operators in one run only"
            found.append({"process": process, "kind": "control flow", "meaning": only_once})
            continue
        for index, (one, two) in enumerate(zip(first, second, strict=False)):
            if one.text != two.text:
                kind, meaning = classify(one, two)
                found.append({
                    "process": process, "kind": kind, "meaning": meaning,
                    "call": one.describe(), "other_call": two.describe(),
                    "call_before": first[index - 1].describe() if index else None,
                })  # fmt: skip
                break
        else:
            if len(first) != len(second):
                more = "one run made more operator calls than the other"
                found.append({"process": process, "kind": "control flow", "meaning": more})
    if not found:
        return {"truncated": truncated, "difference": None}
    # A process whose first difference is data from elsewhere got it from another process
    # (a DataLoader worker's batch): report the one where the difference began.
    found.sort(
        key=lambda item: (
            item["kind"] == "outside data" and "worker" not in item["process"],
            "worker" not in item["process"],
        )
    )
    return {"truncated": truncated, "difference": found[0], "processes": found}


def explain_where(command: list[str], env: Mapping[str, str], compare: list[str]) -> dict[str, Any]:
    """Two traced runs: the first torch operator whose result differs, the first seed call
    whose value differs, and what was read outside any seed."""
    with tempfile.TemporaryDirectory(prefix="autoseed-trace-") as directory:
        runs: list[RunOutcome] = []
        for i in (1, 2):
            trace_dir = os.path.join(directory, str(i))
            os.mkdir(trace_dir)
            runs.append(run_once(command, {**env, TRACE_VARIABLE: trace_dir}, compare,
                                 f"traced run {i} of 2"))  # fmt: skip
        first, second = (os.path.join(directory, str(i)) for i in (1, 2))
        recorded = {
            "seeds": compare_ledgers(first, second),
            "reads": outside_reads(first),
        }
        if dispatch_mode_class() is None:
            why = "the installed torch lacks TorchDispatchMode"
            return {"available": False, "why": why, **recorded}
        if not _files(first, TRACE_SUFFIX) and not _files(second, TRACE_SUFFIX):
            return {"available": True, "used_torch": False, **recorded}
        report = compare_traces(first, second) or {}
    return {"available": True, "used_torch": True, **report, **recorded}


def format_explanation(report: dict[str, Any]) -> str:
    """The ``why:`` and ``where:`` lines of ``verify --explain``."""
    if report.get("order_only"):
        return (
            f"why: {ORDER_ONLY}: nothing was tried, no seed decides which process or thread "
            "writes first; compare sorted output, or write from one process"
        )
    why, where = report["why"], report["where"]
    lines = ["why: one change at a time, 2 runs each, up to the first that fixes it:"]
    for attempt in why:
        verdict = "the runs repeat: this fixes it" if attempt["repeats"] else "still differs"
        lines.append(f"  {attempt['fix']} ({attempt['meaning']}): {verdict}")
    if not any(attempt["repeats"] for attempt in why):
        lines.append("  none of the fixes autoseed knows makes the runs repeat")
    lines.extend(f"seeds: {seed}" for seed in where.get("seeds", []))
    if not where.get("available"):
        lines.append(f"where: unavailable ({where.get('why')})")
    elif not where.get("used_torch"):
        lines.append("where: the command ran no torch operator, so there is no trace to compare")
    elif where.get("difference") is None:
        lines.append("where: every recorded torch operator call was identical in both runs; "
                     "the difference arose outside torch")  # fmt: skip
    else:
        found = where["difference"]
        lines.append(f"where: the first torch operation whose result differs, in process "
                     f"{found['process']}:")  # fmt: skip
        call = found.get("call")
        if call:
            lines.append(f"  {call['where']}: {call['source']}")
            lines.append(f"  operator {call['operator']}")
        lines.append(f"  {found['meaning']}")
        other = found.get("other_call")
        if found["kind"] == "control flow" and other:
            lines.append(f"  other run: {other['where']}: {other['operator']}")
        before = found.get("call_before")
        if before:
            lines.append(f"  call before it: {before['where']}: {before['operator']}")
    outside = where.get("used_torch") is False or (
        where.get("difference") is None or where["difference"].get("kind") == "outside data"
    )
    if outside and where.get("reads"):
        lines.append("read outside any seed (each a suspect):")
        lines.extend(f"  {read}" for read in where["reads"])
    if where.get("truncated"):
        lines.append("note: a trace stopped at its call limit; a later difference is not seen")
    return "\n".join(lines)
