"""Jupyter server extension: REST endpoints under ``/qrt/api/`` over the job store.

The JupyterLab sidebar sees every session and job of every kernel through
these endpoints, and cancels through them; the kernels themselves are never
contacted (a cancel request is written to the store and the owning kernel acts
on it). This module is imported with the package, so it stays light: tornado,
jupyter_server and the store are imported only when the server loads the
extension, and the extension registers its handlers even when the store cannot
be opened yet (the endpoints then answer 503 with the reason), so a bad store
never leaves the sidebar with 404s.
"""

from __future__ import annotations

import threading
from typing import Any

#: The URL prefix below the server's base_url.
API_PREFIX = "qrt/api/"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell jupyter_server which module holds ``_load_jupyter_server_extension``."""
    return [{"module": "qrt_jupyter.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the REST handlers under ``base_url + 'qrt/api/'``."""
    from jupyter_server.utils import url_path_join

    from .handlers import handler_routes
    from .manager import RuntimeManager

    manager = RuntimeManager()
    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], API_PREFIX)
    web_app.add_handlers(".*$", handler_routes(base, manager))
    web_app.settings["qrt_runtime_manager"] = manager
    # Importing the store pulls in the runtime package (Qiskit, ~0.5 s): do it off
    # the event loop now rather than inside the first request.
    threading.Thread(target=manager.preload, name="qrt-preload", daemon=True).start()
    serverapp.log.info("qrt_jupyter: runtime REST API at %s", base)
