"""Runtime programs: registry, context and the built-ins (vqe, qaoa, sweep)."""

from .registry import Program, program, registered

_loaded = False


def load_builtins() -> None:
    """Import the built-in programs once, so that they register themselves."""
    global _loaded
    if not _loaded:
        from . import qaoa, sweep, vqe  # noqa: F401

        _loaded = True


__all__ = ["Program", "load_builtins", "program", "registered"]
