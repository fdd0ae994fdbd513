"""Never silently unseeded: what asks for autoseed and cannot get it is said, once, where it helps.

The rule: when something within reach clearly asks for autoseed (an AUTOSEED key in a .env that
cannot be read, decoded or trusted, an install that cannot import autoseed, a misspelt setting)
and the process imports numpy or torch, one line says what happened and how to fix it, once per
job. A bare start (pip, any program that seeds nothing) stays quiet; `autoseed status` exits 1.
Real installs, real processes; the install case is in test_cli.py, the other user's in
test_scope.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NEUTRAL_DIRECTORY, Venv, check, clean_env, describe, make_venv, run

pytestmark = pytest.mark.slow

BARE = "import random; print('ran')"
SEEDING = "import numpy, torch; print('ran')"


def told(venv: Venv, cwd: Path, prefix: list[str] | None = None, **env: str) -> str:
    """The one line a process that imports numpy and torch gets; a bare start gets none."""
    bare = check(run([*(prefix or []), str(venv.python), "-c", BARE], env=clean_env(**env),
                     cwd=cwd))  # fmt: skip
    assert (bare.stdout, bare.stderr) == ("ran\n", ""), describe(bare)
    seeding = check(run([*(prefix or []), str(venv.python), "-c", SEEDING], env=clean_env(**env),
                        cwd=cwd))  # fmt: skip
    assert seeding.stdout == "ran\n" and seeding.stderr.count("\n") == 1, describe(seeding)
    assert seeding.stderr.startswith("autoseed: ") and "Traceback" not in seeding.stderr
    return seeding.stderr


def status_fails(venv: Venv, cwd: Path, prefix: list[str] | None = None) -> str:
    result = run([*(prefix or []), str(venv.bin / "autoseed"), "status"], cwd=cwd)
    assert result.returncode == 1 and "Traceback" not in result.stderr, describe(result)
    return result.stdout


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_env_file(installed: Venv, tmp_path: Path, encoding: str) -> None:
    """PowerShell's `echo AUTOSEED=1024 > .env` writes UTF-16 with a byte-order mark."""
    env_file = tmp_path / ".env"
    env_file.write_bytes("SECRET=x\r\nAUTOSEED=1024\r\n".encode(encoding))
    line = told(installed, tmp_path)
    assert line.startswith(f"autoseed: {env_file} is UTF-16, and .env files are read as UTF-8")
    assert "its AUTOSEED settings are ignored; save it as UTF-8: iconv -f UTF-16" in line
    assert "UTF-16, not UTF-8" in status_fails(installed, tmp_path)
    env_file.write_bytes("SECRET=x\r\n".encode(encoding))  # asks for nothing: nothing to say
    quiet = check(installed.run("-c", SEEDING, cwd=tmp_path))
    assert quiet.stderr == "", describe(quiet)


def test_an_autoseed_line_after_the_first_mib(installed: Venv, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    padding = b"# " + b"x" * 97 + b"\n"
    lines = (1 << 20) // len(padding) + 10
    env_file.write_bytes(padding * lines + b"AUTOSEED=1024\n")
    line = told(installed, tmp_path)
    assert line == (
        f"autoseed: {env_file}, line {lines + 1}, sets an AUTOSEED key after the first 1 MiB, "
        "which is all autoseed reads of a .env, so it is ignored; move the AUTOSEED lines to "
        "the top of the file\n"
    )
    assert f"line {lines + 1}, sets an AUTOSEED key" in status_fails(installed, tmp_path)
    env_file.write_bytes(padding * lines)  # a big .env that asks for nothing
    quiet = check(installed.run("-c", SEEDING, cwd=tmp_path))
    assert quiet.stderr == "", describe(quiet)


def test_your_own_env_file_that_cannot_be_read(installed: Venv, tmp_path: Path) -> None:
    """Mode 000, read by a process that cannot override file permissions (root can: the
    process drops that capability, as any other user lacks it)."""
    env_file = tmp_path / ".env"
    env_file.write_text("AUTOSEED=1024\n")
    env_file.chmod(0)
    unprivileged = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                    "--bounding-set=-dac_override,-dac_read_search"]  # fmt: skip
    line = told(installed, tmp_path, prefix=unprivileged)
    assert line == (
        f"autoseed: could not read {env_file} (Permission denied), so an AUTOSEED setting in "
        "it would be ignored; make it readable, or set AUTOSEED_ENV_FILE=none to skip it\n"
    )
    assert "(unreadable: Permission denied)" in status_fails(installed, tmp_path, unprivileged)


@pytest.mark.parametrize("name", ["AUTO_SEED", "autoseed", "AUTOSED", "AUTOSEDE", "AUTOSEEED"])
def test_a_misspelt_name_is_told_at_numpy_not_at_start(installed: Venv, name: str) -> None:
    line = told(installed, Path(NEUTRAL_DIRECTORY), **{name: "1024"})
    assert line == (
        f"autoseed: {name} (from the environment) is not a setting and is ignored; "
        "did you mean AUTOSEED?\n"
    )


@pytest.mark.parametrize("name", ["AUTOSEND", "AUTOSPEED", "AUTOFEED", "XAUTHORITY", "AUTHOR"])
def test_ordinary_names_are_not_misspellings(installed: Venv, name: str) -> None:
    result = check(installed.run("-c", SEEDING, env=clean_env(**{name: "1"})))
    assert result.stderr == "", describe(result)


WORKERS = """
import numpy, torch
from torch.utils.data import DataLoader, Dataset

class Data(Dataset):
    def __len__(self):
        return 4
    def __getitem__(self, index):
        return numpy.random.rand()

if __name__ == "__main__":
    for context in ("spawn", "fork"):
        print(sorted(float(x) for x in DataLoader(Data(), num_workers=2,
                                                  multiprocessing_context=context)))
"""


@pytest.mark.parametrize("problem", ["misspelt", "utf-16"])
def test_a_job_is_told_once_not_in_every_worker(
    installed: Venv, tmp_path: Path, problem: str
) -> None:
    script = tmp_path / "train.py"
    script.write_text(WORKERS)
    env = clean_env(AUTOSEED="7")
    if problem == "misspelt":
        env["AUTOSEED_CUDDN"] = "benchmark"
    else:
        (tmp_path / ".env").write_bytes("AUTOSEED_VERBOSE=1\n".encode("utf-16"))
    result = check(installed.run(str(script), env=env, cwd=tmp_path))
    lines = [line for line in result.stderr.splitlines() if line.startswith("autoseed:")]
    assert len(lines) == 1, describe(result)
    assert result.stdout.count("\n") == 2, describe(result)


def test_a_huge_value_is_not_echoed_whole(installed: Venv) -> None:
    result = check(installed.run("-c", "pass", env=clean_env(AUTOSEED="7" * 100_000)))
    assert result.stderr.startswith("autoseed: AUTOSEED='7777"), describe(result)
    assert "... (100000 characters) (from the environment) is not valid" in result.stderr
    assert len(result.stderr) < 400 and result.stderr.count("\n") == 1


def test_status_in_a_deleted_working_directory_says_why(installed: Venv, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    script = f"mkdir {gone} && cd {gone} && rmdir {gone} && exec {installed.bin}/autoseed status"
    result = run(["sh", "-c", script])
    assert result.returncode == 0, describe(result)
    assert ".env files: lookup skipped: the working directory no longer exists" in result.stdout


def test_status_in_a_child_of_a_seeded_process_says_where_its_hash_seed_came_from(
    installed: Venv,
) -> None:
    """A kernel that a seeded Jupyter server starts inherits PYTHONHASHSEED from autoseed."""
    code = "import subprocess, sys; subprocess.run([sys.argv[1], 'status'], check=True)"
    result = check(
        installed.run("-c", code, str(installed.bin / "autoseed"), env=clean_env(AUTOSEED="5"))
    )
    assert (
        "PYTHONHASHSEED=5: inherited from a parent process that autoseed seeded" in result.stdout
    ), describe(result)
    mine = check(run([str(installed.bin / "autoseed"), "status"],
                     env=clean_env(AUTOSEED="5", PYTHONHASHSEED="5")))  # fmt: skip
    assert "PYTHONHASHSEED=5: set by you" in mine.stdout, describe(mine)


def test_a_missing_dependency_cannot_break_anything(tmp_path: Path, wheel: Path) -> None:
    """autoseed has no run-time dependency: a plain venv without python-dotenv reads .env."""
    bare = make_venv(tmp_path / "bare", system_site_packages=False)
    bare.pip("install", "--no-index", "--no-deps", str(wheel))
    (tmp_path / ".env").write_text("AUTOSEED=9\nAUTOSEED_VERBOSE=1\n")
    result = check(bare.run("-c", "import random", cwd=tmp_path))
    assert result.stderr.endswith("autoseed: seeded random with 9\n"), describe(result)
    missing = bare.run("-c", "import dotenv", cwd=tmp_path)
    assert missing.returncode == 1, "python-dotenv is really absent"
    status = run([str(bare.bin / "autoseed"), "status"], cwd=tmp_path)
    assert status.returncode == 0 and "Traceback" not in status.stderr, describe(status)
    assert f"AUTOSEED='9' (from {tmp_path / '.env'}, line 1)" in status.stdout
