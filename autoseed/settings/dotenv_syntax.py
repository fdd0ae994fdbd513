"""Where a ``.env`` binds the keys autoseed reads: python-dotenv's grammar, as a locator.

python-dotenv parses every line of a file in Python (about 30 µs a line here, 16 s for a MiB);
autoseed needs only the few bindings that can set a setting (and those their values refer to).
One regular expression, run by ``re`` in C, consumes exactly what python-dotenv's
``parse_binding`` consumes, binding after binding, so that a quoted value spanning lines is never
mistaken for a setting. Runs of lines without a quote cannot span lines and are stepped over
whole. Each binding found keeps its exact text, which python-dotenv itself then turns into a
value (``file_values.py``). Pure: no I/O.

The grammar is python-dotenv's (``dotenv/parser.py``, 1.x): its tokens are matched one after
another without backtracking into a finished one, which ``re`` does by default; each token here
is therefore made atomic (a lookahead, which ``re`` never re-enters, then a backreference that
consumes what it saw: Python 3.10 has no atomic groups). ``tests/test_dotenv_syntax.py`` holds
the bindings found equal to python-dotenv's own parse for generated files.
"""

from bisect import bisect_left

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable

_SPACE = r"[^\S\r\n]"  # blanks that do not end a line


def _atomic(pattern: str, name: str) -> str:
    return rf"(?=(?P<{name}>{pattern}))(?P={name})"


def _error(n: int) -> str:
    # python-dotenv skips the rest of the line where the binding failed, and reports it.
    return rf"(?P<error{n}>[^\r\n]*(?:\r|\n|\r\n)?)"


def _tail(n: int) -> str:
    """A comment, then the end of the line; else the rest of the line is an error."""
    comment = _atomic(rf"(?:{_SPACE}*\#[^\r\n]*)?", f"comment{n}")
    return rf"(?:{comment}{_SPACE}*(?:\r\n|\n|\r|\Z)|{_error(n)})"


_KEY = (
    r"(?:(?=\#)"  # a comment line: no key
    + r"|(?=')" + _atomic(r"'[^']+'", "quoted_key")
    + r"|(?!['#])" + _atomic(r"[^=\#\s]+", "key") + ")"
)  # fmt: skip
# A quoted value: python-dotenv's pattern, after a first try without backslashes that finds the
# same closing quote (the first) at C speed where there is no backslash to escape one.
_VALUE = (
    r"(?:(?=')" + _atomic(r"'[^'\\]*'|'(?:\\'|[^'])*'", "single")
    + r'|(?=")' + _atomic(r'"[^"\\]*"|"(?:\\"|[^"])*"', "double")
    + r"|(?=[\r\n]|\Z)"  # nothing after the equal sign
    + r"|(?!['\"])" + _atomic(r"[^\r\n]*", "unquoted") + ")"
)  # fmt: skip
_BINDING = (
    _atomic(r"\s*", "lead")
    + r"(?:\Z|" + _atomic(rf"(?:export{_SPACE}+)?", "export")
    + r"(?:" + _KEY + _atomic(rf"{_SPACE}*", "blank")
    + r"(?:=(?P<equals>)" + _atomic(rf"{_SPACE}*", "blank2")
    + r"(?:" + _VALUE + _tail(1) + rf"|{_error(2)})"
    + r"|(?!=)" + _tail(3) + ")"
    + rf"|{_error(4)}))"
)  # fmt: skip
_BREAK = r"(?:\r\n|\n|\r)"
# Where no binding can go on past the end of its line: lines without a quote (one run of a
# character class, which sre runs fast, then back to the last line break), comments, and lines
# that close their only quoted value on the same line, without a backslash or quote inside;
# and, across lines, a plain key whose quoted value has no backslash (a certificate).
_QUIET_STRETCH = rf"(?:[^'\"]*{_BREAK})?"
_SIMPLE_LINE = (
    rf"(?:{_SPACE}*\#[^\r\n]*"
    + rf"|[^'\"\r\n=]*={_SPACE}*"
    + r"""(?:"[^"\\\r\n]*"|'[^'\\\r\n]*')[^'"\r\n]*"""
    + rf"|{_SPACE}*(?:export{_SPACE}+)?[^=\#\s'\"]+{_SPACE}*={_SPACE}*"
    + r"""(?:"[^"\\]*"|'[^'\\]*')[^'"\r\n]*)"""
    + _BREAK
)  # fmt: skip


class _Patterns:
    """The expressions, compiled at their first use: importing ``re`` and compiling them costs
    about 10 ms, which a .env that only mentions AUTH_TOKEN, or none at all, never pays."""

    def __init__(self) -> None:
        import re

        self.quiet = re.compile(f"{_QUIET_STRETCH}(?:{_SIMPLE_LINE}{_QUIET_STRETCH})*")
        self.one_binding = re.compile(_BINDING)
        self.line_break = re.compile(r"\r\n|\n|\r")


_compiled: list[_Patterns] = []


def _patterns() -> _Patterns:
    if not _compiled:
        _compiled.append(_Patterns())
    return _compiled[0]


class Binding:
    """One binding of a wanted key, with ``source``, its exact text (from where python-dotenv
    starts reading it to the end of its last line), for python-dotenv to read; ``error`` holds
    the line's text, stripped, when python-dotenv could not parse it (``key`` is then None)."""

    __slots__ = ("key", "source", "line", "error")

    def __init__(self, key: str | None, source: str, line: int, error: str | None) -> None:
        self.key, self.source, self.line, self.error = key, source, line, error

    def __repr__(self) -> str:
        return f"Binding({self.key!r}, {self.source!r}, line={self.line}, error={self.error!r})"


def setting_line_starts(
    text: str, is_setting: "Callable[[str], bool]", upper: str | None = None
) -> list[int]:
    """Starts of the lines where a binding of a setting can begin: those whose text, after
    blanks, ``export`` and a quote, passes ``is_setting`` (which must pass any string that
    starts with a name it passes). Two searches where no line holds AUT or EED; ``upper`` is
    ``text.upper()``, when the caller has it."""
    upper = text.upper() if upper is None else upper
    if len(upper) != len(text):  # a letter that grows when upper-cased: look at every line
        positions = [0, *(m.end() for m in _patterns().line_break.finditer(text))]
    else:
        positions = [found for word in ("AUT", "EED") for found in _all(upper, word)]
    return _line_starts(text, positions, is_setting)


def key_line_starts(text: str, keys: "set[str]") -> list[int]:
    """Starts of the lines where a binding of one of ``keys`` can begin (a search per key)."""
    positions = [found for key in keys for found in _all(text, key)]
    return _line_starts(text, positions, lambda rest: rest.startswith(tuple(keys)))


def _line_starts(text: str, positions: list[int], is_wanted: "Callable[[str], bool]") -> list[int]:
    starts = set()
    for position in positions:
        newline = text.rfind("\n", 0, position)
        start = max(newline, text.rfind("\r", newline + 1, position)) + 1
        if start not in starts:
            line = text[start : _line_end(text, start)].lstrip().removeprefix("export")
            if is_wanted(line.lstrip().removeprefix("'")):
                starts.add(start)
    return sorted(starts)


def _all(text: str, word: str) -> list[int]:
    found, position = [], text.find(word)
    while position != -1:
        found.append(position)
        position = text.find(word, position + 1)
    return found


def _line_end(text: str, start: int) -> int:
    newline = text.find("\n", start)
    end = len(text) if newline == -1 else newline
    carriage_return = text.find("\r", start, end)
    return end if carriage_return == -1 else carriage_return


def setting_bindings(
    text: str, is_setting: "Callable[[str], bool]", candidates: list[int] | None = None
) -> list[Binding]:
    """The bindings of ``text`` whose key passes ``is_setting``, and the lines python-dotenv
    cannot parse whose text (after ``export``) passes it, in file order. ``candidates``: the
    starts of the lines where they can begin (:func:`setting_line_starts`, by default)."""
    if candidates is None:
        candidates = setting_line_starts(text, is_setting)
    found: list[Binding] = []
    if not candidates:
        return found
    # Only a quote can carry a binding past the end of its line: the quiet stretches between
    # are stepped over whole, but never past a candidate line (``endpos``), which is then
    # either where a binding starts or inside one that python-dotenv would start before it.
    patterns = _patterns()
    position, end = 0, _line_end(text, candidates[-1])
    pending = iter(candidates)
    next_candidate: int | None = next(pending)
    while position < end:
        while next_candidate is not None and next_candidate < position:
            next_candidate = next(pending, None)
        stop = len(text) if next_candidate is None else next_candidate
        quiet = patterns.quiet.match(text, position, stop)
        if quiet is not None and quiet.end() > position:
            position = quiet.end()
            continue
        match = patterns.one_binding.match(text, position)
        if match is None or match.end() == position:  # (a binding always matches, and moves)
            break
        if _holds_candidate(candidates, match.start(), match.end()):
            _keep(match, text, is_setting, found)
        position = match.end()
    return found


def _keep(match: "re.Match[str]", text: str, is_setting: "Callable[[str], bool]",
          found: list[Binding]) -> None:  # fmt: skip
    source = text[match.start() : match.end()]
    line = _line_number(text, match.end("lead"))
    if any(match.group(f"error{n}") is not None for n in (1, 2, 3, 4)):
        stripped = source.strip()
        if is_setting(stripped.removeprefix("export").lstrip()):
            found.append(Binding(None, source, line, stripped))
        return
    quoted_key = match.group("quoted_key")
    key = quoted_key[1:-1] if quoted_key is not None else match.group("key")
    if key is not None and is_setting(key):
        found.append(Binding(key, source, line, None))


def _holds_candidate(candidates: list[int], start: int, end: int) -> bool:
    # A binding starts where a line starts (or between the \r and \n of one line break).
    index = bisect_left(candidates, start)
    return index < len(candidates) and candidates[index] < end


def _line_number(text: str, position: int) -> int:
    # python-dotenv counts \r\n, \n and \r each as one line break.
    return (
        1
        + text.count("\n", 0, position)
        + text.count("\r", 0, position)
        - text.count("\r\n", 0, position)
    )
