"""The process executor: same results as the local executor, in worker processes."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
from conftest import bell, measured_bell, two_parameter_circuit, wait_until
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qrt_jupyter import Batch, EstimatorV2, SamplerV2, Session
from qrt_jupyter.runtime.backends.executors import LocalExecutor
from qrt_jupyter.runtime.backends.executors.memory import HexMemory
from qrt_jupyter.runtime.backends.executors.process import ProcessExecutor
from qrt_jupyter.runtime.core.errors import InvalidInputError


class RecordingExecutor(ProcessExecutor):
    """Records which worker ran each call, and when (in this process's clock)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[float, float]] = []
        self.record_lock = threading.Lock()

    def run_circuits(self, backend, circuits, parameter_binds, run_options):
        start = time.monotonic()
        result = super().run_circuits(backend, circuits, parameter_binds, run_options)
        with self.record_lock:
            self.calls.append((start, time.monotonic()))
        return result


@pytest.fixture(scope="module")
def executor():
    pool = RecordingExecutor(workers=2)
    pool.warm()
    yield pool
    pool.close()


def slow_circuit(n: int = 14, layers: int = 4) -> QuantumCircuit:
    """Mid-circuit measurements: Aer runs shot by shot (about 4 ms a shot here)."""
    qc = QuantumCircuit(n, n)
    for _ in range(layers):
        qc.h(range(n))
        qc.t(range(n))  # not Clifford: Aer cannot switch to the stabilizer method
        for q in range(n - 1):
            qc.cx(q, q + 1)
        qc.measure(0, 0)
        qc.reset(0)
    qc.measure(range(n), range(n))
    return qc



def test_sampler_results_equal_local(service, executor):
    seeded = {"simulator": {"seed_simulator": 17}}
    param = two_parameter_circuit()
    param.measure_all()
    values = np.array([[0.1, 0.2], [1.0, -0.5], [2.0, 0.3]])
    pubs = [(measured_bell(),), (param, values)]
    with Batch(backend="aer_simulator", service=service) as batch:
        local = SamplerV2(mode=batch, options=seeded).run(pubs, shots=300).result()
    with Batch(backend="aer_simulator", service=service, executor=executor) as batch:
        job = SamplerV2(mode=batch, options=seeded).run(pubs, shots=300)
        remote = job.result()
    assert job.status() == "DONE"
    for a, b in zip(local, remote):
        assert np.array_equal(a.data.meas.array, b.data.meas.array)
        assert a.data.meas.shape == b.data.meas.shape


def test_estimator_results_equal_local(service, executor):
    obs = SparsePauliOp.from_list([("ZZ", 1.0), ("XI", 0.5), ("IY", -0.25)])
    values = np.array([[0.1, 0.2], [1.0, -0.5]])
    pubs = [(two_parameter_circuit(), obs, values), (bell(), obs)]
    for options in ({}, {"seed_estimator": 5, "default_shots": 2000}):
        with Session(backend="aer_simulator", service=service) as session:
            local = EstimatorV2(mode=session, options=options).run(pubs).result()
        with Session(backend="aer_simulator", service=service, executor=executor) as session:
            remote = EstimatorV2(mode=session, options=options).run(pubs).result()
        for a, b in zip(local, remote):
            np.testing.assert_allclose(a.data.evs, b.data.evs, atol=1e-12)
            np.testing.assert_allclose(a.data.stds, b.data.stds, atol=1e-12)


def test_executor_level_results_and_memory(service, executor):
    backend = service.backend("aer_simulator")
    qc = measured_bell()
    opts = {"shots": 200, "seed_simulator": 3, "memory": True}
    local = LocalExecutor().run_circuits(backend, [qc], None, opts)
    for _ in range(3):  # first call sends the circuit, later ones only its key
        remote = executor.run_circuits(backend, [qc], None, opts)
        assert isinstance(remote.results[0].data.memory, HexMemory)
        assert remote.get_memory() == local.get_memory()
        assert remote.get_counts() == local.get_counts()


def test_mode_executor_choices(service):
    with pytest.raises(InvalidInputError, match="executor"):
        Batch(backend="aer_simulator", service=service, executor="cluster")
    batch = Batch(backend="aer_simulator", service=service, executor="local")
    assert isinstance(batch._executor, LocalExecutor)
    batch.close()


def test_batch_runs_on_two_processes_at_once(service, executor):
    executor.calls.clear()
    slow = slow_circuit()
    with Batch(backend="aer_simulator", service=service, executor=executor) as batch:
        sampler = SamplerV2(mode=batch)
        jobs = [sampler.run([slow], shots=60) for _ in range(2)]
        for job in jobs:
            job.result(timeout=120)
    assert [job.status() for job in jobs] == ["DONE", "DONE"]
    (s1, e1), (s2, e2) = executor.calls[-2:]
    # Each call simulates for ~0.3 s. Taking turns (threads and Aer's GIL) the two
    # would span twice that; on two processes they run side by side.
    span = max(e1, e2) - min(s1, s2)
    assert min(e1, e2) > max(s1, s2), executor.calls
    assert span < 1.5 * min(e1 - s1, e2 - s2), executor.calls


def test_cancel_between_pubs(service, executor):
    slow = slow_circuit()
    with Batch(backend="aer_simulator", service=service, executor=executor) as batch:
        job = SamplerV2(mode=batch).run([slow] * 40, shots=100)
        wait_until(lambda: len(job.interim_results()) >= 1)
        assert job.cancel()
        job.wait_for_final_state(60)
    assert job.status() == "CANCELLED"
    assert len(job.interim_results()) < 40


def test_error_in_worker_is_job_error(service, executor):
    backend = service.backend("aer_simulator")
    too_wide = QuantumCircuit(40)  # not Clifford: needs a 16 TB statevector
    too_wide.h(range(40))
    too_wide.t(range(40))
    too_wide.measure_all()
    with pytest.raises(RuntimeError, match="worker process.*Insufficient memory"):
        executor.run_circuits(backend, [too_wide], None, {"shots": 10})

    def work(ctx):
        return ctx.run_circuits([too_wide], None, {"shots": 10})

    with Batch(backend=backend, service=service, executor=executor) as batch:
        job = service.engine.submit(work, kind="program", backend=backend, mode=batch, inputs={},
                             options={})
        job.wait_for_final_state(60)
    assert job.status() == "ERROR"
    assert "worker process" in job.error_message()
    assert "Insufficient memory" in job.error_message()
    # the worker survived: the next call works
    assert executor.run_circuits(backend, [measured_bell()], None, {"shots": 10}).success


def _exited(pid: int) -> bool:
    """Whether process ``pid`` has exited (gone, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_worker_that_dies_fails_the_job(service):
    pool = ProcessExecutor(workers=1)
    try:
        pool.warm()
        pid = pool.describe()["pids"][0]
        with Batch(backend="aer_simulator", service=service, executor=pool) as batch:
            job = SamplerV2(mode=batch).run([slow_circuit()], shots=4000)  # ~1 s
            wait_until(lambda: job.status() == "RUNNING")
            time.sleep(0.2)
            os.kill(pid, signal.SIGKILL)
            job.wait_for_final_state(60)
        assert job.status() == "ERROR"
        assert "worker process" in job.error_message()
        assert "exited" in job.error_message()
        # a replacement worker takes the next call
        backend = service.backend("aer_simulator")
        assert pool.run_circuits(backend, [measured_bell()], None, {"shots": 10}).success
        assert pool.describe()["pids"][0] != pid
        # an idle worker killed (kill -9) is found and replaced before a call is sent
        idle = pool.describe()["pids"][0]
        os.kill(idle, signal.SIGKILL)
        wait_until(lambda: _exited(idle))
        assert pool.run_circuits(backend, [measured_bell()], None, {"shots": 10}).success
        assert pool.describe()["pids"][0] != idle
    finally:
        pool.close()
