"""CompletedJob: what a primitive returns when a program runs it inside its own job.

The program already holds its session's turn, so a nested job would wait behind it
for ever; the primitive's work runs at once in a child context, and this handle
answers the job API with the result it already has.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from qiskit.primitives.base.base_primitive_job import BasePrimitiveJob

from ..core.ids import JobStatus
from .context import ExecutionContext

_numbers = itertools.count(1)


class CompletedJob(BasePrimitiveJob):
    """An already-finished job: its result, metrics and status DONE."""

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


def run_inline(ctx: ExecutionContext, work: Callable[[ExecutionContext], Any], *,
               kind: str, backend: Any = None) -> CompletedJob:
    """Run a primitive's ``work`` now, in a new child of the program job's context ``ctx``."""
    child = ctx.inline(backend)
    result = work(child)
    return CompletedJob(f"{ctx.job.job_id()}-{kind}-{next(_numbers)}", result,
                        dict(child.metrics))
