"""Start-up gate, run in every interpreter by ``autoseed.pth`` (and ``autoseed.start``).

The off path lives here and imports nothing else: a scan of ``os.environ``'s keys and a stat per
directory up to the root. Where bytecode is not written (uv installs, Docker images) this file is
compiled at every start, so it stays small: even reading a ``.env`` that exists is another
module's job, and everything else is imported once something asks.
"""

import os
import sys

# typing is not imported at start-up by CPython; importing it here would cost every interpreter.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SETTING_PREFIX = "AUTOSEED"
ENV_FILE_VARIABLE = "AUTOSEED_ENV_FILE"
# Private hand-overs start with "_" so that they never look like settings: the resolved
# configuration for the restarted interpreter (consumed and removed at once), the number
# drawn for AUTOSEED=random (kept, so that children resolving the same setting agree), and
# the trace directory of `autoseed verify --explain`'s traced runs (autoseed/trace.py).
HANDOVER_VARIABLE = "_AUTOSEED_HANDOVER"
DRAWN_SEED_VARIABLE = "_AUTOSEED_DRAWN"
TRACE_VARIABLE = "_AUTOSEED_TRACE"

_started = False
# The hand-over this interpreter was restarted with (None: not restarted by autoseed).
handover: "str | None" = None


def looks_like_setting(text: str) -> bool:
    """Whether ``text`` starts with ``AUTOSEED`` ignoring case and underscores, or one letter
    away from it: such a name is reported, so that a misspelling never runs silently unseeded."""
    name = text.upper()
    # Any one-letter change leaves AUTO or SEED intact: the cheap test that most names fail.
    if ("AUTO" not in name and "SEED" not in name) or text.startswith("_AUTOSEED"):
        return False  # (the private hand-overs above are not settings)
    return one_letter_apart(name.replace("_", ""), SETTING_PREFIX, prefix=True)


def one_letter_apart(name: str, expected: str, *, prefix: bool = False) -> bool:
    """Whether ``name`` is ``expected`` (or, with ``prefix``, starts with it) but for at most one
    letter replaced, left out or added."""
    i = 0
    while i < len(expected) and i < len(name) and name[i] == expected[i]:
        i += 1
    if i == len(expected):
        return prefix or len(name) - i <= 1
    rest_matches = str.startswith if prefix else str.__eq__
    return any(
        rest_matches(name[i + skipped :], expected[i + missing :])
        for skipped, missing in ((1, 1), (0, 1), (1, 0))  # replaced, left out, added
    )


def run() -> None:
    """Activate autoseed when the environment or a ``.env`` file asks for it; never raise."""
    global _started, handover
    # site.py processes every .pth twice in a venv (CPython #75723): only the first call counts.
    if _started:
        return
    _started = True
    try:
        environ = os.environ
        handover = environ.pop(HANDOVER_VARIABLE, None)
        asked = handover is not None or any(map(looks_like_setting, environ))
        located = None if handover is not None else locate_env_file(environ)
        if not asked and located is None:
            return
        env_file = None
        if located is not None:
            from autoseed.envhead import read_env_file_head

            env_file = read_env_file_head(located)
            if not asked and not (env_file and env_file.mentions_autoseed):
                return
        if handover is None and not (env_file and env_file.has_news):
            from autoseed.restart import restart_early  # returns only when it did not restart

            restart_early(environ)
        from autoseed.activation import activate_from_startup

        activate_from_startup(environ, env_file, handover)
    # SystemExit from a .pth line would end the interpreter; an unrelated program must run on.
    except (Exception, SystemExit) as exc:
        warn(f"start-up hook failed and did nothing: {type(exc).__name__}: {exc}")


def locate_env_file(environ: "Mapping[str, str]") -> "tuple[str, bool] | None":
    """``(path, named_explicitly)`` of the ``.env`` that applies: the file ``AUTOSEED_ENV_FILE``
    names, else the nearest ``.env`` from the working directory up (python-dotenv's rule)."""
    for candidate, explicit in env_file_candidates(environ):
        if explicit or os.path.isfile(candidate):
            return candidate, explicit
    return None


def env_file_candidates(environ: "Mapping[str, str]") -> "Iterator[tuple[str, bool]]":
    """The paths the lookup considers, nearest first; none when ``AUTOSEED_ENV_FILE=none``."""
    named = environ.get(ENV_FILE_VARIABLE, "").strip()
    if named:
        if named.casefold() != "none":
            yield named, True
        return
    try:
        directory = os.getcwd()
    except OSError:  # the working directory was deleted: there is nothing to look up
        return
    while True:
        yield os.path.join(directory, ".env"), False
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def warn(message: str) -> None:
    """Print one ``autoseed:`` line to stderr, which may be missing (pythonw, daemons)."""
    stream = sys.stderr
    if stream is not None:
        try:
            stream.write(f"autoseed: {message}\n")
            stream.flush()
        except (OSError, ValueError):
            pass
