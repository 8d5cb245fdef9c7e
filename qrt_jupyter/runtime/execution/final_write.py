"""The write of a job's final state, retried until the store can take it.

A store that cannot be written (another process holding the write lock past the busy
timeout, a full disk, an I/O error) must not leave a job RUNNING for ever: the job
ends in memory at once, and this keeps trying to write the same final state, with
every interim result the store lacks, in order.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import RuntimeJob

log = logging.getLogger("qrt_jupyter")
#: delays (seconds) of the quick retries of a final write before the job ends in memory
#: without it; the retries then go on in the background
QUICK_RETRIES = (0.05, 0.2, 0.5)


class FinalWrite:
    """The write of a job's final state, with its unstored interim results, retried."""

    def __init__(self, job: RuntimeJob, status: str, at: float, metrics: dict,
                 error: str | None, result: bytes | None) -> None:
        self.job = job
        self.status, self.at, self.metrics = status, at, metrics
        self.error, self.result = error, result
        self.last_failure: Exception | None = None

    def _write_once(self) -> None:
        job = self.job
        with job._lock:
            pending = list(job._pending_interim)
            started = None if job._running_written else job._started
            job._store.finish_job(
                job._job_id, status=self.status, at=self.at, metrics=self.metrics,
                error=self.error, result=self.result, started=started, interim=pending,
            )
            job._running_written = True
            del job._pending_interim[:len(pending)]

    def attempt(self, delays: tuple[float, ...]) -> bool:
        """Write now, then once after each delay; True once written."""
        for delay in (0.0, *delays):
            if delay:
                time.sleep(delay)
            try:
                self._write_once()
                return True
            except Exception as exc:  # noqa: BLE001 - whatever it is, the job must end
                self.last_failure = exc
        return False

    def failure_message(self) -> str:
        pending = self.job._pending_interim
        lost = ""
        if pending:
            lost = (f" Interim results {pending[0][0]} to {pending[-1][0]} are not stored "
                    "yet.")
        return (f"The job ended ({self.status}) but the store could not record it: "
                f"{self.last_failure}.{lost} It is written as soon as the store can be "
                "written.")

    def retry_in_background(self, patience: float) -> None:
        def loop() -> None:
            deadline = time.monotonic() + patience
            delay = 0.5
            while time.monotonic() < deadline:
                time.sleep(delay)
                if self.attempt(()):
                    return
                delay = min(delay * 2, 10.0)
            log.error("job %s: final state never written: %s", self.job.job_id(),
                      self.last_failure)

        threading.Thread(target=loop, daemon=True,
                         name=f"qrt-final-write-{self.job.job_id()[:8]}").start()


def abandon(job: RuntimeJob, reason: str) -> None:
    """The process is exiting: write what becomes of a job that will never finish.

    Queued jobs are CANCELLED, running ones ERROR, at once (not when another process
    reaps them later).
    """
    with job._lock:
        if job._status in ("DONE", "ERROR", "CANCELLED") or job._finishing:
            return
        job._finishing = True
        status = "CANCELLED" if job._status == "QUEUED" else "ERROR"
        job._status, job._error = status, reason
    FinalWrite(job, status, time.time(), {}, reason, None).attempt(())
