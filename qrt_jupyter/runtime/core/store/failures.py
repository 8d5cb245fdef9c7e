"""Store write failures turned into errors that name the store and the fix."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StoreError


def write_error(path: Path, exc: sqlite3.OperationalError) -> StoreError:
    """A write failure in words that say which store and what to do."""
    text = str(exc)
    if "full" in text:
        return StoreError(
            f"The disk holding QRT_HOME is full: {path} could not be written "
            f"({text}). Free some space, or set QRT_HOME to a folder on another disk."
        )
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path} is locked by another process for longer than the busy "
            f"timeout ({text}); the write is retried, or close the other process."
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(
            f"{path} is read-only ({text}): jobs can be read but not submitted. "
            "Make QRT_HOME writable or set it to a writable folder."
        )
    return StoreError(f"{path} could not be written: {text}.")
