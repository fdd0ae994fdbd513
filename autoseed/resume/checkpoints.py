"""``AUTOSEED_RESUME=1``: a run resumed from its checkpoint continues the random streams it
saved, with no code change.

At ``torch.save(obj, path)`` this process's random state (``random_state.py``) is written
next to the checkpoint, one record per rank (``path.autoseed-rng.rank0.json``); the checkpoint
itself is byte for byte what the script saved. At ``torch.load(path)`` the record for this
rank is read and the states restored as the load returns, once per process, and only in a
process that has not saved a checkpoint itself: that is a resume. A run that never stops loads
nothing before it saves, or loads after it saved (the best model, for a final evaluation), and
is unchanged. A record made under another seed, other settings or another world size restores
nothing, and says so in one line; a checkpoint without a record is said under
``AUTOSEED_VERBOSE``.

Lightning writes its checkpoints through fsspec, to a buffer: its ``TorchCheckpointIO``, which
does know the path, gets the same treatment (``Trainer.fit(ckpt_path=...)`` resumes).

DataLoaders with ``persistent_workers=True`` start their workers once, drawing the workers'
base seed from the main process's generator. The uninterrupted run drew it before the
checkpoint; the resumed run would draw it again, one draw that shifts every later shuffle and
dropout. The record counts the persistent loaders started so far, and after a restore as many
first starts give that draw back. What those new workers draw themselves cannot be the
uninterrupted workers' (their state lived in processes that are gone): said in one line.

Limits: a checkpoint written to a buffer or an open file by the script itself has no path to
put a record next to; a resume in the middle of an epoch needs the sampler's position, which
autoseed does not track.
"""

from __future__ import annotations

import json
import os
from typing import Any

from autoseed.names import say_once, warn
from autoseed.resume import random_state
from autoseed.seeding.calls import mark_wrapper, original_of
from autoseed.seeding.seeders import launcher_number
from autoseed.settings.plan import RANK_VARIABLES, SeedPlan

RECORD_FORMAT = 1
WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")

_state = {"saved": False, "restored": False}
# DataLoaders with persistent workers started in this run (as the uninterrupted run counts
# them), and how many starts after a restore the uninterrupted run had made before its save.
_persistent = {"started": 0, "started_before_save": 0}

PERSISTENT_WORKERS_NEW = (
    "resume: DataLoader workers with persistent_workers=True were started anew after the "
    "resume: shuffling and the main process's streams continue as saved, but what the workers "
    "draw (augmentation in the dataset) is not what the uninterrupted run's workers drew"
)


def _rank() -> int:
    return launcher_number(RANK_VARIABLES) or 0


def _world_size() -> int:
    return launcher_number(WORLD_SIZE_VARIABLES) or 1


def record_path(checkpoint: str | os.PathLike[str]) -> str:
    """Where the record of ``checkpoint`` for this rank lives: ranks never collide."""
    return f"{os.fspath(checkpoint)}.autoseed-rng.rank{_rank()}.json"


def _identity(plan: SeedPlan) -> dict[str, Any]:
    """What must match for a record to belong to this run."""
    return {
        "seed": plan.seed,
        "effective_seed": plan.effective_seed,
        "generators": plan.generators,
        "override": plan.override,
        "world_size": _world_size(),
    }


def save_record(checkpoint: str | os.PathLike[str], plan: SeedPlan) -> None:
    record = {
        "format": RECORD_FORMAT,
        **_identity(plan),
        "state": random_state.capture(),
        "persistent_loaders_started": _persistent["started"],
    }
    path = record_path(checkpoint)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(record, file)
    os.replace(temporary, path)
    _state["saved"] = True


def restore_record(checkpoint: str | os.PathLike[str], plan: SeedPlan) -> None:
    """Restore the states saved with ``checkpoint``, if this load is a resume."""
    path = record_path(checkpoint)
    if _state["saved"] or _state["restored"]:
        if plan.verbose:
            why = "restored once already" if _state["restored"] else "saved a checkpoint"
            warn(f"resume: {os.fspath(checkpoint)} loaded; nothing restored: this process {why}")
        return
    try:
        with open(path, encoding="utf-8") as file:
            record = json.load(file)
    except FileNotFoundError:
        if plan.verbose:
            warn(f"resume: no RNG record next to {os.fspath(checkpoint)}: nothing restored")
        return
    except (OSError, ValueError) as error:
        say_once(f"resume: the RNG record {path} cannot be read ({error}): nothing restored")
        return
    expected = _identity(plan)
    differing = [
        f"{key} {record.get(key)!r} there, {value!r} here"
        for key, value in expected.items()
        if record.get(key) != value
    ]
    if record.get("format") != RECORD_FORMAT or differing:
        say_once(
            f"resume: the RNG record {path} belongs to another run ("
            f"{'; '.join(differing) or 'another format'}): nothing restored"
        )
        return
    restored = random_state.restore(record["state"])
    _state["restored"] = True
    _persistent["started"] = _persistent["started_before_save"] = int(
        record.get("persistent_loaders_started", 0)
    )
    if plan.verbose:
        warn(f"resume: restored {', '.join(restored)} as saved with {os.fspath(checkpoint)}")


def watch_checkpoints(torch: Any, plan: SeedPlan) -> None:
    """Wrap ``torch.save(obj, f)`` and ``torch.load(f)`` (once per process)."""
    torch.save = _then(torch.save, save_record, plan, 1, "f")
    torch.load = _then(torch.load, restore_record, plan, 0, "f")
    watch_persistent_loaders(torch)


def watch_persistent_loaders(torch: Any) -> None:
    """Count the starts of DataLoaders with persistent workers; after a restore, give back the
    base-seed draw of the starts the uninterrupted run made before its checkpoint."""
    iterator = torch.utils.data.dataloader._BaseDataLoaderIter
    original = original_of(iterator.__init__)

    def __init__(self: Any, loader: Any, *args: Any, **kwargs: Any) -> None:
        if not (getattr(loader, "persistent_workers", False) and loader.num_workers > 0):
            original(self, loader, *args, **kwargs)
        elif _persistent["started_before_save"] <= 0:
            _persistent["started"] += 1
            original(self, loader, *args, **kwargs)
        else:
            _persistent["started_before_save"] -= 1  # counted: the saved run had started it
            generator = loader.generator or torch.default_generator
            state = generator.get_state()
            try:
                original(self, loader, *args, **kwargs)
            finally:
                generator.set_state(state)
            say_once(PERSISTENT_WORKERS_NEW)

    iterator.__init__ = mark_wrapper(__init__, original)


def watch_lightning(torch_io: Any, plan: SeedPlan) -> None:
    """Lightning's ``TorchCheckpointIO``: a record next to each checkpoint path it writes, and
    the states restored when it loads one (remote fsspec paths are left alone)."""
    checkpoint_io = torch_io.TorchCheckpointIO
    checkpoint_io.save_checkpoint = _then(
        checkpoint_io.save_checkpoint, save_record, plan, 2, "path"
    )
    checkpoint_io.load_checkpoint = _then(
        checkpoint_io.load_checkpoint, restore_record, plan, 1, "path"
    )


def _then(function: Any, action: Any, plan: SeedPlan, position: int, name: str) -> Any:
    """``function``, followed by ``action(path, plan)`` when its argument ``name`` (at
    ``position``) is a local path."""
    original = original_of(function)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        path = args[position] if len(args) > position else kwargs.get(name)
        if _local(path):
            _never_raise(action, path, plan)
        return result

    return mark_wrapper(wrapper, original)


def _local(path: Any) -> bool:
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else ""
    return bool(text) and ("://" not in text or text.startswith("file://"))


def _never_raise(action: Any, path: Any, plan: SeedPlan) -> None:
    try:
        action(path, plan)
    except Exception as exc:  # inside the script's own save or load: report, never raise
        warn(f"resume: {type(exc).__name__}: {exc}")
