"""The ground floor: the names every module shares, ``warn``, setting-name recognition and the
``.env`` lookup. Imports nothing of the package; on the start-up path, so no ``typing`` either.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import ParamSpec

    Params = ParamSpec("Params")

# The package's own folder: frames and files inside it are autoseed's, never the user's.
PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__))
SETTING_PREFIX = "AUTOSEED"
ENV_FILE_VARIABLE = "AUTOSEED_ENV_FILE"
HASH_SEED_VARIABLE = "PYTHONHASHSEED"
HASH_SEED_MODE_VARIABLE = "AUTOSEED_HASHSEED"
RANK_OFFSET_VARIABLE = "AUTOSEED_RANK_OFFSET"
ADDRESSES_VARIABLE = "AUTOSEED_ADDRESSES"  # read by the early restart too
REEXEC_WORD = "reexec"
ENV_FILE_READ_LIMIT = 1 << 20  # never read a huge .env whole at start-up
# Beyond this size the gate hands a .env that mentions AUTO or EED over to the package, whose
# locator steps over it in C, rather than looking at each of its lines in Python.
_GATE_LINE_SCAN_LIMIT = 1 << 16
# How UTF-16's byte-order marks, and UTF-32-LE's, begin (UTF-32-BE's begins with NUL bytes).
_WIDE_MARKS = (b"\xff\xfe", b"\xfe\xff")
# Inductor's deterministic mode (no kernel chosen by timing it), read when torch.compile first
# loads its configuration: set by AUTOSEED_DETERMINISTIC and AUTOSEED_PORTABLE alike.
INDUCTOR_DETERMINISTIC_VARIABLE = "TORCHINDUCTOR_DETERMINISTIC"
MAX_SEED = 2**32 - 1  # numpy's legacy seeding and PYTHONHASHSEED both take 0..2**32-1
# Private hand-overs start with "_" so that they never look like settings: the resolved .env
# settings for the restarted interpreter (consumed and removed at once); the number drawn for
# AUTOSEED=random (kept, so that children resolving the same setting agree); the trace
# directory of `autoseed verify --explain`'s traced runs; the lines this job was already told
# (so that DataLoader workers and ranks do not repeat them); the PYTHONHASHSEED that autoseed
# itself exported to children (so that a child can tell it from one the user set); the run
# manifest of the job (its main process's pid and the file), so that every other process of
# the job adds its line to the same file.
HANDOVER_VARIABLE = "_AUTOSEED_HANDOVER"
DRAWN_SEED_VARIABLE = "_AUTOSEED_DRAWN"
TRACE_VARIABLE = "_AUTOSEED_TRACE"
TOLD_VARIABLE = "_AUTOSEED_TOLD"
EXPORTED_HASH_SEED_VARIABLE = "_AUTOSEED_HASHSEED"
MANIFEST_JOB_VARIABLE = "_AUTOSEED_MANIFEST"

# Neighbouring keys on a QWERTY keyboard, for the letters of the settings' names: a key hit
# instead of its neighbour is a slip; another letter makes another word (AUTOSEND, AUTOFEED).
_NEIGHBOURS = {
    "A": "QWSZ", "B": "VGHN", "C": "XDFV", "D": "SERFCX", "E": "WSDR", "F": "DRTGVC",
    "H": "GYUJNB", "I": "UJKO", "L": "KOP", "M": "NJK", "N": "BHJM", "O": "IKLP",
    "P": "OL", "R": "EDFT", "S": "AWEDXZ", "T": "RFGY", "U": "YHJI", "V": "CFGB",
}  # fmt: skip


def reported(what: str) -> "Callable[[Callable[Params, None]], Callable[Params, None]]":
    """For work autoseed does inside the user's import, or at start-up, on its own behalf:
    a failure is said in one line, ``autoseed: could not <what>: ...``, and never raised into
    the program."""

    def decorate(action: "Callable[Params, None]") -> "Callable[Params, None]":
        def guarded(*args: "Params.args", **kwargs: "Params.kwargs") -> None:
            try:
                action(*args, **kwargs)
            except Exception as exc:  # report, never raise
                warn(f"could not {what}: {type(exc).__name__}: {exc}")

        return guarded

    return decorate


def is_autoseed_command() -> bool:
    """Whether this process is the ``autoseed`` command line tool (console script or ``-m``)."""
    argv = getattr(sys, "orig_argv", [])
    return os.path.basename(sys.argv[0] if sys.argv else "") == "autoseed" or any(
        flag == "-m" and module == "autoseed" for flag, module in zip(argv, argv[1:], strict=False)
    )


def warn(message: str) -> None:
    """Print one ``autoseed:`` line to stderr, which may be missing (pythonw, daemons)."""
    stream = sys.stderr
    if stream is not None:
        try:
            stream.write(f"autoseed: {message}\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def say_once(message: str) -> None:
    """:func:`warn`, once per job: a child (DataLoader worker, rank) told by its parent is quiet.

    The checksums of what was said travel to children in ``_AUTOSEED_TOLD``; another line (a
    kernel in another project, with another problem) still gets said.
    """
    from zlib import crc32

    token = format(crc32(message.encode("utf-8", "replace")), "08x")
    told = os.environ.get(TOLD_VARIABLE, "").split()
    if token in told:
        return
    os.environ[TOLD_VARIABLE] = " ".join([*told, token])
    warn(message)


def might_be_setting(name: str) -> bool:
    """The start-up gate's cheap test, which ``autoseed.pth`` spells out in its own line (it runs
    in every interpreter and imports nothing): a name that looks like a setting always passes
    it. One slip of AUTOSEED at the start of a name leaves AUTO at its start (a slip in SEED),
    or EED at index 4 to 6 (a slip in AUTO, or between the two); names such as AUTH_TOKEN pass
    it by."""
    squeezed = name.upper().replace("_", "")
    return squeezed.startswith("AUTO") or "EED" in squeezed[4:9]


def env_file_might_ask(path: str) -> bool:
    """The start-up gate's look into a ``.env`` found by the lookup, which ``autoseed.pth``
    spells out too: whether a line might bind a setting-like key (after blanks, ``export`` and
    a quote, its text passes :func:`might_be_setting`), or the package has something to say
    about the file (unreadable, larger than it reads, not UTF-8). Passes every file whose
    ``EnvFile.has_news`` holds; reads at most ``ENV_FILE_READ_LIMIT`` bytes and one more."""
    try:
        # O_NONBLOCK: a FIFO swapped in for the file must never block start-up.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            data = os.read(descriptor, ENV_FILE_READ_LIMIT + 1)
        finally:
            os.close(descriptor)
    except OSError:
        return True  # the package says why, if anything asks for it
    squeezed = data.upper().replace(b"_", b"")
    # First, at C speed, what an ordinary project's .env (DB_URL, API keys) stops at; bytes'
    # upper() is str's for ASCII, and anything else goes on to the line-by-line look.
    if not (
        b"AUTO" in squeezed
        or b"EED" in squeezed
        or not data.isascii()
        or b"\0" in data
        or len(data) > ENV_FILE_READ_LIMIT
    ):
        return False
    if len(data) > _GATE_LINE_SCAN_LIMIT or b"\0" in data or data[:2] in _WIDE_MARKS:
        return True
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    return any(
        might_be_setting(line.lstrip().removeprefix("export").lstrip().removeprefix("'"))
        for line in text.replace("\r", "\n").split("\n")
    )


def looks_like_setting(name: str) -> bool:
    """Whether ``name`` is a setting or a slip of one: ``AUTOSEED*``, the same ignoring case and
    underscores (``autoseed``, ``AUTO_SEED``), or ``AUTOSEED`` mistyped by one letter at its
    start (``AUTOSED``, ``AUTOSEDE``). Such a name is reported, never silently ignored."""
    if name.startswith(SETTING_PREFIX):
        return True
    if name.startswith(f"_{SETTING_PREFIX}") or not might_be_setting(name):
        return False  # (the private hand-overs above are not settings)
    return one_slip_apart(name.upper().replace("_", ""), SETTING_PREFIX, prefix=True)


def one_slip_apart(name: str, expected: str, *, prefix: bool = False) -> bool:
    """Whether ``name`` is ``expected`` (with ``prefix``: starts with it) or one slip of the hand
    away: a letter left out, doubled, swapped with the next, typed again instead of the next
    (CUDDN), or hit as a neighbouring key.

    A letter added or replaced at random is not a slip: it makes another word (AUTOSEND,
    AUTOSPEED, AUTOFEED are names of other things).
    """
    i = 0
    while i < len(expected) and i < len(name) and name[i] == expected[i]:
        i += 1
    if i == len(expected):
        rest = name[i:]
        return prefix or not rest or rest == expected[-1]  # equal, or the last letter doubled
    if i == len(name):
        return i == len(expected) - 1  # the last letter left out

    def rest_matches(offset_in_name: int, offset_in_expected: int) -> bool:
        rest, wanted = name[offset_in_name:], expected[offset_in_expected:]
        return rest.startswith(wanted) if prefix else rest == wanted

    letter = name[i]
    return (
        rest_matches(i, i + 1)  # left out
        or (i > 0 and letter == name[i - 1] and rest_matches(i + 1, i))  # doubled
        or (name[i + 1 : i + 2] == expected[i] and letter == expected[i + 1 : i + 2]
            and rest_matches(i + 2, i + 2))  # swapped
        or ((letter in _NEIGHBOURS.get(expected[i], "") or letter == expected[i - 1 : i])
            and rest_matches(i + 1, i + 1))
    )  # fmt: skip


def env_file_candidates(environ: "Mapping[str, str]") -> "Iterator[tuple[str, bool]]":
    """``(path, named_explicitly)`` for each path the lookup considers, nearest first: the file
    ``AUTOSEED_ENV_FILE`` names, else ``.env`` in the working directory and each one above it
    (python-dotenv's rule); none for ``AUTOSEED_ENV_FILE=none`` or a deleted working directory."""
    named = environ.get(ENV_FILE_VARIABLE, "").strip()
    if named:
        if named.casefold() != "none":
            yield named, True
        return
    directory = working_directory()
    while directory is not None:
        yield os.path.join(directory, ".env"), False
        parent = os.path.dirname(directory)
        directory = parent if parent != directory else None


def working_directory() -> "str | None":
    """The working directory, or ``None`` when it was deleted (nothing to look up then)."""
    try:
        return os.getcwd()
    except OSError:
        return None


def locate_env_file(environ: "Mapping[str, str]") -> "tuple[str, bool] | None":
    """``(path, named_explicitly)`` of the ``.env`` that applies, if any."""
    for candidate, explicit in env_file_candidates(environ):
        if explicit or os.path.isfile(candidate):
            return candidate, explicit
    return None


def seed_number(word: str) -> "int | None":
    """``word`` as a seed, 0..``MAX_SEED``, or ``None`` when it is not one. The length check
    keeps ``int()`` away from its 4300-digit limit on hostile input."""
    if word.isascii() and word.isdigit() and len(word) <= 10 and int(word) <= MAX_SEED:
        return int(word)
    return None


def hash_seed_is_fixed(environ: "Mapping[str, str]") -> bool:
    """Whether ``PYTHONHASHSEED`` holds a number (``random`` or unset leave hashing random)."""
    value = environ.get(HASH_SEED_VARIABLE, "").strip()
    return value.isascii() and value.isdigit()
