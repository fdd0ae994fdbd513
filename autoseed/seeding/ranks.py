"""A process that joins a process group is a rank of the job, however it was started.

torchrun and srun start each rank as a fresh interpreter: every rank draws from the job's
streams from its first line, and agrees with the others. ``torch.multiprocessing.spawn`` (the
pattern of PyTorch's DDP tutorial) starts its ranks as multiprocessing children, which get
streams of their own like any other child (a pool's workers must not share a stream, and
``spawn`` serves more than process groups), and its ranks learn their rank only when they call
``init_process_group``. So that call is where a process becomes rank ``r``: what it draws from
then on is what rank ``r`` draws under torchrun. This module only sees the call; what becoming
a rank means for the streams is the seeding's (``libraries._join_as_rank``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from autoseed.seeding.calls import mark_wrapper, original_of

PACKAGE = "torch.distributed"


def watch_process_groups(c10d: Any, joined: Callable[[int], None]) -> None:
    """After each successful ``init_process_group``, call ``joined`` with the process's rank.

    The function is wrapped wherever torch bound it (``torch.distributed`` re-exports it, and
    ``torch.distributed.device_mesh`` imports it by name for ``init_device_mesh``), so that a
    group made by any of torch's entries is seen.
    """
    original = original_of(c10d.init_process_group)

    def init_process_group(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        joined(int(c10d.get_rank()))
        return result

    wrapper = mark_wrapper(init_process_group, original)
    for name, module in list(sys.modules.items()):
        in_torch = name == PACKAGE or name.startswith(f"{PACKAGE}.")
        if in_torch and original_of(getattr(module, "init_process_group", None)) is original:
            setattr(module, "init_process_group", wrapper)  # noqa: B010 (a module, not typed)


def draws_before_joining(torch: Any, seed: int | None, rank: int) -> str | None:
    """One line when torch's global generator moved since it was seeded with ``seed``: a child
    that drew before joining drew from its own streams, unlike the other ranks (what
    ``random_split`` and a model's init draw from)."""
    if seed is None:
        return None
    seeded = torch.Generator().manual_seed(seed).get_state()
    if torch.equal(torch.default_generator.get_state(), seeded):
        return None
    return (
        f"rank {rank} drew from torch before init_process_group, as a child with streams of "
        "its own: those draws differ between the ranks; draw what the ranks must share "
        "(model init, random_split) after init_process_group"
    )
