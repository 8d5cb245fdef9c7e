"""The service's backend catalogue and user backends."""

from __future__ import annotations

import pytest
from conftest import measured_bell
from qiskit.providers.fake_provider import GenericBackendV2
from qiskit_aer import AerSimulator

from qrt_jupyter import SamplerV2
from qrt_jupyter.errors import InvalidInputError
from qrt_jupyter.runtime.backends import is_noisy

METHODS = {
    "aer_simulator": "automatic",
    "aer_simulator_statevector": "statevector",
    "aer_simulator_matrix_product_state": "matrix_product_state",
    "aer_simulator_stabilizer": "stabilizer",
    "aer_simulator_density_matrix": "density_matrix",
}


def test_catalogue_has_every_aer_method_under_a_stable_name(service):
    names = [b.name for b in service.backends()]
    for name, method in METHODS.items():
        backend = service.backend(name)
        assert name in names
        assert isinstance(backend, AerSimulator)
        assert backend.options.method == method
        assert not is_noisy(backend)
        assert service.backend(name) is backend  # one warm instance per name


@pytest.mark.parametrize("name", list(METHODS))
def test_every_catalogue_backend_runs_a_bell_circuit(service, name):
    sampler = SamplerV2(mode=service.backend(name))
    counts = sampler.run([measured_bell()], shots=50).result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 50 and set(counts) <= {"00", "11"}


def test_noisy_preset_is_built_from_a_seeded_generic_backend(service):
    backend = service.backend("aer_noisy_generic_5q")
    generic = GenericBackendV2(5, seed=42)
    assert backend.num_qubits == 5
    assert is_noisy(backend)
    assert set(backend.coupling_map.get_edges()) == set(generic.coupling_map.get_edges())
    assert set(generic.operation_names) <= set(backend.operation_names) | {"delay"}
    assert service.backends(noisy=True)
    assert all(is_noisy(b) for b in service.backends(noisy=True))
    assert "aer_noisy_generic_5q" not in [b.name for b in service.backends(noisy=False)]
    assert [b.name for b in service.backends(min_num_qubits=6, noisy=True)] == [
        "aer_noisy_generic_7q"]


def test_user_backend_is_registered_and_used(service):
    mine = AerSimulator(method="statevector")
    mine.name = "my_backend"
    assert service.backend(mine) is mine
    assert service.backend("my_backend") is mine
    assert "my_backend" in [b.name for b in service.backends()]
    job = SamplerV2(mode=mine).run([measured_bell()], shots=10)
    assert job.result()[0].data.meas.num_shots == 10
    assert service.job(job.job_id()).backend_name() == "my_backend"
    other = AerSimulator()
    other.name = "my_backend"
    with pytest.raises(InvalidInputError, match="another name"):
        service.backend(other)


def test_generic_backendv2_runs_as_a_backend(service):
    generic = GenericBackendV2(3, seed=1)
    job = SamplerV2(mode=service.backend(generic)).run([measured_bell()], shots=30)
    assert job.result()[0].data.meas.num_shots == 30
    assert job.backend() is generic


def test_backend_argument_must_be_a_name_or_backend(service):
    with pytest.raises(InvalidInputError, match="BackendV2"):
        service.backend(42)
