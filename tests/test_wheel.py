"""The wheel ships the prebuilt JupyterLab extension and enables the server extension.

Users install one Python package and need no Node.js: the test builds the wheel
(which runs the lab extension's production build), checks what it contains, then
installs only the wheel into a fresh virtual environment whose PATH has no Node
and asks Jupyter what it loads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], **kwargs) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def test_wheel_installs_both_extensions_without_node(tmp_path):
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
          str(tmp_path / "dist"), str(ROOT)], stdin=subprocess.DEVNULL)
    (wheel,) = (tmp_path / "dist").glob("qrt_jupyter-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/")[0] for n in names if n.endswith(".data/data/share/jupyter/"
                                                             "labextensions/qrt_jupyter/package.json"))
    lab = f"{data}/data/share/jupyter/labextensions/qrt_jupyter"
    assert f"{lab}/static/style.js" in names
    assert any(n.startswith(f"{lab}/static/remoteEntry.") for n in names)
    assert f"{data}/data/etc/jupyter/jupyter_server_config.d/qrt_jupyter.json" in names
    assert "qrt_jupyter/runtime/service.py" in names and "qrt_jupyter/server/handlers.py" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    python = venv / "bin" / "python"
    # the venv's and this Python's scripts (jupyter-*), but no Node.js
    no_node = {**os.environ,
               "PATH": f"{venv / 'bin'}:{Path(sys.executable).parent}:/usr/sbin:/sbin"}
    assert not any((Path(p) / "node").exists() for p in no_node["PATH"].split(":"))
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], env=no_node,
         stdin=subprocess.DEVNULL)

    listing = _run([str(python), "-m", "jupyterlab.labextensions", "list"], env=no_node)
    section = listing.split(str(venv / "share" / "jupyter" / "labextensions"))[1]
    line = next(x for x in section.splitlines() if "qrt_jupyter" in x)
    assert "enabled" in line and "OK" in line, listing
    servers = _run([str(python), "-m", "jupyter_server.extension.serverextension", "list"],
                   env=no_node)
    line = next(x for x in servers.splitlines() if x.strip().startswith("qrt_jupyter"))
    assert "enabled" in line, servers
    # the installed package is the wheel's, not the checkout's editable install
    where = _run([str(python), "-c", "import qrt_jupyter; print(qrt_jupyter.__file__)"],
                 env=no_node, cwd=tmp_path)
    assert str(venv) in where
