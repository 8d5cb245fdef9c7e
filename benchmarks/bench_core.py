"""Core benchmarks of the local runtime, as ratios against anchors measured in the same run.

    python benchmarks/bench_core.py            # 8, 12, 16, 20 qubits (a few minutes)
    python benchmarks/bench_core.py --quick    # 8 and 12 qubits, few repeats

(a) one energy evaluation of EfficientSU2 (reps=2) on a 1D Heisenberg chain through
    Session + EstimatorV2, against raw Aer EstimatorV2, qiskit's StatevectorEstimator,
    two hand-rolled floors and qiskit-ibm-runtime local mode;
(b) one full parameter-shift gradient as ONE broadcast PUB (2P+1 rows), against a single
    Aer run with 2P+1 parameter binds and against 2P+1 separate calls;
(c) submit-to-result latency and jobs per second for a Bell circuit (1024 shots).

Medians of wall-clock times (time.perf_counter) after warm-up; variants of one
measurement are run round-robin so that drift in machine load hits them alike.
Results are printed as tables with PASS/MISS per target and written as JSON to
benchmarks/results/core.json. The store lives in a temporary QRT_HOME.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

# A throw-away store: set before qrt_jupyter is imported.
_TMP_HOME = tempfile.mkdtemp(prefix="qrt-bench-")
os.environ["QRT_HOME"] = _TMP_HOME

import numpy as np  # noqa: E402
from common import finish, loadavg, median, print_targets, save, table, verdict  # noqa: E402
from common import machine as common_machine  # noqa: E402
from qiskit import QuantumCircuit  # noqa: E402
from qiskit.circuit.library import efficient_su2  # noqa: E402
from qiskit.primitives import StatevectorEstimator  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from qiskit.transpiler import generate_preset_pass_manager  # noqa: E402
from qiskit_aer import AerSimulator  # noqa: E402
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2  # noqa: E402
from qiskit_aer.primitives import SamplerV2 as AerSamplerV2  # noqa: E402

from qrt_jupyter import (  # noqa: E402
    Batch,
    EstimatorV2,
    LocalRuntimeService,
    SamplerV2,
    Session,
)
from qrt_jupyter.runtime.backends.executors.process import shared_process_executor  # noqa: E402

try:  # benchmark-only extra
    import qiskit_ibm_runtime
    from qiskit_ibm_runtime import EstimatorV2 as IBMEstimatorV2
    from qiskit_ibm_runtime import SamplerV2 as IBMSamplerV2
except ImportError:  # pragma: no cover - reported in the output
    qiskit_ibm_runtime = None

warnings.filterwarnings("ignore")

RESULTS = Path(__file__).resolve().parent / "results" / "core.json"
SIZES_FULL = (8, 12, 16, 20)
SIZES_QUICK = (8, 12)
#: StatevectorEstimator builds dense operators; above this it is too slow to be an anchor.
STATEVECTOR_ESTIMATOR_MAX = 16
#: 2P+1 separate estimator calls are only timed up to this size (the target is for 8-12).
SEPARATE_CALLS_MAX = 16
IBM_PRECISION = 1 / 64  # 4096 shots
BELL_SHOTS = 1024

TARGET_ENERGY = 1.3  # (a) ours / floor
TARGET_GRADIENT = 1.2  # (b) ours / single Aer run with 2P+1 binds
#: (b) the issue's observation that a broadcast PUB was 5-15x faster than 2P+1 separate
#: calls at 8-12 qubits: reported next to the targets, not judged (separate calls got
#: cheaper as our per-call cost fell; the broadcast itself is judged against its floor)
OBSERVED_SPEEDUP = (5.0, 15.0)
TARGET_LATENCY_MS = 1.0  # (c) ours - raw AerSimulator.run
TARGET_THROUGHPUT = 3.0  # (c) ours jobs/s / runtime local jobs/s
BATCH_PROCESSES = "ours SamplerV2 (Batch, executor='processes')"


# -- timing -------------------------------------------------------------------------------
def measure(variants: dict[str, Callable[[], object]], repeats: int, *, warmup: int = 1,
            budget_s: float = 8.0, min_repeats: int = 3) -> dict[str, list[float]]:
    """Milliseconds per call of each variant, run round-robin after warm-up.

    A variant slower than ``budget_s / repeats`` per call gets fewer repeats (at least
    ``min_repeats``, or 1 when even one call exceeds the budget). Each turn of the
    round-robin runs a short block of consecutive calls of one variant (up to 10, about
    20 ms worth), as a variational loop does: one call right after a 50-100 ms call of
    another library measures a cold interpreter rather than the loop, and that
    penalises whichever variant runs more Python.
    """
    wanted: dict[str, int] = {}
    block: dict[str, int] = {}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for name, fn in variants.items():
        first = None
        for _ in range(warmup):
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
        if first is None:
            wanted[name] = repeats
        elif first > budget_s:
            wanted[name] = 1
        else:
            wanted[name] = max(min(repeats, min_repeats), min(repeats, int(budget_s / first)))
        block[name] = 1 if not first else max(1, min(10, int(0.02 / first)))
    while any(len(times[name]) < wanted[name] for name in variants):
        for name, fn in variants.items():
            for _ in range(min(block[name], wanted[name] - len(times[name]))):
                t0 = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - t0) * 1e3)
    return times


def fmt(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return f"{x:.{digits}f}"


# -- problem --------------------------------------------------------------------------------
def heisenberg(n: int) -> SparsePauliOp:
    terms = [(p + p, [i, i + 1], 1.0) for i in range(n - 1) for p in "XYZ"]
    return SparsePauliOp.from_sparse_list(terms, num_qubits=n)


def problem(n: int) -> tuple[QuantumCircuit, SparsePauliOp, np.ndarray]:
    circuit = efficient_su2(n, reps=2)
    values = np.random.default_rng(1234 + n).uniform(0, 2 * np.pi, circuit.num_parameters)
    return circuit, heisenberg(n), values


def shift_rows(values: np.ndarray) -> np.ndarray:
    """The 2P+1 parameter rows of a parameter-shift gradient: θ, θ+π/2·e_k, θ-π/2·e_k."""
    p = values.size
    shifts = np.eye(p) * (np.pi / 2)
    return np.vstack([values[None, :], values + shifts, values - shifts])


def gradient_from(evs: np.ndarray) -> np.ndarray:
    p = (evs.size - 1) // 2
    return (evs[1:p + 1] - evs[p + 1:]) / 2


# -- (a) energy ------------------------------------------------------------------------------
def bench_energy(service: LocalRuntimeService, session: Session, n: int, repeats: int,
                 report: dict) -> dict:
    circuit, hamiltonian, values = problem(n)
    sim = AerSimulator(method="statevector")
    bound = circuit.assign_parameters(values)

    sv_circuit = bound.copy()
    sv_circuit.save_statevector()
    ev_circuit = bound.copy()
    ev_circuit.save_expectation_value(hamiltonian, list(range(n)), label="H")

    ours = EstimatorV2(mode=session)
    aer_est = AerEstimatorV2()
    sv_est = StatevectorEstimator()

    def run_ours() -> float:
        return float(ours.run([(circuit, hamiltonian, values)]).result()[0].data.evs)

    def run_aer() -> float:
        return float(aer_est.run([(circuit, hamiltonian, values)]).result()[0].data.evs)

    def run_sv_est() -> float:
        return float(sv_est.run([(circuit, hamiltonian, values)]).result()[0].data.evs)

    def run_floor_sv() -> float:
        state = sim.run(sv_circuit).result().get_statevector()
        return float(np.real(Statevector(state).expectation_value(hamiltonian)))

    def run_floor_ev() -> float:
        return float(np.real(sim.run(ev_circuit).result().data(0)["H"]))

    variants: dict[str, Callable[[], float]] = {
        "ours (Session+EstimatorV2)": run_ours,
        "floor: Aer save_statevector + SparsePauliOp": run_floor_sv,
        "floor: Aer save_expectation_value(H)": run_floor_ev,
        "qiskit_aer.primitives.EstimatorV2": run_aer,
    }
    notes = []
    if n <= STATEVECTOR_ESTIMATOR_MAX:
        variants["qiskit StatevectorEstimator"] = run_sv_est
    else:
        notes.append(f"StatevectorEstimator skipped above {STATEVECTOR_ESTIMATOR_MAX} qubits "
                     "(too slow to be a useful anchor)")
    if qiskit_ibm_runtime is not None:
        pm = generate_preset_pass_manager(optimization_level=1, backend=AerSimulator(),
                                          seed_transpiler=0)
        isa = pm.run(circuit)
        isa_h = hamiltonian.apply_layout(isa.layout)
        ibm_est = IBMEstimatorV2(mode=AerSimulator(),
                                 options={"default_precision": IBM_PRECISION})

        def run_ibm() -> float:
            return float(ibm_est.run([(isa, isa_h, values)]).result()[0].data.evs)

        variants["qiskit-ibm-runtime local (4096 shots)"] = run_ibm
    else:
        notes.append("qiskit-ibm-runtime not installed: its anchor is missing")

    # Agreement check before timing (also warms everything up).
    reference = run_floor_sv()
    values_seen = {name: fn() for name, fn in variants.items()}
    times = measure(variants, repeats)
    med = {name: median(ts) for name, ts in times.items()}
    floor = min(med["floor: Aer save_statevector + SparsePauliOp"],
                med["floor: Aer save_expectation_value(H)"])
    out = {
        "qubits": n, "num_parameters": circuit.num_parameters,
        "num_terms": len(hamiltonian), "reference_energy": reference,
        "energies": values_seen, "median_ms": med,
        "min_ms": {k: min(v) for k, v in times.items()},
        "repeats": {k: len(v) for k, v in times.items()},
        "floor_ms": floor, "ratio_vs_floor": {k: v / floor for k, v in med.items()},
        "notes": notes,
    }
    ratio = med["ours (Session+EstimatorV2)"] / floor
    out["target"] = {"ours_vs_floor": ratio, "limit": TARGET_ENERGY,
                     "pass": bool(ratio <= TARGET_ENERGY)}
    out["ours_matches_floor"] = bool(abs(values_seen["ours (Session+EstimatorV2)"] - reference)
                                     < 1e-8)
    report.setdefault("energy", []).append(out)
    return out


# -- (b) gradient -----------------------------------------------------------------------------
def bench_gradient(session: Session, n: int, repeats: int, report: dict) -> dict:
    circuit, hamiltonian, values = problem(n)
    rows = shift_rows(values)
    sim = AerSimulator(method="statevector")
    ev_circuit = circuit.copy()
    ev_circuit.save_expectation_value(hamiltonian, list(range(n)), label="H")
    binds = [{p: rows[:, k] for k, p in enumerate(circuit.parameters)}]
    ours = EstimatorV2(mode=session)

    def run_ours() -> np.ndarray:
        return gradient_from(ours.run([(circuit, hamiltonian, rows)]).result()[0].data.evs)

    def run_anchor() -> np.ndarray:
        result = sim.run(ev_circuit, parameter_binds=binds).result()
        evs = np.array([np.real(result.data(i)["H"]) for i in range(rows.shape[0])])
        return gradient_from(evs)

    def run_separate() -> np.ndarray:
        evs = np.array([float(ours.run([(circuit, hamiltonian, row)]).result()[0].data.evs)
                        for row in rows])
        return gradient_from(evs)

    slow = n >= 20
    g_ours, g_anchor = run_ours(), run_anchor()  # warm-up and agreement check
    variants: dict[str, Callable[[], object]] = {
        "ours: one broadcast PUB": run_ours,
        "anchor: one Aer run, 2P+1 binds": run_anchor,
    }
    times = measure(variants, 1 if slow else repeats, warmup=0, budget_s=20.0,
                    min_repeats=1 if slow else 3)
    notes = []
    if n <= SEPARATE_CALLS_MAX:
        sep = measure({"ours: 2P+1 separate calls": run_separate}, 1 if n >= 16 else 3,
                      warmup=0, budget_s=15.0, min_repeats=1)
        times.update(sep)
    else:
        notes.append(f"2P+1 separate calls not timed above {SEPARATE_CALLS_MAX} qubits "
                     f"(~{rows.shape[0]} x one energy evaluation; the speedup target is for "
                     "8-12 qubits)")
    med = {name: median(ts) for name, ts in times.items()}
    ratio = med["ours: one broadcast PUB"] / med["anchor: one Aer run, 2P+1 binds"]
    speedup = med.get("ours: 2P+1 separate calls", float("nan")) / med["ours: one broadcast PUB"]
    out = {
        "qubits": n, "rows": int(rows.shape[0]), "median_ms": med,
        "min_ms": {k: min(v) for k, v in times.items()},
        "repeats": {k: len(v) for k, v in times.items()},
        "ratio_vs_anchor": ratio, "speedup_vs_separate": speedup,
        "max_abs_gradient_difference": float(np.max(np.abs(g_ours - g_anchor))),
        "notes": notes,
        "target": {"ours_vs_anchor": ratio, "limit": TARGET_GRADIENT,
                   "pass": bool(ratio <= TARGET_GRADIENT)},
    }
    if n <= 12:
        out["observed_speedup"] = {"speedup": speedup, "issue_range": list(OBSERVED_SPEEDUP),
                                   "within": bool(speedup >= OBSERVED_SPEEDUP[0])}
    report.setdefault("gradient", []).append(out)
    return out


# -- (c) latency and throughput ---------------------------------------------------------------
def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


def bench_latency(service: LocalRuntimeService, runs: int, jobs: int, report: dict) -> dict:
    circuit = bell()
    raw = AerSimulator()
    aer_sampler = AerSamplerV2(default_shots=BELL_SHOTS)
    backend = service.backend("aer_simulator")
    ours_job = SamplerV2(mode=backend)
    session = Session(backend=backend, service=service)
    ours_session = SamplerV2(mode=session)

    latency_variants: dict[str, Callable[[], object]] = {
        "raw AerSimulator.run": lambda: raw.run(circuit, shots=BELL_SHOTS).result(),
        "qiskit_aer.primitives.SamplerV2":
            lambda: aer_sampler.run([circuit], shots=BELL_SHOTS).result(),
        "ours SamplerV2 (job mode)":
            lambda: ours_job.run([circuit], shots=BELL_SHOTS).result(),
        "ours SamplerV2 (Session)":
            lambda: ours_session.run([circuit], shots=BELL_SHOTS).result(),
    }
    ibm_sampler = None
    if qiskit_ibm_runtime is not None:
        ibm_sampler = IBMSamplerV2(mode=AerSimulator(), options={"default_shots": BELL_SHOTS})
        latency_variants["qiskit-ibm-runtime local SamplerV2"] = (
            lambda: ibm_sampler.run([circuit]).result()
        )
    counts = ours_session.run([circuit], shots=BELL_SHOTS).result()[0].data.meas.get_counts()
    times = measure(latency_variants, runs, warmup=20, budget_s=60.0)
    med = {k: median(v) for k, v in times.items()}

    # Jobs per second: submit all, then collect all results.
    def burst(submit: Callable[[], object], collect: Callable[[object], object]) -> float:
        t0 = time.perf_counter()
        handles = [submit() for _ in range(jobs)]
        for h in handles:
            collect(h)
        return jobs / (time.perf_counter() - t0)

    throughput_variants: dict[str, Callable[[], float]] = {
        "raw AerSimulator.run": lambda: burst(
            lambda: raw.run(circuit, shots=BELL_SHOTS), lambda j: j.result()),
        "qiskit_aer.primitives.SamplerV2": lambda: burst(
            lambda: aer_sampler.run([circuit], shots=BELL_SHOTS), lambda j: j.result()),
    }

    def ours_batch() -> float:
        with Batch(backend=backend, service=service) as batch:
            sampler = SamplerV2(mode=batch)
            return burst(lambda: sampler.run([circuit], shots=BELL_SHOTS),
                         lambda j: j.result())

    throughput_variants["ours SamplerV2 (Batch)"] = ours_batch

    # The same Batch with executor="processes": simulations in warm worker processes
    # (started and warmed here, outside the timed bursts).
    processes = shared_process_executor()
    processes.warm()

    def ours_batch_processes() -> float:
        with Batch(backend=backend, service=service, executor=processes) as batch:
            sampler = SamplerV2(mode=batch)
            for _ in range(10):  # first call per worker sends backend and circuit
                sampler.run([circuit], shots=BELL_SHOTS).result()
            return burst(lambda: sampler.run([circuit], shots=BELL_SHOTS),
                         lambda j: j.result())

    throughput_variants[BATCH_PROCESSES] = ours_batch_processes
    throughput_variants["ours SamplerV2 (Session)"] = lambda: burst(
        lambda: ours_session.run([circuit], shots=BELL_SHOTS), lambda j: j.result())
    if ibm_sampler is not None:
        throughput_variants["qiskit-ibm-runtime local SamplerV2"] = lambda: burst(
            lambda: ibm_sampler.run([circuit]), lambda j: j.result())
    jps: dict[str, list[float]] = {k: [] for k in throughput_variants}
    for _ in range(3):  # round-robin, median of three bursts
        for name, fn in throughput_variants.items():
            jps[name].append(fn())
    session.close()
    jps_med = {k: median(v) for k, v in jps.items()}

    raw_ms = med["raw AerSimulator.run"]
    ibm_jps = jps_med.get("qiskit-ibm-runtime local SamplerV2")
    out = {
        "shots": BELL_SHOTS, "latency_runs": {k: len(v) for k, v in times.items()},
        "jobs_per_burst": jobs, "latency_median_ms": med,
        "latency_above_raw_ms": {k: v - raw_ms for k, v in med.items()},
        "jobs_per_second": jps_med, "ours_counts": counts,
        "targets": {
            "latency_job_mode": {
                "above_raw_ms": med["ours SamplerV2 (job mode)"] - raw_ms,
                "limit_ms": TARGET_LATENCY_MS,
                "pass": bool(med["ours SamplerV2 (job mode)"] - raw_ms <= TARGET_LATENCY_MS)},
            "latency_session": {
                "above_raw_ms": med["ours SamplerV2 (Session)"] - raw_ms,
                "limit_ms": TARGET_LATENCY_MS,
                "pass": bool(med["ours SamplerV2 (Session)"] - raw_ms <= TARGET_LATENCY_MS)},
        },
    }
    if ibm_jps:
        # The target is judged on the Batch users get by default (thread executor); the
        # Batch with worker processes is reported next to it.
        ratio = jps_med["ours SamplerV2 (Batch)"] / ibm_jps
        out["targets"]["throughput_batch"] = {"variant": "ours SamplerV2 (Batch)",
                                              "ratio_vs_runtime_local": ratio,
                                              "limit": TARGET_THROUGHPUT,
                                              "pass": bool(ratio >= TARGET_THROUGHPUT)}
        ratio = jps_med[BATCH_PROCESSES] / ibm_jps
        out["targets"]["throughput_batch_processes (info)"] = {
            "variant": BATCH_PROCESSES, "ratio_vs_runtime_local": ratio,
            "limit": TARGET_THROUGHPUT, "info": True,
            "pass": bool(ratio >= TARGET_THROUGHPUT)}
    report["latency"] = out
    return out


# -- report ---------------------------------------------------------------------------------
def machine() -> dict:
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {**common_machine(), "memory_gb": mem_gb, "platform": platform.platform(),
            "qiskit_ibm_runtime": getattr(qiskit_ibm_runtime, "__version__", None)}


def print_energy(rows: list[dict]) -> None:
    names = list(rows[0]["median_ms"])
    headers = ["qubits", *names, "ours/floor", "target<=1.3"]
    short = {
        "ours (Session+EstimatorV2)": "ours",
        "floor: Aer save_statevector + SparsePauliOp": "floor sv+SPO",
        "floor: Aer save_expectation_value(H)": "floor save_ev",
        "qiskit_aer.primitives.EstimatorV2": "Aer EstV2",
        "qiskit StatevectorEstimator": "SV Estimator",
        "qiskit-ibm-runtime local (4096 shots)": "ibm local",
    }
    headers = ["qubits"] + [short.get(n, n) for n in names] + ["ours/floor", "target<=1.3"]
    body = []
    for r in rows:
        cells = [str(r["qubits"])]
        for name in names:
            ms = r["median_ms"].get(name)
            ratio = r["ratio_vs_floor"].get(name)
            cells.append("-" if ms is None else f"{ms:.1f} ({ratio:.2f}x)")
        cells += [f"{r['target']['ours_vs_floor']:.2f}", verdict(r["target"]["pass"])]
        body.append(cells)
    print("\n(a) one energy evaluation, median ms (ratio vs floor = faster of the two floors)")
    print(table(headers, body))
    for r in rows:
        for note in r["notes"]:
            print(f"    {r['qubits']} qubits: {note}")
        if not r["ours_matches_floor"]:
            print(f"    {r['qubits']} qubits: WARNING ours differs from the floor energy")


def print_gradient(rows: list[dict]) -> None:
    headers = ["qubits", "rows", "ours 1 PUB", "Aer 2P+1 binds", "ours/anchor", "target<=1.2",
               "2P+1 calls", "speedup", "issue saw 5-15x (info)"]
    body = []
    for r in rows:
        med = r["median_ms"]
        body.append([
            str(r["qubits"]), str(r["rows"]), fmt(med["ours: one broadcast PUB"]),
            fmt(med["anchor: one Aer run, 2P+1 binds"]), f"{r['ratio_vs_anchor']:.2f}",
            verdict(r["target"]["pass"]), fmt(med.get("ours: 2P+1 separate calls")),
            fmt(r["speedup_vs_separate"]),
            ("within" if r["observed_speedup"]["within"] else "below")
            if "observed_speedup" in r else "n/a",
        ])
    print("\n(b) parameter-shift gradient (2P+1 rows), median ms")
    print(table(headers, body))
    for r in rows:
        for note in r["notes"]:
            print(f"    {r['qubits']} qubits: {note}")
        print(f"    {r['qubits']} qubits: max |grad ours - grad anchor| = "
              f"{r['max_abs_gradient_difference']:.2e}")


def print_latency(r: dict) -> None:
    headers = ["", "latency ms", "above raw ms", "jobs/s"]
    body = []
    for name, ms in r["latency_median_ms"].items():
        jps = r["jobs_per_second"].get(name)
        if name == "ours SamplerV2 (job mode)":
            jps = None
        body.append([name, f"{ms:.2f}", f"{r['latency_above_raw_ms'][name]:+.2f}", fmt(jps, 0)])
    body.append(["ours SamplerV2 (Batch)", "-", "-",
                 fmt(r["jobs_per_second"]["ours SamplerV2 (Batch)"], 0)])
    if BATCH_PROCESSES in r["jobs_per_second"]:
        body.append([BATCH_PROCESSES, "-", "-", fmt(r["jobs_per_second"][BATCH_PROCESSES], 0)])
    print(f"\n(c) Bell circuit, {r['shots']} shots: submit-to-result latency (median) and "
          f"jobs per second ({r['jobs_per_burst']} jobs submitted, then all results)")
    print(table(headers, body))
    for name, t in r["targets"].items():
        if "above_raw_ms" in t:
            print(f"    {name}: {t['above_raw_ms']:+.2f} ms above raw AerSimulator.run "
                  f"(target <= {t['limit_ms']} ms): {verdict(t['pass'])}")
        else:
            label = t.get("variant", name)
            status = "(not judged)" if t.get("info") else verdict(t["pass"])
            print(f"    {name} [{label}]: {t['ratio_vs_runtime_local']:.1f}x the jobs/s of "
                  f"runtime local mode (target >= {t['limit']}x): {status}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="8 and 12 qubits only, few repeats")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--sizes", type=int, nargs="+", choices=SIZES_FULL,
                        help="qubit counts to run (default: 8 12 16 20, or 8 12 with --quick)")
    args = parser.parse_args(argv)

    sizes = tuple(args.sizes) if args.sizes else (SIZES_QUICK if args.quick else SIZES_FULL)
    energy_repeats = ({8: 60, 12: 20, 16: 3, 20: 2} if args.quick
                      else {8: 100, 12: 40, 16: 12, 20: 6})
    gradient_repeats = ({8: 7, 12: 5, 16: 1, 20: 1} if args.quick
                        else {8: 10, 12: 7, 16: 3, 20: 1})
    latency_runs, burst_jobs = (50, 100) if args.quick else (200, 300)

    report: dict = {"mode": "quick" if args.quick else "full", "machine": machine(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    m = report["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory_gb']} GB; Python {m['python']}, "
          f"qiskit {m['qiskit']}, qiskit-aer {m['qiskit_aer']}, "
          f"qiskit-ibm-runtime {m['qiskit_ibm_runtime']}; load average at start "
          f"{m['loadavg_start']}")
    t_start = time.perf_counter()
    service = LocalRuntimeService(Path(_TMP_HOME) / "store.sqlite")
    backend = service.backend("aer_simulator_statevector")
    try:
        with Session(backend=backend, service=service) as session:
            for n in sizes:
                t0 = time.perf_counter()
                bench_energy(service, session, n, energy_repeats[n], report)
                print(f"  [(a) {n} qubits done in {time.perf_counter() - t0:.0f} s]",
                      flush=True)
                save(report, args.output)
            print_energy(report["energy"])
            for n in sizes:
                t0 = time.perf_counter()
                bench_gradient(session, n, gradient_repeats[n], report)
                print(f"  [(b) {n} qubits done in {time.perf_counter() - t0:.0f} s]",
                      flush=True)
                save(report, args.output)
            print_gradient(report["gradient"])
        bench_latency(service, latency_runs, burst_jobs, report)
        print_latency(report["latency"])
    finally:
        report["elapsed_s"] = time.perf_counter() - t_start
        report["machine"]["loadavg_end"] = loadavg()

    summary = []
    for r in report.get("energy", []):
        summary.append((f"(a) {r['qubits']}q ours within {TARGET_ENERGY}x of floor",
                        r["target"]["pass"], f"{r['target']['ours_vs_floor']:.2f}x"))
    for r in report.get("gradient", []):
        summary.append((f"(b) {r['qubits']}q ours within {TARGET_GRADIENT}x of 2P+1-bind run",
                        r["target"]["pass"], f"{r['ratio_vs_anchor']:.2f}x"))
    for name, t in report["latency"]["targets"].items():
        if t.get("info"):
            continue
        value = (f"{t['above_raw_ms']:+.2f} ms" if "above_raw_ms" in t
                 else f"{t['ratio_vs_runtime_local']:.1f}x")
        summary.append((f"(c) {name}", t["pass"], value))
    print_targets(report, summary)

    return finish(report, args.output, _TMP_HOME)


if __name__ == "__main__":
    sys.exit(main())
