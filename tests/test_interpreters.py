"""Which Python a command runs, read from its ``#!`` line as the system would run it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from autoseed.integrations.interpreters import interpreter_of

LONG_PATH = "/a folder with spaces/" + "deep/" * 30 + "bin/python"


def executable(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("head", "interpreter"),
    [
        ("#!/opt/base/bin/python3.11\n", "/opt/base/bin/python3.11"),
        ("#! /opt/base/bin/python -E\n", "/opt/base/bin/python"),
        # pip's form where the interpreter's path is too long for a #! line
        (f"#!/bin/sh\n'''exec' \"{LONG_PATH}\" \"$0\" \"$@\"\n' '''\n", LONG_PATH),
        ("#!/bin/sh\n'''exec' /opt/bin/python \"$0\" \"$@\"\n' '''\n", "/opt/bin/python"),
        ('#!/usr/bin/env bash\nexec pyenv exec torchrun "$@"\n', None),  # a shim: not read
        ("#!/bin/sh\nexec /opt/bin/python -m torch.distributed.run\n", None),
        ("print('no #! line')\n", None),
    ],
)
def test_a_scripts_interpreter(tmp_path: Path, head: str, interpreter: str | None) -> None:
    script = executable(tmp_path, "torchrun", head + "from torch.distributed.run import main\n")
    found = interpreter_of("torchrun", str(tmp_path))
    assert found == (None if interpreter is None else (str(script), interpreter))


def test_env_finds_the_interpreter_on_the_path_given(tmp_path: Path) -> None:
    python = executable(tmp_path, "python3", "")
    script = executable(tmp_path, "torchrun", "#!/usr/bin/env -S python3\n")
    assert interpreter_of("torchrun", str(tmp_path)) == (str(script), str(python))


def test_an_interpreter_is_its_own(tmp_path: Path) -> None:
    assert interpreter_of(sys.executable, None) == (sys.executable, sys.executable)
    executable(tmp_path, "python", "")  # empty: not a program that runs anything
    assert interpreter_of("python", str(tmp_path)) is None


def test_what_is_not_a_regular_file_is_never_read(tmp_path: Path) -> None:
    fifo = tmp_path / "python"
    os.mkfifo(fifo)
    fifo.chmod(0o755)
    assert interpreter_of(str(fifo), None) is None  # a FIFO would block the read forever
    assert interpreter_of("no-such-program", str(tmp_path)) is None
