"""The context a program receives: its backend, primitives, interim results, checkpoints.

Primitives made here run inside the program's job (the program already holds
its session's turn, so a nested job would wait behind it forever) and go
through the same executor, cancellation checks and usage accounting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..execution import codec
from ..execution.job import JobContext
from ..primitives.base import Target
from ..primitives.estimator import EstimatorV2
from ..primitives.options import EstimatorOptions, OptionsNode, SamplerOptions
from ..primitives.sampler import SamplerV2


def split_options(options: Mapping[str, Any] | None) -> tuple[dict, dict]:
    """Primitive options given to a program, split into Estimator and Sampler parts.

    A name valid for neither raises (through the options classes) with a suggestion.
    """
    if not options:
        return {}, {}
    est_names = set(EstimatorOptions().to_dict())
    sam_names = set(SamplerOptions().to_dict())
    est, sam = {}, {}
    for key, value in options.items():
        head = key.split(".")[0]
        if head not in est_names and head not in sam_names:
            EstimatorOptions().update(**{key: value})  # raises with a suggestion
        if head in est_names:
            est[key] = value
        if head in sam_names:
            sam[key] = value
    # validate both halves now, before anything is queued
    EstimatorOptions().update(**est)
    SamplerOptions().update(**sam)
    return est, sam


class ProgramContext:
    """Passed as ``ctx`` to ``fn(ctx, **inputs)``."""

    def __init__(self, job_ctx: JobContext, target: Target, *, estimator_options: dict,
                 sampler_options: dict, resume_from: str | None) -> None:
        self._job_ctx = job_ctx
        self._target = target
        self._estimator_options = estimator_options
        self._sampler_options = sampler_options
        self._store = target.service.store
        self._last_checkpoint: Any = None
        if resume_from is not None:
            blob = self._store.last_checkpoint(resume_from)
            self._last_checkpoint = codec.decode(blob) if blob is not None else None

    @property
    def job_id(self) -> str:
        return self._job_ctx.job.job_id()

    @property
    def backend(self) -> Any:
        return self._target.backend

    @property
    def session(self) -> Any:
        return self._target.mode

    @property
    def cancelled(self) -> bool:
        return self._job_ctx.cancelled

    def check(self) -> None:
        """Stop here if the job was cancelled or ran out of time."""
        self._job_ctx.check()

    def _bind(self, primitive: Any, backend: Any) -> Any:
        target = self._target
        if backend is not None:
            backend_obj = target.service.backend(backend)
            if backend_obj is not target.backend:
                target = Target(target.service, backend_obj, None,
                                target.service._cache_for(backend_obj))
        primitive._inline_ctx = self._job_ctx if backend is None else _OtherBackend(
            self._job_ctx, target.backend)
        primitive._inline_target = target
        return primitive

    def estimator(self, options: OptionsNode | Mapping[str, Any] | None = None, *,
                  backend: Any = None) -> EstimatorV2:
        """An EstimatorV2 running inside this job, with the job's options then ``options``."""
        est = EstimatorV2(mode=self._target.backend, options=self._estimator_options)
        if options:
            est.options.update(**(options.to_dict(only_set=True)
                                  if isinstance(options, OptionsNode) else options))
        return self._bind(est, backend)

    def sampler(self, options: OptionsNode | Mapping[str, Any] | None = None, *,
                backend: Any = None) -> SamplerV2:
        """A SamplerV2 running inside this job, with the job's options then ``options``."""
        sam = SamplerV2(mode=self._target.backend, options=self._sampler_options)
        if options:
            sam.options.update(**(options.to_dict(only_set=True)
                                  if isinstance(options, OptionsNode) else options))
        return self._bind(sam, backend)

    def publish(self, obj: Any) -> int:
        """Send an interim result; raises once the job is cancelled, so loops stop."""
        return self._job_ctx.publish(obj)

    def log(self, message: Any, level: str = "INFO") -> None:
        """A line in ``job.logs()``."""
        self._job_ctx.log(str(message), level)

    def checkpoint(self, state: Any) -> None:
        """Save ``state`` so that a later run with ``resume_from=<this job>`` continues."""
        self._store.add_checkpoint(self.job_id, codec.encode(state))
        self._last_checkpoint = state

    @property
    def last_checkpoint(self) -> Any:
        """The newest checkpoint of this job, or of the job it resumes; None if none."""
        return self._last_checkpoint

    @property
    def metrics(self) -> dict[str, Any]:
        return self._job_ctx.metrics


class _OtherBackend:
    """Inline context whose circuit runs go to another backend than the job's own."""

    def __init__(self, parent: JobContext, backend: Any) -> None:
        self._parent = parent
        self.job = parent.job
        self.backend = backend
        self.metrics = parent.metrics

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled

    def check(self) -> None:
        self._parent.check()

    def publish(self, obj: Any) -> int:
        return self._parent.publish(obj)

    def log(self, message: str, level: str = "INFO") -> None:
        self._parent.log(message, level)

    def run_circuits(self, circuits: list, parameter_binds: list[dict] | None,
                     run_options: dict[str, Any]) -> Any:
        import time

        self.check()
        start = time.perf_counter()
        try:
            return self._parent.executor.run_circuits(self.backend, circuits, parameter_binds,
                                                      run_options)
        finally:
            self._parent.quantum_seconds += time.perf_counter() - start
