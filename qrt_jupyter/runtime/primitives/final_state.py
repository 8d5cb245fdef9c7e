"""Shots drawn from the final state's probabilities when every measurement is terminal.

Aer answers a sampling call with one record per shot, built in C++ and handed to Python
shot by shot: for a Bell circuit at 1024 shots that is about 0.7 of the 0.9 ms the call
costs, and it grows with the shots. When the circuit is noiseless and every measurement
comes at the end, the outcome distribution is fixed by the final state, and Aer itself
simulates once and draws the shots from it ("measurement sampling"). Here Aer computes
that distribution (``save_probabilities`` on the measured qubits, one shot) and numpy
draws the shots, at a few nanoseconds each. The samples are real draws from the exact
distribution, as Aer's own are; only the random stream differs.

Anything else runs through Aer's own shots: mid-circuit measurements, resets, classical
control, any instruction that is not a gate, noise, a simulator method that cannot save
probabilities, more than ``MAX_MEASURED_QUBITS`` measured qubits (the distribution would
outgrow the shots) or clbits beyond 64.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Gate
from qiskit.providers import BackendV2

from ..backends import is_aer, is_noisy

#: The largest number of measured qubits whose distribution (2**m floats) is sent back.
MAX_MEASURED_QUBITS = 16
#: Probabilities one probe call may return (rows x outcomes): 32 MB of float64.
MAX_PROBABILITIES_PER_CALL = 1 << 22
#: The label of the saved probabilities in the probe circuit's result.
LABEL = "qrt_final_probabilities"
#: Simulator methods that can save probabilities.
_METHODS = frozenset({"automatic", "statevector", "density_matrix", "matrix_product_state",
                      "stabilizer"})
#: Instructions that do nothing to a noiseless final state.
_PASSIVE = frozenset({"barrier", "delay"})


@dataclass(frozen=True)
class FinalStatePlan:
    """How to sample a circuit from its final state.

    ``probe`` is the circuit without its measurements, saving the probabilities of
    ``qubits`` (bit k of an outcome is qubit ``qubits[k]``); ``writes`` maps bit k of an
    outcome to the clbits it is measured into. ``direct`` when outcome bit k is clbit k.
    """

    probe: QuantumCircuit
    qubits: tuple[int, ...]
    writes: tuple[tuple[int, int], ...]
    direct: bool


#: Set to False to take the simulator's own shots always (benchmarks compare both paths).
ENABLED = True


def backend_allows(backend: BackendV2, run_options: dict[str, Any]) -> bool:
    """Whether the backend's shots may be drawn from the final state."""
    if not ENABLED or not is_aer(backend) or is_noisy(backend):
        return False
    if run_options.get("noise_model") is not None:
        return False
    options = backend.options
    return (str(options.method) in _METHODS
            and str(getattr(options, "device", "CPU")) == "CPU")


def plan_for(circuit: QuantumCircuit) -> FinalStatePlan | None:
    """The plan for ``circuit``, or None when its shots must come from the simulator."""
    measured: dict[int, list[int]] = {}
    written: set[int] = set()
    kept = []
    for instruction in circuit.data:
        operation = instruction.operation
        name = operation.name
        if name == "measure":
            qubit = circuit.find_bit(instruction.qubits[0]).index
            clbit = circuit.find_bit(instruction.clbits[0]).index
            if clbit in written:
                return None  # an overwritten clbit: Aer keeps the last write, per shot
            written.add(clbit)
            measured.setdefault(qubit, []).append(clbit)
            continue
        if name in _PASSIVE:
            kept.append(instruction)
            continue
        if not isinstance(operation, Gate) or instruction.clbits:
            return None
        if any(circuit.find_bit(q).index in measured for q in instruction.qubits):
            return None  # a gate after a measurement: not terminal
        kept.append(instruction)
    if not measured or len(measured) > MAX_MEASURED_QUBITS or max(written) >= 64:
        return None
    from qiskit_aer.library import SaveProbabilities

    qubits = tuple(sorted(measured))
    probe = circuit.copy_empty_like(name=f"{circuit.name}_final_state")
    for instruction in kept:
        probe._append(instruction)
    probe.append(SaveProbabilities(len(qubits), label=LABEL),
                 [probe.qubits[q] for q in qubits])
    writes = tuple((k, clbit) for k, q in enumerate(qubits) for clbit in measured[q])
    direct = all(k == clbit for k, clbit in writes) and len(writes) == len(qubits)
    return FinalStatePlan(probe, qubits, writes, direct)


def rows_per_call(plans: list[FinalStatePlan], limit: int) -> int:
    """Parameter rows per probe call, so that one result stays within the budget."""
    outcomes = sum(1 << len(plan.qubits) for plan in plans)
    return max(1, min(limit, MAX_PROBABILITIES_PER_CALL // max(1, outcomes)))


def probabilities(result: Any, index: int) -> np.ndarray:
    """The saved distribution of experiment ``index`` of a probe run."""
    return np.asarray(result.results[index].data.to_dict()[LABEL], dtype=float)


#: The generator of unseeded jobs (numpy's generators lock around each draw); a forked
#: child gets a fresh one, so that parent and child never draw the same shots.
_UNSEEDED = np.random.default_rng()


def _reseed_after_fork() -> None:
    global _UNSEEDED
    _UNSEEDED = np.random.default_rng()


os.register_at_fork(after_in_child=_reseed_after_fork)


def rng_for(run_options: dict[str, Any]) -> np.random.Generator:
    """The job's generator: seeded by ``seed_simulator`` so that seeded runs reproduce."""
    seed = run_options.get("seed_simulator")
    return _UNSEEDED if seed is None else np.random.default_rng(seed)


def draw_outcomes(distribution: np.ndarray, shots: int, rng: np.random.Generator) -> np.ndarray:
    """``shots`` outcomes (uint64 indices into ``distribution``), in random order."""
    # clipped: approximate methods (MPS) can return -1e-17; searchsorted needs a sorted cdf
    cdf = np.cumsum(np.clip(distribution, 0.0, None))
    points = rng.random(shots) * cdf[-1]
    outcomes = np.searchsorted(cdf, points, side="right")
    np.minimum(outcomes, len(distribution) - 1, out=outcomes)
    return outcomes.astype(np.uint64)


def draw_memory(plan: FinalStatePlan, distribution: np.ndarray, shots: int,
                rng: np.random.Generator) -> np.ndarray:
    """One uint64 per shot holding the clbits, as Aer's memory would (other clbits 0)."""
    return memory_words(plan, draw_outcomes(distribution, shots, rng))


def draw_counts(plan: FinalStatePlan, distribution: np.ndarray, shots: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(memory words seen, how often) for ``shots`` draws: a multinomial sample."""
    weights = np.clip(distribution, 0.0, None)  # as in draw_outcomes
    counts = rng.multinomial(shots, weights / weights.sum())
    seen = np.flatnonzero(counts)
    return memory_words(plan, seen.astype(np.uint64)), counts[seen].astype(float)


def memory_words(plan: FinalStatePlan, outcomes: np.ndarray) -> np.ndarray:
    """Outcome indices (bit k = ``plan.qubits[k]``) as clbit words."""
    if plan.direct:
        return outcomes
    memory = np.zeros(len(outcomes), dtype=np.uint64)
    one = np.uint64(1)
    for bit, clbit in plan.writes:
        memory |= ((outcomes >> np.uint64(bit)) & one) << np.uint64(clbit)
    return memory
