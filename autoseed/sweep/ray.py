"""The Ray backend of ``autoseed sweep``: each seed is a Ray task that runs the command in the
sweep's working directory, with the same environment plus the seed, and hands back what the
run produced; this process writes the same files as the local backend.

Imported only for ``--backend ray``; Ray is the optional extra ``autoseed[ray]``. The cluster
is the one at ``--ray-address``, else at ``RAY_ADDRESS``, else a local one started for the
sweep. The command must exist at the same path on the cluster's nodes (a shared file system,
or one image), as for any Ray job.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from collections.abc import Mapping
from typing import Any

from autoseed.sweep.folder import Progress, Sweep, SweepError
from autoseed.verify.runs import signals_held

RAY_ADDRESS_VARIABLE = "RAY_ADDRESS"


def run_command(command: list[str], cwd: str, env: dict[str, str]) -> dict[str, Any]:
    """One run, on whichever node Ray chose: its status, output and time."""
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )
    except FileNotFoundError:
        message = f"autoseed: sweep: command not found on {socket.gethostname()}: {command[0]}\n"
        return {"status": 127, "stdout": b"", "stderr": message.encode(), "seconds": 0.0,
                "host": socket.gethostname()}  # fmt: skip
    return {
        "status": result.returncode,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "seconds": time.monotonic() - started,
        "host": socket.gethostname(),
    }


def run_ray(
    sweep: Sweep, seeds: list[int], jobs: int, base: Mapping[str, str], address: str | None
) -> None:
    """Run ``seeds`` as Ray tasks, at most ``jobs`` at a time; Ctrl-C cancels those running."""
    try:
        import ray
    except ImportError:
        raise SweepError(
            "--backend ray needs Ray, which is not installed here: pip install 'autoseed[ray]'"
        ) from None
    where = address or os.environ.get(RAY_ADDRESS_VARIABLE)
    if where and where != "auto":
        _check_reachable(where)
    try:
        ray.init(address=where, log_to_driver=False, logging_level=logging.ERROR)
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError...
        raise SweepError(
            f"the Ray cluster at {where or 'a new local cluster'} is not reachable: "
            f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}"
        ) from None
    task = ray.remote(num_cpus=1)(run_command)
    progress = Progress(len(seeds))
    waiting = list(seeds)
    running: dict[Any, int] = {}
    cwd = str(sweep.record["cwd"])
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                with signals_held():
                    seed = waiting.pop(0)
                    running[task.remote(sweep.command, cwd, sweep.environment(seed, base))] = seed
                progress.run_started()
            progress.all_started()
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            if not ready:
                progress.tick()
                continue
            (done,) = ready
            seed = running.pop(done)
            result = ray.get(done)
            _save(sweep, seed, result)
            progress.finished(seed, result["status"], result["seconds"])
    except BaseException:
        for reference in running:
            ray.cancel(reference, force=True)
        progress.close()
        raise
    finally:
        ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail at once on an address nobody answers at: ``ray.init`` would retry for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except (OSError, ValueError) as error:
        raise SweepError(
            f"the Ray cluster at {address} is not reachable ({error}); start one with "
            "`ray start --head`, or give its address (HOST:PORT)"
        ) from None


def _save(sweep: Sweep, seed: int, result: dict[str, Any]) -> None:
    folder = sweep.run_directory(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stdout").write_bytes(result["stdout"])
    (folder / "stderr").write_bytes(result["stderr"])
    record = {"status": result["status"], "seconds": round(result["seconds"], 3)}
    sweep.save_run(seed, {**record, "backend": "ray", "host": result["host"]})
