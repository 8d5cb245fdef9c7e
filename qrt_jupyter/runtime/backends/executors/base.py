"""The executor interface: the one place that decides where a backend call runs.

Primitives and programs never call ``backend.run`` themselves; they hand the
call to the job's executor. The local executor runs it in the calling worker
thread; a Dask executor ships it to a worker. The scheduler asks ``capacity``
how many jobs may run at once.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.result import Result


@runtime_checkable
class Executor(Protocol):
    """Runs backend calls for jobs; ``capacity`` jobs may run at once."""

    name: str
    capacity: int

    def run_circuits(
        self,
        backend: BackendV2,
        circuits: list[QuantumCircuit],
        parameter_binds: list[dict] | None,
        run_options: dict[str, Any],
    ) -> Result:
        """Run ``circuits`` on ``backend`` and return the qiskit ``Result``."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the executor is, for ``%qrt version`` and job metrics."""
        ...
