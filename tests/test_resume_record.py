"""AUTOSEED_RESUME's record is data from disk: whatever lies at its path (a FIFO, a device, a
damaged or foreign file), a resume restores all of it or nothing, says which file in one
line, and never hangs or grows; a record it could not write leaves nothing behind. Through
real processes (resume_train.py: dropout, a shuffled DataLoader with 2 workers)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from conftest import SCRIPTS, Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

RESUME = {"AUTOSEED": "7", "AUTOSEED_RESUME": "1"}
RECORD = "epoch1.rank0.pt.autoseed-rng.rank0.json"


def train(
    venv: Venv, directory: Path, *arguments: str, limits: str = "", **env: str
) -> CompletedProcess[str]:
    """``resume_train.py DIR [EPOCH]`` under the shell's ``ulimit`` options ``limits``: an
    address space for what would grow without end, a file size for a full disk."""
    directory.mkdir(exist_ok=True)
    argv = [str(venv.python), str(SCRIPTS / "resume_train.py"), str(directory), *arguments]
    shell = ["bash", "-c", f'ulimit {limits}; exec "$@"', "limited"] if limits else []
    return check(run([*shell, *argv], env=clean_env(**env), timeout=120))


def digest_of(result: CompletedProcess[str]) -> str:
    (digest,) = re.findall(r"rank 0 digest (\w+)", result.stdout)
    return digest


def test_a_record_that_is_no_regular_file_of_record_size_is_never_read(
    installed: Venv, tmp_path: Path
) -> None:
    """A FIFO would block the load forever, /dev/zero would grow the process until the OOM
    killer ends it, a sparse gigabyte would be read whole: each is refused, named, at once."""
    train(installed, tmp_path, **RESUME)
    record = tmp_path / RECORD
    record.unlink()
    os.mkfifo(record)
    fifo = train(installed, tmp_path, "1", **RESUME)
    said = f"autoseed: resume: the RNG record {record} is not a regular file: nothing restored"
    assert fifo.stderr.count(said) == 1, describe(fifo)

    record.unlink()
    record.symlink_to("/dev/zero")
    device = train(installed, tmp_path, "1", limits="-v 4000000", **RESUME)
    assert device.stderr.count(said) == 1, describe(device)

    record.unlink()
    with open(record, "wb") as sparse:
        sparse.truncate(2**30)
    large = train(installed, tmp_path, "1", limits="-v 4000000", **RESUME)
    assert f"the RNG record {record} is larger than" in large.stderr, describe(large)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("torch", "state.torch is not the base64 of a torch CPU generator state"),
        ("numpy", "state.numpy.key is not a list of 624 integers 0..4294967295"),
        ("list", "it is not a JSON object"),
        ("json", "it is not JSON"),
    ],
)
def test_a_damaged_record_restores_nothing_and_names_the_file(
    installed: Venv, tmp_path: Path, damage: str, said: str
) -> None:
    """Validated whole before anything is restored: a run that resumes from a damaged record
    ends where a resume without the switch ends, not half way between."""
    train(installed, tmp_path, **RESUME)
    record = tmp_path / RECORD
    content = json.loads(record.read_text())
    if damage == "torch":
        content["state"]["torch"] = content["state"]["torch"][:-8]
    elif damage == "numpy":
        content["state"]["numpy"]["key"] = content["state"]["numpy"]["key"][:-1]
    elif damage == "list":
        content = [content]
    record.write_text(json.dumps(content) if damage != "json" else "{not json")
    damaged = train(installed, tmp_path, "1", **RESUME)
    line = f"autoseed: resume: the RNG record {record} is damaged ({said}): nothing restored"
    assert damaged.stderr.count(line) == 1, describe(damaged)
    assert "Error" not in damaged.stderr, describe(damaged)
    if damage == "torch":  # random and numpy come before torch in the record
        without = train(installed, tmp_path, "1", AUTOSEED="7")
        assert digest_of(damaged) == digest_of(without), "all or nothing"


def test_a_record_that_cannot_be_written_leaves_nothing_behind(
    installed: Venv, tmp_path: Path
) -> None:
    """A full disk (a file size limit: the checkpoints fit, their records do not): no
    temporary file is left, and the record an earlier run wrote next to the same checkpoint
    is removed, since it no longer describes it."""
    train(installed, tmp_path, **RESUME)
    assert len(list(tmp_path.glob("*.json"))) == 4
    full = train(installed, tmp_path, "--numpy-noise", limits="-f 12", **RESUME)
    assert sorted(path.suffix for path in tmp_path.iterdir()) == [".pt"] * 4, describe(full)
    record = tmp_path / RECORD
    said = f"autoseed: resume: could not write the RNG record {record} ("
    assert full.stderr.count(said) == 1, describe(full)
