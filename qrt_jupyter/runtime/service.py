"""LocalRuntimeService: the entry point, as QiskitRuntimeService is for the cloud.

The front door: backends by name, jobs found again (also those of other
processes), programs registered and run. What it does is done by the engine under
it (``execution.engine``): recording and queueing jobs, the live-job registry, the
watcher. Several services over one store share one engine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from qiskit.providers import BackendV2

from .backends import is_noisy
from .core.errors import InvalidInputError, JobNotFoundError, SessionNotFoundError
from .core.ids import is_id
from .core.settings import Settings
from .core.store import Store
from .execution.engine import Engine, Target
from .execution.job import RuntimeJob
from .programs import runner

_SERVICES: dict[int, LocalRuntimeService] = {}
_SERVICES_LOCK = threading.Lock()


class LocalRuntimeService:
    """Backends, jobs, programs and the store of the local runtime."""

    def __init__(self, store: Store | str | os.PathLike | None = None, *,
                 executor: Any = None, settings: Settings | None = None,
                 engine: Engine | None = None) -> None:
        self.engine = engine or Engine(store, executor=executor, settings=settings)
        self._programs: dict[str, Any] = {}

    @classmethod
    def default(cls) -> LocalRuntimeService:
        """The service of ``$QRT_HOME``, shared by code that names no service."""
        return cls.of(Engine.default())

    @classmethod
    def of(cls, engine: Engine) -> LocalRuntimeService:
        """The service over ``engine`` (one per engine, so registered programs persist)."""
        with _SERVICES_LOCK:
            service = _SERVICES.get(id(engine))
            if service is None or service.engine is not engine:
                service = _SERVICES[id(engine)] = cls(engine=engine)
            return service

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def executor(self) -> Any:
        return self.engine.executor

    def execution_target(self) -> Target:
        """``mode=service``: job-mode work on aer_simulator."""
        return self.engine.execution_target()

    # -- backends --------------------------------------------------------------
    def backends(self, name: str | None = None, *, noisy: bool | None = None,
                 min_num_qubits: int | None = None) -> list[BackendV2]:
        names = [name] if name else self.engine.backend_names()
        found = [self.backend(n) for n in names]
        if noisy is not None:
            found = [b for b in found if is_noisy(b) == noisy]
        if min_num_qubits is not None:
            found = [b for b in found if b.num_qubits >= min_num_qubits]
        return found

    def backend(self, name: str | BackendV2 = "aer_simulator") -> BackendV2:
        """A warm backend by catalogue name, or register a BackendV2 of your own."""
        return self.engine.backend(name)

    def add_backend(self, backend: BackendV2) -> BackendV2:
        return self.engine.add_backend(backend)

    # -- jobs ----------------------------------------------------------------
    def job(self, job_id: str) -> RuntimeJob:
        """The job with this id, also one written by another process."""
        if not is_id(job_id):
            raise InvalidInputError(
                f"{job_id!r} is not a job id: ids are letters, digits, '-' and '_' "
                "(see job.job_id())."
            )
        live = self.engine.live_job(job_id)
        if live is not None:
            return live
        row = self.store.get_job(job_id)
        if row is None:
            raise JobNotFoundError(
                f"No job '{job_id}' in the store {self.store.path}. List jobs with "
                "service.jobs() or %qrt jobs."
            )
        return self.engine.stored_job(row)

    def jobs(self, limit: int | None = 10, *, skip: int = 0, session_id: str | None = None,
             pending: bool | None = None, tags: Sequence[str] | None = None,
             created_after: datetime | float | None = None, status: str | None = None,
             program: str | None = None) -> list[RuntimeJob]:
        """Jobs newest first, filtered as in QiskitRuntimeService.jobs()."""
        if isinstance(created_after, datetime):
            created_after = created_after.timestamp()
        rows = self.store.list_jobs(
            limit=limit, offset=skip, session_id=session_id, pending=pending, tags=tags,
            created_after=created_after, status=status, program=program,
        )
        return [self.engine.live_job(r["id"]) or self.engine.stored_job(r) for r in rows]

    def delete_job(self, job_id: str) -> None:
        job = self.job(job_id)
        if not job.in_final_state():
            raise InvalidInputError(
                f"Job {job_id} is {job.status()}; cancel it before deleting it."
            )
        self.store.delete_job(job_id)
        self.engine.forget_job(job_id)  # else service.job(id) would still find it in memory

    def session(self, session_id: str) -> dict:
        """What the store knows of a session (also one opened by another process)."""
        row = self.store.get_session(session_id)
        if row is None:
            raise SessionNotFoundError(f"No session '{session_id}' in {self.store.path}.")
        row["jobs"] = self.store.session_job_counts(session_id)
        return row

    # -- programs ------------------------------------------------------------
    def register_program(self, fn: Callable, name: str | None = None, *,
                         description: str | None = None) -> str:
        """Make ``fn(ctx, **inputs)`` runnable by name with ``service.run``."""
        prog = runner.make_program(fn, name, description)
        self._programs[prog.name] = prog
        return prog.name

    def programs(self) -> list[Any]:
        """Built-in, decorated and registered programs."""
        return runner.known_programs(self._programs)

    def run(self, program: str | Callable, inputs: dict | None = None, *, mode: Any = None,
            options: dict | None = None, callback: Callable | None = None,
            resume_from: str | None = None, tags: Sequence[str] = (),
            max_execution_time: float | None = None, log_level: str = "INFO") -> RuntimeJob:
        """Run a program as a job in the background; returns the job at once."""
        if resume_from is not None:
            self.job(resume_from)  # raises for an unknown id before anything is stored
        return runner.run_program(
            self.engine, runner.find_program(program, self._programs), inputs or {},
            mode=mode, options=options, callback=callback, resume_from=resume_from,
            tags=tags, max_execution_time=max_execution_time, log_level=log_level,
        )


def resolve_service(service: LocalRuntimeService | None) -> Engine | None:
    """The engine of a service a user passed to a mode (None: decide from the backend)."""
    return service.engine if service is not None else None

