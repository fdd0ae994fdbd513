"""Derived streams: fresh-entropy requests, forked children and ranks' DataLoader workers get
seeds derived from AUTOSEED, through real processes."""

from __future__ import annotations

import re

import pytest

from conftest import SCRIPTS, Venv, check, clean_env, describe, torchrun

pytestmark = pytest.mark.slow

UNCONTROLLED = ("tempfile",)


def sources(venv: Venv, **env: str) -> dict[str, str]:
    result = check(venv.run(str(SCRIPTS / "every_source.py"), env=clean_env(**env), timeout=120))
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    lines.update(
        {f"fork-child {line.split()[1]}": line for line in result.stdout.splitlines()
         if line.startswith("fork-child")}
    )  # fmt: skip
    assert len(lines) >= 13, describe(result)
    return lines


class TestFreshEntropy:
    def test_every_request_repeats_and_follows_the_seed(self, installed: Venv) -> None:
        first, second = (sources(installed, AUTOSEED="1024") for _ in range(2))
        other = sources(installed, AUTOSEED="7")
        for name, value in first.items():
            if name.startswith(UNCONTROLLED):
                assert second[name] != value, f"{name} must stay unpredictable"
            elif name != "explicit" and name != "pool-distinct":
                assert second[name] == value, name
                assert other[name] != value, f"{name} must follow AUTOSEED"
        assert first["explicit"] == other["explicit"], "explicit seeds are untouched"
        draws = {value for name, value in first.items() if name not in ("explicit", "tempfile")}
        assert len(draws) == len(first) - 2, "each request gets a stream of its own"

    @pytest.mark.parametrize("variable", ["AUTOSEED_GENERATORS", "AUTOSEED_NUMPY_GENERATORS"])
    def test_one_setting_turns_it_off(self, installed: Venv, variable: str) -> None:
        runs = [sources(installed, AUTOSEED="1024", **{variable: "0"}) for _ in range(2)]
        for name in ("random.Random()", "default_rng()", "RandomState()", "torch.seed()"):
            assert runs[0][name] != runs[1][name], name

    def test_verbose_names_each_seed_call_once_with_its_line(self, installed: Venv) -> None:
        env = clean_env(AUTOSEED="1024", AUTOSEED_VERBOSE="1")
        code = (
            "import random, numpy as np, torch\n"
            "np.random.default_rng()\n"
            "for _ in range(3): random.seed(0)\n"
            "torch.manual_seed(5); np.random.seed(6)\n"
        )
        result = check(installed.run("-c", code, env=env))
        err = result.stderr
        assert re.search(r"numpy fresh entropy: derived seed \d+ at <string>:2\n", err), err
        assert err.count("autoseed: random.seed: seeded with 0 at <string>:3\n") == 1, err
        assert "autoseed: torch.manual_seed: seeded with 5 at <string>:4\n" in err, err
        assert "autoseed: numpy.random.seed: seeded with 6 at <string>:4\n" in err, err
        assert "autoseed: seeded torch with 1024; cudnn deterministic\n" in err, err


class TestForkedChildren:
    def test_each_child_gets_its_own_streams_and_runs_repeat(self, installed: Venv) -> None:
        first, second = (sources(installed, AUTOSEED="1024") for _ in range(2))
        children = [first["fork-child 0"].split()[2:], first["fork-child 1"].split()[2:]]
        assert not set(children[0]) & set(children[1]), "children must not share streams"
        assert first["fork-child 0"] == second["fork-child 0"]
        assert first["fork-child 1"] == second["fork-child 1"]

    def test_pool_tasks_never_share_a_stream(self, installed: Venv) -> None:
        assert sources(installed, AUTOSEED="1024")["pool-distinct"] == "8"


def torchrun_draws(venv: Venv, **env: str) -> list[str]:
    result = torchrun(venv, "rank_workers.py", **env)
    lines = sorted(line for line in result.stdout.splitlines() if line.startswith("rank "))
    assert len(lines) == 10, describe(result)
    return lines


@pytest.mark.parametrize("seed_itself", ["", "1"], ids=["seeded-by-autoseed", "script-seeds"])
def test_ranks_share_the_model_not_the_augmentation(installed: Venv, seed_itself: str) -> None:
    first = torchrun_draws(installed, AUTOSEED="1024", SEED_ITSELF=seed_itself)
    assert torchrun_draws(installed, AUTOSEED="1024", SEED_ITSELF=seed_itself) == first
    main = {line.split()[3] for line in first if " main " in line}
    assert len(main) == 1, f"the main processes' draws must agree across ranks: {first}"
    by_rank: dict[str, set[str]] = {"0": set(), "1": set()}
    for line in first:
        if " worker " in line:
            by_rank[line.split()[1]].update(line.split()[4:])
    assert len(by_rank["0"]) == len(by_rank["1"]) == 16, first
    assert not by_rank["0"] & by_rank["1"], "workers of different ranks drew the same numbers"


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_dataloader_workers_are_seeded_by_torch_alone(installed: Venv, start_method: str) -> None:
    """No second seeding in a worker: torch gives each its seed, autoseed adds nothing."""
    result = check(
        installed.run(
            str(SCRIPTS / "worker_generators.py"), start_method, "2",
            env=clean_env(AUTOSEED="1024", AUTOSEED_VERBOSE="1"), timeout=240,
        )
    )  # fmt: skip
    seeded = {line for line in result.stderr.splitlines() if "seeded random with" in line}
    assert seeded == {"autoseed: seeded random with 1024"}, describe(result)
    worker_seeds = [line for line in result.stderr.splitlines() if "worker.py" in line]
    assert len(worker_seeds) == 6, describe(result)  # torch's own: random, torch, numpy, x2
