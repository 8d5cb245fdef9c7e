"""The sidebar's REST API against a real jupyter_server and a store where jobs ran on Aer.

Every endpoint of the contract the JupyterLab front end is built against is
pinned here: the shape of each model, filters and paging, interim results
after a sequence number, the long-poll, cancel requests honoured by the kernel
(this test process) that owns the job, and the refusals: unknown ids (404),
malformed ids that could reach a path or SQL (400, nothing done), jobs and
sessions that already ended (409), requests without the token or with a bad
XSRF token (403), and a store that cannot be opened (503, server still up).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from conftest import measured_bell, wait_until
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from qrt_jupyter import Batch, LocalRuntimeService, SamplerV2, Session
from qrt_jupyter.runtime.execution import watcher

pytest_plugins = ["pytest_jupyter.jupyter_server"]

JOB_KEYS = {
    "id", "session_id", "kind", "program", "primitive", "backend", "status", "created",
    "started", "finished", "duration", "tags", "error", "cancel_requested",
}
JOB_DETAIL_KEYS = JOB_KEYS | {"metrics", "options", "inputs", "logs", "events", "interim",
                              "last_seq"}
SESSION_KEYS = {
    "id", "mode", "backend", "state", "active", "created", "closed", "max_time", "ttl", "age",
    "started", "remaining", "jobs",
}


# -- programs run as jobs -------------------------------------------------------
def count_up(ctx, n: int = 5):
    """Publish n interim results and log once."""
    for i in range(n):
        ctx.publish({"step": i, "energy": -0.5 * i})
    ctx.log("counted up")
    return n


def spin(ctx, period: float = 0.05):
    """Publish until cancelled (publish raises once the job is cancelled)."""
    i = 0
    while True:
        ctx.publish({"i": i})
        i += 1
        time.sleep(period)


# -- fixtures ------------------------------------------------------------------
@pytest.fixture
def jp_server_config() -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"qrt_jupyter": True}}})


@pytest.fixture
def populated(service: LocalRuntimeService) -> dict[str, Any]:
    """A store with sampler jobs in a closed session, an open batch and programs, all on Aer."""
    backend = service.backend("aer_simulator")
    with Session(backend=backend, max_time="10m") as session:
        sampler = SamplerV2(mode=session)
        session_jobs = [sampler.run([measured_bell()], shots=100) for _ in range(3)]
        for job in session_jobs:
            job.result()
    batch = Batch(backend=backend)  # stays open
    batch_job = SamplerV2(mode=batch).run([measured_bell()])
    batch_job.result()
    plain = SamplerV2(mode=backend).run([measured_bell()])
    plain.result()
    service.register_program(count_up, "count_up")
    programs = [service.run("count_up", inputs={"n": 5}, tags=["demo"]) for _ in range(2)]
    for job in programs:
        job.result()
    yield {
        "service": service,
        "session": session,
        "session_jobs": [j.job_id() for j in session_jobs],
        "batch": batch,
        "batch_job": batch_job.job_id(),
        "plain": plain.job_id(),
        "programs": [j.job_id() for j in programs],
    }
    batch.close()


@pytest.fixture
def spinning(service: LocalRuntimeService):
    """A program job running in this process until something cancels it."""
    service.register_program(spin, "spin")
    job = service.run("spin", inputs={"period": 0.05})
    # the store (what the server reads) says RUNNING once the job is live
    wait_until(lambda: service.store.job_status(job.job_id())["status"] == "RUNNING",
               timeout=10)
    yield job
    job.cancel()


@pytest.fixture
def api(jp_fetch, qrt_home: Path):
    """GET/POST helpers for /qrt/api/ that return (status, decoded JSON body)."""

    async def call(*parts: str, method: str = "GET", params: dict | None = None,
                   headers: dict | None = None) -> tuple[int, dict]:
        kwargs: dict[str, Any] = {"method": method, "params": params, "headers": headers}
        if method == "POST":
            kwargs["body"] = b""
        try:
            response = await jp_fetch("qrt", "api", *parts, **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            body = exc.response.body
            try:
                return exc.code, json.loads(body) if body else {}
            except ValueError:
                return exc.code, {"html": body.decode(errors="replace")}
        assert response.headers["Content-Type"].startswith("application/json")
        return response.code, json.loads(response.body)

    return call


async def ok(api, *parts: str, **kwargs: Any) -> dict:
    code, body = await api(*parts, **kwargs)
    assert code == 200, body
    return body


async def eventually(predicate, timeout: float) -> float:
    """Await until ``predicate()`` (a coroutine function) is true; returns the time it took."""
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


# -- status ----------------------------------------------------------------------
async def test_status_counts_running_queued_and_open_sessions(api, populated, spinning):
    body = await ok(api, "status")
    assert set(body) == {"running", "queued", "open_sessions", "seq"}
    assert body["running"] == 1 and body["queued"] == 0
    assert body["open_sessions"] == 1  # the batch; the session was closed by `with`
    assert body["seq"] == populated["service"].store.change_seq()


# -- sessions ----------------------------------------------------------------------
async def test_sessions_list_open_and_all(api, populated):
    opened = await ok(api, "sessions")
    assert [s["id"] for s in opened["sessions"]] == [populated["batch"].session_id]
    batch = opened["sessions"][0]
    assert set(batch) == SESSION_KEYS
    assert batch["mode"] == "batch" and batch["state"] == "open"
    assert batch["backend"] == "aer_simulator"
    assert batch["jobs"] == {"DONE": 1}
    assert batch["closed"] is None and batch["max_time"] is None and batch["remaining"] is None
    assert 0 <= batch["age"] < 120

    asked = time.time()
    everything = await ok(api, "sessions", params={"state": "all", "limit": 50})
    answered = time.time()
    ids = [s["id"] for s in everything["sessions"]]
    assert ids == [populated["batch"].session_id, populated["session"].session_id]
    session = everything["sessions"][1]
    assert session["state"] == "closed" and session["closed"] >= session["created"]
    assert session["max_time"] == 600 and session["jobs"] == {"DONE": 3}
    # max_time counts from the first job's start
    assert session["started"] == populated["session"].details()["started_at"]
    assert 600 - (answered - session["started"]) <= session["remaining"]
    assert session["remaining"] <= 600 - (asked - session["started"])
    assert everything["seq"] == populated["service"].store.change_seq()

    limited = await ok(api, "sessions", params={"state": "all", "limit": 1})
    assert [s["id"] for s in limited["sessions"]] == ids[:1]


async def test_session_detail_lists_its_jobs(api, populated):
    sid = populated["session"].session_id
    body = await ok(api, "sessions", sid)
    assert set(body) == SESSION_KEYS | {"job_list"}
    assert {j["id"] for j in body["job_list"]} == set(populated["session_jobs"])
    for job in body["job_list"]:
        assert set(job) == JOB_KEYS
        assert job["session_id"] == sid and job["primitive"] == "sampler"


async def test_session_close_and_cancel_are_honoured_by_the_owning_process(api, service):
    backend = service.backend("aer_simulator")
    to_close, to_cancel = Session(backend=backend), Batch(backend=backend)
    try:
        body = await ok(api, "sessions", to_close.session_id, "close", method="POST")
        assert body == {"ok": True, "requested": "close"}
        body = await ok(api, "sessions", to_cancel.session_id, "cancel", method="POST")
        assert body == {"ok": True, "requested": "cancel"}

        async def ended() -> bool:
            return to_close.state == "closed" and to_cancel.state == "cancelled"

        assert await eventually(ended, timeout=1.0) < 1.0
        for sid, state in ((to_close.session_id, "closed"), (to_cancel.session_id, "cancelled")):
            assert (await ok(api, "sessions", sid))["state"] == state
            for action in ("close", "cancel"):
                code, body = await api("sessions", sid, action, method="POST")
                assert code == 409 and state in body["message"]
    finally:
        to_close.close()
        to_cancel.close()


async def test_session_refusals(api, populated):
    code, body = await api("sessions", "0123456789abcdef0123")
    assert code == 404 and "0123456789abcdef0123" in body["message"]
    code, body = await api("sessions", "0123456789abcdef0123", "close", method="POST")
    assert code == 404
    code, body = await api("sessions", params={"state": "closed"})
    assert code == 400 and "open" in body["message"]
    for limit in ("0", "501", "ten"):
        code, body = await api("sessions", params={"limit": limit})
        assert code == 400 and "limit" in body["message"]


# -- jobs --------------------------------------------------------------------------
async def test_jobs_list_paging_and_total(api, populated):
    everything = await ok(api, "jobs", params={"limit": 100})
    assert everything["total"] == 7 and len(everything["jobs"]) == 7
    assert everything["seq"] == populated["service"].store.change_seq()
    created = [j["created"] for j in everything["jobs"]]
    assert created == sorted(created, reverse=True)  # newest first
    first = await ok(api, "jobs", params={"limit": 3, "offset": 0})
    second = await ok(api, "jobs", params={"limit": 3, "offset": 3})
    third = await ok(api, "jobs", params={"limit": 3, "offset": 6})
    pages = [j["id"] for page in (first, second, third) for j in page["jobs"]]
    assert pages == [j["id"] for j in everything["jobs"]]
    assert [len(p["jobs"]) for p in (first, second, third)] == [3, 3, 1]
    assert {p["total"] for p in (first, second, third)} == {7}
    default = await ok(api, "jobs")
    assert len(default["jobs"]) == 7  # default limit 20


async def test_job_model(api, populated):
    jobs = {j["id"]: j for j in (await ok(api, "jobs"))["jobs"]}
    plain = jobs[populated["plain"]]
    assert set(plain) == JOB_KEYS
    assert plain["kind"] == "sampler" and plain["program"] is None
    assert plain["primitive"] == "sampler" and plain["session_id"] is None
    assert plain["backend"] == "aer_simulator" and plain["status"] == "DONE"
    assert plain["created"] <= plain["started"] <= plain["finished"]
    assert plain["duration"] == pytest.approx(plain["finished"] - plain["started"])
    assert plain["error"] is None and plain["cancel_requested"] is False
    program = jobs[populated["programs"][0]]
    assert program["kind"] == "program" and program["program"] == "count_up"
    assert program["primitive"] == "count_up" and program["tags"] == ["demo"]
    assert jobs[populated["batch_job"]]["session_id"] == populated["batch"].session_id


async def test_jobs_filters(api, populated, spinning):
    running = await ok(api, "jobs", params={"status": "RUNNING,QUEUED"})
    assert [j["id"] for j in running["jobs"]] == [spinning.job_id()] and running["total"] == 1
    done = await ok(api, "jobs", params={"status": "done", "limit": 2})
    assert done["total"] == 7 and len(done["jobs"]) == 2
    assert {j["status"] for j in done["jobs"]} == {"DONE"}

    sid = populated["session"].session_id
    in_session = await ok(api, "jobs", params={"session_id": sid})
    assert {j["id"] for j in in_session["jobs"]} == set(populated["session_jobs"])
    assert in_session["total"] == 3

    programs = await ok(api, "jobs", params={"program": "count_up"})
    assert {j["id"] for j in programs["jobs"]} == set(populated["programs"])
    both = await ok(api, "jobs", params={"program": "count_up", "status": "ERROR"})
    assert both == {"jobs": [], "total": 0, "seq": both["seq"]}
    nothing = await ok(api, "jobs", params={"program": "x' OR 1=1 --"})
    assert nothing["jobs"] == [] and nothing["total"] == 0


@pytest.mark.parametrize("params, word", [
    ({"status": "FINISHED"}, "FINISHED"),
    ({"status": "DONE,"}, None),  # trailing comma is fine
    ({"limit": "0"}, "limit"),
    ({"limit": "1000"}, "limit"),
    ({"limit": "many"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"session_id": "../../etc"}, "session id"),
    ({"session_id": "x' OR 1=1"}, "session id"),
])
async def test_jobs_list_refusals(api, populated, params, word):
    code, body = await api("jobs", params=params)
    if word is None:
        assert code == 200 and body["total"] == 7
    else:
        assert code == 400 and word in body["message"]


async def test_job_detail(api, populated):
    jid = populated["programs"][0]
    body = await ok(api, "jobs", jid)
    assert set(body) == JOB_DETAIL_KEYS
    assert body["id"] == jid and body["status"] == "DONE"
    assert [e["status"] for e in body["events"]] == ["QUEUED", "RUNNING", "DONE"]
    assert all(set(e) == {"status", "at"} for e in body["events"])
    assert [r["seq"] for r in body["interim"]] == [0, 1, 2, 3, 4]
    assert [r["value"] for r in body["interim"]] == [
        {"step": i, "energy": -0.5 * i} for i in range(5)
    ]
    assert all(r["at"] >= body["started"] for r in body["interim"])
    assert body["last_seq"] == 4
    assert any(e["message"] == "counted up" and e["level"] == "INFO" for e in body["logs"])
    assert all(set(e) == {"at", "level", "message"} for e in body["logs"])
    assert body["inputs"] == {"n": 5}
    assert isinstance(body["metrics"], dict) and isinstance(body["options"], dict)

    sampler = await ok(api, "jobs", populated["plain"])
    assert sampler["metrics"]  # what the sampler recorded (timings, shots...)
    progress = sampler["interim"]  # a primitive publishes its progress per PUB
    assert progress and sampler["last_seq"] == progress[-1]["seq"]
    nothing = await ok(api, "jobs", populated["plain"], params={"since": sampler["last_seq"]})
    assert nothing["interim"] == [] and nothing["last_seq"] == sampler["last_seq"]


async def test_job_detail_interim_since(api, populated):
    jid = populated["programs"][1]
    later = await ok(api, "jobs", jid, params={"since": 2})
    assert [r["seq"] for r in later["interim"]] == [3, 4] and later["last_seq"] == 4
    nothing_new = await ok(api, "jobs", jid, params={"since": 4})
    assert nothing_new["interim"] == [] and nothing_new["last_seq"] == 4
    beyond = await ok(api, "jobs", jid, params={"since": 99})
    assert beyond["interim"] == [] and beyond["last_seq"] == 4
    code, body = await api("jobs", jid, params={"since": "two"})
    assert code == 400 and "since" in body["message"]


async def test_interim_of_a_running_job_arrive_incrementally(api, spinning):
    jid = spinning.job_id()
    seen: list[int] = []
    last = -1
    for _ in range(3):
        await asyncio.sleep(0.15)
        body = await ok(api, "jobs", jid, params={"since": last})
        assert body["status"] == "RUNNING" and body["duration"] > 0
        seqs = [r["seq"] for r in body["interim"]]
        assert seqs == list(range(last + 1, last + 1 + len(seqs)))
        seen += seqs
        last = body["last_seq"]
    assert seen == list(range(len(seen))) and len(seen) >= 3


async def test_cancel_running_job_from_rest(api, spinning, service):
    jid = spinning.job_id()
    body = await ok(api, "jobs", jid, "cancel", method="POST")
    assert body["ok"] is True and body["status"] in ("RUNNING", "CANCELLED")

    async def cancelled() -> bool:
        return (await ok(api, "jobs", jid))["status"] == "CANCELLED"

    # the owner's watcher polls every 0.2 s; 3 s leaves room for a loaded machine
    await eventually(cancelled, timeout=3.0)
    assert spinning.status() == "CANCELLED"
    assert service.job(jid).status() == "CANCELLED"
    detail = await ok(api, "jobs", jid)
    assert detail["cancel_requested"] is True and detail["events"][-1]["status"] == "CANCELLED"
    listed = await ok(api, "jobs", params={"status": "CANCELLED"})
    assert [j["id"] for j in listed["jobs"]] == [jid]

    code, body = await api("jobs", jid, "cancel", method="POST")
    assert code == 409 and "CANCELLED" in body["message"]


async def test_cancel_refusals(api, populated):
    code, body = await api("jobs", populated["plain"], "cancel", method="POST")
    assert code == 409 and "DONE" in body["message"]
    code, body = await api("jobs", "00000000000000000000", "cancel", method="POST")
    assert code == 404
    code, body = await api("jobs", "00000000000000000000")
    assert code == 404 and "00000000000000000000" in body["message"]


@pytest.mark.parametrize("bad_id", ["../../etc", "..%2F..%2Fetc", "x' OR 1=1", "x' OR '1'='1",
                                    "a" * 65, "job;DROP TABLE jobs", "%00", "é"])
async def test_malformed_ids_are_refused_and_change_nothing(api, populated, bad_id):
    store = populated["service"].store
    seq = store.change_seq()
    for parts, method in (
        (("jobs", bad_id), "GET"),
        (("jobs", bad_id, "cancel"), "POST"),
        (("sessions", bad_id), "GET"),
        (("sessions", bad_id, "close"), "POST"),
        (("sessions", bad_id, "cancel"), "POST"),
    ):
        code, body = await api(*parts, method=method)
        assert code in (400, 404), (parts, code, body)
        if code == 400:
            assert "id" in body["message"]
    assert store.change_seq() == seq
    assert store.count_matching_jobs() == 7
    assert {j["status"] for j in store.list_jobs(limit=None)} == {"DONE"}
    assert store.list_sessions(state="open")[0]["cancel_requested"] == 0


async def test_a_path_in_one_encoded_segment_is_refused(http_server_client, jp_auth_header,
                                                        jp_base_url, populated):
    """jp_fetch escapes '%'; a raw client can send '../../etc' as one segment: still 400."""
    for path, method in (("jobs/..%2F..%2Fetc", "GET"), ("jobs/..%2F..%2Fetc/cancel", "POST"),
                         ("sessions/..%2Fstore.sqlite", "GET")):
        with pytest.raises(HTTPClientError) as info:
            await http_server_client.fetch(
                f"{jp_base_url}qrt/api/{path}", method=method, headers=jp_auth_header,
                body=b"" if method == "POST" else None,
            )
        assert info.value.code == 400
        assert "'../" in json.loads(info.value.response.body)["message"]
    assert populated["service"].store.count_matching_jobs(status=["DONE"]) == 7


# -- long-poll -----------------------------------------------------------------------
async def test_changes_returns_at_once_when_behind(api, populated):
    seq = populated["service"].store.change_seq()
    start = time.monotonic()
    assert await ok(api, "changes", params={"since": seq - 1, "timeout": 20}) == {"seq": seq}
    assert await ok(api, "changes", params={"since": -1, "timeout": 1000}) == {"seq": seq}
    assert time.monotonic() - start < 5.0  # far below the 20 s a waiting poll would take


async def test_changes_times_out_without_changes(api, populated):
    seq = populated["service"].store.change_seq()
    start = time.monotonic()
    assert await ok(api, "changes", params={"since": seq, "timeout": 0.5}) == {"seq": seq}
    assert 0.45 <= time.monotonic() - start < 3


async def test_changes_wakes_on_a_job_and_does_not_block_the_server(api, service):
    seq = service.store.change_seq()
    poll = asyncio.ensure_future(api("changes", params={"since": seq, "timeout": 20}))
    await asyncio.sleep(0.3)
    assert not poll.done()
    # the server still answers other requests while the long-poll waits
    start = time.monotonic()
    await ok(api, "status")
    assert time.monotonic() - start < 5.0 and not poll.done()  # not after the 20 s poll
    backend = service.backend("aer_simulator")
    threading.Thread(target=lambda: SamplerV2(mode=backend).run([measured_bell()])).start()
    code, body = await asyncio.wait_for(poll, timeout=5)
    assert code == 200 and body["seq"] > seq


async def test_changes_refusals(api, populated):
    for params, word in (({"since": "x"}, "since"), ({"timeout": "soon"}, "timeout"),
                         ({"timeout": "-1"}, "timeout")):
        code, body = await api("changes", params=params)
        assert code == 400 and word in body["message"]


# -- authentication -------------------------------------------------------------------
@pytest.mark.parametrize("parts, method", [
    (("status",), "GET"), (("sessions",), "GET"), (("sessions", "abc"), "GET"),
    (("sessions", "abc", "close"), "POST"), (("jobs",), "GET"), (("jobs", "abc"), "GET"),
    (("jobs", "abc", "cancel"), "POST"), (("changes",), "GET"),
])
async def test_requests_without_token_are_refused(api, parts, method):
    code, _ = await api(*parts, method=method, headers={"Authorization": ""})
    assert code in (401, 403)


async def test_post_without_token_or_with_bad_xsrf_is_refused(
    api, jp_fetch, spinning, service
):
    jid = spinning.job_id()
    code, _ = await api("jobs", jid, "cancel", method="POST", headers={"Authorization": ""})
    assert code == 403

    # A browser-like client: logged in by cookie (set on a token request), no token after.
    response = await jp_fetch("qrt", "api", "status")
    cookies = SimpleCookie()
    for header in response.headers.get_list("Set-Cookie"):
        cookies.load(header)
    login = "; ".join(
        f"{k}={m.coded_value}" for k, m in cookies.items() if k.startswith("username")
    )
    assert login, "the server set no login cookie"
    cookie_only = {"Authorization": "", "Cookie": login}
    code, body = await api("status", headers=cookie_only)
    assert code == 200 and "running" in body  # the cookie alone authenticates a GET
    code, _ = await api("jobs", jid, "cancel", method="POST", headers=cookie_only)
    assert code == 403  # but a POST also needs the XSRF token
    forged = {"Authorization": "", "Cookie": f"{login}; _xsrf=2|aaaa|bbbb|1",
              "X-XSRFToken": "2|cccc|dddd|1"}
    code, _ = await api("jobs", jid, "cancel", method="POST", headers=forged)
    assert code == 403

    # the owner's watcher has looked at the store twice since: nothing was cancelled
    assert await asyncio.to_thread(watcher.wait_ticks, 2, 10.0)
    assert spinning.status() == "RUNNING"
    assert service.store.get_job(jid)["cancel_requested"] == 0


# -- robustness -------------------------------------------------------------------------
async def test_unreadable_store_gives_503_and_the_server_stays_up(jp_fetch, qrt_home):
    with sqlite3.connect(qrt_home / "store.sqlite") as conn:
        conn.execute("CREATE TABLE someone_elses (x)")
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("qrt", "api", "status")
    assert info.value.code == 503
    assert "did not create" in json.loads(info.value.response.body)["message"]
    response = await jp_fetch("api", "status")  # jupyter_server's own API still answers
    assert response.code == 200


def test_package_import_is_light_and_names_both_extensions():
    code = (
        "import sys, qrt_jupyter;"
        "assert qrt_jupyter._jupyter_server_extension_points() == "
        "[{'module': 'qrt_jupyter.server'}];"
        "assert qrt_jupyter._jupyter_labextension_paths() == "
        "[{'src': 'labextension', 'dest': 'qrt_jupyter'}];"
        "heavy = {'qiskit', 'qiskit_aer', 'tornado', 'jupyter_server'} & set(sys.modules);"
        "assert not heavy, heavy;"
        "from qrt_jupyter import LocalRuntimeService, program;"
        "assert 'qiskit' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_server_config_file_enables_the_extension():
    root = Path(__file__).resolve().parents[1]
    config = json.loads((root / "jupyter-config/server-config/qrt_jupyter.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"qrt_jupyter": True}}}
    pyproject = (root / "pyproject.toml").read_text()
    assert '"jupyter-config/server-config" = "etc/jupyter/jupyter_server_config.d"' in pyproject
