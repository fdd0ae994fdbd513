"""pytest never warns about autoseed: a project with ``filterwarnings = ["error"]`` runs clean.

autoseed declares a ``pytest11`` plugin, so pytest asks to rewrite the asserts of its modules and
warns about any of them already imported, as the start-up hook's are. Each case is a real venv
with the wheel or an editable install, the oldest pytest the plugin supports or the newest 9.x,
run with AUTOSEED off and on, with and without pytest-xdist.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, Venv, clean_env, describe, make_venv, run

pytestmark = pytest.mark.slow

# The oldest pytest the plugin supports (docs/test-suites.md), with the xdist, pluggy and
# execnet of its day: pytest 7.0 under the newest pluggy can fail as xdist shuts down.
OLDEST = ["pytest==7.0.1", "pytest-xdist==2.5.0", "pluggy==1.0.0", "execnet==1.9.0"]
NEWEST = ["pytest>=9,<10", "pytest-xdist"]

PROJECT_CONFIG = """
[tool.pytest.ini_options]
filterwarnings = ["error"]
"""
PROJECT_TEST = """
import random

import numpy as np


def test_draws():
    print("draws", random.random(), np.random.rand())
"""


@pytest.mark.parametrize("install", ["wheel", "editable"])
@pytest.mark.parametrize("pytest_versions", [OLDEST, NEWEST], ids=["oldest", "newest"])
def test_a_warnings_as_errors_project_runs_clean(
    tmp_path: Path, wheel: Path, install: str, pytest_versions: list[str]
) -> None:
    venv = make_venv(tmp_path / "venv")
    venv.pip("install", *pytest_versions)
    if install == "wheel":
        venv.pip("install", "--no-index", "--no-deps", str(wheel))
    else:
        venv.pip("install", "--no-deps", "--editable", str(ROOT))
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(PROJECT_CONFIG)
    (project / "test_project.py").write_text(PROJECT_TEST)
    for seed in (None, "1024"):
        for workers in ([], ["-n", "2"]):
            result = pytest_in(venv, project, workers, seed)
            assert result.returncode == 0, describe(result)
            output = result.stdout + result.stderr
            assert "Warning" not in output and "warnings summary" not in output, describe(result)
            assert "1 passed" in result.stdout, describe(result)
            # Evidence that the plugin was loaded, and active exactly when AUTOSEED is set.
            header = "autoseed: AUTOSEED=1024 (from the environment)"
            assert (header in result.stdout) == (seed is not None), describe(result)


def pytest_in(
    venv: Venv, project: Path, workers: list[str], seed: str | None
) -> subprocess.CompletedProcess[str]:
    # pytest-benchmark, where the base interpreter has it, warns under xdist by itself.
    env = clean_env() if seed is None else clean_env(AUTOSEED=seed)
    argv = [str(venv.python), "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:benchmark"]
    return run([*argv, *workers, "-rA"], env=env, cwd=project)
