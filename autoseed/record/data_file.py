"""JSON files that autoseed writes and reads back (references, manifests) as data from disk.

Whatever lies at a path is read only if it is a regular file of bounded size: a FIFO there
would block the reader forever, ``/dev/zero`` would grow it without end. A file is written to
a temporary file beside it and renamed into place, so that a reader never sees half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from typing import Any

# A FIFO opens at once, without a writer, and is then refused by its type.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class DataFileError(Exception):
    """Why the file at a path cannot be used, worded to follow its path."""


class MissingDataFile(DataFileError):
    """Nothing lies at the path: for some readers (a checkpoint's record) an answer, not a
    fault."""


def read_json(path: str, limit: int) -> Any:
    """The JSON at ``path``, parsed. Raises :class:`MissingDataFile` where there is none, and
    :class:`DataFileError` where something else lies there: not a regular file, over ``limit``
    bytes, not JSON."""
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except FileNotFoundError as error:
        raise MissingDataFile(f"cannot be read ({error.strerror or error})") from None
    except OSError as error:
        raise DataFileError(f"cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise DataFileError("is not a regular file")
    with os.fdopen(descriptor, "rb") as file:
        try:
            data = file.read(limit + 1)
        except OSError as error:
            raise DataFileError(f"cannot be read ({error.strerror or error})") from None
    if len(data) > limit:
        raise DataFileError(f"is larger than {limit} bytes, which no such file is")
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise DataFileError("is damaged (it is not JSON)") from None


def writable_path_problem(path: str) -> str | None:
    """Why ``path`` cannot take a file that autoseed writes whole, or ``None``: anything but a
    regular file or nothing there (a FIFO would block the writer; a folder is a slip)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        directory = os.path.dirname(path) or "."
        return None if os.path.isdir(directory) else f"is in {directory}, which does not exist"
    except OSError as error:
        return f"cannot be looked at ({error.strerror or error})"
    return None if stat.S_ISREG(mode) else "is not a regular file"


def write_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` at ``path`` whole or not at all, with the permissions a new file gets
    (the umask's). Raises ``OSError``."""
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=1)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
