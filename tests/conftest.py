"""Fixtures: a wheel built once, real virtual environments, real interpreters.

Virtual environments are made from the base interpreter with ``--system-site-packages`` so that
they reuse its torch and numpy cheaply; the base interpreter never has autoseed installed, so a
venv sees autoseed only where a test installs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from autoseed import hook
from autoseed.seeding import libraries

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
LEGACY_SCRIPT = EXAMPLES / "legacy_train.py"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
# Where processes run unless a test says otherwise: not the checkout, whose autoseed/ folder a
# bare ``python -c`` could import, and whose .env (a developer's) would leak into the tests.
NEUTRAL_DIRECTORY = tempfile.mkdtemp(prefix="autoseed-tests-")


class Venv:
    """A real virtual environment and ways to run its interpreter."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = path / "bin" / "python"
        self.bin = path / "bin"

    @property
    def site_packages(self) -> Path:
        out = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            env=clean_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return Path(out.stdout.strip())

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return check(run([str(self.python), "-m", "pip", "--quiet", *args]))

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        return run([str(self.python), *args], env=env, cwd=cwd, timeout=timeout)


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything that could configure autoseed by accident."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTOSEED", "PYTHONHASHSEED", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


def run(
    argv: list[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 300,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=dict(env) if env is not None else clean_env(),
        cwd=NEUTRAL_DIRECTORY if cwd is None else cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"command: {result.args}\nexit status: {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


def check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, describe(result)
    return result


SCRIPTS = Path(__file__).parent / "scripts"


def torchrun(venv: Venv, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``scripts/<script> args`` under torchrun with 2 ranks on this machine, checked."""
    return check(
        venv.run(
            "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            str(SCRIPTS / script), *args, env=clean_env(**env), timeout=240,
        )
    )  # fmt: skip


def write_script(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(source)
    return path


def verify_script(
    venv: Venv, script: Path, *extra: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``autoseed verify [extra] -- python script``, run from the script's folder."""
    result = run(
        [str(venv.bin / "autoseed"), "verify", *extra, "--", str(venv.python), str(script)],
        env=clean_env(**env), cwd=script.parent, timeout=600,
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
    return result


def make_venv(path: Path, *, system_site_packages: bool = True) -> Venv:
    argv = [BASE_PYTHON, "-m", "venv", str(path)]
    if system_site_packages:
        argv.insert(3, "--system-site-packages")
    check(run(argv))
    return Venv(path)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Test venvs share the base interpreter's site-packages: autoseed must not be there."""
    result = run([BASE_PYTHON, "-c", "import autoseed"], env=clean_env())
    if result.returncode == 0:
        raise pytest.UsageError(
            f"autoseed is installed in the base interpreter {BASE_PYTHON}; the tests' virtual "
            "environments reuse its site-packages. Uninstall it there "
            f"({BASE_PYTHON} -m pip uninstall autoseed) and run the tests from .venv."
        )


def build_wheel(source: Path, out: Path) -> Path:
    """Build ``source`` into a wheel in ``out`` through its real build backend."""
    check(
        run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
            + ["--wheel-dir", str(out), str(source)]
        )
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once."""
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Venv:
    """A venv (with the base interpreter's torch and numpy) where the wheel is pip-installed."""
    venv = make_venv(tmp_path_factory.mktemp("installed") / "venv")
    venv.pip("install", "--no-index", "--no-deps", str(wheel))
    return venv


@pytest.fixture
def fresh_venv(tmp_path: Path) -> Venv:
    return make_venv(tmp_path / "venv")


@pytest.fixture
def isolated_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reset autoseed's in-process state and ``os.environ`` around an in-process test."""
    for key in list(os.environ):
        if key.startswith("AUTOSEED") or key == "PYTHONHASHSEED":
            monkeypatch.delenv(key)
    saved_environ = dict(os.environ)
    yield
    hook.forget()
    libraries._records.clear()
    libraries._plan = None
    libraries._environment_before_export = None
    os.environ.clear()
    os.environ.update(saved_environ)
