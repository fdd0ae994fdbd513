"""A minimal post-import hook: call back right after a module has finished executing.

One finder sits at the front of ``sys.meta_path`` while some module is awaited. For an awaited
name it asks the other finders for the real spec *directly* (``importlib.util.find_spec`` would
re-enter the import machinery; ddtrace had a deadlock from that) and wraps the spec's loader so
that the callback runs after ``exec_module``: never on a half-built module, whether the import is
circular or not. A module whose import raises is not reported (the error is the library's own)
and stays awaited. Once nothing is awaited the finder removes itself, so later imports pay
nothing.

A refused name makes the import fail from the finder, before any of the module's code runs:
raising after ``exec_module`` would leave half-imported state behind.

Limits, as in wrapt: ``importlib.reload`` does not call back again; a module whose loader has
no ``exec_module`` (legacy ``load_module``) is reported at the next import of any module.
"""

# _thread, not threading: this runs at start-up, and threading costs a millisecond to import.
import _thread
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

    ImportCallback = Callable[[ModuleType], None]


class _LoaderThatCallsBack:
    """Delegates to the real loader and calls back once the module has executed."""

    def __init__(self, loader: "Any", on_executed: "Callable[[ModuleType], None]") -> None:
        self._loader = loader
        self._on_executed = on_executed

    def create_module(self, spec: "ModuleSpec") -> "ModuleType | None":
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: "ModuleType") -> None:
        # Hand the module its real loader before its code runs: importlib.resources, pkgutil
        # and isinstance checks must never see this wrapper.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._on_executed(module)

    def __getattr__(self, name: str) -> "Any":
        return getattr(self._loader, name)


def _is_fully_imported(name: str) -> "ModuleType | None":
    module = sys.modules.get(name)
    # sys.modules may hold objects that are not modules: never let one break an import.
    spec = getattr(module, "__spec__", None)
    if module is None or getattr(spec, "_initializing", False):
        return None
    return module


class PostImportFinder:
    """The one meta-path finder behind :func:`when_imported` and :func:`refuse_import`."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[ImportCallback]] = {}
        self._refusals: dict[str, Callable[[], BaseException]] = {}
        self._before_next_import: list[Callable[[], None]] = []
        self._lock = _thread.RLock()
        self._looking_up = _thread._local()

    def find_spec(
        self, fullname: str, path: "Sequence[str] | None" = None, target: "ModuleType | None" = None
    ) -> "ModuleSpec | None":
        if _is_fully_imported("site") or "site" not in sys.modules:
            self._run_before_next_import()
        self._call_back_completed()
        with self._lock:
            make_refusal = self._refusals.get(fullname)
            awaited = fullname in self._callbacks
        if make_refusal is not None:
            raise make_refusal()
        if not awaited:
            return None
        busy: set[str] = self._looking_up.__dict__.setdefault("names", set())
        if fullname in busy:
            return None
        busy.add(fullname)
        try:
            spec = self._find_real_spec(fullname, path, target)
        finally:
            busy.discard(fullname)
        if spec is not None and hasattr(spec.loader, "exec_module"):
            # Duck-typed: importing importlib.abc for the base class would pull in
            # importlib.resources, milliseconds of start-up in every seeded process.
            spec.loader = _LoaderThatCallsBack(spec.loader, self._executed)  # type: ignore[assignment]
        return spec

    def _find_real_spec(
        self, fullname: str, path: "Sequence[str] | None", target: "ModuleType | None"
    ) -> "ModuleSpec | None":
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec: ModuleSpec | None = find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None

    def _executed(self, module: "ModuleType") -> None:
        with self._lock:
            callbacks = self._callbacks.pop(module.__name__, [])
            self._remove_when_idle()
        for callback in callbacks:
            callback(module)

    def _run_before_next_import(self) -> None:
        with self._lock:
            pending = self._before_next_import
            self._before_next_import = []
            if pending:
                self._remove_when_idle()
        for callback in pending:
            callback()

    def _call_back_completed(self) -> None:
        """Report awaited modules that finished importing without passing through our loader."""
        with self._lock:
            done = [name for name in self._callbacks if _is_fully_imported(name)]
        for name in done:
            module = _is_fully_imported(name)
            if module is not None:
                self._executed(module)

    def await_module(self, name: str, callback: "ImportCallback") -> None:
        with self._lock:
            self._callbacks.setdefault(name, []).append(callback)
            self._install()

    def before_next_import(self, callback: "Callable[[], None]") -> None:
        with self._lock:
            self._before_next_import.append(callback)
            self._install()

    def refuse(self, name: str, make_error: "Callable[[], BaseException]") -> None:
        with self._lock:
            self._refusals[name] = make_error
            self._install()

    def cancel(self, name: str, callback: "ImportCallback") -> None:
        with self._lock:
            callbacks = self._callbacks.get(name, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._callbacks.pop(name, None)
            self._remove_when_idle()

    def forget(self, names: "Sequence[str] | None" = None) -> None:
        with self._lock:
            for name in list(self._callbacks) if names is None else names:
                self._callbacks.pop(name, None)
                self._refusals.pop(name, None)
            if names is None:
                self._refusals.clear()
                self._before_next_import.clear()
            self._remove_when_idle()

    def _install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def _remove_when_idle(self) -> None:
        idle = not (self._callbacks or self._refusals or self._before_next_import)
        if idle and self in sys.meta_path:
            sys.meta_path.remove(self)


_finder = PostImportFinder()


def fully_imported(name: str) -> "ModuleType | None":
    """The module ``name`` if it has finished importing, else ``None``."""
    return _is_fully_imported(name)


def when_imported(name: str, callback: "ImportCallback") -> None:
    """Call ``callback(module)`` now if ``name`` is imported, else right after its import.

    The callback must not raise: it runs inside the user's ``import`` statement.
    """
    module = _is_fully_imported(name)
    if module is not None:
        callback(module)
    else:
        _finder.await_module(name, callback)


def find_spec(
    fullname: str, path: "Sequence[str] | None" = None, target: "ModuleType | None" = None
) -> "ModuleSpec | None":
    """What the hook's finder answers for this import (for a finder that ran before it, and
    put it in place: the start-up gate)."""
    return _finder.find_spec(fullname, path, target)


def before_next_import(callback: "Callable[[], None]") -> None:
    """Call ``callback()`` once, when the program next imports a module (work deferred off
    start-up): once site.py is done, so that what other .pth files and sitecustomize import
    does not count.

    The callback must not raise.
    """
    _finder.before_next_import(callback)


def refuse_import(name: str, make_error: "Callable[[], BaseException]") -> None:
    """Make every import of ``name`` raise ``make_error()`` before any of its code runs."""
    _finder.refuse(name, make_error)


def cancel(name: str, callback: "ImportCallback") -> None:
    """Drop one callback that :func:`when_imported` registered and has not called yet."""
    _finder.cancel(name, callback)


def forget(names: "Sequence[str] | None" = None) -> None:
    """Drop callbacks and refusals for ``names`` (all of them by default)."""
    _finder.forget(names)
