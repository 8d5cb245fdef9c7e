"""Reaping: jobs and sessions whose owning process died are marked, so none waits for ever.

Reaping is housekeeping that any process may do for another: it never fails the caller.
A store that cannot be written now (read-only, full, locked) is skipped and reaped by a
later call, and a lock held by another process is waited for at most REAP_BUSY_TIMEOUT.
"""

from __future__ import annotations

import time

from ..errors import StoreError
from .connection import Connection
from .process import process_alive

#: Seconds a reaping write waits for another process's write lock (then it is skipped).
REAP_BUSY_TIMEOUT = 1.0


class Reaper(Connection):
    """``reap_orphans``: mark what dead processes left QUEUED, RUNNING or open."""

    _last_reap: float | None = None

    def reap_orphans(self, min_interval: float = 0.0) -> int:
        """Mark jobs and sessions whose owning process is gone; returns jobs marked.

        ``min_interval``: do nothing (return 0) if this store reaped less than that many
        seconds ago, so that pollers may call it on every look. A store that cannot be
        written is skipped (0 is returned) and reaped by a later call.
        """
        now = time.monotonic()
        if min_interval > 0 and self._last_reap is not None \
                and now - self._last_reap < min_interval:
            return 0
        self._last_reap = now
        rows = self._query(
            "SELECT id, owner FROM jobs WHERE status IN ('QUEUED', 'RUNNING') AND owner != ?",
            (self.owner,),
        )
        dead = [r for r in rows if not process_alive(r["owner"])]
        sessions = self._query(
            "SELECT id, owner FROM sessions WHERE state = 'open' AND owner != ?", (self.owner,)
        )
        dead_sessions = [s["id"] for s in sessions if not process_alive(s["owner"])]
        if not (dead or dead_sessions) or not self.writable():
            return 0
        at = time.time()
        try:
            with self._tx(busy_timeout=min(self.busy_timeout, REAP_BUSY_TIMEOUT)) as (conn, seq):
                for r in dead:
                    pid = r["owner"].rsplit(":", 2)[1]
                    message = (
                        f"The process that ran this job (pid {pid}) exited before the job "
                        "finished; run the job again."
                    )
                    marked = conn.execute(
                        "UPDATE jobs SET status = 'ERROR', error = ?, finished = ?, changed = ?"
                        " WHERE id = ? AND status IN ('QUEUED', 'RUNNING')",
                        (message, at, seq, r["id"]),
                    ).rowcount
                    if marked:
                        conn.execute("INSERT INTO job_events VALUES (?, 'ERROR', ?)",
                                     (r["id"], at))
                conn.executemany(
                    "UPDATE sessions SET state = 'closed', closed = ?, changed = ?"
                    " WHERE id = ? AND state = 'open'",
                    [(at, seq, session_id) for session_id in dead_sessions],
                )
        except StoreError:
            return 0  # read-only, full or locked for now: a later call reaps them
        return len(dead)
