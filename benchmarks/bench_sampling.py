"""Sampling cost: shots drawn from the final state against the simulator's own shots.

    python benchmarks/bench_sampling.py            # 2, 8, 12, 16 qubits; 1k, 10k, 100k shots
    python benchmarks/bench_sampling.py --quick    # 2 and 12 qubits; 1k and 100k shots

For a noiseless circuit whose measurements all come at the end, our SamplerV2 runs Aer once
to get the measured qubits' distribution and draws the shots with numpy (see
``qrt_jupyter/runtime/primitives/final_state.py``); otherwise Aer's own shots are used.
Measured in one process, variants round-robin, medians of ms per job:

- ours (final state), ours with the final-state path switched off (Aer's shots, the same
  code otherwise), raw ``qiskit_aer.primitives.SamplerV2`` and qiskit-ibm-runtime local
  mode ``SamplerV2`` (benchmark extra), on a Bell circuit (2 q) and a parametrised
  hardware-efficient circuit (``efficient_su2(n, reps=2)`` + ``measure_all``);
- the sampled EstimatorV2 at 4096 shots per group (precision 1/64) on the Heisenberg chain,
  ours both ways;
- a fidelity check for each size: total variation distance of 100k shots from the exact
  distribution, ours and Aer's, which must be of the same (statistical) size.

Results go to ``benchmarks/results/sampling.json``. No target is set by an issue; the
figures show what the final-state path buys and that it samples the same distribution.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

_TMP_HOME = tempfile.mkdtemp(prefix="qrt-bench-sampling-")
os.environ["QRT_HOME"] = _TMP_HOME

import numpy as np  # noqa: E402
from common import finish, loadavg, machine, median, print_elapsed, save, table  # noqa: E402
from qiskit import QuantumCircuit  # noqa: E402
from qiskit.circuit.library import efficient_su2  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from qiskit_aer.primitives import SamplerV2 as AerSamplerV2  # noqa: E402

from qrt_jupyter import EstimatorV2, LocalRuntimeService, SamplerV2, Session  # noqa: E402
from qrt_jupyter.runtime.primitives import final_state  # noqa: E402

try:
    import qiskit_ibm_runtime
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import SamplerV2 as IBMSamplerV2
except ImportError:  # pragma: no cover - benchmark extra
    qiskit_ibm_runtime = None

warnings.filterwarnings("ignore", category=DeprecationWarning)
RESULTS = Path(__file__).resolve().parent / "results" / "sampling.json"
FINAL = "ours (final state)"
SHOTS = "ours (Aer's shots)"


def circuit_for(n: int) -> tuple[QuantumCircuit, np.ndarray | None]:
    if n == 2:
        qc = QuantumCircuit(2)
        qc.h(0)
        qc.cx(0, 1)
        qc.measure_all()
        return qc, None
    qc = efficient_su2(n, reps=2)
    qc.measure_all()
    values = np.random.default_rng(n).uniform(-np.pi, np.pi, qc.num_parameters)
    return qc, values


def heisenberg(n: int) -> SparsePauliOp:
    terms = [(p * 2, [i, i + 1], 1.0) for i in range(n - 1) for p in "XYZ"]
    return SparsePauliOp.from_sparse_list(terms, num_qubits=n)


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def round_robin(variants: dict[str, Callable[[], object]], repeats: int,
                block: int) -> dict[str, float]:
    for fn in variants.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in variants}
    while min(len(v) for v in times.values()) < repeats:
        for name, fn in variants.items():
            times[name] += timed(fn, block)
    return {k: median(v) for k, v in times.items()}


def with_final_state(enabled: bool, fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        final_state.ENABLED = enabled
        try:
            return fn()
        finally:
            final_state.ENABLED = True
    return run


def bench_sampler(session: Session, n: int, shots: int, repeats: int) -> dict:
    qc, values = circuit_for(n)
    pub = (qc, values) if values is not None else (qc,)
    ours = SamplerV2(mode=session)
    aer = AerSamplerV2()
    bound = qc.assign_parameters(values) if values is not None else qc
    variants: dict[str, Callable[[], object]] = {
        FINAL: with_final_state(True, lambda: ours.run([pub], shots=shots).result()),
        SHOTS: with_final_state(False, lambda: ours.run([pub], shots=shots).result()),
        "qiskit_aer SamplerV2": lambda: aer.run([pub], shots=shots).result(),
    }
    if qiskit_ibm_runtime is not None:
        from qiskit.transpiler import generate_preset_pass_manager

        isa = generate_preset_pass_manager(optimization_level=1, backend=AerSimulator(),
                                           seed_transpiler=0).run(bound)
        ibm = IBMSamplerV2(mode=AerSimulator(), options={"default_shots": shots})
        variants["qiskit-ibm-runtime local"] = lambda: ibm.run([isa]).result()
    slow = shots >= 100_000 and n >= 12
    med = round_robin(variants, 3 if slow else repeats, 1 if shots >= 10_000 else 5)
    return {"qubits": n, "shots": shots, "median_ms": med,
            "speedup_vs_aer_shots": med[SHOTS] / med[FINAL],
            "speedup_vs_aer_sampler": med["qiskit_aer SamplerV2"] / med[FINAL]}


def fidelity(session: Session, n: int, shots: int = 100_000) -> dict:
    """Total variation distance from the exact distribution, ours and Aer's."""
    qc, values = circuit_for(n)
    bound = qc.assign_parameters(values) if values is not None else qc
    exact = Statevector(bound.remove_final_measurements(inplace=False)).probabilities()
    pub = (qc, values) if values is not None else (qc,)

    def tvd(counts: dict[str, int]) -> float:
        seen = np.zeros_like(exact)
        for key, c in counts.items():
            seen[int(key, 2)] = c / shots
        return 0.5 * float(np.abs(seen - exact).sum())

    ours = SamplerV2(mode=session).run([pub], shots=shots).result()[0].data.meas.get_counts()
    aer = AerSamplerV2().run([pub], shots=shots).result()[0].data.meas.get_counts()
    # what a sample of this size is expected to show: E|f - p| = sqrt(2 p (1 - p) / (pi N))
    expected = 0.5 * float(np.sum(np.sqrt(2 * exact * (1 - exact) / (np.pi * shots))))
    return {"qubits": n, "shots": shots, "tvd_ours": tvd(ours), "tvd_aer": tvd(aer),
            "tvd_expected": expected}


def bench_estimator(session: Session, n: int, repeats: int) -> dict:
    qc = efficient_su2(n, reps=2)
    values = np.random.default_rng(n).uniform(-np.pi, np.pi, qc.num_parameters)
    obs = heisenberg(n)
    est = EstimatorV2(mode=session)

    def run() -> float:
        return float(est.run([(qc, obs, values)], precision=1 / 64).result()[0].data.evs)

    med = round_robin({FINAL: with_final_state(True, run),
                       SHOTS: with_final_state(False, run)}, repeats, 3)
    return {"qubits": n, "shots_per_group": 4096, "median_ms": med,
            "speedup": med[SHOTS] / med[FINAL]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, shots and repeats")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = (2, 12) if args.quick else (2, 8, 12, 16)
    shot_counts = (1024, 100_000) if args.quick else (1024, 10_000, 100_000)
    repeats = 10 if args.quick else 30
    report: dict = {"mode": "quick" if args.quick else "full", "machine": machine(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"), "sampler": [],
                    "fidelity": [], "estimator": []}
    m = report["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}, qiskit "
          f"{m['qiskit']}, qiskit-aer {m['qiskit_aer']}; load average {m['loadavg_start']}")
    t_start = time.perf_counter()
    service = LocalRuntimeService(Path(_TMP_HOME) / "store.sqlite")
    try:
        with Session(backend=service.backend("aer_simulator"), service=service) as session:
            for n in sizes:
                for shots in shot_counts:
                    report["sampler"].append(bench_sampler(session, n, shots, repeats))
                    save(report, args.output)
                report["fidelity"].append(fidelity(session, n))
            for n in (sizes[1:] if len(sizes) > 1 else sizes):
                report["estimator"].append(bench_estimator(session, n, repeats))
                save(report, args.output)
    finally:
        report["elapsed_s"] = time.perf_counter() - t_start
        report["machine"]["loadavg_end"] = loadavg()

    names = list(report["sampler"][0]["median_ms"])
    print("\nSamplerV2, one PUB, median ms per job")
    print(table(["qubits", "shots", *names, "vs Aer's shots", "vs Aer SamplerV2"], [
        [str(r["qubits"]), str(r["shots"]), *(f"{r['median_ms'][k]:.2f}" for k in names),
         f"{r['speedup_vs_aer_shots']:.1f}x", f"{r['speedup_vs_aer_sampler']:.1f}x"]
        for r in report["sampler"]]))
    print("\nTotal variation distance of 100k shots from the exact distribution")
    print(table(["qubits", "ours", "Aer SamplerV2", "expected of an exact sampler"], [
        [str(r["qubits"]), f"{r['tvd_ours']:.4f}", f"{r['tvd_aer']:.4f}",
         f"{r['tvd_expected']:.4f}"]
        for r in report["fidelity"]]))
    print("\nSampled EstimatorV2 (precision 1/64: 4096 shots per group), median ms per job")
    print(table(["qubits", "final state", "Aer's shots", "speedup"], [
        [str(r["qubits"]), f"{r['median_ms'][FINAL]:.2f}", f"{r['median_ms'][SHOTS]:.2f}",
         f"{r['speedup']:.1f}x"]
        for r in report["estimator"]]))
    print_elapsed(report)
    return finish(report, args.output, _TMP_HOME)


if __name__ == "__main__":
    sys.exit(main())
