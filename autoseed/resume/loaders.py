"""DataLoaders in a run that saves or resumes: where in its epoch a checkpoint was saved, and
the first start of loaders with persistent workers after a resume.

DataLoaders with ``persistent_workers=True`` start their workers once, drawing the workers'
base seed from the main process's generator. The uninterrupted run drew it before the
checkpoint; the resumed run would draw it again, one draw that shifts every later shuffle and
dropout. The record counts the persistent loaders started so far, and after a restore as many
first starts give that draw back. What those new workers draw themselves cannot be the
uninterrupted workers' (their state lived in processes that are gone): said in one line.

A checkpoint saved while a DataLoader is part way through its batches cannot resume exactly:
the resumed run starts that loader's epoch over. Each started iterator is held weakly, and a
save looks at how far the live ones got (map-style datasets: an iterable one has no length).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from autoseed.names import say_once
from autoseed.seeding.calls import mark_wrapper, original_of

PERSISTENT_WORKERS_NEW = (
    "resume: DataLoader workers with persistent_workers=True were started anew after the "
    "resume: shuffling and the main process's streams continue as saved, but what the workers "
    "draw (augmentation in the dataset) is not what the uninterrupted run's workers drew"
)

# Persistent loaders started in this run (as the uninterrupted run counts them), and how many
# starts after a restore the uninterrupted run had made before its save.
_persistent = {"started": 0, "started_before_save": 0}
_live_iterators: weakref.WeakSet[Any] = weakref.WeakSet()


def persistent_loaders_started() -> int:
    return _persistent["started"]


def continue_persistent_loaders(started_before_save: int) -> None:
    """After a restore: the saved run had started this many persistent loaders."""
    _persistent["started"] = _persistent["started_before_save"] = started_before_save


def epoch_position() -> dict[str, int] | None:
    """How far a DataLoader part way through its epoch got, if one is: its batches yielded
    and its length."""
    for iterator in list(_live_iterators):
        yielded = getattr(iterator, "_num_yielded", 0)
        try:
            batches = len(iterator)
        except TypeError:  # an iterable dataset: its end is not known
            continue
        if 0 < yielded < batches:
            return {"yielded": yielded, "batches": batches}
    return None


def watch_loaders(torch: Any, on_start: Callable[[], None]) -> None:
    """Hold each DataLoader iterator weakly, call ``on_start()`` as it starts, and after a
    restore give back the base-seed draw of the persistent starts the saved run had made."""
    iterator_class = torch.utils.data.dataloader._BaseDataLoaderIter
    original = original_of(iterator_class.__init__)

    def __init__(self: Any, loader: Any, *args: Any, **kwargs: Any) -> None:
        on_start()
        _live_iterators.add(self)
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

    iterator_class.__init__ = mark_wrapper(__init__, original)
