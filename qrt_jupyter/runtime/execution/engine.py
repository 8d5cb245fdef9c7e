"""The engine: records jobs, queues them, keeps the live ones and their backends.

``LocalRuntimeService`` is the front door users see; the engine underneath is what
primitives, programs and modes submit to. It owns the store, the executor and its
scheduler, the backends handed out (each with its transpile cache), and the jobs this
process runs, so that ``service.job(id)`` returns the live object.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qiskit.providers import BackendV2

from ..backends import CATALOGUE, build_backend
from ..backends.executors import default_executor
from ..backends.transpile import TranspileCache
from ..core import events
from ..core.errors import BackendNotFoundError, InvalidInputError, did_you_mean
from ..core.ids import new_job_id
from ..core.settings import DEFAULT_SETTINGS, Settings
from ..core.store import Store, default_home
from . import watcher
from .context import ExecutionContext
from .final_write import abandon
from .job import RuntimeJob
from .protocols import Mode, TargetSource
from .scheduler import PRIORITY_JOB, Scheduler, scheduler_for

#: backend object -> weak reference to the engine that handed it out (a strong value
#: would keep the engine, which holds the backend, alive for ever)
_BACKEND_ENGINE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: jobs this process runs, so that service.job(id) returns the live object
_LIVE_JOBS: weakref.WeakValueDictionary[str, RuntimeJob] = weakref.WeakValueDictionary()
_DEFAULT_ENGINES: dict[Path, Engine] = {}
_DEFAULT_LOCK = threading.Lock()


@dataclass
class Target:
    """Where a primitive's jobs go.

    ``context`` is set for a primitive that a program runs inside its own job: its
    work then runs at once in a child of that context instead of being queued.
    """

    engine: Engine
    backend: BackendV2
    mode: Mode | None
    cache: TranspileCache
    context: ExecutionContext | None = None

    def execution_target(self) -> Target:
        return self


class Engine:
    """Store, executor, scheduler, backends and live jobs of one local runtime."""

    def __init__(self, store: Store | str | os.PathLike | None = None, *,
                 executor: Any = None, settings: Settings | None = None) -> None:
        if isinstance(store, Store):
            self.store = store
        else:
            path = Path(store) if store is not None else default_home() / "store.sqlite"
            if path.is_dir() or (store is not None and path.suffix == ""):
                path = path / "store.sqlite"
            self.store = Store(path)
        self.settings = settings or DEFAULT_SETTINGS
        self.executor = executor or default_executor()
        self.scheduler: Scheduler = scheduler_for(self.executor)
        self._backends: dict[str, BackendV2] = {}
        self._caches: dict[int, TranspileCache] = {}
        self._lock = threading.RLock()
        self._modes: weakref.WeakSet = weakref.WeakSet()
        self._last_seq = -1
        self.reap()

    @classmethod
    def default(cls) -> Engine:
        """The engine of ``$QRT_HOME``, shared by code that names no service."""
        path = (default_home() / "store.sqlite").resolve()
        with _DEFAULT_LOCK:
            engine = _DEFAULT_ENGINES.get(path)
            if engine is None:
                engine = _DEFAULT_ENGINES[path] = cls(path)
            return engine

    # -- backends --------------------------------------------------------------
    def backend(self, name: str | BackendV2 = "aer_simulator") -> BackendV2:
        """A warm backend by catalogue name, or register a BackendV2 of your own."""
        if isinstance(name, BackendV2):
            return self.add_backend(name)
        if not isinstance(name, str):
            raise InvalidInputError(
                f"backend must be a name or a BackendV2, not {type(name).__name__}."
            )
        with self._lock:
            backend = self._backends.get(name)
            if backend is None:
                if name not in CATALOGUE:
                    raise BackendNotFoundError(self._unknown_backend(name))
                backend = build_backend(name)
                self._backends[name] = backend
                _BACKEND_ENGINE[backend] = weakref.ref(self)
            return backend

    def backend_names(self) -> list[str]:
        return list(CATALOGUE) + [n for n in self._backends if n not in CATALOGUE]

    def add_backend(self, backend: BackendV2) -> BackendV2:
        with self._lock:
            known = self._backends.get(backend.name)
            if known is not None and known is not backend:
                raise InvalidInputError(
                    f"A different backend named '{backend.name}' is already registered; "
                    "give yours another name."
                )
            self._backends[backend.name] = backend
            _BACKEND_ENGINE[backend] = weakref.ref(self)
        return backend

    def cache_for(self, backend: BackendV2) -> TranspileCache:
        """The transpile cache of job-mode work on ``backend`` (sessions own theirs)."""
        with self._lock:
            cache = self._caches.get(id(backend))
            if cache is None or cache.backend is not backend:
                cache = TranspileCache(backend)
                self._caches[id(backend)] = cache
            return cache

    def execution_target(self) -> Target:
        """Job-mode work on ``aer_simulator``: what ``mode=service`` means."""
        backend = self.backend("aer_simulator")
        return Target(self, backend, None, self.cache_for(backend))

    def _unknown_backend(self, name: str) -> str:
        names = self.backend_names()
        return (
            f"No backend named '{name}'.{did_you_mean(name, names)} "
            f"Available: {', '.join(names)}; or pass any BackendV2 object."
        )

    # -- jobs ----------------------------------------------------------------
    def live_job(self, job_id: str) -> RuntimeJob | None:
        """The job object of a job this process runs, if it is one."""
        return _LIVE_JOBS.get(job_id)

    def forget_job(self, job_id: str) -> None:
        _LIVE_JOBS.pop(job_id, None)

    def stored_job(self, row: dict) -> RuntimeJob:
        """A handle on a job read from the store (perhaps run by another process)."""
        return RuntimeJob(
            row["id"], self, backend=row["backend"], kind=row["kind"], program=row["program"],
            session_id=row["session_id"], tags=row["tags"], inputs=row["inputs"],
            created=row["created"], options=row["options"], status=row["status"],
            error=row["error"], started=row["started"], finished=row["finished"],
        )

    def submit(self, work: Callable[[ExecutionContext], Any], *, kind: str,
               backend: BackendV2, mode: Mode | None, inputs: dict, options: dict,
               tags: Sequence[str] = (), program: str | None = None,
               log_level: str = "WARNING", max_execution_time: float | None = None,
               callback: Callable | None = None) -> RuntimeJob:
        """Record a validated job and queue it; ``work(ctx)`` runs in a worker thread."""
        if mode is not None:
            mode._check_submit()
        job_id = new_job_id()
        created = time.time()
        session_id = mode.session_id if mode is not None else None
        self.store.insert_job(
            job_id, session_id=session_id, kind=kind, program=program, backend=backend.name,
            created=created, tags=list(tags), inputs=inputs, options=options,
            # A Batch submits jobs in bursts: their records are written in groups (one
            # transaction for many; visible to other processes within milliseconds).
            group=mode._group_writes if mode is not None else False,
        )
        scheduler = (mode._scheduler if mode is not None else None) or self.scheduler
        job = RuntimeJob(
            job_id, self, backend=backend, kind=kind, program=program, session_id=session_id,
            tags=list(tags), inputs=inputs, created=created, options=options, work=work,
            mode=mode, executor=(mode._executor if mode is not None else None) or self.executor,
            scheduler=scheduler, max_execution_time=max_execution_time, log_level=log_level,
        )
        if callback is not None:
            job.stream_results(callback)
        _LIVE_JOBS[job_id] = job
        if mode is not None:
            mode._job_submitted(job)
            job._enqueue(mode._queue_priority(), lane=mode.session_id,
                        sequential=mode._sequential)
        else:
            job._enqueue(PRIORITY_JOB)
        watcher.watch(self)
        events.emit("submitted", job)
        return job

    # -- the watcher's work ----------------------------------------------------
    def watch_mode(self, mode: Any) -> None:
        """Have the watcher enforce this mode's lifetime."""
        self._modes.add(mode)
        watcher.watch(self)

    def reap(self, *, if_due: bool = False) -> None:
        """Mark jobs and sessions of processes that died (at most every reap_interval).

        The store throttles and skips a store it cannot write (read-only, full disk).
        """
        try:
            self.store.reap_orphans(self.settings.reap_interval if if_due else 0.0)
        except Exception:  # noqa: BLE001 - reading still works; the next tick tries again
            pass

    def watch_once(self) -> None:
        """Enforce session lifetimes, reap orphans, honour cancel requests from the store."""
        for mode in list(self._modes):
            mode._tick()
        self.reap(if_due=True)
        seq = self.store.change_seq()
        if seq == self._last_seq:
            return
        self._last_seq = seq
        for job_id in self.store.cancel_requests(self.store.owner):
            job = _LIVE_JOBS.get(job_id)
            if job is not None:
                job._cancel_with("Cancelled from another process.")
        modes = {m.session_id: m for m in list(self._modes)}
        for session_id, how in self.store.session_requests(self.store.owner):
            mode = modes.get(session_id)
            if mode is not None:
                mode.cancel() if how == 2 else mode.close()


@atexit.register
def _record_unfinished_jobs() -> None:
    """At interpreter exit, say in the store what becomes of this process's unfinished jobs.

    A script that ends (or ``sys.exit`` inside ``with Batch``) with jobs still queued or
    running would otherwise leave them QUEUED/RUNNING until another process reaps them.
    """
    for job in list(_LIVE_JOBS.values()):
        try:
            abandon(job, "The process exited before the job finished; run the job again.")
        except Exception:  # noqa: BLE001 - exiting: record what can be recorded
            pass


def engine_of(backend: BackendV2) -> Engine | None:
    """The engine that handed out ``backend``, if one did."""
    ref = _BACKEND_ENGINE.get(backend)
    return ref() if ref is not None else None


def resolve_backend(backend: BackendV2 | str | None,
                    engine: Engine | None) -> tuple[Engine, BackendV2]:
    """The engine and backend object for what a user passed to a mode or primitive."""
    if isinstance(backend, BackendV2):
        engine = engine or engine_of(backend) or Engine.default()
        return engine, engine.add_backend(backend)
    engine = engine or Engine.default()
    if backend is None:
        return engine, engine.backend("aer_simulator")
    if isinstance(backend, str):
        return engine, engine.backend(backend)
    raise InvalidInputError(
        f"backend must be a catalogue name or a BackendV2, not {type(backend).__name__}."
    )


def resolve_target(mode: Any) -> Target:
    """Where a primitive given ``mode`` sends its jobs (mode None: the current mode)."""
    from ..core import current

    if mode is None:
        mode = current.current_mode()
    if isinstance(mode, TargetSource):
        return mode.execution_target()
    if mode is None or isinstance(mode, (str, BackendV2)):
        engine, backend = resolve_backend(mode, None)
        return Target(engine, backend, None, engine.cache_for(backend))
    raise InvalidInputError(
        f"mode must be a Session, a Batch, a backend or a backend name, not "
        f"{type(mode).__name__}."
    )
