"""Process identity: which process owns a job, and whether it still runs.

An owner is ``host:pid:start`` (the start time from /proc), so a reused pid is not taken
for the process that wrote the job.
"""

from __future__ import annotations

import os
import socket


def _process_start(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return "?"


def this_process() -> str:
    """host:pid:start — identifies a process even after its pid is reused."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def process_alive(owner: str) -> bool:
    """Whether the process that wrote ``owner`` still runs (unknown hosts count as alive)."""
    try:
        host, pid_text, start = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start == "?" or _process_start(pid) == start
