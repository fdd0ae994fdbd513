"""Reads of what no seed controls, recorded with FILE:LINE in ``verify --explain``'s traced
runs: the clock, the OS's entropy (``random.SystemRandom`` and ``secrets`` among them), the
process id.

Only the user's own lines count (not the standard library's, not an installed package's,
which read the clock for their own purposes), each once per process. A draw from
``random.SystemRandom`` (which ``secrets`` draws from) counts at the first line outside the
standard library, named by the outermost function of it that the draw went through
(``secrets.token_hex``, ``random.SystemRandom.randint``). Switched on only by the
trace variable, so an ordinary run pays nothing. Names taken with ``from time import time``
before autoseed started are not seen.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from autoseed.seeding.calls import mark_wrapper
from autoseed.seeding.ledger import from_standard_library

READS_SUFFIX = ".reads"
# (module, attribute) pairs wrapped at start; the modules imported later are wrapped at import.
READ_AT_ONCE = (("time", "time"), ("time", "time_ns"), ("os", "urandom"), ("os", "getpid"))
READ_AT_IMPORT = {"uuid": ("uuid1", "uuid4")}
# The methods of random.SystemRandom that read the OS's entropy; every other method, and every
# function of ``secrets``, goes through one of them.
SYSTEM_RANDOM_READS = ("random", "getrandbits", "randbytes")

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


def wrap_system_random(module: Any) -> None:
    """``random.SystemRandom``'s reads of the OS's entropy (``secrets`` draws from one)."""
    for name in SYSTEM_RANDOM_READS:
        original = module.SystemRandom.__dict__.get(name)
        if original is not None and not hasattr(original, "__wrapped__"):
            setattr(module.SystemRandom, name, _system_random_read(original))


def _system_random_read(original: Any) -> Any:
    def reading(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = f"random.SystemRandom.{original.__name__}"
        _record_through_standard_library(name, sys._getframe(1))
        return original(self, *args, **kwargs)

    return mark_wrapper(reading, original)


def _record_through_standard_library(source: str, frame: Any) -> None:
    """Note a read at the first frame outside the standard library, named by the outermost
    function of the standard library that the read went through."""
    while frame is not None and from_standard_library(frame.f_code.co_filename):
        module = os.path.splitext(os.path.basename(frame.f_code.co_filename))[0]
        if module == "random":
            source = f"random.SystemRandom.{frame.f_code.co_name}"
        else:
            source = f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    if frame is not None:
        _record(source, frame)


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
    when_imported("random", wrap_system_random)
