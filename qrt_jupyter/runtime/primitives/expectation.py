"""Expectation values of Estimator PUBs: exact, or estimated from real samples.

Exact mode saves each distinct observable once (``save_expectation_value`` of
the whole operator) and binds every parameter row in one simulator call, which
is what makes a broadcast gradient PUB cost about one run; from 14 qubits on
(STATEVECTOR_MIN_QUBITS) it saves the statevector instead and takes qiskit's
SparsePauliOp expectation of it, which is faster there. Sampled mode
measures qubit-wise commuting groups of Pauli terms and computes the mean and
its standard error from the counts, so ``stds`` are real statistics rather than
noise added to an exact value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.primitives import DataBin, PubResult
from qiskit.quantum_info import PauliList, SparsePauliOp, Statevector

from ..backends import is_aer
from ..backends.transpile import CacheEntry, TranspileCache
from .binding import ROWS_PER_CALL, binds_for, chunks, value_rows
from .final_state import FinalStatePlan, draw_counts, plan_for, probabilities, rows_per_call

#: _unique_observables per ObservablesArray object (validation shares one per operator)
_UNIQUE: dict[int, tuple[Any, tuple]] = {}
_UNIQUE_MAX = 64


def _unique_observables(pub: Any) -> tuple[list[dict], np.ndarray, tuple]:
    """Distinct observables, the index of each PUB observable among them, and a cache key.

    The result is read only: it is shared by every PUB with the same ObservablesArray.
    """
    observables = pub.observables
    known = _UNIQUE.get(id(observables))
    if known is not None and known[0] is observables:
        return known[1]
    out = _compute_unique(pub)
    if len(_UNIQUE) >= _UNIQUE_MAX:
        _UNIQUE.pop(next(iter(_UNIQUE)), None)
    _UNIQUE[id(observables)] = (observables, out)
    return out


def _compute_unique(pub: Any) -> tuple[list[dict], np.ndarray, tuple]:
    keys: dict[tuple, int] = {}
    index = []
    unique: list[dict] = []
    for obs in pub.observables.ravel():
        key = tuple(sorted(obs.items()))
        k = keys.get(key)
        if k is None:
            k = keys[key] = len(unique)
            unique.append(obs)
        index.append(k)
    return unique, np.asarray(index, dtype=int).reshape(pub.observables.shape), tuple(keys)


def _operator(obs: dict, num_qubits: int) -> SparsePauliOp:
    if not obs:
        return SparsePauliOp("I" * num_qubits, 0.0)
    return SparsePauliOp(list(obs.keys()), np.fromiter(obs.values(), dtype=float, count=len(obs)))


def _broadcast(table: np.ndarray, param_shape: tuple, obs_index: np.ndarray) -> np.ndarray:
    rows = np.arange(max(1, int(np.prod(param_shape, dtype=int)))).reshape(param_shape)
    b_rows, b_obs = np.broadcast_arrays(rows, obs_index)
    # asarray: indexing with 0-d arrays gives a numpy scalar, but qiskit's primitives
    # return evs and stds of a scalar PUB as 0-d arrays (and the store keeps arrays exactly).
    return np.asarray(table[b_rows, b_obs])


#: From this width on, exact values come from the saved statevector and qiskit's
#: SparsePauliOp expectation instead of Aer's save_expectation_value, when the observables
#: have at least STATEVECTOR_MIN_TERMS Pauli terms. Measured on EfficientSU2 with a
#: Heisenberg chain (33-57 terms): at 12 qubits both cost the same, at 14 the statevector
#: route is ~25% faster, at 16 and 20 ~20%: Aer's per-term expectation is slower than
#: qiskit's, which pays off once a state costs more to scan than to copy out.
STATEVECTOR_MIN_QUBITS = 14
STATEVECTOR_MIN_TERMS = 4
#: Bytes of statevectors one simulator call may return (rows are split into calls).
STATEVECTOR_CALL_BYTES = 64 * 2**20


def _statevector_route(ctx: Any, num_qubits: int, unique: list[dict]) -> bool:
    backend = getattr(ctx, "backend", None)
    if not is_aer(backend) or str(backend.options.method) != "statevector":
        return False
    if str(getattr(backend.options, "device", "CPU")) != "CPU":
        return False
    if str(getattr(backend.options, "precision", "double")) != "double":
        return False
    terms = sum(len(obs) for obs in unique)
    return num_qubits >= STATEVECTOR_MIN_QUBITS and terms >= STATEVECTOR_MIN_TERMS


def exact_pub(ctx: Any, entry: CacheEntry, pub: Any, run_options: dict) -> PubResult:
    unique, obs_index, key = _unique_observables(pub)
    rows = value_rows(pub) if pub.circuit.num_parameters else np.zeros((1, 0))
    num_rows = rows.shape[0]
    table = np.empty((num_rows, len(unique)))
    options = dict(run_options, shots=1)
    if _statevector_route(ctx, entry.circuit.num_qubits, unique):
        _exact_from_statevectors(ctx, entry, pub, unique, key, rows, table, options)
    else:
        circuit = entry.derived.get(("exact", key))
        if circuit is None:
            circuit = entry.circuit.copy()
            for k, obs in enumerate(unique):
                op = _laid_out(obs, pub, entry, circuit.num_qubits)
                circuit.save_expectation_value(op, list(range(circuit.num_qubits)),
                                               label=f"o{k}")
            entry.derived[("exact", key)] = circuit
        for part in chunks(num_rows):
            binds = binds_for(circuit, pub.circuit, rows[part])
            result = ctx.run_circuits([circuit], [binds] if binds else None, options)
            for r, exp in enumerate(result.results):
                data = exp.data.to_dict() if hasattr(exp.data, "to_dict") else exp.data
                for k in range(len(unique)):
                    table[part.start + r, k] = np.real(data[f"o{k}"])
    if num_rows == 1 and pub.parameter_values.shape:
        table = np.repeat(table, int(np.prod(pub.parameter_values.shape)), axis=0)
    evs = _broadcast(table, pub.parameter_values.shape, obs_index)
    return PubResult(
        DataBin(evs=evs, stds=np.zeros_like(evs), shape=evs.shape),
        metadata={"target_precision": 0.0, "shots": 0, "exact": True,
                  "circuit_metadata": pub.circuit.metadata},
    )


def _laid_out(obs: dict, pub: Any, entry: CacheEntry, width: int) -> SparsePauliOp:
    op = _operator(obs, pub.circuit.num_qubits)
    if entry.layout is not None:
        op = op.apply_layout(entry.layout, width)
    return op


def _exact_from_statevectors(ctx: Any, entry: CacheEntry, pub: Any, unique: list[dict],
                             key: tuple, rows: np.ndarray, table: np.ndarray,
                             options: dict) -> None:
    circuit = entry.derived.get(("exact-statevector",))
    if circuit is None:
        circuit = entry.circuit.copy()
        circuit.save_statevector(label="qrt_state")
        entry.derived[("exact-statevector",)] = circuit
    operators = entry.derived.get(("exact-operators", key))
    if operators is None:
        operators = [_laid_out(obs, pub, entry, circuit.num_qubits) for obs in unique]
        entry.derived[("exact-operators", key)] = operators
    per_call = max(1, min(ROWS_PER_CALL,
                          STATEVECTOR_CALL_BYTES // (16 << circuit.num_qubits)))
    for part in chunks(rows.shape[0], per_call):
        binds = binds_for(circuit, pub.circuit, rows[part])
        result = ctx.run_circuits([circuit], [binds] if binds else None, options)
        for r, exp in enumerate(result.results):
            data = exp.data.to_dict() if hasattr(exp.data, "to_dict") else exp.data
            state = data["qrt_state"]
            if not isinstance(state, Statevector):
                state = Statevector(state)
            for k, op in enumerate(operators):
                table[part.start + r, k] = np.real(state.expectation_value(op))
            del data, state


def shots_for(precision: float) -> int:
    """Shots whose standard error on a ±1 observable is at most ``precision``."""
    return max(1, math.ceil(1.0 / precision**2))


class _GroupPlan:
    """Measurement circuits for qubit-wise commuting groups, and how to read them."""

    def __init__(self, pub: Any, unique: list[dict], cache: TranspileCache) -> None:
        n = pub.circuit.num_qubits
        labels: list[str] = []
        self.constants = np.zeros(len(unique))
        for k, obs in enumerate(unique):
            for label, coeff in obs.items():
                if set(label) <= {"I"}:
                    self.constants[k] += coeff
                elif label not in labels:
                    labels.append(label)
        position = {label: i for i, label in enumerate(labels)}
        self.coeffs = np.zeros((len(unique), len(labels)))
        for k, obs in enumerate(unique):
            for label, coeff in obs.items():
                if label in position:
                    self.coeffs[k, position[label]] += coeff
        self.groups: list[tuple[QuantumCircuit, list[int], np.ndarray]] = []
        #: the measurement register follows the circuit's own clbits: outcome words are
        #: shifted down by this many bits before the masks apply
        self.offset = pub.circuit.num_clbits
        #: per group, how to draw its shots from the final state (None: simulator shots)
        self.final_state: list[FinalStatePlan | None] = []
        if not labels:
            return
        for group in PauliList(labels).group_qubit_wise_commuting():
            group_labels = group.to_labels()
            # qubit q is character n-1-q of a label
            basis = ["I"] * n
            for label in group_labels:
                for q in range(n):
                    ch = label[n - 1 - q]
                    if ch != "I":
                        basis[q] = ch
            measured = [q for q in range(n) if basis[q] != "I"]
            circuit = pub.circuit.copy()
            creg = ClassicalRegister(len(measured), "qrt_meas")
            circuit.add_register(creg)
            for q in measured:
                if basis[q] == "X":
                    circuit.h(q)
                elif basis[q] == "Y":
                    circuit.sdg(q)
                    circuit.h(q)
            for j, q in enumerate(measured):
                circuit.measure(q, creg[j])
            isa, _hit = cache.lookup(circuit)
            masks = np.zeros(len(group_labels), dtype=np.uint64)
            for t, label in enumerate(group_labels):
                mask = 0
                for j, q in enumerate(measured):
                    if label[n - 1 - q] != "I":
                        mask |= 1 << j
                masks[t] = mask
            columns = [position[label] for label in group_labels]
            self.groups.append((isa.circuit, columns, masks))
            self.final_state.append(plan_for(isa.circuit))


def sampled_pub(ctx: Any, entry: CacheEntry, cache: TranspileCache, pub: Any, shots: int,
                run_options: dict, rng: np.random.Generator | None = None) -> PubResult:
    """Means and standard errors from ``shots`` samples per measurement group.

    With ``rng`` (a noiseless backend) and every group's measurements terminal, one probe
    run per chunk gives each group's outcome distribution and the counts are a
    multinomial draw from it; otherwise the simulator's own shots are counted.
    """
    unique, obs_index, key = _unique_observables(pub)
    plan = entry.derived.get(("sampled", key))
    if plan is None:
        plan = entry.derived[("sampled", key)] = _GroupPlan(pub, unique, cache)
    rows = value_rows(pub) if pub.circuit.num_parameters else np.zeros((1, 0))
    num_rows = rows.shape[0]
    means = np.tile(plan.constants, (num_rows, 1))
    variances = np.zeros((num_rows, len(unique)))
    final_state = rng is not None and all(p is not None for p in plan.final_state)
    if final_state:
        circuits = [p.probe for p in plan.final_state]
        options = dict(run_options, shots=1)
        per_call = rows_per_call(plan.final_state, ROWS_PER_CALL)
    else:
        circuits = [g[0] for g in plan.groups]
        options = dict(run_options, shots=shots)
        per_call = ROWS_PER_CALL
    for part in chunks(num_rows, per_call):
        if not circuits:
            break
        binds = [binds_for(c, pub.circuit, rows[part]) for c in circuits]
        result = ctx.run_circuits(circuits, binds if any(binds) else None, options)
        size = part.stop - part.start
        for g, (_circ, columns, masks) in enumerate(plan.groups):
            coeffs = plan.coeffs[:, columns]
            for r in range(size):
                if final_state:
                    outcomes, weights = draw_counts(
                        plan.final_state[g], probabilities(result, g * size + r), shots, rng)
                    outcomes = outcomes >> np.uint64(plan.offset)
                else:
                    counts = result.results[g * size + r].data.counts
                    outcomes = np.fromiter((int(k, 16) >> plan.offset for k in counts),
                                           dtype=np.uint64, count=len(counts))
                    weights = np.fromiter(counts.values(), dtype=float, count=len(counts))
                parity = np.bitwise_count(outcomes[None, :] & masks[:, None]) & 1
                signs = 1.0 - 2.0 * parity
                values = coeffs @ signs  # (observables, outcomes)
                mean = values @ weights / shots
                var = ((values - mean[:, None]) ** 2) @ weights / max(1, shots - 1)
                means[part.start + r] += mean
                variances[part.start + r] += var / shots
    if num_rows == 1 and pub.parameter_values.shape:
        reps = int(np.prod(pub.parameter_values.shape))
        means, variances = np.repeat(means, reps, axis=0), np.repeat(variances, reps, axis=0)
    evs = _broadcast(means, pub.parameter_values.shape, obs_index)
    stds = np.asarray(np.sqrt(_broadcast(variances, pub.parameter_values.shape, obs_index)))
    return PubResult(
        DataBin(evs=evs, stds=stds, shape=evs.shape),
        metadata={"target_precision": pub.precision, "shots": shots, "exact": False,
                  "num_measurement_groups": len(plan.groups),
                  "shots_from": "final_state" if final_state else "simulator",
                  "circuit_metadata": pub.circuit.metadata},
    )
