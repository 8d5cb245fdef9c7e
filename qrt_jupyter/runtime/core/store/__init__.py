"""SQLite persistence of sessions, jobs, logs, interim results and results (no Qiskit).

Modules: ``schema`` (tables, migrations, version), ``process`` (which process owns a
record), ``failures`` (SQLite errors as StoreErrors), ``connection`` (opening,
transactions, grouped writes), ``sessions``, ``jobs``, ``outputs`` (reads and writes),
``reaper`` (records of dead processes) and ``store`` (``Store``, composed of them).
"""

from ..ids import JOB_FINAL_STATES as FINAL_STATES
from .connection import default_home
from .process import process_alive, this_process
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .store import Store

__all__ = [
    "APPLICATION_ID", "FINAL_STATES", "MIGRATIONS", "SCHEMA_VERSION", "Store", "default_home",
    "process_alive", "this_process",
]
