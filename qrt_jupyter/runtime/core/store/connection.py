"""Opening one store file, guarding and migrating it; write transactions; grouped writes.

One file under ``$QRT_HOME`` (WAL mode) is shared by every kernel, script and the
Jupyter server. The file is marked with an application id so that a file that is not
ours is never touched, and its schema is versioned with forward-only migrations.

Opening writes nothing unless the file must be created or migrated, so a store on a
read-only folder or a full disk still opens for reading. SQLite cannot read a WAL file
whose shared-memory index (``-shm``) it can neither find nor create (a read-only folder,
a full disk, once every writer has closed it): the store is then read as an immutable
snapshot, and reopened normally as soon as that works again (before each write, and
when another process has started writing).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ..errors import StoreError, StoreFullError, StoreReadOnlyError
from .failures import folder_writable, os_error, store_error
from .process import this_process
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

#: Seconds the flusher thread gathers grouped job records before writing them.
FLUSH_DELAY = 0.002
#: Seconds a write waits for another process's write lock before StoreBusyError.
BUSY_TIMEOUT = 30.0
#: Seconds ``writable()`` reuses its answer.
WRITABLE_TTL = 1.0
#: Seconds between two tries to reopen normally a store read as a snapshot.
REOPEN_INTERVAL = 1.0


def default_home() -> Path:
    return Path(os.environ.get("QRT_HOME") or Path.home() / ".qrt").expanduser()


def write_jobs(conn: sqlite3.Connection, rows: Sequence[tuple], seq: int) -> None:
    """INSERT QUEUED job records (the tuples ``JobRecords.insert_job`` builds)."""
    conn.executemany(
        "INSERT INTO jobs (id, session_id, kind, program, backend, status, created, tags,"
        " inputs, options, owner, changed)"
        " VALUES (?, ?, ?, ?, ?, 'QUEUED', ?, ?, ?, ?, ?, ?)",
        [(*row, seq) for row in rows],
    )
    conn.executemany("INSERT INTO job_events VALUES (?, 'QUEUED', ?)",
                     [(row[0], row[5]) for row in rows])


def _probe(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """application_id, user_version and the number of schema objects: reads only."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return app_id, version, tables


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite rolls back by itself on a full disk or an I/O error: a second ROLLBACK
    # would hide the cause behind "cannot rollback - no transaction is active"
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


class Connection:
    """One SQLite connection to a store file, shared by the threads of this process."""

    def __init__(self, path: str | os.PathLike | None = None, *,
                 busy_timeout: float = BUSY_TIMEOUT) -> None:
        if path is None:
            path = default_home() / "store.sqlite"
        self.path = Path(path).expanduser()
        #: seconds a write waits for another process's write lock
        self.busy_timeout = float(busy_timeout)
        self.owner = this_process()
        self._lock = threading.RLock()
        #: job records queued by ``insert_job(..., group=True)``, written by the next
        #: transaction of this store (or by the flusher thread after FLUSH_DELAY)
        self._pending_jobs: list[tuple] = []
        self._flush_wanted = threading.Event()
        self._flusher: threading.Thread | None = None
        self._writable: tuple[float, bool] | None = None
        #: why the store is read as an immutable snapshot (None: opened normally)
        self._snapshot: StoreError | None = None
        self._last_reopen = 0.0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(self.path, exc, "creating its folder") from exc
        self._conn = self._open()

    # -- opening -------------------------------------------------------------
    def _connect(self, snapshot: bool = False) -> sqlite3.Connection:
        target: str | Path = self.path
        if snapshot:
            target = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
        conn = sqlite3.connect(target, uri=snapshot, timeout=self.busy_timeout,
                               isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={round(self.busy_timeout * 1000)}")
        return conn

    def _connect_and_probe(self, snapshot: bool = False
                           ) -> tuple[sqlite3.Connection, tuple[int, int, int]]:
        conn = None
        try:
            conn = self._connect(snapshot)
            return conn, _probe(conn)
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    def _open(self) -> sqlite3.Connection:
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            conn, (app_id, version, tables) = self._connect_and_probe()
        except sqlite3.OperationalError as exc:
            # a read-only folder or a full disk: SQLite may not create the WAL index
            reason = store_error(self.path, exc, "opening it" if existed else "creating it")
            if not (existed and self._snapshot_possible(reason)):
                raise reason from exc
            try:
                conn, (app_id, version, tables) = self._connect_and_probe(snapshot=True)
            except sqlite3.DatabaseError:
                raise reason from exc
            self._snapshot = reason
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a readable qrt_jupyter store ({exc}). It was left "
                "untouched; move it away or set QRT_HOME to another folder."
            ) from exc
        if existed and app_id != APPLICATION_ID and (tables or app_id):
            conn.close()
            raise StoreError(
                f"{self.path} is an SQLite file that qrt_jupyter did not create "
                f"(application_id {app_id:#x}). It was left untouched; set QRT_HOME to "
                "another folder or pass another store path."
            )
        if version > SCHEMA_VERSION:
            conn.close()
            raise self._newer(version)
        if version < SCHEMA_VERSION:
            doing = (f"upgrading it from schema v{version} to v{SCHEMA_VERSION}" if existed
                     else "creating it")
            if self._snapshot is not None:
                conn.close()
                raise type(self._snapshot)(self.path, f"{doing}: {self._snapshot.detail}")
            try:
                self._migrate(conn)
            except sqlite3.OperationalError as exc:
                conn.close()
                raise store_error(self.path, exc, doing) from exc
            except BaseException:
                conn.close()
                raise
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _snapshot_possible(self, reason: StoreError) -> bool:
        """Whether the file can be read without writing: immutable reads ignore the WAL."""
        if not isinstance(reason, (StoreFullError, StoreReadOnlyError)):
            return False
        wal = Path(f"{self.path}-wal")
        return not wal.exists() or wal.stat().st_size == 0

    def _newer(self, version: int) -> StoreError:
        return StoreError(
            f"{self.path} has schema version {version}, newer than this qrt_jupyter "
            f"understands ({SCHEMA_VERSION}). Upgrade qrt_jupyter to read it."
        )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            # read again under the write lock: another process may have migrated it
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise self._newer(current)
            for step in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    def _current(self, *, writing: bool) -> sqlite3.Connection:
        """The connection; a snapshot is replaced by a normal one as soon as that opens."""
        if self._snapshot is not None:
            now = time.monotonic()
            others_write = Path(f"{self.path}-shm").exists()
            if writing or others_write or now - self._last_reopen >= REOPEN_INTERVAL:
                self._last_reopen = now
                self._reopen()
        return self._conn

    def _reopen(self) -> None:
        try:
            conn, (app_id, version, _tables) = self._connect_and_probe()
        except sqlite3.Error:
            return
        if app_id != APPLICATION_ID or version != SCHEMA_VERSION:
            conn.close()  # replaced or upgraded meanwhile: keep reading the snapshot
            return
        conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.close()
        self._conn = conn
        self._snapshot = None

    def writable(self) -> bool:
        """Whether the store file and its folder can be written (cached for WRITABLE_TTL).

        False on a read-only mount or without write permission. A full disk is not seen
        here: SQLite may still write into free pages of the file, so only a write says.
        """
        now = time.monotonic()
        cached = self._writable
        if cached is None or now - cached[0] >= WRITABLE_TTL:
            cached = self._writable = (now, folder_writable(self.path))
        return cached[1]

    def close(self) -> None:
        with self._lock:
            try:
                if self._pending_jobs:
                    self.flush()
            finally:
                self._conn.close()

    # -- grouped job records -------------------------------------------------
    def _queue_jobs(self, rows: Sequence[tuple]) -> None:
        """Queue job records for the next transaction, or the flusher thread's."""
        with self._lock:
            self._pending_jobs.extend(rows)
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(target=self._flush_loop, daemon=True,
                                                 name="qrt-store-flush")
                self._flusher.start()
        self._flush_wanted.set()

    def flush(self) -> None:
        """Write the queued job records now."""
        with self._lock:
            if self._pending_jobs:
                with self._tx():
                    pass

    def _flush_loop(self) -> None:
        while True:
            self._flush_wanted.wait()
            time.sleep(FLUSH_DELAY)  # gather the records of a burst of submissions
            self._flush_wanted.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a closed, full or locked store: the next write retries
                pass

    # -- transactions and reads ----------------------------------------------
    @contextmanager
    def _tx(self, *, busy_timeout: float | None = None
            ) -> Iterator[tuple[sqlite3.Connection, int]]:
        """A write transaction and the change sequence number it writes.

        SQLite failures become StoreFullError, StoreBusyError or StoreReadOnlyError (see
        ``failures``). ``busy_timeout`` waits for another writer that long instead.
        """
        with self._lock:
            conn = self._current(writing=True)
            if busy_timeout is not None:
                conn.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                seq = conn.execute(
                    "UPDATE counter SET seq = seq + 1 WHERE id = 1 RETURNING seq"
                ).fetchone()[0]
                pending = self._pending_jobs
                if pending:
                    write_jobs(conn, pending, seq)
                yield conn, seq
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                _rollback(conn)
                raise store_error(self.path, exc) from exc
            except BaseException:
                _rollback(conn)
                raise
            finally:
                if busy_timeout is not None:
                    with suppress(sqlite3.Error):
                        conn.execute(f"PRAGMA busy_timeout={round(self.busy_timeout * 1000)}")
            if pending:
                del pending[:]

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[dict]:
        with self._lock:
            if self._pending_jobs:
                try:
                    self.flush()  # this process reads its own queued jobs
                except StoreError:
                    pass  # unwritable for now: reads still answer, the records stay queued
            cur = self._current(writing=False).execute(sql, args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def change_seq(self) -> int:
        """Grows with every write from any process; pollers compare it to skip work."""
        return self._query("SELECT seq FROM counter WHERE id = 1")[0]["seq"]

