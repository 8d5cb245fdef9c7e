"""The runtime's timing tunables in one object, so that tests pass their own.

A service (and the sessions, jobs and watcher that serve it) reads these values
from the ``Settings`` it was given; ``Settings()`` holds the defaults used by
notebooks. Tests that need a job to stay unwritten, or a watcher to look more
often, build a service with ``Settings(live_after=30.0)`` instead of patching
module globals.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Settings:
    #: seconds between two looks of the process's watcher (session lifetimes, cancel
    #: requests from other processes, orphan reaping)
    watch_interval: float = 0.2
    #: seconds a job runs before its RUNNING state and interim results are written as
    #: they happen; a job that ends sooner writes them with its final state (one write
    #: instead of three or more); 0 writes everything at once
    live_after: float = 0.05
    #: seconds a subscriber's thread gathers interim results before delivering them
    coalesce: float = 0.02
    #: jobs of processes that died are looked for at most this often (seconds)
    reap_interval: float = 1.0
    #: how long a job keeps retrying the write of its final state when the store
    #: cannot be written (locked by another process, a full disk), in seconds; the job
    #: ends in memory at once either way, and the state is written when it can be
    final_write_patience: float = 600.0

    def with_(self, **changes: float) -> Settings:
        """A copy with some values changed."""
        return replace(self, **changes)


DEFAULT_SETTINGS = Settings()
