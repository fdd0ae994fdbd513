"""Fix the running interpreter's own hash seed: restart it once with ``PYTHONHASHSEED`` set.

String hashing (and so set order, and everything built on it) is seeded before any ``.pth``
runs, so the only way to fix it for the running script is to start again. ``os.execv`` keeps
the pid, the open descriptors and stdin; nothing has been read from stdin yet. The restarted
interpreter finds ``PYTHONHASHSEED`` set and never restarts again, nor do its children, which
inherit it. The restart happens only where it is safe; ``autoseed status`` says why not where not.

This module imports nothing else of the package: when the seed comes from the environment the
start-up gate restarts from here, before the rest of autoseed is imported, so the restart costs
one bare interpreter start.
"""

import os
import sys

from autoseed._startup import HANDOVER_VARIABLE, SETTING_PREFIX, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# Defined here, not in config.py, because the early restart reads them before config.py is
# imported; config.py takes them from here.
HASH_SEED_VARIABLE = "PYTHONHASHSEED"
HASH_SEED_MODE_VARIABLE = "AUTOSEED_HASHSEED"
RANK_OFFSET_VARIABLE = "AUTOSEED_RANK_OFFSET"
REEXEC_WORD = "reexec"
MAX_SEED = 2**32 - 1  # numpy's legacy seeding and PYTHONHASHSEED both take 0..2**32-1

# Why this process did not restart although a seed was in force (for `autoseed status`).
not_restarted_because: "str | None" = None


def hash_seed_is_fixed(environ: "Mapping[str, str]") -> bool:
    """Whether ``PYTHONHASHSEED`` holds a number (``random`` or unset leave hashing random)."""
    value = environ.get(HASH_SEED_VARIABLE, "").strip()
    return value.isascii() and value.isdigit()


THE_COMMAND_ITSELF = "this is the autoseed command, which needs no hash seed of its own"


def is_autoseed_command() -> bool:
    """Whether this process is the ``autoseed`` command line tool (console script or ``-m``)."""
    argv = getattr(sys, "orig_argv", [])
    return os.path.basename(sys.argv[0] if sys.argv else "") == "autoseed" or any(
        flag == "-m" and module == "autoseed" for flag, module in zip(argv, argv[1:], strict=False)
    )


def why_not_safe() -> "str | None":
    """The reason a restart is not safe (or not wanted) in this process, or ``None``."""
    if is_autoseed_command():
        return THE_COMMAND_ITSELF
    if os.name != "posix":
        return "a restart replaces the process only on POSIX"
    if not getattr(sys, "orig_argv", None) or not sys.executable:
        return "this is an embedded interpreter (no sys.orig_argv or sys.executable)"
    if sys.flags.interactive or sys.argv[:1] in ([""], ["-"]):
        return "the session is interactive or reads its program from stdin"
    if sys.flags.ignore_environment:
        return "python -E (or -I) would ignore PYTHONHASHSEED in the restarted interpreter"
    return None


def restart_early(environ: "os._Environ[str]") -> None:
    """Restart before the rest of autoseed is imported, when the environment alone decides.

    Only the plain case: an integer ``AUTOSEED``, no rank offset, ``AUTOSEED_HASHSEED`` unset or
    ``reexec``. Anything else (a ``.env``, ``random``, an offset, a word to check) goes through
    the full configuration, which restarts from :func:`restart` where it should.
    """
    seed = environ.get(SETTING_PREFIX, "").strip()
    if (
        seed.isascii()
        and seed.isdigit()
        and len(seed) <= 10
        and int(seed) <= MAX_SEED
        and environ.get(HASH_SEED_MODE_VARIABLE, REEXEC_WORD).strip().casefold() == REEXEC_WORD
        and RANK_OFFSET_VARIABLE not in environ
        and not hash_seed_is_fixed(environ)
        and why_not_safe() is None
    ):
        restart(int(seed), "", {})


def restart(
    hash_seed: int,
    handover: str,
    extra_environment: "dict[str, str]",
    announce: "str | None" = None,
) -> "str | None":
    """Replace this process by the same command line with ``PYTHONHASHSEED=hash_seed``.

    ``handover`` reaches the restarted interpreter only (it removes the variable at once);
    ``announce`` is printed just before. Returns only when the process was not replaced, with
    the reason.
    """
    global not_restarted_because
    reason = why_not_safe()
    if reason is None:
        environ = {
            **os.environ,
            **extra_environment,
            HASH_SEED_VARIABLE: str(hash_seed),
            HANDOVER_VARIABLE: handover,
        }
        if announce is not None:
            warn(announce)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        try:
            os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)
        except OSError as error:
            reason = f"the restart failed ({error})"
    not_restarted_because = reason
    return reason


def encode_handover(settings: "list[tuple[str, str, str]]", problems: "list[str]") -> str:
    """The ``.env`` settings ``(variable, raw, source)`` and problems, as one variable's value.

    Hex fields: a value may hold any character but NUL, and json would cost its import.
    """
    records = [",".join(field.encode().hex() for field in setting) for setting in settings]
    return ";".join([*records, *("!" + problem.encode().hex() for problem in problems)])


def decode_handover(text: str) -> "tuple[list[tuple[str, str, str]], list[str]]":
    settings: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for record in filter(None, text.split(";")):
        if record.startswith("!"):
            problems.append(bytes.fromhex(record[1:]).decode())
            continue
        variable, raw, source = (bytes.fromhex(field).decode() for field in record.split(","))
        settings.append((variable, raw, source))
    return settings, problems
