"""`autoseed sweep`'s report says what the runs gave, whatever they print: nan and inf, text that
is not a number, a metric on stderr, the same value from every seed; metrics by name, and the
regexes kept with the sweep. Through the installed command and real scripts."""

from __future__ import annotations

import json
import statistics
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import Venv, clean_env, describe, run

pytestmark = pytest.mark.slow

# A run that diverges prints nan or inf where the others print a loss.
DIVERGING = """
import os, random
random.seed(0)
seed = int(os.environ["AUTOSEED"])
loss = {1: float("nan"), 2: float("inf")}.get(seed, random.random())
print(f"loss {loss}")
"""
LOSS = r"loss (\S+)"
# A legacy script with a hard-coded seed, which AUTOSEED_OVERRIDE makes follow each seed.
TRAIN = """
import random
random.seed(0)
print("loss", random.random())
print("accuracy:", random.random())
"""


def sweep(venv: Venv, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run([str(venv.bin / "autoseed"), "sweep", *args], env=clean_env(), cwd=cwd,
                 timeout=600)  # fmt: skip
    assert "Traceback" not in result.stderr, describe(result)
    return result


def strict_json(text: str) -> Any:
    """JSON as other tools read it: no NaN or Infinity."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_nan_and_inf_are_reported_apart_and_the_finite_values_summarised(
    installed: Venv, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(DIVERGING)
    python = ["--", str(installed.python), "train.py"]
    table = sweep(installed, tmp_path, "0-3", "--out", "runs", "--metric", LOSS, *python)
    assert table.returncode == 0, describe(table)
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines() if line}
    assert rows["1"][3] == "nan" and rows["2"][3] == "inf", describe(table)
    said = f"metric '{LOSS}' was not finite in 2 runs (seed 1: nan, seed 2: inf)"
    assert said in table.stderr, describe(table)

    finite = [float((tmp_path / "runs" / f"seed-{s}" / "stdout").read_text().split()[1])
              for s in (0, 3)]  # fmt: skip
    for as_json in (
        sweep(installed, tmp_path, "0-3", "--out", "runs", "--json", *python),
        sweep(installed, tmp_path, "--report", "runs", "--metric", LOSS, "--json"),
    ):
        assert as_json.returncode == 0, describe(as_json)
        report = strict_json(as_json.stdout)
        by_seed = {run["seed"]: run["metrics"][LOSS] for run in report["runs"]}
        assert by_seed == {0: finite[0], 1: "nan", 2: "inf", 3: finite[1]}
        stats = report["metrics"][LOSS]
        assert stats["n"] == 2 and stats["not_finite"] == [1, 2], stats
        assert stats["mean"] == pytest.approx(statistics.fmean(finite))
        assert stats["std"] == pytest.approx(statistics.stdev(finite))
    again = sweep(installed, tmp_path, "--report", "runs")
    assert again.returncode == 0 and "nan" in again.stdout, describe(again)


def test_a_match_that_is_not_a_number_says_what_matched(installed: Venv, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import os\nprint(f\"accuracy: {0.5 + int(os.environ['AUTOSEED']) / 100:.2%}\")\n"
    )
    result = sweep(installed, tmp_path, "0-1", "--metric", r"accuracy: (\S+)",
                   "--", str(installed.python), "train.py")  # fmt: skip
    assert result.returncode == 1, describe(result)
    said = r"metric 'accuracy: (\S+)' matched text that is not a number (seed 0: '50.00%', seed 1"
    assert said in result.stderr and "matched nothing" not in result.stderr, describe(result)
    assert "50.00%" in result.stdout, "the table shows what matched"


def test_the_same_value_from_every_seed_is_one_line_and_fails(
    installed: Venv, tmp_path: Path
) -> None:
    """A torch.Generator seeded by hand is beyond AUTOSEED_OVERRIDE: every seed gives the same
    value, and the sweep measured nothing."""
    (tmp_path / "train.py").write_text(
        "import torch\ngenerator = torch.Generator().manual_seed(42)\n"
        "print('loss', round(torch.rand(1, generator=generator).item(), 6))\n"
    )
    result = sweep(installed, tmp_path, "0-2", "--metric", r"loss (?P<loss>[0-9.]+)",
                   "--", str(installed.python), "train.py")  # fmt: skip
    assert result.returncode == 3, describe(result)
    (line,) = [line for line in result.stderr.splitlines() if "measured nothing" in line]
    assert "every seed gave" in line and "for 'loss'" in line, line
    assert "likely cause: the script seeds something AUTOSEED_OVERRIDE cannot reach" in line


def test_metrics_are_named_by_their_group_else_by_their_regex(
    installed: Venv, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    accuracy = r"accuracy: ([0-9.]+)"
    python = ["--", str(installed.python), "train.py"]
    table = sweep(installed, tmp_path, "0-1", "--metric", r"loss (?P<loss>\S+)",
                  "--metric", accuracy, *python)  # fmt: skip
    assert table.returncode == 0, describe(table)
    header = table.stdout.splitlines()[0].split("  ")
    assert [cell.strip() for cell in header if cell.strip()][-2:] == ["loss", accuracy]
    assert "metric 1" not in table.stdout, describe(table)
    assert r"loss: loss (?P<loss>\S+)" in table.stdout, "a named metric's regex is shown"
    twice = sweep(installed, tmp_path, "0-1", "--metric", r"loss (?P<loss>\S+)",
                  "--metric", r"val_loss (?P<loss>\S+)", *python)  # fmt: skip
    assert twice.returncode == 2, describe(twice)
    assert "are both named 'loss'; give each its own name" in twice.stderr, describe(twice)


def test_the_regexes_are_recorded_and_the_report_reuses_them(
    installed: Venv, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    python = ["--", str(installed.python), "train.py"]
    metric = r"loss (?P<loss>[0-9.]+)"
    swept = sweep(installed, tmp_path, "0-2", "--out", "runs", "--metric", metric, "--json",
                  *python)  # fmt: skip
    assert swept.returncode == 0, describe(swept)
    assert json.loads((tmp_path / "runs" / "folder.json").read_text())["metrics"] == [metric]
    reported = sweep(installed, tmp_path, "--report", "runs", "--json")
    assert reported.returncode == 0, describe(reported)
    assert strict_json(reported.stdout)["metrics"] == strict_json(swept.stdout)["metrics"]
    assert strict_json(reported.stdout)["metrics"]["loss"]["n"] == 3
    resumed = sweep(installed, tmp_path, "0-3", "--out", "runs", "--json", *python)
    assert strict_json(resumed.stdout)["metrics"]["loss"]["n"] == 4, describe(resumed)


def test_a_metric_logged_to_stderr_is_read_and_said(installed: Venv, tmp_path: Path) -> None:
    """logging writes to stderr by default, as tqdm does."""
    (tmp_path / "train.py").write_text(
        "import logging, random\nlogging.basicConfig(level=logging.INFO)\nrandom.seed(3)\n"
        "logging.info('val_loss=%.6f', random.random())\n"
    )
    result = sweep(installed, tmp_path, "0-2", "--out", "runs", "--json",
                   "--metric", r"val_loss=(?P<val_loss>[0-9.]+)",
                   "--", str(installed.python), "train.py")  # fmt: skip
    assert result.returncode == 0, describe(result)
    stats = strict_json(result.stdout)["metrics"]["val_loss"]
    logged = [float((tmp_path / "runs" / f"seed-{s}" / "stderr").read_text().split("=")[-1])
              for s in range(3)]  # fmt: skip
    assert stats["n"] == 3 and stats["mean"] == pytest.approx(statistics.fmean(logged))
    assert stats["in_stderr"] == [0, 1, 2], stats
    assert "metric 'val_loss' was read from stderr" in result.stderr, describe(result)
