"""The store's schema: v3 records a session's deactivation; older files are upgraded in
place with their rows kept, newer ones are refused and left byte for byte as they were."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from qrt_jupyter.errors import StoreError
from qrt_jupyter.runtime.core.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Store


def _v2_store(path: Path) -> None:
    """A store file as qrt_jupyter with schema v2 wrote it: a session with a job."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=2")
    conn.execute(
        "INSERT INTO sessions (id, mode, backend, max_time, ttl, state, created, owner, changed)"
        " VALUES ('s2', 'session', 'aer_simulator', 60.0, 5.0, 'open', 1.0, 'h:1:1', 1)")
    conn.execute(
        "INSERT INTO jobs (id, session_id, kind, backend, status, created, finished, tags,"
        " owner, result, changed) VALUES ('j2', 's2', 'sampler', 'aer_simulator', 'DONE',"
        " 1.0, 2.0, '[\"v2\"]', 'h:1:1', x'0102', 1)")
    conn.execute("INSERT INTO job_events VALUES ('j2', 'DONE', 2.0)")
    conn.execute("INSERT INTO checkpoints VALUES ('j2', 0, 1.5, x'ff')")
    conn.execute("UPDATE counter SET seq = 1")
    conn.commit()
    conn.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_version_is_three_with_a_session_active_column():
    assert SCHEMA_VERSION == len(MIGRATIONS) == 3
    assert "active INTEGER NOT NULL DEFAULT 1" in MIGRATIONS[2]


def test_a_v2_store_opens_upgrades_to_v3_and_keeps_its_rows(tmp_path):
    path = tmp_path / "store.sqlite"
    _v2_store(path)
    store = Store(path)
    try:
        session = store.get_session("s2")
        assert session["active"] == 1  # the new column, with its default
        assert session["state"] == "open" and session["max_time"] == 60.0
        assert [s["active"] for s in store.list_sessions()] == [1]
        job = store.get_job("j2", with_result=True)
        assert job["status"] == "DONE" and job["session_id"] == "s2"
        assert job["tags"] == ["v2"] and job["result"] == b"\x01\x02"
        assert store.job_events("j2") == [{"status": "DONE", "at": 2.0}]
        assert store.last_checkpoint("j2") == b"\xff"
        assert store.change_seq() == 1
        store.set_session_active("s2", False)  # the new column is written
        assert store.get_session("s2")["active"] == 0
    finally:
        store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        columns = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")]
        assert columns[-1] == "active"
    finally:
        conn.close()


def test_set_session_active_writes_once_and_bumps_the_change_seq(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    try:
        store.insert_session("s", mode="session", backend="aer_simulator", max_time=None,
                             ttl=1.0, created=1.0)
        assert store.get_session("s")["active"] == 1
        seq = store.change_seq()
        store.set_session_active("s", False)
        assert store.change_seq() == seq + 1
        row = store.get_session("s")
        assert row["active"] == 0 and row["state"] == "open"  # still accepting jobs
        assert row["changed"] == seq + 1  # pollers of changed sessions see it
        assert store.list_sessions(state="open")[0]["active"] == 0
        store.set_session_active("s", True)
        assert store.get_session("s")["active"] == 1
        assert store.change_seq() == seq + 2
    finally:
        store.close()


def test_a_store_of_a_newer_schema_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "store.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=4")
    conn.close()
    before = _sha256(path)
    with pytest.raises(StoreError, match="schema version 4, newer") as info:
        Store(path)
    assert "Upgrade qrt_jupyter" in str(info.value)
    assert _sha256(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]
