"""Runtime programs: registry, running, validation, errors, logs, cancel, checkpoints,
and the built-in vqe, qaoa and sweep programs; qiskit-algorithms' VQE on our estimator."""

from __future__ import annotations

import itertools
import threading
import time

import networkx as nx
import numpy as np
import pytest
from conftest import wait_until
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp

import qrt_jupyter
from qrt_jupyter import Batch, EstimatorV2, Session
from qrt_jupyter.runtime.core.errors import (
    InvalidInputError,
    InvalidOptionError,
    JobError,
    JobNotFoundError,
    JobTimeoutError,
)
from qrt_jupyter.runtime.execution import codec

H2 = SparsePauliOp.from_list([
    ("II", -1.052373245772859),
    ("IZ", 0.39793742484318045),
    ("ZI", -0.39793742484318045),
    ("ZZ", -0.01128010425623538),
    ("XX", 0.18093119978423156),
])
VQE_KEYS = {"iteration", "nfev", "energy", "std", "grad_norm", "parameters", "elapsed"}


def exact_ground(op: SparsePauliOp) -> float:
    return float(np.linalg.eigvalsh(op.to_matrix())[0])


def heisenberg_chain(n: int) -> SparsePauliOp:
    terms = []
    for i in range(n - 1):
        for pauli in "XYZ":
            label = ["I"] * n
            label[i] = label[i + 1] = pauli
            terms.append(("".join(label), 1.0))
    return SparsePauliOp.from_list(terms)


# -- programs written for these tests (names are process-wide, so prefixed) -----------

@qrt_jupyter.program(name="tp_count")
def tp_count(ctx, n: int, scale: int = 1):
    """Publish n numbers, log a line, return their sum."""
    total = 0
    for i in range(n):
        ctx.publish({"i": i * scale})
        total += i * scale
    ctx.log(f"counted to {n}")
    return {"sum": total, "backend": ctx.backend.name}


@qrt_jupyter.program(name="tp_wait")
def tp_wait(ctx, gate_id: str):
    """Wait until the test opens its gate (an Event kept in this module)."""
    ctx.publish("started")
    gate = _GATES[gate_id]
    while not gate.wait(0.01):
        ctx.check()
    return "released"


_GATES: dict[str, threading.Event] = {}


def tp_forever(ctx):
    i = 0
    while True:
        ctx.publish(i)
        i += 1


def tp_fail(ctx, x: int):
    ctx.log("about to fail")
    return 1 / x


def tp_steps(ctx, n: int, delay: float = 0.0):
    """Checkpoint after each step; resume where the last run stopped."""
    start = 0 if ctx.last_checkpoint is None else ctx.last_checkpoint["step"] + 1
    for step in range(start, n):
        ctx.publish(step)
        ctx.checkpoint({"step": step})
        time.sleep(delay)
    return {"first": start, "cancelled_seen": ctx.cancelled}


# -- registry --------------------------------------------------------------------------

def test_decorated_and_registered_programs_are_listed_and_run_by_name(service):
    def doubled(ctx, x):
        ctx.publish(x)
        return 2 * x

    name = service.register_program(doubled, name="tp_doubled", description="twice x")
    assert name == "tp_doubled"
    progs = {p.name: p for p in service.programs()}
    assert {"tp_count", "tp_doubled", "vqe", "qaoa", "sweep"} <= set(progs)
    assert progs["tp_doubled"].description == "twice x"
    assert progs["tp_count"].description == "Publish n numbers, log a line, return their sum."
    assert list(progs["tp_count"].inputs) == ["n", "scale"]

    job = service.run("tp_doubled", inputs={"x": 21})
    assert job.result(timeout=20) == 42
    assert job.program == "tp_doubled"
    assert service.job(job.job_id()).program == "tp_doubled"
    # a service's own registrations are not visible to another service
    other = qrt_jupyter.LocalRuntimeService(service.store.path.parent / "other.sqlite")
    assert "tp_doubled" not in {p.name for p in other.programs()}


def test_program_given_as_function_name_or_decorated_function(service):
    by_name = service.run("tp_count", inputs={"n": 3})
    by_fn = service.run(tp_count, inputs={"n": 3, "scale": 2})
    assert by_name.result(timeout=20)["sum"] == 3
    assert by_fn.result(timeout=20)["sum"] == 6
    assert by_fn.program == "tp_count"

    def plain(ctx, a, b=1):
        return a + b

    job = service.run(plain, inputs={"a": 4})
    assert job.result(timeout=20) == 5
    assert job.program == "plain"

    # a function registered under another name runs under that name
    service.register_program(plain, name="tp_plain_sum")
    assert service.run(plain, inputs={"a": 1}).program == "tp_plain_sum"


def test_run_returns_at_once_and_runs_in_the_background(service):
    _GATES["bg"] = threading.Event()
    t0 = time.perf_counter()
    job = service.run("tp_wait", inputs={"gate_id": "bg"})
    assert time.perf_counter() - t0 < 5.0
    wait_until(lambda: job.interim_results() == ["started"])
    assert job.status() == "RUNNING"
    # the program waits on its gate in the background: no result until it is released
    with pytest.raises(JobTimeoutError):
        job.result(timeout=0.05)
    assert job.status() == "RUNNING" and job.interim_results() == ["started"]
    _GATES["bg"].set()
    assert job.result(timeout=20) == "released"
    assert job.status() == "DONE"


# -- input validation: clear error, nothing stored --------------------------------------

@pytest.mark.parametrize("inputs, words", [
    ({}, ["tp_count", "'n'", "needs"]),
    ({"n": 1, "scael": 2}, ["scael", "Did you mean 'scale'"]),
    ({"n": 1, "m": 2}, ["no input 'm'", "n, scale"]),
])
def test_missing_or_unknown_input_raises_and_stores_nothing(service, inputs, words):
    before = service.store.count_jobs()
    with pytest.raises(InvalidInputError) as info:
        service.run("tp_count", inputs=inputs)
    for word in words:
        assert word in str(info.value)
    assert service.store.count_jobs() == before


def test_unknown_program_and_options_typo_raise_with_suggestion(service):
    before = service.store.count_jobs()
    with pytest.raises(InvalidInputError, match="Did you mean 'tp_count'"):
        service.run("tp_cuont", inputs={"n": 1})
    with pytest.raises(InvalidOptionError, match="Did you mean 'resilience_level'"):
        service.run("tp_count", inputs={"n": 1}, options={"resilence_level": 1})
    with pytest.raises(InvalidOptionError, match="default_shots"):
        service.run("vqe", inputs={"ansatz": efficient_su2(2, reps=1), "hamiltonian": H2},
                    options={"default_shot": 100})
    assert service.store.count_jobs() == before


# -- result, errors, logs ----------------------------------------------------------------

def test_return_value_is_the_result_and_log_lines_reach_logs(service):
    job = service.run("tp_count", inputs={"n": 4, "scale": 10})
    assert job.result(timeout=20) == {"sum": 60, "backend": "aer_simulator"}
    assert job.status() == "DONE"
    assert "INFO: counted to 4" in job.logs()
    # the stored copy is the same
    assert service.store.job_result(job.job_id()) is not None
    assert codec.decode(service.store.job_result(job.job_id()))["sum"] == 60


def test_exception_gives_error_status_traceback_in_logs_and_error_message(service):
    job = service.run(tp_fail, inputs={"x": 0})
    job.wait_for_final_state(20)
    assert job.status() == "ERROR"
    assert job.error_message() == "ZeroDivisionError: division by zero"
    logs = job.logs()
    assert "about to fail" in logs
    assert "Traceback (most recent call last)" in logs
    assert "return 1 / x" in logs  # the failing line of the program itself
    with pytest.raises(JobError, match="ZeroDivisionError"):
        job.result()
    stored = service.job(job.job_id())
    assert stored.status() == "ERROR"


# -- cancellation ------------------------------------------------------------------------

def test_cancel_stops_a_loop_that_publishes_forever(service):
    job = service.run(tp_forever)
    wait_until(lambda: len(job.interim_results()) > 50)
    t0 = time.perf_counter()
    assert job.cancel() is True
    job.wait_for_final_state(5)
    assert time.perf_counter() - t0 < 2.0
    assert job.status() == "CANCELLED"
    count = len(job.interim_results())
    # the job's thread has left the loop: what it published is all in the store, in order,
    # and the cancellation was recorded after the last of it
    stored = [r["seq"] for r in service.store.interim(job.job_id())]
    assert stored == list(range(count))
    assert job.interim_results() == list(range(count))
    assert [e["status"] for e in service.store.job_events(job.job_id())][-1] == "CANCELLED"
    assert job.cancel() is False


# -- checkpoints and resume ----------------------------------------------------------------

def test_checkpoint_and_resume_from_continue_where_the_job_stopped(service):
    first = service.run(tp_steps, inputs={"n": 1000, "delay": 0.01})
    wait_until(lambda: len(first.interim_results()) >= 5)
    first.cancel()
    first.wait_for_final_state(5)
    assert first.status() == "CANCELLED"
    last = codec.decode(service.store.last_checkpoint(first.job_id()))["step"]
    assert last == first.interim_results()[-1]

    resumed = service.run(tp_steps, inputs={"n": last + 4}, resume_from=first.job_id())
    assert resumed.result(timeout=20) == {"first": last + 1, "cancelled_seen": False}
    assert resumed.interim_results() == [last + 1, last + 2, last + 3]
    assert resumed.inputs["resume_from"] == first.job_id()

    fresh = service.run(tp_steps, inputs={"n": 2})
    assert fresh.result(timeout=20)["first"] == 0

    before = service.store.count_jobs()
    with pytest.raises(JobNotFoundError, match="no_such_job"):
        service.run(tp_steps, inputs={"n": 2}, resume_from="no_such_job")
    assert service.store.count_jobs() == before


# -- built-in vqe ------------------------------------------------------------------------

def test_vqe_heisenberg_chain_reaches_the_exact_ground_energy(service):
    ham = heisenberg_chain(4)
    with Session(backend="aer_simulator", service=service) as session:
        job = service.run("vqe", inputs={
            "ansatz": efficient_su2(4, reps=3), "hamiltonian": ham, "optimizer": "BFGS",
            "seed": 0,
        }, mode=session)
        result = job.result(timeout=60)
    assert job.session_id == session.session_id
    assert abs(result["optimal_value"] - exact_ground(ham)) < 1e-3
    interim = job.interim_results()
    assert len(interim) == result["num_iterations"] > 1
    assert [r["iteration"] for r in interim] == list(range(len(interim)))
    for rec in interim:
        assert set(rec) == VQE_KEYS
        assert rec["parameters"].shape == (32,)
    nfevs = [r["nfev"] for r in interim]
    assert nfevs == sorted(nfevs) and nfevs[0] >= 65  # 2P + 1 rows per evaluation
    elapsed = [r["elapsed"] for r in interim]
    assert elapsed == sorted(elapsed)
    assert interim[-1]["energy"] < interim[0]["energy"]
    assert interim[-1]["grad_norm"] < 1e-2
    assert result["history"] == [r["energy"] for r in interim]
    assert result["num_evaluations"] >= nfevs[-1]
    assert result["optimal_point"].shape == (32,)


@pytest.mark.parametrize("optimizer, gradient", [
    ("L-BFGS-B", "parameter-shift"),
    ("BFGS", "finite-difference"),
])
def test_vqe_h2_minimal_basis_reaches_the_exact_energy(service, optimizer, gradient):
    job = service.run("vqe", inputs={
        "ansatz": efficient_su2(2, reps=1), "hamiltonian": H2, "optimizer": optimizer,
        "gradient": gradient, "seed": 0,
    })
    result = job.result(timeout=30)
    assert abs(result["optimal_value"] - exact_ground(H2)) < 1e-3
    assert abs(exact_ground(H2) - (-1.857275030202379)) < 1e-9
    assert result["gradient"] == gradient


def test_vqe_with_spsa_runs_and_lowers_the_energy(service):
    job = service.run("vqe", inputs={
        "ansatz": efficient_su2(2, reps=1), "hamiltonian": H2, "optimizer": "SPSA",
        "maxiter": 40, "seed": 0,
    })
    result = job.result(timeout=30)
    interim = job.interim_results()
    assert len(interim) == 40
    assert result["optimal_value"] < interim[0]["energy"] - 0.5
    assert result["optimal_value"] < exact_ground(H2) + 0.1
    assert all(set(r) == VQE_KEYS for r in interim)
    assert interim[-1]["nfev"] > interim[0]["nfev"]


def test_vqe_parameter_shift_on_a_repeated_parameter_raises_clearly(service):
    theta = Parameter("θ")
    ansatz = QuantumCircuit(2)
    ansatz.ry(theta, 0)
    ansatz.ry(theta, 1)
    before = service.store.count_jobs()
    with pytest.raises(InvalidInputError) as info:
        service.run("vqe", inputs={"ansatz": ansatz, "hamiltonian": H2,
                                   "gradient": "parameter-shift"})
    message = str(info.value)
    assert "θ" in message and "finite-difference" in message
    assert service.store.count_jobs() == before
    # the same ansatz works with finite differences
    job = service.run("vqe", inputs={"ansatz": ansatz, "hamiltonian": H2,
                                     "gradient": "finite-difference", "initial_point": [0.1]})
    assert job.result(timeout=20)["optimal_value"] < -1.0


def test_vqe_bad_inputs_raise_before_anything_is_stored(service):
    before = service.store.count_jobs()
    with pytest.raises(InvalidInputError, match="2 qubits, the ansatz on 3"):
        service.run("vqe", inputs={"ansatz": efficient_su2(3), "hamiltonian": H2})
    with pytest.raises(InvalidInputError, match="unknown optimizer 'BFSG'"):
        service.run("vqe", inputs={"ansatz": efficient_su2(2), "hamiltonian": H2,
                                   "optimizer": "BFSG"})
    with pytest.raises(InvalidInputError, match="gradient must be one of"):
        service.run("vqe", inputs={"ansatz": efficient_su2(2), "hamiltonian": H2,
                                   "gradient": "shift"})
    assert service.store.count_jobs() == before


def test_vqe_resumes_from_its_checkpoint_after_cancel(service):
    ham = heisenberg_chain(4)
    inputs = {"ansatz": efficient_su2(4, reps=3), "hamiltonian": ham, "optimizer": "BFGS",
              "seed": 0}
    stop = threading.Event()

    def cancel_at_3(job_id, record):
        if record["iteration"] >= 3:
            stop.set()

    first = service.run("vqe", inputs=inputs, callback=cancel_at_3)
    assert stop.wait(30)
    first.cancel()
    first.wait_for_final_state(10)
    assert first.status() == "CANCELLED"
    done = first.interim_results()
    checkpoint = codec.decode(service.store.last_checkpoint(first.job_id()))
    assert checkpoint["iteration"] == done[-1]["iteration"] >= 3
    np.testing.assert_allclose(checkpoint["x"], done[-1]["parameters"])

    resumed = service.run("vqe", inputs=inputs, resume_from=first.job_id())
    result = resumed.result(timeout=60)
    again = resumed.interim_results()
    assert again[0]["iteration"] == checkpoint["iteration"] + 1
    assert again[0]["nfev"] > checkpoint["nfev"]
    assert again[0]["energy"] <= checkpoint["energy"] + 1e-9  # no restart from scratch
    assert "resuming from iteration" in resumed.logs()
    assert abs(result["optimal_value"] - exact_ground(ham)) < 1e-3


# -- built-in qaoa -------------------------------------------------------------------------

def test_qaoa_finds_the_max_cut_of_a_3_regular_graph(service):
    graph = nx.random_regular_graph(3, 6, seed=0)
    optimum = max(
        sum(bits[u] != bits[v] for u, v in graph.edges)
        for bits in itertools.product((0, 1), repeat=6)
    )
    job = service.run("qaoa", inputs={"graph": graph, "reps": 2, "seed": 0})
    result = job.result(timeout=60)
    assert result["best_cut"] == optimum
    # a uniform guess finds an optimal cut of this graph with probability 6/64; p=2 QAOA
    # reaches 0.35-0.70 over seeds 0-7
    assert result["probability_best_cut"] > 0.3
    bits = result["best_bitstring"]
    cut = sum(bits[5 - u] != bits[5 - v] for u, v in graph.edges)  # bit i of the int is node i
    assert cut == optimum
    assert abs(sum(result["distribution"].values()) - 1.0) < 1e-9
    interim = job.interim_results()
    assert interim and [r["iteration"] for r in interim] == list(range(len(interim)))
    assert {"iteration", "nfev", "energy", "std", "parameters", "elapsed"} <= set(interim[0])


# -- built-in sweep ------------------------------------------------------------------------

def _ry_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.ry(Parameter("t"), 0)
    return qc


def _records(table) -> list[dict]:
    return table.to_dict("records") if hasattr(table, "to_dict") else list(table)


def test_sweep_over_parameter_values_and_precision(service):
    values = [[0.0], [np.pi / 2], [np.pi]]
    job = service.run("sweep", inputs={
        "grid": {"parameter_values": values, "precision": [0.1, 0.01]},
        "circuit": _ry_circuit(), "observables": SparsePauliOp("Z"),
    })
    rows = _records(job.result(timeout=30))
    assert len(rows) == 6
    assert [r["precision"] for r in rows] == [0.1, 0.01] * 3
    expected = np.repeat(np.cos([v[0] for v in values]), 2)
    for row, ev in zip(rows, expected):
        assert abs(row["ev"] - ev) < 5 * row["precision"] + 1e-9
    assert [r["shots"] for r in rows[2:4]] == [100, 10000]
    interim = job.interim_results()
    assert [r["index"] for r in interim] == list(range(6))  # each point as it completed


def test_sweep_over_backends(service):
    job = service.run("sweep", inputs={
        "grid": {"backend": ["aer_simulator", "aer_noisy_generic_5q"]},
        "circuit": _ry_circuit(), "observables": SparsePauliOp("Z"),
        "parameter_values": [np.pi], "shots": 2000,
    })
    rows = _records(job.result(timeout=60))
    assert [r["backend"] for r in rows] == ["aer_simulator", "aer_noisy_generic_5q"]
    assert abs(rows[0]["ev"] + 1.0) < 0.05
    assert -1.0 < rows[1]["ev"] < -0.5  # noise pulls <Z> towards 0


def test_sweep_over_a_programs_input(service):
    job = service.run("sweep", inputs={
        "grid": {"optimizer": ["BFGS", "SPSA"]}, "program": "vqe",
        "inputs": {"ansatz": efficient_su2(2, reps=1), "hamiltonian": H2, "seed": 0,
                   "maxiter": 30},
    })
    rows = _records(job.result(timeout=60))
    assert [r["optimizer"] for r in rows] == ["BFGS", "SPSA"]
    assert rows[0]["result"]["optimizer"] == "BFGS"
    assert abs(rows[0]["result"]["optimal_value"] - exact_ground(H2)) < 1e-3
    assert rows[1]["result"]["optimizer"] == "SPSA"
    # the inner vqe's own records stay out of the sweep's stream
    assert [set(r) >= {"index", "optimizer", "result"} for r in job.interim_results()] == [True] * 2


def test_sweep_rejects_a_misspelt_option_axis(service):
    before = service.store.count_jobs()
    with pytest.raises(InvalidOptionError, match="resilience_level"):
        service.run("sweep", inputs={
            "grid": {"resilence_level": [0, 1]}, "circuit": _ry_circuit(),
            "observables": SparsePauliOp("Z"), "parameter_values": [0.0],
        })
    with pytest.raises(InvalidInputError, match="either 'circuit' or 'program'"):
        service.run("sweep", inputs={"grid": {"shots": [1]}})
    assert service.store.count_jobs() == before


# -- programs in a Batch: primitives of the context count in the job's mode ---------------

def test_programs_in_a_batch_run_concurrently_and_keep_their_mode(service):
    _GATES["b1"], _GATES["b2"] = threading.Event(), threading.Event()
    with Batch(backend="aer_simulator", service=service) as batch:
        j1 = service.run("tp_wait", inputs={"gate_id": "b1"}, mode=batch)
        j2 = service.run("tp_wait", inputs={"gate_id": "b2"}, mode=batch)
        wait_until(lambda: j1.status() == "RUNNING" and j2.status() == "RUNNING")
        _GATES["b1"].set()
        _GATES["b2"].set()
        assert j1.result(timeout=20) == j2.result(timeout=20) == "released"
    assert j1.session_id == j2.session_id == batch.session_id


# -- compatibility: qiskit-algorithms' VQE on our EstimatorV2 -----------------------------

@pytest.mark.parametrize("optimizer_name", ["SLSQP", "L_BFGS_B"])
def test_qiskit_algorithms_vqe_runs_on_our_estimator(service, optimizer_name):
    from qiskit_algorithms import VQE
    from qiskit_algorithms import optimizers as opt

    calls: list[tuple] = []
    with Session(backend="aer_simulator", service=service) as session:
        estimator = EstimatorV2(mode=session)
        vqe = VQE(estimator, efficient_su2(2, reps=1), getattr(opt, optimizer_name)(maxiter=200),
                  initial_point=np.full(8, 0.1),
                  callback=lambda count, params, value, meta: calls.append((count, value)))
        result = vqe.compute_minimum_eigenvalue(H2)
        jobs = service.jobs(session_id=session.session_id, limit=None)
    assert abs(result.eigenvalue.real - exact_ground(H2)) < 1e-3
    # the callback fires at every evaluation, numbered 1, 2, ..., in order
    assert len(calls) == result.cost_function_evals > 5
    assert [c[0] for c in calls] == list(range(1, len(calls) + 1))
    assert abs(calls[-1][1] - result.eigenvalue.real) < 1e-2
    # every estimator call was a job of our session
    assert len(jobs) >= len(calls)
    assert all(j.status() == "DONE" for j in jobs)
