"""The ``autoseed`` command: its parser, and status, run, install and uninstall (``verify``,
``sweep`` and ``fingerprint`` have modules of their own).

Errors go to stderr; the exit status is 2 for usage errors and 1 for failures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from autoseed.cli import fingerprint, sweep, verify
from autoseed.cli.conventions import add_command, command_after_dashes, usage_error
from autoseed.integrations import launcher
from autoseed.names import warn
from autoseed.settings.plan import ConfigError
from autoseed.start import install as start_files
from autoseed.start.status import NOT_INSTALLED, build_status, format_status, installed_version

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
          autoseed run -- python -m torch.distributed.run --nproc_per_node=2 train.py
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

    status = add_command(
        commands,
        "status",
        "show what autoseed will do in this interpreter and why",
        EXAMPLES["status"],
    )
    status.add_argument("--json", action="store_true", help="print JSON")

    run = add_command(
        commands, "run", "run a command seeded, with a fixed PYTHONHASHSEED", EXAMPLES["run"]
    )
    run.add_argument(
        "argv",
        nargs=argparse.REMAINDER,
        metavar="[SEED] -- COMMAND",
        help="SEED: an integer or 'random' (default: the configured seed, else random)",
    )

    verify.add_parser(commands)
    sweep.add_parser(commands)
    fingerprint.add_parser(commands)

    install = add_command(
        commands, "install", "write autoseed.pth into a site directory", EXAMPLES["install"]
    )
    _add_location(install)
    install.add_argument(
        start_files.NON_SITE_FLAG,
        action="store_true",
        help="write into a directory that is not a site directory of this interpreter",
    )
    uninstall = add_command(
        commands, "uninstall", "remove the autoseed.pth that autoseed wrote", EXAMPLES["uninstall"]
    )
    _add_location(uninstall)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if words[:1] == ["sweep"] and "--" in words:
        # Options may follow SEEDS; the command is everything after --.
        split = words.index("--")
        words, command = words[:split], words[split + 1 :]
    args = parser.parse_args(words)
    if args.command == "sweep":
        return sweep.run(parser, args, command)
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
        return verify.run(parser, args)
    if args.command == "fingerprint":
        return fingerprint.run(args)
    directory = start_files.site_directory(user=args.user, target=args.target)
    if args.command == "install":
        return start_files.install(directory, user=args.user, any_directory=args.any_directory)
    return start_files.uninstall(directory)


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
    command = command_after_dashes(parser, words[split:])
    try:
        _, env = launcher.prepare_seeded_run(words[0] if split else None, fix_hash_seed=True)
    except ConfigError as error:
        return usage_error("run", error)
    launcher.tell_if_unseeded("run", command, env)
    return launcher.run_seeded(env, command)


def entry_point() -> None:
    """Console script: exit with main()'s status; a closed pipe is not an error."""
    try:
        sys.exit(main())
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
