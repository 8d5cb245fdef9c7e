"""The executor's cached Aer assembly gives exactly what Aer's own path gives.

Every case runs the same circuits through ``LocalExecutor.run_circuits`` with the
cache off (Aer's ``_execute_circuits_job``) and on (first call builds the cache,
later calls reuse it), with fixed seeds, and compares the results' data.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, depolarizing_error

from qrt_jupyter import EstimatorV2, SamplerV2, Session
from qrt_jupyter.runtime.backends.executors import local

warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture
def cache_switch(monkeypatch: pytest.MonkeyPatch):
    def switch(on: bool) -> None:
        monkeypatch.setattr(local, "_AER_CACHE_ENABLED", on)

    yield switch


def _data(result) -> list[dict]:
    out = []
    for exp in result.results:
        data = exp.data.to_dict() if hasattr(exp.data, "to_dict") else dict(exp.data)
        out.append({k: (np.asarray(v) if not isinstance(v, dict) else v) for k, v in data.items()})
    return out


def _assert_same(a, b) -> None:
    da, db = _data(a), _data(b)
    assert len(da) == len(db)
    for x, y in zip(da, db):
        assert x.keys() == y.keys()
        for key in x:
            if isinstance(x[key], dict):
                assert x[key] == y[key], key
            else:
                np.testing.assert_array_equal(np.asarray(x[key]), np.asarray(y[key]), key)
    for ea, eb in zip(a.results, b.results):
        assert ea.shots == eb.shots
        header_a = getattr(ea.header, "to_dict", lambda: ea.header)()
        header_b = getattr(eb.header, "to_dict", lambda: eb.header)()
        assert header_a == header_b
        assert ea.status == eb.status


def _compare(switch, backend, circuits, binds, options, *, cached_expected=True):
    executor = local.LocalExecutor()
    switch(False)
    reference = executor.run_circuits(backend, circuits, binds, dict(options))
    switch(True)
    assert (local._run_aer_cached(backend, circuits, binds, dict(options)) is not None) \
        == cached_expected
    first = executor.run_circuits(backend, circuits, binds, dict(options))
    again = executor.run_circuits(backend, circuits, binds, dict(options))
    _assert_same(reference, first)
    _assert_same(reference, again)
    return reference


def _ansatz(n: int = 4, measure: bool = False) -> QuantumCircuit:
    qc = efficient_su2(n, reps=2)
    if measure:
        qc.measure_all()
    return qc


def _binds(circuit: QuantumCircuit, rows: int, seed: int = 3) -> list[dict]:
    values = np.random.default_rng(seed).uniform(0, 2 * np.pi, (rows, circuit.num_parameters))
    return [{p: values[:, k] for k, p in enumerate(circuit.parameters)}]


def test_parameterised_expectation_values(cache_switch):
    qc = _ansatz(5)
    op = SparsePauliOp.from_list([("XXIII", 0.5), ("IZZIY", -1.0), ("ZIIIZ", 0.25)])
    qc.save_expectation_value(op, list(range(5)), label="o0")
    sim = AerSimulator(method="statevector")
    ref = _compare(cache_switch, sim, [qc], _binds(qc, 7), {"shots": 1})
    assert len(ref.results) == 7


def test_parameterised_counts_and_memory_with_seed(cache_switch):
    qc = _ansatz(4, measure=True)
    for method in ("automatic", "statevector"):
        sim = AerSimulator(method=method)
        _compare(cache_switch, sim, [qc], _binds(qc, 3),
                 {"shots": 500, "seed_simulator": 11, "memory": True})


def test_unparameterised_circuits(cache_switch):
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    # unused qubits (truncation remaps qubits), a gate after the measurements, a reset
    wide = QuantumCircuit(QuantumRegister(6), ClassicalRegister(3, "a"), ClassicalRegister(2, "b"))
    wide.h(1)
    wide.cx(1, 4)
    wide.rx(0.3, 5)
    wide.measure(4, 0)
    wide.measure(1, 3)
    wide.ry(0.7, 5)
    wide.measure(5, 4)
    mid = QuantumCircuit(3, 3)
    mid.h(0)
    mid.measure(0, 0)
    mid.reset(0)
    mid.h(0)
    mid.cx(0, 2)
    mid.measure([0, 2], [1, 2])
    mid.global_phase = 0.4
    sim = AerSimulator()
    for circuit in (bell, wide, mid):
        _compare(cache_switch, sim, [circuit], None,
                 {"shots": 333, "seed_simulator": 5, "memory": True})
    # several circuits in one call, as the sampled estimator sends its groups
    _compare(cache_switch, sim, [bell, wide, mid], None,
             {"shots": 100, "seed_simulator": 9, "memory": True})


def test_several_parameterised_circuits_in_one_call(cache_switch):
    a = _ansatz(3, measure=True)
    b = _ansatz(3)
    b.h(range(3))
    b.measure_all()
    binds = _binds(a, 4, seed=1) + _binds(b, 4, seed=2)
    _compare(cache_switch, AerSimulator(), [a, b], binds,
             {"shots": 64, "seed_simulator": 3, "memory": True})


def test_statevector_with_global_phase(cache_switch):
    theta = Parameter("t")
    qc = QuantumCircuit(2, global_phase=0.3)
    qc.rx(theta, 0)
    qc.cx(0, 1)
    qc.save_statevector()
    binds = [{theta: np.array([0.1, 0.2, 0.3])}]
    _compare(cache_switch, AerSimulator(method="statevector"), [qc], binds, {"shots": 1})
    plain = QuantumCircuit(2, global_phase=1.1)
    plain.h(0)
    plain.save_statevector()
    _compare(cache_switch, AerSimulator(method="statevector"), [plain], None, {"shots": 1})


def test_not_cached_cases_still_match(cache_switch):
    sim = AerSimulator()
    qc = _ansatz(3, measure=True)
    noise = NoiseModel()
    noise.add_all_qubit_quantum_error(depolarizing_error(0.05, 1), ["ry", "rz"])
    _compare(cache_switch, sim, [qc], _binds(qc, 2),
             {"shots": 200, "seed_simulator": 4, "noise_model": noise}, cached_expected=False)
    noisy = AerSimulator(noise_model=noise)
    _compare(cache_switch, noisy, [qc], _binds(qc, 2), {"shots": 200, "seed_simulator": 4},
             cached_expected=False)
    # a parameter expression (Aer binds it row by row)
    t = Parameter("t")
    expr = QuantumCircuit(1)
    expr.rx(2 * t + 1, 0)
    expr.measure_all()
    _compare(cache_switch, sim, [expr], [{t: np.array([0.1, 0.5])}],
             {"shots": 100, "seed_simulator": 1}, cached_expected=False)
    # control flow (Aer compiles it)
    flow = QuantumCircuit(2, 2)
    flow.h(0)
    flow.measure(0, 0)
    with flow.if_test((flow.clbits[0], 1)):
        flow.x(1)
    flow.measure(1, 1)
    _compare(cache_switch, sim, [flow], None, {"shots": 100, "seed_simulator": 2},
             cached_expected=False)


def test_errors_are_aer_errors(cache_switch):
    from qiskit_aer import AerError

    qc = _ansatz(2, measure=True)
    executor = local.LocalExecutor()
    with pytest.raises(AerError):
        executor.run_circuits(AerSimulator(), [qc], None, {"shots": 10})


def test_unseeded_runs_differ():
    qc = QuantumCircuit(6)
    qc.h(range(6))
    qc.measure_all()
    executor = local.LocalExecutor()
    sim = AerSimulator()
    a = executor.run_circuits(sim, [qc], None, {"shots": 200, "memory": True})
    b = executor.run_circuits(sim, [qc], None, {"shots": 200, "memory": True})
    assert a.results[0].data.memory != b.results[0].data.memory


def test_circuit_grown_after_caching_is_reassembled():
    qc = QuantumCircuit(1)
    qc.measure_all()
    executor = local.LocalExecutor()
    sim = AerSimulator()
    first = executor.run_circuits(sim, [qc], None, {"shots": 50, "seed_simulator": 1})
    assert first.results[0].data.counts == {"0x0": 50}
    qc.remove_final_measurements()
    qc.x(0)
    qc.measure_all()
    second = executor.run_circuits(sim, [qc], None, {"shots": 50, "seed_simulator": 1})
    assert second.results[0].data.counts == {"0x1": 50}


def test_concurrent_runs_of_one_circuit(cache_switch):
    qc = _ansatz(4, measure=True)
    binds = _binds(qc, 2)
    sim = AerSimulator()
    executor = local.LocalExecutor()
    options = {"shots": 256, "seed_simulator": 8, "memory": True}
    cache_switch(False)
    reference = _data(executor.run_circuits(sim, [qc], binds, dict(options)))
    cache_switch(True)
    failures: list[str] = []

    def worker() -> None:
        for _ in range(20):
            got = _data(executor.run_circuits(sim, [qc], binds, dict(options)))
            if [g["memory"].tolist() for g in got] != [r["memory"].tolist() for r in reference]:
                failures.append("mismatch")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_primitives_identical_with_and_without_cache(service, cache_switch):
    qc = _ansatz(4)
    op = SparsePauliOp.from_list([("XXII", 1.0), ("IZZI", 0.5), ("YIIY", -0.3)])
    values = np.random.default_rng(5).uniform(0, 1, (3, qc.num_parameters))
    measured = _ansatz(4, measure=True)
    outputs = {}
    for on in (False, True, True):
        cache_switch(on)
        with Session(backend=service.backend("aer_simulator_statevector"),
                     service=service) as session:
            exact = EstimatorV2(mode=session).run([(qc, op, values)]).result()[0].data.evs
            est = EstimatorV2(mode=session, options={"seed_estimator": 3})
            sampled = est.run([(qc, op, values)], precision=0.05).result()[0].data
            samp = SamplerV2(mode=session, options={"simulator": {"seed_simulator": 7}})
            counts = samp.run([(measured, values[0])], shots=300).result()[0].data.meas
            outputs.setdefault(on, []).append(
                (exact, sampled.evs, sampled.stds, counts.get_counts())
            )
    reference = outputs[False][0]
    for got in outputs[True]:
        np.testing.assert_array_equal(got[0], reference[0])
        np.testing.assert_array_equal(got[1], reference[1])
        np.testing.assert_array_equal(got[2], reference[2])
        assert got[3] == reference[3]
