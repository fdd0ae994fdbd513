"""After a restore, what the script draws to rebuild the objects the checkpoint then
overwrites does not count.

nanoGPT's ``train.py`` loads its checkpoint first, then builds the model from the
configuration the checkpoint holds (drawing its initial weights), then loads the weights into
it; an optimizer may draw its initial state before its own ``load_state_dict``. The
uninterrupted run made those draws before its save, so the resumed run must not make them
after the restore. From the restore until training draws (the first optimizer step, the first
DataLoader iteration, or a save), each ``load_state_dict`` of a module or an optimizer puts the
saved state back again. Draws made in that time for anything else (a ``random_split`` after
the load) do not count either: the documentation says to set such things up before the load.
"""

from __future__ import annotations

import importlib
from typing import Any

from autoseed.names import warn
from autoseed.resume import random_state
from autoseed.seeding.calls import mark_wrapper, original_of


class _Window:
    """The restore still open to rebuilding: the state to put back, and where it came from."""

    saved: random_state.SavedState | None = None
    checkpoint = ""
    verbose = False
    step_hook: Any = None


def open_after_restore(
    torch: Any, saved: random_state.SavedState, checkpoint: str, *, verbose: bool
) -> None:
    """From now until training draws, each ``load_state_dict`` restores ``saved`` again."""
    _Window.saved, _Window.checkpoint, _Window.verbose = saved, checkpoint, verbose
    _watch_load_state_dict(torch)
    # A hook cannot remove itself (torch iterates the hooks as it calls them): ``close``
    # removes it at the next save or DataLoader start.
    optimizer = importlib.import_module("torch.optim.optimizer")  # torch.optim hides the name
    _Window.step_hook = optimizer.register_optimizer_step_pre_hook(_first_step)


def close() -> None:
    """Training draws from now on: they count."""
    _Window.saved = None
    if _Window.step_hook is not None:
        _Window.step_hook.remove()
        _Window.step_hook = None


def _first_step(*_: Any) -> None:
    _Window.saved = None


def _restore_again(rebuilt: Any) -> None:
    saved = _Window.saved
    if saved is None:
        return
    drew = _Window.verbose and not saved.is_now()
    try:
        saved.restore()
    except Exception as exc:  # inside the script's load_state_dict: report, never raise
        warn(f"resume: could not restore again as saved with {_Window.checkpoint}: {exc}")
        close()
        return
    if drew:
        warn(
            f"resume: the draws made before {type(rebuilt).__qualname__}.load_state_dict "
            f"(building what the checkpoint overwrites) do not count: restored again as saved "
            f"with {_Window.checkpoint}"
        )


_watched: list[bool] = []


def _watch_load_state_dict(torch: Any) -> None:
    """Wrap ``Module.load_state_dict`` and ``Optimizer.load_state_dict`` (once a process)."""
    if not _watched:
        _watched.append(True)
        for owner in (torch.nn.Module, torch.optim.Optimizer):
            owner.load_state_dict = _restoring_after(owner.load_state_dict)


def _restoring_after(load_state_dict: Any) -> Any:
    """``load_state_dict``, then :func:`_restore_again` while the window is open."""
    original = original_of(load_state_dict)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        _restore_again(self)
        return result

    return mark_wrapper(wrapper, original)
