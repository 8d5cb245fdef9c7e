"""PUB validation that fails at ``run()`` with the PUB's index, the problem and the fix.

qiskit's own coercion catches most mistakes but its messages name neither the
PUB nor the remedy; here each known mistake is checked first and explained, and
anything qiskit still rejects is re-raised with the PUB index attached.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.providers import BackendV2
from qiskit.quantum_info import SparsePauliOp

from ..backends import backend_width
from ..core.errors import InvalidInputError, InvalidPubError


def _as_list(pubs: Any) -> list:
    if isinstance(pubs, (QuantumCircuit, tuple, SamplerPub, EstimatorPub)):
        raise InvalidInputError(
            "run() takes a list of PUBs, e.g. run([(circuit, observable)]); wrap the PUB "
            "in a list."
        )
    try:
        items = list(pubs)
    except TypeError as exc:
        raise InvalidInputError(
            f"run() takes a list of PUBs, not {type(pubs).__name__}."
        ) from exc
    if not items:
        raise InvalidInputError("run() was given no PUBs; pass at least one.")
    return items


def _circuit_of(pub: Any, index: int) -> QuantumCircuit:
    circuit = pub[0] if isinstance(pub, (tuple, list)) and pub else pub
    if isinstance(pub, (SamplerPub, EstimatorPub)):
        circuit = pub.circuit
    if not isinstance(circuit, QuantumCircuit):
        raise InvalidPubError(
            index, f"the first item must be a QuantumCircuit, not {type(circuit).__name__}.",
            "pass (circuit, ...) tuples or bare circuits.",
        )
    return circuit


def _check_width(circuit: QuantumCircuit, backend: BackendV2, index: int) -> None:
    limit = backend_width(backend)
    if limit is not None and circuit.num_qubits > limit:
        raise InvalidPubError(
            index,
            f"the circuit has {circuit.num_qubits} qubits but backend '{backend.name}' has "
            f"{limit}.",
            "choose a wider backend (e.g. 'aer_simulator_matrix_product_state' or "
            "'aer_simulator_stabilizer') or a smaller circuit.",
        )


def _check_values(circuit: QuantumCircuit, pub: Any, index: int) -> None:
    if not isinstance(pub, (tuple, list)):
        if circuit.num_parameters:
            raise InvalidPubError(
                index,
                f"the circuit has {circuit.num_parameters} parameters but no values were given.",
                "pass (circuit, ..., parameter_values) with one value per parameter, in the "
                "order of circuit.parameters.",
            )
        return


def _explain(exc: Exception, index: int, circuit: QuantumCircuit) -> InvalidPubError:
    text = str(exc)
    low = text.lower()
    # Broadcasting first: qiskit's message for it also mentions "parameter values".
    if "broadcast" in low:
        fix = (
            "make the shapes broadcast: parameter values of shape (..., P) and observables "
            "of a shape numpy can broadcast against (...), e.g. values (k, 1, P) with "
            "observables (1, m)."
        )
    elif ("parameter" in low and ("number" in low or "match" in low or "values" in low)) or (
        "inconsistent with last dimension" in low  # BindingsArray: wrong count per set
    ):
        fix = (
            f"give {circuit.num_parameters} values per parameter set (the last axis of the "
            "parameter values), in the order of circuit.parameters."
        )
    elif "shape" in low:
        fix = (
            "make the shapes broadcast: parameter values of shape (..., P) and observables "
            "of a shape numpy can broadcast against (...), e.g. values (k, 1, P) with "
            "observables (1, m)."
        )
    elif "qubit" in low:
        fix = (
            f"give observables on exactly {circuit.num_qubits} qubits (the circuit's width); "
            "pad or reorder them, e.g. with SparsePauliOp.apply_layout."
        )
    elif "shots" in low:
        fix = "give a positive integer number of shots."
    elif "precision" in low:
        fix = "give a precision >= 0."
    else:
        fix = "see qiskit.primitives' PUB format: (circuit, observables, values, precision)."
    return InvalidPubError(index, text.rstrip(".") + ".", fix)


def coerce_sampler_pubs(pubs: Iterable[Any], shots: int | None, default_shots: int,
                        backend: BackendV2) -> list[SamplerPub]:
    """Validated SamplerPubs, or an InvalidPubError naming the first bad one."""
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, (int, np.integer))
                              or shots <= 0):
        raise InvalidPubError(0, f"shots={shots!r} is not a positive integer.",
                              "pass shots as a positive integer, e.g. shots=1024.")
    coerced = []
    for i, pub in enumerate(_as_list(pubs)):
        circuit = _circuit_of(pub, i)
        _check_width(circuit, backend, i)
        if isinstance(pub, (tuple, list)) and len(pub) >= 3 and pub[2] is not None:
            s = pub[2]
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0:
                raise InvalidPubError(i, f"shots={s!r} is not a positive integer.",
                                      "give the PUB's shots as a positive integer.")
        _check_values(circuit, pub, i)
        try:
            coerced_pub = SamplerPub.coerce(pub, shots if shots is not None else default_shots)
            coerced_pub.validate()
        except (ValueError, TypeError) as exc:
            raise _explain(exc, i, circuit) from exc
        if not coerced_pub.circuit.cregs:
            raise InvalidPubError(
                i, "the circuit has no classical registers, so sampling it returns nothing.",
                "add measurements, e.g. circuit.measure_all().",
            )
        coerced.append(coerced_pub)
    return coerced


def coerce_estimator_pubs(pubs: Iterable[Any], precision: float | None,
                          default_precision: float, backend: BackendV2, *,
                          exact_supported: bool, shots_given: bool) -> list[EstimatorPub]:
    """Validated EstimatorPubs, or an InvalidPubError naming the first bad one."""
    if precision is not None and (isinstance(precision, bool)
                                  or not isinstance(precision, (int, float, np.floating))):
        raise InvalidPubError(0, f"precision={precision!r} is not a number.",
                              "pass precision as a float >= 0.")
    coerced = []
    for i, pub in enumerate(_as_list(pubs)):
        circuit = _circuit_of(pub, i)
        _check_width(circuit, backend, i)
        if isinstance(pub, (tuple, list)) and len(pub) < 2:
            raise InvalidPubError(i, "an Estimator PUB needs a circuit and observables.",
                                  "pass (circuit, observables[, parameter_values]).")
        _check_values(circuit, pub, i)
        observable = pub[1] if isinstance(pub, (tuple, list)) else None
        known = _known_observables(observable)
        if known is not None:
            pub = (pub[0], known, *pub[2:])
        try:
            if known is not None and isinstance(pub, (tuple, list)) and len(pub) <= 3:
                coerced_pub = _known_pub(pub, known, precision if precision is not None
                                         else default_precision)
            else:
                coerced_pub = EstimatorPub.coerce(
                    pub, precision if precision is not None else default_precision
                )
            if isinstance(pub, EstimatorPub):
                # coerce() validated the PUBs it built, but returns a given one as it is
                coerced_pub.validate()
        except (ValueError, TypeError) as exc:
            raise _explain(exc, i, circuit) from exc
        if known is None and observable is not None:
            _remember_observables(observable, coerced_pub.observables)
        if coerced_pub.observables.num_qubits != circuit.num_qubits:
            raise InvalidPubError(
                i,
                f"the observables act on {coerced_pub.observables.num_qubits} qubits but the "
                f"circuit has {circuit.num_qubits}.",
                f"give observables on exactly {circuit.num_qubits} qubits, e.g. pad with "
                "identities or use SparsePauliOp.apply_layout.",
            )
        p = coerced_pub.precision
        if p < 0:
            raise InvalidPubError(i, f"precision {p} is negative.", "give a precision >= 0.")
        if p == 0 and not shots_given and not exact_supported:
            raise InvalidPubError(
                i,
                f"precision 0 asks for exact expectation values, but backend '{backend.name}' "
                "is noisy and can only sample.",
                "give a precision > 0 (e.g. 0.01), or set options.default_shots, or use a "
                "noiseless backend such as 'aer_simulator'.",
            )
        if _has_measurements(circuit):
            raise InvalidPubError(
                i, "the circuit contains measurements; the Estimator adds its own.",
                "remove them, e.g. circuit.remove_final_measurements().",
            )
        coerced.append(coerced_pub)
    return coerced


def _known_pub(pub: tuple | list, observables: ObservablesArray,
               precision: float) -> EstimatorPub:
    """EstimatorPub.coerce for observables validated when first seen.

    qiskit's validate() converts every observable to Pauli strings again to check its
    width; for a cached ObservablesArray that was done once, so only the checks that
    depend on this call's circuit and values are made here.
    """
    circuit = pub[0]
    if len(pub) > 2 and pub[2] is not None:
        values = pub[2]
        if not isinstance(values, (BindingsArray, Mapping)):
            values = {tuple(circuit.parameters): values}
        parameter_values = BindingsArray.coerce(values)
        parameter_values.validate()
    else:
        parameter_values = None
    coerced = EstimatorPub(circuit, observables, parameter_values, precision, validate=False)
    if coerced.parameter_values.num_parameters != circuit.num_parameters:
        raise ValueError(
            f"The number of values ({coerced.parameter_values.num_parameters}) does not "
            f"match the number of parameters ({circuit.num_parameters}) for the circuit."
        )
    if observables.num_qubits != circuit.num_qubits:
        raise ValueError(
            f"The number of qubits of the circuit ({circuit.num_qubits}) does not match "
            f"the number of qubits of the observables ({observables.num_qubits})."
        )
    return coerced


# A variational loop passes the same SparsePauliOp object on every call; its conversion to
# an ObservablesArray (Pauli strings per term) is kept per object, checked against its
# current content, so that a changed operator is converted again.
_OBSERVABLES: dict[int, tuple[weakref.ref, tuple, ObservablesArray]] = {}
_OBSERVABLES_MAX = 64


def _fingerprint(op: SparsePauliOp) -> tuple:
    paulis = op.paulis
    return (op.num_qubits, paulis.z.tobytes(), paulis.x.tobytes(), paulis.phase.tobytes(),
            op.coeffs.dtype.str, op.coeffs.tobytes())


def _known_observables(observable: Any) -> ObservablesArray | None:
    if type(observable) is not SparsePauliOp:
        return None
    known = _OBSERVABLES.get(id(observable))
    if known is None or known[0]() is not observable or known[1] != _fingerprint(observable):
        return None
    return known[2]


def _remember_observables(observable: Any, array: ObservablesArray) -> None:
    if type(observable) is not SparsePauliOp:
        return
    if len(_OBSERVABLES) >= _OBSERVABLES_MAX:
        _OBSERVABLES.pop(next(iter(_OBSERVABLES)), None)
    _OBSERVABLES[id(observable)] = (weakref.ref(observable), _fingerprint(observable), array)


def _has_measurements(circuit: QuantumCircuit) -> bool:
    return "measure" in circuit.count_ops()  # top-level ops, like iterating circuit.data
