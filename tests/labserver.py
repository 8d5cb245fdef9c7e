"""A real JupyterLab server on localhost and headless Debian Chromium, for browser tests.

The browser is the system's ``/usr/bin/chromium`` driven by Playwright; no
browser is ever downloaded. The server runs with a token and exposes the
application object in the page so that tests can run JupyterLab commands.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    qrt_home: Path
    log: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyter_lab(root: Path, qrt_home: Path, env: dict[str, str] | None = None) -> Iterator[Lab]:
    """Start ``jupyter lab`` serving ``root``; stop it (and its kernels) afterwards."""
    port = _free_port()
    token = secrets.token_hex(16)
    log = root / "jupyter-lab.log"
    server_env = dict(os.environ, QRT_HOME=str(qrt_home), **(env or {}))
    server_env.pop("JPY_SESSION_NAME", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
           "--allow-root"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=server_env,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "jupyter lab did not start:\n" + log.read_text()[-3000:]
                    ) from None
                time.sleep(0.3)
        yield Lab(url, token, root, qrt_home, log)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def chromium_page(width: int = 1400, height: int = 950) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def run_command(page: object, command: str, args: dict | None = None,
                timeout: float = 60_000) -> None:
    """Execute a JupyterLab command through the exposed application.

    Extensions register their commands as they activate, which can come after the
    shell is up on a loaded machine, so the command is awaited first.
    """
    page.wait_for_function(  # type: ignore[attr-defined]
        "c => window.jupyterapp.commands.hasCommand(c)", arg=command, timeout=timeout)
    page.evaluate(  # type: ignore[attr-defined]
        "([c, a]) => window.jupyterapp.commands.execute(c, a)", [command, args or {}]
    )


def wait_for_lab(page: object, timeout: float = 90_000) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => window.jupyterapp && window.jupyterapp.shell && "
        "document.querySelector('.jp-LabShell')", timeout=timeout)


def wait_for_kernel(page: object, timeout: float = 90_000) -> None:
    """Wait until the current notebook's kernel is connected."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session &&"
        " w.sessionContext.session.kernel &&"
        " w.sessionContext.session.kernel.connectionStatus === 'connected'; }",
        timeout=timeout)
