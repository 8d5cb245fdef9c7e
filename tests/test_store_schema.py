"""The store's schema: v3 records a session's deactivation; older files are upgraded in
place with their rows kept, newer ones are refused and left byte for byte as they were."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from conftest import write_v2_store

from qrt_jupyter.errors import StoreError
from qrt_jupyter.runtime.core.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Store


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_version_is_three_with_a_session_active_column():
    assert SCHEMA_VERSION == len(MIGRATIONS) == 3
    assert "active INTEGER NOT NULL DEFAULT 1" in MIGRATIONS[2]


def test_a_v2_store_opens_upgrades_to_v3_and_keeps_its_rows(tmp_path):
    path = tmp_path / "store.sqlite"
    write_v2_store(path)
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
