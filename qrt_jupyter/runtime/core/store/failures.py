"""Store failures turned into errors that name the store file and the fix.

SQLite reports a full disk, a lock held too long by another process and a read-only
file or folder with its own codes (and, for some of them, several codes: a full disk
while the shared-memory index grows is an I/O error). ``store_error`` turns them into
:class:`StoreFullError`, :class:`StoreBusyError` and :class:`StoreReadOnlyError`, each
with ``.path``, looking at the disk itself when the code alone does not say.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from ..errors import StoreBusyError, StoreError, StoreFullError, StoreReadOnlyError

# SQLite's primary result codes (the low byte of an extended code)
_BUSY, _LOCKED, _READONLY, _IOERR, _FULL, _CANTOPEN = 5, 6, 8, 10, 13, 14


def folder_writable(path: Path) -> bool:
    """Whether the store file (if it exists) and its folder can be written by this process.

    ``os.access`` answers for a read-only mount even for root (EROFS), and for permission
    bits for everyone else; root ignores permission bits, and so does SQLite for root.
    """
    folder = path.parent
    if not os.access(folder, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def disk_full(path: Path) -> bool:
    """Whether the file system holding ``path`` has no block left for this process."""
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail == 0


def store_error(path: Path, exc: sqlite3.Error, doing: str = "") -> StoreError:
    """The StoreError for an SQLite failure on ``path``; ``doing`` says what was tried."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    detail = f"{doing}: {text}" if doing else text
    if primary == _FULL or "disk is full" in text:
        return StoreFullError(path, detail)
    if primary in (_BUSY, _LOCKED) or "database is locked" in text:
        return StoreBusyError(path, detail)
    io_trouble = primary in (_IOERR, _READONLY, _CANTOPEN) or "I/O error" in text
    if io_trouble and disk_full(path):
        return StoreFullError(path, detail)
    if primary == _READONLY or "readonly database" in text:
        return StoreReadOnlyError(path, detail)
    if (primary == _CANTOPEN or "unable to open" in text) and not folder_writable(path):
        return StoreReadOnlyError(path, detail)
    error = StoreError(f"{path} could not be written ({detail}).")
    error.path = path  # type: ignore[attr-defined]  # as the subclasses carry it
    return error


def os_error(path: Path, exc: OSError, doing: str) -> StoreError:
    """The StoreError for a failure of the file system itself (making the folder)."""
    detail = f"{doing}: {exc.strerror or exc}"
    if exc.errno == errno.ENOSPC:
        return StoreFullError(path, detail)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnlyError(path, detail)
    error = StoreError(f"{path} could not be written ({detail}).")
    error.path = path  # type: ignore[attr-defined]
    return error
