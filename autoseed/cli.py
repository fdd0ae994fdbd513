"""The ``autoseed`` command: status, run, verify, install and uninstall.

Errors go to stderr; the exit status is 2 for usage errors and 1 for failures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import textwrap
from collections.abc import Sequence

from autoseed import installer, launcher, verifier
from autoseed.config import ConfigError
from autoseed.names import warn
from autoseed.status import NOT_INSTALLED, build_status, format_status, installed_version

EXAMPLES = {
    "status": """
        examples:
          autoseed status                 # what this interpreter will do, and why
          autoseed status --json          # the same, for machines
          autoseed status && python train.py   # refuse to train on a bad configuration
        """,
    "run": """
        examples:
          autoseed run 1024 -- python train.py
          autoseed run -- torchrun --nproc_per_node=2 train.py   # the configured seed, or random
        """,
    "verify": """
        examples:
          autoseed verify -- python train.py
          autoseed verify --runs 3 --seed 7 --compare out/metrics.json -- python train.py
          autoseed verify --baseline -- python examples/legacy_train.py
          autoseed verify --explain -- python train.py   # why and where runs differ
          autoseed verify --stderr -- python train.py    # a script that logs to stderr
        exit status: 0 reproducible, 1 not (or a run failed), 2 usage error,
          3 nothing compared (every compared output empty: no verdict)
        """,
    "install": """
        examples:
          autoseed install                 # this interpreter's site-packages
          autoseed install --user          # the user site-packages
          autoseed install --target DIR    # any site directory
        """,
    "uninstall": """
        examples:
          autoseed uninstall
          autoseed uninstall --target DIR
        """,
}


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=textwrap.dedent(EXAMPLES[name]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_location(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="the user site-packages")
    where.add_argument("--target", metavar="DIR", help="a site directory of your choice")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autoseed",
        description="Make unmodified PyTorch / NumPy scripts reproducible from AUTOSEED.",
        epilog="example:\n  AUTOSEED=1024 python train.py\n  autoseed verify -- python train.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"autoseed {installed_version() or NOT_INSTALLED}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    status = _command(commands, "status", "show what autoseed will do in this interpreter and why")
    status.add_argument("--json", action="store_true", help="print JSON")

    run = _command(commands, "run", "run a command seeded, with a fixed PYTHONHASHSEED")
    run.add_argument(
        "argv",
        nargs=argparse.REMAINDER,
        metavar="[SEED] -- COMMAND",
        help="SEED: an integer or 'random' (default: the configured seed, else random)",
    )

    verify = _command(commands, "verify", "check that a command gives identical results")
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
    verify.add_argument("--json", action="store_true", help="print the whole report as JSON")
    verify.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")

    install = _command(commands, "install", "write autoseed.pth into a site directory")
    _add_location(install)
    install.add_argument(
        installer.NON_SITE_FLAG,
        action="store_true",
        help="write into a directory that is not a site directory of this interpreter",
    )
    uninstall = _command(commands, "uninstall", "remove the autoseed.pth that autoseed wrote")
    _add_location(uninstall)
    return parser


def _command_after_dashes(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        parser.error("give the command to run after --, e.g. -- python train.py")
    return command


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "status":
        report = build_status()
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print(format_status(report))
        if report["error"]:
            warn(report["error"])
            return 1
        # A misspelt name is a setting the user meant and the run would silently miss; an unmet
        # request (a .env that asks but cannot be read, decoded or trusted) the same.
        return 1 if report["misspelt"] or report["unmet"] else 0
    if args.command == "run":
        return _run(parser, list(args.argv))
    if args.command == "verify":
        return _verify(parser, args)
    directory = installer.site_directory(user=args.user, target=args.target)
    if args.command == "install":
        return installer.install(directory, user=args.user, any_directory=args.any_directory)
    return installer.uninstall(directory)


def _run(parser: argparse.ArgumentParser, words: list[str]) -> int:
    if "--" not in words:
        seed = f"{words[0]} " if len(words) == 1 else ""
        parser.error(
            "run: no command given; put it after --, e.g. "
            f"autoseed run {seed or '[SEED] '}-- python train.py"
        )
    split = words.index("--")
    if split > 1:
        parser.error(f"run: one SEED at most before --, got {words[:split]}")
    command = _command_after_dashes(parser, words[split:])
    try:
        _, env = launcher.prepare_seeded_run(words[0] if split else None, fix_hash_seed=True)
    except ConfigError as error:
        return _usage_error("run", error)
    return launcher.run_seeded(env, command)


class _Terminated(Exception):
    """SIGTERM reached ``verify``: stop the running command and exit 143, as a shell would."""


def _verify(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    command = _command_after_dashes(parser, list(args.argv))
    for path in args.compare:
        if os.path.isdir(path):
            parser.error(f"--compare takes a file that the command writes; {path} is a directory")
    try:
        seed, env = launcher.prepare_seeded_run(args.seed, fix_hash_seed=False)
    except ConfigError as error:
        return _usage_error("verify", error)

    def terminated(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        return verifier.verify(
            command, runs=args.runs, seed=seed, env=env, compare=args.compare,
            baseline=args.baseline, explain=args.explain, as_json=args.json,
            with_stderr=args.stderr,
        )  # fmt: skip
    except KeyboardInterrupt:
        warn("verify: interrupted; the running command was stopped")
        return 128 + signal.SIGINT
    except _Terminated:
        warn("verify: terminated; the running command was stopped")
        return 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)


def _usage_error(command: str, error: ConfigError) -> int:
    warn(f"{command}: {error}")
    return 2


def entry_point() -> None:
    """Console script: exit with main()'s status; a closed pipe is not an error."""
    try:
        sys.exit(main())
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
