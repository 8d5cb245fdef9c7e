"""The SQLite store: durable, shared between processes, never touching files not its own."""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import bell, measured_bell, param_circuit, wait_until, write_v2_store

from qrt_jupyter import EstimatorV2, LocalRuntimeService, SamplerV2, Session
from qrt_jupyter.errors import (
    InvalidInputError,
    JobNotFoundError,
    SessionClosedError,
    StoreError,
)
from qrt_jupyter.runtime.core.store import APPLICATION_ID, SCHEMA_VERSION, Store

TESTS = Path(__file__).parent


def python(code: str, home: Path, timeout: float = 60, **kwargs) -> subprocess.Popen:
    """Start a new Python process with the same QRT_HOME, running ``code``."""
    env = dict(os.environ, QRT_HOME=str(home), PYTHONPATH=str(TESTS))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def finish(proc: subprocess.Popen, timeout: float = 90) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def assert_results_equal(a, b) -> None:
    assert len(a) == len(b)
    assert a.metadata == b.metadata
    for x, y in zip(a, b):
        assert type(x) is type(y)
        assert x.metadata == y.metadata
        assert sorted(x.data.keys()) == sorted(y.data.keys())
        assert x.data.shape == y.data.shape
        for key in x.data.keys():
            u, v = x.data[key], y.data[key]
            if hasattr(u, "array"):
                assert u.num_bits == v.num_bits
                u, v = u.array, v.array
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)


def test_store_lives_under_qrt_home_in_wal_mode(qrt_home):
    service = LocalRuntimeService()
    assert service.store.path == qrt_home / "store.sqlite"
    conn = sqlite3.connect(service.store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"sessions", "jobs", "job_events", "job_logs", "interim"} <= tables


def test_final_state_is_durable_when_result_returns(service):
    job = EstimatorV2(mode=service.backend("aer_simulator")).run([(bell(), "ZZ")])
    job.result()
    row = service.store.get_job(job.job_id())
    assert row["status"] == "DONE" and row["finished"] is not None
    assert service.store.job_result(job.job_id()) is not None
    assert [e["status"] for e in service.store.job_events(job.job_id())] == [
        "QUEUED", "RUNNING", "DONE"]


def test_result_found_from_a_new_process(service, qrt_home):
    with Session(service.backend("aer_simulator"), service=service) as session:
        values = np.random.default_rng(0).uniform(size=(4, 3))
        est = EstimatorV2(mode=session, options={"environment.job_tags": ["x"]}).run([
            (param_circuit(3, 3), [["ZZI"], ["XIX"]], values),
            (bell(), "ZZ", None, 0.05),
        ])
        circuit = param_circuit(3, 2)
        circuit.measure_all()
        smp = SamplerV2(mode=session).run([(circuit, np.zeros((2, 2))), measured_bell()], shots=32)
    expected = {est.job_id(): est.result(), smp.job_id(): smp.result()}
    out_file = qrt_home / "seen.pkl"
    finish(python(f"""
        import pickle
        from qrt_jupyter import LocalRuntimeService
        service = LocalRuntimeService()
        seen = {{}}
        for job_id in {list(expected)!r}:
            job = service.job(job_id)
            seen[job_id] = dict(
                result=job.result(), status=job.status(), session_id=job.session_id,
                tags=job.tags, interim=job.interim_results(), inputs=job.inputs,
                metrics=job.metrics(), done=job.done(), backend=job.backend().name,
            )
        pickle.dump(seen, open({str(out_file)!r}, "wb"))
    """, qrt_home))
    seen = pickle.loads(out_file.read_bytes())
    for job in (est, smp):
        other = seen[job.job_id()]
        assert_results_equal(other["result"], expected[job.job_id()])
        assert other["status"] == "DONE" and other["done"] is True
        assert other["session_id"] == session.session_id
        assert other["interim"] == job.interim_results()
        assert other["inputs"] == job.inputs
        assert other["metrics"]["transpile_cache"] == job.metrics()["transpile_cache"]
        assert other["backend"] == "aer_simulator"
    assert seen[est.job_id()]["tags"] == ["x"]


def test_two_processes_writing_at_once_lose_nothing(qrt_home):
    LocalRuntimeService()  # create the store first: both writers then open the same file
    code = """
        import sys
        from conftest import measured_bell
        from qrt_jupyter import LocalRuntimeService, SamplerV2
        service = LocalRuntimeService()
        sampler = SamplerV2(mode=service.backend("aer_simulator"),
                            options={{"environment.job_tags": ["{tag}"]}})
        jobs = [sampler.run([measured_bell()], shots=5) for _ in range(15)]
        for job in jobs:
            job.result()
        print(",".join(j.job_id() for j in jobs))
    """
    procs = [python(code.format(tag=tag), qrt_home) for tag in ("a", "b")]
    ids = [finish(p).strip().split(",") for p in procs]
    service = LocalRuntimeService()
    assert service.store.count_jobs() == 30
    assert service.store.count_jobs(status="DONE") == 30
    for tag, written in zip("ab", ids):
        found = {j.job_id() for j in service.jobs(limit=None, tags=[tag])}
        assert found == set(written)
    for job_id in ids[0] + ids[1]:
        assert service.job(job_id).result()[0].data.meas.num_shots == 5


def test_job_of_a_process_that_died_is_marked_error(qrt_home):
    proc = python("""
        import os, sys, time
        from conftest import slow_circuit
        from qrt_jupyter import LocalRuntimeService, SamplerV2, Session
        service = LocalRuntimeService()
        session = Session(service.backend("aer_simulator"), service=service)
        sampler = SamplerV2(mode=session)
        running = sampler.run([slow_circuit()] * 200, shots=200)
        queued = sampler.run([slow_circuit()], shots=10)
        while running.status() != "RUNNING":
            time.sleep(0.01)
        print(running.job_id(), queued.job_id(), session.session_id, flush=True)
        os._exit(0)
    """, qrt_home)
    running_id, queued_id, session_id = finish(proc).split()
    service = LocalRuntimeService()
    for job_id in (running_id, queued_id):
        job = service.job(job_id)
        assert job.status() == "ERROR"
        assert "exited" in job.error_message()
        assert str(proc.pid) in job.error_message()
        assert job.in_final_state()
    assert service.session(session_id)["state"] == "closed"
    assert service.jobs(pending=True) == []


def test_cancel_from_another_process_is_honoured_by_the_owner(qrt_home):
    proc = python("""
        from conftest import slow_circuit
        from qrt_jupyter import LocalRuntimeService, SamplerV2
        service = LocalRuntimeService()
        job = SamplerV2(mode=service.backend("aer_simulator")).run([slow_circuit()] * 300,
                                                                   shots=200)
        print(job.job_id(), flush=True)
        job.wait_for_final_state(60)
        print(job.status(), len(job.interim_results()), flush=True)
    """, qrt_home)
    job_id = proc.stdout.readline().strip()
    service = LocalRuntimeService()
    job = service.job(job_id)
    wait_until(lambda: job.status() == "RUNNING")
    assert job.cancel() is True
    status, published = finish(proc).split()
    assert status == "CANCELLED"
    assert int(published) < 300
    assert service.job(job_id).status() == "CANCELLED"


@pytest.mark.parametrize("content", [
    b"this is not a database at all, but it is long enough to look like a file" * 20,
    bytes(range(256)) * 16,
])
def test_corrupt_file_gives_store_error_and_is_left_unchanged(tmp_path, content):
    path = tmp_path / "store.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="left untouched"):
        LocalRuntimeService(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]


def test_foreign_sqlite_file_gives_store_error_and_is_left_unchanged(tmp_path):
    path = tmp_path / "store.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE jobs (id TEXT, payload TEXT)")
    conn.execute("INSERT INTO jobs VALUES ('1', 'precious')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="did not create"):
        LocalRuntimeService(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]


def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "store.sqlite"
    LocalRuntimeService(path).store.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer"):
        LocalRuntimeService(path)
    assert path.read_bytes() == before


def test_reopening_keeps_jobs_and_schema(qrt_home):
    first = LocalRuntimeService()
    job = EstimatorV2(mode=first.backend("aer_simulator")).run([(bell(), "XX")])
    job.result()
    again = LocalRuntimeService()
    assert again.store.count_jobs() == 1
    conn = sqlite3.connect(again.store.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_jobs_filters_and_delete(service):
    backend = service.backend("aer_simulator")
    plain = SamplerV2(mode=backend, options={"environment.job_tags": ["p"]}).run(
        [measured_bell()], shots=5)
    plain.result()
    with Session(backend, service=service) as session:
        in_session = [SamplerV2(mode=session).run([measured_bell()], shots=5) for _ in range(3)]
    for job in in_session:
        job.result()
    newest_first = [j.job_id() for j in service.jobs(limit=None)]
    assert newest_first == [j.job_id() for j in reversed([plain, *in_session])]
    assert len(service.jobs(limit=2)) == 2
    assert [j.job_id() for j in service.jobs(limit=None, skip=3)] == [plain.job_id()]
    assert {j.job_id() for j in service.jobs(limit=None, session_id=session.session_id)} == {
        j.job_id() for j in in_session}
    assert [j.job_id() for j in service.jobs(tags=["p"])] == [plain.job_id()]
    assert service.jobs(pending=True) == []
    assert len(service.jobs(limit=None, pending=False)) == 4
    after = service.store.get_job(in_session[0].job_id())["created"]
    assert [j.job_id() for j in service.jobs(limit=None, created_after=after)] == [
        j.job_id() for j in reversed(in_session[1:])]
    service.delete_job(plain.job_id())
    with pytest.raises(JobNotFoundError):
        service.job(plain.job_id())
    assert service.store.count_jobs() == 3


def test_deleting_an_unfinished_job_is_refused(service):
    from conftest import slow_circuit

    job = SamplerV2(mode=service.backend("aer_simulator")).run([slow_circuit()] * 20, shots=200)
    with pytest.raises(InvalidInputError, match="cancel it"):
        service.delete_job(job.job_id())
    job.cancel()
    job.wait_for_final_state(20)
    service.delete_job(job.job_id())
    assert service.store.count_jobs() == 0


def test_one_watcher_serves_every_service_and_lets_unused_ones_go(tmp_path):
    import gc
    import threading
    import weakref

    from conftest import slow_circuit

    def cancelled_from_the_store(name: str) -> weakref.ref:
        """Run a job on a new service, cancel it as the sidebar does; its engine's ref."""
        service = LocalRuntimeService(tmp_path / name / "store.sqlite")
        job = SamplerV2(mode=service.backend("aer_simulator")).run([slow_circuit()] * 300,
                                                                   shots=200)
        wait_until(lambda: job.status() in ("RUNNING", "DONE"))
        Store(service.store.path).request_cancel(job.job_id())  # another party's request
        job.wait_for_final_state(60)
        assert job.status() == "CANCELLED"
        return weakref.ref(service.engine)

    kept = cancelled_from_the_store("a")()  # this one stays referenced
    gone = cancelled_from_the_store("b")
    watchers = [t for t in threading.enumerate() if t.name == "qrt-watcher"]
    assert len(watchers) == 1
    # nothing of the runtime (watcher, scheduler workers, live writer) keeps a service that
    # its user has dropped
    wait_until(lambda: (gc.collect(), gone() is None)[1], timeout=5)
    assert kept is not None and watchers[0].is_alive()


def test_session_from_id_of_another_process_says_where_it_runs(qrt_home):
    proc = python("""
        import sys
        from qrt_jupyter import Session
        session = Session("aer_simulator")
        closed = Session("aer_simulator")
        closed.close()
        print(session.session_id, closed.session_id, flush=True)
        sys.stdin.read()  # stay alive, the session open, until the test closes stdin
    """, qrt_home, stdin=subprocess.PIPE)
    session_id, closed_id = proc.stdout.readline().split()
    service = LocalRuntimeService()
    with pytest.raises(SessionClosedError, match="it is closed"):
        Session.from_id(closed_id, service=service)
    with pytest.raises(InvalidInputError, match=f"another process \\(pid {proc.pid}\\)"):
        Session.from_id(session_id, service=service)
    proc.communicate("", timeout=60)  # the process exits with its session open in the store
    with pytest.raises(SessionClosedError, match="its process exited") as err:
        Session.from_id(session_id, service=service)
    assert "Session(backend='aer_simulator')" in str(err.value)
    assert service.store.get_session(session_id)["state"] == "open"  # nothing written


def test_a_v2_store_opens_and_upgrades_to_v3_keeping_its_rows(tmp_path):
    path = tmp_path / "v2.sqlite"
    write_v2_store(path)
    store = Store(path)
    try:
        assert store.get_session("s2")["active"] == 1  # the new column, with its default
        assert store.get_job("j2")["status"] == "DONE"
        store.update_session("s2", active=0)
        assert store.get_session("s2")["active"] == 0
    finally:
        store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()
