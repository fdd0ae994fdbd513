"""``autoseed verify``: does a command give identical results under the same seed?"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from autoseed.names import warn
from autoseed.seeding.libraries import environment_before_autoseed
from autoseed.settings.plan import SEED_VARIABLE
from autoseed.verify.runs import (
    NOTHING_COMPARED,
    Comparison,
    RunOutcome,
    differences,
    nothing_to_compare,
    run_once,
    say_failures,
)

# verify's exit status when every compared output was empty in every run: no verdict.
NOTHING_COMPARED_STATUS = 3


def _unseeded_environment(environ: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if not k.startswith(SEED_VARIABLE)}
    env[SEED_VARIABLE] = "off"  # also switches off a .env that would seed the command
    return env


def verify(
    command: list[str],
    *,
    runs: int,
    seed: int,
    env: Mapping[str, str],
    comparison: Comparison,
    baseline: bool,
    explain: bool = False,
    as_json: bool = False,
) -> int:
    """0: reproducible; 1: not (or the command failed); 3: nothing to compare.

    Each run gets ``env``: the user's own environment plus ``AUTOSEED=seed``, and nothing else
    (``launcher.prepare_seeded_run``), so that the verdict is about ``AUTOSEED=N CMD`` exactly as
    the user types it, hash seed included. ``comparison`` says what is compared (stdout; stderr
    without autoseed's own lines; files; less what ``--ignore`` matches) and where the runs'
    outputs are kept. The seeded runs stop at the first that fails or differs. ``explain``
    says why and where seeded runs differ; ``as_json`` prints the whole report as JSON.
    """
    report: dict[str, Any] = {"command": command, "seed": seed, "verdict": "failed"}
    status = _verify(command, runs, seed, env, comparison, baseline, explain, report)
    if comparison.keep is not None:
        report["kept"] = comparison.keep
        report["lines"].append(f"kept: every run's stdout, stderr and compared files in "
                               f"{comparison.keep}")  # fmt: skip
    if as_json:
        print(json.dumps(report, indent=2))
    elif report["lines"]:
        print("\n".join(report["lines"]))
    return status


def _seeded_runs(
    command: list[str], runs: int, seed: int, env: Mapping[str, str], comparison: Comparison
) -> list[RunOutcome]:
    """Up to ``runs`` seeded runs, stopping at the first that fails or differs from run 1:
    one difference decides the verdict."""
    outcomes: list[RunOutcome] = []
    for i in range(1, runs + 1):
        outcome = run_once(command, env, comparison, f"run {i} of {runs} ({SEED_VARIABLE}={seed})",
                           kept_as=f"run-{i}")  # fmt: skip
        outcomes.append(outcome)
        if outcome.status != 0 or outcome.unwritten or differences(outcomes) is not None:
            break
    return outcomes


def _verify(
    command: list[str],
    runs: int,
    seed: int,
    env: Mapping[str, str],
    comparison: Comparison,
    baseline: bool,
    explain: bool,
    report: dict[str, Any],
) -> int:
    lines: list[str] = report.setdefault("lines", [])
    try:
        outcomes = _seeded_runs(command, runs, seed, env, comparison)
        if say_failures(outcomes, lines):
            return 1
        if nothing_to_compare(outcomes):
            report["verdict"] = NOTHING_COMPARED
            compared = "stdout and stderr" if comparison.with_stderr else "stdout"
            files = comparison.compare
            lines.append(
                f"{NOTHING_COMPARED}: the command left {compared} empty in all {runs} runs"
                + (f" and {', '.join(files)} empty" if files else "")
                + ", so equal runs prove nothing; add --stderr if it logs there, or "
                "--compare FILE for what it writes"
            )
            return NOTHING_COMPARED_STATUS
        bare = _unseeded_environment(environment_before_autoseed())
        unseeded = [
            run_once(command, bare, comparison, f"unseeded run {i} of 2", kept_as=f"unseeded-{i}")
            for i in (1, 2)
            if baseline
        ]
    except FileNotFoundError:
        warn(f"verify: command not found: {command[0]}")
        report["verdict"] = "command not found"
        return 1
    report["run_seconds"] = [round(outcome.seconds, 3) for outcome in outcomes + unseeded]
    if say_failures(outcomes + unseeded, lines):
        return 1
    difference = differences(outcomes)
    report["verdict"] = "reproducible" if difference is None else "not reproducible"
    report["difference"] = difference
    if difference is None:
        lines.append(f"reproducible ({runs} runs, {SEED_VARIABLE}={seed})")
    else:
        lines.append(f"not reproducible ({SEED_VARIABLE}={seed}): {difference}")
        if len(outcomes) < runs:
            lines.append(f"stopped after run {len(outcomes)} of {runs}: one difference decides")
    if unseeded:
        report["baseline_varies"] = varies = differences(unseeded) is not None
        lines.append(_baseline_line(difference is None, varies))
    if explain and difference is not None:
        from autoseed.verify import explain as explaining

        report.update(explaining.explain(command, env, comparison, seed, outcomes))
        lines.append(explaining.format_explanation(report))
    return 0 if difference is None else 1


def _baseline_line(repeats: bool, unseeded_varies: bool) -> str:
    """What two unseeded runs add to the verdict; never a contradiction of it."""
    if repeats and unseeded_varies:
        return "baseline: without a seed the output varies, so seeding is what fixes it"
    if repeats:
        return (
            "baseline: the same output without a seed too, so the verdict says little: "
            "the command does not depend on randomness, or seeds itself"
        )
    if unseeded_varies:
        return "baseline: without a seed the output varies too; the seed does not fix it"
    return (
        "baseline: 2 unseeded runs happened to agree, the seeded ones did not: what varies "
        "is not decided by the seed (the clock, another process, the scheduling)"
    )
