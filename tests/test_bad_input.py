"""Bad configuration: other programs run on in silence; numpy and torch refuse to import, and
one clear line says why, at that import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

BAD_SEEDS = ["abc", "12a4", "-1", "4294967296", "1.5", "0x10"]
ACCEPTED = "expected an integer 0..4294967295, 'random', or '', 'off', 'none', 'false', 'no'"


def assert_one_clear_line(result: object, starts: str) -> None:
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert stderr.startswith(starts), describe(result)  # type: ignore[arg-type]
    assert stderr.count("\n") == 1, describe(result)  # type: ignore[arg-type]
    assert "Traceback" not in stderr


def assert_told_at_the_refusal(
    venv: Venv, starts: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> None:
    """A bare start says nothing; importing numpy says the line once, then raises."""
    quiet = check(venv.run("-c", "import json, random; print('ran')", env=env, cwd=cwd))
    assert (quiet.stdout, quiet.stderr) == ("ran\n", ""), describe(quiet)
    refused = venv.run("-c", "import numpy", env=env, cwd=cwd)
    assert refused.returncode == 1, describe(refused)
    line, *traceback = refused.stderr.splitlines()
    assert line.startswith(starts), describe(refused)
    assert line.endswith("; importing numpy or torch fails until this is fixed")
    assert traceback[0] == "Traceback (most recent call last):", describe(refused)
    assert traceback[-1].startswith("autoseed.ConfigError: "), describe(refused)
    assert not any(text.startswith("autoseed: ") for text in traceback), describe(refused)


@pytest.mark.parametrize("value", BAD_SEEDS)
def test_bad_seed_in_environment(installed: Venv, value: str) -> None:
    env = clean_env(AUTOSEED=value)
    expected = f"autoseed: AUTOSEED={value!r} (from the environment) is not valid; {ACCEPTED}"
    assert_told_at_the_refusal(installed, expected, env=env)
    for library in ("numpy", "torch"):
        refused = installed.run("-c", f"import {library}", env=env)
        assert refused.returncode == 1, describe(refused)
        last = refused.stderr.strip().splitlines()[-1]
        assert last.startswith(f"autoseed.ConfigError: AUTOSEED={value!r} (from the environment)")
        assert "reloaded" not in refused.stderr, describe(refused)


def test_pip_keeps_working_with_bad_configuration(installed: Venv) -> None:
    result = check(installed.run("-m", "pip", "--version", env=clean_env(AUTOSEED="abc")))
    assert result.stdout.startswith("pip ")
    assert result.stderr == "", "told where numpy or torch is imported, never at every start"


def test_refusal_is_not_an_import_error(installed: Venv) -> None:
    code = (
        "try:\n    import numpy\nexcept ImportError:\n    print('silently unseeded')\n"
        "except Exception as exc:\n    print(type(exc).__module__, type(exc).__name__)"
    )
    result = check(installed.run("-c", code, env=clean_env(AUTOSEED="abc")))
    assert result.stdout == "autoseed ConfigError\n", describe(result)


def test_bad_value_in_env_file_names_the_file_and_line(installed: Venv, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# settings\nAUTOSEED=1024\nAUTOSEED_CUDNN=fast\n")
    assert_told_at_the_refusal(
        installed,
        f"autoseed: AUTOSEED_CUDNN='fast' (from {env_file}, line 3) is not valid",
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AUTOSEED_CUDNN", "fast"), ("AUTOSEED_VERBOSE", "loud")],
)
def test_bad_values_of_other_settings(installed: Venv, variable: str, value: str) -> None:
    env = clean_env(AUTOSEED="1", **{variable: value})
    assert_told_at_the_refusal(
        installed, f"autoseed: {variable}={value!r} (from the environment)", env=env
    )


def test_named_env_file_that_is_missing(installed: Venv, tmp_path: Path) -> None:
    missing = tmp_path / "nope.env"
    assert_told_at_the_refusal(
        installed,
        f"autoseed: AUTOSEED_ENV_FILE={str(missing)!r} (from the environment) cannot be read "
        "(No such file or directory)",
        env=clean_env(AUTOSEED_ENV_FILE=str(missing)),
    )


@pytest.mark.parametrize(
    "kind", ["binary", "directory", "fifo", "unterminated quote", "bom and crlf"]
)
def test_broken_env_files_never_break_start_up(installed: Venv, tmp_path: Path, kind: str) -> None:
    env_file = tmp_path / ".env"
    if kind == "binary":
        env_file.write_bytes(os.urandom(4096) + b"\nAUTOSEED\x00=\xff\xfe\n" + os.urandom(512))
    elif kind == "directory":
        env_file.mkdir()
    elif kind == "fifo":
        os.mkfifo(env_file)
    elif kind == "unterminated quote":
        env_file.write_text("AUTOSEED='12\n")
    else:
        env_file.write_bytes(b"\xef\xbb\xbfAUTOSEED=12\r\nAUTOSEED_VERBOSE=1\r\n")
    result = installed.run("-c", "import random; print('ran')", cwd=tmp_path, timeout=60)
    assert result.returncode == 0 and result.stdout == "ran\n", describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    if kind == "bom and crlf":
        assert result.stderr == (
            "autoseed: restarted once with PYTHONHASHSEED=12\nautoseed: seeded random with 12\n"
        ), describe(result)
    if kind == "unterminated quote":
        # A line that sets AUTOSEED but cannot be parsed is an invalid value, not a skipped line.
        assert_told_at_the_refusal(
            installed,
            f'autoseed: "AUTOSEED=\'12" ({env_file}, line 1) cannot be parsed; expected',
            cwd=tmp_path,
        )


def test_deleted_working_directory(installed: Venv, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    script = f"mkdir {gone} && cd {gone} && rmdir {gone} && exec {installed.python} -c "
    for extra in ({}, {"AUTOSEED": "3", "AUTOSEED_VERBOSE": "1"}):
        result = run(
            ["sh", "-c", script + "'import random; print(\"ran\")'"], env=clean_env(**extra)
        )
        assert result.returncode == 0 and result.stdout == "ran\n", describe(result)
        restarted = "autoseed: restarted once with PYTHONHASHSEED=3\n"
        expected = f"{restarted}autoseed: seeded random with 3\n" if extra else ""
        assert result.stderr == expected, describe(result)


def test_unknown_setting_is_named(installed: Venv) -> None:
    env = clean_env(AUTOSEED="1", AUTOSEED_CUDDN="benchmark")
    bare = check(installed.run("-c", "pass", env=env))
    assert bare.stderr == "", "said where it helps: at numpy's or torch's import"
    result = check(installed.run("-c", "import numpy", env=env))
    assert_one_clear_line(
        result,
        "autoseed: AUTOSEED_CUDDN (from the environment) is not a setting and is ignored; "
        "did you mean AUTOSEED_CUDNN?",
    )
