"""The default executor: simulations run in the scheduler's worker threads.

Aer's own ``backend.run`` hands every job to one process-wide thread, which
would serialise a Batch; calling Aer's synchronous entry point from our worker
threads lets jobs of a Batch run at once, and saves a thread hop per call.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.result import Result


class LocalExecutor:
    """Runs backend calls in the calling thread; Aer parallelises inside each call."""

    name = "local"

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = max(1, capacity or os.cpu_count() or 1)

    def run_circuits(
        self,
        backend: BackendV2,
        circuits: list[QuantumCircuit],
        parameter_binds: list[dict] | None,
        run_options: dict[str, Any],
    ) -> Result:
        direct = getattr(backend, "_execute_circuits_job", None)
        if direct is not None:
            result = direct(circuits, parameter_binds, dict(run_options))
        else:
            result = backend.run(bind_all(circuits, parameter_binds), **run_options).result()
        if not result.success:
            statuses = {getattr(r, "status", "") for r in result.results}
            raise RuntimeError(f"The simulator failed: {'; '.join(map(str, statuses))}")
        return result

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "capacity": self.capacity}


def bind_all(circuits: list[QuantumCircuit], parameter_binds: list[dict] | None):
    """Bound copies in Aer's result order (circuit-major), for backends without binds."""
    if not parameter_binds:
        return circuits
    bound: list[QuantumCircuit] = []
    for circuit, binds in zip(circuits, parameter_binds):
        if not binds:
            bound.append(circuit)
            continue
        rows = len(next(iter(binds.values())))
        for k in range(rows):
            bound.append(circuit.assign_parameters({p: v[k] for p, v in binds.items()}))
    return bound


_default: LocalExecutor | None = None
_default_lock = threading.Lock()


def default_executor() -> LocalExecutor:
    """The process-wide local executor, shared so that capacity means the machine's."""
    global _default
    with _default_lock:
        if _default is None:
            _default = LocalExecutor()
        return _default
