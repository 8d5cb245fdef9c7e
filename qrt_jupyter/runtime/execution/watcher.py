"""The process's watcher: one daemon thread, however many engines there are.

Each tick it visits every engine that has had work: session lifetimes (max_time,
idle TTL), cancel requests that other processes wrote into the store, and jobs of
processes that died (at most once per ``reap_interval``). A tick hook lets tests
wait for "the watcher has looked" instead of sleeping.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

#: engines that have had work in this process; the watcher visits each per tick
_WATCHED: weakref.WeakSet = weakref.WeakSet()
_LOCK = threading.Lock()
_thread: threading.Thread | None = None
_tick_hooks: list[Callable[[], None]] = []
ticks = 0


def watch(engine: Any) -> None:
    """Visit ``engine`` on every tick from now on (while it is alive)."""
    global _thread
    _WATCHED.add(engine)
    with _LOCK:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="qrt-watcher", daemon=True)
            _thread.start()


def add_tick_hook(hook: Callable[[], None]) -> None:
    """Call ``hook()`` after every tick (for tests that wait for the watcher)."""
    _tick_hooks.append(hook)


def remove_tick_hook(hook: Callable[[], None]) -> None:
    if hook in _tick_hooks:
        _tick_hooks.remove(hook)


def wait_ticks(count: int = 2, timeout: float = 10.0) -> bool:
    """Block until the watcher has completed ``count`` more ticks; False on timeout."""
    done = threading.Event()
    target = ticks + count

    def hook() -> None:
        if ticks >= target:
            done.set()

    add_tick_hook(hook)
    try:
        return done.wait(timeout)
    finally:
        remove_tick_hook(hook)


def _interval() -> float:
    intervals = [e.settings.watch_interval for e in list(_WATCHED)]
    return min(intervals) if intervals else 0.2


def _loop() -> None:
    global ticks
    while True:
        time.sleep(_interval())
        for engine in list(_WATCHED):
            try:
                engine.watch_once()
            except Exception:  # noqa: BLE001 - a locked or closed store: try next tick
                pass
        engine = None  # hold no engine between ticks, so that unused ones can go
        ticks += 1
        for hook in list(_tick_hooks):
            try:
                hook()
            except Exception:  # noqa: BLE001 - a test hook never stops the watcher
                pass
