"""qrt_jupyter: the Qiskit Runtime execution model, local and inside Jupyter.

The public names are imported on first use (PEP 562), not when the package is
imported: the Jupyter server imports this package only to find its server
extension and lab extension, and must neither wait for Qiskit and Aer to load
nor fail to start when they cannot be imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# re-exported so that `jupyter server extension list` finds the module qrt_jupyter
from .server import _jupyter_server_extension_points as _jupyter_server_extension_points

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .runtime import (
        JOB_FINAL_STATES,
        Batch,
        EstimatorOptions,
        EstimatorV2,
        LocalRuntimeService,
        QRTError,
        RuntimeJob,
        SamplerOptions,
        SamplerV2,
        Session,
    )
    from .runtime.programs import program

from .version import __version__

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "JOB_FINAL_STATES": ".runtime",
    "Batch": ".runtime",
    "EstimatorOptions": ".runtime",
    "EstimatorV2": ".runtime",
    "LocalRuntimeService": ".runtime",
    "QRTError": ".runtime",
    "RuntimeJob": ".runtime",
    "SamplerOptions": ".runtime",
    "SamplerV2": ".runtime",
    "Session": ".runtime",
    "program": ".runtime.programs",
}
_SUBMODULES = ("runtime", "server", "jupyter", "errors", "cli")

__all__ = [
    "Batch", "EstimatorOptions", "EstimatorV2", "JOB_FINAL_STATES", "LocalRuntimeService",
    "QRTError", "RuntimeJob", "SamplerOptions", "SamplerV2", "Session", "__version__", "program",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt sidebar shipped inside this package."""
    return [{"src": "labextension", "dest": "qrt_jupyter"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext qrt_jupyter`` registers the %qrt magics."""
    from .jupyter.magics import load_ipython_extension as load

    load(ipython)
