"""SQLite persistence of sessions, jobs, logs, interim results and results (no Qiskit)."""

from ..ids import JOB_FINAL_STATES as FINAL_STATES
from .process import process_alive, this_process
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .store import Store, default_home

__all__ = [
    "APPLICATION_ID", "FINAL_STATES", "MIGRATIONS", "SCHEMA_VERSION", "Store", "default_home",
    "process_alive", "this_process",
]
