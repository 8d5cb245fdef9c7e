"""Writes RUNNING (and the interim results so far) of jobs that outlive ``live_after``.

A job that ends within ``Settings.live_after`` writes its RUNNING state and interim
results in the transaction of its final state: one write instead of three or more.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import RuntimeJob

log = logging.getLogger("qrt_jupyter")


class LiveWriter:
    """Writes RUNNING (and the interim results so far) of jobs still running after their live_after.

    One daemon thread per process; it sleeps until the earliest watched job is due, so a
    stream of short jobs costs one wake-up per live_after, not one per job.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, RuntimeJob]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, job: RuntimeJob, delay: float) -> None:
        due = time.monotonic() + delay
        with self._cv:
            heapq.heappush(self._heap, (due, next(self._count), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="qrt-live-writer")
                self._thread.start()
            elif self._heap[0][2] is job:
                self._cv.notify()  # due before everything the thread waits for

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._heap:
                    self._cv.wait()
                due, _, job = self._heap[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._cv.wait(delay)
                    continue
                heapq.heappop(self._heap)
            try:
                job._go_live()
            except Exception as exc:  # noqa: BLE001 - the job's final write still follows
                log.warning("could not record job %s as running: %r", job.job_id(), exc)
            job = None  # waiting for the next, keep no finished job (nor its service) alive


live_writer = LiveWriter()


