"""HTML of jobs and modes for any HTML-capable frontend (no Jupyter imports needed)."""

from __future__ import annotations

import html
from typing import Any

from .durations import format_duration

_COLOURS = {
    "QUEUED": "#8a8a8a", "RUNNING": "#1f6feb", "DONE": "#1a7f37", "ERROR": "#cf222e",
    "CANCELLED": "#9a6700",
}


def status_badge(status: str) -> str:
    colour = _COLOURS.get(status, "#8a8a8a")
    return (f"<span style='background:{colour};color:white;border-radius:4px;"
            f"padding:1px 6px;font-size:85%'>{html.escape(status)}</span>")


def job_html(job: Any) -> str:
    status = job.status()
    rows = [
        ("job", f"<code>{html.escape(job.job_id())}</code>"),
        ("status", status_badge(status)),
        ("primitive", html.escape(job.primitive_id)),
        ("backend", html.escape(job.backend_name())),
        ("session", html.escape(job.session_id or "-")),
        ("created", html.escape(job.creation_date.isoformat(timespec="seconds"))),
    ]
    if job.finished is not None:
        rows.append(("duration", format_duration(job.duration)))
    if status == "ERROR":
        rows.append(("error", html.escape(job.error_message() or "")))
    if status == "DONE":
        try:
            result = job.result()
            rows.append(("result", html.escape(_summary(result))))
        except Exception:  # noqa: BLE001 - display never raises
            pass
    body = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table class='qrt-job'>{body}</table>"


def _summary(result: Any) -> str:
    try:
        parts = []
        for i, pub in enumerate(result):
            fields = ", ".join(f"{k}{tuple(getattr(v, 'shape', ()))}" for k, v in pub.data.items())
            parts.append(f"PUB {i}: {fields}")
        return "; ".join(parts)
    except TypeError:
        text = repr(result)
        return text if len(text) < 200 else text[:197] + "..."


def mode_html(mode: Any) -> str:
    d = mode.details()
    rows = [
        (d["mode"], f"<code>{html.escape(d['id'])}</code>"),
        ("backend", html.escape(d["backend_name"])),
        ("state", html.escape(d["state"])),
        ("status", html.escape(mode.status())),  # 'Pending' until started, or deactivated
        ("elapsed", format_duration(d["elapsed"])),
        ("remaining", format_duration(d["remaining"])),
        ("jobs", html.escape(", ".join(f"{k}: {v}" for k, v in d["jobs"].items()) or "none")),
    ]
    body = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table class='qrt-mode'>{body}</table>"
