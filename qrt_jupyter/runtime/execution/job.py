"""RuntimeJob: one unit of work, its status, interim results, logs and result.

A job object is either *owned* (this process runs it: status and results live in
memory and are written through to the store) or *observed* (loaded from the
store, perhaps written by another process: every question is answered from the
store). Both answer the same API, that of qiskit-ibm-runtime's RuntimeJobV2.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from qiskit.primitives.base.base_primitive_job import BasePrimitiveJob

from ..core import events
from ..core.durations import job_duration
from ..core.errors import (
    JobCancelledError,
    JobError,
    JobTimeoutError,
    QRTError,
)
from ..core.store import FINAL_STATES
from . import codec

if TYPE_CHECKING:
    from ..service import LocalRuntimeService

JobStatus = Literal["QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED"]
JOB_FINAL_STATES: tuple[str, ...] = FINAL_STATES

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
log = logging.getLogger("qrt_jupyter")

#: Seconds a job runs before its RUNNING state and interim results are written to the store
#: as they happen. A job that ends sooner writes them in the transaction of its final state
#: (one write instead of three or more); 0 writes everything at once, as it happens.
LIVE_AFTER = 0.05


class _Cancelled(BaseException):
    """Raised inside a running job to stop it between steps.

    A BaseException, like KeyboardInterrupt, so that a program's broad
    ``except Exception`` cannot swallow a cancellation.
    """


class _OverTime(BaseException):
    """Raised inside a running job that exceeded max_execution_time."""


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).isoformat()


#: seconds a subscriber's thread gathers interim results before delivering them
COALESCE = 0.02


class _Subscriber:
    """Delivers one subscriber's interim results in order, on its own thread.

    A slow or failing subscriber then neither slows the job nor the other
    subscribers; nothing is dropped, because the queue only grows until delivered.
    """

    def __init__(self, job: RuntimeJob, callback: Callable[[str, Any], Any],
                 backlog: list[Any]) -> None:
        self.job = job
        self.callback = callback
        self._items: list[Any] = list(backlog)
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"qrt-stream-{job.job_id()[:8]}")
        self._thread.start()

    def push(self, item: Any) -> None:
        with self._cv:
            self._items.append(item)
            if len(self._items) == 1:
                # wake the thread only for the first waiting item: it then gathers
                # what arrives within COALESCE, so a fast loop costs one thread
                # switch per batch rather than one per publish
                self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()

    def wait(self, timeout: float | None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        name = getattr(self.callback, "__qualname__", repr(self.callback))
        while True:
            with self._cv:
                while not self._items and not self._closed:
                    self._cv.wait()
                if not self._items:
                    return
                if not self._closed:
                    self._cv.wait(COALESCE)  # close() cuts the wait short
                items, self._items = self._items, []
            for item in items:
                try:
                    self.callback(self.job.job_id(), item)
                except Exception as exc:  # noqa: BLE001 - reported, never fatal
                    self.job._log_internal(
                        "WARNING", f"interim-result subscriber {name} raised {exc!r}; "
                        "the job and the other subscribers go on"
                    )


class _LiveWriter:
    """Writes RUNNING (and the interim results so far) of jobs still running after LIVE_AFTER.

    One daemon thread per process; it sleeps until the earliest watched job is due, so a
    stream of short jobs costs one wake-up per LIVE_AFTER, not one per job.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, RuntimeJob]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, job: RuntimeJob) -> None:
        due = time.monotonic() + LIVE_AFTER
        with self._cv:
            heapq.heappush(self._heap, (due, next(self._count), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="qrt-live-writer")
                self._thread.start()
            elif self._heap[0][2] is job:
                self._cv.notify()  # due before everything the thread waits for

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._heap:
                    self._cv.wait()
                due, _, job = self._heap[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._cv.wait(delay)
                    continue
                heapq.heappop(self._heap)
            try:
                job._go_live()
            except Exception as exc:  # noqa: BLE001 - the job's final write still follows
                log.warning("could not record job %s as running: %r", job.job_id(), exc)
            job = None  # waiting for the next, keep no finished job (nor its service) alive


_live_writer = _LiveWriter()


class JobContext:
    """What running code (a primitive or a program) may do with its job."""

    def __init__(self, job: RuntimeJob, executor: Any, backend: Any) -> None:
        self.job = job
        self.executor = executor
        self.backend = backend
        self.metrics: dict[str, Any] = {}
        self.quantum_seconds = 0.0

    @property
    def cancelled(self) -> bool:
        return self.job._cancel_event.is_set()

    def check(self) -> None:
        """Stop here if the job was cancelled or ran out of time."""
        self.job._check()

    def publish(self, obj: Any) -> int:
        """Send an interim result to every subscriber and the store; returns its sequence."""
        self.check()
        return self.job._publish(obj)

    def log(self, message: str, level: str = "INFO") -> None:
        self.job._log_internal(level.upper(), str(message))

    def run_circuits(self, circuits: list, parameter_binds: list[dict] | None,
                     run_options: dict[str, Any]) -> Any:
        """Run circuits through the job's executor, counting the time as usage."""
        self.check()
        start = time.perf_counter()
        try:
            return self.executor.run_circuits(self.backend, circuits, parameter_binds, run_options)
        finally:
            self.quantum_seconds += time.perf_counter() - start


class RuntimeJob(BasePrimitiveJob):
    """A job of the local runtime, as returned by ``run()`` and ``service.job()``."""

    def __init__(self, job_id: str, service: LocalRuntimeService, *, backend: Any,
                 kind: str, program: str | None, session_id: str | None,
                 tags: list[str], inputs: dict, created: float, owned: bool,
                 options: dict | None = None) -> None:
        super().__init__(job_id)
        self._service = service
        self._store = service.store
        self._backend = backend
        self._kind = kind
        self._program = program
        self._session_id = session_id
        self._tags = list(tags)
        self._inputs = inputs
        self._options = options or {}
        self._created = created
        self._owned = owned
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._cancel_event = threading.Event()
        self._cancel_reason = "Cancelled by the user."
        self._status: str = "QUEUED"
        self._error: str | None = None
        self._result: Any = None
        self._started: float | None = None
        self._finished: float | None = None
        self._metrics: dict[str, Any] = {}
        self._interim: list[Any] = []
        self._subscribers: list[_Subscriber] = []
        self._log_threshold = _LEVELS["WARNING"]
        self._max_execution_time: float | None = None
        self._work: Callable[[JobContext], Any] | None = None
        self._task: Any = None
        self._mode: Any = None
        self._executor: Any = None
        self._scheduler: Any = None
        self._ctx: JobContext | None = None
        self._inline_calls = 0
        #: RUNNING and interim results are in the store (see LIVE_AFTER)
        self._live = False
        self._finishing = False
        self._pending_interim: list[tuple[int, float, bytes, str]] = []

    # -- identity -----------------------------------------------------------
    def job_id(self) -> str:
        return self._job_id

    @property
    def session_id(self) -> str | None:
        return self._session_id

    @property
    def tags(self) -> list[str]:
        return list(self._tags)

    @property
    def inputs(self) -> dict:
        """A summary of what was submitted (PUB shapes, program inputs)."""
        return self._inputs

    @property
    def primitive_id(self) -> str:
        return self._program or self._kind

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def program(self) -> str | None:
        return self._program

    @property
    def options(self) -> dict:
        """The options the job was submitted with (those that differ from the defaults)."""
        return dict(self._options)

    @property
    def started(self) -> float | None:
        """UNIX time the job started running; None while queued (or never run)."""
        if not self._owned:
            self._refresh()
        return self._started

    @property
    def finished(self) -> float | None:
        """UNIX time the job reached its final state; None before."""
        if not self._owned:
            self._refresh()
        return self._finished

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; while running, so far; None before it starts."""
        return job_duration(self.started, self.finished, time.time())

    @property
    def creation_date(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self._created, tz=_dt.timezone.utc)

    def backend(self) -> Any:
        if isinstance(self._backend, str):
            try:
                return self._service.backend(self._backend)
            except QRTError:
                return self._backend
        return self._backend

    def backend_name(self) -> str:
        return self._backend if isinstance(self._backend, str) else self._backend.name

    # -- status -------------------------------------------------------------
    def status(self) -> JobStatus:
        if self._owned:
            if self._status == "RUNNING" and not self._live:
                # Someone is watching: let the store (read by other processes and the
                # Jupyter server) say RUNNING too, rather than after LIVE_AFTER.
                self._go_live()
            return self._status  # type: ignore[return-value]
        self._refresh()
        return self._status  # type: ignore[return-value]

    def _refresh(self) -> None:
        if self._status in JOB_FINAL_STATES:
            return
        self._store.reap_orphans()
        row = self._store.job_status(self._job_id)
        if row is not None:
            self._status, self._error = row["status"], row["error"]
            self._started, self._finished = row["started"], row["finished"]

    def done(self) -> bool:
        return self.status() == "DONE"

    def running(self) -> bool:
        return self.status() == "RUNNING"

    def cancelled(self) -> bool:
        return self.status() == "CANCELLED"

    def errored(self) -> bool:
        return self.status() == "ERROR"

    def in_final_state(self) -> bool:
        return self.status() in JOB_FINAL_STATES

    def error_message(self) -> str | None:
        self.status()
        return self._error

    def wait_for_final_state(self, timeout: float | None = None) -> None:
        """Block until DONE, ERROR or CANCELLED; JobTimeoutError after ``timeout`` s."""
        if self._owned:
            if not self._done.wait(timeout):
                raise JobTimeoutError(
                    f"Job {self._job_id} is still {self._status} after {timeout} s."
                )
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.01
        while not self.in_final_state():
            if deadline is not None and time.monotonic() > deadline:
                raise JobTimeoutError(
                    f"Job {self._job_id} is still {self._status} after {timeout} s."
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def result(self, timeout: float | None = None) -> Any:
        """The job's result; raises JobError or JobCancelledError when there is none."""
        self.wait_for_final_state(timeout)
        if self._owned:
            for sub in list(self._subscribers):
                sub.wait(timeout)
        status = self._status
        if status == "CANCELLED":
            raise JobCancelledError(f"Job {self._job_id} was cancelled: no result.")
        if status == "ERROR":
            raise JobError(f"Job {self._job_id} failed: {self._error}")
        if self._result is None:
            blob = self._store.job_result(self._job_id)
            self._result = codec.decode(blob) if blob is not None else None
        return self._result

    def metrics(self) -> dict[str, Any]:
        """Timestamps, usage, transpile-cache counts and the options applied."""
        if self._owned and self._status in JOB_FINAL_STATES:
            return dict(self._metrics)
        row = self._store.get_job(self._job_id)
        if row is None:
            return {}
        if self._owned and row["started"] is None:
            row["started"] = self._started  # RUNNING not written yet (see LIVE_AFTER)
        metrics = dict(row["metrics"])
        metrics.setdefault("timestamps", {
            "created": _iso(row["created"]), "running": _iso(row["started"]),
            "finished": _iso(row["finished"]),
        })
        return metrics

    def usage(self) -> float:
        """Seconds the job spent running."""
        return float(self.metrics().get("usage", {}).get("seconds", 0.0))

    def logs(self) -> str:
        entries = self._store.logs(self._job_id)
        return "\n".join(f"{_iso(e['at'])} {e['level']}: {e['message']}" for e in entries)

    # -- cancellation -------------------------------------------------------
    def cancel(self) -> bool:
        """Cancel a queued job, or stop a running one at its next step.

        Returns False when the job had already ended.
        """
        return self._cancel_with("Cancelled by the user.")

    def _cancel_with(self, reason: str) -> bool:
        if not self._owned:
            self._refresh()
            if self._status in JOB_FINAL_STATES:
                return False
            owner = self._service._live_job(self._job_id)
            if owner is not None:
                return owner._cancel_with(reason)
            self._store.request_cancel(self._job_id)
            return True
        with self._lock:
            if self._status in JOB_FINAL_STATES:
                return False
            self._cancel_reason = reason
            self._cancel_event.set()
            queued = self._status == "QUEUED"
        scheduler = self._scheduler or self._service._scheduler
        if queued and self._task is not None and scheduler.remove(self._task):
            self._finish("CANCELLED", error=reason)
        return True

    # -- interim results ----------------------------------------------------
    def stream_results(self, callback: Callable[[str, Any], Any]) -> None:
        """Call ``callback(job_id, interim)`` for every interim result, past and future."""
        if not self._owned:
            threading.Thread(target=self._poll_stream, args=(callback,), daemon=True).start()
            return
        with self._lock:
            sub = _Subscriber(self, callback, self._interim)
            self._subscribers.append(sub)
            if self._status in JOB_FINAL_STATES:
                sub.close()

    def _poll_stream(self, callback: Callable[[str, Any], Any]) -> None:
        seq = -1
        while True:
            final = self.in_final_state()
            for row in self._store.interim(self._job_id, since=seq):
                seq = row["seq"]
                try:
                    callback(self._job_id, codec.decode(row["payload"]))
                except Exception as exc:  # noqa: BLE001
                    log.warning("interim-result subscriber raised %r", exc)
            if final:
                return
            time.sleep(0.1)

    def interim_results(self) -> list[Any]:
        """Every interim result published so far, in order."""
        if self._owned:
            with self._lock:
                return list(self._interim)
        return [codec.decode(r["payload"]) for r in self._store.interim(self._job_id)]

    def _publish(self, obj: Any) -> int:
        at = time.time()
        payload = codec.encode(obj)
        summary = json.dumps(codec.to_json(obj), default=repr)
        with self._lock:
            seq = len(self._interim)
            if self._live:
                self._store.add_interim(self._job_id, [(seq, at, payload, summary)])
            else:
                self._pending_interim.append((seq, at, payload, summary))
            self._interim.append(obj)
            for sub in self._subscribers:
                sub.push(obj)
        return seq

    # -- logs ---------------------------------------------------------------
    def _log_internal(self, level: str, message: str) -> None:
        if _LEVELS.get(level, 20) < self._log_threshold:
            return
        self._store.add_logs(self._job_id, [(time.time(), level, message)])

    # -- running (owned jobs only) ------------------------------------------
    def _check(self) -> None:
        if self._cancel_event.is_set():
            raise _Cancelled()
        if self._max_execution_time is not None and self._started is not None:
            if time.time() - self._started > self._max_execution_time:
                raise _OverTime()

    def _execute(self) -> None:
        """Run the job's work in a worker thread and record how it ended."""
        if self._cancel_event.is_set():
            self._finish("CANCELLED", error=self._cancel_reason)
            return
        if self._mode is not None:
            refusal = self._mode._refuse_start()
            if refusal:
                self._finish("CANCELLED", error=refusal)
                return
        with self._lock:
            self._started = time.time()
            self._status = "RUNNING"
        if LIVE_AFTER > 0:
            _live_writer.watch(self)
        else:
            self._go_live()
        if self._mode is not None:
            self._mode._job_started(self)
        events.emit("running", self)
        ctx = JobContext(self, self._executor, self.backend())
        self._ctx = ctx
        try:
            result = self._work(ctx)  # type: ignore[misc]
        except _Cancelled:
            self._finish("CANCELLED", error=self._cancel_reason)
        except _OverTime:
            self._finish(
                "ERROR",
                error=f"The job ran longer than max_execution_time "
                f"({self._max_execution_time:g} s) and was stopped.",
            )
        except Exception as exc:  # noqa: BLE001 - the job records every failure
            self._log_internal("ERROR", traceback.format_exc())
            message = f"{type(exc).__name__}: {exc}"
            self._finish("ERROR", error=message)
        else:
            self._finish("DONE", result=result)

    def _go_live(self) -> None:
        """Write RUNNING and the interim results so far; later ones are written as published."""
        with self._lock:
            if self._live or self._finishing or self._status != "RUNNING":
                return
            self._live = True
            pending, self._pending_interim = self._pending_interim, []
            self._store.mark_running(self._job_id, self._started, interim=pending)

    def _finish(self, status: str, *, result: Any = None, error: str | None = None) -> None:
        with self._lock:
            self._finishing = True
            pending, self._pending_interim = self._pending_interim, []
            unwritten_start = None if self._live else self._started
        finished = time.time()
        ctx = self._ctx
        metrics: dict[str, Any] = {
            "timestamps": {
                "created": _iso(self._created),
                "running": _iso(self._started),
                "finished": _iso(finished),
            },
            "usage": {
                "seconds": (finished - self._started) if self._started else 0.0,
                "quantum_seconds": ctx.quantum_seconds if ctx else 0.0,
            },
        }
        if ctx is not None:
            metrics.update(ctx.metrics)
        blob = None
        if status == "DONE":
            try:
                blob = codec.encode(result)
            except Exception as exc:  # noqa: BLE001
                status, error = "ERROR", f"The result could not be stored: {exc!r}"
        if status == "CANCELLED":
            self._log_internal("WARNING", error or "Cancelled.")
        self._store.finish_job(
            self._job_id, status=status, at=finished, metrics=codec.to_json(metrics),
            error=error, result=blob, started=unwritten_start, interim=pending,
        )
        with self._lock:
            self._status = status
            self._error = error
            self._result = result if status == "DONE" else None
            self._finished = finished
            self._metrics = metrics
            subscribers = list(self._subscribers)
        # The mode's bookkeeping (usage, activity) is updated before waiters wake, so that
        # session.usage() and session.status() are current as soon as result() returns.
        if self._mode is not None:
            self._mode._job_finished(self)
        for sub in subscribers:
            sub.close()
        self._done.set()
        events.emit("finished", self)
        self._work = None

    def __repr__(self) -> str:
        return f"<RuntimeJob('{self._job_id}', '{self.primitive_id}', status={self._status})>"

    def _repr_html_(self) -> str:
        from ..core.display import job_html

        return job_html(self)


class _InlineContext:
    """A program's context as seen by a primitive the program runs inline.

    Circuit runs, cancellation and max_execution_time go to the program's job;
    the primitive's own progress messages are dropped, and its metrics are kept
    apart, so the program's interim stream holds only what the program publishes.
    """

    def __init__(self, parent: Any) -> None:
        self._parent = parent
        self.metrics: dict[str, Any] = {}
        self.backend = parent.backend

    def check(self) -> None:
        self._parent.check()

    def publish(self, obj: Any) -> int:
        self._parent.check()
        return -1

    def log(self, message: str, level: str = "INFO") -> None:
        self._parent.log(message, level)

    def run_circuits(self, circuits: list, parameter_binds: list[dict] | None,
                     run_options: dict[str, Any]) -> Any:
        return self._parent.run_circuits(circuits, parameter_binds, run_options)


class CompletedJob(BasePrimitiveJob):
    """The already-finished job a primitive returns when run inside a program."""

    def __init__(self, job_id: str, result: Any, metrics: dict[str, Any]) -> None:
        super().__init__(job_id)
        self._result = result
        self._metrics = metrics

    def result(self, timeout: float | None = None) -> Any:
        return self._result

    def status(self) -> JobStatus:
        return "DONE"

    def done(self) -> bool:
        return True

    def running(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False

    def in_final_state(self) -> bool:
        return True

    def cancel(self) -> bool:
        return False

    def metrics(self) -> dict[str, Any]:
        return dict(self._metrics)


def run_inline(parent: Any, work: Callable[[Any], Any], *, kind: str) -> CompletedJob:
    """Run a primitive's work now, inside the program job that ``parent`` belongs to."""
    ctx = _InlineContext(parent)
    result = work(ctx)
    parent.job._inline_calls += 1
    return CompletedJob(f"{parent.job.job_id()}-{kind}-{parent.job._inline_calls}", result,
                        ctx.metrics)
