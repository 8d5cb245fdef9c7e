"""The current execution mode: what primitives and programs use when given none.

``with Session(...):`` sets it for the block (a ContextVar, as in
qiskit-ibm-runtime); ``set_default_mode`` sets it for the whole process, which
is what a notebook's ``%qrt session open`` does.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("qrt_current_mode", default=None)
_default: Any = None


def current_mode() -> Any:
    """The innermost ``with`` mode, else the process default, else None."""
    mode = _current.get()
    return mode if mode is not None else _default


def set_default_mode(mode: Any) -> None:
    global _default
    _default = mode


def default_mode() -> Any:
    return _default


def enter(mode: Any) -> Any:
    return _current.set(mode)


def leave(token: Any) -> None:
    _current.reset(token)


_default_options: dict[str, Any] = {}


def set_default_options(options: dict[str, Any]) -> None:
    """Options (dotted names) every primitive created afterwards starts from."""
    global _default_options
    _default_options = dict(options)


def default_options() -> dict[str, Any]:
    return dict(_default_options)
