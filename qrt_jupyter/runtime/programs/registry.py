"""Runtime programs: Python functions ``fn(ctx, **inputs)`` run as jobs.

A process-wide registry holds the built-ins and what ``@program`` registers;
each service may add its own. Inputs are checked against the function's
signature before anything is stored or queued.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import InvalidInputError, did_you_mean


@dataclass(frozen=True)
class Program:
    """A registered program: its name, function and what it documents."""

    name: str
    fn: Callable[..., Any]
    description: str
    #: ``check(inputs, backend)`` with the defaults filled in (backend None when not known
    #: yet): a program's own cheap input checks,
    #: run by ``bind`` so that bad input raises in ``service.run`` before anything is stored
    check: Callable[[dict[str, Any], Any], None] | None = None

    @property
    def inputs(self) -> dict[str, Any]:
        """Input name -> default (``inspect.Parameter.empty`` when required)."""
        params = list(inspect.signature(self.fn).parameters.values())[1:]
        return {
            p.name: p.default for p in params
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    def bind(self, inputs: Mapping[str, Any], backend: Any = None) -> dict[str, Any]:
        """The inputs, checked against the signature; errors name the input and the fix."""
        if not isinstance(inputs, Mapping):
            raise InvalidInputError(
                f"inputs of program '{self.name}' must be a dict, not {type(inputs).__name__}."
            )
        sig = inspect.signature(self.fn)
        params = list(sig.parameters.values())
        if not params:
            raise InvalidInputError(
                f"program '{self.name}' must take the job context as its first argument: "
                "def fn(ctx, **inputs)."
            )
        accepts_any = any(p.kind == p.VAR_KEYWORD for p in params)
        known = self.inputs
        for name in inputs:
            if name not in known and not accepts_any:
                raise InvalidInputError(
                    f"program '{self.name}' has no input '{name}'.{did_you_mean(name, known)} "
                    f"Its inputs: {', '.join(known) or 'none'}."
                )
        missing = [n for n, d in known.items() if d is inspect.Parameter.empty
                   and n not in inputs]
        if missing:
            raise InvalidInputError(
                f"program '{self.name}' needs input(s) {', '.join(map(repr, missing))}; "
                f"pass them in inputs={{...}}."
            )
        if self.check is not None:
            defaults = {n: d for n, d in known.items() if d is not inspect.Parameter.empty}
            self.check({**defaults, **inputs}, backend)
        return dict(inputs)


_BUILTIN: dict[str, Program] = {}


def _make(fn: Callable[..., Any], name: str | None, description: str | None,
          check: Callable[[dict[str, Any], Any], None] | None = None) -> Program:
    if not callable(fn):
        raise InvalidInputError(f"a program must be a function, not {type(fn).__name__}.")
    doc = inspect.getdoc(fn) or ""
    return Program(name or fn.__name__, fn, description or (doc.splitlines()[0] if doc else ""),
                   check)


def program(name: str | None = None, *, description: str | None = None,
            check: Callable[[dict[str, Any], Any], None] | None = None) -> Callable:
    """Decorator: ``@program(name="my_loop")`` registers ``fn(ctx, **inputs)`` everywhere.

    ``check(inputs, backend)``, when given, validates the inputs (defaults filled in) at
    submission, so that a program's own input errors raise before a job exists.
    """
    if callable(name):  # used bare: @program
        fn = name
        _BUILTIN[fn.__name__] = _make(fn, None, description, check)
        fn.__qrt_program__ = fn.__name__  # type: ignore[attr-defined]
        return fn

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        prog = _make(fn, name, description, check)
        _BUILTIN[prog.name] = prog
        fn.__qrt_program__ = prog.name  # type: ignore[attr-defined]
        return fn

    return register


def registered() -> dict[str, Program]:
    return dict(_BUILTIN)


def make_program(fn: Callable[..., Any], name: str | None = None,
                 description: str | None = None) -> Program:
    return _make(fn, name, description)
