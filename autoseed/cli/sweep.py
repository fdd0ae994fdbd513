"""``autoseed sweep``: its options, the hand-over to a backend, and the report."""

from __future__ import annotations

import argparse
import json
import os
import signal
from importlib import util
from typing import Any

from autoseed.cli.conventions import Commands, Terminated, add_command, stop_signals_raise
from autoseed.integrations import launcher
from autoseed.names import warn

EXAMPLES = """
        examples:
          autoseed sweep 0-9 -- python train.py            # 10 runs, AUTOSEED=0..9
          autoseed sweep 1,5,7 -j 2 --out runs --metric 'accuracy: ([0-9.]+)' -- python train.py
          autoseed sweep --count 5 --keep-seeds -- python train.py   # the script's own seeds
          autoseed sweep 0-99 --backend ray --ray-address HOST:6379 -- python train.py
          autoseed sweep 0-9 --metric 'accuracy: (?P<acc>[0-9.]+)' -- python train.py
          autoseed sweep --report runs --json     # with the --metric regexes the sweep recorded
        exit status: 0 every run succeeded, 1 a run failed (or a metric gave no number),
          2 usage error, 3 every seed gave the same values (the sweep measured nothing)
        """


def add_parser(commands: Commands) -> None:
    sweep = add_command(
        commands, "sweep", "run a command under many seeds and report the spread", EXAMPLES
    )
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


def run(parser: argparse.ArgumentParser, args: argparse.Namespace, command: list[str]) -> int:
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
        with stop_signals_raise():
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
    except Terminated:
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
