"""Session and batch records: created open, closed or cancelled by their process.

A session's ``active`` column (schema v3) is 0 while it is deactivated (idle past its
interactive TTL), so that other processes and the sidebar see what its notebook sees;
``state`` stays 'open' while it accepts jobs.
"""

from __future__ import annotations

from typing import Any

from .connection import Connection


class SessionRecords(Connection):
    """Reads and writes of the ``sessions`` table."""

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

    def set_session_active(self, session_id: str, active: bool) -> None:
        """Record a session's deactivation (``False``) or reactivation, in one transaction."""
        with self._tx() as (conn, seq):
            conn.execute(
                "UPDATE sessions SET active = ?, changed = ? WHERE id = ?",
                (int(bool(active)), seq, session_id),
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

    # -- closing or cancelling requested from outside the owning process --------
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

    def count_sessions(self, *, state: str | None = None) -> int:
        if state is None:
            return self._query("SELECT count(*) AS n FROM sessions")[0]["n"]
        return self._query("SELECT count(*) AS n FROM sessions WHERE state = ?", (state,))[0]["n"]
