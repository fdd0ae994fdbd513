"""autoseed reads a .env's AUTOSEED lines exactly as python-dotenv's parser reads the whole file.

autoseed does not run python-dotenv at start-up (it parses every line, 30 µs each); these
properties hold its grammar (``autoseed/settings/dotenv_syntax.py``) equal to python-dotenv's on
files built from the pieces that make the grammar hard: quotes, escapes, multi-line values,
comments, ``export``, every kind of line break and blank.
"""

from __future__ import annotations

import io
import re

from dotenv.parser import parse_stream
from hypothesis import given, settings
from hypothesis import strategies as st

from autoseed.names import looks_like_setting
from autoseed.settings.dotenv_syntax import setting_bindings

PIECES = [
    "AUTOSEED", "AUTOSEED_CUDNN", "autoseed", "AUTO_SEED", "AUTOSED", "AUTH", "export ", "=",
    "'", '"', "\\", "\\'", '\\"', "\\n", "#", " ", "\t", "\n", "\r", "\r\n", "x", "1024",
    "\x0b", "\x85", "\u2028", "ß", "${SEED}",
]  # fmt: skip
LINE_BREAK = re.compile(r"\r\n|\n|\r")


def python_dotenv(text: str) -> list[tuple[str | None, str | None, str | None, int]]:
    """python-dotenv's bindings of setting-like keys, and its unparsable setting-like lines,
    each with the line its text starts on (every line break counted once)."""
    found = []
    position = 0
    for binding in parse_stream(io.StringIO(text)):
        source = binding.original.string
        start = position + len(source) - len(source.lstrip())
        position += len(source)
        line = 1 + len(LINE_BREAK.findall(text[:start]))
        if binding.error:
            stripped = source.strip()
            if looks_like_setting(stripped.removeprefix("export").lstrip()):
                found.append((None, None, stripped, line))
        elif binding.key is not None and looks_like_setting(binding.key):
            found.append((binding.key, binding.value, None, line))
    return found


def autoseed(text: str) -> list[tuple[str | None, str | None, str | None, int]]:
    return [(b.key, b.value, b.error, b.line) for b in setting_bindings(text, looks_like_setting)]


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_same_settings_values_errors_and_lines_as_python_dotenv(text: str) -> None:
    assert autoseed(text) == python_dotenv(text)


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_any_text_reads_as_python_dotenv_reads_it(text: str) -> None:
    assert autoseed(text) == python_dotenv(text)


def test_a_quoted_value_spanning_lines_hides_what_looks_like_a_setting() -> None:
    text = "CERT='-----BEGIN\nAUTOSEED=1\n-----END'\nAUTOSEED=2\n"
    assert autoseed(text) == [("AUTOSEED", "2", None, 4)]
