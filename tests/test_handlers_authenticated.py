"""Every HTTP verb of the sidebar's REST handlers requires the server's token.

A handler method without ``@tornado.web.authenticated`` would serve the store
(or cancel jobs) to anyone who can reach the port. Checked twice, as the
extension template's CI does: in the source (the decorator is written on every
verb) and on the imported classes (what tornado will call is the decorator's
wrapper).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from tornado import web

from qrt_jupyter.server import handlers

VERBS = {"get", "post", "put", "delete", "patch", "head"}
SOURCE = Path(handlers.__file__)


def _is_authenticated(decorator: ast.expr) -> bool:
    """``@web.authenticated``, ``@tornado.web.authenticated`` or ``@authenticated``."""
    if isinstance(decorator, ast.Name):
        return decorator.id == "authenticated"
    if isinstance(decorator, ast.Attribute) and decorator.attr == "authenticated":
        base = decorator.value
        if isinstance(base, ast.Name):
            return base.id == "web"
        return isinstance(base, ast.Attribute) and base.attr == "web"
    return False


def _verbs_in_source() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    return [
        (cls.name, fn)
        for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
        for fn in cls.body
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and fn.name in VERBS
    ]


def _handler_classes() -> list[type]:
    return [
        cls for _, cls in inspect.getmembers(handlers, inspect.isclass)
        if issubclass(cls, web.RequestHandler) and cls.__module__ == handlers.__name__
    ]


def test_every_verb_in_the_source_is_decorated():
    verbs = _verbs_in_source()
    assert len(verbs) >= 8, "expected the REST handlers in handlers.py"
    missing = [f"{cls}.{fn.name} (line {fn.lineno})" for cls, fn in verbs
               if not any(_is_authenticated(d) for d in fn.decorator_list)]
    assert not missing, f"not @tornado.web.authenticated: {', '.join(missing)}"


def _probe() -> None:
    """Decorated only to learn the code object of tornado's authenticated wrapper."""


_AUTH_WRAPPER_CODE = web.authenticated(_probe).__code__


@pytest.mark.parametrize("cls", _handler_classes(), ids=lambda c: c.__name__)
def test_every_verb_tornado_calls_is_the_authenticated_wrapper(cls):
    own = [name for name in VERBS if name in vars(cls)]
    for name in own:
        method = vars(cls)[name]
        assert method.__code__ is _AUTH_WRAPPER_CODE, (
            f"{cls.__name__}.{name} is not wrapped by tornado.web.authenticated"
        )
        assert hasattr(method, "__wrapped__")


def test_every_routed_handler_defines_only_authenticated_verbs():
    from qrt_jupyter.server.manager import RuntimeManager

    routes = handlers.handler_routes("/base/qrt/api/", RuntimeManager("unused.sqlite"))
    assert routes, "no routes"
    for pattern, cls, _ in routes:
        assert pattern.startswith("/base/qrt/api/")
        verbs = [n for n in VERBS if any(n in vars(k) for k in cls.__mro__
                                         if k.__module__ == handlers.__name__)]
        assert verbs, f"{cls.__name__} serves no verb"
        for name in verbs:
            assert getattr(cls, name).__code__ is _AUTH_WRAPPER_CODE, f"{cls.__name__}.{name}"
