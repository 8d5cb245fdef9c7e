"""Delivery of a job's interim results to its subscribers, each on its own thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import codec

if TYPE_CHECKING:
    from .job import RuntimeJob

log = logging.getLogger("qrt_jupyter")


class Subscriber:
    """Delivers one subscriber's interim results in order, on its own thread.

    A slow or failing subscriber then neither slows the job nor the other
    subscribers; nothing is dropped, because the queue only grows until delivered.
    """

    def __init__(self, job: RuntimeJob, callback: Callable[[str, Any], Any],
                 backlog: list[Any], coalesce: float = 0.02) -> None:
        self.job = job
        self.coalesce = coalesce
        self.callback = callback
        self._items: list[Any] = list(backlog)
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"qrt-stream-{job.job_id()[:8]}")
        self._thread.start()

    def push(self, item: Any) -> None:
        with self._cv:
            self._items.append(item)
            if len(self._items) == 1:
                # wake the thread only for the first waiting item: it then gathers
                # what arrives within its coalesce time, so a fast loop costs one thread
                # switch per batch rather than one per publish
                self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()

    def wait(self, timeout: float | None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        name = getattr(self.callback, "__qualname__", repr(self.callback))
        while True:
            with self._cv:
                while not self._items and not self._closed:
                    self._cv.wait()
                if not self._items:
                    return
                if not self._closed:
                    self._cv.wait(self.coalesce)  # close() cuts the wait short
                items, self._items = self._items, []
            for item in items:
                try:
                    self.callback(self.job.job_id(), item)
                except Exception as exc:  # noqa: BLE001 - reported, never fatal
                    self.job._log_internal(
                        "WARNING", f"interim-result subscriber {name} raised {exc!r}; "
                        "the job and the other subscribers go on"
                    )




def poll_stored(job: RuntimeJob, callback: Callable[[str, Any], Any],
                interval: float = 0.1) -> None:
    """Deliver the stored interim results of a job another process runs, until it ends."""
    seq = -1
    while True:
        final = job.in_final_state()
        for row in job._store.interim(job.job_id(), since=seq):
            seq = row["seq"]
            try:
                callback(job.job_id(), codec.decode(row["payload"]))
            except Exception as exc:  # noqa: BLE001 - reported, never fatal
                log.warning("interim-result subscriber raised %r", exc)
        if final:
            return
        time.sleep(interval)
