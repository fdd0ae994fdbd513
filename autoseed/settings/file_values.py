"""The values of a ``.env``'s settings, as python-dotenv reads them.

python-dotenv turns each binding that the locator found (``dotenv_syntax.py``) into its value:
quotes and escapes, ``export``, values over several lines, and ``${VAR}`` and
``${VAR:-default}`` expanded from the earlier lines of the same file, else the environment, as
``dotenv_values`` expands them. It reads only those bindings, and for a ``${VAR}`` the bindings
of ``VAR`` (found by the locator too, and so on for what they refer to): a few lines in Python,
never the MiB around them.

Only python-dotenv's parser and its variables are loaded, never its package's ``__init__``,
which imports ``dotenv.main`` (logging, tempfile, pathlib): about 15 ms of this machine's
start-up for nothing autoseed uses. They are python-dotenv's own modules, loaded from where it
is installed, under their own names but outside ``sys.modules``: a program that imports
``dotenv`` later gets its own copy, as if autoseed had never looked.
"""

import io
import sys

from autoseed.settings.dotenv_syntax import key_line_starts, setting_bindings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType
    from typing import Any

    from autoseed.settings.dotenv_syntax import Binding

_MODULES = ("parser", "variables")
_loaded: "list[ModuleType]" = []


def read_values(
    text: str, bindings: "list[Binding]", environ: "Mapping[str, str]"
) -> "list[str | None]":
    """The value python-dotenv's ``dotenv_values`` gives each of ``bindings`` (bindings of
    ``text`` without errors, in file order): ``None`` for a key without ``=``.

    Raises :class:`ImportError` when python-dotenv is not installed.
    """
    parser, variables = _python_dotenv()
    raw = {binding.line: _parse(parser, binding) for binding in bindings}
    chosen = {binding.line: binding for binding in bindings}
    looked_up: set[str] = set()
    pending = list(bindings)
    while pending:  # the bindings that the values refer to, and those they refer to
        names = {
            atom.name
            for binding in pending
            for atom in variables.parse_variables(raw[binding.line][1] or "")
            if isinstance(atom, variables.Variable)
        } - looked_up
        looked_up |= names
        found = setting_bindings(text, names.__contains__, key_line_starts(text, names))
        pending = [b for b in found if b.error is None and b.line not in chosen]
        for binding in pending:
            chosen[binding.line] = binding
            raw[binding.line] = _parse(parser, binding)
    # dotenv_values' interpolation (python-dotenv's resolve_variables with override=True):
    # each value sees the environment, overridden by the file's lines before it.
    values: dict[str, str | None] = {}
    resolved: dict[int, str | None] = {}
    for line in sorted(chosen):
        key, value = raw[line]
        if value is not None:
            seen = {**environ, **values}
            value = "".join(atom.resolve(seen) for atom in variables.parse_variables(value))
        values[key] = resolved[line] = value
    return [resolved[binding.line] for binding in bindings]


def _parse(parser: "ModuleType", binding: "Binding") -> "tuple[str, str | None]":
    """The key and the value, before interpolation, that python-dotenv reads from the
    binding's text (exactly one binding: the locator found where it starts and ends)."""
    (parsed,) = [b for b in parser.parse_stream(io.StringIO(binding.source)) if b.key is not None]
    return parsed.key, parsed.value


def python_dotenv_importable() -> bool:
    """Whether python-dotenv can be loaded from ``sys.path`` as it stands."""
    try:
        _python_dotenv()
    except ImportError:
        return False
    return True


def _python_dotenv() -> "list[ModuleType]":
    if not _loaded:
        _loaded.extend(_load())
    return _loaded


def _load() -> "list[ModuleType]":
    imported = [sys.modules.get(f"dotenv.{name}") for name in _MODULES]
    if all(module is not None for module in imported):
        return [module for module in imported if module is not None]
    try:
        return [_load_alone(name) for name in _MODULES]
    except Exception:  # installed another way (a zip, an editable finder): the usual import
        import dotenv.parser
        import dotenv.variables

        return [dotenv.parser, dotenv.variables]


def _load_alone(name: str) -> "ModuleType":
    """python-dotenv's module ``dotenv.<name>``, executed without its package's ``__init__``
    (neither module imports anything of its package)."""
    finder = _path_finder()
    package = finder.find_spec("dotenv")
    if package is None or not package.submodule_search_locations:
        raise ImportError("no module named 'dotenv'", name="dotenv")
    spec = finder.find_spec(f"dotenv.{name}", package.submodule_search_locations)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named 'dotenv.{name}'", name=f"dotenv.{name}")
    module = type(sys)(spec.name)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    spec.loader.exec_module(module)
    return module


def _path_finder() -> "Any":
    """importlib.machinery's PathFinder, from the module that the import system itself loaded
    at start-up: importing the importlib package would cost half a millisecond of this start."""
    finder = getattr(sys.modules.get("_frozen_importlib_external"), "PathFinder", None)
    if finder is None:
        from importlib.machinery import PathFinder

        return PathFinder
    return finder
