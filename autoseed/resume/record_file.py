"""The record beside a checkpoint, as a file: where it lives, and reading, writing and
removing it as data from disk.

Whatever lies at a record's path is read only if it is a regular file of a record's size
(``record/data_file.py`` reads it, as it reads every file autoseed reads back). A record is
written to a temporary file and renamed into place; a write that fails removes both the
temporary file and the older record at that path, which no longer describes the checkpoint.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import stat
import tempfile
from typing import Any

from autoseed.record.data_file import DataFileError, MissingDataFile, read_json

# A record holds random states (about 25 KB), never weights: anything much larger is not one.
MAX_RECORD_BYTES = 1 << 20
RECORD_SUFFIX = ".autoseed-rng.rank{rank}.json"


class RecordError(Exception):
    """Why the record at a path cannot be used, worded to follow its path."""


def record_path(checkpoint: str, rank: int) -> str:
    """Where the record of ``checkpoint`` for ``rank`` lives: ranks never collide."""
    return checkpoint + RECORD_SUFFIX.format(rank=rank)


def checkpoint_name(target: object) -> str | None:
    """The local file that ``torch.save``/``torch.load`` wrote or read: a path, or the name of
    an open file when that name is the file's (a BytesIO has none; a member of an archive
    has a name that is not its own file's); ``None`` otherwise."""
    if isinstance(target, str | os.PathLike):
        name = os.fspath(target)
    else:
        name = getattr(target, "name", None)
        try:
            own = isinstance(name, str) and os.path.samestat(
                os.fstat(target.fileno()),  # type: ignore[attr-defined]
                os.stat(name),
            )
        except (AttributeError, OSError, ValueError):
            own = False
        if not own:
            return None
    if not isinstance(name, str):
        return None
    return name[len("file://") :] if name.startswith("file://") else name


def is_remote(name: str) -> bool:
    return "://" in name


def is_regular_file(name: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(name).st_mode)
    except OSError:
        return False


def read(path: str) -> Any:
    """The record at ``path``, parsed; ``None`` where there is none. Raises
    :class:`RecordError` where something else lies there."""
    try:
        return read_json(path, MAX_RECORD_BYTES)
    except MissingDataFile:
        return None
    except DataFileError as error:
        raise RecordError(str(error)) from None


def write(path: str, record: dict[str, Any], like: str) -> None:
    """Write ``record`` at ``path``, readable as the file ``like`` (its checkpoint) is, whole
    or not at all. Raises ``OSError`` once nothing is left at ``path``."""
    directory, name = os.path.split(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f"{name}.", suffix=".tmp", dir=directory or ".")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.chmod(temporary, stat.S_IMODE(os.stat(like).st_mode) & 0o666)
        os.replace(temporary, path)
    except BaseException:
        for leftover in (temporary, path):
            with contextlib.suppress(OSError):
                os.remove(leftover)
        raise


def remove_records(checkpoint: str) -> None:
    """Remove the records of every rank beside ``checkpoint`` (which is gone)."""
    for path in glob.glob(glob.escape(checkpoint) + RECORD_SUFFIX.format(rank="*")):
        with contextlib.suppress(OSError):
            os.remove(path)
