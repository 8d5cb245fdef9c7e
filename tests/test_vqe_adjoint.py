"""The vqe program with gradient="adjoint": exact gradients from one forward and one
backward sweep."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit.library import efficient_su2

from qrt_jupyter.cli import heisenberg_chain
from qrt_jupyter.errors import InvalidInputError


def test_adjoint_vqe_reaches_the_ground_state(service):
    hamiltonian = heisenberg_chain(4)
    exact = float(np.linalg.eigvalsh(hamiltonian.to_matrix()).min())
    job = service.run("vqe", inputs={
        "ansatz": efficient_su2(4, reps=3), "hamiltonian": hamiltonian, "optimizer": "BFGS",
        "gradient": "adjoint", "seed": 0, "maxiter": 300,
    }, mode=service.backend("aer_simulator_statevector"))
    result = job.result(timeout=120)
    assert result["gradient"] == "adjoint"
    assert result["optimal_value"] == pytest.approx(exact, abs=1e-3)
    steps = job.interim_results()
    assert steps and all(s["grad_norm"] is not None for s in steps)
    # one evaluation per point: the adjoint method needs no shifted rows
    assert result["num_evaluations"] < 3 * result["num_iterations"] + 10


def test_adjoint_gradient_matches_parameter_shift_inside_vqe(service):
    hamiltonian = heisenberg_chain(3)
    ansatz = efficient_su2(3, reps=1)
    point = np.linspace(-1.0, 1.0, ansatz.num_parameters)
    grads = {}
    for method in ("adjoint", "parameter-shift"):
        job = service.run("vqe", inputs={
            "ansatz": ansatz, "hamiltonian": hamiltonian, "optimizer": "BFGS",
            "gradient": method, "initial_point": point, "maxiter": 1,
        })
        job.result(timeout=60)
        grads[method] = job.interim_results()[0]["grad_norm"]
    assert grads["adjoint"] == pytest.approx(grads["parameter-shift"], rel=1e-8)


def test_adjoint_refused_where_values_are_sampled(service):
    with pytest.raises(InvalidInputError, match="adjoint"):
        service.run("vqe", inputs={
            "ansatz": efficient_su2(2, reps=1), "hamiltonian": heisenberg_chain(2),
            "gradient": "adjoint", "precision": 0.01,
        })
    with pytest.raises(InvalidInputError, match="adjoint"):
        service.run("vqe", inputs={
            "ansatz": efficient_su2(2, reps=1), "hamiltonian": heisenberg_chain(2),
            "gradient": "adjoint",
        }, mode=service.backend("aer_noisy_generic_5q"))
