"""Durations as people write them ("1h30m", "90s", 600) turned into seconds."""

from __future__ import annotations

import re

from .errors import InvalidInputError

_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(value: float | int | str | None, *, name: str = "max_time") -> float | None:
    """Seconds for ``value``; ``None`` stays ``None`` (no limit)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be seconds or a string like '1h30m', not {value!r}.")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        else:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise InvalidInputError(
                    f"{name}={value!r} is not a duration. Write seconds (600) or a string "
                    "such as '90s', '15m' or '1h30m'."
                )
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    else:
        raise InvalidInputError(f"{name} must be seconds or a string like '1h30m', not {value!r}.")
    if seconds <= 0:
        raise InvalidInputError(f"{name} must be positive, got {value!r}.")
    return seconds


def format_duration(seconds: float | None) -> str:
    """'1h02m05s' style text for tables and widgets."""
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"


def job_duration(started: float | None, finished: float | None,
                 now: float | None = None) -> float | None:
    """Seconds a job has run: to its end, or to ``now`` while it runs; None before it starts.

    The one place that computes it: the job handle, the widgets, the magics and the
    server's JSON all call this.
    """
    if started is None:
        return None
    if finished is None:
        if now is None:
            return None
        finished = now
    return max(0.0, finished - started)
