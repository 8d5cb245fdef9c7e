"""Execution modes: Session (one job after another) and Batch (jobs side by side).

A mode owns a lane in the scheduler, a transpile cache for its backend, and the
rules of its lifetime, which follow IBM Quantum's: the mode starts when its first
job starts, and ``max_time`` counts from then; idle longer than its TTL after a
job, it is deactivated until its next job starts; ``close()`` lets queued jobs
finish, ``cancel()`` stops them. Its state is written to the store so that other
processes (and the JupyterLab sidebar) see it.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from qiskit.providers import BackendV2

from .backends.transpile import TranspileCache
from .core import current as context
from .core.durations import format_duration, parse_duration
from .core.errors import InvalidInputError, SessionClosedError
from .core.ids import new_session_id
from .core.store import process_alive
from .execution.engine import Target, resolve_backend
from .execution.scheduler import PRIORITY_BATCH, PRIORITY_JOB, PRIORITY_SESSION, scheduler_for
from .service import LocalRuntimeService

if TYPE_CHECKING:
    from .execution.job import RuntimeJob

#: Seconds without jobs (after its first one) after which a session is deactivated.
DEFAULT_TTL = 600.0

#: session id -> the live Session or Batch of this process, for ``from_id``
_LIVE_MODES: weakref.WeakValueDictionary[str, Session] = weakref.WeakValueDictionary()


def resolve_executor(executor: Any) -> Any:
    """The executor object for what a mode was given: None, "local", "processes" or one."""
    if executor is None:
        return None
    if isinstance(executor, str):
        if executor == "local":
            from .backends.executors import default_executor

            return default_executor()
        if executor in ("processes", "process"):
            from .backends.executors.process import shared_process_executor

            return shared_process_executor()
        raise InvalidInputError(
            f"executor must be 'local', 'processes' or an executor object, not {executor!r}."
        )
    if not callable(getattr(executor, "run_circuits", None)) or not hasattr(executor, "capacity"):
        raise InvalidInputError(
            f"{type(executor).__name__} is not an executor: it needs run_circuits() and "
            "capacity."
        )
    return executor


class Session:
    """Jobs run one after another, in submission order, ahead of job-mode work.

    As on IBM Quantum, a session starts when its first job starts: a session opened in
    one notebook cell and used minutes later has lost none of its ``max_time``. When
    ``max_time`` is reached the session expires: queued jobs are cancelled, a running job
    finishes (``options.max_execution_time`` bounds a job). ``ttl`` is IBM's interactive
    TTL: idle that long after a job ends, the session is deactivated, not closed; its next
    job queues like job-mode work and reactivates it when it starts, so a notebook left
    alone for a while can go on with the same session.

    ``executor`` chooses where the jobs' simulations run: the service's executor (default),
    ``"processes"`` (a shared pool of worker processes, see ``ProcessExecutor``; pays off
    for a Batch of many small jobs) or any executor object.
    """

    _mode_name = "session"
    _sequential = True
    _priority = PRIORITY_SESSION
    _group_writes = False

    def __init__(self, backend: BackendV2 | str | None = None,
                 max_time: float | str | None = None, *, ttl: float | str | None = DEFAULT_TTL,
                 service: LocalRuntimeService | None = None, executor: Any = None) -> None:
        engine, self._backend = resolve_backend(
            backend, service.engine if service is not None else None)
        self._engine = engine
        self._service = service if service is not None else LocalRuntimeService.of(engine)
        #: where this mode's jobs run: None for the service's executor
        self._executor = resolve_executor(executor)
        self._scheduler = None if self._executor is None else scheduler_for(self._executor)
        self._max_time = parse_duration(max_time, name="max_time")
        self._ttl = parse_duration(ttl, name="ttl")
        self._session_id = new_session_id()
        self._created = time.time()
        self._state = "open"  # open | closed | cancelled | expired
        self._reason: str | None = None
        self._closed_at: float | None = None
        self._lock = threading.RLock()
        self._jobs: list[RuntimeJob] = []
        self._active = 0
        self._last_activity = self._created
        self._usage = 0.0
        self._last_started: float | None = None
        #: when the first job started: the session's clock starts then
        self._started: float | None = None
        #: idle past its ttl: its jobs have lost their priority until one starts
        self._deactivated = False
        self._last_completed: float | None = None
        self._cache = TranspileCache(self._backend)
        self._tokens: list[Any] = []
        self._engine.store.insert_session(
            self._session_id, mode=self._mode_name, backend=self._backend.name,
            max_time=self._max_time, ttl=self._ttl, created=self._created,
        )
        self._engine.watch_mode(self)
        _LIVE_MODES[self._session_id] = self

    @classmethod
    def from_id(cls, session_id: str, service: LocalRuntimeService | None = None) -> Session:
        """The session with this id, as qiskit-ibm-runtime's ``Session.from_id``.

        A session's jobs run in the process that opened it, so only that process can
        submit to it (a lost variable, another cell); for another process's session the
        error says so, and ``service.session(id)`` reads what the store knows of it.
        """
        from .service import LocalRuntimeService

        mode = _LIVE_MODES.get(session_id)
        if mode is not None:
            if not isinstance(mode, cls):
                raise InvalidInputError(
                    f"{session_id} is a {mode._mode_name}, not a {cls._mode_name}: use "
                    f"{type(mode).__name__}.from_id({session_id!r})."
                )
            return mode  # closed or not: its details stay readable, run() says if closed
        row = (service or LocalRuntimeService.default()).session(session_id)
        name = row["mode"].capitalize()
        if row["state"] == "open" and process_alive(row["owner"]):
            pid = row["owner"].rsplit(":", 2)[1]
            raise InvalidInputError(
                f"{name} {session_id} was opened by another process (pid {pid}) and its jobs "
                f"run there: submit from that process, or open a new {row['mode']} here."
            )
        why = "its process exited" if row["state"] == "open" else f"it is {row['state']}"
        raise SessionClosedError(
            f"{name} {session_id} accepts no new jobs ({why}). Open a new "
            f"{row['mode']}: {name}(backend={row['backend']!r})."
        )

    # -- identity ------------------------------------------------------------
    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def service(self) -> LocalRuntimeService:
        return self._service

    def backend(self) -> str:
        return self._backend.name

    def execution_target(self) -> Target:
        """Where primitives given this mode send their jobs."""
        return Target(self._engine, self._backend, self, self._cache)

    @property
    def max_time(self) -> float | None:
        return self._max_time

    @property
    def jobs(self) -> list[RuntimeJob]:
        with self._lock:
            return list(self._jobs)

    # -- lifetime -------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds since the session started (its first job started); 0 before."""
        if self._started is None:
            return 0.0
        end = self._closed_at if self._state in ("cancelled", "expired") else None
        return max(0.0, (end or time.time()) - self._started)

    def remaining(self) -> float | None:
        """Seconds left before max_time, or None without a limit."""
        if self._max_time is None:
            return None
        return max(0.0, self._max_time - self.elapsed())

    def _expiry_reason(self) -> str | None:
        started = self._started
        if self._max_time is not None and started is not None:
            if time.time() - started >= self._max_time:
                return f"its max_time of {format_duration(self._max_time)} was reached"
        return None

    def _check_idle(self) -> None:
        """Deactivate a started session that has had nothing to do for its ttl."""
        with self._lock:
            if self._deactivated or self._ttl is None or self._started is None:
                return
            if self._active == 0 and time.time() - self._last_activity >= self._ttl:
                self._deactivated = True
            else:
                return
        self._record_active(False)

    def _record_active(self, active: bool) -> None:
        """Write (de)activation to the store: other processes and the sidebar read it."""
        try:
            self._engine.store.set_session_active(self._session_id, active)
        except Exception:  # noqa: BLE001 - the session's own state is what counts here
            pass

    def _tick(self) -> None:
        """Called by the service's watcher: enforce max_time and the idle TTL."""
        if self._state != "open" and self._state != "closed":
            return
        self._check_idle()
        reason = self._expiry_reason()
        if reason is not None:
            self._end("expired", f"{self._mode_name.capitalize()} expired: {reason}.")

    def _check_submit(self) -> None:
        if self._state == "open":
            reason = self._expiry_reason()
            if reason is not None:
                self._end("expired", f"{self._mode_name.capitalize()} expired: {reason}.")
        if self._state != "open":
            raise SessionClosedError(
                f"{self._mode_name.capitalize()} {self._session_id} is {self._state} and "
                f"accepts no new jobs ({self._reason or 'closed by the user'}). Open a new "
                f"{self._mode_name}: {type(self).__name__}(backend=...)."
            )

    def _refuse_start(self) -> str | None:
        # checked here, at start, not only by the watcher: a job queued before max_time
        # must not start a moment after it
        if self._state in ("open", "closed"):
            reason = self._expiry_reason()
            if reason is not None:
                self._end("expired", f"{self._mode_name.capitalize()} expired: {reason}.")
        if self._state in ("cancelled", "expired"):
            return self._reason or f"The {self._mode_name} was {self._state}."
        return None

    def _job_submitted(self, job: RuntimeJob) -> None:
        self._check_idle()  # whether the watcher has looked yet or not
        with self._lock:
            self._jobs.append(job)
            self._active += 1
            self._last_activity = time.time()

    def _queue_priority(self) -> int:
        """A deactivated session's jobs queue like job-mode work, as on IBM Quantum."""
        return PRIORITY_JOB if self._deactivated else self._priority

    def _job_started(self, job: RuntimeJob) -> None:
        with self._lock:
            reactivated, self._deactivated = self._deactivated, False
        if reactivated:
            self._record_active(True)
        with self._lock:
            self._last_started = job.started or time.time()  # the store's start time too
            if self._started is None:
                self._started = self._last_started

    def _job_finished(self, job: RuntimeJob) -> None:
        with self._lock:
            self._active -= 1
            self._last_activity = self._last_completed = time.time()
            self._usage += job.duration or 0.0

    def _end(self, state: str, reason: str | None) -> None:
        with self._lock:
            if self._state in ("cancelled", "expired"):
                return
            self._state = state
            self._reason = reason
            self._closed_at = time.time()
            pending = [j for j in self._jobs if not j.in_final_state()]
            if state == "expired":  # a running job finishes, as on IBM Quantum
                pending = [j for j in pending if not j.running()]
        self._engine.store.update_session(self._session_id, state=state, closed=self._closed_at)
        if state in ("cancelled", "expired"):
            for job in pending:
                job._cancel_with(reason or f"The {self._mode_name} was {state}.")
        if context.default_mode() is self:
            context.set_default_mode(None)

    def close(self) -> None:
        """Accept no new jobs; queued and running ones still finish."""
        with self._lock:
            if self._state != "open":
                return
            self._state = "closed"
            self._closed_at = time.time()
        self._engine.store.update_session(self._session_id, state="closed",
                                           closed=self._closed_at)
        if context.default_mode() is self:
            context.set_default_mode(None)

    def cancel(self) -> None:
        """Cancel every queued and running job and close."""
        self._end("cancelled", f"The {self._mode_name} was cancelled.")

    def status(self) -> str:
        """The qiskit-ibm-runtime status strings: 'Pending' before the first job starts and
        while deactivated."""
        self._tick()
        if self._state == "open":
            if self._started is None or self._deactivated:
                return "Pending"
            return "In progress, accepting new jobs"
        with self._lock:
            busy = self._active > 0
        if self._state in ("closed", "expired") and busy:  # an expired one's running job
            return "In progress, not accepting new jobs"
        return "Closed"

    @property
    def state(self) -> str:
        self._tick()
        return self._state

    def usage(self) -> float:
        """Seconds its jobs spent running."""
        with self._lock:
            return self._usage

    def details(self) -> dict[str, Any]:
        with self._lock:
            counts: dict[str, int] = {}
            for job in self._jobs:
                counts[job._status] = counts.get(job._status, 0) + 1
        return {
            "id": self._session_id,
            "mode": self._mode_name,
            "backend_name": self._backend.name,
            "state": self.state,
            "accepting_jobs": self._state == "open",
            "active": self._started is not None and not self._deactivated,
            "max_time": self._max_time,
            "interactive_timeout": self._ttl,
            "created_at": self._created,
            "started_at": self._started,
            "closed_at": self._closed_at,
            "elapsed": self.elapsed(),
            "remaining": self.remaining(),
            "last_job_started": self._last_started,
            "last_job_completed": self._last_completed,
            "usage_time": self.usage(),
            "jobs": counts,
            "reason": self._reason,
        }

    def __enter__(self) -> Session:
        self._tokens.append(context.enter(self))
        return self

    def __exit__(self, *exc: Any) -> None:
        context.leave(self._tokens.pop())
        self.close()

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self._session_id} on {self._backend.name}: "
                f"{self.state}>")

    def _repr_html_(self) -> str:
        from .core.display import mode_html

        return mode_html(self)


class Batch(Session):
    """Jobs run side by side, up to the executor's capacity."""

    _mode_name = "batch"
    _sequential = False
    _priority = PRIORITY_BATCH
    #: job records are written in groups (see Store.insert_job)
    _group_writes = True
