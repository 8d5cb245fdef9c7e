"""Job records: QUEUED, RUNNING and a final state, with their status history.

The ``jobs`` table holds one row per job (its result as a BLOB, read only on request),
``job_events`` every status change with its time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .connection import Connection, write_jobs

_JOB_COLUMNS = (
    "id, session_id, kind, program, backend, status, created, started, finished, tags, inputs,"
    " options, metrics, error, owner, cancel_requested, changed"
)


def _decode_job(row: dict) -> dict:
    for key in ("tags", "inputs", "options", "metrics"):
        if key in row and isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row


class JobRecords(Connection):
    """Reads and writes of the ``jobs`` and ``job_events`` tables."""

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
                write_jobs(conn, [row], seq)
            return
        self._queue_jobs([row])

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
