"""``autoseed verify``: its options, and the hand-over to the verify stage."""

from __future__ import annotations

import argparse
import os
import re
import signal

from autoseed.cli.conventions import (
    Terminated,
    add_command,
    command_after_dashes,
    stop_signals_raise,
    usage_error,
)
from autoseed.integrations import launcher
from autoseed.names import warn
from autoseed.settings.plan import ConfigError
from autoseed.verify import verdict
from autoseed.verify.runs import Comparison

TYPE_CHECKING = False
if TYPE_CHECKING:
    from autoseed.cli.conventions import Commands

EXAMPLES = """
        examples:
          autoseed verify -- python train.py
          autoseed verify --runs 3 --seed 7 --compare out/metrics.json -- python train.py
          autoseed verify --baseline -- python examples/legacy_train.py
          autoseed verify --explain -- python train.py   # why and where runs differ
          autoseed verify --stderr -- python train.py    # a script that logs to stderr
          autoseed verify --stderr --ignore '^[0-9-]+ [0-9:,]+ ' -- python train.py  # no times
          autoseed verify --keep runs -- python train.py  # each run's outputs in runs/
        exit status: 0 reproducible, 1 not (or a run failed), 2 usage error,
          3 nothing compared (every compared output empty: no verdict)
        """


def add_parser(commands: Commands) -> None:
    verify = add_command(
        commands, "verify", "check that a command gives identical results", EXAMPLES
    )
    verify.add_argument("--runs", type=int, default=2, help="seeded runs to compare (default 2)")
    verify.add_argument("--seed", help="the seed (default: configured, or random)")
    verify.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="PATH",
        help="a file the command writes, compared byte for byte (repeatable)",
    )
    verify.add_argument(
        "--baseline", action="store_true", help="also run twice unseeded: does it vary at all?"
    )
    verify.add_argument(
        "--explain",
        action="store_true",
        help="when runs differ, say why (which fix makes them repeat) and where (the first "
        "torch operator whose result differs)",
    )
    verify.add_argument(
        "--stderr",
        action="store_true",
        help="compare stderr too (without autoseed's own lines): for a script that logs there",
    )
    verify.add_argument(
        "--ignore", action="append", default=[], metavar="REGEX",
        help="leave out of each compared line the text REGEX matches (times, durations), and a "
        "line nothing is left of (repeatable)",
    )  # fmt: skip
    verify.add_argument(
        "--keep", metavar="DIR",
        help="keep every run's stdout, stderr and compared files in DIR (new or empty)",
    )  # fmt: skip
    verify.add_argument("--json", action="store_true", help="print the whole report as JSON")
    verify.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    command = command_after_dashes(parser, list(args.argv))
    for path in args.compare:
        if os.path.isdir(path):
            parser.error(f"--compare takes a file that the command writes; {path} is a directory")
    if args.keep is not None and os.path.lexists(args.keep):
        if not os.path.isdir(args.keep):
            parser.error(f"--keep {args.keep}: not a folder; give a new or empty folder")
        if os.listdir(args.keep):
            parser.error(f"--keep {args.keep}: not empty; give a new or empty folder")
    try:
        comparison = Comparison(
            args.compare, with_stderr=args.stderr, ignore=args.ignore, keep=args.keep
        )
    except re.error as error:
        parser.error(f"--ignore {error.pattern!r}: not a regular expression ({error})")
    try:
        seed, env = launcher.prepare_seeded_run(args.seed, fix_hash_seed=False)
    except ConfigError as error:
        return usage_error("verify", error)
    launcher.tell_if_unseeded("verify", command, env)

    try:
        with stop_signals_raise():
            return verdict.verify(
                command, runs=args.runs, seed=seed, env=env, comparison=comparison,
                baseline=args.baseline, explain=args.explain, as_json=args.json,
            )  # fmt: skip
    except KeyboardInterrupt:
        warn("verify: interrupted; the running command was stopped")
        return 128 + signal.SIGINT
    except Terminated:
        warn("verify: terminated; the running command was stopped")
        return 128 + signal.SIGTERM
