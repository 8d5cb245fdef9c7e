"""Public home of the exception hierarchy (defined in :mod:`qrt_jupyter.runtime.errors`)."""

from qrt_jupyter.runtime.core.errors import *  # noqa: F403
from qrt_jupyter.runtime.core.errors import __all__  # noqa: F401
