"""Per-object caches on the submit path never serve stale or unchecked input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import two_parameter_circuit
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import SparsePauliOp

from qrt_jupyter import EstimatorV2
from qrt_jupyter.errors import InvalidPubError
from qrt_jupyter.runtime.primitives.binding import binds_for, value_rows


def test_operator_changed_in_place_is_converted_again(service):
    est = EstimatorV2(mode=service.backend("aer_simulator_statevector"))
    qc = two_parameter_circuit()
    op = SparsePauliOp.from_list([("ZI", 1.0), ("IZ", 0.5)])
    values = [0.3, 0.9]
    first = float(est.run([(qc, op, values)]).result()[0].data.evs)
    again = float(est.run([(qc, op, values)]).result()[0].data.evs)
    assert first == again
    op.coeffs[1] = -2.0  # same object, new content
    changed = float(est.run([(qc, op, values)]).result()[0].data.evs)
    fresh = SparsePauliOp.from_list([("ZI", 1.0), ("IZ", -2.0)])
    expected = float(est.run([(qc, fresh, values)]).result()[0].data.evs)
    assert changed == pytest.approx(expected, abs=1e-12) and changed != first


def test_given_estimator_pub_is_still_validated(service):
    est = EstimatorV2(mode=service.backend("aer_simulator_statevector"))
    qc = two_parameter_circuit()
    op = SparsePauliOp("ZZZ")  # three qubits on a two-qubit circuit
    plain = QuantumCircuit(2)
    plain.h(0)
    bad = EstimatorPub(plain, ObservablesArray.coerce(op), BindingsArray(), precision=0.0,
                       validate=False)
    with pytest.raises(InvalidPubError, match="qubits"):
        est.run([bad])
    good = SparsePauliOp("ZZ")
    with pytest.raises(InvalidPubError, match="qubits"):
        est.run([(qc, op, [0.1, 0.2])])
    est.run([(qc, good, [0.1, 0.2])]).result()
    with pytest.raises(InvalidPubError):
        est.run([(qc, good, [0.1, 0.2, 0.3])])


def test_value_rows_and_binds_follow_circuit_order():
    qc = two_parameter_circuit()
    a, b = qc.parameters
    shaped = np.arange(12, dtype=float).reshape(3, 2, 2)
    for values in ({(a, b): shaped}, {(b, a): shaped}, {a: shaped[..., 0], b: shaped[..., 1]}):
        pub = EstimatorPub.coerce((qc, SparsePauliOp("ZZ"), values))
        expected = pub.parameter_values.as_array(qc.parameters).reshape(-1, 2)
        rows = value_rows(pub)
        np.testing.assert_array_equal(rows, expected)
        assert rows.dtype == np.float64
    rows = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = QuantumCircuit(2)
    target.rx(b, 0)
    target.ry(a, 1)
    binds = binds_for(target, qc, rows)
    assert set(binds) == {a, b}
    np.testing.assert_array_equal(binds[a], [1.0, 3.0])
    np.testing.assert_array_equal(binds[b], [2.0, 4.0])
    target.rz(Parameter("c"), 0)  # grown: the column map is rebuilt
    other = QuantumCircuit(2)
    other.ry(Parameter("c"), 0)
    other.rx(a, 0)
    other.rz(b, 1)
    binds = binds_for(target, other, np.array([[5.0, 6.0, 7.0]]))
    assert {p.name: float(v[0]) for p, v in binds.items()} == {"a": 5.0, "b": 6.0, "c": 7.0}


def test_known_observables_still_catch_bad_pubs(service):
    """The fast path for an already-seen SparsePauliOp keeps every check of a fresh one."""
    from qiskit.circuit.library import efficient_su2

    estimator = EstimatorV2(mode=service.backend("aer_simulator_statevector"))
    ansatz = efficient_su2(2, reps=1)
    op = SparsePauliOp(["ZZ", "XI"], [1.0, 0.5])
    values = np.zeros(ansatz.num_parameters)
    estimator.run([(ansatz, op, values)]).result()  # op is now known
    before = service.store.count_jobs()
    with pytest.raises(InvalidPubError, match=r"PUB 0: .*Fix: give 8 values"):
        estimator.run([(ansatz, op, values[:3])])
    with pytest.raises(InvalidPubError, match="not broadcastable"):
        estimator.run([(ansatz, [op, op], np.zeros((3, ansatz.num_parameters)))])
    width = r"qubits of the circuit \(3\).*Fix: give observables on exactly 3"
    with pytest.raises(InvalidPubError, match=width):
        estimator.run([(efficient_su2(3, reps=1), op, np.zeros(12))])
    assert service.store.count_jobs() == before
    evs = estimator.run([(ansatz, [[op], [op]], np.zeros((2, 3, ansatz.num_parameters)))]
                        ).result()[0].data.evs
    assert evs.shape == (2, 3)


def test_circuit_changed_after_a_run_does_not_change_its_structure_entry(service):
    from qrt_jupyter import SamplerV2

    def prepare():
        qc = QuantumCircuit(1, 2)
        qc.measure(0, 0)
        qc.x(0)
        qc.measure(0, 1)  # mid-circuit measurement: the simulator runs the ISA circuit
        return qc

    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    qc = prepare()
    assert sampler.run([qc], shots=10).result()[0].data.c.get_counts() == {"10": 10}
    qc.x(0)
    qc.measure(0, 1)
    assert sampler.run([qc], shots=10).result()[0].data.c.get_counts() == {"00": 10}
    # a new circuit of the first structure runs as that structure, not as the changed one
    assert sampler.run([prepare()], shots=10).result()[0].data.c.get_counts() == {"10": 10}
