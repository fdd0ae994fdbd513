"""Read the ``.env`` that applies, once: its first MiB, its owner, its encoding, its settings.

Only its ``AUTOSEED*`` bindings are located (``dotenv_syntax.py``) and read (``file_values.py``):
the rest of a project's ``.env`` (secrets) is never put into ``os.environ``.
"""

import os
import stat

from autoseed.names import (
    ENV_FILE_READ_LIMIT,
    SETTING_PREFIX,
    env_file_candidates,
    looks_like_setting,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from autoseed.settings.dotenv_syntax import Binding

_CHUNK = 1 << 20
# Byte-order marks of the encodings a .env is sometimes saved in (PowerShell's `>` writes
# UTF-16), longest first: UTF-32's mark starts with UTF-16's.
_WIDE_MARKS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


class EnvFile:
    """The first ``ENV_FILE_READ_LIMIT`` bytes of a ``.env`` file, read once, and what that
    says: an error, another owner, another encoding, the lines that look like settings."""

    __slots__ = (
        "path", "explicit", "data", "size", "error", "foreign_owner", "hidden", "_text", "_lines"
    )  # fmt: skip

    def __init__(
        self,
        path: str,
        explicit: bool,
        data: bytes = b"",
        *,
        size: int = 0,
        error: "OSError | None" = None,
        foreign_owner: "int | None" = None,
    ) -> None:
        self.path, self.explicit, self.data, self.size = path, explicit, data, size
        self.error = error
        self.foreign_owner = foreign_owner  # uid of another user who owns it: not trusted
        # A farther .env that sets AUTOSEED keys, hidden by this one, which sets none.
        self.hidden: EnvFile | None = None
        self._text: tuple[str, str | None] | None = None
        self._lines: list[int] | None = None

    @property
    def truncated(self) -> bool:
        return self.size > len(self.data)

    @property
    def text(self) -> str:
        return self._decoded()[0]

    @property
    def wide_encoding(self) -> "str | None":
        """``UTF-16`` or ``UTF-32``, when the file is in one: not what a ``.env`` is read as."""
        codec = self._decoded()[1]
        return None if codec is None else codec[:6].upper()

    def _decoded(self) -> "tuple[str, str | None]":
        if self._text is None:
            self._text = decode(self.data)
        return self._text

    @property
    def setting_lines(self) -> "list[int]":
        """Where the lines that look like they set an ``AUTOSEED*`` key start in :attr:`text`."""
        if self._lines is None:
            text = self.text
            upper = text.upper()  # the common case, no such line: two searches, no `re`
            if "AUT" not in upper and "EED" not in upper:
                self._lines = []
            else:
                from autoseed.settings.dotenv_syntax import setting_line_starts

                self._lines = setting_line_starts(text, looks_like_setting, upper)
        return self._lines

    @property
    def mentions_autoseed(self) -> bool:
        return bool(self.setting_lines)

    @property
    def has_news(self) -> bool:
        """Whether the full configuration must see it: settings, or something to tell."""
        return (
            self.error is not None
            or self.truncated
            or self.mentions_autoseed
            or self.hidden is not None
        )

    def bindings(self) -> "list[Binding]":
        """The ``AUTOSEED*`` bindings of the file's first MiB (python-dotenv's grammar)."""
        if not self.setting_lines:
            return []
        from autoseed.settings.dotenv_syntax import setting_bindings

        return setting_bindings(self.text, looks_like_setting, self.setting_lines)

    def look_beyond(self) -> None:
        """Find :attr:`hidden`: where this file, found by the lookup, sets nothing for autoseed,
        the nearest farther ``.env`` (yours or root's) that sets an ``AUTOSEED*`` key. The
        nearest ``.env`` is the one read, as python-dotenv's ``find_dotenv`` reads it: the
        farther one is told about, never used. A few more stat calls, at each start where a
        setting-free ``.env`` was found."""
        if self.explicit or self.mentions_autoseed or self.error is not None:
            return
        beyond = False
        for candidate, _ in env_file_candidates({}):
            if candidate == self.path:
                beyond = True
            elif beyond and os.path.isfile(candidate):
                farther = read_env_file(candidate, False)
                usable = farther.error is None and farther.foreign_owner is None
                if usable and farther.wide_encoding is None and farther.mentions_autoseed:
                    self.hidden = farther
                    return

    def first_setting_beyond_the_limit(self) -> "int | None":
        """The line number of the first line past the first MiB that looks like it sets an
        ``AUTOSEED*`` key, if any: read in chunks, for a line to tell, never at start-up."""
        if not self.truncated:
            return None
        lines_before = self.text.count("\n")
        try:
            with open(self.path, "rb") as file:
                file.seek(len(self.data))
                carry = b""
                while True:
                    chunk = file.read(_CHUNK)
                    if not chunk:
                        break
                    block = carry + chunk
                    cut = block.rfind(b"\n") + 1 if len(chunk) == _CHUNK else len(block)
                    block, carry = block[:cut], block[cut:]
                    found = EnvFile(self.path, self.explicit, block, size=len(block))
                    if found.setting_lines:
                        first = found.setting_lines[0]
                        return lines_before + found.text.count("\n", 0, first) + 1
                    lines_before += found.text.count("\n")
        except OSError:
            return None
        return None


def decode(data: bytes) -> "tuple[str, str | None]":
    """The text of a ``.env`` read as UTF-8 (a byte-order mark is dropped, bad bytes replaced,
    as python-dotenv reads it), and the wide encoding it is really in, if any."""
    for mark, encoding in _WIDE_MARKS:
        if data.startswith(mark):
            return data[len(mark) :].decode(encoding, "replace"), encoding
    if b"\x00" in data[:4096]:  # no mark, but every other byte NUL: UTF-16 all the same
        encoding = "utf-16-be" if data[:1] == b"\x00" else "utf-16-le"
        return data.decode(encoding, "replace"), encoding
    return data.decode("utf-8-sig", "replace"), None


def read_env_file(path: str, explicit: bool) -> EnvFile:
    """Read at most ``ENV_FILE_READ_LIMIT`` bytes; errors are kept, not raised.

    A ``.env`` found by the lookup that another user owns is read but marked, so that its
    settings are never used (git's answer to CVE-2022-24765): in a shared /tmp or /scratch
    anyone could otherwise configure my processes. Its text only serves to say it was ignored.
    """
    try:
        # O_NONBLOCK: a FIFO named .env (secret managers make them) must never block start-up.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise OSError(f"{path} is not a regular file")
            owner = None
            if not explicit and status.st_uid not in (0, getattr(os, "getuid", int)()):
                owner = status.st_uid
            data = b""
            while len(data) <= ENV_FILE_READ_LIMIT:
                chunk = os.read(descriptor, ENV_FILE_READ_LIMIT + 1 - len(data))
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(descriptor)
    except OSError as exc:
        return EnvFile(path, explicit, error=exc)
    if len(data) > ENV_FILE_READ_LIMIT:  # cut at the last full line: no setting read half-way
        data = data[: data.rfind(b"\n", 0, ENV_FILE_READ_LIMIT) + 1]
    return EnvFile(path, explicit, data, size=status.st_size, foreign_owner=owner)


def read_nearest_env_file(path: str, explicit: bool, environ: "Mapping[str, str]") -> EnvFile:
    """:func:`read_env_file` for the file the lookup found, with the farther ``.env`` it hides
    (:meth:`EnvFile.look_beyond`) where the environment sets no seed of its own."""
    env_file = read_env_file(path, explicit)
    if SETTING_PREFIX not in environ:
        env_file.look_beyond()
    return env_file
