"""``AUTOSEED_RESUME=1``: a run resumed from its checkpoint continues the random streams it
saved, with no code change.

At ``torch.save(obj, f)`` this process's random state (``random_state.py``) is written
next to the checkpoint, one record per rank (``f.autoseed-rng.rank0.json``); ``f`` is a path
or an open file with its name; the checkpoint itself is byte for byte what the script saved.
At ``torch.load(f)`` the record for this rank is read, checked whole, and the states restored
as the load returns, once per process, and only in a process that has not saved a checkpoint
itself: that is a resume. A run that never stops loads nothing before it saves, or loads
after it saved (the best model, for a final evaluation), and is unchanged. A record made
under another seed, other settings or another world size, or one that is not a record,
restores nothing, and says so in one line naming it; a checkpoint without a record is said
under ``AUTOSEED_VERBOSE``.

After the restore, what the script draws to rebuild the objects that the checkpoint
overwrites does not count (``rebuild.py``); numpy's state, where
``numpy.random`` is first imported after the load, is restored at that import.

Lightning writes its checkpoints through fsspec, to a buffer: its ``TorchCheckpointIO``, which
does know the path, gets the same treatment (``Trainer.fit(ckpt_path=...)`` resumes), and the
records of the checkpoints it removes go with them.

Limits: a checkpoint written to a buffer has no file to put a record next to (said in one
line); a resume from a checkpoint saved in the middle of an epoch cannot be exact (said in one
line: autoseed does not track the sampler's position).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from autoseed.hook import when_imported
from autoseed.names import say_once, warn
from autoseed.resume import loaders, random_state, rebuild, record_file
from autoseed.seeding.calls import mark_wrapper, original_of
from autoseed.seeding.libraries import launcher_number
from autoseed.settings.plan import RANK_VARIABLES, SeedPlan

RECORD_FORMAT = 1
WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")

_state = {"saved": False, "restored": False}
# Set while Lightning's checkpoint IO runs: it records by path, and its own torch.save and
# torch.load calls (into a buffer, from an fsspec file) are its business.
_inside_checkpoint_io = threading.local()


def _rank() -> int:
    return launcher_number(RANK_VARIABLES) or 0


def _world_size() -> int:
    return launcher_number(WORLD_SIZE_VARIABLES) or 1


def record_path(checkpoint: str | os.PathLike[str]) -> str:
    """Where the record of ``checkpoint`` for this rank lives."""
    return record_file.record_path(os.fspath(checkpoint), _rank())


def _identity(plan: SeedPlan) -> dict[str, Any]:
    """What must match for a record to belong to this run."""
    return {
        "seed": plan.seed,
        "effective_seed": plan.effective_seed,
        "generators": plan.generators,
        "override": plan.override,
        "world_size": _world_size(),
    }


def save_record(target: object, plan: SeedPlan) -> None:
    """Write this process's random state beside the checkpoint ``target`` just written."""
    checkpoint = record_file.checkpoint_name(target)
    if checkpoint is None or record_file.is_remote(checkpoint):
        where = (
            f"into a {type(target).__name__}, which has no file name"
            if checkpoint is None
            else f"to {checkpoint}, which is not a local file"
        )
        say_once(
            f"resume: torch.save wrote {where}: no RNG record was written, and a resume from "
            "that checkpoint will restore nothing"
        )
        return
    if not record_file.is_regular_file(checkpoint):  # /dev/null: nothing to resume from
        return
    rebuild.close()
    _state["saved"] = True
    record = {
        "format": RECORD_FORMAT,
        **_identity(plan),
        "state": random_state.capture(),
        "persistent_loaders_started": loaders.persistent_loaders_started(),
        "epoch_position": loaders.epoch_position(),
    }
    path = record_path(checkpoint)
    try:
        record_file.write(path, record, like=checkpoint)
    except OSError as error:
        warn(
            f"resume: could not write the RNG record {path} ({error.strerror or error}): a "
            f"resume from {checkpoint} will restore nothing"
        )


def restore_record(target: object, plan: SeedPlan) -> None:
    """Restore the states saved with the checkpoint ``target``, if this load is a resume."""
    checkpoint = record_file.checkpoint_name(target)
    if checkpoint is None:
        if plan.verbose:
            warn(f"resume: torch.load read a {type(target).__name__}: nothing restored")
        return
    if record_file.is_remote(checkpoint):
        return
    if _state["saved"] or _state["restored"]:
        if plan.verbose:
            why = "restored once already" if _state["restored"] else "saved a checkpoint"
            warn(f"resume: {checkpoint} loaded; nothing restored: this process {why}")
        return
    path = record_path(checkpoint)
    try:
        record = record_file.read(path)
        if record is None:
            if plan.verbose:
                warn(f"resume: no RNG record next to {checkpoint}: nothing restored")
            return
        saved, persistent, position = _check(record, plan)
    except (record_file.RecordError, random_state.ForeignState) as error:
        say_once(f"resume: the RNG record {path} {error}: nothing restored")
        return
    except random_state.DamagedState as error:
        say_once(f"resume: the RNG record {path} is damaged ({error}): nothing restored")
        return
    try:
        restored = saved.restore()
    except Exception as error:  # validated, yet a library refused: nothing stays restored
        say_once(f"resume: the RNG record {path} cannot be restored ({error}): nothing restored")
        return
    _state["restored"] = True
    loaders.continue_persistent_loaders(persistent)
    if saved.numpy_waits_for_import:
        when_imported("numpy.random", _RestoreNumpyAtImport(saved, checkpoint, plan))
    rebuild.open_after_restore(sys.modules["torch"], saved, checkpoint, verbose=plan.verbose)
    if position is not None:
        say_once(
            f"resume: {checkpoint} was saved in the middle of an epoch (a DataLoader had "
            f"yielded {position['yielded']} of its {position['batches']} batches): the "
            "resumed run starts that epoch's data over, so it cannot end as the uninterrupted "
            "run does; resume from checkpoints saved at the end of an epoch"
        )
    if plan.verbose:
        later = "; numpy when it is imported" if saved.numpy_waits_for_import else ""
        warn(f"resume: restored {', '.join(restored)} as saved with {checkpoint}{later}")


def _check(
    record: object, plan: SeedPlan
) -> tuple[random_state.SavedState, int, dict[str, int] | None]:
    """The record checked whole: its state, the persistent loaders started before its save,
    and where in an epoch it was saved. Raises what :func:`restore_record` reports."""
    if not isinstance(record, dict):
        raise random_state.DamagedState("it is not a JSON object")
    differing = [
        f"{key} {record.get(key)!r} there, {value!r} here"
        for key, value in _identity(plan).items()
        if record.get(key) != value
    ]
    if record.get("format") != RECORD_FORMAT or differing:
        raise record_file.RecordError(
            f"belongs to another run ({'; '.join(differing) or 'another format'})"
        )
    persistent = record.get("persistent_loaders_started", 0)
    if not random_state.is_count(persistent):
        raise random_state.DamagedState("persistent_loaders_started is not an integer 0 or more")
    position = record.get("epoch_position")
    if position is not None and not (
        isinstance(position, dict)
        and random_state.is_count(position.get("yielded"))
        and random_state.is_count(position.get("batches"))
    ):
        raise random_state.DamagedState("epoch_position is not null or {yielded, batches}")
    return random_state.parse(record.get("state")), persistent, position


class _RestoreNumpyAtImport:
    """numpy 2 imports ``numpy.random`` lazily: where the script first imports it after the
    load, its saved state is restored then (in this process: a DataLoader worker forked
    before that import has streams of its own)."""

    def __init__(self, saved: random_state.SavedState, checkpoint: str, plan: SeedPlan) -> None:
        self.saved, self.checkpoint, self.verbose = saved, checkpoint, plan.verbose
        self.process = os.getpid()

    def __call__(self, numpy_random: Any) -> None:
        if os.getpid() != self.process:
            return
        try:
            self.saved.restore_numpy(numpy_random)
        except Exception as exc:  # inside the script's import: report, never raise
            warn(f"resume: could not restore numpy as saved with {self.checkpoint}: {exc}")
            return
        if self.verbose:
            warn(f"resume: restored numpy at its import, as saved with {self.checkpoint}")


def remove_records(target: object, plan: SeedPlan) -> None:
    """The checkpoint ``target`` was removed: its records go too."""
    checkpoint = record_file.checkpoint_name(target)
    if checkpoint is not None and not record_file.is_remote(checkpoint):
        record_file.remove_records(checkpoint)


def watch_checkpoints(torch: Any, plan: SeedPlan) -> None:
    """Wrap ``torch.save(obj, f)`` and ``torch.load(f)`` (once per process)."""
    torch.save = _then(torch.save, save_record, plan, 1, "f")
    torch.load = _then(torch.load, restore_record, plan, 0, "f")
    loaders.watch_loaders(torch, on_start=rebuild.close)


def watch_lightning(torch_io: Any, plan: SeedPlan) -> None:
    """Lightning's ``TorchCheckpointIO``: a record next to each checkpoint path it writes, the
    states restored when it loads one, the records removed with the checkpoints it removes
    (remote fsspec paths are left alone)."""
    checkpoint_io = torch_io.TorchCheckpointIO
    checkpoint_io.save_checkpoint = _then(
        checkpoint_io.save_checkpoint, save_record, plan, 2, "path", owns_torch=True
    )
    checkpoint_io.load_checkpoint = _then(
        checkpoint_io.load_checkpoint, restore_record, plan, 1, "path", owns_torch=True
    )
    checkpoint_io.remove_checkpoint = _then(
        checkpoint_io.remove_checkpoint, remove_records, plan, 1, "path"
    )


def _then(
    function: Any, action: Any, plan: SeedPlan, position: int, name: str, owns_torch: bool = False
) -> Any:
    """``function``, followed by ``action(f, plan)`` with its argument ``name`` (at
    ``position``). ``owns_torch``: the ``torch.save``/``torch.load`` calls made inside it are
    not the script's own (they do nothing here)."""
    original = original_of(function)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if getattr(_inside_checkpoint_io, "active", False):
            return original(*args, **kwargs)
        if owns_torch:
            _inside_checkpoint_io.active = True
        try:
            result = original(*args, **kwargs)
        finally:
            if owns_torch:
                _inside_checkpoint_io.active = False
        target = args[position] if len(args) > position else kwargs.get(name)
        _never_raise(action, target, plan)
        return result

    return mark_wrapper(wrapper, original)


def _never_raise(action: Any, target: object, plan: SeedPlan) -> None:
    try:
        action(target, plan)
    except Exception as exc:  # inside the script's own save or load: report, never raise
        warn(f"resume: {type(exc).__name__}: {exc}")
