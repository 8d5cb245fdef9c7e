"""The interfaces the execution layer calls, implemented above it.

Modes (Session, Batch) live above the execution layer and the engine only calls
them through ``Mode``; anything a primitive accepts as ``mode=`` is resolved
through ``TargetSource``. Imports then point one way: execution never imports
modes, primitives or the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .engine import Target
    from .job import RuntimeJob


@runtime_checkable
class TargetSource(Protocol):
    """Something a primitive can send jobs to: a mode, a service, a program's context."""

    def execution_target(self) -> Target:
        """Where the jobs go: engine, backend, mode and transpile cache."""
        ...


class Mode(Protocol):
    """What the engine and a running job ask of the Session or Batch a job belongs to.

    The hooks are underscored because they are the runtime's business, not the user's:
    users see ``Session``'s public API.
    """

    session_id: str
    _sequential: bool
    _group_writes: bool
    _executor: Any
    _scheduler: Any

    def _check_submit(self) -> None:
        """Raise if the mode accepts no new jobs."""

    def _queue_priority(self) -> int:
        """The scheduler priority of the next job."""

    def _job_submitted(self, job: RuntimeJob) -> None: ...

    def _refuse_start(self) -> str | None:
        """Why a queued job must not start now (checked at start), or None."""

    def _job_started(self, job: RuntimeJob) -> None: ...

    def _job_finished(self, job: RuntimeJob) -> None: ...
