"""qrt_jupyter: the Qiskit Runtime execution model, local and inside Jupyter."""

from .runtime import (
    JOB_FINAL_STATES,
    Batch,
    EstimatorOptions,
    EstimatorV2,
    LocalRuntimeService,
    QRTError,
    RuntimeJob,
    SamplerOptions,
    SamplerV2,
    Session,
)
from .runtime.programs import program

__version__ = "0.1.0"

__all__ = [
    "Batch", "EstimatorOptions", "EstimatorV2", "JOB_FINAL_STATES", "LocalRuntimeService",
    "QRTError", "RuntimeJob", "SamplerOptions", "SamplerV2", "Session", "__version__", "program",
]
