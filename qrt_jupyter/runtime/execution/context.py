"""ExecutionContext: what running code (a primitive or a program) may do with its job.

One type for every case. A job's own context publishes interim results, logs, runs
circuits through the job's executor and counts the time as usage. A primitive that
a program runs inside its job gets a *child* context (``ctx.inline()``): circuit
runs, cancellation and ``max_execution_time`` are the job's, its progress messages
are dropped (the program's stream holds what the program publishes) and its metrics
are its own; it may run on another backend than the job's.

Each context counts its own transpile-cache hits and misses (``ctx.cache(shared)``),
so per-job metrics stay right when the jobs of a Batch share one cache at once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..backends.transpile import CacheView, TranspileCache

if TYPE_CHECKING:
    from .job import RuntimeJob


class ExecutionContext:
    """Passed to a job's work function as ``ctx``."""

    def __init__(self, job: RuntimeJob, executor: Any, backend: Any, *,
                 parent: ExecutionContext | None = None) -> None:
        self.job = job
        self.executor = executor
        self.backend = backend
        self.parent = parent
        #: what this context adds to its job's metrics (a child's stay its own)
        self.metrics: dict[str, Any] = {}
        self._quantum_seconds = 0.0
        self._caches: list[CacheView] = []

    # -- the job's controls ---------------------------------------------------------
    @property
    def quiet(self) -> bool:
        """Whether published interim results are dropped (a child context)."""
        return self.parent is not None

    @property
    def cancelled(self) -> bool:
        return self.job._cancel_event.is_set()

    def check(self) -> None:
        """Stop here if the job was cancelled or ran out of time."""
        self.job._check()

    def publish(self, obj: Any) -> int:
        """Send an interim result to every subscriber and the store; returns its sequence.

        A child context only checks for cancellation and returns -1.
        """
        self.check()
        if self.quiet:
            return -1
        return self.job._publish(obj)

    def log(self, message: str, level: str = "INFO") -> None:
        self.job._log_internal(level.upper(), str(message))

    # -- usage ---------------------------------------------------------------------
    @property
    def quantum_seconds(self) -> float:
        """Seconds spent in simulations, this context's and its children's."""
        return self._quantum_seconds

    def add_quantum_seconds(self, seconds: float) -> None:
        """Count ``seconds`` of simulation done outside ``run_circuits`` (e.g. adjoint)."""
        ctx: ExecutionContext | None = self
        while ctx is not None:
            ctx._quantum_seconds += seconds
            ctx = ctx.parent

    def run_circuits(self, circuits: list, parameter_binds: list[dict] | None,
                     run_options: dict[str, Any]) -> Any:
        """Run circuits through the job's executor, counting the time as usage."""
        self.check()
        start = time.perf_counter()
        try:
            return self.executor.run_circuits(self.backend, circuits, parameter_binds,
                                              run_options)
        finally:
            self.add_quantum_seconds(time.perf_counter() - start)

    # -- transpile cache -------------------------------------------------------------
    def cache(self, shared: TranspileCache) -> CacheView:
        """This context's counting view of a shared transpile cache."""
        view = CacheView(shared)
        self._caches.append(view)
        return view

    def cache_stats(self) -> dict[str, int]:
        """Hits and misses of this context's own look-ups."""
        return {"hits": sum(v.hits for v in self._caches),
                "misses": sum(v.misses for v in self._caches)}

    # -- children ---------------------------------------------------------------------
    def inline(self, backend: Any = None) -> ExecutionContext:
        """A child context for a primitive run inside this job (see the module docstring)."""
        return ExecutionContext(self.job, self.executor,
                                self.backend if backend is None else backend, parent=self)
