"""Parameter values of a PUB turned into Aer parameter binds for a cached ISA circuit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from qiskit import QuantumCircuit

#: Parameter rows per simulator call: a running job can be cancelled between calls.
ROWS_PER_CALL = 1024


def value_rows(pub: Any) -> np.ndarray:
    """(rows, P) array of the PUB's parameter values, ordered as circuit.parameters."""
    values = pub.parameter_values
    array = values.as_array(pub.circuit.parameters)
    return array.reshape(-1, pub.circuit.num_parameters)


def binds_for(target: QuantumCircuit, source: QuantumCircuit, rows: np.ndarray) -> dict:
    """Aer binds ``{parameter: column}`` of ``target`` from rows ordered like ``source``."""
    if not target.num_parameters:
        return {}
    column = {p.name: i for i, p in enumerate(source.parameters)}
    return {p: rows[:, column[p.name]] for p in target.parameters}


def chunks(num_rows: int, size: int = ROWS_PER_CALL) -> Iterator[slice]:
    for start in range(0, num_rows, size):
        yield slice(start, min(num_rows, start + size))
