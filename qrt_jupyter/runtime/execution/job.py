"""RuntimeJob: one unit of work, its status, interim results, logs and result.

A job object is either *owned* (this process runs it: status and results live in
memory and are written through to the store) or *observed* (loaded from the
store, perhaps written by another process: every question is answered from the
store). Both answer the same API, that of qiskit-ibm-runtime's RuntimeJobV2, and
both are built whole by the constructor.

Reading a job's status never writes. A store that cannot be written (another
process holding the write lock, a full disk) never leaves a job hanging: the job
ends in memory, ``result()`` answers, and the final state (with every interim result
not yet stored) is written with retries once the store can take it.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qiskit.primitives.base.base_primitive_job import BasePrimitiveJob

from ..core import events
from ..core.durations import job_duration
from ..core.errors import (
    JobCancelledError,
    JobError,
    JobTimeoutError,
    QRTError,
)
from ..core.ids import JOB_FINAL_STATES, JobStatus
from . import codec
from .context import ExecutionContext
from .final_write import QUICK_RETRIES, FinalWrite
from .live_writer import live_writer
from .subscribers import Subscriber, poll_stored

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["JOB_FINAL_STATES", "JobStatus", "RuntimeJob"]

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
log = logging.getLogger("qrt_jupyter")


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


class RuntimeJob(BasePrimitiveJob):
    """A job of the local runtime, as returned by ``run()`` and ``service.job()``."""

    def __init__(self, job_id: str, engine: Engine, *, backend: Any, kind: str,
                 program: str | None, session_id: str | None, tags: list[str], inputs: dict,
                 created: float, options: dict | None = None,
                 status: JobStatus = "QUEUED", error: str | None = None,
                 started: float | None = None, finished: float | None = None,
                 work: Callable[[ExecutionContext], Any] | None = None, mode: Any = None,
                 executor: Any = None, scheduler: Any = None,
                 max_execution_time: float | None = None,
                 log_level: str = "WARNING") -> None:
        """``work`` given: a job this process runs (with its mode, executor and
        scheduler); without: a job read from the store, with its stored state."""
        super().__init__(job_id)
        self._engine = engine
        self._store = engine.store
        self._settings = engine.settings
        self._backend = backend
        self._kind = kind
        self._program = program
        self._session_id = session_id
        self._tags = list(tags)
        self._inputs = inputs
        self._options = options or {}
        self._created = created
        self._owned = work is not None
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._cancel_event = threading.Event()
        self._cancel_reason = "Cancelled by the user."
        self._status: str = status
        self._error: str | None = error
        self._result: Any = None
        self._started: float | None = started
        self._finished: float | None = finished
        self._metrics: dict[str, Any] = {}
        self._interim: list[Any] = []
        self._subscribers: list[Subscriber] = []
        self._log_threshold = _LEVELS.get(log_level, 30)
        self._max_execution_time = max_execution_time
        self._work = work
        self._mode = mode
        self._executor = executor
        self._scheduler = scheduler
        self._task: Any = None
        self._ctx: ExecutionContext | None = None
        #: interim results are written as they are published (see Settings.live_after)
        self._live = False
        self._running_written = False
        self._finishing = False
        #: interim results published and not yet in the store, oldest first
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
                return self._engine.backend(self._backend)
            except QRTError:
                return self._backend
        return self._backend

    def backend_name(self) -> str:
        return self._backend if isinstance(self._backend, str) else self._backend.name

    # -- status -------------------------------------------------------------
    def status(self) -> JobStatus:
        if not self._owned:
            self._refresh()
        return self._status  # type: ignore[return-value]

    def _refresh(self) -> None:
        if self._status in JOB_FINAL_STATES:
            return
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
            owner = self._engine.live_job(self._job_id)
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
        scheduler = self._scheduler or self._engine.scheduler
        if queued and self._task is not None and scheduler.remove(self._task):
            self._finish("CANCELLED", error=reason)
        return True

    # -- interim results ----------------------------------------------------
    def stream_results(self, callback: Callable[[str, Any], Any]) -> None:
        """Call ``callback(job_id, interim)`` for every interim result, past and future."""
        if not self._owned:
            threading.Thread(target=poll_stored, args=(self, callback), daemon=True).start()
            return
        with self._lock:
            sub = Subscriber(self, callback, self._interim, self._settings.coalesce)
            self._subscribers.append(sub)
            if self._status in JOB_FINAL_STATES:
                sub.close()

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
            self._pending_interim.append((seq, at, payload, summary))
            self._interim.append(obj)
            for sub in self._subscribers:
                sub.push(obj)
            if self._live:
                self._write_pending()
        return seq

    def _write_pending(self) -> None:
        """Write RUNNING (once) and the interim results not yet stored, in order.

        Called with the lock held. A failed write keeps them pending: the next publish,
        or the final write, tries again; nothing is dropped.
        """
        pending = self._pending_interim
        try:
            if not self._running_written:
                self._store.mark_running(self._job_id, self._started, interim=pending)
                self._running_written = True
            elif pending:
                self._store.add_interim(self._job_id, pending)
        except Exception:  # noqa: BLE001 - kept pending: the next write or the final one retries
            return
        self._pending_interim = []

    # -- logs ---------------------------------------------------------------
    def _log_internal(self, level: str, message: str) -> None:
        if _LEVELS.get(level, 20) < self._log_threshold:
            return
        try:
            self._store.add_logs(self._job_id, [(time.time(), level, message)])
        except Exception as exc:  # noqa: BLE001 - a log line is not worth failing a job for
            log.warning("job %s: could not store a log line (%s): %s", self._job_id, exc,
                        message)

    # -- running (owned jobs only) ------------------------------------------
    def _enqueue(self, priority: int, *, lane: str | None = None,
                 sequential: bool = False) -> None:
        """Put the job on its scheduler's queue."""
        self._task = self._scheduler.submit(self._execute, priority=priority, lane=lane,
                                            sequential=sequential, job_id=self._job_id)

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
        if self._settings.live_after > 0:
            live_writer.watch(self, self._settings.live_after)
        else:
            self._go_live()
        if self._mode is not None:
            self._mode._job_started(self)
        events.emit("running", self)
        ctx = ExecutionContext(self, self._executor, self.backend())
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
        """From now on interim results are written as they are published."""
        with self._lock:
            if self._live or self._finishing or self._status != "RUNNING":
                return
            self._live = True
            self._write_pending()

    def _finish(self, status: str, *, result: Any = None, error: str | None = None) -> None:
        """Record the final state: in the store if it can be written, in memory always."""
        with self._lock:
            self._finishing = True
        finished = time.time()
        ctx = self._ctx
        metrics: dict[str, Any] = {
            "timestamps": {
                "created": _iso(self._created),
                "running": _iso(self._started),
                "finished": _iso(finished),
            },
            "usage": {
                "seconds": job_duration(self._started, finished) or 0.0,
                "quantum_seconds": ctx.quantum_seconds if ctx else 0.0,
            },
        }
        if ctx is not None:
            metrics["transpile_cache"] = ctx.cache_stats()
            metrics.update(ctx.metrics)
        blob = None
        if status == "DONE":
            try:
                blob = codec.encode(result)
            except Exception as exc:  # noqa: BLE001
                status, error = "ERROR", f"The result could not be stored: {exc!r}"
        if status == "CANCELLED":
            self._log_internal("WARNING", error or "Cancelled.")
        final = FinalWrite(self, status, finished, codec.to_json(metrics), error, blob)
        if not final.attempt(QUICK_RETRIES):
            # The job ends now, in memory, saying why; the store gets the same state
            # (and every interim result it lacks) as soon as it can be written.
            status, error = "ERROR", final.failure_message()
            result = None
            final.status, final.error, final.result = status, error, None
            final.retry_in_background(self._settings.final_write_patience)
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



