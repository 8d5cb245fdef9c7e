"""The V2 primitives and their options."""

from .estimator import EstimatorV2
from .options import EstimatorOptions, SamplerOptions, Unset
from .sampler import SamplerV2

__all__ = ["EstimatorV2", "SamplerV2", "EstimatorOptions", "SamplerOptions", "Unset"]
