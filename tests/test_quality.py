"""The project's own checks, so that the one test command runs them: ruff and mypy --strict."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT, check, run


@pytest.mark.parametrize(
    "argv",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=" ".join,
)
def test_tool_passes(argv: list[str]) -> None:
    check(run([sys.executable, "-m", *argv], cwd=ROOT))


def test_every_module_imports_and_imports_no_library_it_seeds() -> None:
    """What type checking cannot see: a name used at run time that exists only for the type
    checker. Importing any of autoseed's modules imports none of the libraries it seeds or
    integrates with: those load only where the program uses them."""
    code = (
        "import importlib, pkgutil, sys, autoseed\n"
        "names = [m.name for m in pkgutil.walk_packages(autoseed.__path__, 'autoseed.')\n"
        "         if m.name != 'autoseed.__main__']\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "heavy = ('torch', 'numpy', 'ray', 'mlflow', 'lightning', 'IPython')\n"
        "print(len(names), sorted(set(heavy) & set(sys.modules)))\n"
    )
    result = check(run([sys.executable, "-c", code], cwd=ROOT))
    count, loaded = result.stdout.split(" ", 1)
    assert int(count) > 40 and loaded == "[]\n", result.stdout
