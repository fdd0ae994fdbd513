"""`autoseed verify` gives no verdict without evidence, through the installed command on small
scripts written here: empty output, clock seeds, interleaved lines, the seed-call ledger."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import Venv, check, clean_env, describe, run, verify_script, write_script

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
    assert "cause: a seed call takes another value in each run" in out, out
    assert "with " not in result.stderr, "the ledger names the cause: no fix is tried"


def test_the_ledger_names_the_scripts_line_through_torch_and_lightning(tmp_path: Path) -> None:
    """Once torch.optim is imported, torch._dynamo wraps torch.manual_seed in a frame of its
    own; Lightning's seed_everything seeds all three libraries from its own file: the ledger
    names the script's line for each. Run by this test run's own `.venv`, where Lightning (a
    test dependency) and autoseed are installed."""
    pytest.importorskip("lightning")
    script = write_script(tmp_path, "train.py", (
        "import torch\n"
        "from lightning import seed_everything\n"
        "optimizer = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)\n"
        "torch.manual_seed(5)\n"
        "seed_everything(7)\n"
    ))  # fmt: skip
    env = clean_env(AUTOSEED="1", AUTOSEED_VERBOSE="1")
    result = check(run([sys.executable, str(script)], env=env, cwd=tmp_path))
    said = [line for line in result.stderr.splitlines() if ": seeded with " in line]
    assert f"autoseed: torch.manual_seed: seeded with 5 at {script}:4" in said, describe(result)
    for api in ("random.seed", "numpy.random.seed", "torch.manual_seed"):
        assert f"autoseed: {api}: seeded with 7 at {script}:5" in said, describe(result)
    libraries = (f"{os.sep}torch{os.sep}", f"{os.sep}lightning")
    assert not any(library in line for line in said for library in libraries), said


def test_a_loader_workers_seeding_is_named_at_torchs_worker_line(
    installed: Venv, tmp_path: Path
) -> None:
    """No line of the script seeds a DataLoader worker: torch's worker loop does, and the
    ledger names that line, not the frame torch._dynamo wraps torch.manual_seed in once
    torch.optim is imported."""
    script = write_script(tmp_path, "workers.py", (
        "import torch\n"
        "from torch.utils.data import DataLoader\n"
        "optimizer = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)\n"
        "if __name__ == '__main__':\n"
        "    print([b.tolist() for b in DataLoader(range(2), num_workers=1)])\n"
    ))  # fmt: skip
    env = clean_env(AUTOSEED="1", AUTOSEED_VERBOSE="1")
    result = check(installed.run(str(script), env=env, cwd=tmp_path))
    worker = os.path.join("torch", "utils", "data", "_utils", "worker.py")
    said = [line for line in result.stderr.splitlines() if "torch.manual_seed: seeded" in line]
    assert said and all(f"{worker}:" in line for line in said), describe(result)
    assert "eval_frame" not in result.stderr, describe(result)


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
    # Nothing the traced runs record names this cause: the fixes are tried, the hash seed not.
    addresses = write_script(tmp_path, "addresses.py", "print(id(object()))\n")
    restarted = json.loads(verify_script(installed, addresses, "--explain", "--json").stdout)
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
