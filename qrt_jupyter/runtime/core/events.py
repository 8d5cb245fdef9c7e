"""Process-wide job events, so that monitors refresh when something happens.

Widgets and other observers register a listener instead of re-reading the
store in a loop; the runtime calls every listener on submit, start and finish.
A listener that raises is dropped from that event only and never affects jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

JobListener = Callable[[str, Any], None]
_listeners: list[JobListener] = []
_lock = threading.Lock()
log = logging.getLogger("qrt_jupyter")


def add_job_listener(listener: JobListener) -> None:
    """Call ``listener(event, job)`` for event in 'submitted', 'running', 'finished'."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def remove_job_listener(listener: JobListener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def emit(event: str, job: Any) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(event, job)
        except Exception as exc:  # noqa: BLE001 - observers never break jobs
            log.warning("job listener %r raised %r", listener, exc)
