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
    result = installed.run("-c", "import numpy", env=clean_env(AUTOSEED="7" * 100_000))
    line = result.stderr.splitlines()[0]
    assert line.startswith("autoseed: AUTOSEED='7777"), describe(result)
    assert "... (100000 characters) (from the environment) is not valid" in line
    assert len(line) < 400


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


def test_without_python_dotenv_a_env_setting_is_told_not_skipped(
    tmp_path: Path, wheel: Path
) -> None:
    """Installed without its dependency (--no-deps): a .env that sets AUTOSEED cannot be read,
    which is said at numpy's import, which is refused, as for an invalid value."""
    bare = make_venv(tmp_path / "bare", system_site_packages=False)
    bare.pip("install", "--no-index", "--no-deps", str(wheel))
    missing = bare.run("-c", "import dotenv", cwd=tmp_path)
    assert missing.returncode == 1, "python-dotenv is really absent"
    (tmp_path / ".env").write_text("AUTOSEED=9\nAUTOSEED_VERBOSE=1\n")
    quiet = check(bare.run("-c", "import random; print('ran')", cwd=tmp_path))
    assert (quiet.stdout, quiet.stderr) == ("ran\n", ""), describe(quiet)
    refused = bare.run("-c", "import numpy", cwd=tmp_path)
    assert refused.returncode == 1, describe(refused)
    said = (
        f"autoseed: AUTOSEED ({tmp_path / '.env'}, line 1) cannot be read: autoseed reads .env "
        f"files with python-dotenv, which {bare.python} cannot import"
    )
    assert refused.stderr.startswith(said), describe(refused)
    assert refused.stderr.splitlines()[-1].startswith("autoseed.ConfigError: AUTOSEED ("), describe(
        refused
    )
    status = run([str(bare.bin / "autoseed"), "status"], cwd=tmp_path)
    assert status.returncode == 1 and "Traceback" not in status.stderr, describe(status)
    assert "python -m pip install python-dotenv" in status.stdout, describe(status)


def test_a_nearer_env_file_that_sets_nothing_hides_a_farther_one(
    installed: Venv, tmp_path: Path
) -> None:
    """The nearest .env is the one read, as find_dotenv reads it: a project's sub-folder with a
    .env of its own runs unseeded, which is said once, naming both files."""
    (tmp_path / ".env").write_text("AUTOSEED=5\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / ".env").write_text("DB_URL=postgres://db\n")
    line = told(installed, sub)
    assert line == (
        f"autoseed: {sub / '.env'} sets nothing for autoseed, and hides {tmp_path / '.env'}, "
        "which sets AUTOSEED keys: only the nearest .env is read (as python-dotenv's "
        f"find_dotenv reads it), so nothing of it is used; move those lines into {sub / '.env'}, "
        f"or name {tmp_path / '.env'} in AUTOSEED_ENV_FILE\n"
    )
    assert f"hides {tmp_path / '.env'}" in status_fails(installed, sub)
    seeded = check(installed.run("-c", SEEDING, env=clean_env(AUTOSEED="3"), cwd=sub))
    assert seeded.stderr == "", "a seed from the environment: nothing is hidden that matters"
    (sub / ".env").write_text("AUTOSEED_VERBOSE=0\n")  # sets something: the nearest wins
    quiet = check(installed.run("-c", SEEDING, cwd=sub))
    assert quiet.stderr == "", describe(quiet)


@pytest.mark.parametrize(
    ("switches", "said"),
    [
        ({"AUTOSEED_RESUME": "1"}, "AUTOSEED_RESUME='1' (from the environment) needs a seed"),
        ({"AUTOSEED_OVERRIDE": "1"}, "AUTOSEED_OVERRIDE='1' (from the environment) needs a seed"),
    ],
)
def test_a_switch_that_needs_a_seed_without_one_is_told(
    installed: Venv, switches: dict[str, str], said: str
) -> None:
    line = told(installed, Path(NEUTRAL_DIRECTORY), **switches)
    assert line.startswith(f"autoseed: {said} and does nothing while AUTOSEED is not set")
    status = run([str(installed.bin / "autoseed"), "status"], env=clean_env(**switches))
    assert status.returncode == 1, describe(status)
    ((variable, value),) = switches.items()
    shown = f"  {variable}={value!r} (from the environment): on: "
    assert shown in status.stdout and "; but nothing while AUTOSEED is off" in status.stdout
    off = check(installed.run("-c", SEEDING, env=clean_env(AUTOSEED="off", **switches)))
    assert off.stderr == "", "AUTOSEED=off is off on purpose"


def test_a_switch_with_an_empty_seed_says_the_seed_is_empty(installed: Venv) -> None:
    line = told(installed, Path(NEUTRAL_DIRECTORY), AUTOSEED="", AUTOSEED_RESUME="1")
    assert line.startswith(
        "autoseed: AUTOSEED_RESUME='1' (from the environment) needs a seed and does nothing "
        "while AUTOSEED is empty (from the environment); set AUTOSEED too"
    ), line


@pytest.mark.parametrize(
    ("written", "environment"),
    [("${SEED}", {}), ("${SEED}", {"SEED": ""}), ("${SEED:-3}", {"SEED": ""})],
)
def test_a_seed_that_expands_to_nothing_is_told(
    installed: Venv, tmp_path: Path, written: str, environment: dict[str, str]
) -> None:
    """A .env that names the seed asked for one: an empty expansion (SEED unset, or set empty,
    where python-dotenv takes no default) runs unseeded, said once; ${SEED:-off} is quiet."""
    (tmp_path / ".env").write_text(f"AUTOSEED={written}\n")
    line = told(installed, tmp_path, **environment)
    assert line == (
        f"autoseed: AUTOSEED={written!r} ({tmp_path / '.env'}, line 1) expands to an empty value, "
        "so nothing is seeded; set the variable it names, or give it a default: ${VAR:-0} for "
        "a seed, ${VAR:-off} for off on purpose (a default applies only where VAR is unset)\n"
    )
    status = run([str(installed.bin / "autoseed"), "status"], env=clean_env(**environment),
                 cwd=tmp_path)  # fmt: skip
    assert status.returncode == 1 and "expands to an empty value" in status.stdout, describe(status)
    (tmp_path / ".env").write_text("AUTOSEED=${SEED:-off}\n")
    quiet = check(installed.run("-c", SEEDING, env=clean_env(), cwd=tmp_path))
    assert quiet.stderr == "", describe(quiet)


def test_a_shell_style_reference_is_refused_with_what_a_env_expands(
    installed: Venv, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("AUTOSEED=$SEED\n")
    result = installed.run("-c", SEEDING, env=clean_env(SEED="5"), cwd=tmp_path)
    assert result.returncode != 0, describe(result)
    assert (
        f"autoseed: AUTOSEED='$SEED' (from {tmp_path / '.env'}, line 1) is not valid; expected "
    ) in result.stderr, describe(result)
    assert "; a .env expands only ${VAR} and ${VAR:-default}\n" in result.stderr, describe(result)


def test_status_shows_what_a_value_means(installed: Venv) -> None:
    env = clean_env(AUTOSEED="3", AUTOSEED_RESUME="1", AUTOSEED_GENERATORS="", AUTOSEED_PYTEST="no")
    status = check(run([str(installed.bin / "autoseed"), "status"], env=env))
    for shown in (
        "  AUTOSEED='3' (from the environment): seed 3",
        "  AUTOSEED_RESUME='1' (from the environment): on: random states saved beside each "
        "torch.save checkpoint, restored at a resume",
        "  AUTOSEED_GENERATORS='' (from the environment): on: generators made without a seed get "
        "seeds derived from the seed (empty: the default)",
        "  AUTOSEED_PYTEST='no' (from the environment): off: pytest left alone",
    ):
        assert f"{shown}\n" in status.stdout, (shown, describe(status))
