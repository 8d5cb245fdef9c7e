"""The session panel: open, watch and close a Session or Batch without writing code.

Opening makes the new mode the notebook's current one, so primitives and
programs created without ``mode`` use it (as ``%qrt session open`` does).
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as widgets

from ...runtime import Batch, Session
from ...runtime.backends import CATALOGUE
from ...runtime.core.current import default_mode, set_default_mode
from ...runtime.core.durations import format_duration
from ...runtime.core.errors import QRTError


class SessionPanel(widgets.VBox):
    """Backend picker, max time, mode, open/close/cancel buttons and a live status line."""

    def __init__(self, service: Any, session: Session | None = None, *,
                 tick: float = 1.0) -> None:
        self.service = service
        self.session = session
        self.tick = tick
        self.backend = widgets.Dropdown(options=list(CATALOGUE), value="aer_simulator",
                                        description="backend")
        self.max_time = widgets.Text(value="15m", description="max time",
                                     layout=widgets.Layout(width="180px"))
        self.mode = widgets.ToggleButtons(options=["session", "batch"], value="session")
        self.open_button = widgets.Button(description="open", button_style="success")
        self.close_button = widgets.Button(description="close")
        self.cancel_button = widgets.Button(description="cancel", button_style="danger")
        self.status = widgets.HTML()
        self.message = widgets.HTML()
        self.open_button.on_click(lambda _b: self.open_session())
        self.close_button.on_click(lambda _b: self.close_session())
        self.cancel_button.on_click(lambda _b: self.cancel_session())
        super().__init__([
            widgets.HBox([self.backend, self.max_time, self.mode]),
            widgets.HBox([self.open_button, self.close_button, self.cancel_button]),
            self.status, self.message,
        ])
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if session is not None:
            self.backend.value = session.backend() if session.backend() in CATALOGUE \
                else self.backend.value
            self.mode.value = "batch" if isinstance(session, Batch) else "session"
            self._start_ticker()
        self.refresh()

    def open_session(self) -> Session | None:
        cls = Batch if self.mode.value == "batch" else Session
        try:
            self.session = cls(backend=self.backend.value, max_time=self.max_time.value or None,
                               service=self.service)
        except QRTError as exc:
            self.message.value = f"<span style='color:var(--jp-error-color1,red)'>{exc}</span>"
            return None
        self.message.value = ""
        set_default_mode(self.session)
        self._start_ticker()
        self.refresh()
        return self.session

    def close_session(self) -> None:
        if self.session is not None:
            self.session.close()
        self.refresh()

    def cancel_session(self) -> None:
        if self.session is not None:
            self.session.cancel()
        self.refresh()

    def _start_ticker(self) -> None:
        if self._ticker is None or not self._ticker.is_alive():
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick_loop, daemon=True)
            self._ticker.start()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.refresh()
            if self.session is None or self.session.status() == "Closed":
                return

    def refresh(self) -> None:
        session = self.session
        is_open = session is not None and session.state == "open"
        self.open_button.disabled = is_open
        self.close_button.disabled = not is_open
        self.cancel_button.disabled = session is None or session.status() == "Closed"
        self.backend.disabled = self.max_time.disabled = self.mode.disabled = is_open
        if session is None:
            self.status.value = "no session open"
            return
        d = session.details()
        counts = ", ".join(f"{k} {v}" for k, v in sorted(d["jobs"].items())) or "no jobs"
        current = " (current)" if default_mode() is session else ""
        self.status.value = (
            f"<b>{d['mode']}</b> <code>{d['id']}</code>{current} on {d['backend_name']} · "
            f"<b>{session.status()}</b> · elapsed {format_duration(d['elapsed'])} · "
            f"remaining {format_duration(d['remaining'])} · jobs: {counts}"
        )

    def close(self) -> None:
        self._stop.set()
        super().close()
