"""One exception hierarchy for the whole runtime.

Every error a user can trigger derives from :class:`QRTError`, and also from the
builtin that qiskit raises for the same mistake (``ValueError`` for bad PUBs,
``TypeError`` for wrong option types, ...), so code written against
``qiskit.primitives`` keeps catching what it caught before.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "QRTError",
    "InvalidPubError",
    "InvalidOptionError",
    "OptionTypeError",
    "InvalidInputError",
    "BackendNotFoundError",
    "JobNotFoundError",
    "SessionNotFoundError",
    "SessionClosedError",
    "JobError",
    "JobCancelledError",
    "JobTimeoutError",
    "StoreError",
]


class QRTError(Exception):
    """Base class of every error raised by qrt_jupyter."""


class InvalidPubError(QRTError, ValueError):
    """A PUB cannot be run as given; the message names its index and the fix."""

    def __init__(self, index: int, problem: str, fix: str) -> None:
        self.index = index
        self.problem = problem
        self.fix = fix
        super().__init__(f"PUB {index}: {problem} Fix: {fix}")


class InvalidOptionError(QRTError, ValueError):
    """An option name or value is not valid."""


class OptionTypeError(QRTError, TypeError):
    """An option was given a value of the wrong type."""


class InvalidInputError(QRTError, ValueError):
    """Inputs to a job, program or service call are not valid."""


class BackendNotFoundError(QRTError, KeyError):
    """The service has no backend of that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class JobNotFoundError(QRTError, KeyError):
    """The store has no job with that id."""

    def __str__(self) -> str:
        return str(self.args[0])


class SessionNotFoundError(QRTError, KeyError):
    """The store has no session with that id."""

    def __str__(self) -> str:
        return str(self.args[0])


class SessionClosedError(QRTError, RuntimeError):
    """A job was submitted to a session or batch that no longer accepts jobs."""


class JobError(QRTError, RuntimeError):
    """A job ended in ERROR; the message is the job's error message."""


class JobCancelledError(QRTError, RuntimeError):
    """A job was cancelled, so it has no result."""


class JobTimeoutError(QRTError, TimeoutError):
    """Waiting for a job took longer than the timeout given."""


class StoreError(QRTError, RuntimeError):
    """The job store cannot be opened or written safely."""


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``, used to suggest a fix for a typo."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ' Did you mean ...?' suffix, or '' when nothing is close."""
    guess = nearest(name, candidates)
    return f" Did you mean '{guess}'?" if guess else ""


# -- the store cannot be written: what happened, which file, and the fix ------------------
def _folder_of(path: object) -> str:
    from pathlib import Path

    return str(Path(path).parent)  # type: ignore[arg-type]


class _StoreWriteError(StoreError):
    """A store write failed for a reason outside qrt_jupyter; ``path`` is the store file."""

    def __init__(self, path: object, detail: str = "") -> None:
        from pathlib import Path

        self.path = Path(path)  # type: ignore[arg-type]
        self.detail = detail
        super().__init__(self._message())

    def _message(self) -> str:
        raise NotImplementedError

    def _cause(self) -> str:
        return f" ({self.detail})" if self.detail else ""

    def __reduce__(self):  # the message is built from path and detail: pickle those
        return type(self), (self.path, self.detail)


class StoreFullError(_StoreWriteError):
    """The disk that holds the store has no space left."""

    def _message(self) -> str:
        return (
            f"The disk holding QRT_HOME ({_folder_of(self.path)}) is full: free space or set "
            f"QRT_HOME to another folder. {self.path} could not be written{self._cause()}; "
            "jobs already written can still be read."
        )


class StoreBusyError(_StoreWriteError):
    """Another process held the store's write lock for longer than the busy timeout."""

    def _message(self) -> str:
        return (
            f"{self.path} is locked by another process for longer than the busy timeout"
            f"{self._cause()}: try again when that process has finished writing, or give "
            "the store a longer busy_timeout."
        )


class StoreReadOnlyError(_StoreWriteError):
    """The store file or its folder cannot be written (permissions, a read-only mount)."""

    def _message(self) -> str:
        return (
            f"{self.path} is read-only{self._cause()}: the file or its folder "
            f"{_folder_of(self.path)} cannot be written, so jobs can be read but not written. "
            "Make the folder writable, or set QRT_HOME to a writable folder."
        )


__all__ += ["StoreFullError", "StoreBusyError", "StoreReadOnlyError"]
