"""Adjoint gradients must equal independent references: Statevector values, central finite
differences (any gate) and the exact +-pi/2 parameter-shift rule (Pauli rotations only)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector
from qiskit.circuit.library import QFTGate, U1Gate, U3Gate, efficient_su2
from qiskit.quantum_info import SparsePauliOp, Statevector, random_pauli_list

from qrt_jupyter.runtime.gradients import adjoint_value_and_gradient, clear_adjoint_cache


def _energy(qc: QuantumCircuit, h: SparsePauliOp, x: np.ndarray) -> float:
    return float(Statevector(qc.assign_parameters(x)).expectation_value(h).real)


def _finite_diff(qc: QuantumCircuit, h: SparsePauliOp, x: np.ndarray, eps: float = 1e-6):
    out = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        out[i] = (_energy(qc, h, x + e) - _energy(qc, h, x - e)) / (2 * eps)
    return out


def _random_h(n: int, terms: int, seed: int) -> SparsePauliOp:
    rng = np.random.default_rng(seed)
    paulis = random_pauli_list(n, terms, seed=seed, phase=False)
    return SparsePauliOp(paulis, rng.normal(size=terms)) + SparsePauliOp("I" * n, 0.3)


def _all_gates_circuit(n: int, seed: int) -> QuantumCircuit:
    """Every supported parametric gate, fixed gates, and composites that need decomposing."""
    rng = np.random.default_rng(seed)
    th = ParameterVector("t", 30)
    qc = QuantumCircuit(n)
    qc.h(range(n))

    def q2():
        a, b = rng.choice(n, 2, replace=False)
        return int(a), int(b)

    def q1():
        return int(rng.integers(n))

    qc.rx(th[0], q1())
    qc.ry(th[1], q1())
    qc.rz(th[2], q1())
    qc.p(th[3], q1())
    qc.append(U1Gate(th[4]), [q1()])
    qc.rxx(th[5], *q2())
    qc.ryy(th[6], *q2())
    qc.rzz(th[7], *q2())
    qc.rzx(th[8], *q2())
    qc.crx(th[9], *q2())
    qc.cry(th[10], *q2())
    qc.crz(th[11], *q2())
    qc.cp(th[12], *q2())
    qc.u(th[13], th[14], th[15], q1())
    qc.append(U3Gate(th[16], th[17], th[18]), [q1()])
    qc.cx(*q2())
    qc.cz(*q2())
    qc.swap(*q2())
    qc.s(q1())
    qc.t(q1())
    qc.sx(q1())
    qc.y(q1())
    # expressions: 2*theta, theta+phi, a parameter reused in several gates
    qc.rx(2 * th[0], q1())
    qc.ry(th[1] + th[2], q1())
    qc.rz(th[19] - 0.3, q1())
    qc.crz(0.5 * th[20] + th[3], *q2())
    # composite gate with a parameter inside -> must be decomposed
    a = Parameter("a")
    sub = QuantumCircuit(3)
    sub.ry(a, 0)
    sub.cx(0, 1)
    sub.cry(a, 1, 2)
    sub.ccx(0, 1, 2)
    block = sub.to_gate(label="blk")
    qs = [int(v) for v in rng.choice(n, 3, replace=False)]
    qc.append(block, qs)
    qc.assign_parameters({a: th[21]}, inplace=True)
    qc.append(QFTGate(3), [int(v) for v in rng.choice(n, 3, replace=False)])
    qc.cu(th[22], th[23], th[24], th[25], *q2())  # not native: decomposed
    qc.rzz(th[26], *q2())
    qc.rx(th[27], q1())
    qc.ry(th[28], q1())
    qc.rz(th[29], q1())
    return qc


@pytest.mark.parametrize("n,seed", [(3, 0), (4, 1), (5, 2)])
def test_all_gates_match_statevector_and_finite_differences(n: int, seed: int) -> None:
    qc = _all_gates_circuit(n, seed)
    h = _random_h(n, 10, seed)
    x = np.random.default_rng(seed + 10).uniform(-np.pi, np.pi, qc.num_parameters)
    value, grad = adjoint_value_and_gradient(qc, h, x)
    assert value == pytest.approx(_energy(qc, h, x), abs=1e-10)
    assert grad.shape == (qc.num_parameters,)
    np.testing.assert_allclose(grad, _finite_diff(qc, h, x), atol=1e-6)


def _pauli_rotation_circuit(n: int, seed: int) -> QuantumCircuit:
    rng = np.random.default_rng(seed)
    th = ParameterVector("t", 24)
    qc = QuantumCircuit(n)
    for i in range(th.__len__()):
        kind = ["rx", "ry", "rz", "rxx", "ryy", "rzz"][i % 6]
        if kind in ("rx", "ry", "rz"):
            getattr(qc, kind)(th[i], int(rng.integers(n)))
        else:
            a, b = rng.choice(n, 2, replace=False)
            getattr(qc, kind)(th[i], int(a), int(b))
        if i % 5 == 4:
            a, b = rng.choice(n, 2, replace=False)
            qc.cx(int(a), int(b))
            qc.h(int(rng.integers(n)))
    return qc


@pytest.mark.parametrize("n,seed", [(3, 3), (5, 4)])
def test_matches_exact_parameter_shift(n: int, seed: int) -> None:
    qc = _pauli_rotation_circuit(n, seed)
    h = _random_h(n, 8, seed)
    x = np.random.default_rng(seed).uniform(-np.pi, np.pi, qc.num_parameters)
    shift = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = np.pi / 2
        shift[i] = (_energy(qc, h, x + e) - _energy(qc, h, x - e)) / 2
    value, grad = adjoint_value_and_gradient(qc, h, x)
    assert value == pytest.approx(_energy(qc, h, x), abs=1e-10)
    np.testing.assert_allclose(grad, shift, atol=1e-8)


def test_parameter_expressions_chain_rule() -> None:
    t, p = Parameter("θ"), Parameter("φ")
    qc = QuantumCircuit(2)
    qc.rx(2 * t, 0)
    qc.ry(t + p, 1)
    qc.cx(0, 1)
    qc.rz(t, 1)  # same parameter in a third gate
    qc.rzz(p - 0.5 * t, 0, 1)
    h = SparsePauliOp(["ZI", "XX", "YZ"], [0.7, -0.4, 1.1])
    x = np.array([0.37, -1.2])  # circuit.parameters is sorted: θ, φ
    assert list(qc.parameters) == [t, p]
    value, grad = adjoint_value_and_gradient(qc, h, x)
    assert value == pytest.approx(_energy(qc, h, x), abs=1e-10)
    np.testing.assert_allclose(grad, _finite_diff(qc, h, x), atol=1e-6)


def test_nonlinear_expression_falls_back() -> None:
    t = Parameter("t")
    qc = QuantumCircuit(1)
    qc.ry(t * t, 0)
    h = SparsePauliOp("Z")
    value, grad = adjoint_value_and_gradient(qc, h, np.array([0.8]))
    assert value == pytest.approx(np.cos(0.64), abs=1e-12)
    assert grad[0] == pytest.approx(-np.sin(0.64) * 1.6, abs=1e-10)


def test_cache_reuse_and_larger_register() -> None:
    # 11 qubits exercises the tiled-diagonal and batched-GEMM layouts
    n = 11
    qc = efficient_su2(n, reps=1, su2_gates=["rz", "ry"], entanglement="circular")
    qc.rzz(qc.parameters[0], 0, n - 1)
    qc.crx(qc.parameters[1], n - 1, 0)
    h = SparsePauliOp.from_sparse_list(
        [(p, [i, (i + 1) % n], 1.0) for i in range(n) for p in ("XX", "YY", "ZZ")], n
    )
    rng = np.random.default_rng(7)
    x = rng.uniform(-np.pi, np.pi, qc.num_parameters)
    v1, g1 = adjoint_value_and_gradient(qc, h, x)
    v2, g2 = adjoint_value_and_gradient(qc, h, x)  # cached program
    assert v1 == v2 and np.array_equal(g1, g2)
    assert v1 == pytest.approx(_energy(qc, h, x), abs=1e-10)
    idx = [0, 1, 5, qc.num_parameters - 1]
    fd = _finite_diff(qc, h, x)
    np.testing.assert_allclose(g1[idx], fd[idx], atol=1e-6)
    clear_adjoint_cache()
    v3, g3 = adjoint_value_and_gradient(qc, h, x)
    assert v3 == pytest.approx(v1, abs=1e-12)
    np.testing.assert_allclose(g3, g1, atol=1e-12)


def test_rejects_measurements_and_bad_sizes() -> None:
    qc = QuantumCircuit(1, 1)
    qc.rx(Parameter("a"), 0)
    qc.measure(0, 0)
    with pytest.raises(ValueError):
        adjoint_value_and_gradient(qc, SparsePauliOp("Z"), np.array([0.1]))
    qc2 = QuantumCircuit(2)
    qc2.rx(Parameter("a"), 0)
    with pytest.raises(ValueError):
        adjoint_value_and_gradient(qc2, SparsePauliOp("ZZ"), np.array([0.1, 0.2]))
    with pytest.raises(ValueError):
        adjoint_value_and_gradient(qc2, SparsePauliOp("Z"), np.array([0.1]))


def test_observable_cache_sees_coefficient_edits() -> None:
    qc = QuantumCircuit(2)
    qc.ry(Parameter("a"), 0)
    qc.cx(0, 1)
    h = SparsePauliOp(["ZZ", "XI"], [1.0, 0.5])
    x = np.array([0.4])
    v1, _ = adjoint_value_and_gradient(qc, h, x)
    h.coeffs[0] = 2.0
    v2, _ = adjoint_value_and_gradient(qc, h, x)
    assert v2 == pytest.approx(_energy(qc, h, x), abs=1e-12)
    assert v2 != pytest.approx(v1)
