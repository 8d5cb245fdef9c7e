"""Benchmark of the live convergence plot (issue 4, "Performance"), in one run.

    python benchmarks/bench_jupyter.py            # SPSA 200 its + BFGS checks (~4 min)
    python benchmarks/bench_jupyter.py --quick    # SPSA 200 iterations only, 3 rounds (~1 min)

Wall time of the built-in ``vqe`` program at 12 qubits (``efficient_su2(12, reps=2)``, 1D
Heisenberg chain, exact mode on ``aer_simulator_statevector`` in a ``Session``) for 200
iterations, with a live ``ConvergencePlot(..., live=True).callback(label)`` as the run
callback versus no callback; target: at most 5% more. A third variant with a trivial
callback (appends to a list) separates the cost of having a subscriber from the plot's.

The 200-iteration figure uses SPSA (3 parameter rows per iteration, ~10 ms): 200 BFGS
iterations with parameter-shift gradients (145 rows each, ~0.3-0.5 s) would take minutes
per run. The full run adds BFGS with parameter shift at 12 qubits for 20 iterations and at
8 qubits for up to 200 iterations, where the plot's share is smaller.

Without a notebook frontend, plotly's FigureWidget (an anywidget) still runs its real
model updates: every redraw validates and serialises the traces and sends the state
to its comm, which without a kernel is a ``comm.DummyComm`` that drops the message.
Only the websocket transport to a browser is missing.

Variants alternate round-robin (order reversed on odd rounds) and medians are reported,
because the machine is shared. Results go to ``benchmarks/results/jupyter.json``.
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
from typing import Any

# A throw-away store: set before qrt_jupyter is imported.
_TMP_HOME = tempfile.mkdtemp(prefix="qrt-bench-jupyter-")
os.environ["QRT_HOME"] = _TMP_HOME

import numpy as np  # noqa: E402
import plotly  # noqa: E402
from common import finish, loadavg, median, print_targets, save, table, verdict  # noqa: E402
from common import machine as common_machine  # noqa: E402
from qiskit.circuit.library import efficient_su2  # noqa: E402
from scipy.sparse.linalg import eigsh  # noqa: E402

from qrt_jupyter import LocalRuntimeService, Session  # noqa: E402
from qrt_jupyter.cli import heisenberg_chain  # noqa: E402
from qrt_jupyter.jupyter.widgets.convergence import ConvergencePlot  # noqa: E402

warnings.filterwarnings("ignore")

RESULTS = Path(__file__).resolve().parent / "results" / "jupyter.json"
TARGET_EXTRA = 0.05  # live plot: at most 5% more wall time


def machine() -> dict:
    import anywidget
    import ipywidgets

    return {**common_machine(), "plotly": plotly.__version__,
            "anywidget": getattr(anywidget, "__version__", None),
            "ipywidgets": ipywidgets.__version__}


class TimedPlot:
    """A live ConvergencePlot whose redraws are counted and timed."""

    def __init__(self, exact: float) -> None:
        t0 = time.perf_counter()
        self.plot = ConvergencePlot("energy", exact=exact, live=True)
        self.created_s = time.perf_counter() - t0
        if self.plot.widget is None:
            raise RuntimeError("no FigureWidget: plotly/anywidget missing")
        self.redraw_s: list[float] = []
        redraw = self.plot._redraw

        def timed() -> None:
            t = time.perf_counter()
            redraw()
            self.redraw_s.append(time.perf_counter() - t)

        self.plot._redraw = timed  # type: ignore[method-assign]


def one_run(service: LocalRuntimeService, session: Session, inputs: dict, variant: str,
            exact: float) -> dict:
    """Submit to result of one vqe run; with the plot also the time until it is drawn."""
    plot = TimedPlot(exact) if variant == "live plot" else None
    received: list = []
    callback: Callable | None = None
    if plot is not None:
        callback = plot.plot.callback("vqe")
    elif variant == "list callback":
        callback = lambda _jid, item: received.append(item)  # noqa: E731
    t0 = time.perf_counter()
    job = service.run("vqe", inputs=inputs, mode=session, callback=callback)
    result = job.result()
    wall = time.perf_counter() - t0
    iterations = int(result["num_iterations"])
    out = {"wall_s": wall, "iterations": iterations, "energy": float(result["optimal_value"])}
    if plot is not None:
        def points() -> int:
            series = plot.plot.series.get("vqe")
            return len(series.x) if series is not None else 0

        deadline = time.monotonic() + 60
        while points() < iterations and time.monotonic() < deadline:
            time.sleep(0.001)
        plot.plot.flush()
        out["drawn_s"] = time.perf_counter() - t0
        out["redraws"] = len(plot.redraw_s)
        out["redraw_ms_median"] = median([t * 1e3 for t in plot.redraw_s])
        out["redraw_s_total"] = float(sum(plot.redraw_s))
        out["plot_created_s"] = plot.created_s
        out["points_drawn"] = len(plot.plot.widget.data[1].x)
    return out


def bench_case(service: LocalRuntimeService, session: Session, name: str, n: int,
               optimizer: str, maxiter: int, rounds: int, variants: list[str]) -> dict:
    ansatz = efficient_su2(n, reps=2)
    hamiltonian = heisenberg_chain(n)
    exact = float(eigsh(hamiltonian.to_matrix(sparse=True), k=1, which="SA")[0][0])
    x0 = np.random.default_rng(100 + n).uniform(-np.pi, np.pi, ansatz.num_parameters)
    inputs = {"ansatz": ansatz, "hamiltonian": hamiltonian, "optimizer": optimizer,
              "maxiter": maxiter, "initial_point": x0, "seed": 7}
    if optimizer != "SPSA":
        inputs["gradient"] = "parameter-shift"
    # warm-up: caches, plotly/anywidget imports, the first FigureWidget
    one_run(service, session, {**inputs, "maxiter": 2}, "live plot", exact)
    load = loadavg()
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for k in range(rounds):
        for v in (variants if k % 2 == 0 else variants[::-1]):
            runs[v].append(one_run(service, session, inputs, v, exact))
    base = median([r["wall_s"] for r in runs["no callback"]])
    out: dict[str, Any] = {
        "case": name, "qubits": n, "optimizer": optimizer, "maxiter": maxiter,
        "rounds": rounds, "exact": exact, "loadavg_before": load, "loadavg_after": loadavg(),
        "iterations": runs["no callback"][0]["iterations"], "runs": runs,
        "median_wall_s": {v: median([r["wall_s"] for r in rs]) for v, rs in runs.items()},
    }
    live = runs["live plot"]
    out["median_drawn_s"] = median([r["drawn_s"] for r in live])
    out["extra"] = {v: s / base - 1 for v, s in out["median_wall_s"].items()}
    out["extra_until_drawn"] = out["median_drawn_s"] / base - 1
    # paired: each live run against the no-callback run of the same round
    out["paired_extra"] = [a["wall_s"] / b["wall_s"] - 1
                           for a, b in zip(live, runs["no callback"])]
    out["paired_extra_median"] = median(out["paired_extra"])
    out["redraws_median"] = median([r["redraws"] for r in live])
    out["redraw_ms_median"] = median([r["redraw_ms_median"] for r in live])
    out["redraw_s_total_median"] = median([r["redraw_s_total"] for r in live])
    out["plot_created_ms_median"] = median([r["plot_created_s"] * 1e3 for r in live])
    out["target"] = {"limit": TARGET_EXTRA, "pass": out["extra"]["live plot"] <= TARGET_EXTRA}
    return out


def print_case(r: dict) -> None:
    base = r["median_wall_s"]["no callback"]
    headers = ["variant", "wall s (median)", "ms/iteration", "vs no callback", "target<=+5%"]
    body = []
    for v, s in r["median_wall_s"].items():
        body.append([v, f"{s:.3f}", f"{s / r['iterations'] * 1e3:.2f}",
                     f"{(s / base - 1) * 100:+.1f}%",
                     verdict(r["target"]["pass"]) if v == "live plot" else ""])
    body.append(["live plot, until drawn", f"{r['median_drawn_s']:.3f}",
                 f"{r['median_drawn_s'] / r['iterations'] * 1e3:.2f}",
                 f"{r['extra_until_drawn'] * 100:+.1f}%", ""])
    print(f"\n{r['case']}: vqe {r['optimizer']} at {r['qubits']} qubits, {r['iterations']} "
          f"iterations, {r['rounds']} rounds alternating")
    print(table(headers, body))
    paired = ", ".join(f"{x * 100:+.1f}%" for x in r["paired_extra"])
    print(f"    live plot per round vs no callback: {paired} (median "
          f"{r['paired_extra_median'] * 100:+.1f}%)")
    share = r["redraw_s_total_median"] / base
    print(f"    redraws per run {r['redraws_median']:.0f}, {r['redraw_ms_median']:.2f} ms each "
          f"(median), {r['redraw_s_total_median'] * 1e3:.0f} ms in total ({share * 100:.1f}% of "
          f"the run, on the subscriber thread); creating the plot "
          f"{r['plot_created_ms_median']:.1f} ms (not in the wall time); load "
          f"{r['loadavg_before']} -> {r['loadavg_after']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="SPSA 200 iterations only, 3 rounds")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)

    variants = ["no callback", "live plot", "list callback"]
    cases = [("SPSA, 200 iterations (target)", 12, "SPSA", 200, 3 if args.quick else 9)]
    if not args.quick:
        cases += [("BFGS + parameter shift, 20 iterations", 12, "BFGS", 20, 3),
                  ("BFGS + parameter shift, up to 200 iterations", 8, "BFGS", 200, 3)]

    report: dict = {"mode": "quick" if args.quick else "full", "machine": machine(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"), "cases": []}
    m = report["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}, qiskit "
          f"{m['qiskit']}, qiskit-aer {m['qiskit_aer']}, plotly {m['plotly']}, anywidget "
          f"{m['anywidget']}, ipywidgets {m['ipywidgets']}; load average at start "
          f"{m['loadavg_start']}", flush=True)
    t_start = time.perf_counter()
    service = LocalRuntimeService(Path(_TMP_HOME) / "store.sqlite")
    backend = service.backend("aer_simulator_statevector")
    try:
        with Session(backend=backend, service=service) as session:
            for name, n, optimizer, maxiter, rounds in cases:
                t0 = time.perf_counter()
                r = bench_case(service, session, name, n, optimizer, maxiter, rounds, variants)
                report["cases"].append(r)
                print(f"  [{name} done in {time.perf_counter() - t0:.0f} s]", flush=True)
                print_case(r)
                save(report, args.output)
    finally:
        report["elapsed_s"] = time.perf_counter() - t_start
        report["machine"]["loadavg_end"] = loadavg()
        save(report, args.output)

    summary = []
    for r in report["cases"]:
        is_target = r["qubits"] == 12 and r["iterations"] == 200
        summary.append((f"{r['case']} at {r['qubits']} qubits: live plot at most "
                        f"{TARGET_EXTRA:.0%} more wall time" + ("" if is_target else
                                                                 " (supplementary)"),
                        r["target"]["pass"], f"{r['extra']['live plot'] * 100:+.1f}%"))
    print_targets(report, summary)
    return finish(report, args.output, _TMP_HOME)


if __name__ == "__main__":
    sys.exit(main())
