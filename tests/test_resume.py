"""AUTOSEED_RESUME=1: a run resumed from its checkpoint ends where the run that never stopped
ends, through real processes (a training loop with dropout and a shuffled DataLoader whose
workers draw from random, numpy and torch)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from conftest import SCRIPTS, Venv, check, clean_env, describe, run, torchrun

pytestmark = pytest.mark.slow

RESUME = {"AUTOSEED": "7", "AUTOSEED_RESUME": "1"}


def train_run(venv: Venv, directory: Path, *arguments: str, **env: str) -> CompletedProcess[str]:
    """``resume_train.py DIR [EPOCH] [--FLAG ...]``, checked."""
    directory.mkdir(exist_ok=True)
    return check(venv.run(str(SCRIPTS / "resume_train.py"), str(directory), *arguments,
                          env=clean_env(**env), timeout=240))  # fmt: skip


def digest_of(result: CompletedProcess[str]) -> str:
    (digest,) = re.findall(r"rank 0 digest (\w+)", result.stdout)
    return digest


def train(venv: Venv, directory: Path, *arguments: str, **env: str) -> str:
    return digest_of(train_run(venv, directory, *arguments, **env))


def test_a_resumed_run_ends_as_the_uninterrupted_one(installed: Venv, tmp_path: Path) -> None:
    uninterrupted = train(installed, tmp_path / "with", **RESUME)
    assert train(installed, tmp_path / "without", AUTOSEED="7") == uninterrupted, (
        "with the switch on, a run that never stops is unchanged"
    )
    for epoch in ("0", "1", "2"):
        assert train(installed, tmp_path / "with", epoch, **RESUME) == uninterrupted, epoch
    # Without the switch the same resume ends elsewhere: the streams start over.
    assert train(installed, tmp_path / "without", "1", AUTOSEED="7") != uninterrupted


def test_every_order_of_rebuilding_resumes_exactly(installed: Venv, tmp_path: Path) -> None:
    """The model and optimizer are built before the load, or after it from what it holds
    (nanoGPT's order), and the optimizer's state comes last: what building them draws before
    the checkpoint overwrites them does not count. A target network that takes the model's
    weights after each epoch (through load_state_dict, during training) changes nothing."""
    flags = ("--drawing-optimizer", "--sync-target")
    uninterrupted = train(installed, tmp_path, *flags, **RESUME)
    for order in ("build-first", "load-first", "optimizer-last"):
        resumed = train_run(installed, tmp_path, "1", f"--order={order}", *flags,
                            **RESUME, AUTOSEED_VERBOSE="1")  # fmt: skip
        assert digest_of(resumed) == uninterrupted, f"{order}\n{describe(resumed)}"
        if order != "build-first":
            assert "do not count: restored again as saved" in resumed.stderr, describe(resumed)


def test_numpy_imported_after_the_load_is_restored_at_its_import(
    installed: Venv, tmp_path: Path
) -> None:
    """numpy 2 imports numpy.random lazily: here torch.optim imports it, after the load."""
    flags = ("--order=optimizer-last", "--numpy-noise")
    uninterrupted = train(installed, tmp_path, *flags, **RESUME)
    resumed = train_run(installed, tmp_path, "1", *flags, **RESUME, AUTOSEED_VERBOSE="1")
    assert digest_of(resumed) == uninterrupted, describe(resumed)
    assert "restored numpy at its import, as saved with" in resumed.stderr, describe(resumed)


def test_checkpoints_through_open_files_resume_and_buffers_are_said(
    installed: Venv, tmp_path: Path
) -> None:
    uninterrupted = train(installed, tmp_path / "file", "--open-file", **RESUME)
    assert (tmp_path / "file" / "epoch1.rank0.pt.autoseed-rng.rank0.json").is_file()
    resumed = train_run(installed, tmp_path / "file", "1", "--open-file", **RESUME)
    assert digest_of(resumed) == uninterrupted, describe(resumed)
    assert "autoseed:" not in resumed.stderr, describe(resumed)

    buffered = train_run(installed, tmp_path / "buffer", "--buffer", **RESUME)
    assert buffered.stderr.count("autoseed: resume: torch.save wrote into a BytesIO") == 1, (
        describe(buffered)
    )
    assert "no file name: no RNG record was written" in buffered.stderr, describe(buffered)
    assert not list((tmp_path / "buffer").glob("*.json")), "nowhere to put a record"


def test_a_resume_from_the_middle_of_an_epoch_is_said(installed: Venv, tmp_path: Path) -> None:
    train(installed, tmp_path, "--mid-epoch", **RESUME)
    resumed = train_run(installed, tmp_path, "1", "--mid-epoch", **RESUME)
    checkpoint = tmp_path / "epoch1.rank0.pt"
    said = (
        f"autoseed: resume: {checkpoint} was saved in the middle of an epoch (a DataLoader "
        "had yielded 2 of its 4 batches)"
    )
    assert resumed.stderr.count(said) == 1, describe(resumed)


def test_persistent_workers_continue_the_shuffle_and_say_what_cannot_continue(
    installed: Venv, tmp_path: Path
) -> None:
    """Persistent workers start once: the resumed run must not draw their base seed again
    (that draw would shift every later shuffle and dropout). Workers that draw nothing then
    resume exactly; workers that draw cannot (their state died with them), and that is said."""
    quiet = ("--persistent", "--quiet-workers")
    uninterrupted = train(installed, tmp_path / "quiet", *quiet, **RESUME)
    assert train(installed, tmp_path / "quiet-off", *quiet, AUTOSEED="7") == uninterrupted
    for epoch in ("0", "2"):
        assert train(installed, tmp_path / "quiet", epoch, *quiet, **RESUME) == uninterrupted

    noisy = tmp_path / "noisy"
    noisy_uninterrupted = train(installed, noisy, "--persistent", **RESUME)
    result = check(installed.run(str(SCRIPTS / "resume_train.py"), str(noisy), "1",
                                 "--persistent", env=clean_env(**RESUME)))  # fmt: skip
    assert result.stderr.count("persistent_workers=True were started anew") == 1, describe(result)
    assert "rank 0 digest " + noisy_uninterrupted not in result.stdout, (
        "workers that draw cannot continue the uninterrupted workers' streams"
    )


def test_the_checkpoint_is_what_the_script_saved(installed: Venv, tmp_path: Path) -> None:
    train(installed, tmp_path / "with", **RESUME)
    train(installed, tmp_path / "without", AUTOSEED="7")
    saved = tmp_path / "with" / "epoch3.rank0.pt"
    assert saved.read_bytes() == (tmp_path / "without" / "epoch3.rank0.pt").read_bytes()
    code = (
        "import sys, torch\n"
        "state = torch.load(sys.argv[1], weights_only=True)\n"
        "print(sorted(state), sorted(state['model']))\n"
    )
    loaded = check(installed.run("-c", code, str(saved), env=clean_env()))
    assert loaded.stdout.startswith("['model', 'optimizer'] ['0.bias', '0.weight'"), loaded.stdout
    record = json.loads((tmp_path / "with" / "epoch3.rank0.pt.autoseed-rng.rank0.json").read_text())
    assert record["seed"] == 7 and set(record["state"]) >= {"random", "numpy", "torch", "streams"}


def test_another_runs_record_restores_nothing_and_says_so(installed: Venv, tmp_path: Path) -> None:
    train(installed, tmp_path / "run", **RESUME)
    result = check(installed.run(str(SCRIPTS / "resume_train.py"), str(tmp_path / "run"), "1",
                                 env=clean_env(AUTOSEED="8", AUTOSEED_RESUME="1")))  # fmt: skip
    assert result.stderr.count("belongs to another run (seed 7 there, 8 here") == 1, describe(
        result
    )
    (tmp_path / "run" / "epoch1.rank0.pt.autoseed-rng.rank0.json").unlink()
    verbose = check(installed.run(str(SCRIPTS / "resume_train.py"), str(tmp_path / "run"), "1",
                                  env=clean_env(**RESUME, AUTOSEED_VERBOSE="1")))  # fmt: skip
    assert "resume: no RNG record next to" in verbose.stderr, describe(verbose)


def test_a_load_after_a_save_is_not_a_resume(installed: Venv, tmp_path: Path) -> None:
    code = (
        "import random, sys, torch\n"
        "torch.save({'w': torch.ones(2)}, sys.argv[1])\n"
        "before = torch.rand(1).item()\n"
        "torch.load(sys.argv[1])  # the best model, for a final evaluation\n"
        "print(before != torch.rand(1).item())\n"
    )
    path = str(tmp_path / "best.pt")
    result = check(installed.run("-c", code, path, env=clean_env(**RESUME, AUTOSEED_VERBOSE="1")))
    assert result.stdout == "True\n", describe(result)
    assert "nothing restored: this process saved a checkpoint" in result.stderr, describe(result)


def test_each_rank_resumes_its_own_streams(installed: Venv, tmp_path: Path) -> None:
    def digests(*resume_from: str) -> list[str]:
        env = {**RESUME}
        result = torchrun(installed, "resume_train.py", str(tmp_path), *resume_from, **env)
        found = sorted(re.findall(r"rank \d digest \w+", result.stdout))
        assert len(found) == 2, describe(result)
        return found

    uninterrupted = digests()
    assert uninterrupted[0].split()[-1] != uninterrupted[1].split()[-1], "ranks' workers differ"
    records = sorted(path.name for path in tmp_path.glob("epoch1.*.json"))
    assert records == ["epoch1.rank0.pt.autoseed-rng.rank0.json",
                       "epoch1.rank1.pt.autoseed-rng.rank1.json"]  # fmt: skip
    assert digests("1") == uninterrupted


def fit(directory: Path, *arguments: str, **env: str) -> CompletedProcess[str]:
    """``resume_lightning.py DIR [CHECKPOINT] [--FLAG ...]`` with this test run's own
    interpreter (its `.venv`, where Lightning is a test dependency), checked."""
    pytest.importorskip("lightning")
    result = run([sys.executable, str(SCRIPTS / "resume_lightning.py"), str(directory),
                  *arguments], env=clean_env(**env), cwd=directory.parent, timeout=300)  # fmt: skip
    assert result.returncode == 0, describe(result)
    return result


def fit_digest(directory: Path, *arguments: str, **env: str) -> str:
    (digest,) = re.findall(r"digest (\w+)", fit(directory, *arguments, **env).stdout)
    return digest


def test_a_lightning_trainer_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    """A real Lightning Trainer: `Trainer.fit(ckpt_path=...)` ends where the uninterrupted fit
    ends."""
    uninterrupted = fit_digest(tmp_path / "with", **RESUME)
    resumed = fit(tmp_path / "with", str(tmp_path / "with" / "epoch=1.ckpt"), **RESUME)
    assert re.findall(r"digest (\w+)", resumed.stdout) == [uninterrupted], describe(resumed)
    assert "autoseed:" not in resumed.stderr, describe(resumed)
    assert fit_digest(tmp_path / "without", AUTOSEED="7") == uninterrupted
    without = fit_digest(tmp_path / "without", str(tmp_path / "without" / "epoch=1.ckpt"),
                         AUTOSEED="7")  # fmt: skip
    assert without != uninterrupted, "without the switch the resumed fit ends elsewhere"


def test_lightning_removes_a_record_with_its_checkpoint(tmp_path: Path) -> None:
    """ModelCheckpoint(save_top_k=1) deletes each checkpoint it replaces: its record goes too."""
    fit(tmp_path / "run", "--keep-last", **RESUME)
    left = sorted(path.name for path in (tmp_path / "run").iterdir())
    assert left == ["epoch=3.ckpt", "epoch=3.ckpt.autoseed-rng.rank0.json"]


def test_a_lightning_resume_from_the_middle_of_an_epoch_is_said(tmp_path: Path) -> None:
    fit(tmp_path / "run", "--every-2-steps", **RESUME)
    checkpoint = tmp_path / "run" / "epoch=1-step=6.ckpt"
    resumed = fit(tmp_path / "run", str(checkpoint), "--every-2-steps", **RESUME)
    said = (
        f"autoseed: resume: {checkpoint} was saved in the middle of an epoch (a DataLoader "
        "had yielded 2 of its 4 batches)"
    )
    assert resumed.stderr.count(said) == 1, describe(resumed)
