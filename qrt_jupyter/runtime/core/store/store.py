"""SQLite persistence of sessions, jobs, logs, interim results and results.

One file under ``$QRT_HOME`` (WAL mode) is shared by every kernel, script and
the Jupyter server: jobs are found again from a new process, two processes may
write at once, and the server reads what kernels write. The file is marked with
an application id so that a file that is not ours is never touched, and its
schema is versioned with forward-only migrations.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .failures import write_error
from .process import this_process
from .reaper import reap_orphans
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

#: Seconds the flusher thread gathers grouped job records before writing them.
FLUSH_DELAY = 0.002

def default_home() -> Path:
    return Path(os.environ.get("QRT_HOME") or Path.home() / ".qrt").expanduser()



class Store:
    """Thread-safe access to one store file; each write is one short transaction."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        if path is None:
            path = default_home() / "store.sqlite"
        self.path = Path(path).expanduser()
        self.owner = this_process()
        self._lock = threading.RLock()
        #: job records queued by ``insert_job(..., group=True)``, written by the next
        #: transaction of this store (or by the flusher thread after FLUSH_DELAY)
        self._pending_jobs: list[tuple] = []
        self._flush_wanted = threading.Event()
        self._flusher: threading.Thread | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._open()

    # -- opening -------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
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
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this qrt_jupyter "
                f"understands ({SCHEMA_VERSION}). Upgrade qrt_jupyter to read it."
            )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        if version < SCHEMA_VERSION:
            self._migrate(conn, version)
        return conn

    def _migrate(self, conn: sqlite3.Connection, version: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for step in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            if self._pending_jobs:
                self.flush()
            self._conn.close()

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
            except Exception:  # noqa: BLE001 - a closed or locked store: the next write retries
                pass

    @contextmanager
    def _tx(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """A write transaction and the change sequence number it writes."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                seq = conn.execute(
                    "UPDATE counter SET seq = seq + 1 WHERE id = 1 RETURNING seq"
                ).fetchone()[0]
                pending = self._pending_jobs
                if pending:
                    self._write_jobs(conn, pending, seq)
                yield conn, seq
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                # SQLite rolls back by itself on a full disk or an I/O error: a second
                # ROLLBACK would hide the cause behind "no transaction is active"
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise write_error(self.path, exc) from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if pending:
                del pending[:]

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            if self._pending_jobs:
                self.flush()  # this process reads its own queued jobs
            cur = self._conn.execute(sql, args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def change_seq(self) -> int:
        """Grows with every write from any process; pollers compare it to skip work."""
        return self._query("SELECT seq FROM counter WHERE id = 1")[0]["seq"]

    # -- sessions ------------------------------------------------------------
    def insert_session(self, session_id: str, *, mode: str, backend: str,
                       max_time: float | None, ttl: float | None, created: float) -> None:
        with self._tx() as (conn, seq):
            conn.execute(
                "INSERT INTO sessions (id, mode, backend, max_time, ttl, state, created, owner,"
                " changed) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                (session_id, mode, backend, max_time, ttl, created, self.owner, seq),
            )

    def update_session(self, session_id: str, **fields: Any) -> None:
        if not fields:
            return
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self._tx() as (conn, seq):
            conn.execute(
                f"UPDATE sessions SET {cols}, changed = ? WHERE id = ?",
                (*fields.values(), seq, session_id),
            )

    def get_session(self, session_id: str) -> dict | None:
        rows = self._query("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return rows[0] if rows else None

    def list_sessions(self, *, state: str | None = None, limit: int = 50) -> list[dict]:
        sql = "SELECT * FROM sessions"
        args: list[Any] = []
        if state:
            sql += " WHERE state = ?"
            args.append(state)
        sql += " ORDER BY created DESC LIMIT ?"
        args.append(limit)
        return self._query(sql, args)

    def session_job_counts(self, session_id: str) -> dict[str, int]:
        rows = self._query(
            "SELECT status, count(*) AS n FROM jobs WHERE session_id = ? GROUP BY status",
            (session_id,),
        )
        return {r["status"]: r["n"] for r in rows}

    def session_started(self, session_id: str) -> float | None:
        """When the session's first job started, which starts its max_time; None before."""
        rows = self._query(
            "SELECT min(started) AS t FROM jobs WHERE session_id = ?", (session_id,))
        return rows[0]["t"]

    # -- jobs ----------------------------------------------------------------
    def insert_job(self, job_id: str, *, session_id: str | None, kind: str, program: str | None,
                   backend: str, created: float, tags: list[str], inputs: dict,
                   options: dict, group: bool = False) -> None:
        """Record a QUEUED job.

        ``group=True`` queues the record instead: it is written together with the next
        write of this store (a job's final state, another process's view is then at most
        FLUSH_DELAY late) or by the flusher thread, so that a burst of submissions costs
        one transaction rather than one each. Reads of this store see it at once.
        """
        row = (job_id, session_id, kind, program, backend, created, json.dumps(tags),
               json.dumps(inputs), json.dumps(options), self.owner)
        if not group:
            with self._tx() as (conn, seq):
                self._write_jobs(conn, [row], seq)
            return
        with self._lock:
            self._pending_jobs.append(row)
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(target=self._flush_loop, daemon=True,
                                                 name="qrt-store-flush")
                self._flusher.start()
        self._flush_wanted.set()

    @staticmethod
    def _write_jobs(conn: sqlite3.Connection, rows: list[tuple], seq: int) -> None:
        conn.executemany(
            "INSERT INTO jobs (id, session_id, kind, program, backend, status, created, tags,"
            " inputs, options, owner, changed)"
            " VALUES (?, ?, ?, ?, ?, 'QUEUED', ?, ?, ?, ?, ?, ?)",
            [(*row, seq) for row in rows],
        )
        conn.executemany("INSERT INTO job_events VALUES (?, 'QUEUED', ?)",
                         [(row[0], row[5]) for row in rows])

    def mark_running(self, job_id: str, at: float,
                     interim: Sequence[tuple[int, float, bytes, str]] = ()) -> None:
        """RUNNING since ``at``, with the interim results published so far."""
        with self._tx() as (conn, seq):
            conn.execute(
                "UPDATE jobs SET status = 'RUNNING', started = ?, changed = ? WHERE id = ?",
                (at, seq, job_id),
            )
            conn.execute("INSERT INTO job_events VALUES (?, 'RUNNING', ?)", (job_id, at))
            if interim:
                conn.executemany(
                    "INSERT INTO interim VALUES (?, ?, ?, ?, ?)",
                    [(job_id, s, at_, payload, summary) for s, at_, payload, summary in interim],
                )

    def finish_job(self, job_id: str, *, status: str, at: float, metrics: dict,
                   error: str | None = None, result: bytes | None = None,
                   logs: Sequence[tuple[float, str, str]] = (), started: float | None = None,
                   interim: Sequence[tuple[int, float, bytes, str]] = ()) -> None:
        """Final state, metrics, result and pending logs in one durable transaction.

        ``started`` and ``interim``: the RUNNING state and interim results of a job that
        ended before they were written (jobs.LIVE_AFTER), recorded in the same transaction.
        """
        with self._tx() as (conn, seq):
            if started is not None:
                conn.execute("UPDATE jobs SET started = ? WHERE id = ?", (started, job_id))
                conn.execute("INSERT INTO job_events VALUES (?, 'RUNNING', ?)",
                             (job_id, started))
            if interim:
                conn.executemany(
                    "INSERT INTO interim VALUES (?, ?, ?, ?, ?)",
                    [(job_id, s, at_, payload, summary) for s, at_, payload, summary in interim],
                )
            if logs:
                conn.executemany(
                    "INSERT INTO job_logs VALUES (?, ?, ?, ?)",
                    [(job_id, at_, level, msg) for at_, level, msg in logs],
                )
            conn.execute(
                "UPDATE jobs SET status = ?, finished = ?, metrics = ?, error = ?, result = ?,"
                " changed = ? WHERE id = ?",
                (status, at, json.dumps(metrics), error, result, seq, job_id),
            )
            conn.execute("INSERT INTO job_events VALUES (?, ?, ?)", (job_id, status, at))

    def get_job(self, job_id: str, *, with_result: bool = False) -> dict | None:
        cols = "*" if with_result else _JOB_COLUMNS
        rows = self._query(f"SELECT {cols} FROM jobs WHERE id = ?", (job_id,))
        return _decode_job(rows[0]) if rows else None

    def job_status(self, job_id: str) -> dict | None:
        """status, error, started, finished and cancel_requested of one job (no payloads)."""
        rows = self._query(
            "SELECT status, error, started, finished, cancel_requested FROM jobs WHERE id = ?",
            (job_id,),
        )
        return rows[0] if rows else None

    def job_result(self, job_id: str) -> bytes | None:
        rows = self._query("SELECT result FROM jobs WHERE id = ?", (job_id,))
        return rows[0]["result"] if rows else None

    def list_jobs(self, *, limit: int | None = 20, offset: int = 0, session_id: str | None = None,
                  pending: bool | None = None, status: str | Sequence[str] | None = None,
                  tags: Sequence[str] | None = None, created_after: float | None = None,
                  changed_after: int | None = None, program: str | None = None,
                  descending: bool = True) -> list[dict]:
        where: list[str] = []
        args: list[Any] = []
        if session_id is not None:
            where.append("session_id = ?")
            args.append(session_id)
        if pending is True:
            where.append("status IN ('QUEUED', 'RUNNING')")
        elif pending is False:
            where.append("status IN ('DONE', 'ERROR', 'CANCELLED')")
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args.extend(s.upper() for s in statuses)
        if created_after is not None:
            where.append("created > ?")
            args.append(created_after)
        if changed_after is not None:
            where.append("changed > ?")
            args.append(changed_after)
        if program is not None:
            where.append("program = ?")
            args.append(program)
        for tag in tags or ():
            where.append("EXISTS (SELECT 1 FROM json_each(jobs.tags) WHERE value = ?)")
            args.append(tag)
        sql = f"SELECT {_JOB_COLUMNS} FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY created {'DESC' if descending else 'ASC'}, rowid"
        if limit is not None or offset:
            # SQLite has no OFFSET without LIMIT; -1 means no limit, so skip= works alone.
            sql += " LIMIT ? OFFSET ?"
            args.extend([-1 if limit is None else limit, offset])
        return [_decode_job(r) for r in self._query(sql, args)]

    def count_jobs(self, **filters: Any) -> int:
        return len(self.list_jobs(limit=None, **filters))

    def delete_job(self, job_id: str) -> bool:
        with self._tx() as (conn, _seq):
            n = conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount
            for table in ("job_events", "job_logs", "interim", "checkpoints"):
                conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))
        return n > 0

    def job_events(self, job_id: str) -> list[dict]:
        return self._query(
            "SELECT status, at FROM job_events WHERE job_id = ? ORDER BY rowid", (job_id,)
        )

    # -- cancellation requested from outside the owning process ----------------
    def request_cancel(self, job_id: str) -> None:
        with self._tx() as (conn, seq):
            conn.execute(
                "UPDATE jobs SET cancel_requested = 1, changed = ? WHERE id = ?", (seq, job_id)
            )

    def cancel_requests(self, owner: str) -> list[str]:
        rows = self._query(
            "SELECT id FROM jobs WHERE owner = ? AND cancel_requested = 1"
            " AND status IN ('QUEUED', 'RUNNING')",
            (owner,),
        )
        return [r["id"] for r in rows]

    def request_session_cancel(self, session_id: str, how: str) -> None:
        """``how`` is 'close' or 'cancel'; the owning process acts on it."""
        flag = 2 if how == "cancel" else 1
        with self._tx() as (conn, seq):
            conn.execute(
                "UPDATE sessions SET cancel_requested = ?, changed = ? WHERE id = ?",
                (flag, seq, session_id),
            )

    def session_requests(self, owner: str) -> list[tuple[str, int]]:
        rows = self._query(
            "SELECT id, cancel_requested FROM sessions WHERE owner = ? AND cancel_requested > 0"
            " AND state = 'open'",
            (owner,),
        )
        return [(r["id"], r["cancel_requested"]) for r in rows]

    # -- logs and interim results ----------------------------------------------
    def add_logs(self, job_id: str, entries: Sequence[tuple[float, str, str]]) -> None:
        with self._tx() as (conn, _seq):
            conn.executemany(
                "INSERT INTO job_logs VALUES (?, ?, ?, ?)",
                [(job_id, at, level, msg) for at, level, msg in entries],
            )

    def logs(self, job_id: str) -> list[dict]:
        return self._query(
            "SELECT at, level, message FROM job_logs WHERE job_id = ? ORDER BY rowid", (job_id,)
        )

    def add_interim(self, job_id: str, entries: Sequence[tuple[int, float, bytes, str]]) -> None:
        with self._tx() as (conn, seq):
            conn.executemany(
                "INSERT INTO interim VALUES (?, ?, ?, ?, ?)",
                [(job_id, s, at, payload, summary) for s, at, payload, summary in entries],
            )
            conn.execute("UPDATE jobs SET changed = ? WHERE id = ?", (seq, job_id))

    def interim(self, job_id: str, *, since: int = -1, payload: bool = True) -> list[dict]:
        cols = "seq, at, payload, summary" if payload else "seq, at, summary"
        return self._query(
            f"SELECT {cols} FROM interim WHERE job_id = ? AND seq > ? ORDER BY seq",
            (job_id, since),
        )

    # -- checkpoints of programs ----------------------------------------------
    def add_checkpoint(self, job_id: str, payload: bytes) -> int:
        with self._tx() as (conn, _seq):
            seq = conn.execute(
                "SELECT coalesce(max(seq), -1) + 1 FROM checkpoints WHERE job_id = ?", (job_id,)
            ).fetchone()[0]
            conn.execute("INSERT INTO checkpoints VALUES (?, ?, ?, ?)",
                         (job_id, seq, time.time(), payload))
        return seq

    def last_checkpoint(self, job_id: str) -> bytes | None:
        rows = self._query(
            "SELECT payload FROM checkpoints WHERE job_id = ? ORDER BY seq DESC LIMIT 1", (job_id,)
        )
        return rows[0]["payload"] if rows else None

    # -- processes that died ---------------------------------------------------
    def reap_orphans(self) -> int:
        """Mark jobs and sessions whose owning process is gone; returns jobs marked."""
        return reap_orphans(self)

    # -- counts for dashboards (the Jupyter server's sidebar API) --------------
    def count_matching_jobs(self, *, session_id: str | None = None,
                            status: Sequence[str] | None = None,
                            program: str | None = None) -> int:
        """How many jobs ``list_jobs`` would return for these filters, without reading them."""
        where: list[str] = []
        args: list[Any] = []
        if session_id is not None:
            where.append("session_id = ?")
            args.append(session_id)
        if status:
            where.append(f"status IN ({', '.join('?' * len(status))})")
            args.extend(s.upper() for s in status)
        if program is not None:
            where.append("program = ?")
            args.append(program)
        sql = "SELECT count(*) AS n FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self._query(sql, args)[0]["n"]

    def job_status_counts(self) -> dict[str, int]:
        """Status -> number of jobs in the whole store."""
        rows = self._query("SELECT status, count(*) AS n FROM jobs GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def count_sessions(self, *, state: str | None = None) -> int:
        if state is None:
            return self._query("SELECT count(*) AS n FROM sessions")[0]["n"]
        return self._query("SELECT count(*) AS n FROM sessions WHERE state = ?", (state,))[0]["n"]

    def last_interim_seq(self, job_id: str) -> int:
        """The sequence number of the job's newest interim result, -1 if none."""
        return self._query(
            "SELECT coalesce(max(seq), -1) AS s FROM interim WHERE job_id = ?", (job_id,)
        )[0]["s"]


_JOB_COLUMNS = (
    "id, session_id, kind, program, backend, status, created, started, finished, tags, inputs,"
    " options, metrics, error, owner, cancel_requested, changed"
)


def _decode_job(row: dict) -> dict:
    for key in ("tags", "inputs", "options", "metrics"):
        if key in row and isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row
