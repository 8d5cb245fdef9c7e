"""Bad input fails at run() with a clear error naming the PUB and the fix, and stores nothing."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
from conftest import bell, measured_bell, param_circuit
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qrt_jupyter import Batch, EstimatorV2, LocalRuntimeService, SamplerV2, Session
from qrt_jupyter.errors import (
    BackendNotFoundError,
    InvalidInputError,
    InvalidOptionError,
    InvalidPubError,
    JobNotFoundError,
    OptionTypeError,
    QRTError,
    SessionClosedError,
)


def rejected(service: LocalRuntimeService, exc_type: type[Exception],
             call: Callable[[], object]) -> Exception:
    """Run ``call``, check it raised ``exc_type`` and that the store got no job row."""
    before = service.store.count_jobs()
    with pytest.raises(exc_type) as info:
        call()
    assert isinstance(info.value, QRTError)
    assert service.store.count_jobs() == before
    return info.value


def pub_rejected(service: LocalRuntimeService, call: Callable[[], object], index: int,
                 *needles: str) -> InvalidPubError:
    err = rejected(service, InvalidPubError, call)
    assert isinstance(err, ValueError)  # what qiskit raises for the same mistake
    text = str(err)
    assert err.index == index
    assert f"PUB {index}" in text
    assert "Fix" in text
    for needle in needles:
        assert needle in text, text
    return err  # type: ignore[return-value]


@pytest.fixture
def estimator(service: LocalRuntimeService) -> EstimatorV2:
    return EstimatorV2(mode=service.backend("aer_simulator"))


@pytest.fixture
def sampler(service: LocalRuntimeService) -> SamplerV2:
    return SamplerV2(mode=service.backend("aer_simulator"))


def test_too_many_parameter_values_names_the_pub_and_the_count(service, estimator):
    pubs = [(bell(), "ZZ"), (param_circuit(), "ZZ", [0.1, 0.2, 0.3])]
    err = pub_rejected(service, lambda: estimator.run(pubs), 1)
    assert "2 values" in err.fix


def test_missing_parameter_values(service, estimator, sampler):
    pub_rejected(service, lambda: estimator.run([(param_circuit(), "ZZ")]), 0, "2 values")
    circuit = param_circuit()
    circuit.measure_all()
    pub_rejected(service, lambda: sampler.run([measured_bell(), circuit]), 1)


def test_too_few_parameter_values_in_sampler(service, sampler):
    circuit = param_circuit(3, 3)
    circuit.measure_all()
    err = pub_rejected(service, lambda: sampler.run([(circuit, np.zeros((4, 2)))]), 0)
    assert "3 values" in err.fix


def test_shapes_that_do_not_broadcast(service, estimator):
    call = lambda: estimator.run([(param_circuit(), ["ZZ", "XX", "YY"], np.zeros((2, 2)))])  # noqa: E731
    err = pub_rejected(service, call, 0, "broadcast")
    assert "broadcast" in err.fix


def test_observable_width_differs_from_circuit(service, estimator):
    pubs = [(bell(), "ZZ"), (bell(), "ZZ"), (bell(), SparsePauliOp("ZZZ"))]
    err = pub_rejected(service, lambda: estimator.run(pubs), 2, "3", "2")
    assert "2 qubits" in err.fix


def test_sampler_circuit_without_measurements(service, sampler):
    pub_rejected(service, lambda: sampler.run([measured_bell(), bell()]), 1, "measure_all")


@pytest.mark.parametrize("shots", [0, -5])
def test_non_positive_shots(service, sampler, shots):
    pub_rejected(service, lambda: sampler.run([measured_bell()], shots=shots), 0, "positive")
    pubs = [measured_bell(), (measured_bell(), None, shots)]
    pub_rejected(service, lambda: sampler.run(pubs), 1, "positive")


def test_non_positive_default_shots_option(service, sampler):
    rejected(service, InvalidOptionError, lambda: sampler.options.update(default_shots=0))


def test_negative_precision(service, estimator):
    pub_rejected(service, lambda: estimator.run([(bell(), "ZZ")], precision=-0.1), 0, ">= 0")
    pubs = [(bell(), "ZZ"), (bell(), "XX", None, -0.01)]
    pub_rejected(service, lambda: estimator.run(pubs), 1, ">= 0")


def test_zero_precision_on_a_noisy_backend(service):
    estimator = EstimatorV2(mode=service.backend("aer_noisy_generic_5q"))
    call = lambda: estimator.run([(bell(), "ZZ")], precision=0)  # noqa: E731
    err = pub_rejected(service, call, 0, "aer_noisy_generic_5q", "noisy")
    assert "precision > 0" in err.fix


def test_circuit_wider_than_the_backend(service):
    backend = service.backend("aer_noisy_generic_5q")
    wide = QuantumCircuit(6)
    wide.h(0)
    pub_rejected(service, lambda: EstimatorV2(mode=backend).run([(bell(), "ZZ"), (wide, "Z" * 6)]),
                 1, "6 qubits", "5")
    wide.measure_all()
    pub_rejected(service, lambda: SamplerV2(mode=backend).run([wide]), 0, "6 qubits")


def test_unknown_option_name_suggests_the_nearest(service):
    backend = service.backend("aer_simulator")
    estimator = EstimatorV2(mode=backend)
    err = rejected(service, InvalidOptionError,
                   lambda: setattr(estimator.options, "default_precison", 0.1))
    assert "Did you mean 'default_precision'?" in str(err)
    err = rejected(service, InvalidOptionError,
                   lambda: EstimatorV2(mode=backend, options={"resilience_levl": 1}))
    assert "Did you mean 'resilience_level'?" in str(err)
    err = rejected(service, InvalidOptionError,
                   lambda: estimator.options.update(**{"twirling.enable_gate": True}))
    assert "Did you mean 'enable_gates'?" in str(err)
    err = rejected(service, InvalidOptionError,
                   lambda: SamplerV2(mode=backend, options={"default_shot": 10}))
    assert "Did you mean 'default_shots'?" in str(err)


def test_wrong_option_type_is_a_type_error(service):
    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    err = rejected(service, OptionTypeError, lambda: sampler.options.update(default_shots="many"))
    assert isinstance(err, TypeError)
    assert "default_shots" in str(err)


def test_submit_to_a_closed_session(service):
    backend = service.backend("aer_simulator")
    for mode_class in (Session, Batch):
        mode = mode_class(backend, service=service)
        mode.close()
        err = rejected(service, SessionClosedError,
                       lambda: EstimatorV2(mode=mode).run([(bell(), "ZZ")]))
        assert mode.session_id in str(err)
        assert "closed" in str(err)
        assert f"{mode_class.__name__}(backend=...)" in str(err)


def test_submit_to_an_expired_session(service):
    session = Session(service.backend("aer_simulator"), max_time=0.3, service=service)
    SamplerV2(mode=session).run([measured_bell()], shots=10).result()  # starts its clock
    time.sleep(0.35)
    err = rejected(service, SessionClosedError,
                   lambda: SamplerV2(mode=session).run([measured_bell()]))
    assert "expired" in str(err)
    assert "max_time" in str(err)
    assert session.state == "expired"


def test_unknown_backend_name_suggests_the_nearest(service):
    err = rejected(service, BackendNotFoundError, lambda: service.backend("aer_simulater"))
    assert isinstance(err, KeyError)
    assert "Did you mean 'aer_simulator'?" in str(err)
    err = rejected(service, BackendNotFoundError,
                   lambda: Session("aer_noisy_generic_9q", service=service))
    assert "aer_noisy_generic_5q" in str(err)


def test_unknown_job_id(service):
    err = rejected(service, JobNotFoundError, lambda: service.job("0123456789abcdef0123"))
    assert isinstance(err, KeyError)
    assert "0123456789abcdef0123" in str(err)
    assert "service.jobs()" in str(err)


@pytest.mark.parametrize("job_id", ["bad id!", "", "../etc/passwd", 42, "x" * 65])
def test_malformed_job_id(service, job_id):
    err = rejected(service, InvalidInputError, lambda: service.job(job_id))
    assert "job id" in str(err)


def test_pubs_not_in_a_list(service, estimator):
    err = rejected(service, InvalidInputError, lambda: estimator.run((bell(), "ZZ")))
    assert "wrap the PUB in a list" in str(err)
    rejected(service, InvalidInputError, lambda: estimator.run([]))


def test_estimator_circuit_with_measurements(service, estimator):
    pub_rejected(service, lambda: estimator.run([(measured_bell(), "ZZ")]), 0,
                 "remove_final_measurements")


def test_a_bad_pub_after_good_ones_stores_nothing(service, estimator):
    good = [(bell(), "ZZ")] * 3
    pub_rejected(service, lambda: estimator.run([*good, (bell(), "ZZZZ")]), 3)
    job = estimator.run(good)
    job.result()
    assert service.store.count_jobs() == 1
