"""``autoseed verify``: its options, and the hand-over to the verify stage."""

from __future__ import annotations

import argparse
import os
import re
import signal

from autoseed.cli.conventions import (
    Commands,
    Terminated,
    add_command,
    command_after_dashes,
    stop_signals_raise,
    usage_error,
)
from autoseed.integrations import launcher
from autoseed.names import warn
from autoseed.record.data_file import writable_path_problem
from autoseed.settings.plan import ConfigError
from autoseed.verify import across, verdict
from autoseed.verify.runs import Comparison

EXAMPLES = """
        examples:
          autoseed verify -- python train.py
          autoseed verify --runs 3 --seed 7 --compare out/metrics.json -- python train.py
          autoseed verify --baseline -- python examples/legacy_train.py
          autoseed verify --explain -- python train.py   # why and where runs differ
          autoseed verify --stderr -- python train.py    # a script that logs to stderr
          autoseed verify --stderr --ignore '^[0-9-]+ [0-9:,]+ ' -- python train.py  # no times
          autoseed verify --keep runs -- python train.py  # each run's outputs in runs/
          autoseed verify --save laptop.json -- python train.py      # on this machine
          autoseed verify --against laptop.json -- python train.py   # on another one
        exit status: 0 reproducible (--against: equal to the reference), 1 not (or a run
          failed), 2 usage error (--against: a reference that cannot be read), 3 nothing
          compared (every compared output empty: no verdict)
        """


def add_parser(commands: Commands) -> None:
    verify = add_command(
        commands, "verify", "check that a command gives identical results", EXAMPLES
    )
    verify.add_argument("--runs", type=int, help="seeded runs to compare (default 2)")
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
    across = verify.add_mutually_exclusive_group()
    across.add_argument(
        "--save", metavar="REF.json",
        help="run once and save the outputs' digests, the seed and this machine's fingerprint",
    )  # fmt: skip
    across.add_argument(
        "--against", metavar="REF.json",
        help="run once with the reference's seed and compare with it; name what differs "
        "between this machine and the reference's",
    )  # fmt: skip
    verify.add_argument("--json", action="store_true", help="print the whole report as JSON")
    verify.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.runs is not None and args.runs < 2:
        parser.error("--runs must be at least 2")
    command = command_after_dashes(parser, list(args.argv))
    once = "--save" if args.save is not None else "--against" if args.against else None
    for given, name in (
        (args.runs, "--runs"),
        (args.baseline, "--baseline"),
        (args.explain, "--explain"),
    ):
        if once is not None and given:
            parser.error(f"{once} runs the command once; {name} does not apply to it")
    for path in args.compare:
        if os.path.isdir(path):
            parser.error(f"--compare takes a file that the command writes; {path} is a directory")
    if args.keep is not None and os.path.lexists(args.keep):
        if not os.path.isdir(args.keep):
            parser.error(f"--keep {args.keep}: not a folder; give a new or empty folder")
        if os.listdir(args.keep):
            parser.error(f"--keep {args.keep}: not empty; give a new or empty folder")
    reference = None
    if args.against is not None:
        try:
            reference = across.read_reference(args.against)
        except across.ReferenceError as error:
            warn(f"verify: --against {args.against}: {error}")
            return 2
        _refuse_another_comparison(parser, args, reference)
        comparison = reference.comparison(args.keep)
    else:
        problem = None if args.save is None else writable_path_problem(args.save)
        if problem is not None:
            parser.error(f"--save {args.save}: {problem}; give a file to write")
        try:
            comparison = Comparison(
                args.compare, with_stderr=args.stderr, ignore=args.ignore, keep=args.keep
            )
        except re.error as error:
            parser.error(f"--ignore {error.pattern!r}: not a regular expression ({error})")
    try:
        seed_word = args.seed if reference is None else str(reference.seed)
        seed, env = launcher.prepare_seeded_run(seed_word, fix_hash_seed=False)
    except ConfigError as error:
        return usage_error("verify", error)
    launcher.tell_if_unseeded("verify", command, env)

    def verify() -> int:
        if args.save is not None:
            return across.save(
                args.save,
                command,
                seed=seed,
                env=env,
                comparison=comparison,
                python=_python_of(command),
                as_json=args.json,
            )
        if reference is not None:
            return across.check_against(
                args.against,
                reference,
                command,
                env=env,
                comparison=comparison,
                python=_python_of(command),
                as_json=args.json,
            )
        return verdict.verify(
            command,
            runs=args.runs or 2,
            seed=seed,
            env=env,
            comparison=comparison,
            baseline=args.baseline,
            explain=args.explain,
            as_json=args.json,
        )

    try:
        with stop_signals_raise():
            return verify()
    except across.FingerprintError as error:
        warn(f"verify: could not take this machine's fingerprint: {error}")
        return 1
    except KeyboardInterrupt:
        warn("verify: interrupted; the running command was stopped")
        return 128 + signal.SIGINT
    except Terminated:
        warn("verify: terminated; the running command was stopped")
        return 128 + signal.SIGTERM


def _refuse_another_comparison(
    parser: argparse.ArgumentParser, args: argparse.Namespace, reference: across.Reference
) -> None:
    """The reference decides what is compared, and with which seed: an option that says
    otherwise is a usage error (the same option repeated is not)."""
    saved = (
        f"it was saved with --compare {reference.compare or 'none'}, --stderr "
        f"{reference.with_stderr}, --ignore {reference.ignore or 'none'}"
    )
    for name, given, kept in (
        ("--compare", args.compare, reference.compare),
        ("--stderr", args.stderr, reference.with_stderr),
        ("--ignore", args.ignore, reference.ignore),
    ):
        if given and given != kept:
            parser.error(
                f"{name}: {args.against} decides what is compared ({saved}); leave {name} out"
            )
    if args.seed is not None and args.seed.strip() != str(reference.seed):
        parser.error(
            f"--seed {args.seed}: {args.against} was saved with {reference.seed}; "
            "leave --seed out, the reference's seed is used"
        )


def _python_of(command: list[str]) -> str | None:
    """The interpreter the command runs, where it is a Python: its fingerprint is taken."""
    from autoseed.integrations.interpreters import interpreter_of

    found = interpreter_of(command[0], os.environ.get("PATH"))
    return None if found is None else found[1]
