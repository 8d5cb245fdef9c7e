"""The built-in ``vqe`` program.

Every iteration evaluates the energy and the whole gradient as ONE broadcast
PUB (2P+1 parameter rows), so the executor sees one call per iteration; the
adjoint method replaces those rows by one forward and one backward statevector
sweep. Each iteration is published and checkpointed, so a cancelled or crashed
run resumes with ``resume_from=<job id>``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from scipy.optimize import minimize

from ..core.errors import InvalidInputError
from .gradients import GRADIENT_METHODS, check_parameter_shift, gradient_from, gradient_rows
from .optimizers import GRADIENT_FREE, SCIPY_METHODS, SPSASettings, spsa_minimize
from .registry import program


def _checked(ansatz: Any, hamiltonian: Any, optimizer: str,
             gradient: str | None) -> tuple[SparsePauliOp, str, str | None]:
    """(Hamiltonian, optimizer method, gradient method actually used), or InvalidInputError."""
    if not isinstance(ansatz, QuantumCircuit):
        raise InvalidInputError("vqe: 'ansatz' must be a QuantumCircuit.")
    try:
        hamiltonian = SparsePauliOp(hamiltonian)
    except Exception as exc:  # qiskit raises several types for what it cannot convert
        raise InvalidInputError(
            f"vqe: 'hamiltonian' must be a SparsePauliOp (or convertible to one): {exc}"
        ) from exc
    if hamiltonian.num_qubits != ansatz.num_qubits:
        raise InvalidInputError(
            f"vqe: the Hamiltonian acts on {hamiltonian.num_qubits} qubits, the ansatz on "
            f"{ansatz.num_qubits}."
        )
    if not isinstance(optimizer, str):
        raise InvalidInputError(f"vqe: optimizer must be a name, not {type(optimizer).__name__}.")
    method = optimizer.upper()
    if method not in SCIPY_METHODS and method != "SPSA":
        raise InvalidInputError(
            f"vqe: unknown optimizer '{optimizer}'. Use SPSA or a scipy method: "
            f"{', '.join(sorted(SCIPY_METHODS))}."
        )
    if gradient not in GRADIENT_METHODS:
        raise InvalidInputError(
            f"vqe: gradient must be one of {GRADIENT_METHODS}, not {gradient!r}."
        )
    if method in GRADIENT_FREE or method == "SPSA":
        gradient = None
    if gradient == "parameter-shift":
        check_parameter_shift(ansatz)
    return hamiltonian, method, gradient


def _check_inputs(inputs: dict[str, Any], backend: Any = None) -> None:
    """Run at submission: an unusable ansatz, Hamiltonian, optimizer or gradient raises
    in ``service.run``, before a job is stored, instead of failing the job later."""
    _, _, gradient = _checked(inputs["ansatz"], inputs["hamiltonian"], inputs["optimizer"],
                              inputs["gradient"])
    if gradient == "adjoint":
        _check_adjoint(inputs.get("precision"), backend)


def _check_adjoint(precision: Any, backend: Any) -> None:
    from ..backends import supports_exact

    if precision or (backend is not None and not supports_exact(backend)):
        raise InvalidInputError(
            "vqe: gradient='adjoint' needs exact mode (precision 0 or None) on a noiseless "
            "simulator; use gradient='parameter-shift' where values are sampled."
        )


@program(name="vqe", check=_check_inputs)
def vqe(ctx: Any, ansatz: QuantumCircuit, hamiltonian: SparsePauliOp,
        initial_point: Any = None, optimizer: str = "L-BFGS-B",
        gradient: str | None = "parameter-shift", maxiter: int = 100, tol: float = 1e-8,
        precision: float | None = None, finite_difference_step: float = 1e-3,
        spsa: dict | None = None, seed: int | None = None) -> dict:
    """Variational quantum eigensolver: minimise <H> over the ansatz parameters."""
    hamiltonian, method, gradient = _checked(ansatz, hamiltonian, optimizer, gradient)
    dim = ansatz.num_parameters
    checkpoint = ctx.last_checkpoint
    if checkpoint is not None:
        x0 = np.asarray(checkpoint["x"], dtype=float)
        start_iteration, nfev_offset = int(checkpoint["iteration"]) + 1, int(checkpoint["nfev"])
        ctx.log(f"resuming from iteration {start_iteration}")
    else:
        if initial_point is None:
            x0 = np.random.default_rng(seed).uniform(-np.pi, np.pi, dim)
        else:
            x0 = np.asarray(initial_point, dtype=float)
        start_iteration, nfev_offset = 0, 0
    if x0.shape != (dim,):
        raise InvalidInputError(
            f"vqe: initial_point has shape {x0.shape}, the ansatz has {dim} parameters."
        )
    estimator = ctx.estimator()
    adjoint = None
    if gradient == "adjoint":
        _check_adjoint(precision, ctx.backend)
        from ..gradients import adjoint_value_and_gradient

        adjoint = adjoint_value_and_gradient

    started = time.perf_counter()
    state = {"nfev": nfev_offset, "iteration": start_iteration, "last": None}
    history: list[float] = []

    def evaluate(x: np.ndarray) -> tuple[float, float, np.ndarray | None]:
        """Energy, its std and the gradient at x, from one job (cached per point)."""
        last = state["last"]
        if last is not None and np.array_equal(last[0], x):
            return last[1]
        ctx.check()
        if adjoint is not None:
            t0 = time.perf_counter()
            energy, grad = adjoint(ansatz, hamiltonian, x)
            ctx.add_quantum_seconds(time.perf_counter() - t0)
            out = (float(energy), 0.0, np.asarray(grad))
            state["nfev"] += 1
        else:
            rows = gradient_rows(x, gradient, finite_difference_step)
            pub = estimator.run([(ansatz, hamiltonian, rows)], precision=precision).result()[0]
            energies = np.asarray(pub.data.evs).reshape(-1)
            stds = np.asarray(pub.data.stds).reshape(-1)
            state["nfev"] += len(rows)
            out = (float(energies[0]), float(stds[0]),
                   gradient_from(energies, gradient, finite_difference_step, dim))
        state["last"] = (x.copy(), out)
        return out

    def record(x: np.ndarray, energy: float, std: float, grad_norm: float | None) -> None:
        iteration = state["iteration"]
        history.append(energy)
        ctx.publish({
            "iteration": iteration, "nfev": state["nfev"], "energy": energy, "std": std,
            "grad_norm": grad_norm, "parameters": np.array(x, dtype=float),
            "elapsed": time.perf_counter() - started,
        })
        ctx.checkpoint({"x": np.array(x, dtype=float), "iteration": iteration,
                        "nfev": state["nfev"], "energy": energy})
        state["iteration"] += 1

    remaining = max(0, maxiter - start_iteration)
    if method == "SPSA":
        settings = SPSASettings(**(spsa or {}))
        if settings.seed is None:
            settings.seed = seed

        def energies_of(rows: np.ndarray) -> np.ndarray:
            ctx.check()
            pub = estimator.run([(ansatz, hamiltonian, rows)], precision=precision).result()[0]
            state["nfev"] += len(rows)
            return np.asarray(pub.data.evs).reshape(-1)

        def on_step(k: int, x: np.ndarray, energy: float, grad_norm: float) -> None:
            record(x, energy, 0.0, grad_norm)

        out = spsa_minimize(energies_of, x0, maxiter=remaining, settings=settings,
                            callback=on_step)
        x_opt, f_opt, message, success = out["x"], out["fun"], out["message"], out["success"]
    else:
        def fun(x: np.ndarray) -> float:
            return evaluate(x)[0]

        def jac(x: np.ndarray) -> np.ndarray:
            return evaluate(x)[2]  # type: ignore[return-value]

        def on_iteration(intermediate_result: Any) -> None:
            x = np.asarray(intermediate_result.x)
            energy, std, grad = evaluate(x)
            record(x, energy, std, None if grad is None else float(np.linalg.norm(grad)))

        res = minimize(
            fun, x0, method=optimizer, jac=jac if gradient is not None else None, tol=tol,
            callback=on_iteration, options={"maxiter": remaining},
        )
        x_opt, f_opt, message, success = res.x, float(res.fun), str(res.message), bool(res.success)
    return {
        "optimal_value": float(f_opt),
        "optimal_point": np.asarray(x_opt, dtype=float),
        "history": history,
        "num_evaluations": state["nfev"],
        "num_iterations": state["iteration"],
        "optimizer": optimizer,
        "gradient": gradient,
        "message": message,
        "success": success,
    }
