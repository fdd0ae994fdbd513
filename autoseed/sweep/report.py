"""What a sweep's runs gave: per seed, and the spread (mean, standard deviation, min, max, a
95 % confidence interval of the mean). Reads the sweep's directory alone, so that it reports
runs made anywhere (another machine, a SLURM array)."""

from __future__ import annotations

import math
import re
import statistics
from typing import Any

from autoseed.sweep.folder import Sweep, SweepError

# Student's t, two-sided 95 %, for 1..30 degrees of freedom (beyond: an expansion around the
# normal quantile, within 0.001 of the exact value there).
T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z_975 = 1.959964


def t_975(degrees: int) -> float:
    if degrees <= len(T_975):
        return T_975[degrees - 1]
    z = Z_975
    return z + (z**3 + z) / (4 * degrees) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * degrees**2)


def compile_metrics(patterns: list[str]) -> list[re.Pattern[str]]:
    """Each ``--metric``: a regular expression with exactly one group, the value."""
    compiled = []
    for pattern in patterns:
        try:
            expression = re.compile(pattern)
        except re.error as error:
            raise SweepError(f"--metric {pattern!r} is not a regular expression: {error}") from None
        if expression.groups != 1:
            raise SweepError(
                f"--metric {pattern!r} has {expression.groups} groups; it needs exactly one, "
                "around the value, e.g. 'accuracy: ([0-9.]+)'"
            )
        compiled.append(expression)
    return compiled


def spread(values: list[float]) -> dict[str, Any]:
    n = len(values)
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if n > 1 else None
    half = t_975(n - 1) * std / math.sqrt(n) if std is not None else None
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "min": min(values),
        "max": max(values),
        "ci95": None if half is None else [mean - half, mean + half],
    }


def build_report(sweep: Sweep, patterns: list[str]) -> dict[str, Any]:
    """Per seed: status, seconds, each metric's last match; then each metric's spread over
    the runs that succeeded. Failed runs are listed, never averaged."""
    metrics = compile_metrics(patterns)
    runs: list[dict[str, Any]] = []
    for seed in sweep.seeds:
        finished = sweep.finished(seed)
        run: dict[str, Any] = {"seed": seed, "status": None, "seconds": None, "metrics": {}}
        if finished is not None:
            run["status"], run["seconds"] = finished.get("status"), finished.get("seconds")
            stdout = _read(sweep, seed)
            for expression in metrics:
                found = expression.findall(stdout)
                run["metrics"][expression.pattern] = _number(found[-1]) if found else None
        runs.append(run)
    report: dict[str, Any] = {
        "command": sweep.command,
        "directory": str(sweep.directory),
        "keep_seeds": sweep.record["keep_seeds"],
        "runs": runs,
        "failed": [run["seed"] for run in runs if run["status"] not in (0, None)],
        "not_run": [run["seed"] for run in runs if run["status"] is None],
        "metrics": {},
        "unmatched": {},
    }
    succeeded = [run for run in runs if run["status"] == 0]
    for expression in metrics:
        pattern = expression.pattern
        values = [run["metrics"][pattern] for run in succeeded]
        missing = [
            run["seed"] for run, value in zip(succeeded, values, strict=True) if value is None
        ]
        if missing:
            report["unmatched"][pattern] = missing
        numbers = [value for value in values if value is not None]
        report["metrics"][pattern] = spread(numbers) if numbers else None
    return report


def _read(sweep: Sweep, seed: int) -> str:
    try:
        return (sweep.run_directory(seed) / "stdout").read_text(errors="replace")
    except OSError:
        return ""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def format_report(report: dict[str, Any]) -> str:
    """The table on stdout: one row per seed, then one per metric."""
    patterns = list(report["metrics"])
    names = [f"metric {i}" for i in range(1, len(patterns) + 1)]
    rows = [["seed", "status", "seconds", *names]]
    for run in report["runs"]:
        status = run["status"]
        shown_status = "not run" if status is None else ("ok" if status == 0 else f"exit {status}")
        seconds = "-" if run["seconds"] is None else f"{run['seconds']:.1f}"
        values = [_shown(run["metrics"].get(pattern)) for pattern in patterns]
        rows.append([str(run["seed"]), shown_status, seconds, *values])
    lines = _aligned(rows)
    if patterns:
        lines.append("")
        summary = [["metric", "n", "mean", "std", "min", "max", "95% CI of the mean"]]
        for name, pattern in zip(names, patterns, strict=True):
            stats = report["metrics"][pattern]
            if stats is None:
                summary.append([name, "0", "-", "-", "-", "-", "-"])
                continue
            interval = stats["ci95"]
            shown = "-" if interval is None else f"[{interval[0]:.6g}, {interval[1]:.6g}]"
            summary.append([
                name, str(stats["n"]), _shown(stats["mean"]), _shown(stats["std"]),
                _shown(stats["min"]), _shown(stats["max"]), shown,
            ])  # fmt: skip
        lines.extend(_aligned(summary))
        lines.extend(f"{name}: {pattern}" for name, pattern in zip(names, patterns, strict=True))
    if report["failed"]:
        lines.append(f"failed (not averaged): seeds {_seeds(report['failed'])}; see their stderr")
    if report["not_run"]:
        lines.append(f"not run yet: seeds {_seeds(report['not_run'])}")
    return "\n".join(lines)


def _seeds(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds))


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def plot(report: dict[str, Any], path: str) -> None:
    """The per-seed values of each metric, one panel each (matplotlib, where installed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    patterns = list(report["metrics"])
    figure, axes = pyplot.subplots(
        len(patterns), 1, figsize=(6, 2.5 * len(patterns)), squeeze=False
    )
    for axis, pattern in zip(axes[:, 0], patterns, strict=True):
        points = [(run["seed"], run["metrics"].get(pattern)) for run in report["runs"]]
        shown = [(str(seed), value) for seed, value in points if value is not None]
        axis.plot([seed for seed, _ in shown], [value for _, value in shown], "o")
        stats = report["metrics"][pattern]
        if stats is not None:
            axis.axhline(stats["mean"], linestyle="--")
        axis.set_title(pattern, fontsize=9)
        axis.set_xlabel("seed")
    figure.tight_layout()
    figure.savefig(path)
