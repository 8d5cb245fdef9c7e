"""A short job writes RUNNING and its interim results with its final state; a long one live.

Settings.live_after decides: a job still running after it has its RUNNING state and
interim results written as they happen (other processes and the Jupyter server
read the store); one that ends sooner records them in its final transaction.
"""

from __future__ import annotations

import threading

import pytest
from conftest import measured_bell, wait_until

from qrt_jupyter import LocalRuntimeService, SamplerV2
from qrt_jupyter.runtime.core.settings import Settings
from qrt_jupyter.runtime.core.store import Store


@pytest.fixture
def service_after(qrt_home):
    """A service whose jobs go live after the given number of seconds."""
    def make(live_after: float) -> LocalRuntimeService:
        return LocalRuntimeService(qrt_home / "store.sqlite",
                                   settings=Settings(live_after=live_after))
    return make


def test_short_job_is_one_write_after_submission(service_after):
    service = service_after(30.0)
    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    sampler.run([measured_bell()], shots=10).result()  # warm up
    before = service.store.change_seq()
    job = sampler.run([measured_bell(), measured_bell()], shots=10)
    job.result()
    assert service.store.change_seq() - before == 2  # insert, then everything else
    events = [e["status"] for e in service.store.job_events(job.job_id())]
    assert events == ["QUEUED", "RUNNING", "DONE"]
    row = service.store.get_job(job.job_id())
    assert row["status"] == "DONE" and row["started"] is not None
    assert row["started"] <= row["finished"]
    stored = [r["seq"] for r in service.store.interim(job.job_id())]
    assert stored == [0, 1] and len(job.interim_results()) == 2
    assert job.metrics()["timestamps"]["running"] is not None


def test_long_job_is_running_and_streams_in_the_store(service_after):
    service = service_after(0.05)
    gate = threading.Event()

    def program(ctx):
        for k in range(3):
            ctx.publish({"k": k})
        gate.wait(30)
        ctx.publish({"k": 3})
        return "done"

    job = service.run(program)
    other = Store(service.store.path)  # what another process would read
    try:
        wait_until(lambda: (other.job_status(job.job_id()) or {}).get("status") == "RUNNING")
        wait_until(lambda: len(other.interim(job.job_id())) == 3)
        assert job._status == "RUNNING"
        gate.set()
        assert job.result() == "done"
        assert [r["seq"] for r in other.interim(job.job_id())] == [0, 1, 2, 3]
        events = [e["status"] for e in other.job_events(job.job_id())]
        assert events == ["QUEUED", "RUNNING", "DONE"]
    finally:
        gate.set()
        other.close()


def test_reading_a_running_jobs_status_writes_nothing(service_after):
    service = service_after(30.0)
    gate = threading.Event()
    job = service.run(lambda ctx: gate.wait(30))
    try:
        wait_until(lambda: job.status() == "RUNNING")
        before = service.store.change_seq()
        assert [job.status() for _ in range(5)] == ["RUNNING"] * 5
        assert job.running() and not job.in_final_state()
        assert service.store.change_seq() == before  # a getter is not a write
        assert service.store.job_status(job.job_id())["status"] == "QUEUED"
    finally:
        gate.set()
    job.result()
    events = [e["status"] for e in service.store.job_events(job.job_id())]
    assert events == ["QUEUED", "RUNNING", "DONE"]


def test_subscribers_get_every_interim_in_order(service_after):
    service = service_after(30.0)
    seen: list = []

    def program(ctx):
        return [ctx.publish({"k": k}) for k in range(5)]

    job = service.run(program, callback=lambda _id, item: seen.append(item["k"]))
    assert job.result() == [0, 1, 2, 3, 4]
    assert seen == [0, 1, 2, 3, 4]
    assert [r["seq"] for r in service.store.interim(job.job_id())] == [0, 1, 2, 3, 4]


def test_live_after_zero_writes_at_once(service_after):
    service = service_after(0)
    gate = threading.Event()

    def program(ctx):
        ctx.publish("first")
        gate.wait(30)

    job = service.run(program)
    try:
        wait_until(lambda: len(service.store.interim(job.job_id())) == 1)
        assert service.store.job_status(job.job_id())["status"] == "RUNNING"
    finally:
        gate.set()
    job.result()
