"""Fix the running interpreter's own hash seed: restart it once with ``PYTHONHASHSEED`` set.

String hashing (and so set order, and everything built on it) is seeded before any ``.pth``
runs, so the only way to fix it for the running script is to start again. ``os.execv`` keeps
the pid, the open descriptors and stdin; nothing has been read from stdin yet. The restarted
interpreter finds ``PYTHONHASHSEED`` set and never restarts again, nor do its children, which
inherit it. The restart happens only where it is safe; ``autoseed status`` says why not where not.

This module imports nothing else of the package: when the seed comes from the environment the
start-up hand-over (``entry.py``) restarts from here, before the rest of autoseed is
imported, so the restart costs one bare interpreter start.
"""

import os
import sys

from autoseed.names import (
    ADDRESSES_VARIABLE,
    EXPORTED_HASH_SEED_VARIABLE,
    HANDOVER_VARIABLE,
    HASH_SEED_MODE_VARIABLE,
    HASH_SEED_VARIABLE,
    REEXEC_WORD,
    SETTING_PREFIX,
    hash_seed_is_fixed,
    is_autoseed_command,
    seed_number,
    warn,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Linux personality(2) flag that turns address-space layout randomisation off for the process
# and, inherited, its children (AUTOSEED_ADDRESSES=fixed): id() order then repeats.
ADDR_NO_RANDOMIZE = 0x0040000
_QUERY_PERSONALITY = 0xFFFFFFFF

# Why this process did not restart although a seed was in force (for `autoseed status`).
not_restarted_because: "str | None" = None


THE_COMMAND_ITSELF = "this is the autoseed command, which needs no hash seed of its own"


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

    Only the plain case: an integer ``AUTOSEED``, ``AUTOSEED_HASHSEED`` unset, empty or ``reexec``.
    Anything else (a ``.env``, ``random``, a word to check) goes through the full configuration,
    which restarts from :func:`restart` where it should. The hash seed is the base seed, rank
    offset or not: hashing must agree across ranks.
    """
    seed = seed_number(environ.get(SETTING_PREFIX, "").strip())
    addresses = environ.get(ADDRESSES_VARIABLE, "").strip().casefold()
    if (
        seed is not None
        # (empty means the default, reexec, as for every setting)
        and environ.get(HASH_SEED_MODE_VARIABLE, "").strip().casefold() in ("", REEXEC_WORD)
        and not hash_seed_is_fixed(environ)
        and addresses in ("", "random", "fixed")
        and why_not_safe() is None
    ):
        restart(seed, "", {}, fix_addresses=addresses == "fixed")


def _personality() -> "tuple[Any, str]":
    """libc's ``personality(2)``, or ``None`` and the reason there is none."""
    if not sys.platform.startswith("linux"):
        return None, f"address randomisation can be switched off only on Linux, not {sys.platform}"
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).personality, ""
    except (OSError, AttributeError) as exc:
        return None, f"personality(2) is not available ({exc})"


def addresses_fixed() -> bool:
    """Whether address randomisation is off for this process (Linux personality flag)."""
    personality, _ = _personality()
    current = -1 if personality is None else personality(_QUERY_PERSONALITY)
    return current != -1 and bool(current & ADDR_NO_RANDOMIZE)


def fix_addresses() -> "str | None":
    """Turn address randomisation off for the next exec of this process; the reason if not."""
    personality, unavailable = _personality()
    if personality is None:
        return unavailable
    current = personality(_QUERY_PERSONALITY)
    if current != -1 and personality(current | ADDR_NO_RANDOMIZE) != -1:
        return None
    import ctypes

    return f"the system refused personality(ADDR_NO_RANDOMIZE): {os.strerror(ctypes.get_errno())}"


def restart(
    hash_seed: "int | None",
    handover: str,
    extra_environment: "dict[str, str]",
    announce: "str | None" = None,
    fix_addresses: bool = False,
) -> "str | None":
    """Replace this process by the same command line with ``PYTHONHASHSEED=hash_seed`` (left
    as it is for ``None``), and with address randomisation off for ``fix_addresses``.

    ``handover`` reaches the restarted interpreter only (it removes the variable at once);
    ``announce`` is printed just before. Returns only when the process was not replaced, with
    the reason. Where the system refuses to fix the addresses, one line says so and the
    restart goes on for the hash seed (or does not happen, when that was all it was for).
    """
    global not_restarted_because
    reason = why_not_safe()
    if reason is None and fix_addresses:
        refused = _fix_addresses_or_say()
        if refused is not None and hash_seed is None:
            reason = refused
    if reason is None:
        hash_seeds = {} if hash_seed is None else {
            HASH_SEED_VARIABLE: str(hash_seed),
            EXPORTED_HASH_SEED_VARIABLE: str(hash_seed),
        }  # fmt: skip
        environ = {
            **os.environ,
            **extra_environment,
            **hash_seeds,
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


def _fix_addresses_or_say() -> "str | None":
    refused = fix_addresses()
    if refused is not None:
        from autoseed.names import say_once

        say_once(f"{ADDRESSES_VARIABLE}=fixed: {refused}; the run goes on with random addresses")
    return refused


_NOTE, _UNMET = "!", "?"


def encode_handover(settings: "list[tuple[str, str, str]]", notes: "list[tuple[str, bool]]") -> str:
    """The ``.env`` settings ``(variable, raw, source)`` and notes ``(text, unmet)``, as one
    variable's value. Hex fields: a value may hold any character but NUL, and json would cost
    its import."""
    records = [",".join(field.encode().hex() for field in setting) for setting in settings]
    notes_hex = ((_UNMET if unmet else _NOTE) + text.encode().hex() for text, unmet in notes)
    return ";".join([*records, *notes_hex])


def decode_handover(text: str) -> "tuple[list[tuple[str, str, str]], list[tuple[str, bool]]]":
    settings: list[tuple[str, str, str]] = []
    notes: list[tuple[str, bool]] = []
    for record in filter(None, text.split(";")):
        if record[0] in (_NOTE, _UNMET):
            notes.append((bytes.fromhex(record[1:]).decode(), record[0] == _UNMET))
            continue
        variable, raw, source = (bytes.fromhex(field).decode() for field in record.split(","))
        settings.append((variable, raw, source))
    return settings, notes
