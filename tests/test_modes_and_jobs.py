"""Execution modes (job mode, Session, Batch) and the RuntimeJob API."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from conftest import bell, events, measured_bell, run_interval, slow_circuit, wait_until
from qiskit import QuantumCircuit

from qrt_jupyter import Batch, EstimatorV2, LocalRuntimeService, RuntimeJob, SamplerV2, Session
from qrt_jupyter.errors import (
    InvalidInputError,
    JobCancelledError,
    JobError,
    JobTimeoutError,
    SessionClosedError,
    SessionNotFoundError,
)
from qrt_jupyter.runtime.backends.executors import LocalExecutor


@pytest.fixture
def two_workers(qrt_home) -> LocalRuntimeService:
    """A service whose executor runs exactly two jobs at once, whatever the machine has."""
    return LocalRuntimeService(qrt_home / "two.sqlite", executor=LocalExecutor(capacity=2))


def slow_sampler_job(mode, shots: int = 300, pubs: int = 1) -> RuntimeJob:
    return SamplerV2(mode=mode).run([slow_circuit()] * pubs, shots=shots)


# -- Session ------------------------------------------------------------------
def test_session_runs_jobs_one_at_a_time_in_submission_order(service):
    with Session(service.backend("aer_simulator"), service=service) as session:
        jobs = [slow_sampler_job(session, shots=150) for _ in range(4)]
    for job in jobs:
        job.result()
    intervals = [run_interval(service, j.job_id()) for j in jobs]
    for (_, finished), (next_start, _) in zip(intervals, intervals[1:]):
        assert next_start >= finished
    assert [j.session_id for j in jobs] == [session.session_id] * 4


def test_session_jobs_run_ahead_of_job_mode_work_queued_earlier(two_workers):
    service = two_workers
    backend = service.backend("aer_simulator")
    # Occupy both workers; the first frees well before the second. Many short PUBs, because
    # Aer holds the GIL while it simulates: this thread can submit between PUBs.
    blockers = [slow_sampler_job(backend, shots=100, pubs=n) for n in (10, 30)]
    wait_until(lambda: all(b.status() == "RUNNING" for b in blockers))
    queued = [slow_sampler_job(backend, shots=30) for _ in range(2)]
    session = Session(backend, service=service)
    session_job = slow_sampler_job(session, shots=30)
    assert all(q.status() == "QUEUED" for q in queued)
    for job in [*blockers, *queued, session_job]:
        job.result()
    session_start = events(service, session_job.job_id())["RUNNING"]
    assert session_start < min(events(service, q.job_id())["RUNNING"] for q in queued)
    assert session_start >= events(service, blockers[0].job_id())["DONE"]
    session.close()


def test_batch_runs_jobs_concurrently(two_workers):
    service = two_workers
    with Batch(service.backend("aer_simulator"), service=service) as batch:
        jobs = [slow_sampler_job(batch, shots=100, pubs=6) for _ in range(2)]
    for job in jobs:
        job.result()
    (s1, f1), (s2, f2) = (run_interval(service, j.job_id()) for j in jobs)
    assert s2 < f1 and s1 < f2  # the two jobs overlapped in time
    assert batch.details()["mode"] == "batch"


def test_session_never_overlaps_even_with_free_workers(two_workers):
    service = two_workers
    with Session(service.backend("aer_simulator"), service=service) as session:
        jobs = [slow_sampler_job(session, shots=100, pubs=3) for _ in range(2)]
    (s1, f1), (s2, f2) = (run_interval(service, j.result() and j.job_id()) for j in jobs)
    assert s2 >= f1


def test_close_lets_queued_jobs_finish_and_refuses_new(service):
    session = Session(service.backend("aer_simulator"), service=service)
    jobs = [slow_sampler_job(session, shots=200) for _ in range(3)]
    session.close()
    assert session.status() == "In progress, not accepting new jobs"
    with pytest.raises(SessionClosedError):
        slow_sampler_job(session)
    for job in jobs:
        job.wait_for_final_state(30)
    assert [j.status() for j in jobs] == ["DONE"] * 3
    wait_until(lambda: session.status() == "Closed")
    assert service.session(session.session_id)["state"] == "closed"
    assert service.session(session.session_id)["jobs"] == {"DONE": 3}


def test_cancel_cancels_running_and_queued_jobs(service):
    session = Session(service.backend("aer_simulator"), service=service)
    running = slow_sampler_job(session, shots=300, pubs=20)
    queued = [slow_sampler_job(session, shots=100) for _ in range(2)]
    first = threading.Event()
    running.stream_results(lambda _id, _r: first.set())
    assert first.wait(20)
    session.cancel()
    for job in [running, *queued]:
        job.wait_for_final_state(20)
        assert job.status() == "CANCELLED"
        assert "cancelled" in job.error_message()
    assert len(running.interim_results()) < 20
    assert "RUNNING" not in events(service, queued[0].job_id())
    assert session.state == "cancelled"
    with pytest.raises(SessionClosedError, match="cancelled"):
        slow_sampler_job(session)


def test_context_manager_binds_primitives_and_closes(service):
    with Session(service.backend("aer_simulator"), service=service) as session:
        estimator = EstimatorV2()  # no mode: the session of the with block
        job = estimator.run([(bell(), "ZZ")])
        assert job.result()[0].data.evs == pytest.approx(1.0)
        assert session.status() == "In progress, accepting new jobs"
    assert job.session_id == session.session_id
    assert session.state == "closed"
    with pytest.raises(SessionClosedError):
        estimator.run([(bell(), "ZZ")])
    plain = EstimatorV2(mode=service.backend("aer_simulator")).run([(bell(), "ZZ")])
    assert plain.session_id is None


def test_status_details_and_usage(service):
    backend = service.backend("aer_simulator")
    session = Session(backend, max_time="1h30m", ttl=60, service=service)
    assert session.max_time == 5400.0
    assert session.status() == "Pending"  # until its first job starts, as on IBM Quantum
    before = session.details()  # not started yet: the whole max_time is left
    assert before["started_at"] is None and before["elapsed"] == 0.0
    assert before["active"] is False
    assert before["remaining"] == 5400.0
    job = slow_sampler_job(session, shots=200)
    job.result()
    started, finished = run_interval(service, job.job_id())
    assert session.details()["started_at"] == pytest.approx(started, abs=0.01)
    assert session.usage() == pytest.approx(finished - started, abs=0.01)
    assert session.usage() > 0
    details = session.details()
    assert details["id"] == session.session_id
    assert details["mode"] == "session"
    assert details["backend_name"] == "aer_simulator"
    assert details["state"] == "open" and details["accepting_jobs"] is True
    assert details["active"] is True
    assert session.status() == "In progress, accepting new jobs"
    assert details["max_time"] == 5400.0 and details["interactive_timeout"] == 60.0
    assert details["jobs"] == {"DONE": 1}
    assert details["usage_time"] == session.usage()
    assert 5300 < details["remaining"] <= 5400
    assert details["last_job_completed"] >= details["last_job_started"]
    session.close()
    assert session.status() == "Closed"
    assert session.details()["accepting_jobs"] is False
    assert session.backend() == "aer_simulator"


@pytest.mark.parametrize(("given", "seconds"), [
    ("1h30m", 5400.0), (90, 90.0), (2.5, 2.5), ("90s", 90.0), ("15m", 900.0), ("600", 600.0),
    ("1d2h", 93600.0),
])
def test_max_time_accepts_seconds_and_strings(service, given, seconds):
    session = Session(service.backend("aer_simulator"), max_time=given, service=service)
    assert session.max_time == seconds
    assert service.session(session.session_id)["max_time"] == seconds
    session.close()


@pytest.mark.parametrize("given", ["soon", "1x", "", 0, -5, True, "1h30"])
def test_bad_max_time(service, given):
    with pytest.raises(InvalidInputError, match="max_time"):
        Session(service.backend("aer_simulator"), max_time=given, service=service)


def test_a_session_shows_its_clock_in_a_notebook(service):
    session = Session(service.backend("aer_simulator"), max_time="1h", service=service)
    page = session._repr_html_()
    assert session.session_id in page and ">Pending<" in page and ">1h00m00s<" in page
    SamplerV2(mode=session).run([measured_bell()], shots=10).result()
    page = session._repr_html_()
    assert ">In progress, accepting new jobs<" in page and ">DONE: 1<" in page
    session.close()
    assert ">Closed<" in session._repr_html_()


def test_the_clock_starts_with_the_first_job(service):
    """As on IBM Quantum: max_time and the idle TTL do not run before the first job."""
    session = Session(service.backend("aer_simulator"), max_time=0.6, ttl=0.6, service=service)
    time.sleep(0.8)
    assert session.state == "open" and session.remaining() == 0.6
    job = SamplerV2(mode=session).run([measured_bell()], shots=10)
    assert job.result()[0].data.meas.num_shots == 10
    wait_until(lambda: service.session(session.session_id)["state"] == "expired", timeout=5)
    with pytest.raises(SessionClosedError, match="expired"):
        SamplerV2(mode=session).run([measured_bell()])


def test_idle_ttl_deactivates_and_the_next_job_reactivates(two_workers):
    """IBM's interactive TTL: an idle session is deactivated, not closed; its next job
    queues like job-mode work (behind what was queued before it) and reactivates it."""
    service = two_workers
    backend = service.backend("aer_simulator")
    session = Session(backend, ttl=2.0, service=service)
    SamplerV2(mode=session).run([measured_bell()], shots=10).result()
    assert session.status() == "In progress, accepting new jobs"
    wait_until(lambda: session.status() == "Pending", timeout=5)
    assert session.state == "open" and session.details()["active"] is False
    assert service.session(session.session_id)["state"] == "open"
    # written to the store, so the sidebar and other processes see it too
    assert service.session(session.session_id)["active"] == 0

    blockers = [slow_sampler_job(backend, shots=100, pubs=n) for n in (10, 30)]
    wait_until(lambda: all(b.status() == "RUNNING" for b in blockers))
    queued = slow_sampler_job(backend, shots=30)
    again = slow_sampler_job(session, shots=30)
    assert again.result()
    assert session.status() == "In progress, accepting new jobs"  # until idle for 2 s again
    assert session.details()["active"] is True
    assert service.session(session.session_id)["active"] == 1
    for job in [*blockers, queued]:
        assert job.result()
    assert events(service, again.job_id())["RUNNING"] > events(service, queued.job_id())["RUNNING"]


def test_max_time_cancels_queued_jobs_and_lets_the_running_one_finish(qrt_home):
    # As on IBM Quantum. Both session jobs are submitted while a job-mode job holds the
    # only worker, so the session's clock has not started yet however slow the submits;
    # the first must still run when max_time (1 s from its start) ends: ~4.5 s of work
    # here, so a machine 4x faster still shows it.
    service = LocalRuntimeService(qrt_home / "one.sqlite", executor=LocalExecutor(capacity=1))
    backend = service.backend("aer_simulator")
    blocker = slow_sampler_job(backend, shots=300, pubs=10)
    num_pubs = 50
    session = Session(backend, max_time=1.0, service=service)
    running = slow_sampler_job(session, shots=300, pubs=num_pubs)
    queued = slow_sampler_job(session, shots=100)
    assert blocker.result()
    queued.wait_for_final_state(20)
    assert queued.status() == "CANCELLED"
    assert "max_time" in queued.error_message()
    assert "RUNNING" not in events(service, queued.job_id())
    assert session.state == "expired"
    assert running.status() == "RUNNING"
    assert session.status() == "In progress, not accepting new jobs"
    assert len(running.result()) == num_pubs
    assert session.status() == "Closed"
    assert running.status() == "DONE"
    assert service.session(session.session_id)["closed"] < events(service, running.job_id())["DONE"]
    assert session.details()["started_at"] >= events(service, blocker.job_id())["DONE"]
    with pytest.raises(SessionClosedError, match="max_time"):
        slow_sampler_job(session)


def test_from_id_finds_the_session_of_this_process(service):
    session = Session(service.backend("aer_simulator"), service=service)
    session_id = session.session_id
    assert Session.from_id(session_id, service=service) is session
    job = SamplerV2(mode=Session.from_id(session_id)).run([measured_bell()], shots=10)
    assert job.session_id == session_id and job.result()[0].data.meas.num_shots == 10
    with pytest.raises(InvalidInputError, match=r"Session.from_id"):
        Batch.from_id(session_id)
    batch = Batch(service.backend("aer_simulator"), service=service)
    assert Batch.from_id(batch.session_id) is batch
    with pytest.raises(SessionNotFoundError, match="No session 'nope'"):
        Session.from_id("nope", service=service)
    session.close()  # still this process's object: its details stay readable
    again = Session.from_id(session_id, service=service)
    assert again is session and again.details()["jobs"] == {"DONE": 1}
    with pytest.raises(SessionClosedError, match="closed"):
        SamplerV2(mode=again).run([measured_bell()])
    batch.close()


# -- RuntimeJob -----------------------------------------------------------------
def test_runtime_job_api(service):
    backend = service.backend("aer_simulator")
    before = dt.datetime.now(dt.timezone.utc)
    with Session(backend, service=service) as session:
        estimator = EstimatorV2(mode=session, options={"environment.job_tags": ["t1", "t2"]})
        job = estimator.run([(bell(), ["ZZ", "XX"])])
    assert isinstance(job, RuntimeJob)
    assert re.fullmatch(r"[0-9a-f]{20}", job.job_id())
    assert job.status() in ("QUEUED", "RUNNING", "DONE")
    result = job.result()
    assert list(result[0].data.evs) == pytest.approx([1.0, 1.0])
    assert job.status() == "DONE"
    assert job.done() and job.in_final_state() and not job.running()
    assert job.wait_for_final_state(0.01) is None
    assert job.error_message() is None
    assert job.cancel() is False
    assert job.session_id == session.session_id
    assert job.tags == ["t1", "t2"]
    assert job.backend() is backend
    assert job.primitive_id == "estimator"
    assert job.inputs == {"pubs": [{"num_qubits": 2, "shape": [2], "precision": 0.0,
                                    "name": "bell"}]}
    assert before <= job.creation_date <= dt.datetime.now(dt.timezone.utc)
    metrics = job.metrics()
    stamps = {k: dt.datetime.fromisoformat(v) for k, v in metrics["timestamps"].items()}
    assert stamps["created"] <= stamps["running"] <= stamps["finished"]
    assert metrics["usage"]["seconds"] > 0
    assert metrics["usage"]["quantum_seconds"] > 0
    assert metrics["transpile_cache"] == {"hits": 0, "misses": 1}
    assert metrics["options_applied"] == {"environment.job_tags": ["t1", "t2"]}
    assert job.usage() == metrics["usage"]["seconds"]
    assert job.logs() == ""
    assert service.job(job.job_id()) is job
    assert [j.job_id() for j in service.jobs(tags=["t2"])] == [job.job_id()]


def test_result_timeout_raises(service):
    job = slow_sampler_job(service.backend("aer_simulator"), shots=300, pubs=10)
    with pytest.raises(JobTimeoutError):
        job.result(timeout=0.01)
    with pytest.raises(TimeoutError):
        job.wait_for_final_state(0.01)
    assert not job.in_final_state()
    assert job.cancel() is True
    job.wait_for_final_state(20)


def test_cancel_a_running_job_stops_it_between_pubs(service):
    num_pubs = 20
    job = slow_sampler_job(service.backend("aer_simulator"), shots=300, pubs=num_pubs)
    first = threading.Event()
    job.stream_results(lambda _id, _r: first.set())
    assert first.wait(20)
    assert job.running()
    assert job.cancel() is True
    job.wait_for_final_state(20)
    assert job.status() == "CANCELLED"
    assert 1 <= len(job.interim_results()) < num_pubs
    assert job.error_message() == "Cancelled by the user."
    with pytest.raises(JobCancelledError):
        job.result()
    assert "Cancelled by the user." in job.logs()
    assert [e["status"] for e in service.store.job_events(job.job_id())] == [
        "QUEUED", "RUNNING", "CANCELLED"]
    assert service.store.get_job(job.job_id())["status"] == "CANCELLED"


def test_cancel_a_queued_job(qrt_home):
    service = LocalRuntimeService(qrt_home / "one.sqlite", executor=LocalExecutor(capacity=1))
    backend = service.backend("aer_simulator")
    blocker = slow_sampler_job(backend, shots=300, pubs=3)
    queued = slow_sampler_job(backend, shots=10)
    assert queued.status() == "QUEUED"
    assert queued.cancel() is True
    assert queued.status() == "CANCELLED"
    assert blocker.result()[0].data.c.num_shots == 300
    assert "RUNNING" not in events(service, queued.job_id())


def test_a_failing_job_reports_its_error(service):
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.t(0)  # not a Clifford gate: the stabilizer method refuses it
    circuit.measure_all()
    job = SamplerV2(mode=service.backend("aer_simulator_stabilizer")).run([circuit], shots=10)
    job.wait_for_final_state(20)
    assert job.status() == "ERROR"
    assert "stabilizer" in job.error_message()
    with pytest.raises(JobError, match="stabilizer"):
        job.result()
    assert "Traceback" in job.logs()
    assert service.store.get_job(job.job_id())["error"] == job.error_message()


def test_max_execution_time_stops_a_job_with_error(service):
    sampler = SamplerV2(mode=service.backend("aer_simulator"),
                        options={"max_execution_time": 0.2})
    job = sampler.run([slow_circuit()] * 30, shots=300)
    job.wait_for_final_state(20)
    assert job.status() == "ERROR"
    assert "max_execution_time" in job.error_message()
    assert len(job.interim_results()) < 30


def test_interim_results_arrive_in_order_to_every_subscriber(service):
    seen: list = []
    sampler = SamplerV2(mode=service.backend("aer_simulator"),
                        options={"environment": {"callback": lambda i, r: seen.append((i, r))}})
    job = sampler.run([measured_bell()] * 6, shots=10)
    other: list = []
    job.stream_results(lambda i, r: other.append(r))
    job.result()
    expected = [{"kind": "progress", "pub": i, "done": i + 1, "of": 6} for i in range(6)]
    assert job.interim_results() == expected
    assert seen == [(job.job_id(), r) for r in expected]
    assert other == expected
    stored = service.store.interim(job.job_id())
    assert [r["seq"] for r in stored] == list(range(6))


def test_late_subscriber_gets_the_backlog(service):
    job = SamplerV2(mode=service.backend("aer_simulator")).run([measured_bell()] * 4, shots=10)
    job.result()
    late: list = []
    job.stream_results(lambda i, r: late.append(r["done"]))
    wait_until(lambda: len(late) == 4)
    assert late == [1, 2, 3, 4]


def test_a_raising_subscriber_is_logged_and_does_not_stop_the_job(service):
    def broken(_job_id, _result):
        raise ValueError("subscriber boom")

    good: list = []
    job = slow_sampler_job(service.backend("aer_simulator"), shots=50, pubs=4)
    job.stream_results(broken)
    job.stream_results(lambda i, r: good.append(r["done"]))
    result = job.result()
    assert job.status() == "DONE"
    assert len(result) == 4
    assert good == [1, 2, 3, 4]
    logs = job.logs()
    assert "subscriber boom" in logs and "broken" in logs
    assert logs.count("subscriber boom") == 4
