"""Exact gradients for exact-mode (statevector) sessions.

Parameter shift needs 2P+1 circuit evaluations per gradient; the adjoint method gets the
same exact gradient from one forward and one backward sweep over the circuit, which is what
makes ``gradient="adjoint"`` worth offering. :mod:`.compilation` turns a circuit and an
observable into cached gate programs; :mod:`.kernels` runs the sweeps on them.
"""

from qrt_jupyter.runtime.gradients.compilation import SUPPORTED_PARAMETRIC_GATES
from qrt_jupyter.runtime.gradients.kernels import (
    adjoint_value_and_gradient,
    clear_adjoint_cache,
)

__all__ = ["SUPPORTED_PARAMETRIC_GATES", "adjoint_value_and_gradient", "clear_adjoint_cache"]
