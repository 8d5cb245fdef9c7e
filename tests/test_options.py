"""Options: the qiskit-ibm-runtime tree, checked on assignment, reported per job."""

from __future__ import annotations

import pytest
from conftest import bell, measured_bell, param_circuit
from qiskit import QuantumCircuit

from qrt_jupyter import EstimatorOptions, EstimatorV2, SamplerOptions, SamplerV2, Session
from qrt_jupyter.errors import InvalidOptionError, OptionTypeError
from qrt_jupyter.runtime.primitives.options import Unset


def test_defaults_follow_qiskit_ibm_runtime():
    options = EstimatorOptions()
    assert options.resilience_level == 1
    assert options.default_precision is Unset
    assert options.twirling.enable_gates is False
    assert options.dynamical_decoupling.sequence_type == "XX"
    assert options.environment.job_tags == []
    names = set(options.names())
    assert {"default_precision", "default_shots", "resilience_level",
            "resilience.measure_mitigation", "resilience.zne_mitigation",
            "twirling.enable_gates", "dynamical_decoupling.enable", "environment.job_tags",
            "simulator.seed_simulator", "max_execution_time"} <= names
    assert "default_shots" in SamplerOptions().names()
    assert "resilience_level" not in SamplerOptions().names()


def test_update_with_keywords_dicts_and_dotted_names():
    options = EstimatorOptions()
    options.update(default_precision=0.01, resilience_level=2)
    options.update(twirling={"enable_gates": True, "num_randomizations": 8})
    options.update(**{"simulator.seed_simulator": 7, "resilience.zne.noise_factors": [1, 3]})
    assert options.default_precision == 0.01
    assert options.resilience_level == 2
    assert options.twirling.enable_gates is True
    assert options.twirling.num_randomizations == 8
    assert options.twirling.strategy == "active-accum"  # untouched by the dict update
    assert options.simulator.seed_simulator == 7
    assert options.resilience.zne.noise_factors == [1, 3]


def test_dict_input_to_the_primitive_is_copied(service):
    given = {"default_shots": 100, "twirling": {"enable_measure": True},
             "environment.job_tags": ["a"]}
    sampler = SamplerV2(mode=service.backend("aer_simulator"), options=given)
    assert sampler.options.default_shots == 100
    assert sampler.options.twirling.enable_measure is True
    assert sampler.options.environment.job_tags == ["a"]
    assert given["default_shots"] == 100 and given["twirling"] == {"enable_measure": True}
    template = SamplerOptions(default_shots=5)
    other = SamplerV2(mode=service.backend("aer_simulator"), options=template)
    other.options.default_shots = 6
    assert template.default_shots == 5


@pytest.mark.parametrize(("name", "value"), [
    ("default_shots", "many"),
    ("default_shots", 1.5),
    ("default_shots", True),
    ("max_execution_time", "10"),
    ("simulator.seed_simulator", "seed"),
    ("twirling.enable_gates", "yes"),
    ("twirling.num_randomizations", "lots"),
    ("dynamical_decoupling.sequence_type", "XYZ"),
    ("environment.job_tags", "tag"),
])
def test_wrong_types_raise_type_errors(name, value):
    options = SamplerOptions()
    with pytest.raises(OptionTypeError) as info:
        options.update(**{name: value})
    assert isinstance(info.value, TypeError)
    assert name.split(".")[-1] in str(info.value)


def test_wrong_values_and_nodes():
    options = EstimatorOptions()
    with pytest.raises(InvalidOptionError, match="must be zero or positive"):
        options.default_precision = -0.1
    with pytest.raises(OptionTypeError):
        options.resilience_level = 3
    with pytest.raises(OptionTypeError, match="twirling"):
        options.twirling = 5
    with pytest.raises(InvalidOptionError, match="Did you mean 'measure_mitigation'"):
        options.update(resilience={"measure_mitigaton": True})
    with pytest.raises(OptionTypeError):
        EstimatorV2(options=42)


def test_unimplemented_options_are_recorded_and_reported(service):
    estimator = EstimatorV2(mode=service.backend("aer_simulator"))
    estimator.options.twirling.enable_gates = True
    estimator.options.dynamical_decoupling.enable = True
    estimator.options.environment.job_tags = ["opt-test"]
    job = estimator.run([(bell(), "ZZ")])
    result = job.result()
    not_applied = result.metadata["options_not_applied"]
    assert "twirling.enable_gates" in not_applied
    assert "dynamical_decoupling.enable" in not_applied
    assert "environment.job_tags" not in not_applied
    assert result.metadata["options_applied"]["twirling.enable_gates"] is True
    assert job.metrics()["options_not_applied"] == not_applied
    # recorded with the job, also for readers of the store
    stored = service.store.get_job(job.job_id())
    assert stored["options"]["twirling.enable_gates"] is True
    assert stored["metrics"]["options_not_applied"] == not_applied
    assert job.tags == ["opt-test"]


def test_nothing_reported_when_nothing_unimplemented_is_set(service):
    sampler = SamplerV2(mode=service.backend("aer_simulator"),
                        options={"default_shots": 10, "simulator.seed_simulator": 1})
    result = sampler.run([measured_bell()]).result()
    assert result.metadata["options_not_applied"] == []
    assert result.metadata["options_applied"] == {"default_shots": 10,
                                                  "simulator.seed_simulator": 1}


def test_resilience_level_on_a_noisy_backend_is_reported_not_applied(service):
    estimator = EstimatorV2(mode=service.backend("aer_noisy_generic_5q"))
    result = estimator.run([(bell(), "ZZ")], precision=0.1).result()
    assert "resilience_level" in result.metadata["options_not_applied"]
    exact = EstimatorV2(mode=service.backend("aer_simulator")).run([(bell(), "ZZ")]).result()
    assert exact.metadata["options_not_applied"] == []


def test_transpile_cache_counts_hits_and_misses_in_a_session(service):
    backend = service.backend("aer_noisy_generic_5q")
    circuit = param_circuit(3, 3)  # ry/rz/cx: not the backend's basis gates
    circuit.measure_all()
    with Session(backend, service=service) as session:
        sampler = SamplerV2(mode=session, options={"simulator.seed_simulator": 0})
        first = sampler.run([(circuit, [0.1, 0.2, 0.3])], shots=20)
        second = sampler.run([(circuit.copy(), [0.3, 0.2, 0.1])], shots=20)
        first.result()
        second.result()
    assert first.metrics()["transpile_cache"] == {"hits": 0, "misses": 1}
    assert second.metrics()["transpile_cache"] == {"hits": 1, "misses": 0}
    assert second.result().metadata["transpile_cache"] == {"hits": 1, "misses": 0}
    # a new session starts with a cold cache of its own
    with Session(backend, service=service) as other:
        third = SamplerV2(mode=other).run([(circuit, [0.0, 0.0, 0.0])], shots=20)
        assert third.result().metadata["transpile_cache"]["misses"] == 1


def test_isa_circuits_pass_through_untouched(service):
    backend = service.backend("aer_simulator")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    entry, hit = service.engine.cache_for(backend).lookup(circuit)
    assert not hit and entry.transpiled is False
    # not transpiled: an equal circuit, kept as the cache's own copy
    assert entry.circuit == circuit and entry.circuit is not circuit
    noisy = service.backend("aer_noisy_generic_5q")
    noisy_entry, _ = service.engine.cache_for(noisy).lookup(circuit)
    assert noisy_entry.transpiled is True
    assert set(noisy_entry.circuit.count_ops()) <= set(
        service.backend("aer_noisy_generic_5q").operation_names)
