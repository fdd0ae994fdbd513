"""Derived streams: fresh-entropy requests, forked children and ranks' DataLoader workers get
seeds derived from AUTOSEED, through real processes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import Venv, check, clean_env, describe

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "scripts"
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

    def test_verbose_names_each_request_with_its_line(self, installed: Venv) -> None:
        env = clean_env(AUTOSEED="1024", AUTOSEED_VERBOSE="1")
        result = check(installed.run("-c", "import numpy as np\nnp.random.default_rng()", env=env))
        assert re.search(r"numpy fresh entropy: derived seed \d+ at <string>:2", result.stderr), (
            describe(result)
        )


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
    result = check(
        venv.run(
            "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            str(SCRIPTS / "rank_workers.py"), env=clean_env(**env), timeout=240,
        )
    )  # fmt: skip
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
