"""Backends: the catalogue of named simulators, the transpile cache and the executors.

The package itself exposes only the catalogue, so that looking up a backend's name
or kind loads neither the executors nor the transpiler.
"""

from .catalogue import (
    CATALOGUE,
    BackendSpec,
    backend_method,
    backend_width,
    build_backend,
    is_aer,
    is_noisy,
    supports_exact,
)

__all__ = [
    "CATALOGUE", "BackendSpec", "backend_method", "backend_width", "build_backend", "is_aer",
    "is_noisy", "supports_exact",
]
