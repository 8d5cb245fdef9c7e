"""LocalRuntimeService: the entry point, as QiskitRuntimeService is for the cloud.

It owns the store, the backend catalogue and the connection to the scheduler,
creates and records jobs, and finds them again. One watcher thread per process
enforces session lifetimes and acts on cancel requests that other processes (the
JupyterLab sidebar) write into the store, for every service that has work.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from qiskit.providers import BackendV2

from .backends import CATALOGUE, build_backend, is_noisy
from .backends.executors import default_executor
from .backends.transpile import TranspileCache
from .core import current as context
from .core import events
from .core.errors import (
    BackendNotFoundError,
    InvalidInputError,
    JobNotFoundError,
    SessionNotFoundError,
)
from .core.store import Store, default_home
from .execution.job import RuntimeJob
from .execution.scheduler import PRIORITY_JOB, scheduler_for

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: backend object -> weak reference to the service that handed it out (a strong value
#: would keep the service, which holds the backend, alive for ever)
_BACKEND_SERVICE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: jobs this process runs, so that service.job(id) returns the live object
_LIVE_JOBS: weakref.WeakValueDictionary[str, RuntimeJob] = weakref.WeakValueDictionary()
_DEFAULT_SERVICES: dict[Path, LocalRuntimeService] = {}
_DEFAULT_LOCK = threading.Lock()
WATCH_INTERVAL = 0.2


class LocalRuntimeService:
    """Backends, jobs and the store of the local runtime."""

    def __init__(self, store: Store | str | os.PathLike | None = None, *,
                 executor: Any = None) -> None:
        if isinstance(store, Store):
            self.store = store
        else:
            path = Path(store) if store is not None else default_home() / "store.sqlite"
            if path.is_dir() or (store is not None and path.suffix == ""):
                path = path / "store.sqlite"
            self.store = Store(path)
        self.executor = executor or default_executor()
        self._scheduler = scheduler_for(self.executor)
        self._backends: dict[str, BackendV2] = {}
        self._caches: dict[int, TranspileCache] = {}
        self._lock = threading.RLock()
        self._modes: weakref.WeakSet = weakref.WeakSet()
        self._last_seq = -1
        self._programs: dict[str, Any] = {}
        self.store.reap_orphans()

    @classmethod
    def default(cls) -> LocalRuntimeService:
        """The service of ``$QRT_HOME``, shared by code that names no service."""
        path = (default_home() / "store.sqlite").resolve()
        with _DEFAULT_LOCK:
            service = _DEFAULT_SERVICES.get(path)
            if service is None:
                service = cls(path)
                _DEFAULT_SERVICES[path] = service
            return service

    # -- backends --------------------------------------------------------------
    def backends(self, name: str | None = None, *, noisy: bool | None = None,
                 min_num_qubits: int | None = None) -> list[BackendV2]:
        names = [name] if name else list(CATALOGUE) + [
            n for n in self._backends if n not in CATALOGUE
        ]
        found = [self.backend(n) for n in names]
        if noisy is not None:
            found = [b for b in found if is_noisy(b) == noisy]
        if min_num_qubits is not None:
            found = [b for b in found if b.num_qubits >= min_num_qubits]
        return found

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
                    raise BackendNotFoundError(_unknown_backend(name, self._backends))
                backend = build_backend(name)
                self._backends[name] = backend
                _BACKEND_SERVICE[backend] = weakref.ref(self)
            return backend

    def add_backend(self, backend: BackendV2) -> BackendV2:
        with self._lock:
            known = self._backends.get(backend.name)
            if known is not None and known is not backend:
                raise InvalidInputError(
                    f"A different backend named '{backend.name}' is already registered; "
                    "give yours another name."
                )
            self._backends[backend.name] = backend
            _BACKEND_SERVICE[backend] = weakref.ref(self)
        return backend

    def _cache_for(self, backend: BackendV2) -> TranspileCache:
        with self._lock:
            cache = self._caches.get(id(backend))
            if cache is None or cache.backend is not backend:
                cache = TranspileCache(backend)
                self._caches[id(backend)] = cache
            return cache

    # -- jobs ----------------------------------------------------------------
    def job(self, job_id: str) -> RuntimeJob:
        """The job with this id, also one written by another process."""
        if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
            raise InvalidInputError(
                f"{job_id!r} is not a job id: ids are letters, digits, '-' and '_' "
                "(see job.job_id())."
            )
        live = _LIVE_JOBS.get(job_id)
        if live is not None:
            return live
        self.store.reap_orphans()
        row = self.store.get_job(job_id)
        if row is None:
            raise JobNotFoundError(
                f"No job '{job_id}' in the store {self.store.path}. List jobs with "
                "service.jobs() or %qrt jobs."
            )
        return self._observed(row)

    def jobs(self, limit: int | None = 10, *, skip: int = 0, session_id: str | None = None,
             pending: bool | None = None, tags: Sequence[str] | None = None,
             created_after: datetime | float | None = None, status: str | None = None,
             program: str | None = None) -> list[RuntimeJob]:
        """Jobs newest first, filtered as in QiskitRuntimeService.jobs()."""
        if isinstance(created_after, datetime):
            created_after = created_after.timestamp()
        self.store.reap_orphans()
        rows = self.store.list_jobs(
            limit=limit, offset=skip, session_id=session_id, pending=pending, tags=tags,
            created_after=created_after, status=status, program=program,
        )
        return [_LIVE_JOBS.get(r["id"]) or self._observed(r) for r in rows]

    def delete_job(self, job_id: str) -> None:
        job = self.job(job_id)
        if not job.in_final_state():
            raise InvalidInputError(
                f"Job {job_id} is {job.status()}; cancel it before deleting it."
            )
        self.store.delete_job(job_id)
        _LIVE_JOBS.pop(job_id, None)  # else service.job(id) would still find it in memory

    def _observed(self, row: dict) -> RuntimeJob:
        job = RuntimeJob(
            row["id"], self, backend=row["backend"], kind=row["kind"], program=row["program"],
            session_id=row["session_id"], tags=row["tags"], inputs=row["inputs"],
            created=row["created"], owned=False, options=row["options"],
        )
        job._status = row["status"]
        job._error = row["error"]
        job._started = row["started"]
        job._finished = row["finished"]
        return job

    def _live_job(self, job_id: str) -> RuntimeJob | None:
        return _LIVE_JOBS.get(job_id)

    def session(self, session_id: str) -> dict:
        """What the store knows of a session (also one opened by another process)."""
        row = self.store.get_session(session_id)
        if row is None:
            raise SessionNotFoundError(f"No session '{session_id}' in {self.store.path}.")
        row["jobs"] = self.store.session_job_counts(session_id)
        return row

    def submit(self, work: Callable, *, kind: str, backend: BackendV2, mode: Any,
               inputs: dict, options: dict, tags: Sequence[str] = (),
               program: str | None = None, log_level: str = "WARNING",
               max_execution_time: float | None = None,
               callback: Callable | None = None) -> RuntimeJob:
        """Record a validated job and queue it; ``work(ctx)`` runs in a worker thread."""
        if mode is not None:
            mode._check_submit()
        job_id = secrets.token_hex(10)
        created = time.time()
        session_id = mode.session_id if mode is not None else None
        self.store.insert_job(
            job_id, session_id=session_id, kind=kind, program=program, backend=backend.name,
            created=created, tags=list(tags), inputs=inputs, options=options,
            # A Batch submits jobs in bursts: their records are written in groups (one
            # transaction for many; visible to other processes within milliseconds).
            group=getattr(mode, "_group_writes", False),
        )
        job = RuntimeJob(
            job_id, self, backend=backend, kind=kind, program=program, session_id=session_id,
            tags=list(tags), inputs=inputs, created=created, owned=True, options=options,
        )
        from .execution.job import _LEVELS

        job._log_threshold = _LEVELS.get(log_level, 30)
        job._work = work
        job._mode = mode
        scheduler = getattr(mode, "_scheduler", None) or self._scheduler
        job._executor = getattr(mode, "_executor", None) or self.executor
        job._scheduler = scheduler
        job._max_execution_time = max_execution_time
        if callback is not None:
            job.stream_results(callback)
        _LIVE_JOBS[job_id] = job
        if mode is not None:
            mode._job_submitted(job)
            priority, lane, sequential = mode._queue_priority(), mode.session_id, mode._sequential
        else:
            priority, lane, sequential = PRIORITY_JOB, None, False
        job._task = scheduler.submit(
            job._execute, priority=priority, lane=lane, sequential=sequential, job_id=job_id
        )
        self._ensure_watcher()
        events.emit("submitted", job)
        return job

    # -- programs ------------------------------------------------------------
    def register_program(self, fn: Callable, name: str | None = None, *,
                         description: str | None = None) -> str:
        """Make ``fn(ctx, **inputs)`` runnable by name with ``service.run``."""
        from .programs.registry import make_program

        prog = make_program(fn, name, description)
        self._programs[prog.name] = prog
        return prog.name

    def programs(self) -> list[Any]:
        """Built-in, decorated and registered programs."""
        from .programs import load_builtins
        from .programs.registry import registered

        load_builtins()
        merged = {**registered(), **self._programs}
        return list(merged.values())

    def _program(self, program: str | Callable) -> Any:
        from .programs import load_builtins
        from .programs.registry import make_program, registered

        if callable(program):
            # a function registered with this service runs under the name it was given
            for prog in self._programs.values():
                if prog.fn is program:
                    return prog
            name = getattr(program, "__qrt_program__", None)
            if name is not None and name in registered():
                return registered()[name]
            return make_program(program)
        if not isinstance(program, str):
            raise InvalidInputError(
                f"program must be a registered name or a function, not {type(program).__name__}."
            )
        load_builtins()
        known = {**registered(), **self._programs}
        if program not in known:
            from .core.errors import did_you_mean

            raise InvalidInputError(
                f"No program named '{program}'.{did_you_mean(program, known)} "
                f"Registered: {', '.join(sorted(known))}."
            )
        return known[program]

    def run(self, program: str | Callable, inputs: dict | None = None, *, mode: Any = None,
            options: dict | None = None, callback: Callable | None = None,
            resume_from: str | None = None, tags: Sequence[str] = (),
            max_execution_time: float | None = None, log_level: str = "INFO") -> RuntimeJob:
        """Run a program as a job in the background; returns the job at once."""
        from .execution.codec import to_json
        from .primitives.base import resolve_target
        from .programs.context import ProgramContext, split_options

        prog = self._program(program)
        est_opts, sam_opts = split_options(options)
        if mode is None:
            mode = context.current_mode() or self.backend("aer_simulator")
        target = resolve_target(mode)
        if target.service is not self:
            target = type(target)(self, self.add_backend(target.backend), target.mode,
                                  target.cache)
        bound = prog.bind(inputs or {}, backend=target.backend)
        if resume_from is not None:
            self.job(resume_from)  # raises for an unknown id before anything is stored
        if max_execution_time is not None and max_execution_time <= 0:
            raise InvalidInputError("max_execution_time must be a positive number of seconds.")

        def work(job_ctx: Any) -> Any:
            ctx = ProgramContext(job_ctx, target, estimator_options=est_opts,
                                 sampler_options=sam_opts, resume_from=resume_from)
            return prog.fn(ctx, **bound)

        summary = {k: _summarise(v, to_json) for k, v in bound.items()}
        if resume_from:
            summary["resume_from"] = resume_from
        return self.submit(
            work, kind="program", program=prog.name, backend=target.backend, mode=target.mode,
            inputs=summary, options=to_json(options or {}), tags=tags, log_level=log_level,
            max_execution_time=max_execution_time, callback=callback,
        )

    # -- modes and the watcher ---------------------------------------------
    def current_mode_is(self, mode: Any) -> bool:
        return context.default_mode() is mode

    def _watch_mode(self, mode: Any) -> None:
        self._modes.add(mode)
        self._ensure_watcher()

    def _ensure_watcher(self) -> None:
        _WATCHED.add(self)
        global _watcher
        with _WATCHER_LOCK:
            if _watcher is None or not _watcher.is_alive():
                _watcher = threading.Thread(target=_watch, name="qrt-watcher", daemon=True)
                _watcher.start()

    def _watch_once(self) -> None:
        """Enforce session lifetimes and honour cancel requests from the store."""
        for mode in list(self._modes):
            mode._tick()
        try:
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
        except Exception:  # noqa: BLE001 - a locked or closed store: try next tick
            pass


#: services that have had work in this process; the watcher visits each per tick
_WATCHED: weakref.WeakSet[LocalRuntimeService] = weakref.WeakSet()
_WATCHER_LOCK = threading.Lock()
_watcher: threading.Thread | None = None


def _watch() -> None:
    """The process's watcher: one thread, however many services there are."""
    while True:
        time.sleep(WATCH_INTERVAL)
        for service in list(_WATCHED):
            try:
                service._watch_once()
            except Exception:  # noqa: BLE001 - one service's trouble must not stop the rest
                pass
        service = None  # hold no service between ticks, so that unused ones can go


def _summarise(value: Any, to_json: Callable[[Any], Any]) -> Any:
    """A short JSON description of a program input for the store and the sidebar."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    if isinstance(value, QuantumCircuit):
        return {"circuit": value.name, "num_qubits": value.num_qubits,
                "num_parameters": value.num_parameters}
    if isinstance(value, SparsePauliOp):
        return {"operator": f"{len(value)} Pauli terms", "num_qubits": value.num_qubits}
    text = to_json(value)
    return text if len(repr(text)) < 2000 else repr(value)[:200]


def _unknown_backend(name: str, extra: dict) -> str:
    from .core.errors import did_you_mean

    names = list(CATALOGUE) + [n for n in extra if n not in CATALOGUE]
    return (
        f"No backend named '{name}'.{did_you_mean(name, names)} "
        f"Available: {', '.join(names)}; or pass any BackendV2 object."
    )


def service_of(backend: BackendV2) -> LocalRuntimeService | None:
    ref = _BACKEND_SERVICE.get(backend)
    return ref() if ref is not None else None


def resolve_backend(backend: BackendV2 | str | None,
                    service: LocalRuntimeService | None) -> tuple[LocalRuntimeService, BackendV2]:
    """The service and backend object for what a user passed to a mode or primitive."""
    if isinstance(backend, BackendV2):
        service = service or service_of(backend) or LocalRuntimeService.default()
        return service, service.add_backend(backend)
    service = service or LocalRuntimeService.default()
    if backend is None:
        return service, service.backend("aer_simulator")
    if isinstance(backend, str):
        return service, service.backend(backend)
    raise InvalidInputError(
        f"backend must be a catalogue name or a BackendV2, not {type(backend).__name__}."
    )
