"""The store: one SQLite file of sessions, jobs, logs, interim results and results.

``Store`` is composed of one class per concern, each a view of the same connection:

- ``connection.Connection``: opening, guarding and migrating the file, transactions,
  the grouped-write flusher, ``writable()``;
- ``sessions.SessionRecords``, ``jobs.JobRecords``, ``outputs.JobOutputs``: reads and
  writes of their tables;
- ``reaper.Reaper``: marking what processes that died left behind.
"""

from __future__ import annotations

from .jobs import JobRecords
from .outputs import JobOutputs
from .reaper import Reaper
from .sessions import SessionRecords


class Store(Reaper, SessionRecords, JobRecords, JobOutputs):
    """Thread-safe access to one store file; each write is one short transaction.

    ``Store(path, busy_timeout=30.0)``: ``path`` defaults to ``$QRT_HOME/store.sqlite``;
    a write waits ``busy_timeout`` seconds for another process's write lock before it
    raises StoreBusyError. Writes that fail raise StoreFullError, StoreBusyError or
    StoreReadOnlyError (all StoreError); opening writes only to create or migrate.
    """
