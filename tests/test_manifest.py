"""`AUTOSEED_MANIFEST=PATH`: one JSON line per seeded process of a job, written when it ends,
through real processes: a script in a git repository, a torchrun job whose ranks end together
and whose DataLoader workers end with os._exit, and paths that are not files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import Venv, check, clean_env, describe, run, torchrun, write_script

pytestmark = pytest.mark.slow

SCRIPT = (
    "import numpy as np, torch\n"
    "np.random.seed(3)\n"
    "rng = np.random.default_rng()\n"
    "print(torch.rand(1).item(), rng.random())\n"
)


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def git(directory: Path, *args: str) -> str:
    env = clean_env(GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@b", GIT_COMMITTER_NAME="a",
                    GIT_COMMITTER_EMAIL="a@b")  # fmt: skip
    return check(run(["git", "-C", str(directory), *args], env=env)).stdout.strip()


def test_the_manifest_says_what_ran_and_how(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "train.py", SCRIPT)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "train.py")
    git(tmp_path, "commit", "-q", "-m", "train")
    env = clean_env(AUTOSEED="7", AUTOSEED_CUDNN="keep", AUTOSEED_MANIFEST="run.jsonl")
    check(installed.run(str(script), env=env, cwd=tmp_path))
    (line,) = lines_of(tmp_path / "run.jsonl")
    assert line["role"] == "main" and line["rank"] is None, line
    assert line["command"][-1] == str(script) and line["working_directory"] == str(tmp_path)
    assert line["git"] == {"commit": git(tmp_path, "rev-parse", "HEAD"), "dirty": False}
    assert line["seed"] == {"seed": 7, "source": "the environment", "drawn": False,
                            "rank": None, "effective_seed": 7}  # fmt: skip
    assert line["settings"]["AUTOSEED_CUDNN"] == {"value": "keep", "source": "the environment"}
    assert line["in_force"]["AUTOSEED_CUDNN"] == "keep"
    (derived,) = line["derived_seeds"]["requests"]
    assert derived["api"] == "numpy fresh entropy" and derived["where"] == f"{script}:3"
    calls = line["seed_calls"]["calls"]
    assert {"api": "numpy.random.seed", "value": 3, "where": f"{script}:2",
            "origin": "explicit"} in calls, calls  # fmt: skip
    assert {record["library"] for record in line["seeded"]} >= {"random", "numpy", "torch"}
    fingerprint = line["fingerprint"]
    assert fingerprint["versions"]["torch"] and len(fingerprint["probe"]) == 8, fingerprint
    # A second run of the job starts the file afresh; an edited checkout is said dirty.
    script.write_text(SCRIPT + "# edited\n")
    check(installed.run(str(script), env=env, cwd=tmp_path))
    (again,) = lines_of(tmp_path / "run.jsonl")
    assert again["git"]["dirty"] is True and again["pid"] != line["pid"]


def test_a_jobs_ranks_add_their_lines_and_its_workers_none(installed: Venv, tmp_path: Path) -> None:
    """torchrun with 2 ranks, each with 2 DataLoader workers (forked, ended by os._exit): the
    launcher's line and one per rank, each whole though the ranks end together."""
    manifest = tmp_path / "job.jsonl"
    torchrun(installed, "rank_workers.py", AUTOSEED="11", AUTOSEED_MANIFEST=str(manifest))
    lines = lines_of(manifest)
    assert [line["role"] for line in lines] == ["child", "child", "main"], lines
    assert sorted(line["rank"] for line in lines[:2]) == [0, 1]
    assert lines[-1]["command"][1:3] == ["-m", "torch.distributed.run"], lines[-1]["command"]
    assert {line["parent_pid"] for line in lines[:2]} == {lines[-1]["pid"]}
    assert all(line["seed"]["seed"] == 11 and line["fingerprint"] for line in lines)


def test_a_forked_child_adds_its_line_with_its_derived_seed(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "fork.py", (
        "import os, random, numpy.random\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print(random.random())\n"
        "    raise SystemExit(0)\n"
        "os.waitpid(pid, 0)\n"
    ))  # fmt: skip
    env = clean_env(AUTOSEED="5", AUTOSEED_MANIFEST="m.jsonl")
    check(installed.run(str(script), env=env, cwd=tmp_path))
    child, main = lines_of(tmp_path / "m.jsonl")
    assert (child["role"], child["forked"], child["fingerprint"]) == ("child", True, None)
    assert child["derived_seeds"]["descent"] == [["fork", 0]]
    assert child["derived_seeds"]["this_process"] != main["derived_seeds"]["this_process"] == 5


def test_an_unseeded_process_writes_nothing(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "train.py", SCRIPT)
    check(installed.run(str(script), env=clean_env(AUTOSEED_MANIFEST="m.jsonl"), cwd=tmp_path))
    assert (tmp_path / "m.jsonl").read_text() == ""


def test_a_dotenv_cannot_name_the_manifest(installed: Venv, tmp_path: Path) -> None:
    """A repository's .env must not make autoseed write a file of its choosing."""
    (tmp_path / ".env").write_text("AUTOSEED=3\nAUTOSEED_MANIFEST=overwritten.txt\n")
    result = check(installed.run("-c", "import numpy", cwd=tmp_path))
    assert not (tmp_path / "overwritten.txt").exists()
    assert (
        f"autoseed: AUTOSEED_MANIFEST in {tmp_path / '.env'}, line 2 is ignored: it is read from "
        "the environment only (a .env cannot name a file for autoseed to write)\n"
    ) in result.stderr, describe(result)


@pytest.mark.parametrize("kind", ["a FIFO", "a directory"])
def test_a_path_that_is_not_a_file_is_said_never_waited_on(
    installed: Venv, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "target"
    if kind == "a FIFO":
        os.mkfifo(target)
    else:
        target.mkdir()
    env = clean_env(AUTOSEED="3", AUTOSEED_MANIFEST=str(target))
    result = check(installed.run("-c", "import numpy.random", env=env, timeout=60))
    assert result.stderr == (
        f"autoseed: AUTOSEED_MANIFEST='{target}': {target} is not a regular file; no manifest "
        "is written\n"
    ), describe(result)
