"""Thin REST handlers over RuntimeManager: parse the request, call, answer JSON.

Every verb is ``@tornado.web.authenticated`` (checked by
tests/test_handlers_authenticated.py), so a request without the server's token
gets 403, and POSTs also pass jupyter_server's XSRF check. Store access runs
in worker threads so that a store busy with another process's write never
stalls the server's event loop. Refusals come back as ``{"message": ...}``
with 400, 404, 409 or 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .manager import ApiError, RuntimeManager, dumps

_ID = r"([^/]+)"  # anything up to the next slash; the manager validates it (400, not 404)


class RuntimeAPIHandler(APIHandler):
    """Common parts: the manager, typed query arguments, JSON replies and refusals."""

    manager: RuntimeManager

    def initialize(self, manager: RuntimeManager) -> None:
        self.manager = manager

    def int_arg(self, name: str, default: int) -> int:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return default
        try:
            return int(text)
        except ValueError:
            raise web.HTTPError(400, f"{name} must be an integer, not {text[:40]!r}.") from None

    def float_arg(self, name: str, default: float) -> float:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return default
        try:
            return float(text)
        except ValueError:
            raise web.HTTPError(400, f"{name} must be a number, not {text[:40]!r}.") from None

    async def reply(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``call`` off the event loop and answer with its model or its refusal."""
        try:
            model = await asyncio.to_thread(call, *args, **kwargs)
        except ApiError as exc:
            raise web.HTTPError(exc.status, exc.message) from None
        self.finish(dumps(model))


class StatusHandler(RuntimeAPIHandler):
    @web.authenticated
    async def get(self) -> None:
        await self.reply(self.manager.status)


class SessionsHandler(RuntimeAPIHandler):
    @web.authenticated
    async def get(self) -> None:
        await self.reply(self.manager.sessions, self.get_query_argument("state", "open"),
                         self.int_arg("limit", 50))


class SessionHandler(RuntimeAPIHandler):
    @web.authenticated
    async def get(self, session_id: str) -> None:
        await self.reply(self.manager.session, session_id)


class SessionActionHandler(RuntimeAPIHandler):
    @web.authenticated
    async def post(self, session_id: str, action: str) -> None:
        await self.reply(self.manager.end_session, session_id, action)


class JobsHandler(RuntimeAPIHandler):
    @web.authenticated
    async def get(self) -> None:
        status = self.get_query_argument("status", "")
        await self.reply(
            self.manager.jobs,
            limit=self.int_arg("limit", 20),
            offset=self.int_arg("offset", 0),
            status=status.split(",") if status else (),
            session_id=self.get_query_argument("session_id", None) or None,
            program=self.get_query_argument("program", None) or None,
        )


class JobHandler(RuntimeAPIHandler):
    @web.authenticated
    async def get(self, job_id: str) -> None:
        await self.reply(self.manager.job, job_id, since=self.int_arg("since", -1))


class JobCancelHandler(RuntimeAPIHandler):
    @web.authenticated
    async def post(self, job_id: str) -> None:
        await self.reply(self.manager.cancel_job, job_id)


class ChangesHandler(RuntimeAPIHandler):
    """Long-poll on the store's change sequence: the sidebar refetches only after a change."""

    _client_gone = False

    def on_connection_close(self) -> None:
        self._client_gone = True

    @web.authenticated
    async def get(self) -> None:
        try:
            model = await self.manager.wait_for_change(
                self.int_arg("since", -1), self.float_arg("timeout", 20.0),
                gone=lambda: self._client_gone,
            )
        except ApiError as exc:
            raise web.HTTPError(exc.status, exc.message) from None
        if not self._client_gone:
            self.finish(dumps(model))


def handler_routes(base: str, manager: RuntimeManager) -> list[tuple[str, type, dict]]:
    """The URL patterns below ``base`` (ending in '/'), each handler bound to ``manager``."""
    kwargs = {"manager": manager}
    routes: list[tuple[str, type[RuntimeAPIHandler]]] = [
        ("status", StatusHandler),
        ("sessions", SessionsHandler),
        (f"sessions/{_ID}", SessionHandler),
        (f"sessions/{_ID}/(close|cancel)", SessionActionHandler),
        ("jobs", JobsHandler),
        (f"jobs/{_ID}", JobHandler),
        (f"jobs/{_ID}/cancel", JobCancelHandler),
        ("changes", ChangesHandler),
    ]
    return [(url_path_join(base, path) + "/?$", cls, kwargs) for path, cls in routes]
