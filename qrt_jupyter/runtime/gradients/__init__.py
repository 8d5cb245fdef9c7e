"""Exact gradients for exact-mode (statevector) sessions.

Parameter shift needs 2P+1 circuit evaluations per gradient; the adjoint method in
:mod:`.adjoint` gets the same exact gradient from one forward and one backward sweep
over the circuit, which is what makes ``gradient="adjoint"`` worth offering.
"""

from qrt_jupyter.runtime.gradients.adjoint import (
    SUPPORTED_PARAMETRIC_GATES,
    adjoint_value_and_gradient,
    clear_adjoint_cache,
)

__all__ = ["SUPPORTED_PARAMETRIC_GATES", "adjoint_value_and_gradient", "clear_adjoint_cache"]
