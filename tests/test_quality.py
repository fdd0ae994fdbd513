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
