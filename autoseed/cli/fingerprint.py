"""``autoseed fingerprint``: what decides a run's bits on this machine."""

from __future__ import annotations

import argparse
import json

from autoseed.cli.conventions import Commands, add_command, usage_error
from autoseed.settings.plan import ConfigError

EXAMPLES = """
        examples:
          autoseed fingerprint             # this machine, as a run started here sees it
          autoseed fingerprint --json > laptop.json
          taskset -c 0 autoseed fingerprint   # as a run on one CPU sees it
        """


def add_parser(commands: Commands) -> None:
    fingerprint = add_command(
        commands,
        "fingerprint",
        "show what decides a run's bits on this machine (CPU, ISA, threads, BLAS, versions)",
        EXAMPLES,
    )
    fingerprint.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from autoseed.record.fingerprint import format_fingerprint, take_fingerprint

    try:
        fingerprint = take_fingerprint()
    except ConfigError as error:  # an invalid configuration refuses numpy and torch here too
        return usage_error("fingerprint", error)
    print(json.dumps(fingerprint, indent=2) if args.json else format_fingerprint(fingerprint))
    return 0
