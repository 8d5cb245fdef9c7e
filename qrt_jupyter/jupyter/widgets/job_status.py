"""A job's live status line: badge, elapsed time and a progress bar for multi-step jobs.

Progress comes from the job's own interim results (``{"done": i, "of": n}`` from
the primitives, ``{"index": i, "of": n}`` from sweeps), so it costs nothing
extra and works the same for primitives and programs.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ...runtime.core.display import status_badge
from ...runtime.core.durations import format_duration
from ...runtime.core.events import add_job_listener, remove_job_listener


class JobStatus(widgets.HBox):
    """Status badge, id, elapsed time and progress of one job, updated as it runs."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self.badge = widgets.HTML()
        self.label = widgets.HTML()
        self.progress = widgets.IntProgress(value=0, min=0, max=1,
                                            layout=widgets.Layout(width="220px"))
        self.progress.layout.visibility = "hidden"
        super().__init__([self.badge, self.label, self.progress])
        self.refresh()
        add_job_listener(self._on_event)
        job.stream_results(self._on_interim)

    def _on_event(self, event: str, job: Any) -> None:
        if job.job_id() == self.job.job_id():
            self.refresh()
            if event == "finished":
                remove_job_listener(self._on_event)

    def _on_interim(self, _job_id: str, interim: Any) -> None:
        if not isinstance(interim, dict) or "of" not in interim:
            return
        total = int(interim["of"])
        done = int(interim.get("done", interim.get("index", -1) + 1))
        self.progress.max = max(1, total)
        self.progress.value = min(done, total)
        self.progress.layout.visibility = "visible"
        self.progress.description = f"{done}/{total}"

    def refresh(self) -> None:
        status = self.job.status()
        self.badge.value = status_badge(status)
        duration = self.job.duration
        timing = "waiting" if duration is None else format_duration(duration)
        self.label.value = (f"&nbsp;<code>{self.job.job_id()}</code> "
                            f"{self.job.primitive_id} · {timing}")
        if status == "DONE" and self.progress.layout.visibility == "visible":
            self.progress.value = self.progress.max
            self.progress.bar_style = "success"
        elif status in ("ERROR", "CANCELLED"):
            self.progress.bar_style = "danger"
