"""The local backend of ``autoseed sweep``: at most N runs at a time, as processes here.

Each run writes its stdout and stderr straight into its folder; its ``run.json`` is written
once it has ended, so that a run stopped by Ctrl-C counts as not run and is taken up again.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time
from collections.abc import Mapping

from autoseed.sweep.folder import Progress, Sweep, SweepError
from autoseed.verify.runs import signals_held, stop


def run_local(sweep: Sweep, seeds: list[int], jobs: int, base: Mapping[str, str]) -> None:
    """Run ``seeds`` (at most ``jobs`` at once); Ctrl-C stops the running ones, keeps the rest.

    A thread waits on each run, so the next starts the moment one ends: no polling delay adds
    to a run's time.
    """
    progress = Progress(len(seeds))
    waiting = list(seeds)
    running: dict[int, subprocess.Popen[bytes]] = {}
    ended: queue.Queue[tuple[int, int, float]] = queue.Queue()
    host = socket.gethostname()
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                with signals_held():
                    seed = waiting.pop(0)
                    running[seed] = _start(sweep, seed, base, ended)
                progress.run_started()
            progress.all_started()
            seed, status, seconds = _next_ended(ended, progress)
            del running[seed]
            record = {"status": status, "seconds": round(seconds, 3), "backend": "local"}
            sweep.save_run(seed, {**record, "host": host})
            progress.finished(seed, status, seconds)
    except BaseException:  # Ctrl-C, or SIGTERM made an exception: never leave runs behind
        for process in running.values():
            stop(process)
        progress.close()
        raise


def _next_ended(
    ended: queue.Queue[tuple[int, int, float]], progress: Progress
) -> tuple[int, int, float]:
    while True:
        try:
            return ended.get(timeout=1.0)  # a timeout keeps Ctrl-C deliverable
        except queue.Empty:
            progress.tick()


def _start(
    sweep: Sweep, seed: int, base: Mapping[str, str], ended: queue.Queue[tuple[int, int, float]]
) -> subprocess.Popen[bytes]:
    folder = sweep.run_directory(seed)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with open(folder / "stdout", "wb") as stdout, open(folder / "stderr", "wb") as stderr:
            process = subprocess.Popen(
                sweep.command,
                env=sweep.environment(seed, base),
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
    except FileNotFoundError:
        raise SweepError(f"command not found: {sweep.command[0]}") from None

    def wait() -> None:
        status = process.wait()
        ended.put((seed, status, time.monotonic() - started))

    threading.Thread(target=wait, daemon=True).start()
    return process
