"""Classical optimisers for variational programs: scipy's by name, and SPSA.

SPSA estimates the gradient from two evaluations whatever the number of
parameters, which suits shot-noisy energies; each step's evaluations are one
PUB, so a step costs one simulator call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: scipy methods that never use a gradient: no gradient rows are evaluated for them
GRADIENT_FREE = frozenset({"COBYLA", "COBYQA", "NELDER-MEAD", "POWELL"})
SCIPY_METHODS = frozenset({
    "BFGS", "L-BFGS-B", "CG", "SLSQP", "TNC", "TRUST-CONSTR", "NEWTON-CG",
} | GRADIENT_FREE)


@dataclass
class SPSASettings:
    """SPSA gains (Spall's notation); ``a=None`` calibrates the step from the landscape."""

    a: float | None = None
    c: float = 0.2
    alpha: float = 0.602
    gamma: float = 0.101
    stability: float | None = None
    calibration_samples: int = 5
    #: first step per parameter; None scales 2π/10 by sqrt(2 / dim), so the first step
    #: has about the same length whatever the number of parameters (a fixed per-parameter
    #: step makes SPSA wander on ansätze with ~100 parameters)
    target_step: float | None = None
    seed: int | None = None
    extra: dict = field(default_factory=dict)


def spsa_minimize(evaluate: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, *,
                  maxiter: int, settings: SPSASettings,
                  callback: Callable[[int, np.ndarray, float, float], None]) -> dict:
    """Minimise with SPSA; ``evaluate(rows)`` returns the energies of parameter rows.

    Each iteration evaluates [x, x + c_k Δ, x - c_k Δ] as one call; ``callback``
    receives (iteration, x, energy at x, gradient-estimate norm).
    """
    rng = np.random.default_rng(settings.seed)
    x = np.array(x0, dtype=float)
    dim = x.size
    stability = settings.stability if settings.stability is not None else 0.1 * maxiter
    nfev = 0
    a = settings.a
    if a is None:
        deltas = rng.choice([-1.0, 1.0], size=(settings.calibration_samples, dim))
        rows = np.concatenate([x + settings.c * deltas, x - settings.c * deltas])
        energies = evaluate(rows)
        nfev += len(rows)
        half = settings.calibration_samples
        magnitude = np.mean(np.abs(energies[:half] - energies[half:])) / (2 * settings.c)
        target = settings.target_step
        if target is None:
            target = 2 * np.pi / 10 * min(1.0, float(np.sqrt(2.0 / max(dim, 1))))
        a = target * (stability + 1) ** settings.alpha / max(magnitude, 1e-12)
    best_x, best_f = x.copy(), np.inf
    for k in range(maxiter):
        ck = settings.c / (k + 1) ** settings.gamma
        ak = a / (k + 1 + stability) ** settings.alpha
        delta = rng.choice([-1.0, 1.0], size=dim)
        energies = evaluate(np.stack([x, x + ck * delta, x - ck * delta]))
        nfev += 3
        grad = (energies[1] - energies[2]) / (2 * ck) * delta
        if energies[0] < best_f:
            best_f, best_x = float(energies[0]), x.copy()
        callback(k, x, float(energies[0]), float(np.linalg.norm(grad)))
        x = x - ak * grad
    final = float(evaluate(x[None, :])[0])
    nfev += 1
    if final < best_f:
        best_f, best_x = final, x.copy()
    return {"x": best_x, "fun": best_f, "nfev": nfev, "nit": maxiter,
            "message": "SPSA finished its iterations", "success": True}
