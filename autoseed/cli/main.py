"""The ``autoseed`` command: status, run, verify, install and uninstall.

Errors go to stderr; the exit status is 2 for usage errors and 1 for failures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import textwrap
from collections.abc import Iterator, Sequence
from importlib import util
from typing import Any

from autoseed.integrations import launcher
from autoseed.names import warn
from autoseed.settings.plan import ConfigError
from autoseed.start import install as start_files
from autoseed.start.status import NOT_INSTALLED, build_status, format_status, installed_version
from autoseed.verify import verdict
from autoseed.verify.runs import Comparison

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
    "verify": """
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
        """,
    "sweep": """
        examples:
          autoseed sweep 0-9 -- python train.py            # 10 runs, AUTOSEED=0..9
          autoseed sweep 1,5,7 -j 2 --out runs --metric 'accuracy: ([0-9.]+)' -- python train.py
          autoseed sweep --count 5 --keep-seeds -- python train.py   # the script's own seeds
          autoseed sweep 0-99 --backend ray --ray-address HOST:6379 -- python train.py
          autoseed sweep 0-9 --metric 'accuracy: (?P<acc>[0-9.]+)' -- python train.py
          autoseed sweep --report runs --json     # with the --metric regexes the sweep recorded
        exit status: 0 every run succeeded, 1 a run failed (or a metric gave no number),
          2 usage error, 3 every seed gave the same values (the sweep measured nothing)
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

    sweep = _command(commands, "sweep", "run a command under many seeds and report the spread")
    sweep.add_argument("seeds", nargs="?", metavar="SEEDS", help="e.g. 0-9, 1,5,7 or 0-3,10")
    sweep.add_argument("--count", type=int, help="N seeds drawn at random (and recorded)")
    sweep.add_argument("-j", "--jobs", type=int, help="runs at a time (default: the CPUs)")
    sweep.add_argument("--out", default="autoseed-sweep", help="the sweep's folder")
    sweep.add_argument(
        "--metric", action="append", default=[], metavar="REGEX",
        help="a value to collect: the last match of REGEX's one group in each run's stdout "
        "(else stderr); (?P<name>...) names it; recorded for --report",
    )  # fmt: skip
    sweep.add_argument("--backend", choices=("local", "ray"), default="local")
    sweep.add_argument("--ray-address", help="the Ray cluster (default: RAY_ADDRESS, or local)")
    sweep.add_argument(
        "--keep-seeds", action="store_true",
        help="leave the script's own seeds in charge (no AUTOSEED_OVERRIDE)",
    )  # fmt: skip
    sweep.add_argument("--report", metavar="DIR", help="summarise the sweep in DIR, run nothing")
    sweep.add_argument("--plot", metavar="FILE.png", help="draw each metric per seed")
    sweep.add_argument("--json", action="store_true", help="print the report as JSON")

    install = _command(commands, "install", "write autoseed.pth into a site directory")
    _add_location(install)
    install.add_argument(
        start_files.NON_SITE_FLAG,
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
    words = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if words[:1] == ["sweep"] and "--" in words:
        # Options may follow SEEDS; the command is everything after --.
        split = words.index("--")
        words, command = words[:split], words[split + 1 :]
    args = parser.parse_args(words)
    if args.command == "sweep":
        return _sweep(parser, args, command)
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
    command = _command_after_dashes(parser, words[split:])
    try:
        _, env = launcher.prepare_seeded_run(words[0] if split else None, fix_hash_seed=True)
    except ConfigError as error:
        return _usage_error("run", error)
    launcher.tell_if_unseeded("run", command, env)
    return launcher.run_seeded(env, command)


class _Terminated(Exception):
    """SIGTERM reached ``verify`` or ``sweep``: stop the running commands and exit 143, as a
    shell would (by default SIGTERM would end this process and leave them running)."""


@contextlib.contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """SIGTERM raises ``_Terminated`` and Ctrl-C ``KeyboardInterrupt`` in this block, also in a
    process started in the background with SIGINT ignored (``runs.sigint_raises``)."""
    from autoseed.verify.runs import sigint_raises

    def terminated(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        with sigint_raises():
            yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _verify(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    command = _command_after_dashes(parser, list(args.argv))
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
        return _usage_error("verify", error)
    launcher.tell_if_unseeded("verify", command, env)

    try:
        with _stop_signals_raise():
            return verdict.verify(
                command, runs=args.runs, seed=seed, env=env, comparison=comparison,
                baseline=args.baseline, explain=args.explain, as_json=args.json,
            )  # fmt: skip
    except KeyboardInterrupt:
        warn("verify: interrupted; the running command was stopped")
        return 128 + signal.SIGINT
    except _Terminated:
        warn("verify: terminated; the running command was stopped")
        return 128 + signal.SIGTERM


def _sweep(parser: argparse.ArgumentParser, args: argparse.Namespace, command: list[str]) -> int:
    from pathlib import Path

    from autoseed.seeding.libraries import environment_before_autoseed
    from autoseed.sweep import folder
    from autoseed.sweep import report as reporting

    if args.plot is not None and util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib, which is not installed: pip install matplotlib")
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"-j {args.jobs}: give at least 1")
    try:
        reporting.compile_metrics(args.metric)
        if args.report is not None:
            if command or args.seeds or args.count:
                parser.error("--report summarises a sweep's folder: give no SEEDS and no command")
            return _report(folder.load_sweep(Path(args.report)), args)
        if not command:
            parser.error("sweep: no command given; put it after --, e.g. -- python train.py")
        if (args.seeds is None) == (args.count is None):
            parser.error("sweep: give SEEDS (0-9, 1,5,7) or --count N, one of them")
        seeds = None
        if args.seeds is not None:
            seeds, repeated = folder.parse_seeds(args.seeds)
            if repeated:
                warn(f"sweep: {folder.repeated_seeds_line(args.seeds, repeated)}")
        opened = folder.open_sweep(
            Path(args.out), command, seeds, args.count, args.keep_seeds, args.metric
        )
        todo = opened.to_run()
        skipped = len(opened.seeds) - len(todo)
        if skipped:
            warn(f"sweep: {skipped} of {len(opened.seeds)} seeds already done in {args.out}")
        jobs = args.jobs or os.cpu_count() or 1
        base = environment_before_autoseed()
        launcher.tell_if_unseeded("sweep", command, base)
        with _stop_signals_raise():
            if args.backend == "ray":
                from autoseed.sweep.ray import run_ray

                run_ray(opened, todo, jobs, base, args.ray_address)
            else:
                from autoseed.sweep.local import run_local

                run_local(opened, todo, jobs, base)
        return _report(opened, args)
    except folder.SweepError as error:
        warn(f"sweep: {error}")
        return 2
    except KeyboardInterrupt:
        warn(f"sweep: interrupted; finished runs are kept in {args.out}, run again to resume")
        return 128 + signal.SIGINT
    except _Terminated:
        warn(f"sweep: terminated; finished runs are kept in {args.out}, run again to resume")
        return 128 + signal.SIGTERM


def _report(swept: Any, args: argparse.Namespace) -> int:
    """The report of ``swept``, with the ``--metric`` regexes given, else those it recorded."""
    from autoseed.sweep import folder
    from autoseed.sweep import report as reporting

    if args.metric:
        metrics = reporting.compile_metrics(args.metric)
    else:
        recorded = f"{swept.directory / folder.SWEEP_FILE} records --metric"
        metrics = reporting.compile_metrics(swept.metrics, source=recorded)
    report = reporting.build_report(swept, metrics)
    print(json.dumps(report, indent=2) if args.json else reporting.format_report(report))
    for note in reporting.report_notes(report):
        warn(f"sweep: {note}")
    if args.plot is not None and report["metrics"]:
        reporting.plot(report, args.plot)
    return reporting.exit_status(report)


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
