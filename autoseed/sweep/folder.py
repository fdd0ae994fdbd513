"""``autoseed sweep``: one untouched command under many seeds, and the spread of its result.

Each seed runs the command with ``AUTOSEED=s`` and ``AUTOSEED_OVERRIDE=1`` (the script's own
literal seeds follow it; ``--keep-seeds`` leaves them in charge), and keeps its stdout, stderr,
exit status and wall time in a folder of its own under the sweep's directory::

    DIR/folder.json          the command, its working directory, the seeds, the mode
    DIR/seed-<s>/stdout     what the run printed
    DIR/seed-<s>/stderr
    DIR/seed-<s>/run.json   exit status, seconds, backend, host

A seed whose ``run.json`` says it succeeded is done; running the same sweep into the same
directory again runs only the others. The runs themselves go to a backend: local processes
(``sweep_local``) or a Ray cluster (``sweep_ray``, imported only when chosen). The report
(``sweep_report``) reads the directory alone, wherever its runs were made.
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autoseed.names import seed_number
from autoseed.settings.plan import MAX_SEED, OVERRIDE_VARIABLE, SEED_VARIABLE

SWEEP_FILE = "folder.json"
RUN_FILE = "run.json"
SEEDS_ACCEPTS = "seeds like 0-9, 1,5,7 or 0-3,10 (integers 0..4294967295)"
MOST_SEEDS = 100_000


class SweepError(Exception):
    """Bad input to a sweep: one line, said as it is."""


def parse_seeds(text: str) -> list[int]:
    """``0-9``, ``1,5,7``, ``0-3,10``: the seeds in the order given, each once."""
    seeds: dict[int, None] = {}  # in order, each once (a list's `in` made 0-99999 quadratic)
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        first = seed_number(low.strip())
        last = seed_number(high.strip()) if dash else first
        if first is None or last is None:
            raise SweepError(f"SEEDS {text!r} is not valid; expected {SEEDS_ACCEPTS}")
        if last < first or last - first >= MOST_SEEDS:
            raise SweepError(
                f"SEEDS {text!r}: the range {part.strip()!r} is empty or longer than {MOST_SEEDS}"
            )
        seeds.update(dict.fromkeys(range(first, last + 1)))
    return list(seeds)


def draw_seeds(count: int) -> list[int]:
    """``count`` distinct seeds drawn from the OS (recorded in the sweep's file)."""
    if not 1 <= count <= MOST_SEEDS:
        raise SweepError(f"--count {count} is not valid; expected 1..{MOST_SEEDS}")
    return random.SystemRandom().sample(range(MAX_SEED + 1), count)


class Sweep:
    """A sweep's directory and what it records."""

    def __init__(self, directory: Path, record: dict[str, Any]) -> None:
        self.directory = directory
        self.record = record

    @property
    def command(self) -> list[str]:
        return list(self.record["command"])

    @property
    def seeds(self) -> list[int]:
        return list(self.record["seeds"])

    def run_directory(self, seed: int) -> Path:
        return self.directory / f"seed-{seed}"

    def finished(self, seed: int) -> dict[str, Any] | None:
        """What a finished run of ``seed`` recorded, or ``None`` (not run, or interrupted)."""
        try:
            result: dict[str, Any] = json.loads((self.run_directory(seed) / RUN_FILE).read_text())
        except (OSError, ValueError):
            return None
        return result

    def to_run(self) -> list[int]:
        """The seeds without a successful run: never run, interrupted, or failed."""
        return [seed for seed in self.seeds if (self.finished(seed) or {}).get("status") != 0]

    def environment(self, seed: int, base: Mapping[str, str]) -> dict[str, str]:
        """The environment of the run for ``seed``: the user's, plus the seed (and the switch
        that makes the script's own seeds follow it, unless they are kept)."""
        override = "0" if self.record["keep_seeds"] else "1"
        return {**base, SEED_VARIABLE: str(seed), OVERRIDE_VARIABLE: override}

    def save_run(self, seed: int, result: dict[str, Any]) -> None:
        path = self.run_directory(seed) / RUN_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"seed": seed, **result}, indent=2) + "\n")
        os.replace(temporary, path)  # a run is finished only once its record is whole


def open_sweep(
    directory: Path, command: list[str], seeds: list[int] | None, count: int | None, keep: bool
) -> Sweep:
    """Create the sweep's directory, or take up the same sweep where it stopped; refuse a
    directory that holds another command's sweep (its results would be mixed up)."""
    path = directory / SWEEP_FILE
    record: dict[str, Any] | None = None
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as error:
        raise SweepError(f"{path} is not a sweep's record ({error})") from None
    cwd = os.getcwd()
    if record is not None:
        if record.get("command") != command or record.get("cwd") != cwd:
            raise SweepError(
                f"{directory} holds the sweep of another command ({_shown(record)}); give "
                "another --out, or remove it"
            )
        if record.get("keep_seeds") != keep:
            held = "kept its own seeds" if record.get("keep_seeds") else "overrode its seeds"
            raise SweepError(f"{directory} holds this sweep run as it {held}; give another --out")
        if count is not None and seeds is None:
            if record.get("drawn") and len(record["seeds"]) == count:
                return Sweep(directory, record)  # the same drawn seeds, taken up again
            raise SweepError(f"{directory} holds a sweep over other seeds; give another --out")
        new = [seed for seed in seeds or [] if seed not in record["seeds"]]
        record["seeds"] = [*record["seeds"], *new]
    else:
        drawn = seeds is None
        record = {
            "command": command,
            "cwd": cwd,
            "keep_seeds": keep,
            "seeds": draw_seeds(count or 0) if drawn else seeds,
            "drawn": drawn,
        }
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return Sweep(directory, record)


def load_sweep(directory: Path) -> Sweep:
    try:
        return Sweep(directory, json.loads((directory / SWEEP_FILE).read_text()))
    except FileNotFoundError:
        raise SweepError(f"{directory} holds no sweep ({SWEEP_FILE} is missing)") from None
    except (OSError, ValueError) as error:
        raise SweepError(f"{directory / SWEEP_FILE} is not a sweep's record ({error})") from None


def _shown(record: dict[str, Any]) -> str:
    return " ".join(map(str, record.get("command", [])))[:80]


class Progress:
    """One line on stderr, redrawn in a terminal, else a line per finished run."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.live = sys.stderr is not None and sys.stderr.isatty()

    def finished(self, seed: int, status: int, seconds: float) -> None:
        self.done += 1
        self.failed += status != 0
        if sys.stderr is None:
            return
        width = 20
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        failed = f", {self.failed} failed" if self.failed else ""
        line = f"autoseed: sweep [{bar}] {self.done}/{self.total}{failed}"
        if self.live:
            sys.stderr.write(f"\r{line}" + ("\n" if self.done == self.total else ""))
        else:
            how = "ok" if status == 0 else f"exit status {status}"
            sys.stderr.write(f"{line} (seed {seed}: {how}, {seconds:.1f}s)\n")
        sys.stderr.flush()
