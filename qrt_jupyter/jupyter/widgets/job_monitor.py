"""A live table of jobs with a cancel button per pending job and a click-through view.

It refreshes on job events (submit, start, finish) from the runtime, at most a
few times a second, instead of re-reading the store in a tight loop.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML

from ...runtime.core.display import job_html, status_badge
from ...runtime.core.durations import format_duration
from ...runtime.core.events import add_job_listener, remove_job_listener

_COLUMNS = ["job", "program / primitive", "status", "created", "duration", "session", ""]


class JobMonitor(widgets.VBox):
    """Jobs of a service (optionally one session or status), newest first."""

    def __init__(self, service: Any, *, limit: int = 20, session_id: str | None = None,
                 status: str | None = None, min_interval: float = 0.25) -> None:
        self.service = service
        self.limit = limit
        self.session_id = session_id
        self.status_filter = status
        self.min_interval = min_interval
        self.title = widgets.HTML("<b>Quantum Runtime jobs</b>")
        self.table = widgets.GridBox(layout=widgets.Layout(
            grid_template_columns="190px 130px 100px 90px 80px 170px 80px", grid_gap="2px 8px"))
        self.detail = widgets.Output()
        self.cancel_buttons: dict[str, widgets.Button] = {}
        self.view_buttons: dict[str, widgets.Button] = {}
        self.rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last = 0.0
        super().__init__([self.title, self.table, self.detail])
        self.refresh()
        add_job_listener(self._on_event)

    def close(self) -> None:
        remove_job_listener(self._on_event)
        super().close()

    def _on_event(self, _event: str, job: Any) -> None:
        if self.session_id is not None and job.session_id != self.session_id:
            return
        with self._lock:
            wait = self.min_interval - (time.monotonic() - self._last)
            if self._timer is not None:
                return
            if wait <= 0:
                self._last = time.monotonic()
            else:
                self._timer = threading.Timer(wait, self._timed_refresh)
                self._timer.daemon = True
                self._timer.start()
                return
        self.refresh()

    def _timed_refresh(self) -> None:
        with self._lock:
            self._timer = None
            self._last = time.monotonic()
        self.refresh()

    def refresh(self) -> None:
        jobs = self.service.jobs(limit=self.limit, session_id=self.session_id,
                                 status=self.status_filter)
        cells: list[widgets.Widget] = [widgets.HTML(f"<b>{c}</b>") for c in _COLUMNS]
        cancel_buttons: dict[str, widgets.Button] = {}
        view_buttons: dict[str, widgets.Button] = {}
        rows: list[dict[str, Any]] = []
        for job in jobs:
            status = job.status()
            duration = format_duration(job.duration) if job.started is not None else "-"
            view = widgets.Button(description=job.job_id()[:12] + "…", tooltip=job.job_id(),
                                  layout=widgets.Layout(width="185px"))
            view.on_click(lambda _b, job=job: self.show_job(job))
            view_buttons[job.job_id()] = view
            cancel = widgets.Button(description="cancel", button_style="warning",
                                    tooltip=f"cancel {job.job_id()}",
                                    layout=widgets.Layout(width="75px"),
                                    disabled=status not in ("QUEUED", "RUNNING"))
            cancel.on_click(lambda _b, job=job: self.cancel_job(job))
            cancel_buttons[job.job_id()] = cancel
            cells += [
                view, widgets.HTML(job.primitive_id), widgets.HTML(status_badge(status)),
                widgets.HTML(job.creation_date.astimezone().strftime("%H:%M:%S")),
                widgets.HTML(duration), widgets.HTML(f"<code>{job.session_id or '-'}</code>"),
                cancel,
            ]
            rows.append({"id": job.job_id(), "status": status,
                         "primitive": job.primitive_id, "session": job.session_id})
        # swap in whole: refreshes run from event threads while others read the table
        with self._lock:
            self.cancel_buttons, self.view_buttons, self.rows = cancel_buttons, view_buttons, rows
            self.table.children = cells

    def cancel_job(self, job: Any) -> None:
        job.cancel()
        self.refresh()

    def show_job(self, job: Any) -> None:
        self.detail.outputs = ()
        self.detail.append_display_data(HTML(job_html(job)))
