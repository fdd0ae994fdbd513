"""``AUTOSEED_HASHSEED=reexec``: restart the interpreter once so its own hash seed is fixed.

String hashing is seeded before any ``.pth`` runs, so the only way to fix it for the running
script is to start again with ``PYTHONHASHSEED`` set. That doubles the start-up cost of every
seeded interpreter, which is why it is opt-in; ``autoseed run`` does the same from outside for
free. The restart happens only where it is safe, and never twice: the restarted interpreter
finds ``PYTHONHASHSEED`` set.
"""

import os
import sys

from autoseed._startup import warn
from autoseed.config import SEED_VARIABLE, SeedPlan
from autoseed.seeding import HASH_SEED_VARIABLE


def why_not_safe() -> str | None:
    """The reason a re-execution is not safe in this process, or ``None``."""
    if not getattr(sys, "orig_argv", None) or not sys.executable:
        return "this is an embedded interpreter (no sys.orig_argv or sys.executable)"
    if sys.flags.interactive or sys.argv[:1] in ([""], ["-"]):
        return "the session is interactive or reads its program from stdin"
    if sys.flags.ignore_environment:
        return "python -E would ignore PYTHONHASHSEED in the restarted interpreter"
    return None


def reexec_with_hash_seed(plan: SeedPlan) -> None:
    """Replace this process by the same command with ``PYTHONHASHSEED`` set; or explain why not.

    Returns only when it did not restart.
    """
    if plan.seed is None or os.environ.get(HASH_SEED_VARIABLE):
        return  # already fixed, by the user or by our own restart: never loop
    reason = why_not_safe()
    if reason is None and os.name != "posix":
        reason = "re-execution replaces the process only on POSIX"
    if reason is not None:
        warn(f"AUTOSEED_HASHSEED=reexec skipped: {reason}; hash() stays randomized here")
        return
    # The restarted interpreter must resolve the same plan, a drawn seed included.
    saved = dict(os.environ)
    os.environ.update(plan.exported_environment())
    os.environ[HASH_SEED_VARIABLE] = str(plan.seed)
    if plan.seed_drawn:
        warn(f"{SEED_VARIABLE}={plan.seed}")
    if plan.verbose:
        warn(f"restarting with {HASH_SEED_VARIABLE}={plan.seed}")
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    try:
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    except OSError as error:
        os.environ.clear()
        os.environ.update(saved)
        warn(f"AUTOSEED_HASHSEED=reexec failed: {error}; hash() stays randomized here")
