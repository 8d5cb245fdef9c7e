"""Store faults, with real faults: a full disk (a small tmpfs), a write lock held by another
process, a read-only mount; and the reaper, which must never fail the caller for them.

Mounting needs root, as the CI machines have; every mount is undone in the fixture's
teardown.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import measured_bell, write_v2_store

from qrt_jupyter import LocalRuntimeService, SamplerV2
from qrt_jupyter.errors import StoreBusyError, StoreError, StoreFullError, StoreReadOnlyError
from qrt_jupyter.runtime.core.store import Store


# -- real faults -----------------------------------------------------------------------------
def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)} failed (needs root): {done.stderr}"


def _mount_tmpfs(folder: Path, size: str = "2m") -> None:
    folder.mkdir(exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))


def _unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted for the test."""
    mount = tmp_path / "disk"
    _mount_tmpfs(mount)
    try:
        yield mount
    finally:
        _unmount(mount)


def _fill(folder: Path) -> Path:
    """Write a file until the disk says ENOSPC; returns it (delete it to free the disk)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, b"\0" * 65536)  # unbuffered: nothing is left to fail on close
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def _remount_read_only(folder: Path) -> None:
    _run("mount", "-o", "remount,ro", str(folder))


def _job(store: Store, job_id: str, *, owner: str | None = None, done: bool = True) -> None:
    store.insert_job(job_id, session_id=None, kind="sampler", program=None,
                     backend="aer_simulator", created=time.time(), tags=["t"], inputs={},
                     options={})
    if owner is not None:  # as if another process had submitted it
        with store._tx() as (conn, _seq):
            conn.execute("UPDATE jobs SET owner = ? WHERE id = ?", (owner, job_id))
    if done:
        store.finish_job(job_id, status="DONE", at=time.time(), metrics={}, result=b"r")


def _dead_owner() -> str:
    """The owner string of a process of this host that does not run."""
    return f"{socket.gethostname()}:{2**22 + 12345}:1"


def _interim_until_full(store: Store, job_id: str) -> StoreFullError:
    for seq in range(200):  # the file and its WAL may take a few pages before the disk refuses
        try:
            store.add_interim(job_id, [(seq, time.time(), os.urandom(65536), "s")])
        except StoreFullError as exc:
            return exc
    raise AssertionError("the disk never filled")


# -- a full disk -----------------------------------------------------------------------------
def test_full_disk_raises_store_full_error_and_writes_resume_once_freed(small_disk):
    path = small_disk / "store.sqlite"
    store = Store(path)
    _job(store, "before", done=False)
    filler = _fill(small_disk)
    error = _interim_until_full(store, "before")
    assert "is full" in str(error) and str(small_disk) in str(error)
    assert "no transaction is active" not in str(error)
    assert error.path == path
    with pytest.raises(StoreFullError, match="is full"):  # the next write says the same
        _job(store, "refused")
    assert not store._conn.in_transaction
    assert store.get_job("before")["status"] == "QUEUED"  # reads still work
    assert store.get_job("refused") is None
    filler.unlink()
    _job(store, "after")
    store.finish_job("before", status="DONE", at=time.time(), metrics={"n": 1})
    store.close()
    again = Store(path)
    try:
        assert again.get_job("after")["status"] == "DONE"
        assert again.get_job("before")["metrics"] == {"n": 1}
        assert [e["status"] for e in again.job_events("after")] == ["QUEUED", "DONE"]
    finally:
        again.close()


def test_a_store_on_a_full_disk_opens_for_reading(small_disk):
    """No writer left: SQLite cannot even create the WAL index, the store is read as is."""
    path = small_disk / "store.sqlite"
    store = Store(path)
    _job(store, "kept")
    store.close()
    assert sorted(p.name for p in small_disk.iterdir()) == ["store.sqlite"]
    filler = _fill(small_disk)
    store = Store(path)
    try:
        assert store.get_job("kept")["status"] == "DONE"
        assert [j["id"] for j in store.list_jobs()] == ["kept"]
        assert store.reap_orphans() == 0
        with pytest.raises(StoreFullError, match="is full"):
            _job(store, "refused")
        filler.unlink()
        _job(store, "written")  # reopened normally before the write
        assert {j["id"] for j in store.list_jobs()} == {"kept", "written"}
    finally:
        store.close()


def test_full_disk_under_a_service_says_so_and_the_service_recovers(small_disk):
    service = LocalRuntimeService(small_disk / "store.sqlite")
    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    done = sampler.run([measured_bell()], shots=10)
    done.result(timeout=60)
    filler = _fill(small_disk)
    with pytest.raises(StoreError, match="disk holding QRT_HOME .* is full") as info:
        for _ in range(200):  # the WAL may hold a few pages before the disk refuses
            sampler.run([measured_bell()], shots=10).result(timeout=60)
    assert isinstance(info.value, StoreFullError)
    assert "no transaction is active" not in str(info.value)
    assert str(small_disk) in str(info.value)
    # reading still works, and so does opening a new service on the full disk
    again = LocalRuntimeService(small_disk / "store.sqlite")
    assert again.job(done.job_id()).status() == "DONE"
    os.remove(filler)
    job = sampler.run([measured_bell()], shots=10)
    assert job.result(timeout=60)[0].data.meas.num_shots == 10
    assert again.job(job.job_id()).status() == "DONE"


# -- another process holds the write lock ----------------------------------------------------
HOLD_LOCK = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.read()  # hold the lock until the test closes stdin
    conn.execute("ROLLBACK")
""")


def test_write_lock_held_past_the_busy_timeout_raises_store_busy_error(tmp_path):
    path = tmp_path / "store.sqlite"
    store = Store(path, busy_timeout=0.3)
    _job(store, "first")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="locked by another process") as info:
            _job(store, "second")
        assert 0.25 <= time.monotonic() - started < 5
        assert info.value.path == path and str(path) in str(info.value)
        assert store.get_job("first")["status"] == "DONE"  # WAL: reads do not wait
        assert [j["id"] for j in store.list_jobs()] == ["first"]
        assert store.reap_orphans() == 0
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    _job(store, "second")
    assert {j["id"] for j in store.list_jobs()} == {"first", "second"}
    store.close()


def test_busy_timeout_defaults_to_thirty_seconds(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    try:
        assert store.busy_timeout == 30.0
        assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    finally:
        store.close()


# -- a read-only folder ----------------------------------------------------------------------
def test_read_only_mount_opens_for_reading_and_refuses_writes(small_disk):
    path = small_disk / "store.sqlite"
    store = Store(path)
    _job(store, "done")
    _job(store, "orphan", owner=_dead_owner(), done=False)  # reaping it would write
    store.close()
    _remount_read_only(small_disk)
    store = Store(path)
    try:
        assert not store.writable()
        assert {j["id"] for j in store.list_jobs()} == {"done", "orphan"}
        assert store.get_job("done")["status"] == "DONE"
        assert store.job_result("done") == b"r"
        assert store.reap_orphans() == 0  # skipped, not raised
        assert store.get_job("orphan")["status"] == "QUEUED"
        with pytest.raises(StoreReadOnlyError, match="read-only") as info:
            _job(store, "refused")
        assert info.value.path == path and str(path) in str(info.value)
        assert "writable" in str(info.value)  # the fix
    finally:
        store.close()
    assert sorted(p.name for p in small_disk.iterdir()) == ["store.sqlite"]


def test_read_only_mount_does_not_stop_a_service_from_opening(small_disk):
    path = small_disk / "store.sqlite"
    store = Store(path)
    _job(store, "done")
    _job(store, "orphan", owner=_dead_owner(), done=False)
    store.close()
    _remount_read_only(small_disk)
    service = LocalRuntimeService(path)  # reaps on opening: skipped on a read-only store
    assert service.job("done").status() == "DONE"
    assert {j.job_id() for j in service.jobs(limit=None)} == {"done", "orphan"}
    service.store.close()


def test_read_only_view_of_a_folder_another_process_writes(tmp_path):
    """A read-only bind mount: this process reads what a writer elsewhere writes."""
    folder, view = tmp_path / "rw", tmp_path / "ro"
    _mount_tmpfs(folder, "8m")
    view.mkdir()
    try:
        _run("mount", "--bind", str(folder), str(view))
        _run("mount", "-o", "remount,bind,ro", str(view))
        writer = Store(folder / "store.sqlite")
        _job(writer, "one")
        reader = Store(view / "store.sqlite")
        assert [j["id"] for j in reader.list_jobs()] == ["one"]
        _job(writer, "two")
        assert {j["id"] for j in reader.list_jobs()} == {"one", "two"}
        with pytest.raises(StoreReadOnlyError) as info:
            reader.request_cancel("one")
        assert info.value.path == view / "store.sqlite"
        assert reader.get_job("one")["cancel_requested"] == 0
        reader.close()
        writer.close()
    finally:
        _unmount(view)
        _unmount(folder)


def test_no_store_can_be_created_in_a_read_only_folder(small_disk):
    _remount_read_only(small_disk)
    with pytest.raises(StoreReadOnlyError, match="read-only") as info:
        Store(small_disk / "store.sqlite")
    assert info.value.path == small_disk / "store.sqlite"
    with pytest.raises(StoreReadOnlyError):
        Store(small_disk / "sub" / "store.sqlite")  # nor its folder
    assert list(small_disk.iterdir()) == []


def test_a_migration_that_cannot_be_written_is_a_clear_error(small_disk):
    path = small_disk / "store.sqlite"
    write_v2_store(path)
    before = path.read_bytes()
    _remount_read_only(small_disk)
    with pytest.raises(StoreReadOnlyError, match="upgrading it from schema v2 to v3"):
        Store(path)
    assert path.read_bytes() == before


# -- reaping ---------------------------------------------------------------------------------
def test_reap_orphans_marks_dead_owners_and_min_interval_throttles(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    try:
        _job(store, "a", owner=_dead_owner(), done=False)
        assert store.reap_orphans(min_interval=60) == 1  # the first call always runs
        row = store.get_job("a")
        assert row["status"] == "ERROR" and "exited" in row["error"]
        _job(store, "b", owner=_dead_owner(), done=False)
        assert store.reap_orphans(min_interval=60) == 0  # ran less than 60 s ago
        assert store.get_job("b")["status"] == "QUEUED"
        assert store.reap_orphans() == 1  # called directly: runs as before
        assert store.get_job("b")["status"] == "ERROR"
        seq = store.change_seq()
        assert store.reap_orphans() == 0 and store.change_seq() == seq  # nothing written
    finally:
        store.close()
