"""SamplerV2/EstimatorV2 follow qiskit.primitives' PUB semantics, on real Aer simulations."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import bell, measured_bell, param_circuit
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.primitives import (
    BaseEstimatorV2,
    BaseSamplerV2,
    BitArray,
    PrimitiveResult,
    StatevectorEstimator,
    StatevectorSampler,
)
from qiskit.quantum_info import SparsePauliOp

from qrt_jupyter import EstimatorV2, SamplerV2

RNG = np.random.default_rng(1234)


def reference_evs(pubs):
    return StatevectorEstimator().run(pubs).result()


def assert_same_as_reference(service, pubs, backend="aer_simulator"):
    ours = EstimatorV2(mode=service.backend(backend)).run(pubs).result()
    ref = reference_evs(pubs)
    assert isinstance(ours, PrimitiveResult)
    assert len(ours) == len(ref)
    for mine, theirs in zip(ours, ref):
        assert type(mine.data.evs) is type(theirs.data.evs) is np.ndarray
        assert type(mine.data.stds) is type(theirs.data.stds) is np.ndarray
        assert mine.data.evs.shape == theirs.data.evs.shape
        assert mine.data.stds.shape == theirs.data.stds.shape
        assert mine.data.shape == theirs.data.shape
        np.testing.assert_allclose(mine.data.evs, theirs.data.evs, atol=1e-10, rtol=0)
        np.testing.assert_array_equal(mine.data.stds, 0.0)
        assert mine.metadata["target_precision"] == 0.0
    return ours


def test_primitives_are_qiskit_v2_primitives(service):
    backend = service.backend("aer_simulator")
    assert isinstance(SamplerV2(mode=backend), BaseSamplerV2)
    assert isinstance(EstimatorV2(mode=backend), BaseEstimatorV2)
    assert issubclass(SamplerV2, BaseSamplerV2)
    assert issubclass(EstimatorV2, BaseEstimatorV2)


def test_broadcast_values_against_column_of_observables(service):
    circuit = param_circuit(3, 4)
    values = RNG.uniform(-np.pi, np.pi, size=(3, 4))
    observables = [["ZZI"], [SparsePauliOp(["XIX", "IYY"], [0.5, -1.5])]]
    result = assert_same_as_reference(service, [(circuit, observables, values)])
    assert result[0].data.evs.shape == (2, 3)


@pytest.mark.parametrize("observables", [
    "ZZ",
    SparsePauliOp(["XX", "YY", "ZI"], [0.3, -0.7, 1.1]),
    ["ZZ", "XI", "IY"],
    {"ZZ": 0.5, "XX": -1.0},
    [{"ZZ": 1.0}, SparsePauliOp("IX")],
])
def test_observable_forms_without_parameters(service, observables):
    circuit = bell()
    circuit.ry(0.3, 0)
    assert_same_as_reference(service, [(circuit, observables)])


def test_single_observable_with_parameter_grid(service):
    circuit = param_circuit(2, 2)
    values = RNG.uniform(-np.pi, np.pi, size=(2, 3, 2))
    result = assert_same_as_reference(service, [(circuit, "XY", values)])
    assert result[0].data.evs.shape == (2, 3)


def test_several_pubs_and_one_parameter_set(service):
    circuit = param_circuit(3, 3)
    pubs = [
        (circuit, ["ZZZ", "XXI"], [0.1, 0.2, 0.3]),
        (bell(), "ZZ"),
        (circuit, [["IIZ"], ["ZII"]], RNG.uniform(size=(1, 5, 3))),
    ]
    result = assert_same_as_reference(service, pubs)
    assert [r.data.evs.shape for r in result] == [(2,), (), (2, 5)]


def test_statevector_backend_and_density_matrix_agree(service):
    pubs = [(param_circuit(3, 3), ["ZZZ", "XIX"], RNG.uniform(size=(4, 1, 3)))]
    assert_same_as_reference(service, pubs, backend="aer_simulator_statevector")
    assert_same_as_reference(service, pubs, backend="aer_simulator_density_matrix")


def test_sampled_estimator_is_within_its_standard_errors(service):
    estimator = EstimatorV2(mode=service.backend("aer_simulator"))
    estimator.options.simulator.seed_simulator = 11
    circuit = param_circuit(3, 3)
    values = RNG.uniform(-np.pi, np.pi, size=(4, 3))
    obs = [["ZZI"], ["XIX"], [SparsePauliOp(["ZII", "IYY"], [0.5, 0.5])]]
    result = estimator.run([(circuit, obs, values)], precision=0.02).result()
    exact = reference_evs([(circuit, obs, values)])[0].data.evs
    data = result[0].data
    assert data.evs.shape == data.stds.shape == (3, 4)
    assert np.all(np.abs(data.evs - exact) < 5 * data.stds)
    # stds near the precision: never above it, and the largest of them close to it
    assert np.all(data.stds <= 0.02 * 1.001)
    assert data.stds.max() > 0.015
    # for a single Pauli the standard error of 2500 ±1 samples is sqrt((1 - ev²) / (N - 1))
    np.testing.assert_allclose(data.stds[:2], np.sqrt((1 - data.evs[:2] ** 2) / 2499), rtol=1e-9)
    assert result[0].metadata["target_precision"] == 0.02
    assert result[0].metadata["shots"] == 2500
    assert not np.allclose(data.evs, exact, atol=1e-6)  # really sampled


def test_default_shots_option_drives_sampled_estimator(service):
    estimator = EstimatorV2(mode=service.backend("aer_simulator"),
                            options={"default_shots": 400, "simulator": {"seed_simulator": 3}})
    result = estimator.run([(bell(), ["ZZ", "XX"])]).result()
    assert result[0].metadata["shots"] == 400
    # a Bell state has <ZZ> = <XX> = 1 exactly, every shot agrees
    np.testing.assert_allclose(result[0].data.evs, [1.0, 1.0])
    circuit = QuantumCircuit(1)
    circuit.h(0)
    single = estimator.run([(circuit, "Z")]).result()[0]
    assert single.data.stds == pytest.approx(1 / np.sqrt(400), rel=0.05)


def test_seeded_estimator_runs_reproduce_exactly(service):
    backend = service.backend("aer_simulator")
    pubs = [(param_circuit(3, 3), ["ZZZ", "XXI"], RNG.uniform(size=(5, 1, 3)))]
    runs = []
    for _ in range(2):
        estimator = EstimatorV2(mode=backend)
        estimator.options.simulator.seed_simulator = 99
        runs.append(estimator.run(pubs, precision=0.05).result()[0].data)
    np.testing.assert_array_equal(runs[0].evs, runs[1].evs)
    np.testing.assert_array_equal(runs[0].stds, runs[1].stds)
    other = EstimatorV2(mode=backend, options={"simulator.seed_simulator": 100})
    assert not np.array_equal(other.run(pubs, precision=0.05).result()[0].data.evs, runs[0].evs)


def _registers_circuit() -> QuantumCircuit:
    qr = QuantumRegister(4)
    alpha, beta = ClassicalRegister(1, "alpha"), ClassicalRegister(3, "beta")
    circuit = QuantumCircuit(qr, alpha, beta)
    circuit.x(0)
    circuit.x(3)
    circuit.measure(qr[0], alpha[0])
    circuit.measure(qr[1], beta[0])
    circuit.measure(qr[2], beta[1])
    circuit.measure(qr[3], beta[2])
    return circuit


def test_sampler_bitarray_per_register_matches_statevector_sampler(service):
    circuit = _registers_circuit()
    ours = SamplerV2(mode=service.backend("aer_simulator")).run([circuit], shots=50).result()
    ref = StatevectorSampler().run([circuit], shots=50).result()
    for mine, theirs in zip(ours, ref):
        assert sorted(mine.data.keys()) == sorted(theirs.data.keys()) == ["alpha", "beta"]
        for name in ("alpha", "beta"):
            a, b = getattr(mine.data, name), getattr(theirs.data, name)
            assert isinstance(a, BitArray)
            assert (a.num_bits, a.num_shots, a.shape) == (b.num_bits, b.num_shots, b.shape)
            assert a.get_counts() == b.get_counts()  # deterministic circuit
        assert mine.metadata["shots"] == 50
    assert ours[0].data.beta.get_counts() == {"100": 50}
    assert ours[0].join_data().get_counts() == {"1001": 50}


def test_sampler_shapes_with_parameter_broadcasting(service):
    circuit = param_circuit(3, 2)
    circuit.measure_all()
    values = RNG.uniform(size=(2, 3, 2))
    pubs = [(circuit, values, 20), (measured_bell(), None, 30), circuit.assign_parameters([0, 0])]
    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    ours = sampler.run(pubs, shots=10).result()
    ref = StatevectorSampler().run(pubs, shots=10).result()
    for mine, theirs in zip(ours, ref):
        assert mine.data.meas.shape == theirs.data.meas.shape
        assert mine.data.meas.num_shots == theirs.data.meas.num_shots
        assert mine.data.meas.num_bits == theirs.data.meas.num_bits
        assert mine.metadata["shots"] == theirs.metadata["shots"]
    assert ours[0].data.meas.shape == (2, 3)
    assert [r.metadata["shots"] for r in ours] == [20, 30, 10]
    bell_counts = ours[1].data.meas.get_counts()
    assert set(bell_counts) <= {"00", "11"} and sum(bell_counts.values()) == 30


def test_sampler_parameter_rows_are_bound_in_order(service):
    theta = param_circuit(1, 1).parameters[0]
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    circuit.measure_all()
    values = np.array([[0.0], [np.pi], [0.0], [np.pi]])
    result = SamplerV2(mode=service.backend("aer_simulator")).run(
        [(circuit, values)], shots=16).result()
    counts = [result[0].data.meas[i].get_counts() for i in range(4)]
    assert counts == [{"0": 16}, {"1": 16}, {"0": 16}, {"1": 16}]


def test_seeded_sampler_runs_reproduce_exactly(service):
    circuit = param_circuit(3, 2)
    circuit.measure_all()
    values = RNG.uniform(size=(3, 2))
    backend = service.backend("aer_simulator")
    arrays = []
    for seed in (5, 5, 6):
        sampler = SamplerV2(mode=backend, options={"simulator": {"seed_simulator": seed}})
        arrays.append(sampler.run([(circuit, values)], shots=64).result()[0].data.meas.array)
    np.testing.assert_array_equal(arrays[0], arrays[1])
    assert not np.array_equal(arrays[0], arrays[2])


def test_sampler_default_shots_option(service):
    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    sampler.options.default_shots = 37
    result = sampler.run([measured_bell()]).result()
    assert result[0].data.meas.num_shots == 37
    assert result[0].metadata["shots"] == 37
    assert SamplerV2(mode=service.backend("aer_simulator")).run(
        [measured_bell()]).result()[0].data.meas.num_shots == 4096


def test_noisy_backend_transpiles_and_samples(service):
    backend = service.backend("aer_noisy_generic_5q")
    sampler = SamplerV2(mode=backend, options={"simulator": {"seed_simulator": 1}})
    counts = sampler.run([measured_bell()], shots=400).result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 400
    assert counts.get("00", 0) + counts.get("11", 0) > 300
    assert counts.get("01", 0) + counts.get("10", 0) > 0  # the noise is real
    estimator = EstimatorV2(mode=backend, options={"simulator": {"seed_simulator": 1}})
    result = estimator.run([(bell(), ["ZZ", "XX"])], precision=0.05).result()[0]
    assert result.metadata["target_precision"] == 0.05
    assert np.all(result.data.evs > 0.6) and np.all(result.data.evs < 1.0)


def test_job_metadata(service):
    estimator = EstimatorV2(mode=service.backend("aer_simulator"))
    result = estimator.run([(bell(), "ZZ"), (bell(), "XX", None, 0.1)]).result()
    assert result.metadata["version"] == 2
    assert [r.metadata["target_precision"] for r in result] == [0.0, 0.1]
    assert result[1].metadata["shots"] == 100
    # a scalar PUB gives 0-d arrays, as qiskit's primitives do, also when sampled
    assert isinstance(result[1].data.evs, np.ndarray) and result[1].data.evs.shape == ()
    assert isinstance(result[1].data.stds, np.ndarray) and result[1].data.stds.shape == ()
    assert result.metadata["noisy_backend"] is False
