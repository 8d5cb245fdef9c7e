"""Convergence plots of variational loops, fed by interim results as they arrive.

Live, the plot is a plotly FigureWidget (an anywidget since plotly 6). Redraws
are throttled to ``max_redraws_per_second`` (5 by default: a redraw holds the
interpreter lock for 1-3 ms, which the running loop would otherwise pay ten
times a second) and merged with ``batch_update()``,
and long histories are downsampled for drawing (the full data is kept), so a
10,000-iteration loop neither waits for the plot nor floods the browser.
Without a widget frontend the same data is drawn as a static matplotlib figure.
"""

from __future__ import annotations

import html
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..frontend import widgets_live

_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"]


@dataclass
class Series:
    """One run's points: iteration, value, std (NaN when unknown)."""

    label: str
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)

    def best(self) -> tuple[float, float] | None:
        if not self.y:
            return None
        k = int(np.nanargmin(self.y))
        return self.x[k], self.y[k]


def downsample(n: int, limit: int, keep: int | None = None) -> np.ndarray:
    """Indices of at most ``limit`` points spread over ``n``, always with the last and ``keep``."""
    if n <= limit:
        return np.arange(n)
    idx = np.unique(np.linspace(0, n - 1, limit - 1).astype(int))
    if keep is not None:
        idx = np.union1d(idx, [keep])
    return idx


class ConvergencePlot:
    """Value per iteration with a ±std band, best so far, optional exact line and error view."""

    def __init__(self, key: str = "energy", *, exact: float | None = None,
                 log_error: bool = False, title: str | None = None,
                 max_points: int = 1500, max_redraws_per_second: float = 5.0,
                 live: bool | None = None) -> None:
        self.key = key
        self.exact = exact
        self.log_error = log_error and exact is not None
        self.title = title or f"{key} per iteration"
        self.max_points = max_points
        self.min_interval = 1.0 / max_redraws_per_second
        self.series: dict[str, Series] = {}
        self.redraws = 0
        self._lock = threading.RLock()
        self._last_draw = 0.0
        self._timer: threading.Timer | None = None
        self._dirty = False
        self._drawn_layout: dict[str, Any] | None = None
        self.widget = self._make_widget() if (live if live is not None else widgets_live()) \
            else None

    # -- feeding ---------------------------------------------------------------
    def callback(self, label: str = "run") -> Callable[[str, Any], None]:
        """A ``callback(job_id, interim)`` for ``service.run(..., callback=...)``."""
        counter = {"n": 0}

        def on_result(_job_id: str, interim: Any) -> None:
            if not isinstance(interim, dict) or self.key not in interim:
                return
            iteration = interim.get("iteration", counter["n"])
            counter["n"] += 1
            self.add_point(label, iteration, interim[self.key], interim.get("std"))

        return on_result

    def attach(self, job: Any, label: str | None = None) -> ConvergencePlot:
        """Plot a job's interim results: the ones already published, then each new one."""
        job.stream_results(self.callback(label or _label_of(job)))
        return self

    def add_point(self, label: str, iteration: float, value: float,
                  std: float | None = None) -> None:
        with self._lock:
            series = self.series.get(label)
            if series is None:
                series = self.series[label] = Series(label)
            series.x.append(float(iteration))
            series.y.append(float(value))
            series.std.append(float(std) if std is not None else float("nan"))
            self._dirty = True
        self._request_redraw()

    def _snapshot(self) -> list[Series]:
        """Copies of the series: subscriber threads add points (and runs) while we draw."""
        with self._lock:
            return [Series(s.label, list(s.x), list(s.y), list(s.std))
                    for s in self.series.values()]

    # -- drawing ---------------------------------------------------------------
    def _request_redraw(self) -> None:
        if self.widget is None:
            return
        now = time.monotonic()
        with self._lock:
            wait = self.min_interval - (now - self._last_draw)
            if wait <= 0 and self._timer is None:
                self._redraw()
            elif self._timer is None:
                self._timer = threading.Timer(max(wait, 0.0), self._timer_fired)
                self._timer.daemon = True
                self._timer.start()

    def _timer_fired(self) -> None:
        with self._lock:
            self._timer = None
            if self._dirty:
                self._redraw()

    def flush(self) -> None:
        """Draw what has arrived now (tests and the end of a run)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self.widget is not None:
                self._redraw()

    def _traces(self) -> list[dict[str, Any]]:
        traces: list[dict[str, Any]] = []
        for i, series in enumerate(self._snapshot()):
            colour = _COLOURS[i % len(_COLOURS)]
            x = np.asarray(series.x)
            y = np.asarray(series.y)
            std = np.asarray(series.std)
            best = int(np.nanargmin(y)) if len(y) else None
            idx = downsample(len(x), self.max_points, best)
            x, y, std = x[idx], y[idx], std[idx]
            if self.log_error:
                y = np.abs(y - self.exact) + 1e-16
            has_std = bool(np.any(np.isfinite(std) & (std > 0))) and not self.log_error
            band_y = (np.concatenate([y + std, (y - std)[::-1]]) if has_std else np.array([]))
            band_x = np.concatenate([x, x[::-1]]) if has_std else np.array([])
            traces.append(dict(type="scatter", x=band_x, y=band_y, fill="toself",
                               fillcolor=_rgba(colour, 0.18), line={"width": 0},
                               hoverinfo="skip", showlegend=False,
                               name=f"{series.label} ±std"))
            traces.append(dict(type="scatter", x=x, y=y, mode="lines",
                               line={"color": colour, "width": 2}, name=series.label))
            if best is not None:
                bx, by = series.x[best], series.y[best]
                if self.log_error:
                    by = abs(by - self.exact) + 1e-16
                traces.append(dict(type="scatter", x=[bx], y=[by], mode="markers",
                                   marker={"color": colour, "size": 10, "symbol": "star"},
                                   name=f"{series.label} best"))
        return traces

    def _layout(self) -> dict[str, Any]:
        ytitle = f"|{self.key} - exact|" if self.log_error else self.key
        layout: dict[str, Any] = {
            "title": {"text": self.title}, "xaxis": {"title": {"text": "iteration"}},
            "yaxis": {"title": {"text": ytitle}, "type": "log" if self.log_error else "linear"},
            "height": 380, "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
            "shapes": [],
        }
        if self.exact is not None and not self.log_error:
            layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1,
                                 "y0": self.exact, "y1": self.exact,
                                 "line": {"dash": "dash", "color": "gray"}}]
        return layout

    def _make_widget(self) -> Any:
        try:
            import plotly.graph_objects as go

            return go.FigureWidget(layout=self._layout())
        except Exception:  # noqa: BLE001 - no anywidget or plotly: fall back to static
            return None

    def _redraw(self) -> None:
        traces = self._traces()
        fig = self.widget
        with fig.batch_update():
            if len(fig.data) != len(traces):
                fig.data = []
                for trace in traces:
                    fig.add_scatter(**{k: v for k, v in trace.items() if k != "type"})
            else:
                for existing, trace in zip(fig.data, traces):
                    existing.x = trace["x"]
                    existing.y = trace["y"]
            layout = self._layout()
            if layout != self._drawn_layout:  # re-applying an unchanged layout costs ~3 ms
                fig.layout.update(layout)
                self._drawn_layout = layout
        self._last_draw = time.monotonic()
        self._dirty = False
        self.redraws += 1

    # -- static output and export ----------------------------------------------
    def figure(self) -> Any:
        """A plotly Figure of the current data (for ``to_html``)."""
        import plotly.graph_objects as go

        fig = go.Figure(layout=self._layout())
        for trace in self._traces():
            fig.add_scatter(**{k: v for k, v in trace.items() if k != "type"})
        return fig

    def to_html(self, include_plotlyjs: bool | str = True) -> str:
        return self.figure().to_html(include_plotlyjs=include_plotlyjs, full_html=True)

    def matplotlib_figure(self) -> Any:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 3.6), dpi=100)
        ax = fig.add_subplot()
        snapshot = self._snapshot()
        for i, series in enumerate(snapshot):
            colour = _COLOURS[i % len(_COLOURS)]
            x, y, std = map(np.asarray, (series.x, series.y, series.std))
            if self.log_error:
                y = np.abs(y - self.exact) + 1e-16
            elif np.any(np.isfinite(std) & (std > 0)):
                ax.fill_between(x, y - std, y + std, color=colour, alpha=0.18, linewidth=0)
            ax.plot(x, y, color=colour, label=series.label)
            if len(y):
                k = int(np.nanargmin(y))
                ax.plot([x[k]], [y[k]], marker="*", color=colour, markersize=10)
        if self.exact is not None and not self.log_error:
            ax.axhline(self.exact, color="gray", linestyle="--", label="exact")
        if self.log_error:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel(f"|{self.key} - exact|" if self.log_error else self.key)
        ax.set_title(self.title)
        if snapshot:
            ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        return fig

    def savefig(self, path: Any, **kwargs: Any) -> None:
        self.matplotlib_figure().savefig(path, **kwargs)

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png")
        return buf.getvalue()

    def show(self) -> None:
        """Display live if possible, else the static figure of the data so far."""
        from IPython.display import display

        display(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        if self.widget is not None:
            self.flush()
            return self.widget._repr_mimebundle_(include=include, exclude=exclude)
        snapshot = self._snapshot()
        points = sum(len(s.x) for s in snapshot)
        return {
            "image/png": self.png(),
            "text/plain": f"<ConvergencePlot {html.escape(self.key)}: "
                          f"{len(snapshot)} run(s), {points} points>",
        }


def _label_of(job: Any) -> str:
    name = getattr(job, "primitive_id", "job")
    return f"{name} {job.job_id()[:6]}"


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
