"""The scheduler's ordering rules, on plain callables (no jobs, no simulator)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from conftest import wait_until

from qrt_jupyter.runtime.scheduler import (
    PRIORITY_BATCH,
    PRIORITY_JOB,
    PRIORITY_SESSION,
    Scheduler,
)


def _recorder() -> tuple[list[str], threading.Event, Callable[..., Callable[[], None]]]:
    order: list[str] = []
    gate = threading.Event()

    def task(name: str, wait: bool = False):
        def run() -> None:
            if wait:
                gate.wait(10)
            order.append(name)
        return run

    return order, gate, task


def test_priorities_then_submission_order():
    scheduler = Scheduler(capacity=1, name="t-prio")
    order, gate, task = _recorder()
    scheduler.submit(task("blocker", wait=True), priority=PRIORITY_JOB)
    wait_until(lambda: scheduler.pending() == 0)  # the worker holds the blocker
    scheduler.submit(task("job-1"), priority=PRIORITY_JOB)
    scheduler.submit(task("batch"), priority=PRIORITY_BATCH, lane="b")
    scheduler.submit(task("job-2"), priority=PRIORITY_JOB)
    scheduler.submit(task("session"), priority=PRIORITY_SESSION, lane="s", sequential=True)
    gate.set()
    wait_until(lambda: len(order) == 5)
    assert order == ["blocker", "session", "batch", "job-1", "job-2"]


def test_a_sequential_lane_keeps_submission_order_across_priorities():
    # a deactivated session's job queues at job-mode priority; the next one, submitted
    # after the session came back, has the session's priority but must still wait
    scheduler = Scheduler(capacity=1, name="t-lane")
    order, gate, task = _recorder()
    scheduler.submit(task("blocker", wait=True), priority=PRIORITY_JOB)
    wait_until(lambda: scheduler.pending() == 0)
    scheduler.submit(task("s-1"), priority=PRIORITY_JOB, lane="s", sequential=True)
    scheduler.submit(task("job"), priority=PRIORITY_JOB)
    scheduler.submit(task("s-2"), priority=PRIORITY_SESSION, lane="s", sequential=True)
    scheduler.submit(task("s-3"), priority=PRIORITY_SESSION, lane="s", sequential=True)
    gate.set()
    wait_until(lambda: len(order) == 5)
    assert order == ["blocker", "s-1", "s-2", "s-3", "job"]


def test_removing_a_lanes_head_lets_the_next_one_run():
    scheduler = Scheduler(capacity=1, name="t-remove")
    order, gate, task = _recorder()
    scheduler.submit(task("blocker", wait=True), priority=PRIORITY_JOB)
    wait_until(lambda: scheduler.pending() == 0)
    head = scheduler.submit(task("s-1"), priority=PRIORITY_JOB, lane="s", sequential=True)
    scheduler.submit(task("s-2"), priority=PRIORITY_SESSION, lane="s", sequential=True)
    assert scheduler.remove(head) is True
    assert scheduler.remove(head) is False
    gate.set()
    wait_until(lambda: len(order) == 2)
    assert order == ["blocker", "s-2"]
