"""Exact expectation values agree whichever route computes them."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp, Statevector

from qrt_jupyter import EstimatorV2, Session
from qrt_jupyter.runtime.primitives import expectation


def _chain(n: int) -> SparsePauliOp:
    return SparsePauliOp.from_sparse_list(
        [(p + p, [i, i + 1], 1.0) for i in range(n - 1) for p in "XYZ"], num_qubits=n)


@pytest.mark.parametrize("min_qubits", [4, 100])
def test_statevector_route_matches_reference(service, monkeypatch, min_qubits):
    monkeypatch.setattr(expectation, "STATEVECTOR_MIN_QUBITS", min_qubits)
    monkeypatch.setattr(expectation, "STATEVECTOR_CALL_BYTES", 2 * 16 * 2**5)  # 2 rows a call
    n = 5
    qc = efficient_su2(n, reps=1)
    ops = [_chain(n), SparsePauliOp.from_list([("XIIIZ", 0.3), ("IIYII", -1.0)]),
           SparsePauliOp("IIIII", 2.0)]
    values = np.random.default_rng(2).uniform(0, 6, (5, 1, qc.num_parameters))
    with Session(backend=service.backend("aer_simulator_statevector"),
                 service=service) as session:
        evs = EstimatorV2(mode=session).run([(qc, [ops], values)]).result()[0].data.evs
    assert evs.shape == (5, 3)
    for r in range(5):
        state = Statevector(qc.assign_parameters(values[r, 0]))
        for k, op in enumerate(ops):
            assert evs[r, k] == pytest.approx(float(np.real(state.expectation_value(op))),
                                              abs=1e-10)


def test_route_rule():
    class Ctx:
        def __init__(self, backend):
            self.backend = backend

    from qiskit_aer import AerSimulator

    big = [{"ZZ" + "I" * 12: 1.0, "XX" + "I" * 12: 1.0, "YY" + "I" * 12: 1.0,
            "I" * 12 + "ZZ": 1.0}]
    sv = Ctx(AerSimulator(method="statevector"))
    assert expectation._statevector_route(sv, 14, big)
    assert not expectation._statevector_route(sv, 13, big)
    assert not expectation._statevector_route(sv, 20, [{"Z" * 20: 1.0}])
    assert not expectation._statevector_route(Ctx(AerSimulator(method="density_matrix")), 14, big)
    assert not expectation._statevector_route(Ctx(AerSimulator()), 14, big)
