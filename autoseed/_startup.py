"""Start-up entry, run in every interpreter of the environment by ``autoseed.pth``.

Also reached through ``autoseed.start`` (PEP 829, Python 3.15+) and
``sitecustomize_example/sitecustomize.py``. When nothing asks for autoseed it costs one scan of
``os.environ``'s keys and a stat call per directory from the working directory up to the root,
and imports nothing: the rest of the package is imported only once a setting is present.
"""

import os
import stat
import sys

# typing is not imported at start-up by CPython; importing it here would cost every interpreter.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SETTING_PREFIX = "AUTOSEED"
ENV_FILE_VARIABLE = "AUTOSEED_ENV_FILE"
ENV_FILE_NAME = ".env"
# The off path must never read a huge file whole just to learn that it does not mention us.
ENV_FILE_READ_LIMIT = 1 << 20

_started = False


class EnvFileHead:
    """The first ``ENV_FILE_READ_LIMIT`` bytes of the ``.env`` file that applies, read once."""

    __slots__ = ("path", "data", "truncated", "error", "explicit")

    def __init__(
        self,
        path: str,
        *,
        explicit: bool,
        data: bytes = b"",
        truncated: bool = False,
        error: OSError | None = None,
    ) -> None:
        self.path = path
        self.explicit = explicit
        self.data = data
        self.truncated = truncated
        self.error = error

    @property
    def mentions_autoseed(self) -> bool:
        """Whether a line (not a comment) sets an ``AUTOSEED*`` key: only then is it parsed.

        A commented-out setting must not cost every interpreter python-dotenv's import.
        """
        prefix = SETTING_PREFIX.encode()
        if prefix not in self.data:  # the common case, answered by one fast search
            return False
        for line in self.data.removeprefix(b"\xef\xbb\xbf").splitlines():
            line = line.lstrip()
            if line.startswith(b"export"):
                line = line[len(b"export") :].lstrip()
            if line.startswith(prefix):
                return True
        return False


def run() -> None:
    """Activate autoseed when the environment or a ``.env`` file asks for it; never raise."""
    global _started
    # site.py processes every .pth twice in a venv (CPython #75723), and the .start file or a
    # sitecustomize may call again: only the first call counts.
    if _started:
        return
    _started = True
    try:
        settings_in_environment = any(key.startswith(SETTING_PREFIX) for key in os.environ)
        env_file = read_env_file_head(locate_env_file(os.environ))
        if not settings_in_environment and not (env_file and env_file.mentions_autoseed):
            return
        from autoseed.activation import activate_from_startup

        activate_from_startup(os.environ, env_file)
    # SystemExit from a .pth line would end the interpreter; an unrelated program must run on.
    except (Exception, SystemExit) as exc:
        warn(f"start-up hook failed and did nothing: {type(exc).__name__}: {exc}")


def locate_env_file(environ: "Mapping[str, str]") -> tuple[str, bool] | None:
    """Return ``(path, named_explicitly)`` of the ``.env`` file that applies, or ``None``.

    ``AUTOSEED_ENV_FILE`` names the file or turns the lookup off with ``none``; otherwise the
    nearest ``.env`` from the working directory up to the root wins, as in python-dotenv.
    """
    for candidate, explicit in env_file_candidates(environ):
        if explicit or os.path.isfile(candidate):
            return candidate, explicit
    return None


def env_file_candidates(environ: "Mapping[str, str]") -> "Iterator[tuple[str, bool]]":
    """``(path, named_explicitly)``: the file ``AUTOSEED_ENV_FILE`` names, none if it says
    ``none``, else ``.env`` in the working directory and in each parent up to the root."""
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
        yield os.path.join(directory, ENV_FILE_NAME), False
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def read_env_file_head(located: tuple[str, bool] | None) -> EnvFileHead | None:
    """Read at most ``ENV_FILE_READ_LIMIT`` bytes of a located file; errors are kept, not raised."""
    if located is None:
        return None
    path, explicit = located
    try:
        # O_NONBLOCK: a FIFO named .env (secret managers make them) must never block start-up.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        descriptor = os.open(path, flags)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise OSError(f"{path} is not a regular file")
            chunks: list[bytes] = []
            wanted = ENV_FILE_READ_LIMIT + 1
            while wanted > 0:
                chunk = os.read(descriptor, wanted)
                if not chunk:
                    break
                chunks.append(chunk)
                wanted -= len(chunk)
        finally:
            os.close(descriptor)
    except OSError as exc:
        return EnvFileHead(path, explicit=explicit, error=exc)
    data = b"".join(chunks)
    truncated = len(data) > ENV_FILE_READ_LIMIT
    if truncated:
        # Cut at the last full line so that no setting is read half-way.
        data = data[: data.rfind(b"\n", 0, ENV_FILE_READ_LIMIT) + 1]
    return EnvFileHead(path, explicit=explicit, data=data, truncated=truncated)


def warn(message: str) -> None:
    """Print one ``autoseed:`` line to stderr, which may be missing (pythonw, daemons)."""
    stream = sys.stderr
    if stream is not None:
        try:
            stream.write(f"autoseed: {message}\n")
            stream.flush()
        except (OSError, ValueError):
            pass
