"""Parameter values of a PUB turned into Aer parameter binds for a cached ISA circuit."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
from qiskit import QuantumCircuit

#: Parameter rows per simulator call: a running job can be cancelled between calls.
ROWS_PER_CALL = 1024


#: parameter names of a circuit, per circuit object not grown since
_NAMES: dict[int, tuple[Any, int, int, tuple[str, ...]]] = {}
_NAMES_MAX = 256


def parameter_names(circuit: QuantumCircuit) -> tuple[str, ...]:
    """``circuit.parameters`` by name, in order (kept per circuit object)."""
    known = _NAMES.get(id(circuit))
    if known is not None and known[0]() is circuit and known[1] == len(circuit.data) \
            and known[2] == circuit.num_parameters:
        return known[3]
    names = tuple(p.name for p in circuit.parameters)
    try:
        ref = weakref.ref(circuit)
    except TypeError:
        return names
    if len(_NAMES) >= _NAMES_MAX:
        _NAMES.pop(next(iter(_NAMES)), None)
    _NAMES[id(circuit)] = (ref, len(circuit.data), circuit.num_parameters, names)
    return names


def value_rows(pub: Any) -> np.ndarray:
    """(rows, P) array of the PUB's parameter values, ordered as circuit.parameters."""
    values = pub.parameter_values
    data = values.data
    if len(data) == 1:
        # the usual (circuit, observables, values) PUB: one array keyed by the parameter
        # names in circuit order, which is what as_array() would copy out
        (names, array), = data.items()
        if names == parameter_names(pub.circuit):
            return np.array(array, dtype=float).reshape(-1, len(names))
    array = values.as_array(pub.circuit.parameters)
    return array.reshape(-1, pub.circuit.num_parameters)


#: (target parameters, source columns) per (target circuit, source parameter names)
_COLUMNS: dict[tuple[int, tuple], tuple[Any, int, list, list]] = {}
_COLUMNS_MAX = 256


def binds_for(target: QuantumCircuit, source: QuantumCircuit, rows: np.ndarray) -> dict:
    """Aer binds ``{parameter: column}`` of ``target`` from rows ordered like ``source``."""
    if not target.num_parameters:
        return {}
    names = parameter_names(source)
    key = (id(target), names)
    known = _COLUMNS.get(key)
    if known is None or known[0]() is not target or known[1] != target.num_parameters:
        column = {name: i for i, name in enumerate(names)}
        params = list(target.parameters)
        known = (weakref.ref(target), target.num_parameters, params,
                 [column[p.name] for p in params])
        if len(_COLUMNS) >= _COLUMNS_MAX:
            _COLUMNS.pop(next(iter(_COLUMNS)), None)
        _COLUMNS[key] = known
    columns = rows.T
    return {p: columns[k] for p, k in zip(known[2], known[3])}


def chunks(num_rows: int, size: int = ROWS_PER_CALL) -> Iterator[slice]:
    for start in range(0, num_rows, size):
        yield slice(start, min(num_rows, start + size))
