"""What a running job leaves besides its state: log lines, interim results, checkpoints."""

from __future__ import annotations

import time
from collections.abc import Sequence

from .connection import Connection


class JobOutputs(Connection):
    """Reads and writes of the ``job_logs``, ``interim`` and ``checkpoints`` tables."""

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

    def last_interim_seq(self, job_id: str) -> int:
        """The sequence number of the job's newest interim result, -1 if none."""
        return self._query(
            "SELECT coalesce(max(seq), -1) AS s FROM interim WHERE job_id = ?", (job_id,)
        )[0]["s"]

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
