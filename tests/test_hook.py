"""The post-import hook, in process, on small real modules written for each test."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from autoseed import hook


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for throw-away modules, forgotten again afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    hook.forget()
    for name in set(sys.modules) - before:
        del sys.modules[name]
    importlib.invalidate_caches()


def write(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(source)
    importlib.invalidate_caches()


def finder_installed() -> bool:
    return any(isinstance(finder, hook.PostImportFinder) for finder in sys.meta_path)


def test_calls_back_after_the_module_has_executed(modules: Path) -> None:
    write(modules, "lib_a", "VALUE = 1\nREADY = True\n")
    seen: list[tuple[str, bool]] = []
    hook.when_imported("lib_a", lambda module: seen.append((module.__name__, module.READY)))
    assert finder_installed()
    import lib_a  # type: ignore[import-not-found]

    assert seen == [("lib_a", True)]
    assert not finder_installed(), "the finder must leave once nothing is awaited"
    assert type(lib_a.__loader__).__name__ == "SourceFileLoader"
    assert lib_a.__spec__.loader is lib_a.__loader__


def test_already_imported_module_is_called_back_at_once(modules: Path) -> None:
    write(modules, "lib_b", "X = 2\n")
    import lib_b  # type: ignore[import-not-found]

    seen: list[ModuleType] = []
    hook.when_imported("lib_b", seen.append)
    assert seen == [lib_b]
    assert not finder_installed()


def test_failed_import_is_not_reported_and_stays_awaited(modules: Path) -> None:
    write(modules, "lib_c", "raise RuntimeError('the library is broken')\n")
    seen: list[ModuleType] = []
    hook.when_imported("lib_c", seen.append)
    with pytest.raises(RuntimeError, match="the library is broken"):
        import lib_c  # type: ignore[import-not-found]  # noqa: F401
    assert seen == [] and "lib_c" not in sys.modules
    assert finder_installed()
    write(modules, "lib_c", "FIXED = True\n")
    import lib_c  # type: ignore[import-not-found]  # noqa: F811

    assert seen == [lib_c]


def test_circular_import_is_called_back_only_when_complete(modules: Path) -> None:
    write(modules, "lib_d", "import lib_e\nDONE = True\n")
    write(modules, "lib_e", "import lib_d\nPARTNER_DONE = getattr(lib_d, 'DONE', False)\n")
    seen: list[bool] = []
    hook.when_imported("lib_d", lambda module: seen.append(module.DONE))
    import lib_d  # type: ignore[import-not-found]

    assert lib_d.lib_e.PARTNER_DONE is False  # lib_e saw lib_d half-built; the callback did not
    assert seen == [True]


def test_refused_import_fails_before_any_code_runs(modules: Path) -> None:
    marker = modules / "ran"
    write(modules, "lib_f", f"open({str(marker)!r}, 'w').close()\n")
    hook.refuse_import("lib_f", lambda: ValueError("bad configuration"))
    for _ in range(2):
        with pytest.raises(ValueError, match="bad configuration"):
            import lib_f  # type: ignore[import-not-found]  # noqa: F401
    assert not marker.exists() and "lib_f" not in sys.modules
    hook.forget(["lib_f"])
    import lib_f  # type: ignore[import-not-found]  # noqa: F401, F811

    assert marker.exists()


def test_submodules_and_other_modules_pass_through(modules: Path) -> None:
    (modules / "pkg_g").mkdir()
    (modules / "pkg_g" / "__init__.py").write_text("")
    (modules / "pkg_g" / "sub.py").write_text("Y = 3\n")
    importlib.invalidate_caches()
    seen: list[str] = []
    hook.when_imported("pkg_g", lambda module: seen.append(module.__name__))
    import pkg_g.sub  # type: ignore[import-not-found]

    assert pkg_g.sub.Y == 3
    assert seen == ["pkg_g"]


def test_reload_does_not_call_back_again(modules: Path) -> None:
    write(modules, "lib_h", "Z = 1\n")
    seen: list[str] = []
    hook.when_imported("lib_h", lambda module: seen.append(module.__name__))
    import lib_h  # type: ignore[import-not-found]

    importlib.reload(lib_h)
    assert seen == ["lib_h"]


def test_two_threads_importing_at_once_call_back_once(modules: Path) -> None:
    write(modules, "lib_i", "import time\ntime.sleep(0.2)\nREADY = True\n")
    seen: list[bool] = []
    hook.when_imported("lib_i", lambda module: seen.append(module.READY))
    errors: list[BaseException] = []

    def importer() -> None:
        try:
            importlib.import_module("lib_i")
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=importer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and seen == [True]


def test_odd_objects_in_sys_modules_do_not_break_imports(
    modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NotAModule:
        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    monkeypatch.setitem(sys.modules, "lib_j", NotAModule())  # type: ignore[arg-type]
    seen: list[object] = []
    hook.when_imported("lib_j", seen.append)
    write(modules, "lib_k", "K = 1\n")
    hook.when_imported("lib_k", seen.append)
    import lib_k  # type: ignore[import-not-found]

    assert lib_k in seen and len(seen) == 2
