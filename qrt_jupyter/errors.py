"""Public home of the exception hierarchy (defined in :mod:`qrt_jupyter.runtime.errors`)."""

from qrt_jupyter.runtime.errors import *  # noqa: F403
from qrt_jupyter.runtime.errors import __all__  # noqa: F401
