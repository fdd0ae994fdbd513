"""Read the head of the ``.env`` that applies, once, and tell whether it mentions autoseed.

Imported at start-up only where a ``.env`` exists: the off path of a project with a ``.env``.
"""

import os
import stat

from autoseed._startup import looks_like_setting

ENV_FILE_READ_LIMIT = 1 << 20  # never read a huge file whole to learn it does not mention us


class EnvFileHead:
    """The first ``ENV_FILE_READ_LIMIT`` bytes of the ``.env`` file that applies, read once."""

    __slots__ = ("path", "explicit", "data", "truncated", "error", "foreign_owner")

    def __init__(
        self,
        path: str,
        explicit: bool,
        data: bytes = b"",
        truncated: bool = False,
        error: "OSError | None" = None,
        foreign_owner: "int | None" = None,
    ) -> None:
        self.path, self.explicit, self.data, self.truncated = path, explicit, data, truncated
        self.error = error
        self.foreign_owner = foreign_owner  # uid of another user who owns it: ignored

    @property
    def has_news(self) -> bool:
        """Whether the full configuration must see it: it has settings, or a problem to tell."""
        return self.error is not None or self.foreign_owner is not None or self.mentions_autoseed

    @property
    def mentions_autoseed(self) -> bool:
        """Whether a line (not a comment) sets a key that looks like an ``AUTOSEED*`` one."""
        upper = self.data.upper()
        if b"AUTO" not in upper and b"SEED" not in upper:  # the common case: one fast search
            return False
        for line in upper.decode("latin-1").splitlines():
            line = line.lstrip().removeprefix("\xef\xbb\xbf").removeprefix("EXPORT").lstrip()
            if not line.startswith("#") and looks_like_setting(line):
                return True
        return False


def read_env_file_head(located: "tuple[str, bool] | None") -> "EnvFileHead | None":
    """Read at most ``ENV_FILE_READ_LIMIT`` bytes of a located file; errors are kept, not raised.

    A ``.env`` found by the lookup that another user owns is not read (git's answer to
    CVE-2022-24765): in a shared /tmp or /scratch anyone could otherwise configure my processes.
    """
    if located is None:
        return None
    path, explicit = located
    try:
        # O_NONBLOCK: a FIFO named .env (secret managers make them) must never block start-up.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise OSError(f"{path} is not a regular file")
            if not explicit and status.st_uid not in (0, getattr(os, "getuid", int)()):
                return EnvFileHead(path, explicit, foreign_owner=status.st_uid)
            data = b""
            while len(data) <= ENV_FILE_READ_LIMIT:
                chunk = os.read(descriptor, ENV_FILE_READ_LIMIT + 1 - len(data))
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(descriptor)
    except OSError as exc:
        return EnvFileHead(path, explicit, error=exc)
    truncated = len(data) > ENV_FILE_READ_LIMIT
    if truncated:  # cut at the last full line: no setting is read half-way
        data = data[: data.rfind(b"\n", 0, ENV_FILE_READ_LIMIT) + 1]
    return EnvFileHead(path, explicit, data, truncated)
