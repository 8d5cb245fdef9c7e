"""Interim results: every published object reaches the run() callback, every
stream_results subscriber (late ones get the backlog first) and the store, in
order, without loss or duplicates; also with concurrent jobs, slow and failing
subscribers, and from a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict

from conftest import wait_until

from qrt_jupyter import Batch, Session
from qrt_jupyter.runtime.execution import codec


def publish_n(ctx, n: int, tag: str = "", gate_id: str | None = None, after: int = -1):
    """Publish {"tag", "k"} for k < n; optionally pause after item ``after`` until a gate opens."""
    for k in range(n):
        ctx.publish({"tag": tag, "k": k})
        if k == after and gate_id is not None:
            while not _GATES[gate_id].wait(0.01):
                ctx.check()
    return n


_GATES: dict[str, threading.Event] = {}


def expected(tag: str, n: int) -> list[dict]:
    return [{"tag": tag, "k": k} for k in range(n)]


def stored(service, job_id: str) -> list[dict]:
    return service.store.interim(job_id)


def test_callback_subscribers_and_store_receive_everything_in_order(service):
    via_callback: list = []
    via_stream: list = []
    job = service.run(publish_n, inputs={"n": 300, "tag": "a"},
                      callback=lambda jid, x: via_callback.append((jid, x)))
    job.stream_results(lambda jid, x: via_stream.append(x))
    assert job.result(timeout=20) == 300
    want = expected("a", 300)
    assert [x for _, x in via_callback] == want
    assert {jid for jid, _ in via_callback} == {job.job_id()}
    assert via_stream == want
    assert job.interim_results() == want
    rows = stored(service, job.job_id())
    assert [r["seq"] for r in rows] == list(range(300))
    assert [codec.decode(r["payload"]) for r in rows] == want
    stamps = [r["at"] for r in rows]
    assert stamps == sorted(stamps) and stamps[0] >= job.creation_date.timestamp() - 1
    assert json.loads(rows[7]["summary"]) == {"tag": "a", "k": 7}


def test_late_subscriber_gets_the_backlog_first_then_the_rest(service):
    _GATES["late"] = threading.Event()
    job = service.run(publish_n, inputs={"n": 200, "tag": "L", "gate_id": "late",
                                         "after": 99})
    wait_until(lambda: len(job.interim_results()) == 100)
    assert job.status() == "RUNNING"
    late: list = []
    job.stream_results(lambda jid, x: late.append(x))
    wait_until(lambda: len(late) == 100)  # the backlog, before anything new is published
    assert late == expected("L", 100)
    _GATES["late"].set()
    job.result(timeout=20)
    assert late == expected("L", 200)

    after_end: list = []
    job.stream_results(lambda jid, x: after_end.append(x))  # subscribing to a finished job
    wait_until(lambda: len(after_end) == 200)
    time.sleep(0.1)
    assert after_end == expected("L", 200)


def test_three_concurrent_jobs_in_a_batch_lose_and_duplicate_nothing(service):
    n = 500
    per_job: dict[str, list] = defaultdict(list)
    lock = threading.Lock()

    def callback(job_id, item):
        with lock:
            per_job[job_id].append(item)

    streamed: dict[str, list] = defaultdict(list)
    _GATES["go"] = threading.Event()
    with Batch(backend="aer_simulator", service=service) as batch:
        jobs = [
            service.run(publish_n, inputs={"n": n, "tag": tag, "gate_id": "go", "after": 0},
                        mode=batch, callback=callback)
            for tag in "xyz"
        ]
        for job in jobs:
            job.stream_results(lambda jid, x: streamed[jid].append(x))
        # as many as the executor runs side by side (all three on 3+ cores) are started
        # before any publishes its bulk, so that their publishing overlaps
        side_by_side = min(3, service.executor.capacity)
        wait_until(lambda: sum(len(j.interim_results()) == 1 for j in jobs) == side_by_side)
        assert sum(j.status() == "RUNNING" for j in jobs) == side_by_side
        # and live: their interim results are written as they are published
        wait_until(lambda: sum(len(stored(service, j.job_id())) == 1 for j in jobs)
                   == side_by_side)
        _GATES["go"].set()
        assert [j.result(timeout=30) for j in jobs] == [n] * 3
    spans = sorted((rows[1]["at"], rows[-1]["at"])
                   for rows in (stored(service, j.job_id()) for j in jobs))
    assert spans[1][0] < spans[0][1]  # two jobs were publishing at the same time
    for job, tag in zip(jobs, "xyz"):
        want = expected(tag, n)
        assert per_job[job.job_id()] == want
        assert streamed[job.job_id()] == want
        assert job.interim_results() == want
        rows = stored(service, job.job_id())
        assert [r["seq"] for r in rows] == list(range(n))
        assert [codec.decode(r["payload"]) for r in rows] == want


def test_slow_subscriber_gets_everything_and_does_not_slow_the_job(service):
    slow: list = []
    fast: list = []

    def sleepy(job_id, item):
        time.sleep(0.01)
        slow.append(item)

    job = service.run(publish_n, inputs={"n": 100, "tag": "s"}, callback=sleepy)
    job.stream_results(lambda jid, x: fast.append(x))
    job.wait_for_final_state(20)
    # the job ended well before the slow subscriber could have seen all 100 (≥ 1 s)
    assert len(slow) < 100
    assert job.status() == "DONE"
    assert job.result(timeout=20) == 100  # result() waits for the subscribers to catch up
    assert slow == expected("s", 100)
    assert fast == expected("s", 100)


def test_a_raising_subscriber_is_logged_and_stops_nothing(service):
    good: list = []
    seen_by_bad: list = []

    def bad(job_id, item):
        seen_by_bad.append(item)
        if item["k"] % 10 == 3:
            raise RuntimeError(f"subscriber broke at {item['k']}")

    job = service.run(publish_n, inputs={"n": 50, "tag": "b"}, callback=bad)
    job.stream_results(lambda jid, x: good.append(x))
    assert job.result(timeout=20) == 50
    assert job.status() == "DONE"
    assert good == expected("b", 50)
    assert seen_by_bad == expected("b", 50)  # it kept receiving after raising
    logs = job.logs()
    assert "subscriber broke at 3" in logs and "subscriber broke at 43" in logs
    assert logs.count("RuntimeError") == 5


def test_interim_results_from_a_new_process(service, qrt_home):
    with Session(backend="aer_simulator", service=service) as session:
        job = service.run(publish_n, inputs={"n": 250, "tag": "p"}, mode=session)
        job.result(timeout=20)
    script = (
        "import json, sys\n"
        "from qrt_jupyter import LocalRuntimeService\n"
        "job = LocalRuntimeService().job(sys.argv[1])\n"
        "streamed = []\n"
        "job.stream_results(lambda jid, x: streamed.append(x))\n"
        "import time; deadline = time.time() + 10\n"
        "while len(streamed) < 250 and time.time() < deadline: time.sleep(0.05)\n"
        "print(json.dumps({'status': job.status(), 'interim': job.interim_results(),\n"
        "                  'streamed': streamed, 'result': job.result()}))\n"
    )
    env = {**os.environ, "QRT_HOME": str(qrt_home)}
    out = subprocess.run([sys.executable, "-c", script, job.job_id()], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["status"] == "DONE"
    assert seen["interim"] == expected("p", 250)
    assert seen["streamed"] == expected("p", 250)
    assert seen["result"] == 250


def test_a_cancelled_jobs_interim_results_are_all_kept(service):
    _GATES["half"] = threading.Event()
    got: list = []
    job = service.run(publish_n, inputs={"n": 1000, "tag": "c", "gate_id": "half",
                                         "after": 49}, callback=lambda jid, x: got.append(x))
    wait_until(lambda: len(job.interim_results()) == 50)
    job.cancel()
    job.wait_for_final_state(5)
    assert job.status() == "CANCELLED"
    wait_until(lambda: len(got) == 50)
    assert got == job.interim_results() == expected("c", 50)
    assert len(stored(service, job.job_id())) == 50
