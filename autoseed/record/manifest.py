"""The run manifest, ``AUTOSEED_MANIFEST=PATH``: what each seeded process of a job was, written
when it ends.

One file per job, one JSON object per line, one line per process: the job's main process (the
first seeded one, which starts the file afresh) and each seeded process it starts, directly or
not (a rank, a spawned process, a forked child that ends normally), in the order they end. A
helper that used neither numpy nor torch nor seeded anything (multiprocessing's resource
tracker) is left out. The main process tells its children the file through
``_AUTOSEED_MANIFEST``; each line is one ``write`` under a lock, so that ranks ending together
never mix their lines. DataLoader workers write none: with fork they end without running
exit handlers (``os._exit``), and with spawn they are left out too, so that the file is the
same either way; their seeds are torch's (the loader's base seed plus the worker's number).
"""

from __future__ import annotations

import atexit
import json
import os
import stat
import subprocess
import sys
import time
from typing import Any

from autoseed.names import (
    ENV_FILE_VARIABLE,
    MANIFEST_JOB_VARIABLE,
    reported,
    say_once,
    working_directory,
)
from autoseed.record.data_file import writable_path_problem
from autoseed.record.fingerprint import take_fingerprint
from autoseed.seeding import ledger, libraries, streams
from autoseed.settings.plan import KNOWN_VARIABLES, MANIFEST_VARIABLE, SEED_VARIABLE, SeedPlan

MANIFEST_VERSION = 1
LISTED_CALLS = 100
_APPEND_FLAGS = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)  # fmt: skip


class _Armed:
    """What this process knows of its manifest from its start."""

    __slots__ = ("path", "main", "pid", "started", "working_directory", "git")

    def __init__(self, path: str, main: bool) -> None:
        self.path = path
        self.main = main
        self.pid = os.getpid()
        self.started = _now()
        self.working_directory = working_directory()  # None: deleted under the process
        directory = self.working_directory
        self.git = _git_commit(directory) if main and directory is not None else None


_armed: _Armed | None = None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _job_file(setting: str) -> str | None:
    """The file of the job this process belongs to, where a parent process of the same job
    (another pid, the same setting) started it."""
    try:
        pid, given, path = json.loads(os.environ.get(MANIFEST_JOB_VARIABLE, "null"))
    except (ValueError, TypeError):
        return None
    if pid == os.getpid() or given != setting or not isinstance(path, str):
        return None
    return path


def arm(plan: SeedPlan) -> None:
    """At start-up: this process writes its line to the job's manifest when it ends; as the
    job's main process, it starts the file afresh now."""
    global _armed
    setting = plan.manifest
    if _armed is not None or setting is None:
        return
    path = _job_file(setting)
    main = path is None
    if path is None:
        path = os.path.abspath(setting)
        problem = writable_path_problem(path)
        if problem is not None:
            say_once(f"{MANIFEST_VARIABLE}={setting!r}: {path} {problem}; no manifest is written")
            return
        try:
            os.close(os.open(path, _APPEND_FLAGS | os.O_TRUNC, 0o666))
        except OSError as error:
            say_once(
                f"{MANIFEST_VARIABLE}={setting!r}: cannot write {path} "
                f"({error.strerror or error}); no manifest is written"
            )
            return
        os.environ[MANIFEST_JOB_VARIABLE] = json.dumps([os.getpid(), setting, path])
    _armed = _Armed(path, main)
    atexit.register(_write_at_exit)


def armed_path() -> str | None:
    """The manifest file this process writes its line to, if any."""
    return None if _armed is None else _armed.path


def _git_commit(directory: str) -> dict[str, Any] | None:
    """The commit checked out in ``directory`` and whether tracked files differ from it, or
    ``None`` outside a repository (or without git). GIT_OPTIONAL_LOCKS=0: a status that
    refreshes the index must not lock it under a user's own git command."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(
                ["git", "-C", directory, *args],
                capture_output=True,
                text=True,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = None if status is None or status.returncode != 0 else bool(status.stdout.strip())
    return {"commit": head.stdout.strip(), "dirty": dirty}


@reported("write the run manifest")
def _write_at_exit() -> None:
    armed, plan = _armed, libraries.active_plan()
    if armed is None or plan is None or plan.seed is None:
        return  # not seeded: nothing to say of it
    if streams.loader_worker_seed() is not None:
        return  # a DataLoader worker (spawned): its parent's line describes the job
    if not armed.main and not _used_the_libraries():
        return  # a helper (multiprocessing's resource tracker) that seeded only random
    append_line(armed.path, json.dumps(describe_process(plan, armed), default=str) + "\n")


def _used_the_libraries() -> bool:
    """Whether this process had numpy or torch seeded, or seeded something itself."""
    return any(record.library != "random" for record in libraries.seeded()) or any(
        call.origin != ledger.AUTOSEED for call in ledger.calls()
    )


def describe_process(plan: SeedPlan, armed: _Armed) -> dict[str, Any]:
    """This process's line: what ran where, the seed and the settings with their sources,
    the derived seeds, the seed calls, the fingerprint."""
    forked = os.getpid() != armed.pid  # a forked child inherits its parent's exit handler
    derived = [call for call in ledger.calls() if call.origin == ledger.DERIVED]
    return {
        "manifest_version": MANIFEST_VERSION,
        "role": "main" if armed.main and not forked else "child",
        "pid": os.getpid(),
        "parent_pid": os.getppid(),
        "forked": forked,
        "rank": libraries.process_rank(),
        "command": list(getattr(sys, "orig_argv", sys.argv)),
        "working_directory": armed.working_directory,
        "git": armed.git if not forked else None,
        "started": armed.started,
        "ended": _now(),
        "seed": {
            "seed": plan.seed,
            "source": plan.source_of(SEED_VARIABLE),
            "drawn": plan.seed_drawn,
            "rank": None if plan.rank is None else {"rank": plan.rank[0], "from": plan.rank[1]},
            "effective_seed": plan.effective_seed,
        },
        "settings": {
            variable: {"value": plan.settings[variable].raw, "source": plan.source_of(variable)}
            for variable in KNOWN_VARIABLES
            if variable in plan.settings
        },
        "in_force": _in_force(plan),
        "seeded": [
            {"library": record.library, "seed": record.seed, "detail": record.detail}
            for record in libraries.seeded()
        ],
        "derived_seeds": {
            "this_process": libraries.seed_for_this_process(plan),
            "descent": [list(step) for step in streams.fork_path()],
            "requests": [
                {"api": call.api, "value": call.value, "where": call.where}
                for call in derived[:LISTED_CALLS]
            ],
            "requests_total": len(derived),
        },
        "seed_calls": ledger.summary(LISTED_CALLS),
        # A forked child runs its parent's libraries on its parent's machine: its parent's
        # line has the fingerprint (and kernels run at a forked child's exit may hang).
        "fingerprint": None if forked else _fingerprint_at_exit(),
    }


def _in_force(plan: SeedPlan) -> dict[str, str]:
    """Each setting as it is in force here (the ``.env`` lookup that children skip aside)."""
    in_force = plan.exported_environment()
    in_force.pop(ENV_FILE_VARIABLE, None)
    return in_force


def _fingerprint_at_exit() -> dict[str, Any]:
    """The fingerprint of the libraries the script imported; none is imported for it, and
    CUDA is not started."""
    return take_fingerprint(import_libraries=False, start_cuda=False)


def append_line(path: str, line: str) -> None:
    """Add ``line`` to the file at ``path`` in one write, under a lock: processes that end
    together never mix their lines. Raises ``OSError``."""
    descriptor = os.open(path, _APPEND_FLAGS, 0o666)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path} is not a regular file")
        try:
            import fcntl

            fcntl.lockf(descriptor, fcntl.LOCK_EX)
        except ImportError:  # Windows: appends of one write each, unlocked
            pass
        data = memoryview(line.encode("utf-8", "surrogateescape"))
        while data:
            data = data[os.write(descriptor, data) :]
    finally:
        os.close(descriptor)  # which releases the lock
