"""Build function for the hatch jupyter-builder hook (see pyproject.toml).

Wheels and sdists are always built from the TypeScript sources, so they never
ship stale JupyterLab assets (which `skip-if-exists` would allow). Editable
installs skip the build, so `pip install -e .` needs no Node.js; developers run
`scripts/build_labextension.sh --develop` to build and link the extension.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def build_unless_editable(target_name: str, version: str, **kwargs: Any) -> None:
    """Run hatch-jupyter-builder's npm builder, except for editable installs."""
    if version == "editable":
        log.info("Editable install: not building the labextension (no Node.js needed)")
        return
    from hatch_jupyter_builder import npm_builder

    npm_builder(target_name, version, **kwargs)
