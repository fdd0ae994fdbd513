"""autoseed finds a .env's AUTOSEED bindings exactly where python-dotenv's parser finds them in
the whole file, and python-dotenv's reading of what it found is dotenv_values' reading of the file.

autoseed does not run python-dotenv over a whole file at start-up (it parses every line, 30 µs
each): its locator (``autoseed/settings/dotenv_syntax.py``) steps over the lines that cannot
carry a setting, and hands python-dotenv the bindings it found. These properties hold both
steps equal to python-dotenv's own on files built from the pieces that make the grammar hard:
quotes, escapes, multi-line values, comments, ``export``, every kind of line break and blank,
and ``${VAR}`` references to earlier lines.
"""

from __future__ import annotations

import io
import os
import re

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from hypothesis import given, settings
from hypothesis import strategies as st

from autoseed.names import looks_like_setting
from autoseed.settings.dotenv_syntax import setting_bindings
from autoseed.settings.env_file import EnvFile
from autoseed.settings.plan import ConfigError
from autoseed.settings.sources import settings_from_env_file

PIECES = [
    "AUTOSEED", "AUTOSEED_CUDNN", "autoseed", "AUTO_SEED", "AUTOSED", "AUTH", "export ", "=",
    "'", '"', "\\", "\\'", '\\"', "\\n", "#", " ", "\t", "\n", "\r", "\r\n", "x", "1024",
    "\x0b", "\x85", "\u2028", "ß", "${SEED}",
]  # fmt: skip
# What interpolation reads: references to earlier lines (settings or not) and the environment.
REFERENCES = [
    "SEED=", "SEED", "BASE=", "${BASE}", "${SEED:-", "}", "${AUTOSEED}", "${HOME}", "${NONE:-9}",
    "AUTOSEED=", "\n", "'", '"', "x", "7", " ", "#", "export ", "${", "$SEED", ":-",
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
    """What autoseed locates, each binding read back by python-dotenv from its text alone."""
    found: list[tuple[str | None, str | None, str | None, int]] = []
    for binding in setting_bindings(text, looks_like_setting):
        if binding.error is not None:
            found.append((None, None, binding.error, binding.line))
            continue
        parsed = [b for b in parse_stream(io.StringIO(binding.source)) if b.key is not None]
        assert [b.key for b in parsed] == [binding.key], binding
        found.append((binding.key, parsed[0].value, None, binding.line))
    return found


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


def values_of(text: str) -> dict[str, str]:
    data = text.encode()
    env_file = EnvFile("/project/.env", False, data, size=len(data))
    settings_found, _ = settings_from_env_file(env_file, os.environ)
    return {key: setting.raw for key, setting in settings_found.items()}


@settings(max_examples=1500)
@given(st.lists(st.sampled_from(REFERENCES + PIECES), max_size=30).map("".join))
def test_values_are_dotenv_values_with_its_interpolation(text: str) -> None:
    """Only the setting bindings and those their ${VAR} refer to are read: the same values as
    python-dotenv's dotenv_values over the whole file (the environment included)."""
    try:
        found = values_of(text)
    except ConfigError:  # a setting-like line python-dotenv cannot parse (tested above)
        return
    expected = dotenv_values(stream=io.StringIO(text))
    assert found == {
        key: value or ""
        for key, value in expected.items()
        if looks_like_setting(key) and key != "AUTOSEED_ENV_FILE"
    }


def test_interpolation_from_earlier_lines_the_environment_and_defaults() -> None:
    text = (
        'SEED=7\nexport BASE="${SEED}0"\nAUTOSEED=${BASE}\nAUTOSEED_CUDNN=${UNSET:-keep}\n'
        "AUTOSEED_VERBOSE='${HOME:+x}${AUTOSEED_TEST_ONLY}'\nSEED=8\n"
    )
    assert values_of(text) == {
        "AUTOSEED": "70",
        "AUTOSEED_CUDNN": "keep",
        "AUTOSEED_VERBOSE": "${HOME:+x}",
    }
