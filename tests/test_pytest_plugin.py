"""The pytest plugin, through real pytest runs: a test's draws depend on AUTOSEED and its id only.

The inner runs use this test run's own interpreter (the project's `.venv`, where autoseed is
installed editable with its entry points, pytest-xdist and pytest-randomly).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import clean_env, describe, run

pytestmark = pytest.mark.slow

TEST_FILE = """
import os, random

import numpy as np
import pytest
import torch


def record(request):
    line = f"{request.node.nodeid} {random.random()} {np.random.rand()} {torch.rand(1).item()}"
    with open(os.environ["DRAWS_FILE"], "a") as file:
        file.write(line + "\\n")


def test_a(request):
    record(request)


def test_b(request):
    random.random()  # draws more than the others: must not shift any other test's draws
    record(request)


@pytest.mark.parametrize("n", [1, 2])
def test_c(request, n):
    record(request)
"""
IDS = ["test_draws.py::test_a", "test_draws.py::test_b"]
IDS += ["test_draws.py::test_c[1]", "test_draws.py::test_c[2]"]
HEADER = "autoseed: AUTOSEED=1024 (from the environment); each test is reseeded from it"


class Project:
    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "test_draws.py").write_text(TEST_FILE)
        self.runs = 0

    def pytest(self, *args: str, **env: str) -> tuple[list[str], str]:
        """Run pytest; return the draws in the order the tests ran, and the output."""
        self.runs += 1
        draws = self.path / f"draws-{self.runs}.txt"
        result = run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            env=clean_env(DRAWS_FILE=str(draws), **env),
            cwd=self.path,
            timeout=300,
        )
        assert result.returncode == 0, describe(result)
        return draws.read_text().splitlines(), result.stdout

    def draws(self, *args: str, **env: str) -> dict[str, str]:
        lines, _ = self.pytest(*args, **env)
        return dict(line.split(" ", 1) for line in lines)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_draws_depend_on_the_seed_and_the_test_id_only(project: Project) -> None:
    lines, output = project.pytest("-p", "no:randomly", "test_draws.py", AUTOSEED="1024")
    assert HEADER in output, output
    in_order = dict(line.split(" ", 1) for line in lines)
    assert list(in_order) == IDS
    assert len(set(in_order.values())) == len(IDS), "each test gets its own draws"
    reversed_lines, _ = project.pytest("-p", "no:randomly", *reversed(IDS), AUTOSEED="1024")
    assert [line.split()[0] for line in reversed_lines] == IDS[::-1], "ran in reverse order"
    assert dict(line.split(" ", 1) for line in reversed_lines) == in_order
    alone = project.draws("-p", "no:randomly", IDS[2], AUTOSEED="1024")
    assert alone == {IDS[2]: in_order[IDS[2]]}
    workers = project.draws("-p", "no:randomly", "-n", "2", "test_draws.py", AUTOSEED="1024")
    assert workers == in_order
    (project.path / ".env").write_text("AUTOSEED=1024\n")
    assert project.draws("-p", "no:randomly", "test_draws.py") == in_order
    other_seed = project.draws("-p", "no:randomly", "test_draws.py", AUTOSEED="7")
    assert set(other_seed.values()).isdisjoint(in_order.values())


def test_autoseed_decides_under_pytest_randomly_which_still_shuffles(project: Project) -> None:
    plain = project.draws("-p", "no:randomly", "test_draws.py", AUTOSEED="1024")
    for randomly_seed in ("1", "2"):
        lines, output = project.pytest(
            "-p", "randomly", f"--randomly-seed={randomly_seed}", "test_draws.py",
            AUTOSEED="1024",
        )  # fmt: skip
        assert f"Using --randomly-seed={randomly_seed}" in output and HEADER in output, output
        assert dict(line.split(" ", 1) for line in lines) == plain


def test_torch_follows_pytest_randomly_without_autoseed(project: Project) -> None:
    """pytest-randomly reseeds random and numpy per test; autoseed's entry point adds torch."""
    shuffled = project.draws("-p", "randomly", "--randomly-seed=5", "test_draws.py")
    in_order = project.draws(
        "-p", "randomly", "--randomly-seed=5", "--randomly-dont-reorganize", "test_draws.py"
    )
    assert list(shuffled) != list(in_order), "pytest-randomly shuffled the order"
    assert shuffled == in_order, "torch's draws follow the test, not the order"
    lines, output = project.pytest("-p", "no:randomly", "test_draws.py")
    assert "autoseed:" not in output, "inactive without AUTOSEED"
    assert len({line.split()[-1] for line in lines}) == len(IDS), "torch's stream runs on"


def test_a_switch_turns_it_off(project: Project) -> None:
    args = ("-p", "no:randomly")
    lines, output = project.pytest(*args, "test_draws.py", AUTOSEED="1024", AUTOSEED_PYTEST="0")
    assert "autoseed:" not in output, output
    forward = dict(line.split(" ", 1) for line in lines)
    backward = project.draws(*args, *reversed(IDS), AUTOSEED="1024", AUTOSEED_PYTEST="0")
    assert forward != backward, "without the plugin a test's draws depend on the order"
    bad = run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_draws.py"],
        env=clean_env(AUTOSEED="1024", AUTOSEED_PYTEST="maybe", DRAWS_FILE="/dev/null"),
        cwd=project.path,
    )
    expected = "AUTOSEED_PYTEST='maybe' (from the environment) is not valid"
    assert expected in bad.stderr, describe(bad)


FIXTURE_SEEDS = """
import os, random

import numpy as np
import pytest
import torch


@pytest.fixture
def seeded():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def test_a_fixture_seed_wins(seeded):
    line = f"seeded {random.random()} {np.random.rand()} {torch.rand(1).item()}"
    with open(os.environ["DRAWS_FILE"], "a") as file:
        file.write(line + "\\n")
"""


def test_a_seed_set_by_a_fixture_wins(project: Project) -> None:
    """As without autoseed. (pytest-randomly, where enabled, reseeds after fixtures itself.)"""
    (project.path / "test_fixture_seeds.py").write_text(FIXTURE_SEEDS)
    expected = run(
        [sys.executable, "-c", "import random, numpy as np, torch\n"
         "random.seed(0); np.random.seed(0); torch.manual_seed(0)\n"
         "print('seeded', random.random(), np.random.rand(), torch.rand(1).item())"],
        env=clean_env(),
    ).stdout.strip()  # fmt: skip
    for env in ({"AUTOSEED": "1024"}, {}):
        lines, _ = project.pytest("-p", "no:randomly", "test_fixture_seeds.py", **env)
        assert lines == [expected], (env, lines)
