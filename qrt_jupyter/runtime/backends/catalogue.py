"""The backend catalogue: Aer simulators under stable names, noisy presets, user backends.

Names are stable so that notebooks and stored jobs can refer to a backend by
name across processes; each name maps to a factory so that a service builds
its backends lazily and keeps one warm instance per name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qiskit.providers import BackendV2
from qiskit_aer import AerSimulator

from ..core.errors import BackendNotFoundError, did_you_mean

#: Seed of the random calibration data behind the noisy presets, fixed so that a
#: preset means the same noise model on every machine and in every session.
NOISY_PRESET_SEED = 42


@dataclass(frozen=True)
class BackendSpec:
    """What the catalogue knows about a backend before building it."""

    name: str
    method: str
    noisy: bool
    description: str
    factory: Callable[[], BackendV2]


def _aer(method: str, name: str) -> Callable[[], BackendV2]:
    def build() -> BackendV2:
        backend = AerSimulator(method=method)
        backend.name = name
        return backend

    return build


def _noisy(num_qubits: int, name: str) -> Callable[[], BackendV2]:
    def build() -> BackendV2:
        from qiskit.providers.fake_provider import GenericBackendV2

        generic = GenericBackendV2(num_qubits, seed=NOISY_PRESET_SEED)
        backend = AerSimulator.from_backend(generic)
        backend.name = name
        return backend

    return build


CATALOGUE: dict[str, BackendSpec] = {
    spec.name: spec
    for spec in [
        BackendSpec("aer_simulator", "automatic", False, "Aer, method chosen per circuit",
                    _aer("automatic", "aer_simulator")),
        BackendSpec("aer_simulator_statevector", "statevector", False, "Aer statevector",
                    _aer("statevector", "aer_simulator_statevector")),
        BackendSpec("aer_simulator_matrix_product_state", "matrix_product_state", False,
                    "Aer matrix product state (wide, low-entanglement circuits)",
                    _aer("matrix_product_state", "aer_simulator_matrix_product_state")),
        BackendSpec("aer_simulator_stabilizer", "stabilizer", False,
                    "Aer stabilizer (Clifford circuits, thousands of qubits)",
                    _aer("stabilizer", "aer_simulator_stabilizer")),
        BackendSpec("aer_simulator_density_matrix", "density_matrix", False,
                    "Aer density matrix", _aer("density_matrix", "aer_simulator_density_matrix")),
        BackendSpec("aer_noisy_generic_5q", "automatic", True,
                    "Aer with the noise, coupling map and basis gates of a 5-qubit "
                    "GenericBackendV2 (seed 42)", _noisy(5, "aer_noisy_generic_5q")),
        BackendSpec("aer_noisy_generic_7q", "automatic", True,
                    "Aer with the noise, coupling map and basis gates of a 7-qubit "
                    "GenericBackendV2 (seed 42)", _noisy(7, "aer_noisy_generic_7q")),
    ]
}


def build_backend(name: str) -> BackendV2:
    """A new backend for a catalogue name; unknown names suggest the nearest one."""
    spec = CATALOGUE.get(name)
    if spec is None:
        raise BackendNotFoundError(
            f"No backend named '{name}'.{did_you_mean(name, CATALOGUE)} "
            f"Available: {', '.join(CATALOGUE)}; or pass any BackendV2 object."
        )
    return spec.factory()


def is_aer(backend: BackendV2) -> bool:
    return isinstance(backend, AerSimulator)


def is_noisy(backend: BackendV2) -> bool:
    """Whether results carry noise, which rules out exact expectation values."""
    if not is_aer(backend):
        return True
    return backend.options.noise_model is not None


def backend_method(backend: BackendV2) -> str:
    return str(backend.options.method) if is_aer(backend) else "device"


def backend_width(backend: BackendV2) -> int | None:
    """The backend's number of qubits.

    ``AerSimulator.num_qubits`` builds a whole ``Target`` on every access (about
    0.4-1 ms); its configuration holds the same number, so use that for Aer.
    """
    if is_aer(backend):
        return backend.configuration().num_qubits
    return backend.num_qubits


def supports_exact(backend: BackendV2) -> bool:
    """Exact (precision 0) expectation values need a noiseless Aer simulator."""
    return is_aer(backend) and not is_noisy(backend)
