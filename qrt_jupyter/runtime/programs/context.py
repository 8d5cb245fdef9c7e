"""The context a program receives: its backend, primitives, interim results, checkpoints.

Primitives made here run inside the program's job (the program already holds
its session's turn, so a nested job would wait behind it forever) and go
through the same executor, cancellation checks and usage accounting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..execution import codec
from ..execution.context import ExecutionContext
from ..execution.engine import Target
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

    def __init__(self, job_ctx: ExecutionContext, target: Target, *, estimator_options: dict,
                 sampler_options: dict, resume_from: str | None) -> None:
        self._job_ctx = job_ctx
        self._target = target
        self._estimator_options = estimator_options
        self._sampler_options = sampler_options
        self._store = target.engine.store
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

    def _inline_target(self, backend: Any) -> Target:
        """Where a primitive made here sends its work: into this job, at once."""
        target = self._target
        if backend is not None:
            backend_obj = target.engine.backend(backend)
            if backend_obj is not target.backend:
                return Target(target.engine, backend_obj, None,
                              target.engine.cache_for(backend_obj), context=self._job_ctx)
        return Target(target.engine, target.backend, target.mode, target.cache,
                      context=self._job_ctx)

    def estimator(self, options: OptionsNode | Mapping[str, Any] | None = None, *,
                  backend: Any = None) -> EstimatorV2:
        """An EstimatorV2 running inside this job, with the job's options then ``options``."""
        est = EstimatorV2(mode=self._inline_target(backend), options=self._estimator_options)
        if options:
            est.options.update(**(options.to_dict(only_set=True)
                                  if isinstance(options, OptionsNode) else options))
        return est

    def sampler(self, options: OptionsNode | Mapping[str, Any] | None = None, *,
                backend: Any = None) -> SamplerV2:
        """A SamplerV2 running inside this job, with the job's options then ``options``."""
        sam = SamplerV2(mode=self._inline_target(backend), options=self._sampler_options)
        if options:
            sam.options.update(**(options.to_dict(only_set=True)
                                  if isinstance(options, OptionsNode) else options))
        return sam

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

    def add_quantum_seconds(self, seconds: float) -> None:
        """Count simulation time spent outside the primitives (e.g. adjoint gradients)."""
        self._job_ctx.add_quantum_seconds(seconds)
