"""`autoseed verify`'s comfort for real logs and real waits, through the installed command:
``--ignore``, ``--keep``, the stop at the first differing run, and the live elapsed time on a
terminal (a real pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
from pathlib import Path

import pytest

from conftest import NEUTRAL_DIRECTORY, Venv, clean_env, describe, verify_script, write_script

pytestmark = pytest.mark.slow

# A log line as logging's basicConfig writes it with the time: "2026-11-30 12:01:02,345 ..."
TIMED_LOG = (
    "import logging, random\n"
    "logging.basicConfig(format='%(asctime)s %(levelname)s %(message)s', level=logging.INFO)\n"
    "logging.info('loss %s', random.random())\n"
)
LOG_TIME = "^[0-9-]+ [0-9:,]+ "
VARIES = "import os\nprint('loss', os.urandom(8).hex())\n"


def test_ignore_leaves_the_log_times_out_of_the_comparison(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "logs.py", TIMED_LOG)
    # Each run starts in a later second than the last one ended: the times always differ.
    timed = verify_script(installed, script, "--stderr")
    assert timed.returncode == 1 and "stderr differs" in timed.stdout, describe(timed)
    ignored = verify_script(installed, script, "--stderr", "--ignore", LOG_TIME)
    assert ignored.returncode == 0, describe(ignored)
    assert ignored.stdout.startswith("reproducible (2 runs"), describe(ignored)
    # What is left of each line is still compared.
    by_pid = TIMED_LOG.replace("random.random()", "__import__('os').getpid()")
    unseeded = write_script(tmp_path, "unseeded.py", by_pid)
    differs = verify_script(installed, unseeded, "--stderr", "--ignore", LOG_TIME)
    assert differs.returncode == 1, describe(differs)
    assert "INFO loss" in differs.stdout and "stderr differs" in differs.stdout, describe(differs)


def test_ignore_drops_a_line_nothing_is_left_of(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "progress.py", (
        "import os, random\n"
        "for _ in range(os.urandom(1)[0] % 3 + 1):\n"
        "    print('waited', os.urandom(2).hex(), 'ms')\n"
        "print('result', random.random())\n"
    ))  # fmt: skip
    result = verify_script(installed, script, "--runs", "3", "--ignore", "^waited .* ms$")
    assert result.returncode == 0, describe(result)


def test_a_bad_ignore_pattern_is_a_usage_error(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "fine.py", "print(1)\n")
    result = verify_script(installed, script, "--ignore", "(")
    assert (result.returncode, result.stdout) == (2, ""), describe(result)
    assert "--ignore '(': not a regular expression (missing ), unterminated subpattern" in (
        result.stderr
    ), describe(result)
    assert "verify: run" not in result.stderr, "nothing was run"


def test_keep_leaves_every_runs_outputs_to_look_at(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "varies.py", VARIES + "import sys\nsys.stderr.write('x\\n')\n")
    kept = tmp_path / "kept"
    result = verify_script(installed, script, "--keep", str(kept), "--explain")
    assert result.returncode == 1, describe(result)
    assert f"kept: every run's stdout, stderr and compared files in {kept}" in result.stdout
    first, second = (kept / f"run-{i}" / "stdout" for i in (1, 2))
    assert first.read_text().startswith("loss ") and first.read_text() != second.read_text()
    assert (kept / "run-1" / "stderr").read_text().endswith("x\n")
    # The traced runs keep their outputs, and what they recorded.
    assert (kept / "traced-1" / "stdout").read_text().startswith("loss ")
    assert any(path.suffix == ".reads" for path in (kept / "traced-1" / "record").iterdir())
    again = verify_script(installed, script, "--keep", str(kept))
    assert (again.returncode, again.stdout) == (2, ""), describe(again)
    assert f"--keep {kept}: not empty; give a new or empty folder" in again.stderr


def test_the_runs_stop_at_the_first_that_differs(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "varies.py", VARIES)
    result = verify_script(installed, script, "--runs", "5")
    assert result.returncode == 1, describe(result)
    assert "run 2 of 5" in result.stderr and "run 3 of 5" not in result.stderr, describe(result)
    assert "stopped after run 2 of 5: one difference decides" in result.stdout


def test_a_terminal_sees_the_elapsed_time_of_the_running_command(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "slow.py", "import time\ntime.sleep(2.5)\nprint(1)\n")
    controller, terminal = pty.openpty()
    verify = subprocess.Popen(
        [str(installed.bin / "autoseed"), "verify", "--seed", "5", "--",
         str(installed.python), str(script)],
        env=clean_env(), cwd=NEUTRAL_DIRECTORY, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        try:
            chunk = os.read(controller, 4096) if ready else b""
        except OSError:  # the terminal's other end closed: the command has ended
            chunk = b""
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    out = verify.communicate(timeout=60)[0].decode()
    assert verify.returncode == 0 and out.startswith("reproducible"), (out, seen)
    text = seen.decode()
    label = re.escape("autoseed: verify: run 1 of 2 (AUTOSEED=5)...")
    ticks = [int(second) for second in re.findall(f"\r{label} ([0-9]+)s(?![0-9.])", text)]
    assert ticks and ticks == sorted(ticks) and ticks[0] >= 1, repr(text)
    assert re.search(f"\r{label} [0-9]+\\.[0-9]s\r?\n", text), repr(text)  # the run's time
