"""What every ``autoseed`` command shares: its sub-parser with examples, the command after
``--``, usage errors, and stopping on Ctrl-C and SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import signal
import textwrap
from collections.abc import Iterator
from typing import TypeAlias

from autoseed.names import warn
from autoseed.settings.plan import ConfigError

# A string: argparse._SubParsersAction is generic to type checkers only, not at run time.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(
    commands: Commands, name: str, help_text: str, examples: str
) -> argparse.ArgumentParser:
    """The sub-parser of command ``name``, its examples and exit statuses as its epilog."""
    return commands.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=textwrap.dedent(examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def command_after_dashes(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        parser.error("give the command to run after --, e.g. -- python train.py")
    return command


def usage_error(command: str, error: ConfigError) -> int:
    warn(f"{command}: {error}")
    return 2


class Terminated(Exception):
    """SIGTERM reached ``verify`` or ``sweep``: stop the running commands and exit 143, as a
    shell would (by default SIGTERM would end this process and leave them running)."""


@contextlib.contextmanager
def stop_signals_raise() -> Iterator[None]:
    """SIGTERM raises ``Terminated`` and Ctrl-C ``KeyboardInterrupt`` in this block, also in a
    process started in the background with SIGINT ignored (``runs.sigint_raises``)."""
    from autoseed.verify.runs import sigint_raises

    def terminated(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        with sigint_raises():
            yield
    finally:
        signal.signal(signal.SIGTERM, previous)
