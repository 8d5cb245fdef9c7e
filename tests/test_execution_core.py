"""The execution core: per-job cache counts under a Batch, one context type, start checks,
exit handling, and a job whose final write meets a locked store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import measured_bell, slow_circuit, wait_until
from qiskit import QuantumCircuit

from qrt_jupyter import Batch, LocalRuntimeService, SamplerV2, Session
from qrt_jupyter.runtime.core.settings import Settings
from qrt_jupyter.runtime.core.store import Store
from qrt_jupyter.runtime.execution import watcher


def _distinct_circuits(job_index: int, count: int) -> list[QuantumCircuit]:
    """``count`` circuits of distinct structure, distinct from every other job's too."""
    circuits = []
    for k in range(count):
        qc = QuantumCircuit(3)
        for _ in range(job_index * count + k + 1):
            qc.rx(0.1, 0)
        qc.cx(0, 1)
        qc.measure_all()
        circuits.append(qc)
    return circuits


def test_concurrent_batch_jobs_each_count_their_own_cache_misses(service):
    with Batch(backend="aer_simulator", service=service) as batch:
        jobs = [SamplerV2(mode=batch).run(_distinct_circuits(j, 8), shots=20)
                for j in range(4)]
        results = [job.result(timeout=120) for job in jobs]
    misses = [job.metrics()["transpile_cache"]["misses"] for job in jobs]
    hits = [job.metrics()["transpile_cache"]["hits"] for job in jobs]
    assert misses == [8, 8, 8, 8] and sum(misses) == 32
    assert hits == [0, 0, 0, 0]
    assert all(r.metadata["transpile_cache"] == {"hits": 0, "misses": 8} for r in results)
    # the same circuits again in the same batch's cache: all hits, counted per job
    with Batch(backend="aer_simulator", service=service) as batch:
        first = SamplerV2(mode=batch).run(_distinct_circuits(0, 8), shots=20)
        again = SamplerV2(mode=batch).run(_distinct_circuits(0, 8), shots=20)
        first.result(timeout=60)
        again.result(timeout=60)
    total = [first.metrics()["transpile_cache"], again.metrics()["transpile_cache"]]
    assert sum(t["misses"] for t in total) == 8 and sum(t["hits"] for t in total) == 8


def test_program_primitives_run_inside_the_job_and_keep_their_own_metrics(service):
    def program(ctx):
        sampler = ctx.sampler()
        first = sampler.run([measured_bell()], shots=30).result()
        second = sampler.run([measured_bell()], shots=30).result()
        ctx.publish({"done": True})
        return [first.metadata["transpile_cache"], second.metadata["transpile_cache"]]

    with Session(backend="aer_simulator", service=service) as session:
        job = service.run(program, mode=session)
        first, second = job.result(timeout=60)
    assert first == {"hits": 0, "misses": 1} and second == {"hits": 1, "misses": 0}
    # only what the program published: the primitives' progress records are not in it
    assert job.interim_results() == [{"done": True}]
    assert job.metrics()["usage"]["quantum_seconds"] > 0


def test_a_queued_session_job_never_starts_after_max_time(service):
    """The start check reads the clock itself, not what the watcher saw last."""
    gate = threading.Event()
    with Session(backend="aer_simulator", service=service, max_time=0.5) as session:
        holder = service.run(lambda ctx: gate.wait(30), mode=session)
        queued = SamplerV2(mode=session).run([measured_bell()], shots=10)
        wait_until(lambda: holder.status() == "RUNNING")
        time.sleep(0.6)  # past max_time while the first job still runs
        gate.set()
        holder.result(timeout=30)
        queued.wait_for_final_state(30)
    assert holder.status() == "DONE"  # a running job finishes, as on IBM Quantum
    assert queued.status() == "CANCELLED"
    assert "max_time" in queued.error_message()
    assert queued.started is None


def test_watcher_tick_hook_replaces_sleeping(service):
    """Tests wait for the watcher's next ticks instead of sleeping a guessed time."""
    job = SamplerV2(mode=service.backend("aer_simulator")).run([slow_circuit()] * 300,
                                                               shots=200)
    wait_until(lambda: job.status() in ("RUNNING", "DONE"))
    Store(service.store.path).request_cancel(job.job_id())
    assert watcher.wait_ticks(2, timeout=10)
    job.wait_for_final_state(60)
    assert job.status() == "CANCELLED"


_SCRIPT = """
import sys, threading
from qrt_jupyter import LocalRuntimeService, Batch
service = LocalRuntimeService(sys.argv[1])
gate = threading.Event()
with Batch(backend="aer_simulator", service=service) as batch:
    jobs = [service.run(lambda ctx: gate.wait(60), mode=batch) for _ in range(6)]
    while sum(j.status() == "RUNNING" for j in jobs) < 1:
        pass
    print(",".join(j.job_id() for j in jobs), flush=True)
    sys.exit(3)
"""


def test_exiting_with_unfinished_jobs_records_them_at_once(qrt_home):
    path = qrt_home / "exit.sqlite"
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(_SCRIPT), str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr
    ids = out.stdout.strip().split(",")
    store = Store(path)
    try:
        rows = [store.job_status(i) for i in ids]
        statuses = [r["status"] for r in rows]
        assert "RUNNING" not in statuses and "QUEUED" not in statuses
        assert "ERROR" in statuses  # the running ones
        for r in rows:
            if r["status"] == "ERROR":
                assert "process exited before the job finished" in r["error"]
    finally:
        store.close()


_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_final_write_against_a_locked_store_ends_the_job_and_is_written_later(qrt_home):
    path = qrt_home / "locked.sqlite"
    service = LocalRuntimeService(path, settings=Settings(live_after=30.0))
    service.store._conn.execute("PRAGMA busy_timeout=200")  # give up fast on the lock
    gate = threading.Event()

    def program(ctx):
        for k in range(50):
            ctx.publish({"k": k})
        gate.wait(30)
        return "finished"

    job = service.run(program)
    wait_until(lambda: len(job.interim_results()) == 50)
    locker = subprocess.Popen([sys.executable, "-c", _LOCKER, str(path)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert locker.stdout.readline().strip() == "locked"
        gate.set()
        job.wait_for_final_state(timeout=20)  # the job ends though the store is locked
        assert job.status() == "ERROR"
        assert "store could not record it" in job.error_message()
        assert "0 to 49" in job.error_message()
        with pytest.raises(Exception, match="store could not record it"):
            job.result(timeout=5)
    finally:
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(10)
    # once writable, the store holds the final state and every interim result in order
    reader = Store(path)
    try:
        wait_until(lambda: reader.job_status(job.job_id())["status"] == "ERROR", timeout=30)
        assert [r["seq"] for r in reader.interim(job.job_id())] == list(range(50))
    finally:
        reader.close()
