"""`autoseed sweep`: the same untouched script under N seeds, through the installed command,
on one machine and on a real local Ray cluster."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

# A legacy script with a hard-coded seed, as users bring them.
TRAIN = """
import random, sys
import numpy as np
random.seed(42)
np.random.seed(42)
print("loss", round(random.random() + np.random.rand(), 6))
print("accuracy:", round(0.9 + random.random() / 10, 6))
"""
LOSS = r"loss ([0-9.]+)"
ACCURACY = r"accuracy: ([0-9.]+)"


def sweep(venv: Venv | Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    autoseed = venv.bin / "autoseed" if isinstance(venv, Venv) else venv
    result = run([str(autoseed), "sweep", *args], env=clean_env(**env), cwd=cwd, timeout=600)
    assert "Traceback" not in result.stderr, describe(result)
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    return tmp_path


def command(venv: Venv) -> list[str]:
    return ["--", str(venv.python), "train.py"]


def test_each_seed_is_the_run_autoseed_gives_and_the_spread_is_reported(
    installed: Venv, project: Path
) -> None:
    result = sweep(installed, project, "0-3", "-j", "2", "--out", "runs", "--metric", LOSS,
                   "--metric", ACCURACY, "--json", *command(installed))  # fmt: skip
    assert result.returncode == 0, describe(result)
    report = json.loads(result.stdout)
    by_seed = {run["seed"]: run for run in report["runs"]}
    for seed in range(4):
        seeded = clean_env(AUTOSEED=str(seed), AUTOSEED_OVERRIDE="1")
        alone = check(installed.run("train.py", cwd=project, env=seeded))
        assert (project / "runs" / f"seed-{seed}" / "stdout").read_text() == alone.stdout
        assert by_seed[seed]["status"] == 0 and by_seed[seed]["seconds"] > 0
    losses = [by_seed[seed]["metrics"][LOSS] for seed in range(4)]
    assert len(set(losses)) == 4, "the script's literal seed followed AUTOSEED"
    stats = report["metrics"][LOSS]
    assert stats["n"] == 4 and stats["mean"] == pytest.approx(statistics.fmean(losses))
    assert stats["std"] == pytest.approx(statistics.stdev(losses))
    low, high = stats["ci95"]
    half = 3.182 * statistics.stdev(losses) / 2  # t(0.975, 3 degrees) * s / sqrt(4)
    assert (low, high) == pytest.approx((stats["mean"] - half, stats["mean"] + half))
    assert "progress" not in result.stdout and "autoseed: sweep [" in result.stderr
    table = sweep(installed, project, "--report", "runs", "--metric", LOSS)
    assert table.returncode == 0 and "95% CI of the mean" in table.stdout, describe(table)


def test_keep_seeds_leaves_the_script_in_charge(installed: Venv, project: Path) -> None:
    result = sweep(installed, project, "1,5,7", "--keep-seeds", "--out", "kept", "--json",
                   "--metric", LOSS, *command(installed))  # fmt: skip
    losses = {run["metrics"][LOSS] for run in json.loads(result.stdout)["runs"]}
    assert len(losses) == 1, "the script's own seed decides every run"
    assert result.returncode == 3, describe(result)
    assert "likely cause: --keep-seeds left the script's own seeds in charge" in result.stderr


def test_a_sweep_resumes_and_refuses_another_commands_folder(
    installed: Venv, project: Path
) -> None:
    first = sweep(installed, project, "0-2", "--out", "runs", *command(installed))
    assert first.returncode == 0, describe(first)
    (project / "runs" / "seed-1" / "run.json").unlink()  # as if stopped before it ended
    again = sweep(installed, project, "0-3", "--out", "runs", *command(installed))
    assert "2 of 4 seeds already done in runs" in again.stderr, describe(again)
    assert again.stderr.count(": ok, ") == 2, "seeds 1 and 3 ran again, only"
    other = sweep(installed, project, "0-2", "--out", "runs", "--", str(installed.python), "x.py")
    assert other.returncode == 2 and "holds the sweep of another command" in other.stderr


def test_failed_runs_are_listed_not_averaged(installed: Venv, project: Path) -> None:
    (project / "flaky.py").write_text(
        "import os, sys\nprint('loss', os.environ['AUTOSEED'])\n"
        "sys.exit(3 if os.environ['AUTOSEED'] == '2' else 0)\n"
    )
    result = sweep(installed, project, "0-3", "--out", "runs", "--metric", LOSS, "--json",
                   "--", str(installed.python), "flaky.py")  # fmt: skip
    assert result.returncode == 1, describe(result)
    report = json.loads(result.stdout)
    assert report["failed"] == [2] and report["metrics"][LOSS]["n"] == 3
    assert report["metrics"][LOSS]["mean"] == pytest.approx((0 + 1 + 3) / 3)
    rerun = sweep(installed, project, "0-3", "--out", "runs", "--", str(installed.python),
                  "flaky.py")  # fmt: skip
    assert "3 of 4 seeds already done" in rerun.stderr, "the failed run is run again"


def test_drawn_seeds_are_recorded_and_taken_up_again(installed: Venv, project: Path) -> None:
    first = sweep(installed, project, "--count", "3", "--out", "drawn", "--json",
                  *command(installed))  # fmt: skip
    seeds = [run["seed"] for run in json.loads(first.stdout)["runs"]]
    assert len(set(seeds)) == 3
    assert json.loads((project / "drawn" / "folder.json").read_text())["seeds"] == seeds
    again = sweep(installed, project, "--count", "3", "--out", "drawn", *command(installed))
    assert "3 of 3 seeds already done" in again.stderr, describe(again)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["0-x"], "sweep: SEEDS '0-x' is not valid; expected seeds like 0-9"),
        (["0-2", "--metric", "loss [0-9]+"], "has 0 groups; it needs exactly one"),
        (["0-2", "--metric", "(a)(b)"], "has 2 groups; it needs exactly one"),
        (["0-1", "--backend", "ray"], "--backend ray needs Ray, which is not installed here"),
        (["9-3"], "the range '9-3' is empty"),
    ],
)
def test_bad_input_is_one_clear_line(
    installed: Venv, project: Path, args: list[str], line: str
) -> None:
    result = sweep(installed, project, *args, *command(installed))
    assert result.returncode == 2 and line in result.stderr, describe(result)
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout, describe(result)


def test_a_metric_that_never_matches_names_the_runs(installed: Venv, project: Path) -> None:
    result = sweep(installed, project, "0-1", "--metric", r"f1 ([0-9.]+)", *command(installed))
    assert result.returncode == 1, describe(result)
    said = "metric 'f1 ([0-9.]+)' matched nothing in the stdout or stderr of seeds 0, 1"
    assert said in result.stderr, describe(result)


@pytest.mark.parametrize(
    ("stop_signal", "status", "said"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_ctrl_c_or_sigterm_keeps_what_finished_and_leaves_no_run_behind(
    installed: Venv, project: Path, stop_signal: signal.Signals, status: int, said: str
) -> None:
    """The signal is sent the moment seed 0's record appears, which is when the sweep starts
    seed 2: a signal between a run's start and its recording once left that run orphaned (1
    try in 5), so this aims at that moment several times."""
    (project / "slow.py").write_text(
        "import os, time\ntime.sleep(0.2 if os.environ['AUTOSEED'] == '0' else 30)\nprint('ok')\n"
    )
    for attempt in range(6):
        out = project / f"runs{attempt}"
        argv = [str(installed.bin / "autoseed"), "sweep", "0-2", "-j", "2", "--out", out.name,
                "--", str(installed.python), "slow.py"]  # fmt: skip
        process = subprocess.Popen(argv, cwd=project, env=clean_env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while not (out / "seed-0" / "run.json").exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == status, stderr
        assert f"{said}; finished runs are kept in {out.name}" in stderr, stderr
        assert "Traceback" not in stderr, stderr
        assert not (out / "seed-1" / "run.json").exists()
        assert json.loads((out / "seed-0" / "run.json").read_text())["status"] == 0
        leftover = run(["pgrep", "-f", f"{installed.python} slow.py"])
        assert leftover.stdout == "", f"attempt {attempt}: a run was left running"


# A run that says it has started, then waits for the test's word (a file) before it ends.
WAITING = """
import os, pathlib, time
seed = os.environ["AUTOSEED"]
pathlib.Path(f"started-{seed}").touch()
while not pathlib.Path("go").exists():
    time.sleep(0.01)
print("loss", seed)
"""


def wait_for(*paths: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not all(path.exists() for path in paths):
        assert time.monotonic() < deadline, f"{paths} did not appear in {seconds} s"
        time.sleep(0.01)


def test_progress_shows_from_the_start_not_after_the_first_run(
    installed: Venv, project: Path
) -> None:
    (project / "wait.py").write_text(WAITING)
    argv = [str(installed.bin / "autoseed"), "sweep", "0-2", "-j", "2",
            "--", str(installed.python), "wait.py"]  # fmt: skip
    process = subprocess.Popen(argv, cwd=project, env=clean_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_for(project / "started-0", project / "started-1")
        readable, _, _ = select.select([process.stderr], [], [], 30)
        assert readable, "no progress line while the first runs were running"
        assert process.stderr is not None
        first = process.stderr.readline()
        assert "0/3 finished, 2 started, 0 failed, 0:0" in first, first
        assert first.rstrip().endswith("elapsed"), first
    finally:
        (project / "go").touch()
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr


def test_in_a_terminal_the_progress_line_counts_the_time(installed: Venv, project: Path) -> None:
    """The line is redrawn each second while a long run has not ended, and ended before the
    next line when Ctrl-C stops the sweep."""
    (project / "wait.py").write_text(WAITING)
    argv = [str(installed.bin / "autoseed"), "sweep", "0", "--", str(installed.python), "wait.py"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(argv, cwd=project, env=clean_env(), stdout=subprocess.DEVNULL,
                               stderr=follower)  # fmt: skip
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while len(set(re.findall(rb"(\d+:\d\d) elapsed", seen))) < 3:
            assert time.monotonic() < deadline, seen
            if select.select([leader], [], [], 1)[0]:
                seen += os.read(leader, 4096)
        assert b"\r\x1b[Kautoseed: sweep [----" in seen, seen
        assert b"0/1 finished, 1 started, 0 failed, 0:0" in seen, seen
        process.send_signal(signal.SIGINT)
        while time.monotonic() < deadline:
            if not select.select([leader], [], [], 0.1)[0]:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with its last writer
                break
            if not chunk:
                break
            seen += chunk
        assert b" elapsed\r\nautoseed: sweep: interrupted" in seen, "the line was not ended"
    finally:
        (project / "go").touch()
        process.wait(timeout=120)
        os.close(leader)


def test_repeated_seeds_are_told_and_run_once(installed: Venv, project: Path) -> None:
    result = sweep(installed, project, "1,1,0-2", "--out", "runs", *command(installed))
    assert result.returncode == 0, describe(result)
    said = "sweep: SEEDS '1,1,0-2' gives seed 1 more than once; each seed runs once"
    assert said in result.stderr, describe(result)
    assert json.loads((project / "runs" / "folder.json").read_text())["seeds"] == [1, 0, 2]
    assert result.stderr.count(": ok, ") == 3, describe(result)


def test_a_background_sweep_stops_on_ctrl_c_to_its_process_group(
    installed: Venv, project: Path
) -> None:
    """A shell without job control (a script's `cmd &`) starts background commands with SIGINT
    ignored. Ctrl-C to the process group reaches the sweep and its runs: the sweep stops them
    all, keeps what finished, records none of the interrupted runs, starts no other."""
    (project / "background.py").write_text(WAITING)
    sweep_argv = [str(installed.bin / "autoseed"), "sweep", "0-2", "-j", "2", "--out", "runs",
                  "--", str(installed.python), "background.py"]  # fmt: skip
    line = f"({shlex.join(sweep_argv)} 2>sweep.err; echo $? >status) & wait"
    shell = subprocess.Popen(["sh", "-c", line], cwd=project, env=clean_env(),
                             start_new_session=True)  # fmt: skip
    try:
        wait_for(project / "started-0", project / "started-1")
        os.killpg(shell.pid, signal.SIGINT)
        wait_for(project / "status", seconds=30)
        leftover = run(["pgrep", "-f", f"{installed.python} background.py"])
        assert leftover.stdout == "", "a run was left running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)
        shell.wait(timeout=60)
    stderr = (project / "sweep.err").read_text()
    assert (project / "status").read_text().strip() == "130", stderr
    assert "interrupted; finished runs are kept in runs" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    assert not (project / "started-2").exists(), "no run started after Ctrl-C"
    assert not list((project / "runs").glob("seed-*/run.json")), "interrupted runs recorded"


@pytest.mark.skipif(shutil.which("ray", path=str(Path(sys.executable).parent)) is None,
                    reason="Ray is a test dependency; this interpreter lacks it")  # fmt: skip
def test_the_ray_backend_gives_the_local_results(project: Path) -> None:
    """A real local Ray cluster (`ray start --head`), driven from this test run's own `.venv`
    (autoseed installed editable, with Ray)."""
    bin_directory = Path(sys.executable).parent
    autoseed, ray = bin_directory / "autoseed", bin_directory / "ray"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Ray's socket paths must stay under 108 bytes: a short folder of its own.
    ray_temporary = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    env = clean_env(RAY_USAGE_STATS_ENABLED="0", RAY_TMPDIR=ray_temporary)
    head = ["start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    started = run([str(ray), *head, "--disable-usage-stats"], env=env, timeout=180)
    try:
        assert started.returncode == 0, describe(started)
        python = ["--", sys.executable, "train.py"]
        local = sweep(autoseed, project, "0-3", "--out", "local", "--json", "--metric", LOSS,
                      *python)  # fmt: skip
        remote = sweep(autoseed, project, "0-3", "--out", "ray", "--json", "--metric", LOSS,
                       "--backend", "ray", "--ray-address", f"127.0.0.1:{port}", *python,
                       RAY_USAGE_STATS_ENABLED="0")  # fmt: skip
        assert remote.returncode == 0, describe(remote)
        for seed in range(4):
            files = [project / where / f"seed-{seed}" / "stdout" for where in ("local", "ray")]
            assert files[0].read_text() == files[1].read_text()
        assert json.loads(remote.stdout)["metrics"] == json.loads(local.stdout)["metrics"]
        record = json.loads((project / "ray" / "seed-0" / "run.json").read_text())
        assert record["backend"] == "ray" and record["status"] == 0
    finally:
        run([str(ray), "stop", "--force"], env=env, timeout=120)
        shutil.rmtree(ray_temporary, ignore_errors=True)


def test_an_unreachable_ray_cluster_is_one_line(project: Path) -> None:
    autoseed = Path(sys.executable).parent / "autoseed"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe closes
    result = sweep(autoseed, project, "0-1", "--backend", "ray", "--ray-address",
                   f"127.0.0.1:{port}", "--", sys.executable, "train.py")  # fmt: skip
    assert result.returncode == 2, describe(result)
    assert f"the Ray cluster at 127.0.0.1:{port} is not reachable" in result.stderr


def test_plot_draws_each_metric(project: Path) -> None:
    pytest.importorskip("matplotlib")
    autoseed = Path(sys.executable).parent / "autoseed"
    result = sweep(autoseed, project, "0-2", "--metric", LOSS, "--plot", "loss.png",
                   "--", sys.executable, "train.py")  # fmt: skip
    assert result.returncode == 0, describe(result)
    assert (project / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert os.path.getsize(project / "loss.png") > 1000
