"""`autoseed verify` gives no verdict without evidence, through the installed command on small
scripts written here: empty output, clock seeds, interleaved lines, the seed-call ledger."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import Venv, describe, verify_script, write_script

pytestmark = pytest.mark.slow

NOTHING_COMPARED = 3


def test_a_script_that_logs_to_stderr_gets_no_verdict_unless_stderr_is_compared(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "logs.py", (
        "import logging, random\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "logging.info('loss %s', random.random())\n"
    ))  # fmt: skip
    silent = verify_script(installed, script)
    assert silent.returncode == NOTHING_COMPARED, describe(silent)
    assert silent.stdout.startswith("nothing compared: the command left stdout empty in all 2")
    assert "--stderr" in silent.stdout and "reproducible" not in silent.stdout
    compared = verify_script(installed, script, "--stderr", AUTOSEED_VERBOSE="1")
    assert compared.returncode == 0, describe(compared)
    assert compared.stdout.startswith("reproducible"), describe(compared)
    unseeded = write_script(tmp_path, "unseeded.py", (
        "import logging, os\nlogging.basicConfig(level=logging.INFO)\n"
        "logging.info('loss %s', os.urandom(4).hex())\n"
    ))  # fmt: skip
    differs = verify_script(installed, unseeded, "--stderr")
    assert differs.returncode == 1 and "stderr differs" in differs.stdout, describe(differs)


def test_a_script_that_only_writes_a_file_gets_no_verdict_on_its_silence(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "writes.py", (
        "import random\nopen('out.txt', 'w').write(str(random.random()))\n"
    ))  # fmt: skip
    assert verify_script(installed, script).returncode == NOTHING_COMPARED
    with_file = verify_script(installed, script, "--compare", str(tmp_path / "out.txt"))
    assert with_file.returncode == 0 and with_file.stdout.startswith("reproducible")


CLOCK_SECONDS = "import random, time\nrandom.seed(int(time.time()))\nprint(random.random())\n"


def test_a_script_seeded_from_the_clock_never_passes(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "clock.py", CLOCK_SECONDS)
    for _ in range(5):
        result = verify_script(installed, script, "--baseline")
        assert result.returncode == 1, describe(result)
        lines = result.stdout.splitlines()
        assert lines[0].startswith("not reproducible"), describe(result)
        assert "seeding is what fixes it" not in result.stdout, describe(result)
        assert "the same output without a seed too" not in result.stdout, describe(result)


def test_the_ledger_names_the_seed_call_and_the_clock(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "clock.py", (
        "import time\nimport numpy as np\n"
        "np.random.seed(int(time.time() * 1000) % 2**32)\n"
        "print(np.random.rand())\n"
    ))  # fmt: skip
    result = verify_script(installed, script, "--explain")
    assert result.returncode == 1, describe(result)
    out = result.stdout
    assert "seeds: numpy.random.seed got " in out and f"in run 2, at {script}:3\n" in out, out
    assert f"  time.time at {script}:3\n" in out, out
    assert "AUTOSEED_ADDRESSES=fixed (object-address order" in out, "a suspect is tried"


def test_the_ledger_names_a_random_state_seeded_from_the_clock(
    installed: Venv, tmp_path: Path
) -> None:
    """RandomState(x) seeds in compiled code: the traced runs see x through a stand-in class."""
    script = write_script(tmp_path, "state.py", (
        "import time\nimport numpy as np\n"
        "state = np.random.RandomState(int(time.time() * 1000) % 2**32)\n"
        "print(state.rand())\n"
    ))  # fmt: skip
    out = verify_script(installed, script, "--explain").stdout
    assert "seeds: numpy.random.RandomState got " in out, out
    assert f"in run 2, at {script}:3\n" in out, out


def test_lines_in_another_order_are_named_as_such(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "threads.py", (
        "import random, sys, threading, time\n"
        "def work(index):\n"
        "    time.sleep(random.SystemRandom().random() / 50)\n"
        "    # One write per line: print() writes the text and the newline apart, and threads\n"
        "    # can then interleave within a line, which is another difference.\n"
        "    sys.stdout.write(f'worker {index} done\\n')\n"
        "    sys.stdout.flush()\n"
        "threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]\n"
        "for thread in threads: thread.start()\n"
        "for thread in threads: thread.join()\n"
    ))  # fmt: skip
    result = verify_script(installed, script, "--runs", "4", "--explain")
    assert result.returncode == 1, describe(result)
    assert "stdout has the same lines in another order in run" in result.stdout, describe(result)
    assert "why: the same lines in another order: nothing was tried" in result.stdout
    assert "with " not in result.stderr, "no fix was tried"


def test_explain_stops_at_the_first_fix_and_skips_what_the_restart_fixes(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(
        tmp_path, "vocab.py", "print(list({'the', 'quick', 'brown', 'fox', 'jumps'}))\n"
    )
    kept = verify_script(
        installed, script, "--runs", "4", "--explain", "--json", AUTOSEED_HASHSEED="keep"
    )
    report = json.loads(kept.stdout)
    assert [attempt["fix"] for attempt in report["why"]] == [f"PYTHONHASHSEED={report['seed']}"], (
        report["why"]
    )
    assert report["why"][0]["repeats"] is True
    generator = write_script(tmp_path, "generator.py", (
        "import torch\ng = torch.Generator()\ng.seed()\nprint(torch.rand(2, generator=g))\n"
    ))  # fmt: skip
    restarted = json.loads(verify_script(installed, generator, "--explain", "--json").stdout)
    tried = [attempt["fix"] for attempt in restarted["why"]]
    assert tried and not any(fix.startswith("PYTHONHASHSEED") for fix in tried), tried


def test_internal_profiler_operators_are_never_blamed(tmp_path: Path) -> None:
    """The trace comparison itself, on two recorded traces that differ only by a profiler
    operator and then by a real one."""
    from autoseed.verify.explain import compare_traces

    first, second = tmp_path / "1", tmp_path / "2"
    first.mkdir(), second.mkdir()
    common = "aten.add.Tensor\tx.py:3\tfloat32[2]:aa\tfloat32[2]:bb\n"
    (first / "rank0-main.trace").write_text(
        "profiler._record_function_enter_new.default\tx.py:1\t-\t-\n" + common
        + "aten.mul.Tensor\tx.py:4\tfloat32[2]:bb\tfloat32[2]:cc\n"
    )  # fmt: skip
    (second / "rank0-main.trace").write_text(
        common + "profiler._record_function_exit._RecordFunction\tx.py:2\t-\t-\n"
        + "aten.mul.Tensor\tx.py:4\tfloat32[2]:bb\tfloat32[2]:dd\n"
    )  # fmt: skip
    found = compare_traces(str(first), str(second))
    assert found is not None
    difference = found["difference"]
    assert difference["call"]["operator"] == "aten.mul.Tensor", difference
    assert difference["call_before"]["operator"] == "aten.add.Tensor", difference
    assert os.listdir(first) == ["rank0-main.trace"]
