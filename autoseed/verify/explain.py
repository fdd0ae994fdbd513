"""``autoseed verify --explain``: when seeded runs differ, say why and where.

Traced runs first, since they name most causes at once. Two runs record each process's seed
calls (``autoseed/seeding/ledger.py``), its reads of what no seed controls, the clock and the OS's
entropy among them (``outside.py``), and what it wrote (``writes.py``). The
cause is named when a seed call's value differs, when each process wrote the same text and only
how their writes interleaved differs, or when a run without torch read the clock. Otherwise two
more runs record every torch operator (``trace.py``): the first whose result differs,
classified; a read outside any seed is then the cause where that difference came from outside
torch. Only where no cause is named: rerun twice with one change at a time (each a fix autoseed
knows), up to the first that makes the runs repeat. Every run goes through verify's runner.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
from autoseed.verify.runs import Comparison, RunOutcome, differences, first_differing, run_once
from autoseed.verify.trace import OPERATORS_VARIABLE, TRACE_SUFFIX, TRUNCATED, dispatch_mode_class
from autoseed.verify.writes import interleaved_writers, texts

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
    command: list[str], env: Mapping[str, str], comparison: Comparison, seed: int
) -> list[dict[str, Any]]:
    """Two runs per fix, up to the first fix that makes the runs repeat."""
    tried = []
    for name, meaning, change in candidate_fixes(seed, env):
        changed = {**env, **change}
        runs = [
            run_once(command, changed, comparison, f"with {name}: run {i} of 2",
                     kept_as=f"with-{name}-run-{i}")
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
    comparison: Comparison,
    seed: int,
    outcomes: list[RunOutcome],
) -> dict[str, Any]:
    """Why and where the seeded runs ``outcomes`` differ, as report entries."""
    if ORDER_ONLY in (differences(outcomes) or ""):
        return {"order_only": True, "why": [], "where": {"available": False, "why": ORDER_ONLY}}
    where = record_runs(command, env, comparison, _differing_output(outcomes))
    cause = named_cause(where)
    if cause is None and where["used_torch"]:
        where.update(trace_operators(command, env, comparison))
        cause = named_cause(where)
    why = [] if cause is not None else explain_why(command, env, comparison, seed)
    return {"cause": cause, "why": why, "where": where}


def _differing_output(outcomes: list[RunOutcome]) -> tuple[str, bytes, bytes] | None:
    """The first output that differs: its name, and what run 1 and the differing run left."""
    found = first_differing(outcomes)
    if found is None:
        return None
    index, name = found
    first, other = outcomes[0].outputs[name], outcomes[index].outputs[name]
    return None if first is None or other is None else (name, first, other)


def named_cause(where: Mapping[str, Any]) -> str | None:
    """What the traced runs name as the cause: ``interleaving``, ``seed``, ``read``, or
    ``None``. Interleaving first: processes that each wrote the same text in both runs show
    that whatever else varied (a seed, the clock) did not reach the output."""
    if where.get("interleaved"):
        return "interleaving"
    if where.get("seeds"):
        return "seed"
    if where.get("reads") and _arose_outside_torch(where):
        return "read"
    return None


def _arose_outside_torch(where: Mapping[str, Any]) -> bool:
    """Whether the difference arose outside torch: the run used no torch, or the operator
    trace found every result equal, or a first difference that came from outside."""
    if not where.get("used_torch"):
        return True
    if not where.get("operators_traced") or not where.get("available"):
        return False
    found = where.get("difference")
    return found is None or found.get("kind") == "outside data"


@contextmanager
def _traced_directories(comparison: Comparison, name: str) -> Iterator[tuple[str, str]]:
    """A record folder for each of two traced runs: in ``--keep``'s folder, else temporary."""
    if comparison.keep is not None:
        folders = tuple(os.path.join(comparison.keep, f"{name}-{i}", "record") for i in (1, 2))
        for folder in folders:
            os.makedirs(folder, exist_ok=True)
        yield folders[0], folders[1]
        return
    with tempfile.TemporaryDirectory(prefix="autoseed-trace-") as directory:
        folders = tuple(os.path.join(directory, str(i)) for i in (1, 2))
        for folder in folders:
            os.mkdir(folder)
        yield folders[0], folders[1]


def _traced_pair(
    command: list[str], env: Mapping[str, str], comparison: Comparison, name: str,
    operators: bool, folders: tuple[str, str],
) -> None:  # fmt: skip
    for i, folder in enumerate(folders, 1):
        traced = {**env, TRACE_VARIABLE: folder, OPERATORS_VARIABLE: "1" if operators else "0"}
        run_once(command, traced, comparison, f"{name.replace('-', ' ')} run {i} of 2",
                 kept_as=f"{name}-{i}")  # fmt: skip


def record_runs(
    command: list[str],
    env: Mapping[str, str],
    comparison: Comparison,
    differing: tuple[str, bytes, bytes] | None,
) -> dict[str, Any]:
    """Two traced runs without the operator trace: the first seed call whose value differs,
    what was read outside any seed, whether torch was used, and whether only the interleaving
    of the processes' writes differs."""
    with _traced_directories(comparison, "traced") as folders:
        _traced_pair(command, env, comparison, "traced", False, folders)
        first, second = folders
        return {
            "seeds": compare_ledgers(first, second),
            "reads": outside_reads(first),
            "used_torch": bool(_files(first, TRACE_SUFFIX) | _files(second, TRACE_SUFFIX)),
            "interleaved": _interleaving(first, second, comparison, differing),
        }


def _interleaving(
    first: str, second: str, comparison: Comparison, differing: tuple[str, bytes, bytes] | None
) -> dict[str, Any] | None:
    """The processes whose writes interleave, where only that differs in the output."""
    if differing is None or differing[0] not in ("stdout", "stderr"):
        return None
    name, one, other = differing
    first_texts, second_texts = texts(first, name), texts(second, name)
    if first_texts is None or second_texts is None:
        return None
    writers = interleaved_writers(
        [comparison.compared(name, text) for text in first_texts],
        [comparison.compared(name, text) for text in second_texts],
        (one, other),
    )
    return {"stream": name, "processes": writers} if writers else None


def trace_operators(
    command: list[str], env: Mapping[str, str], comparison: Comparison
) -> dict[str, Any]:
    """Two runs with the operator trace: the first torch operator whose result differs."""
    if dispatch_mode_class() is None:
        return {"available": False, "why": "the installed torch lacks TorchDispatchMode"}
    with _traced_directories(comparison, "operator-traced") as (first, second):
        _traced_pair(command, env, comparison, "operator-traced", True, (first, second))
        report = compare_traces(first, second) or {}
    return {"available": True, "operators_traced": True, **report}


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


def _unmatched(lines: list[TraceLine], others: list[TraceLine]) -> list[int]:
    """The positions of the calls in ``lines`` that ``others`` did not make, each call matched
    once: the same call (operator, inputs and results) made at another position is a difference
    of order only, such as batches taken in from DataLoader workers as they arrive."""
    available = Counter(line.text for line in others)
    unmatched = []
    for index, line in enumerate(lines):
        if available[line.text]:
            available[line.text] -= 1
        else:
            unmatched.append(index)
    return unmatched


def _first_difference(
    process: str, first: list[TraceLine], second: list[TraceLine]
) -> dict[str, Any] | None:
    """The first call of one process whose result differs between the runs, if any. Calls
    are paired in the order in which each run made them; a pair with the same operator and
    the same results is never blamed, whatever its inputs."""
    only_first, only_second = _unmatched(first, second), _unmatched(second, first)
    for index, other_index in zip(only_first, only_second, strict=False):
        one, two = first[index], second[other_index]
        if one.operator == two.operator and one.outputs == two.outputs:
            continue
        kind, meaning = classify(one, two)
        return {
            "process": process, "kind": kind, "meaning": meaning,
            "call": one.describe(), "other_call": two.describe(),
            "call_before": first[index - 1].describe() if index else None,
        }  # fmt: skip
    if len(only_first) != len(only_second):
        more = "one run made more operator calls than the other"
        return {"process": process, "kind": "control flow", "meaning": more}
    return None


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
        if bool(first) != bool(second):
            only_once = "this process recorded operators in one run only"
            found.append({"process": process, "kind": "control flow", "meaning": only_once})
            continue
        difference = _first_difference(process, first, second)
        if difference is not None:
            found.append(difference)
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


CAUSES = {
    "seed": (
        "a seed call takes another value in each run (seeds: above); no fix was tried, since "
        "none would change that value: give it one that does not change between runs, or let "
        "AUTOSEED seed it"
    ),
    "read": (
        "the output depends on a read of what no seed controls (above); no fix was tried, "
        "since no seed would change what it reads"
    ),
}


def format_explanation(report: dict[str, Any]) -> str:
    """The ``cause:``, ``seeds:``, ``where:`` and ``why:`` lines of ``verify --explain``."""
    if report.get("order_only"):
        return (
            f"why: {ORDER_ONLY}: nothing was tried, no seed decides which process or thread "
            "writes first; compare sorted output, or write from one process"
        )
    where, cause = report["where"], report.get("cause")
    if cause == "interleaving":
        return _interleaving_lines(where["interleaved"])
    lines = [f"seeds: {seed}" for seed in where.get("seeds", [])]
    lines.extend(_where_lines(where))
    if where.get("reads") and (cause in ("seed", "read") or _arose_outside_torch(where)):
        lines.append("read outside any seed (each a suspect):")
        lines.extend(f"  {read}" for read in where["reads"])
    if where.get("truncated"):
        lines.append("note: a trace stopped at its call limit; a later difference is not seen")
    if cause is not None:
        lines.append(f"cause: {CAUSES[cause]}")
        return "\n".join(lines)
    lines.append("why: one change at a time, 2 runs each, up to the first that fixes it:")
    for attempt in report["why"]:
        verdict = "the runs repeat: this fixes it" if attempt["repeats"] else "still differs"
        lines.append(f"  {attempt['fix']} ({attempt['meaning']}): {verdict}")
    if not any(attempt["repeats"] for attempt in report["why"]):
        lines.append("  none of the fixes autoseed knows makes the runs repeat")
    return "\n".join(lines)


def _interleaving_lines(interleaved: Mapping[str, Any]) -> str:
    stream, processes = interleaved["stream"], interleaved["processes"]
    return (
        f"cause: {processes} processes wrote to {stream}, each the same text in both traced "
        f"runs: only how their writes interleaved differs, and no seed decides that. print() "
        "writes its parts and the newline apart, so lines mix. No fix was tried. Write each "
        f"line in one call (sys.{stream}.write(line + '\\n')), write from one process, or "
        "compare sorted output"
    )


def _where_lines(where: Mapping[str, Any]) -> list[str]:
    """What the operator trace found, where it ran; the want of torch, where none ran."""
    if not where.get("used_torch"):
        return ["where: the command ran no torch operator, so there is no trace to compare"]
    if not where.get("operators_traced"):
        if where.get("available") is False:
            return [f"where: unavailable ({where.get('why')})"]
        return []  # the cause was named before any operator was traced
    if where.get("difference") is None:
        return ["where: every recorded torch operator call gave the same results in both "
                "runs; the difference arose outside torch"]  # fmt: skip
    found = where["difference"]
    lines = [f"where: the first torch operation whose result differs, in process "
             f"{found['process']}:"]  # fmt: skip
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
    return lines
