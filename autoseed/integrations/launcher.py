"""``autoseed run``: launch a command seeded, with a fixed ``PYTHONHASHSEED``.

A ``.pth`` runs too late to fix the running interpreter's string hashing; a launcher sets
``PYTHONHASHSEED`` before the interpreter starts, so ``hash()``, set order and everything built
on them are fixed in the launched process as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from autoseed.names import HASH_SEED_VARIABLE, MAX_SEED, hash_seed_is_fixed, warn
from autoseed.seeding.libraries import active_plan, environment_before_autoseed
from autoseed.settings.plan import (
    RANDOM_SEED_WORD,
    SEED_VARIABLE,
    ConfigError,
    Setting,
    draw_seed,
    parse_seed,
)
from autoseed.settings.sources import resolve_environment

COMMAND_LINE = "the command line"
SEED_ON_COMMAND_LINE = f"an integer 0..{MAX_SEED} or {RANDOM_SEED_WORD!r}"


def choose_seed(seed_word: str | None) -> int:
    """The seed given, else the configured one, else a random one (announced on stderr).

    Raises :class:`ConfigError` for an invalid seed or configuration.
    """
    if seed_word is not None:
        setting = Setting("SEED", seed_word, COMMAND_LINE)
        try:
            seed = parse_seed(setting)
        except ConfigError:
            seed = None
        if seed is None:  # the off words make no sense for a command that seeds
            raise setting.invalid(SEED_ON_COMMAND_LINE)
    else:
        plan = active_plan() or resolve_environment(environment_before_autoseed())[0]
        seed = plan.seed if plan.seed is not None else RANDOM_SEED_WORD
        if plan.seed_drawn and not plan.seed_inherited:
            seed = RANDOM_SEED_WORD  # drawn silently at this command's start: draw and say it
    if isinstance(seed, int):
        return seed
    drawn = draw_seed()
    warn(f"{SEED_VARIABLE}={drawn}")
    return drawn


def seeded_environment(
    seed: int, environ: Mapping[str, str], *, fix_hash_seed: bool
) -> dict[str, str]:
    """``environ`` with ``AUTOSEED`` set to ``seed``, and ``PYTHONHASHSEED`` too if asked.

    A numeric ``PYTHONHASHSEED`` the user set is kept; unset or ``random`` is replaced.
    """
    env = dict(environ)
    env[SEED_VARIABLE] = str(seed)
    if fix_hash_seed and not hash_seed_is_fixed(env):
        env[HASH_SEED_VARIABLE] = str(seed)
    return env


def prepare_seeded_run(seed_word: str | None, *, fix_hash_seed: bool) -> tuple[int, dict[str, str]]:
    """The seed and the environment of a seeded run, built on the user's own environment
    (without what autoseed exported in this process).

    Raises :class:`ConfigError` for an invalid seed or configuration: a usage error.
    """
    seed = choose_seed(seed_word)
    env = seeded_environment(seed, environment_before_autoseed(), fix_hash_seed=fix_hash_seed)
    if seed_word is not None:
        # The seed given wins over the configured one; the other settings must still be valid,
        # before anything runs: the command reads them.
        resolve_environment(env)
    return seed, env


def run_seeded(env: dict[str, str], command: list[str]) -> int:
    """Replace this process with ``command`` (POSIX) so signals and exit status pass through."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if os.name == "posix":
            os.execvpe(command[0], command, env)
        return subprocess.call(command, env=env)
    except FileNotFoundError:
        warn(f"run: command not found: {command[0]}")
        return 127
    except PermissionError:
        warn(f"run: permission denied: {command[0]}")
        return 126


def tell_if_unseeded(name: str, command: list[str], environ: Mapping[str, str]) -> None:
    """Say, before ``command`` runs, when it runs a Python where autoseed does not start:
    a launcher on PATH that belongs to another interpreter (``interpreters.py``)."""
    from autoseed.integrations.interpreters import unseeded_command

    line = unseeded_command(command, environ)
    if line is not None:
        warn(f"{name}: {line}")
