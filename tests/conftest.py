"""Shared fixtures: every test gets its own QRT_HOME and a fresh store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qrt_jupyter import LocalRuntimeService


@pytest.fixture
def qrt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private QRT_HOME, so no test reads or writes the user's ~/.qrt."""
    monkeypatch.setenv("QRT_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def service(qrt_home: Path) -> Iterator[LocalRuntimeService]:
    """A fresh service on a new store file under the test's QRT_HOME."""
    svc = LocalRuntimeService(qrt_home / "store.sqlite")
    yield svc
    # Leave no job of this test running into the next one (the worker pool is shared).
    for job in svc.jobs(limit=None, pending=True):
        job.cancel()
    for job in svc.jobs(limit=None, pending=True):
        try:
            job.wait_for_final_state(30)
        except Exception:  # noqa: BLE001 - best effort clean-up
            pass


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0,
               interval: float = 0.01) -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, name="bell")
    qc.h(0)
    qc.cx(0, 1)
    return qc


def measured_bell() -> QuantumCircuit:
    qc = bell()
    qc.measure_all()
    return qc


def two_parameter_circuit() -> QuantumCircuit:
    """ry(a) on qubit 0, rx(b) on qubit 1, then a CX: the smallest useful ansatz."""
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(2)
    qc.ry(a, 0)
    qc.rx(b, 1)
    qc.cx(0, 1)
    return qc


def param_circuit(num_qubits: int = 2, num_params: int = 2) -> QuantumCircuit:
    """A small entangling circuit with ``num_params`` parameters."""
    params = [Parameter(f"t{i}") for i in range(num_params)]
    qc = QuantumCircuit(num_qubits, name="ansatz")
    for i, p in enumerate(params):
        qc.ry(p, i % num_qubits)
    for q in range(num_qubits - 1):
        qc.cx(q, q + 1)
    for i, p in enumerate(params):
        qc.rz(2 * p, (i + 1) % num_qubits)
    return qc


def slow_circuit(num_qubits: int = 8, depth: int = 40) -> QuantumCircuit:
    """A circuit Aer must simulate shot by shot: about 0.3 ms per shot at the defaults.

    The mid-circuit measurement stops Aer from sampling all shots from one final
    state, so the run time grows with the shots and a test can choose it.
    """
    rng = np.random.default_rng(7)
    qc = QuantumCircuit(num_qubits, num_qubits, name="slow")
    qc.h(0)
    qc.measure(0, 0)
    for _ in range(depth):
        for q in range(num_qubits):
            qc.rx(float(rng.uniform(0, np.pi)), q)
        for q in range(num_qubits - 1):
            qc.cx(q, q + 1)
    qc.measure(range(num_qubits), range(num_qubits))
    return qc


def events(service: LocalRuntimeService, job_id: str) -> dict[str, float]:
    """Status -> time of the job's status changes, as the store recorded them."""
    return {e["status"]: e["at"] for e in service.store.job_events(job_id)}


def run_interval(service: LocalRuntimeService, job_id: str) -> tuple[float, float]:
    """(started, finished) of a finished job, from the store's status history."""
    ev = events(service, job_id)
    finished = next(ev[s] for s in ("DONE", "ERROR", "CANCELLED") if s in ev)
    return ev["RUNNING"], finished


@pytest.fixture
def clean_defaults() -> Iterator[None]:
    """The notebook-wide mode, options and display choice are process state: reset them."""
    from qrt_jupyter.jupyter.frontend import set_display_mode
    from qrt_jupyter.runtime.core.current import set_default_mode, set_default_options

    set_default_mode(None)
    set_default_options({})
    set_display_mode(None)
    yield
    set_default_mode(None)
    set_default_options({})
    set_display_mode(None)


@pytest.fixture
def ip(qrt_home: Path, clean_defaults: None):
    """A real IPython shell with ``%load_ext qrt_jupyter`` done."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "qrt_jupyter")
    return shell


def write_v2_store(path: Path) -> None:
    """A store file as qrt_jupyter with schema v2 wrote it: session s2 with job j2."""
    from qrt_jupyter.runtime.core.store import APPLICATION_ID, MIGRATIONS

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=2")
    conn.execute(
        "INSERT INTO sessions (id, mode, backend, max_time, ttl, state, created, owner, changed)"
        " VALUES ('s2', 'session', 'aer_simulator', 60.0, 5.0, 'open', 1.0, 'h:1:1', 1)")
    conn.execute(
        "INSERT INTO jobs (id, session_id, kind, backend, status, created, finished, tags,"
        " owner, result, changed) VALUES ('j2', 's2', 'sampler', 'aer_simulator', 'DONE',"
        " 1.0, 2.0, '[\"v2\"]', 'h:1:1', x'0102', 1)")
    conn.execute("INSERT INTO job_events VALUES ('j2', 'DONE', 2.0)")
    conn.execute("INSERT INTO checkpoints VALUES ('j2', 0, 1.5, x'ff')")
    conn.execute("UPDATE counter SET seq = 1")
    conn.commit()
    conn.close()
