"""What a sweep's runs gave: per seed, and the spread (mean, standard deviation, min, max, a
95 % confidence interval of the mean). Reads the sweep's directory alone, so that it reports
runs made anywhere (another machine, a SLURM array)."""

from __future__ import annotations

import math
import re
import statistics
from typing import Any

from autoseed.sweep.folder import Sweep, SweepError, status_shown
from autoseed.verify.runs import without_own_lines

# Student's t, two-sided 95 %, for 1..30 degrees of freedom (beyond: an expansion around the
# normal quantile, within 0.001 of the exact value there).
T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z_975 = 1.959964
SHOWN_SEEDS = 10  # in a line naming seeds; the rest are counted


def t_975(degrees: int) -> float:
    if degrees <= len(T_975):
        return T_975[degrees - 1]
    z = Z_975
    return z + (z**3 + z) / (4 * degrees) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * degrees**2)


class Metric:
    """A ``--metric``: its name (the regex's named group, else the regex itself) and regex."""

    __slots__ = ("name", "expression")

    def __init__(self, name: str, expression: re.Pattern[str]) -> None:
        self.name = name
        self.expression = expression

    @property
    def pattern(self) -> str:
        return self.expression.pattern


def compile_metrics(patterns: list[str], source: str = "--metric") -> list[Metric]:
    """Each regex: exactly one group, the value; ``(?P<name>...)`` names the metric."""
    metrics: dict[str, Metric] = {}
    for pattern in patterns:
        try:
            expression = re.compile(pattern)
        except re.error as error:
            raise SweepError(f"{source} {pattern!r} is not a regular expression: {error}") from None
        if expression.groups != 1:
            raise SweepError(
                f"{source} {pattern!r} has {expression.groups} groups; it needs exactly one, "
                "around the value, e.g. 'accuracy: ([0-9.]+)' or 'accuracy: (?P<acc>[0-9.]+)'"
            )
        name = next(iter(expression.groupindex), pattern)
        if name in metrics:
            other = metrics[name].pattern
            said = "is given twice" if other == pattern else f"and {other!r} are both named"
            raise SweepError(f"{source} {pattern!r} {said} {name!r}; give each its own name")
        metrics[name] = Metric(name, expression)
    return list(metrics.values())


def spread(values: list[float]) -> dict[str, Any]:
    """n, mean, standard deviation, min, max and the 95 % interval of the mean of finite
    values (the exact mean of the statistics module: ``fmean`` overflows near 1e308)."""
    n = len(values)
    mean = float(statistics.mean(values)) if values else None
    std = statistics.stdev(values) if n > 1 else None
    half = t_975(n - 1) * std / math.sqrt(n) if std is not None else None
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "min": min(values, default=None),
        "max": max(values, default=None),
        "ci95": None if half is None or mean is None else [mean - half, mean + half],
    }


def build_report(sweep: Sweep, metrics: list[Metric]) -> dict[str, Any]:
    """Per seed: status, seconds, each metric's last match (in stdout, else in stderr); then
    each metric's spread over the finite values of the runs that succeeded. Failed runs are
    listed, never averaged; nan and inf, text that is not a number, and runs where nothing
    matched are counted apart, by seed.

    A run's value is a number when finite, else the text that matched (``"nan"``, ``"inf"``,
    ``"abc"``: JSON has no nan), else ``None``."""
    runs: list[dict[str, Any]] = []
    in_stderr: dict[str, list[int]] = {metric.name: [] for metric in metrics}
    for seed in sweep.seeds:
        finished = sweep.finished(seed)
        run: dict[str, Any] = {"seed": seed, "status": None, "seconds": None, "metrics": {}}
        if finished is not None:
            run["status"], run["seconds"] = finished.get("status"), finished.get("seconds")
            outputs = _outputs(sweep, seed) if metrics else {}
            for metric in metrics:
                text, where = _last_match(metric.expression, outputs)
                run["metrics"][metric.name] = None if text is None else _value(text)
                if where == "stderr":
                    in_stderr[metric.name].append(seed)
        runs.append(run)
    report: dict[str, Any] = {
        "command": sweep.command,
        "directory": str(sweep.directory),
        "keep_seeds": bool(sweep.record.get("keep_seeds")),
        "runs": runs,
        "failed": [run["seed"] for run in runs if run["status"] not in (0, None)],
        "not_run": [run["seed"] for run in runs if run["status"] is None],
        "metrics": {},
    }
    succeeded = [run for run in runs if run["status"] == 0]
    for metric in metrics:
        values = {run["seed"]: run["metrics"][metric.name] for run in succeeded}
        numbers = [value for value in values.values() if isinstance(value, float)]
        texts = {seed: value for seed, value in values.items() if isinstance(value, str)}
        not_finite = {seed: None for seed, text in texts.items() if _number(text) is not None}
        stats = spread(numbers)
        report["metrics"][metric.name] = {
            "pattern": metric.pattern,
            **stats,
            "not_finite": list(not_finite),
            "not_numbers": [seed for seed in texts if seed not in not_finite],
            "unmatched": [seed for seed, value in values.items() if value is None],
            "in_stderr": [seed for seed in in_stderr[metric.name] if seed in values],
            # Every seed the same value: the seed reached nothing this metric depends on.
            "constant": stats["n"] > 1 and stats["min"] == stats["max"] and not texts,
        }
    constant = [stats["constant"] for stats in report["metrics"].values()]
    report["measured_nothing"] = bool(constant) and all(constant)
    return report


def _outputs(sweep: Sweep, seed: int) -> dict[str, str]:
    """The run's stdout, and its stderr without autoseed's own lines."""
    folder = sweep.run_directory(seed)
    outputs = {}
    for name in ("stdout", "stderr"):
        try:
            data = (folder / name).read_bytes()
        except OSError:
            data = b""
        outputs[name] = (without_own_lines(data) if name == "stderr" else data).decode(
            errors="replace"
        )
    return outputs


def _last_match(expression: re.Pattern[str], outputs: dict[str, str]) -> tuple[str | None, str]:
    """The last match's group in stdout, else in stderr (where logging and tqdm write)."""
    for where, text in outputs.items():
        found = expression.findall(text)
        if found:
            return found[-1], where
    return None, ""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _value(text: str) -> float | str:
    """A finite number as a number; anything else as the text that matched."""
    number = _number(text)
    return number if number is not None and math.isfinite(number) else text


def _shown(value: float | str | None) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else f"{value:.6g}"


def status_cell(status: int | None) -> str:
    if status is None:
        return "not run"
    return "ok" if status == 0 else ("exit " + str(status) if status > 0 else status_shown(status))


def format_report(report: dict[str, Any]) -> str:
    """The table on stdout: one row per seed, then one per metric."""
    names = list(report["metrics"])
    rows = [["seed", "status", "seconds", *names]]
    for run in report["runs"]:
        seconds = "-" if run["seconds"] is None else f"{run['seconds']:.1f}"
        values = [_shown(run["metrics"].get(name)) for name in names]
        rows.append([str(run["seed"]), status_cell(run["status"]), seconds, *values])
    lines = _aligned(rows)
    if names:
        lines.append("")
        summary = [["metric", "n", "mean", "std", "min", "max", "95% CI of the mean", "nan/inf"]]
        for name in names:
            stats = report["metrics"][name]
            interval = stats["ci95"]
            shown = "-" if interval is None else f"[{interval[0]:.6g}, {interval[1]:.6g}]"
            summary.append([
                name, str(stats["n"]), _shown(stats["mean"]), _shown(stats["std"]),
                _shown(stats["min"]), _shown(stats["max"]), shown, str(len(stats["not_finite"])),
            ])  # fmt: skip
        lines.extend(_aligned(summary))
        lines.extend(
            f"{name}: {stats['pattern']}"
            for name, stats in report["metrics"].items()
            if name != stats["pattern"]
        )
    if report["failed"]:
        lines.append(f"failed (not averaged): seeds {_seeds(report['failed'])}; see their stderr")
    if report["not_run"]:
        lines.append(f"not run yet: seeds {_seeds(report['not_run'])}")
    return "\n".join(lines)


def report_notes(report: dict[str, Any]) -> list[str]:
    """What the user must know beside the table, one line each (for stderr, so that ``--json``
    shows them too)."""
    notes = []
    for name, stats in report["metrics"].items():
        values = {run["seed"]: run["metrics"].get(name) for run in report["runs"]}
        if stats["not_finite"]:
            seen = _by_seed(stats["not_finite"], values)
            count = len(stats["not_finite"])
            notes.append(
                f"metric '{name}' was not finite in {count} run{'s' * (count != 1)} ({seen}); "
                f"its statistics are of the {stats['n']} finite values"
            )
        if stats["not_numbers"]:
            seen = _by_seed(stats["not_numbers"], values, quoted=True)
            notes.append(
                f"metric '{name}' matched text that is not a number ({seen}); its regex's group "
                "must hold the number alone"
            )
        if stats["unmatched"]:
            notes.append(
                f"metric '{name}' matched nothing in the stdout or stderr of seeds "
                f"{_seeds(stats['unmatched'])}"
            )
        if stats["in_stderr"]:
            notes.append(
                f"metric '{name}' was read from stderr (nothing matched in stdout) in seeds "
                f"{_seeds(stats['in_stderr'])}"
            )
    constant = {name: stats for name, stats in report["metrics"].items() if stats["constant"]}
    same = ", ".join(f"{_shown(stats['min'])} for '{name}'" for name, stats in constant.items())
    if report["measured_nothing"]:
        cause = (
            "--keep-seeds left the script's own seeds in charge of every run"
            if report["keep_seeds"]
            else "the script seeds something AUTOSEED_OVERRIDE cannot reach (a torch.Generator "
            "seeded by hand, a library that seeds itself), the command's interpreter has no "
            "autoseed, or the result does not depend on the seed"
        )
        notes.append(f"the sweep measured nothing: every seed gave {same}; likely cause: {cause}")
    elif constant:
        notes.append(f"every seed gave {same} (the other metrics vary)")
    return notes


def exit_status(report: dict[str, Any]) -> int:
    """1: a run failed or is not run, or a metric gave no number; 3: every seed gave the same
    values (nothing measured); else 0. nan and inf are results, reported, not failures."""
    unread = any(stats["unmatched"] or stats["not_numbers"] for stats in report["metrics"].values())
    if report["failed"] or report["not_run"] or unread:
        return 1
    return 3 if report["measured_nothing"] else 0


def _by_seed(seeds: list[int], values: dict[int, Any], quoted: bool = False) -> str:
    shown = [f"seed {seed}: {values[seed]!r}" if quoted else f"seed {seed}: {values[seed]}"
             for seed in seeds[:SHOWN_SEEDS]]  # fmt: skip
    return ", ".join(shown) + _more(seeds)


def _seeds(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds[:SHOWN_SEEDS])) + _more(seeds)


def _more(seeds: list[int]) -> str:
    return f" and {len(seeds) - SHOWN_SEEDS} more" if len(seeds) > SHOWN_SEEDS else ""


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def plot(report: dict[str, Any], path: str) -> None:
    """The per-seed values of each metric, one panel each (matplotlib, where installed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    names = list(report["metrics"])
    figure, axes = pyplot.subplots(len(names), 1, figsize=(6, 2.5 * len(names)), squeeze=False)
    for axis, name in zip(axes[:, 0], names, strict=True):
        points = [(run["seed"], run["metrics"].get(name)) for run in report["runs"]]
        shown = [(str(seed), value) for seed, value in points if isinstance(value, float)]
        axis.plot([seed for seed, _ in shown], [value for _, value in shown], "o")
        stats = report["metrics"][name]
        if stats["mean"] is not None:
            axis.axhline(stats["mean"], linestyle="--")
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("seed")
    figure.tight_layout()
    figure.savefig(path)
