"""One place that decides "live widget or static figure".

A kernel cannot ask its frontend whether it renders widgets, so the decision
uses what is known: a kernel started by a Jupyter server for a notebook
(JupyterLab, Notebook, VS Code) has ``JPY_SESSION_NAME`` set, while nbconvert,
nbval and plain IPython do not. ``%qrt options display=widget|static`` (or the
``QRT_DISPLAY`` environment variable) overrides the guess.
"""

from __future__ import annotations

import os

_override: str | None = None


def set_display_mode(mode: str | None) -> None:
    """'widget', 'static' or None (guess)."""
    global _override
    if mode not in (None, "widget", "static"):
        raise ValueError("display mode must be 'widget', 'static' or None")
    _override = mode


def display_mode() -> str:
    if _override is not None:
        return _override
    env = os.environ.get("QRT_DISPLAY", "").strip().lower()
    if env in ("widget", "static"):
        return env
    try:
        from IPython import get_ipython
    except ImportError:
        return "static"
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return "static"
    return "widget" if os.environ.get("JPY_SESSION_NAME") else "static"


def widgets_live() -> bool:
    return display_mode() == "widget"
