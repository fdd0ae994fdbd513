"""Reads of what no seed controls, recorded with FILE:LINE in ``verify --explain``'s traced
runs: the clock, the OS's entropy, the process id.

Only the user's own lines count (not the standard library's, not an installed package's,
which read the clock for their own purposes), each once per process. Switched on only by the
trace variable, so an ordinary run pays nothing. Names taken with ``from time import time``
before autoseed started are not seen.
"""

from __future__ import annotations

import sys
from typing import Any

from autoseed.seeding.calls import mark_wrapper

READS_SUFFIX = ".reads"
# (module, attribute) pairs wrapped at start; the modules imported later are wrapped at import.
READ_AT_ONCE = (("time", "time"), ("time", "time_ns"), ("os", "urandom"), ("os", "getpid"))
READ_AT_IMPORT = {
    "uuid": ("uuid1", "uuid4"),
    "secrets": ("token_bytes", "token_hex", "token_urlsafe", "randbits", "randbelow", "choice"),
}

_seen: set[tuple[str, str]] = set()


def _wrapped(source: str, original: Any) -> Any:
    def reading(*args: Any, **kwargs: Any) -> Any:
        _record(source, sys._getframe(1))
        return original(*args, **kwargs)

    return mark_wrapper(reading, original)


def _record(source: str, frame: Any) -> None:
    """Note a read by the code of ``frame``, if that is the user's (a library's read made on
    its own behalf, a numpy import's, is not the user's line)."""
    from autoseed.verify.trace import append_line, is_user_file

    try:
        filename = frame.f_code.co_filename
        if not is_user_file(filename):
            return
        where = f"{filename}:{frame.f_lineno}"
        if (source, where) in _seen:
            return
        _seen.add((source, where))
        append_line(READS_SUFFIX, f"{source}\t{where}")
    except OSError:
        pass  # a traced run's record must never break the run


def wrap_module(module: Any, names: tuple[str, ...]) -> None:
    for name in names:
        original = getattr(module, name, None)
        if original is not None and not hasattr(original, "__wrapped__"):
            setattr(module, name, _wrapped(f"{module.__name__}.{name}", original))


def wrap_datetime(module: Any) -> None:
    """``datetime.now()`` and its kin are class methods of a C type: a subclass that records
    them takes the class's place, named as it, for the traced run only."""
    base = module.datetime

    class datetime(base):  # type: ignore[misc, valid-type]
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            _record("datetime.now", sys._getframe(1))
            return base.now(tz)

        @classmethod
        def utcnow(cls) -> Any:
            _record("datetime.utcnow", sys._getframe(1))
            return base.utcnow()

        @classmethod
        def today(cls) -> Any:
            _record("datetime.today", sys._getframe(1))
            return base.today()

    datetime.__module__, datetime.__qualname__ = base.__module__, base.__qualname__
    module.datetime = datetime


def _wrapper_of(names: tuple[str, ...]) -> Any:
    def wrap(module: Any) -> None:
        wrap_module(module, names)

    return wrap


def start_recording() -> None:
    """Wrap the sources in this process: now for those imported, at import for the rest."""
    from autoseed.hook import when_imported

    for module_name, attribute in READ_AT_ONCE:
        wrap_module(sys.modules[module_name], (attribute,))
    for module_name, names in READ_AT_IMPORT.items():
        when_imported(module_name, _wrapper_of(names))
    when_imported("datetime", wrap_datetime)
