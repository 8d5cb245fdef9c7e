"""Where simulations run: in this process (default) or on a Dask cluster."""

from .base import Executor
from .local import LocalExecutor, default_executor

__all__ = ["Executor", "LocalExecutor", "default_executor"]
