"""Lines that tell what autoseed could not do, said where they help and once per job.

A line about the configuration comes at the first import of numpy or torch (or when the API is
called), never at a bare start, so that pip and every program that seeds nothing stay quiet;
and a DataLoader worker or a rank whose parent said it says nothing (``names.say_once``).
"""

from autoseed.hook import cancel, when_imported
from autoseed.names import say_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    Message = str | Callable[[], str | None]

WHERE_A_LINE_HELPS = ("numpy", "torch")
_pending: "list[Message]" = []


def tell_at_first_import(message: "Message") -> None:
    """Say ``message`` (or what a callable returns, computed then) at the first import of numpy
    or torch; at once if one is imported already."""
    _pending.append(message)
    if len(_pending) == 1:
        for name in WHERE_A_LINE_HELPS:
            when_imported(name, _tell_pending)


def tell_now() -> None:
    """Say what is pending now: the user called autoseed's API."""
    pending = _pending[:]
    _pending.clear()
    for name in WHERE_A_LINE_HELPS:
        cancel(name, _tell_pending)
    for message in pending:
        try:
            text = message() if callable(message) else message
        except Exception as exc:  # runs inside the user's import: report, never raise
            text = f"could not check the configuration: {type(exc).__name__}: {exc}"
        if text:
            say_once(text)


def _tell_pending(module: "ModuleType") -> None:
    tell_now()
