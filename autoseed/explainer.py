"""``autoseed verify --explain``: when seeded runs differ, say why and where.

Why: rerun twice with one change at a time (each a fix autoseed knows) and report which makes
the runs repeat. Where: run twice more with an operator trace (``autoseed/trace.py``) and
report the first torch operator whose result differs, classified. Both reuse verify's runner.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from autoseed.names import HASH_SEED_VARIABLE, TRACE_VARIABLE, hash_seed_is_fixed
from autoseed.runs import RunOutcome, differences, run_once
from autoseed.trace import TRUNCATED, dispatch_mode_class

RANDOM_OPERATORS = (
    "rand", "randn", "randint", "randperm", "bernoulli", "dropout", "normal", "uniform",
    "exponential", "multinomial", "poisson", "geometric", "cauchy", "log_normal", "random_",
)  # fmt: skip


def candidate_fixes(seed: int, environ: Mapping[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """Each fix autoseed knows: a short name, what it means, and the environment change."""
    known = [
        (f"{HASH_SEED_VARIABLE}={seed}",
         "string hashing and set order; leave AUTOSEED_HASHSEED at its default, reexec, or "
         "launch with `autoseed run`", {HASH_SEED_VARIABLE: str(seed)}),
        ("AUTOSEED_NUMPY_GENERATORS=1", "an unseeded np.random.default_rng()",
         {"AUTOSEED_NUMPY_GENERATORS": "1"}),
        ("AUTOSEED_DETERMINISTIC=1", "nondeterministic kernels", {"AUTOSEED_DETERMINISTIC": "1"}),
        ("OMP_NUM_THREADS=1", "a result that depends on the thread count",
         {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}),
    ]  # fmt: skip
    # A fix already in force cannot be what is missing.
    return [
        fix for fix in known
        if not (HASH_SEED_VARIABLE in fix[2] and hash_seed_is_fixed(environ))
        and any(environ.get(key) != value for key, value in fix[2].items())
    ]  # fmt: skip


def explain_why(
    command: list[str], env: Mapping[str, str], compare: list[str], seed: int
) -> list[dict[str, Any]]:
    """Two runs per fix; which of them make the runs repeat."""
    tried = []
    for name, meaning, change in candidate_fixes(seed, env):
        changed = {**env, **change}
        runs = [run_once(command, changed, compare, f"with {name}: run {i} of 2") for i in (1, 2)]
        repeats = all(run.status == 0 for run in runs) and differences(runs) is None
        tried.append({"fix": name, "meaning": meaning, "environment": change, "repeats": repeats})
    return tried


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


def _read_trace(path: str) -> tuple[list[TraceLine], bool]:
    try:
        with open(path, encoding="utf-8") as file:
            texts = file.read().splitlines()
    except OSError:
        return [], False
    truncated = any(text.startswith(TRUNCATED) for text in texts)
    return [TraceLine(i, t) for i, t in enumerate(texts) if not t.startswith("#")], truncated


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


def compare_traces(first_dir: str, second_dir: str) -> dict[str, Any] | None:
    """The first differing operator call, preferring the process where the difference began."""
    names = sorted(set(os.listdir(first_dir)) | set(os.listdir(second_dir)))
    found: list[dict[str, Any]] = []
    truncated = False
    for name in names:
        first, cut_first = _read_trace(os.path.join(first_dir, name))
        second, cut_second = _read_trace(os.path.join(second_dir, name))
        truncated = truncated or cut_first or cut_second
        process = name.removesuffix(".trace")
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
    """Two traced runs; the first torch operator whose result differs."""
    if dispatch_mode_class() is None:
        return {"available": False, "why": "the installed torch lacks TorchDispatchMode"}
    with tempfile.TemporaryDirectory(prefix="autoseed-trace-") as directory:
        runs: list[RunOutcome] = []
        for i in (1, 2):
            trace_dir = os.path.join(directory, str(i))
            os.mkdir(trace_dir)
            runs.append(run_once(command, {**env, TRACE_VARIABLE: trace_dir}, compare,
                                 f"traced run {i} of 2"))  # fmt: skip
        first, second = (os.path.join(directory, str(i)) for i in (1, 2))
        if not os.listdir(first) and not os.listdir(second):
            return {"available": True, "used_torch": False}
        report = compare_traces(first, second) or {}
    return {"available": True, "used_torch": True, **report}


def format_explanation(why: list[dict[str, Any]], where: dict[str, Any]) -> str:
    lines = ["why: one change at a time, 2 runs each:"]
    for attempt in why:
        verdict = "the runs repeat: this fixes it" if attempt["repeats"] else "still differs"
        lines.append(f"  {attempt['fix']} ({attempt['meaning']}): {verdict}")
    if not any(attempt["repeats"] for attempt in why):
        lines.append("  none of the fixes autoseed knows makes the runs repeat")
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
    if where.get("truncated"):
        lines.append("note: a trace stopped at its call limit; a later difference is not seen")
    return "\n".join(lines)
