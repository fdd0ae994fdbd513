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
(``local.py``) or a Ray cluster (``ray.py``, imported only when chosen). The report
(``report.py``) reads the directory alone, wherever its runs were made.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
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


def parse_seeds(text: str) -> tuple[list[int], list[int]]:
    """``0-9``, ``1,5,7``, ``0-3,10``: the seeds in the order given, each once, and the seeds
    given more than once (``1,1``, ``0-3,2``), which the caller tells."""
    seeds: dict[int, None] = {}  # in order, each once (a list's `in` made 0-99999 quadratic)
    repeated: dict[int, None] = {}
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
        span = range(first, last + 1)
        repeated.update(dict.fromkeys(seed for seed in span if seed in seeds))
        seeds.update(dict.fromkeys(span))
    return list(seeds), list(repeated)


def repeated_seeds_line(text: str, repeated: list[int]) -> str:
    """One line saying which seeds ``text`` gives more than once (each runs once)."""
    shown = ", ".join(map(str, repeated[:5]))
    if len(repeated) > 5:
        shown += f" and {len(repeated) - 5} more"
    which = f"seed {shown}" if len(repeated) == 1 else f"seeds {shown}"
    return f"SEEDS {text!r} gives {which} more than once; each seed runs once"


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

    @property
    def metrics(self) -> list[str]:
        """The ``--metric`` regexes the sweep was last run with (none in an older record)."""
        return list(self.record.get("metrics") or [])

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
        """Record a finished run. A run ended by SIGINT was interrupted, not finished (Ctrl-C
        in a terminal reaches the process group, the runs as well as the sweep): no record,
        so that it runs again when the sweep is taken up."""
        if result["status"] == -signal.SIGINT:
            return
        path = self.run_directory(seed) / RUN_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"seed": seed, **result}, indent=2) + "\n")
        os.replace(temporary, path)  # a run is finished only once its record is whole


def open_sweep(
    directory: Path,
    command: list[str],
    seeds: list[int] | None,
    count: int | None,
    keep: bool,
    metrics: list[str],
) -> Sweep:
    """Create the sweep's directory, or take up the same sweep where it stopped; refuse a
    directory that holds another command's sweep (its results would be mixed up). ``metrics``
    given replace the recorded ones (they change the report, not the runs); none keeps them."""
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
        # The same drawn seeds may be taken up again; other drawn seeds may not.
        same_draw = record.get("drawn") and len(record["seeds"]) == count
        if count is not None and seeds is None and not same_draw:
            raise SweepError(f"{directory} holds a sweep over other seeds; give another --out")
        recorded = set(record["seeds"])
        new = [seed for seed in seeds or [] if seed not in recorded]
        record["seeds"] = [*record["seeds"], *new]
        record["metrics"] = metrics or record.get("metrics") or []
    else:
        drawn = seeds is None
        record = {
            "command": command,
            "cwd": cwd,
            "keep_seeds": keep,
            "seeds": draw_seeds(count or 0) if drawn else seeds,
            "drawn": drawn,
            "metrics": metrics,
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
    """One line on stderr from the sweep's start: runs started, finished, failed, and the time
    elapsed. In a terminal the line is redrawn (each second too, so that a long first run still
    shows the clock move); elsewhere (a log file) a line when the first runs have started, then
    one per finished run."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = 0
        self.announced = False
        self.done = 0
        self.failed = 0
        self.began = time.monotonic()
        self.live = sys.stderr is not None and sys.stderr.isatty()

    def run_started(self) -> None:
        self.started += 1
        if self.live:
            self._write("")

    def all_started(self) -> None:
        """The first runs are started: the first line, before any of them ends."""
        if not self.live and not self.announced:
            self._write("\n")
        self.announced = True

    def finished(self, seed: int, status: int, seconds: float) -> None:
        self.done += 1
        self.failed += status != 0
        if self.live:
            self._write("\n" if self.done == self.total else "")
        else:
            self._write(f" (seed {seed}: {status_shown(status)}, {seconds:.1f}s)\n")

    def close(self) -> None:
        """End a redrawn line that the sweep left unfinished (Ctrl-C), before the next line."""
        if self.live and self.started and self.done < self.total:
            self._write("\n")

    def tick(self) -> None:
        """A second has passed with no run starting or ending."""
        if self.live:
            self._write("")

    def _write(self, end: str) -> None:
        if sys.stderr is None or self.total == 0:
            return
        width = 20
        filled = width * self.done // self.total
        bar = "#" * filled + "-" * (width - filled)
        elapsed = _clock(time.monotonic() - self.began)
        line = (
            f"autoseed: sweep [{bar}] {self.done}/{self.total} finished, {self.started} started, "
            f"{self.failed} failed, {elapsed} elapsed"
        )
        try:
            sys.stderr.write(f"\r\x1b[K{line}{end}" if self.live else f"{line}{end}")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # a closed stderr must not stop the sweep


def status_shown(status: int) -> str:
    """``ok``, ``exit status 3``, or the signal that ended the run (``SIGKILL``)."""
    if status == 0:
        return "ok"
    if status < 0:
        try:
            return f"ended by {signal.Signals(-status).name}"
        except ValueError:
            return f"ended by signal {-status}"
    return f"exit status {status}"


def _clock(seconds: float) -> str:
    minutes, whole = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{whole:02d}" if hours else f"{minutes}:{whole:02d}"
