"""The local Qiskit Runtime execution model. Imports nothing from Jupyter."""

from .errors import QRTError
from .jobs import JOB_FINAL_STATES, RuntimeJob
from .modes import Batch, Session
from .primitives import EstimatorOptions, EstimatorV2, SamplerOptions, SamplerV2
from .service import LocalRuntimeService

__all__ = [
    "Batch", "EstimatorOptions", "EstimatorV2", "JOB_FINAL_STATES", "LocalRuntimeService",
    "QRTError", "RuntimeJob", "SamplerOptions", "SamplerV2", "Session",
]
