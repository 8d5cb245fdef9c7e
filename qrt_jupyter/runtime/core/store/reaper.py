"""Reaping: jobs and sessions whose owning process died are marked, so none waits for ever."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .process import process_alive

if TYPE_CHECKING:
    from .store import Store


def reap_orphans(store: Store) -> int:
    """Mark jobs and sessions whose owning process is gone; returns jobs marked."""
    rows = store._query(
        "SELECT id, owner FROM jobs WHERE status IN ('QUEUED', 'RUNNING') AND owner != ?",
        (store.owner,),
    )
    dead = [r for r in rows if not process_alive(r["owner"])]
    now = time.time()
    for r in dead:
        pid = r["owner"].rsplit(":", 2)[1]
        message = (
            f"The process that ran this job (pid {pid}) exited before the job finished; "
            "run the job again."
        )
        with store._tx() as (conn, seq):
            conn.execute(
                "UPDATE jobs SET status = 'ERROR', error = ?, finished = ?, changed = ?"
                " WHERE id = ? AND status IN ('QUEUED', 'RUNNING')",
                (message, now, seq, r["id"]),
            )
            conn.execute("INSERT INTO job_events VALUES (?, 'ERROR', ?)", (r["id"], now))
    sessions = store._query(
        "SELECT id, owner FROM sessions WHERE state = 'open' AND owner != ?", (store.owner,)
    )
    for s in sessions:
        if not process_alive(s["owner"]):
            store.update_session(s["id"], state="closed", closed=now)
    return len(dead)
