"""Shots drawn from the final state: same bits and distributions as the simulator's shots.

Each test checks both where the shots came from (job metrics ``shots_from``) and what
they are, against qiskit's StatevectorSampler or exact probabilities.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.primitives import StatevectorSampler
from qiskit.quantum_info import SparsePauliOp, Statevector

from qrt_jupyter import EstimatorV2, SamplerV2
from qrt_jupyter.runtime.primitives.final_state import (
    MAX_MEASURED_QUBITS,
    draw_counts,
    draw_memory,
    plan_for,
)


def _scrambled_deterministic() -> QuantumCircuit:
    """X on some qubits, measured into permuted clbits of two registers, one qubit twice."""
    qc = QuantumCircuit(QuantumRegister(4), ClassicalRegister(3, "a"), ClassicalRegister(3, "b"))
    qc.x([0, 2, 3])
    qc.barrier()
    qc.measure(0, 4)  # b[1]
    qc.measure(1, 0)  # a[0]
    qc.measure(2, 2)  # a[2]
    qc.measure(3, 5)  # b[2]
    qc.measure(0, 1)  # a[1]: qubit 0 again
    return qc


def test_plan_strips_measurements_and_maps_outcome_bits_to_clbits():
    plan = plan_for(_scrambled_deterministic())
    assert plan is not None
    names = [inst.operation.name for inst in plan.probe.data]
    assert "measure" not in names and names[-1] == "save_probabilities"
    assert plan.qubits == (0, 1, 2, 3)
    assert sorted(plan.writes) == [(0, 1), (0, 4), (1, 0), (2, 2), (3, 5)]
    assert not plan.direct
    memory = draw_memory(plan, np.eye(16)[0b1101], 5, np.random.default_rng(0))
    # qubits 0, 2, 3 are 1: clbits 1, 4 (qubit 0), 2 (qubit 2), 5 (qubit 3)
    assert memory.tolist() == [0b110110] * 5


def test_deterministic_bits_equal_statevector_sampler(service):
    qc = _scrambled_deterministic()
    job = SamplerV2(mode=service.backend("aer_simulator")).run([qc], shots=50)
    data = job.result()[0].data
    reference = StatevectorSampler().run([qc], shots=50).result()[0].data
    assert data.a.get_counts() == reference.a.get_counts() == {"110": 50}
    assert data.b.get_counts() == reference.b.get_counts() == {"110": 50}
    assert job.metrics()["shots_from"] == ["final_state"]


@pytest.mark.parametrize("backend_name", ["aer_simulator", "aer_simulator_statevector",
                                          "aer_simulator_matrix_product_state",
                                          "aer_simulator_density_matrix"])
def test_frequencies_follow_the_final_state(service, backend_name):
    qc = QuantumCircuit(3)
    qc.ry(0.7, 0)
    qc.cx(0, 1)
    qc.ry(1.9, 2)
    qc.cz(1, 2)
    qc.h(1)
    exact = Statevector(qc).probabilities_dict()
    qc.measure_all()
    shots = 40_000
    sampler = SamplerV2(mode=service.backend(backend_name),
                        options={"simulator": {"seed_simulator": 7}})
    job = sampler.run([qc], shots=shots)
    counts = job.result()[0].data.meas.get_counts()
    assert job.metrics()["shots_from"] == ["final_state"]
    assert sum(counts.values()) == shots
    for key, p in exact.items():
        # five standard errors of a binomial frequency
        assert abs(counts.get(key, 0) / shots - p) <= 5 * np.sqrt(p * (1 - p) / shots) + 1e-9
    assert set(counts) <= {k for k, p in exact.items() if p > 1e-12}


def test_parameter_rows_sample_their_own_states(service):
    theta = Parameter("θ")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    qc.measure_all()
    job = SamplerV2(mode=service.backend("aer_simulator")).run(
        [(qc, [[0.0], [np.pi], [np.pi / 2]])], shots=2000)
    meas = job.result()[0].data.meas
    assert meas.shape == (3,)
    assert meas[0].get_counts() == {"00": 2000}
    assert meas[1].get_counts() == {"11": 2000}
    half = meas[2].get_counts()
    assert set(half) == {"00", "11"} and abs(half["00"] - 1000) < 5 * np.sqrt(500)
    assert job.metrics()["shots_from"] == ["final_state"]


def test_seeded_runs_reproduce_bit_for_bit_and_seeds_differ(service):
    qc = QuantumCircuit(3)
    qc.h([0, 1, 2])
    qc.measure_all()
    backend = service.backend("aer_simulator")

    def bitstrings(seed):
        sampler = SamplerV2(mode=backend, options={"simulator": {"seed_simulator": seed}})
        return sampler.run([qc], shots=300).result()[0].data.meas.get_bitstrings()

    assert bitstrings(5) == bitstrings(5)
    assert bitstrings(5) != bitstrings(6)
    unseeded = SamplerV2(mode=backend)
    first = unseeded.run([qc], shots=300).result()[0].data.meas.get_bitstrings()
    second = unseeded.run([qc], shots=300).result()[0].data.meas.get_bitstrings()
    assert first != second


def _mid_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    qc.cx(0, 1)  # acts on a measured qubit: the measurement is not terminal
    qc.measure(1, 1)
    return qc


def _with_reset() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.reset(0)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    return qc


def _overwritten_clbit() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.x(1)
    qc.measure(0, 0)
    qc.measure(1, 0)  # the last write wins
    return qc


def _too_wide() -> QuantumCircuit:
    qc = QuantumCircuit(MAX_MEASURED_QUBITS + 1)
    qc.x(0)
    qc.measure_all()
    return qc


@pytest.mark.parametrize("make, expected", [
    (_mid_circuit, {"00": None, "11": None}),
    (_with_reset, {"10": 1.0}),
    (_overwritten_clbit, {"1": 1.0}),
    (_too_wide, {"0" * MAX_MEASURED_QUBITS + "1": 1.0}),
])
def test_circuits_that_need_per_shot_simulation_use_the_simulator(service, make, expected):
    qc = make()
    assert plan_for(qc) is None
    job = SamplerV2(mode=service.backend("aer_simulator")).run([qc], shots=400)
    data = job.result()[0].data
    counts = next(iter(data.values())).get_counts()
    assert job.metrics()["shots_from"] == ["simulator"]
    assert set(counts) == set(expected)
    for key, share in expected.items():
        if share is not None:
            assert counts[key] == 400 * share


def test_noisy_backend_and_noise_option_use_the_simulator(service):
    from qiskit_aer.noise import NoiseModel, ReadoutError

    qc = QuantumCircuit(1)
    qc.measure_all()
    job = SamplerV2(mode=service.backend("aer_noisy_generic_5q")).run([qc], shots=100)
    job.result()
    assert job.metrics()["shots_from"] == ["simulator"]

    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError([[0.5, 0.5], [0.5, 0.5]]))
    sampler = SamplerV2(mode=service.backend("aer_simulator"),
                        options={"simulator": {"noise_model": noise, "seed_simulator": 1}})
    job = sampler.run([qc], shots=2000)
    counts = job.result()[0].data.meas.get_counts()
    assert job.metrics()["shots_from"] == ["simulator"]
    assert counts.get("1", 0) > 800  # the readout error is applied, not skipped


def test_draw_counts_is_a_multinomial_sample_of_the_distribution():
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.measure_all()
    plan = plan_for(qc)
    distribution = np.array([0.25, 0.75, 0.0, 0.0])
    words, counts = draw_counts(plan, distribution, 10_000, np.random.default_rng(3))
    assert words.tolist() == [0, 1] and counts.sum() == 10_000
    assert abs(counts[1] / 10_000 - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 10_000)


def test_sampled_estimator_draws_from_the_final_state_within_its_errors(service):
    qc = QuantumCircuit(3)
    qc.ry(0.4, 0)
    qc.cx(0, 1)
    qc.rx(1.1, 2)
    obs = SparsePauliOp.from_list([("ZZI", 0.7), ("IXX", -0.4), ("YIY", 0.3), ("III", 0.2)])
    exact = float(np.real(Statevector(qc).expectation_value(obs)))
    estimator = EstimatorV2(mode=service.backend("aer_simulator"),
                            options={"simulator": {"seed_simulator": 2}})
    result = estimator.run([(qc, obs)], precision=0.01).result()[0]
    assert result.metadata["shots_from"] == "final_state"
    assert result.metadata["shots"] == 10_000
    assert 0 < float(result.data.stds) < 0.02
    assert abs(float(result.data.evs) - exact) < 5 * float(result.data.stds)
    again = estimator.run([(qc, obs)], precision=0.01).result()[0]
    assert float(again.data.evs) == float(result.data.evs)  # seeded: reproduces


def test_a_forked_child_draws_other_unseeded_shots_than_its_parent():
    import os

    from qrt_jupyter.runtime.primitives import final_state

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, final_state.rng_for({}).random(4).tobytes())
        os._exit(0)
    os.close(write)
    child = np.frombuffer(os.read(read, 64), dtype=float)
    os.waitpid(pid, 0)
    os.close(read)
    parent = final_state.rng_for({}).random(4)
    assert child.shape == (4,) and not np.array_equal(child, parent)


@pytest.mark.parametrize("backend_name", ["aer_simulator_stabilizer",
                                          "aer_simulator_matrix_product_state"])
def test_wide_circuit_with_few_measured_qubits_samples_their_distribution(service,
                                                                        backend_name):
    qc = QuantumCircuit(40, 4)
    qc.h(0)
    for q in range(39):
        qc.cx(q, q + 1)
    qc.measure([0, 10, 20, 39], [0, 1, 2, 3])
    job = SamplerV2(mode=service.backend(backend_name),
                    options={"simulator": {"seed_simulator": 4}}).run([qc], shots=1000)
    counts = job.result()[0].data.c.get_counts()
    assert job.metrics()["shots_from"] == ["final_state"]
    assert set(counts) == {"0000", "1111"} and abs(counts["0000"] - 500) < 5 * np.sqrt(250)


def test_probe_calls_keep_their_probabilities_within_the_budget(service, monkeypatch):
    from qrt_jupyter.runtime.primitives import final_state

    sixteen = QuantumCircuit(16)
    sixteen.measure_all()
    assert final_state.rows_per_call([plan_for(sixteen)], 1024) == 64  # 64 x 2**16 = 2**22

    monkeypatch.setattr(final_state, "MAX_PROBABILITIES_PER_CALL", 8)  # 2 rows of 4 outcomes
    theta = Parameter("θ")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.ry(theta, 1)
    qc.measure_all()
    angles = [[0.0], [np.pi], [np.pi], [0.0], [np.pi]]
    job = SamplerV2(mode=service.backend("aer_simulator")).run([(qc, angles)], shots=20)
    meas = job.result()[0].data.meas
    assert job.metrics()["shots_from"] == ["final_state"]
    assert [meas[r].get_counts() for r in range(5)] == [
        {"00": 20}, {"11": 20}, {"11": 20}, {"00": 20}, {"11": 20}]


@pytest.mark.parametrize("num_clbits", [0, 2, 70])
@pytest.mark.parametrize("final_state_enabled", [True, False])
def test_sampled_estimator_reads_its_own_register_after_the_circuits_clbits(
        service, monkeypatch, num_clbits, final_state_enabled):
    from qrt_jupyter.runtime.primitives import final_state

    monkeypatch.setattr(final_state, "ENABLED", final_state_enabled)
    qc = QuantumCircuit(2, num_clbits)  # classical bits the estimator never writes
    qc.x(0)
    qc.h(1)
    obs = SparsePauliOp.from_list([("IZ", 1.0), ("ZI", 1.0), ("XI", 0.5), ("ZZ", 2.0)])
    estimator = EstimatorV2(mode=service.backend("aer_simulator"),
                            options={"simulator": {"seed_simulator": 9}})
    pub = estimator.run([(qc, obs)], precision=0.02).result()[0]
    # qubit 0 is |1> (IZ = -1), qubit 1 is |+> (XI = +1; ZI and ZZ average to 0)
    assert abs(float(pub.data.evs) - (-1.0 + 0.5)) < 5 * float(pub.data.stds) + 1e-9
    expected_path = "final_state" if final_state_enabled and num_clbits + 2 <= 64 else "simulator"
    assert pub.metadata["shots_from"] == expected_path


def test_draws_clip_entries_below_zero_and_renormalise():
    from qrt_jupyter.runtime.primitives.final_state import draw_outcomes

    # approximate methods can return tiny negative entries; exaggerated here so that an
    # unclipped (unsorted) cumulative sum would visibly skew the draws
    distribution = np.array([0.5, -0.2, 0.0, 0.7])
    outcomes = draw_outcomes(distribution, 20_000, np.random.default_rng(1))
    assert set(outcomes.tolist()) == {0, 3}
    share = 0.5 / 1.2
    bound = 5 * np.sqrt(share * (1 - share) / 20_000)
    assert abs(np.mean(outcomes == 0) - share) < bound
    qc = QuantumCircuit(2)
    qc.measure_all()
    words, counts = draw_counts(plan_for(qc), distribution, 20_000, np.random.default_rng(1))
    assert words.tolist() == [0, 3] and counts.sum() == 20_000
    assert abs(counts[0] / 20_000 - share) < bound
