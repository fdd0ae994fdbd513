"""Which Python a command runs, and whether autoseed starts in it.

A console script runs the interpreter its ``#!`` line names. Where torch is installed in the
base interpreter and autoseed in a ``--system-site-packages`` virtual environment, the
``torchrun`` found on ``PATH`` is the base interpreter's: it runs the launcher and every rank
with that interpreter, which has no autoseed, so ``AUTOSEED=11 torchrun ...`` seeds nothing and
no process of the job is there to say so. Only autoseed's own commands can look before the
command runs: ``autoseed run``, ``verify`` and ``sweep`` look at the command they start,
``autoseed status`` at the ``torchrun`` on ``PATH``. A wrapper that is not a Python script
(pyenv's shims are shell scripts) is not looked through: nothing is said about it.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping, Sequence

# The form of a launcher that runs it with a chosen interpreter (PyTorch documents
# ``python -m torch.distributed.run`` as torchrun's equivalent).
MODULE_FORMS = {"torchrun": "torch.distributed.run"}
# The .pth line leaves this mark in every interpreter that runs it, asked for or not.
_PROBE = "import sys; print('_autoseed' in sys.modules)"
_HEAD_BYTES = 1024  # a #! line, and the line after it where pip writes a long one
# pip's console scripts whose interpreter path is too long for #!: a /bin/sh script that execs it.
_SHELL_EXEC = re.compile(r"""'''exec' (?:"([^"]+)"|(\S+))""")


def _script_head(path: str) -> str:
    """The first bytes of the regular file at ``path`` (a FIFO or a device is no script)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return ""
        with open(path, "rb") as file:
            return file.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _is_python(path: str) -> bool:
    return os.path.basename(path).startswith("python")


def interpreter_of(program: str, search_path: str | None) -> tuple[str, str] | None:
    """``(file, interpreter)`` for a program that is a Python interpreter or a script of one,
    found as the shell would find it on ``search_path``; ``None`` for anything else."""
    found = program if os.sep in program else shutil.which(program, path=search_path)
    if found is None:
        return None
    head = _script_head(found)
    if not head.startswith("#!"):
        return (found, found) if _is_python(found) and head else None
    first, _, rest = head[2:].partition("\n")
    words = first.split()
    if words and os.path.basename(words[0]) == "env":
        words = [word for word in words[1:] if not word.startswith("-")]
        located = shutil.which(words[0], path=search_path) if words else None
        words = [located] if located else []
    elif words and os.path.basename(words[0]) == "sh":
        shell_exec = _SHELL_EXEC.match(rest)
        words = [shell_exec.group(1) or shell_exec.group(2)] if shell_exec else []
    if not words or not _is_python(words[0]):
        return None
    return found, words[0]


def starts_autoseed(interpreter: str, environ: Mapping[str, str]) -> bool:
    """Whether autoseed's start-up file runs in ``interpreter`` (asked of it, once); ``True``
    where that cannot be told, so that nothing untrue is said."""
    if os.path.abspath(interpreter) == os.path.abspath(sys.executable):
        return True  # this interpreter: it runs the autoseed command
    # Without AUTOSEED settings, and away from any .env, the probe starts nothing of autoseed.
    env = {key: value for key, value in environ.items() if "AUTOSEED" not in key.upper()}
    try:
        probe = subprocess.run(
            [interpreter, "-c", _PROBE], env=env, cwd=os.sep, capture_output=True,
            text=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return True
    return probe.stdout.strip() != "False"


def unseeded_command(command: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """One line when ``command`` runs a Python where autoseed does not start (nothing it starts
    is seeded), with the form that runs it here; else ``None``."""
    found = interpreter_of(command[0], environ.get("PATH"))
    if found is None or starts_autoseed(found[1], environ):
        return None
    program, interpreter = found
    module = MODULE_FORMS.get(os.path.basename(program))
    if module is not None:
        instead = f"{sys.executable} -m {module}"
    elif program == interpreter:
        instead = sys.executable
    else:
        instead = f"{sys.executable} {program}"
    runs = "is" if program == interpreter else f"({program}) runs"
    return (
        f"{command[0]} {runs} {interpreter}, where autoseed is not installed: nothing it "
        f"starts is seeded; run `{instead} ...` instead"
    )
