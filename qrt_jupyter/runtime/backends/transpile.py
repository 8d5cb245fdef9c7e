"""ISA transpilation with a cache keyed on circuit structure.

A variational loop submits the same circuit shape hundreds of times with new
parameter values. Transpiling it every time would dominate the loop, so a
session transpiles each structure once and binds parameters per call. ISA
circuits pass through untouched; the cache counts hits and misses so that job
metrics can show it working.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from qiskit import QuantumCircuit
from qiskit.circuit import ParameterExpression
from qiskit.providers import BackendV2
from qiskit.transpiler import generate_preset_pass_manager

#: Instructions every Aer backend executes whatever its target says.
_ALWAYS_SUPPORTED = frozenset({"barrier", "measure", "reset", "delay"})


def structure_key(circuit: QuantumCircuit) -> tuple:
    """A hashable description of everything but bound parameter values' identity.

    Two circuits with equal keys transpile to the same ISA circuit, so one
    transpilation serves both; parameters are compared by name.
    """
    qubit_index = {q: i for i, q in enumerate(circuit.qubits)}
    clbit_index = {c: i for i, c in enumerate(circuit.clbits)}
    items = []
    for inst in circuit.data:
        op = inst.operation
        params = tuple(
            str(p) if isinstance(p, ParameterExpression)
            else (float(p) if isinstance(p, (int, float)) else repr(p))
            for p in op.params
        )
        items.append((
            op.name,
            tuple(qubit_index[q] for q in inst.qubits),
            tuple(clbit_index[c] for c in inst.clbits),
            params,
        ))
    return (
        circuit.num_qubits,
        tuple((r.name, r.size) for r in circuit.cregs),
        str(circuit.global_phase),
        tuple(items),
    )


def is_isa(circuit: QuantumCircuit, backend: BackendV2) -> bool:
    """Whether the backend can run ``circuit`` as it is."""
    target = backend.target
    qubit_index = {q: i for i, q in enumerate(circuit.qubits)}
    for inst in circuit.data:
        name = inst.operation.name
        if name in _ALWAYS_SUPPORTED and target.num_qubits is None:
            continue
        qargs = tuple(qubit_index[q] for q in inst.qubits)
        if name in _ALWAYS_SUPPORTED and name not in target.operation_names:
            continue
        if not target.instruction_supported(name, qargs):
            return False
    return True


@dataclass
class CacheEntry:
    """One structure's ISA circuit and what was derived from it."""

    circuit: QuantumCircuit
    layout: Any
    transpiled: bool
    #: position of each ISA-circuit parameter in the original circuit's parameter order
    parameter_order: list[int]
    #: executables built from this entry (estimator circuits per observable set, ...)
    derived: dict = field(default_factory=dict)


class TranspileCache:
    """Per-session (or per-backend) cache of ISA circuits."""

    def __init__(self, backend: BackendV2, *, optimization_level: int = 1) -> None:
        self.backend = backend
        self.optimization_level = optimization_level
        self.hits = 0
        self.misses = 0
        self._entries: dict[tuple, CacheEntry] = {}
        self._by_id: dict[int, tuple[weakref.ref, int, CacheEntry]] = {}
        self._lock = threading.Lock()
        self._pass_manager = None

    def lookup(self, circuit: QuantumCircuit) -> tuple[CacheEntry, bool]:
        """The entry for ``circuit`` and whether it was a cache hit."""
        # Fast path: the same circuit object seen before and not grown since.
        known = self._by_id.get(id(circuit))
        if known is not None:
            ref, size, entry = known
            if ref() is circuit and size == len(circuit.data):
                with self._lock:
                    self.hits += 1
                return entry, True
        key = structure_key(circuit)
        with self._lock:
            entry = self._entries.get(key)
            hit = entry is not None
            if hit:
                self.hits += 1
        if entry is None:
            built = self._build(circuit)
            with self._lock:
                entry = self._entries.setdefault(key, built)
                # two jobs that built the same structure at once: only the first was a miss
                hit = entry is not built
                if hit:
                    self.hits += 1
                else:
                    self.misses += 1
        try:
            self._by_id[id(circuit)] = (weakref.ref(circuit), len(circuit.data), entry)
        except TypeError:
            pass
        return entry, hit

    def _build(self, circuit: QuantumCircuit) -> CacheEntry:
        if is_isa(circuit, self.backend):
            # a copy: the entry serves every later circuit of this structure, so it must
            # not follow the user's circuit if that is changed in place afterwards
            return CacheEntry(circuit.copy(), None, False, list(range(circuit.num_parameters)))
        if self._pass_manager is None:
            self._pass_manager = generate_preset_pass_manager(
                optimization_level=self.optimization_level, backend=self.backend,
                seed_transpiler=0,
            )
        isa = self._pass_manager.run(circuit)
        position = {p.name: i for i, p in enumerate(circuit.parameters)}
        order = [position[p.name] for p in isa.parameters]
        return CacheEntry(isa, isa.layout, True, order)

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "structures": len(self._entries)}


class CacheView:
    """One job's view of a shared cache, counting that job's own hits and misses.

    The jobs of a Batch share their mode's cache and run at once, so the cache's own
    counters cannot be split per job by subtracting before/after values.
    """

    def __init__(self, cache: TranspileCache) -> None:
        self.cache = cache
        self.backend = cache.backend
        self.hits = 0
        self.misses = 0

    def lookup(self, circuit: QuantumCircuit) -> tuple[CacheEntry, bool]:
        entry, hit = self.cache.lookup(circuit)
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        return entry, hit

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses}
