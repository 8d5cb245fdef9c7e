"""The local Qiskit Runtime execution model. Imports nothing from Jupyter.

Layers, each importing only those above it in this list:

- ``core``: no Qiskit — errors, ids, durations, events, settings, the store;
- ``execution``: the job handle, submission, scheduler, watcher, execution context;
- ``backends``: the catalogue, transpile cache and executors;
- ``primitives``, ``gradients``, ``programs``: what jobs compute;
- ``modes`` (Session, Batch) and ``service`` (LocalRuntimeService): the front door.

Public names load on first use (PEP 562), so that ``import qrt_jupyter.runtime.core.store``
(the Jupyter server's only need) does not import Qiskit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .core.errors import QRTError
    from .core.ids import JOB_FINAL_STATES
    from .execution.job import RuntimeJob
    from .modes import Batch, Session
    from .primitives import EstimatorOptions, EstimatorV2, SamplerOptions, SamplerV2
    from .service import LocalRuntimeService

_LAZY: dict[str, str] = {
    "QRTError": ".core.errors",
    "JOB_FINAL_STATES": ".core.ids",
    "RuntimeJob": ".execution.job",
    "Batch": ".modes",
    "Session": ".modes",
    "EstimatorOptions": ".primitives",
    "EstimatorV2": ".primitives",
    "SamplerOptions": ".primitives",
    "SamplerV2": ".primitives",
    "LocalRuntimeService": ".service",
}

__all__ = [
    "Batch", "EstimatorOptions", "EstimatorV2", "JOB_FINAL_STATES", "LocalRuntimeService",
    "QRTError", "RuntimeJob", "SamplerOptions", "SamplerV2", "Session",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
