"""Decides which queued job runs next.

Jobs of a Session run one after another in submission order and ahead of other
work; jobs of a Batch run side by side; job-mode work comes last. Worker
threads, as many as the executor's capacity, take the next runnable job.

A sequential lane keeps its submission order whatever the priorities of its
tasks: a deactivated session queues its next job at job-mode priority, and the
ones after it may have the session's own again.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Lower runs first.
PRIORITY_SESSION = 0
PRIORITY_BATCH = 1
PRIORITY_JOB = 2


@dataclass(order=True)
class Task:
    """A queued job: ``run`` is called in a worker thread when its turn comes."""

    priority: int
    seq: int
    lane: str | None = field(compare=False)
    sequential: bool = field(compare=False)
    run: Callable[[], Any] = field(compare=False, repr=False)
    job_id: str = field(compare=False, default="")


class Scheduler:
    """Priority queue with per-session lanes, drained by worker threads."""

    def __init__(self, capacity: int, name: str = "qrt") -> None:
        self.capacity = capacity
        self._queue: list[Task] = []
        self._busy_lanes: set[str] = set()
        #: sequential lane -> seqs of its queued tasks, oldest first: only the oldest may run
        self._lane_seqs: dict[str, list[int]] = {}
        self._cv = threading.Condition()
        self._seq = itertools.count()
        self._running = 0
        self._workers = [
            threading.Thread(target=self._work, name=f"{name}-worker-{i}", daemon=True)
            for i in range(capacity)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, run: Callable[[], Any], *, priority: int, lane: str | None = None,
               sequential: bool = False, job_id: str = "") -> Task:
        task = Task(priority, next(self._seq), lane, sequential, run, job_id)
        with self._cv:
            bisect.insort(self._queue, task)
            if sequential:
                self._lane_seqs.setdefault(lane, []).append(task.seq)  # type: ignore[arg-type]
            self._cv.notify()
        return task

    def remove(self, task: Task) -> bool:
        """Take a task off the queue; False when a worker already took it."""
        with self._cv:
            try:
                self._queue.remove(task)
            except ValueError:
                return False
            self._dequeued(task)
            self._cv.notify_all()  # the lane's next task may run now
            return True

    def _dequeued(self, task: Task) -> None:
        if task.sequential:
            seqs = self._lane_seqs[task.lane]  # type: ignore[index]
            seqs.remove(task.seq)
            if not seqs:
                del self._lane_seqs[task.lane]  # type: ignore[arg-type]

    def pending(self) -> int:
        with self._cv:
            return len(self._queue)

    def _next(self) -> Task | None:
        for i, task in enumerate(self._queue):
            if task.sequential and (task.lane in self._busy_lanes
                                    or self._lane_seqs[task.lane][0] != task.seq):  # type: ignore[index]
                continue
            del self._queue[i]
            if task.sequential:
                self._busy_lanes.add(task.lane)  # type: ignore[arg-type]
            self._dequeued(task)
            return task
        return None

    def _work(self) -> None:
        while True:
            with self._cv:
                task = self._next()
                while task is None:
                    self._cv.wait()
                    task = self._next()
                self._running += 1
            try:
                task.run()
            except BaseException:  # noqa: BLE001 - the job records its own errors
                pass
            finally:
                with self._cv:
                    self._running -= 1
                    if task.sequential:
                        self._busy_lanes.discard(task.lane)  # type: ignore[arg-type]
                    self._cv.notify_all()
                # an idle worker keeps no finished job (nor its service) alive
                task = None


_schedulers: dict[int, Scheduler] = {}
_lock = threading.Lock()


def scheduler_for(executor: Any) -> Scheduler:
    """One scheduler per executor, so capacity is shared by every service using it."""
    with _lock:
        sched = _schedulers.get(id(executor))
        if sched is None:
            sched = Scheduler(executor.capacity, name=getattr(executor, "name", "qrt"))
            _schedulers[id(executor)] = sched
        return sched
