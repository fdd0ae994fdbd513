"""Finding and reading ``.env`` files: the start-up lookup, the file's head, and its settings,
whose values python-dotenv reads (``${VAR}`` included), in real processes too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autoseed.names import ENV_FILE_READ_LIMIT, locate_env_file
from autoseed.settings.env_file import EnvFile, read_env_file
from autoseed.settings.plan import ConfigError
from autoseed.settings.sources import read_file_settings, settings_from_env_file
from conftest import Venv, check, clean_env, describe, make_venv


def head_of(path: Path) -> EnvFile:
    return read_env_file(str(path), False)


def settings_of(path: Path, content: bytes) -> tuple[dict[str, str], list[str]]:
    path.write_bytes(content)
    settings, notes = settings_from_env_file(head_of(path), {})
    return {name: setting.raw for name, setting in settings.items()}, [n.text for n in notes]


def test_nearest_env_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("AUTOSEED=1\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".env").write_text("AUTOSEED=2\n")
    (tmp_path / "a" / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a" / "b")
    assert locate_env_file({}) == (str(tmp_path / "a" / ".env"), False)
    monkeypatch.chdir(tmp_path)
    assert locate_env_file({}) == (str(tmp_path / ".env"), False)


def test_directories_and_fifos_named_env_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("AUTOSEED=1\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / ".env").mkdir()
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / ".env")
    for sub in ("dir", "fifo"):
        monkeypatch.chdir(tmp_path / sub)
        assert locate_env_file({}) == (str(tmp_path / ".env"), False)


def test_explicit_file_and_none(tmp_path: Path) -> None:
    assert locate_env_file({"AUTOSEED_ENV_FILE": "none"}) is None
    assert locate_env_file({"AUTOSEED_ENV_FILE": " NONE "}) is None
    named = str(tmp_path / "settings.env")
    assert locate_env_file({"AUTOSEED_ENV_FILE": named}) == (named, True)


def test_named_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.env"
    os.mkfifo(fifo)
    head = read_env_file(str(fifo), True)
    assert head.error is not None and head.data == b""


def test_missing_file_keeps_the_error(tmp_path: Path) -> None:
    head = read_env_file(str(tmp_path / "missing.env"), True)
    assert isinstance(head.error, FileNotFoundError)


def test_huge_file_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    line = b"# " + b"x" * 98 + b"\n"
    path.write_bytes(b"AUTOSEED=5\n" + line * (3 * ENV_FILE_READ_LIMIT // len(line)))
    head = head_of(path)
    assert head.truncated and len(head.data) <= ENV_FILE_READ_LIMIT
    assert head.data.endswith(b"\n")
    settings, notes = read_file_settings(head, {})
    assert settings["AUTOSEED"].raw == "5"
    assert [note.text for note in notes] == [
        f"{path} is larger than 1 MiB; only its first MiB was read, so a setting after that "
        "is ignored"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"AUTOSEED=1024\n", {"AUTOSEED": "1024"}),
        (b"\xef\xbb\xbfAUTOSEED=7\n", {"AUTOSEED": "7"}),
        (b"AUTOSEED=7\r\nAUTOSEED_CUDNN=keep\r\n", {"AUTOSEED": "7", "AUTOSEED_CUDNN": "keep"}),
        (b"export AUTOSEED=9\n", {"AUTOSEED": "9"}),
        (b"AUTOSEED='11' # the seed\n", {"AUTOSEED": "11"}),
        (b'AUTOSEED="12"\n# AUTOSEED=13\n', {"AUTOSEED": "12"}),
        (b"AUTOSEED=1\nAUTOSEED=2\n", {"AUTOSEED": "2"}),
        (b"AUTOSEED\n", {"AUTOSEED": ""}),
        (b"AUTOSEED=${SEED}\n", {"AUTOSEED": ""}),
        (b"SEED=4\nAUTOSEED=${SEED}\n", {"AUTOSEED": "4"}),
        (b"AUTOSEED=${SEED:-5}\n", {"AUTOSEED": "5"}),
        (b"AUTOSEED='${SEED:-5}'\n", {"AUTOSEED": "5"}),
        (b"AUTOSEED=$SEED\n", {"AUTOSEED": "$SEED"}),
        (b"AUTOSEED=$(rm -rf /)\n", {"AUTOSEED": "$(rm -rf /)"}),
        (b'AUTOSEED_CUDNN="deter\\nministic"\n', {"AUTOSEED_CUDNN": "deter\nministic"}),
    ],
)
def test_dotenv_syntax(tmp_path: Path, content: bytes, expected: dict[str, str]) -> None:
    assert settings_of(tmp_path / ".env", content)[0] == expected


def test_only_autoseed_keys_are_read(tmp_path: Path) -> None:
    settings, problems = settings_of(
        tmp_path / ".env", b"SECRET_TOKEN=hunter2\nAUTOSEED=3\nDATABASE_URL=postgres://x\n"
    )
    assert settings == {"AUTOSEED": "3"}
    assert problems == []


def test_line_numbers_name_the_source(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\n\n\nAUTOSEED=3\n")
    settings, _ = settings_from_env_file(head_of(path), {})
    assert settings["AUTOSEED"].source == f"{path}, line 4"
    path.write_bytes(b"A=1\r\nB: broken\r\n\r\nAUTOSEED=3\r\n")  # each CRLF one line
    settings, _ = settings_from_env_file(head_of(path), {})
    assert settings["AUTOSEED"].source == f"{path}, line 4"


@pytest.mark.parametrize(
    "line", [b"AUTOSEED='broken", b"AUTOSEED: 1024", b'AUTOSEED = "1024', b"export AutoSeed: 1"]
)
def test_an_unparsable_autoseed_line_is_an_invalid_value(tmp_path: Path, line: bytes) -> None:
    """Skipping it would run unseeded in silence, while AUTOSEED=1_024 refuses numpy."""
    with pytest.raises(ConfigError, match=r"\(.*\.env, line 2\) cannot be parsed; expected KEY="):
        settings_of(tmp_path / ".env", b"OTHER=1\n" + line + b"\n")


def test_unparsable_lines_of_others_are_not_ours_to_judge(tmp_path: Path) -> None:
    assert settings_of(tmp_path / ".env", b"OTHER: 1\nX='open\nAUTOSEED=4\n") == (
        {"AUTOSEED": "4"},
        [],
    )


def test_misspelt_keys_are_kept_to_be_named_and_env_file_is_ignored(tmp_path: Path) -> None:
    content = b"autoseed=1\nAUTO_SEED=2\nAUTOSEED_ENV_FILE=/elsewhere/.env\n"
    settings, problems = settings_of(tmp_path / ".env", content)
    assert settings == {"autoseed": "1", "AUTO_SEED": "2"}
    (problem,) = problems
    assert problem.startswith("AUTOSEED_ENV_FILE in ") and "environment only" in problem


def test_binary_garbage_does_not_raise(tmp_path: Path) -> None:
    settings, _ = settings_of(tmp_path / ".env", bytes(range(256)) * 50 + b"\nAUTOSEED=4\n")
    assert settings.get("AUTOSEED") is None or settings["AUTOSEED"].startswith("4")


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        (b"AUTOSEED=1\n", True),
        (b"  export   AUTOSEED_CUDNN=keep\n", True),
        (b"\xef\xbb\xbfAUTOSEED=1\n", True),
        (b"# AUTOSEED=1024\nOTHER=1\n", False),
        (b"NOTE=set AUTOSEED yourself\n", False),
        (b"autoseed=1\n", True),
        (b"AUTO_SEED=1\n", True),
        (b"AUTOSED=1\n", True),
        (b"#AUTOSEED=1\n", False),
        (b"SEED=1\nRANDOM_SEED=2\n", False),
        (b"", False),
    ],
)
def test_only_uncommented_settings_make_the_file_worth_parsing(
    tmp_path: Path, content: bytes, mentions: bool
) -> None:
    path = tmp_path / ".env"
    path.write_bytes(content)
    assert head_of(path).mentions_autoseed is mentions


# Through real installs and processes: python-dotenv reads the values.
SEEDED_WITH = "autoseed: restarted once with PYTHONHASHSEED={0}\nautoseed: seeded random with {0}\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "environment", "seed"),
    [
        ("AUTOSEED=${SEED}\n", {"SEED": "12"}, "12"),  # from the environment
        ('SEED=5\nexport BASE="${SEED}0"\nAUTOSEED=${BASE}\n', {}, "50"),  # earlier lines
        ("SEED=5\nAUTOSEED=${SEED}\n", {"SEED": "9"}, "5"),  # which win, as in dotenv_values
        ("AUTOSEED=${SEED:-7}\n", {}, "7"),  # a default
        ("AUTOSEED=${SEED:-7}\n", {"SEED": "3"}, "3"),
        ("AUTOSEED='${SEED:-7}'  # the seed\n", {}, "7"),
    ],
)
def test_a_value_is_expanded_as_python_dotenv_expands_it(
    installed: Venv, tmp_path: Path, content: str, environment: dict[str, str], seed: str
) -> None:
    (tmp_path / ".env").write_text(content + "AUTOSEED_VERBOSE=${VERBOSE:-1}\n")
    result = check(installed.run("-c", "import random", env=clean_env(**environment),
                                 cwd=tmp_path))  # fmt: skip
    assert result.stderr == SEEDED_WITH.format(seed), describe(result)


# What a process reads of python-dotenv, told by an audit hook that a .pth file sorting before
# autoseed.pth sets (site.py runs a directory's .pth files in name order): every file opened
# under a dotenv/ folder, by module name.
AUDIT_PTH = (
    "import sys; sys.dotenv_read = set(); sys.addaudithook(lambda event, args: event == 'open' "
    "and '/dotenv/' in str(args[0]) and sys.dotenv_read.add(str(args[0]).rsplit('/', 1)[1]"
    ".split('.')[0]))\n"
)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Venv:
    venv = make_venv(tmp_path_factory.mktemp("audited") / "venv")
    venv.pip("install", "--no-index", "--no-deps", str(wheel))
    (venv.site_packages / "_audit_dotenv.pth").write_text(AUDIT_PTH)
    return venv


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "environment", "read"),
    [
        (None, {}, False),  # a bare start
        (None, {"AUTOSEED": "4"}, False),  # a seed from the environment alone
        ("DB_URL=postgres://db\nAPI_KEY=k\nAUTH_TOKEN=t\n", {}, False),  # an ordinary .env
        ("DB_URL=postgres://db\n# AUTOSEED=4\nNOTE=AUTOSEED=4 is ours\n", {}, False),
        ("DB_URL=postgres://db\nAUTOSEED_VERBOSE=0\n", {}, True),
        ("export auto_seed='4'\n", {}, True),  # a slip, read to be named
    ],
)
@pytest.mark.parametrize("hash_seed", [{}, {"PYTHONHASHSEED": "0"}], ids=["top", "child"])
def test_python_dotenv_is_read_only_where_a_binding_can_be_a_setting(
    audited: Venv,
    tmp_path: Path,
    content: str | None,
    environment: dict[str, str],
    read: bool,
    hash_seed: dict[str, str],
) -> None:
    """(No .env here seeds: no restart hides what the first process read.)"""
    if content is not None:
        (tmp_path / ".env").write_text(content)
    code = "import random, sys; print(sorted(sys.dotenv_read), 'logging' in sys.modules)"
    env = clean_env(**hash_seed, **environment)
    result = check(
        audited.run(
            "-c",
            code,
            env=env,
            cwd=tmp_path,
        )
    )
    expected = "['parser', 'variables']" if read else "[]"
    # python-dotenv's package itself, whose main imports logging, is never imported.
    assert result.stdout == f"{expected} False\n", describe(result)


@pytest.mark.slow
def test_a_plain_venv_gets_python_dotenv_from_the_dependency(tmp_path: Path, wheel: Path) -> None:
    """Not --system-site-packages: python-dotenv comes from autoseed's own requirement."""
    plain = make_venv(tmp_path / "plain", system_site_packages=False)
    plain.pip("install", str(wheel))
    requires = check(
        plain.run("-c", "import importlib.metadata as m; print(m.requires('autoseed'))")
    )
    assert "python-dotenv>=1.0" in requires.stdout, describe(requires)
    (tmp_path / ".env").write_text("SEED=21\nAUTOSEED=${SEED}\nAUTOSEED_VERBOSE=1\n")
    result = check(plain.run("-c", "import random", cwd=tmp_path))
    assert result.stderr == SEEDED_WITH.format(21), describe(result)
