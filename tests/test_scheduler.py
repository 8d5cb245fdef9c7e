"""The scheduler's ordering rules, on plain callables (no jobs, no simulator)."""

from __future__ import annotations

import threading

from conftest import wait_until

from qrt_jupyter.runtime.execution.scheduler import (
    PRIORITY_BATCH,
    PRIORITY_JOB,
    PRIORITY_SESSION,
    Scheduler,
    Task,
)


class HeldScheduler:
    """A one-worker scheduler whose worker is held by a blocker until ``release``,
    so that everything submitted meanwhile queues and the run order can be read."""

    def __init__(self, name: str) -> None:
        self.scheduler = Scheduler(capacity=1, name=name)
        self.order: list[str] = []
        self._gate = threading.Event()
        self.submit("blocker", priority=PRIORITY_JOB, wait=True)
        wait_until(lambda: self.scheduler.pending() == 0)  # the worker holds it

    def submit(self, name: str, *, priority: int, lane: str | None = None,
               sequential: bool = False, wait: bool = False) -> Task:
        def run() -> None:
            if wait:
                self._gate.wait(10)
            self.order.append(name)

        return self.scheduler.submit(run, priority=priority, lane=lane, sequential=sequential)

    def release(self, count: int) -> list[str]:
        self._gate.set()
        wait_until(lambda: len(self.order) == count)
        return self.order


def test_priorities_then_submission_order():
    held = HeldScheduler("t-prio")
    held.submit("job-1", priority=PRIORITY_JOB)
    held.submit("batch", priority=PRIORITY_BATCH, lane="b")
    held.submit("job-2", priority=PRIORITY_JOB)
    held.submit("session", priority=PRIORITY_SESSION, lane="s", sequential=True)
    assert held.release(5) == ["blocker", "session", "batch", "job-1", "job-2"]


def test_a_sequential_lane_keeps_submission_order_across_priorities():
    # a deactivated session's job queues at job-mode priority; the next one, submitted
    # after the session came back, has the session's priority but must still wait
    held = HeldScheduler("t-lane")
    held.submit("s-1", priority=PRIORITY_JOB, lane="s", sequential=True)
    held.submit("job", priority=PRIORITY_JOB)
    held.submit("s-2", priority=PRIORITY_SESSION, lane="s", sequential=True)
    held.submit("s-3", priority=PRIORITY_SESSION, lane="s", sequential=True)
    assert held.release(5) == ["blocker", "s-1", "s-2", "s-3", "job"]


def test_removing_a_lanes_head_lets_the_next_one_run():
    held = HeldScheduler("t-remove")
    head = held.submit("s-1", priority=PRIORITY_JOB, lane="s", sequential=True)
    held.submit("s-2", priority=PRIORITY_SESSION, lane="s", sequential=True)
    assert held.scheduler.remove(head) is True
    assert held.scheduler.remove(head) is False
    assert held.release(2) == ["blocker", "s-2"]
