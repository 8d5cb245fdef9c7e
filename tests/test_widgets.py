"""Widgets checked through their model state after real jobs ran on Aer."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from conftest import measured_bell, wait_until
from qiskit.quantum_info import SparsePauliOp

from qrt_jupyter import Batch, SamplerV2, Session
from qrt_jupyter.jupyter.frontend import display_mode, set_display_mode
from qrt_jupyter.jupyter.widgets import ConvergencePlot, JobMonitor, JobStatus, SessionPanel
from qrt_jupyter.jupyter.widgets.convergence import downsample
from qrt_jupyter.runtime.core.current import default_mode


def _h2():
    return SparsePauliOp.from_list([
        ("II", -1.052373245772859), ("IZ", 0.39793742484318045),
        ("ZI", -0.39793742484318045), ("ZZ", -0.01128010425623538),
        ("XX", 0.18093119978423156),
    ])


def _vqe_job(service, seed: int, optimizer: str = "BFGS"):
    from qiskit.circuit.library import efficient_su2

    return service.run("vqe", inputs={"ansatz": efficient_su2(2, reps=1), "hamiltonian": _h2(),
                                      "optimizer": optimizer, "seed": seed, "maxiter": 40})


def test_convergence_plot_follows_a_real_vqe(service, clean_defaults):
    exact = float(np.linalg.eigvalsh(_h2().to_matrix()).min())
    plot = ConvergencePlot("energy", exact=exact, live=True)
    job = _vqe_job(service, seed=1)
    plot.attach(job, label="bfgs")
    result = job.result()
    wait_until(lambda: len(plot.series["bfgs"].x) == result["num_iterations"])
    plot.flush()
    names = [t.name for t in plot.widget.data]
    assert names == ["bfgs ±std", "bfgs", "bfgs best"]
    line = plot.widget.data[1]
    assert list(line.y) == pytest.approx(result["history"])
    best = plot.widget.data[2]
    assert best.y[0] == pytest.approx(min(result["history"]))
    shapes = plot.widget.layout.shapes
    assert len(shapes) == 1 and shapes[0].y0 == pytest.approx(exact)


def test_two_runs_overlay_and_log_error_view(service, clean_defaults):
    exact = float(np.linalg.eigvalsh(_h2().to_matrix()).min())
    plot = ConvergencePlot("energy", exact=exact, log_error=True, live=True)
    jobs = [_vqe_job(service, seed=2, optimizer="BFGS"), _vqe_job(service, 2, "COBYLA")]
    for job, label in zip(jobs, ["BFGS", "COBYLA"]):
        plot.attach(job, label=label)
    for job in jobs:
        job.result()
    wait_until(lambda: all(len(plot.series[k].x) == len(j.interim_results())
                           for k, j in zip(["BFGS", "COBYLA"], jobs)))
    plot.flush()
    lines = {t.name: t for t in plot.widget.data if "best" not in t.name and "std" not in t.name}
    assert sorted(lines) == ["BFGS", "COBYLA"]  # in the order their first results arrived
    assert plot.widget.layout.yaxis.type == "log"
    errors = np.asarray(lines["BFGS"].y)
    assert np.all(errors > 0)
    assert errors[-1] == pytest.approx(abs(jobs[0].result()["history"][-1] - exact) + 1e-16)


def test_std_band_is_drawn_around_sampled_energies(clean_defaults):
    plot = ConvergencePlot("energy", live=True)
    for i in range(5):
        plot.add_point("shots", i, -i, std=0.5)
    plot.flush()
    band = plot.widget.data[0]
    assert band.fill == "toself"
    assert max(band.y) == pytest.approx(0.5) and min(band.y) == pytest.approx(-4.5)


def test_redraws_are_throttled_and_histories_downsampled(clean_defaults):
    plot = ConvergencePlot("energy", live=True, max_points=500, max_redraws_per_second=10)
    cb = plot.callback("long")
    start = time.monotonic()
    for i in range(10_000):
        cb("job", {"iteration": i, "energy": 1.0 / (i + 1)})
    elapsed = time.monotonic() - start
    time.sleep(0.25)
    plot.flush()
    assert plot.redraws <= 10 * (elapsed + 0.25) + 3
    assert len(plot.series["long"].x) == 10_000
    drawn = plot.widget.data[1]
    assert len(drawn.x) <= 501 and drawn.x[-1] == 9999
    assert set(downsample(10, 20)) == set(range(10))
    assert 7 in downsample(1000, 10, keep=7)


def test_static_fallback_and_export(tmp_path, clean_defaults):
    set_display_mode("static")
    assert display_mode() == "static"
    plot = ConvergencePlot("energy", exact=-1.0)
    assert plot.widget is None
    for i in range(10):
        plot.add_point("run", i, -1 + 2.0 ** -i, std=0.1)
    bundle = plot._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG")
    assert "10 points" in bundle["text/plain"]
    path = tmp_path / "plot.png"
    plot.savefig(path)
    assert path.read_bytes().startswith(b"\x89PNG")
    page = plot.to_html(include_plotlyjs=False)
    assert "plotly" in page.lower() and "run" in page


def test_display_guess_without_a_notebook_server(monkeypatch, clean_defaults):
    monkeypatch.delenv("QRT_DISPLAY", raising=False)
    assert display_mode() == "static"  # plain Python: no widget frontend
    monkeypatch.setenv("QRT_DISPLAY", "widget")
    assert display_mode() == "widget"


def test_job_monitor_lists_cancels_and_shows_jobs(service, clean_defaults):
    monitor = JobMonitor(service, limit=10, min_interval=0.01)
    done = SamplerV2(mode=service.backend("aer_simulator")).run([measured_bell()], shots=10)
    done.result()

    def forever(ctx):
        while True:
            ctx.publish({"tick": 1})
            time.sleep(0.01)

    running = service.run(forever)
    wait_until(lambda: running.status() == "RUNNING")
    wait_until(lambda: {r["id"]: r["status"] for r in monitor.rows}.get(running.job_id())
               == "RUNNING")
    statuses = {r["id"]: r["status"] for r in monitor.rows}
    assert statuses[done.job_id()] == "DONE"
    assert monitor.cancel_buttons[done.job_id()].disabled
    button = monitor.cancel_buttons[running.job_id()]
    assert not button.disabled
    button.click()
    running.wait_for_final_state(10)
    assert running.status() == "CANCELLED"
    wait_until(lambda: {r["id"]: r["status"] for r in monitor.rows}[running.job_id()]
               == "CANCELLED")
    monitor.view_buttons[done.job_id()].click()
    assert done.job_id() in str(monitor.detail.outputs)
    monitor.close()


def test_session_panel_opens_closes_and_counts(service, clean_defaults):
    panel = SessionPanel(service, tick=0.05)
    assert panel.close_button.disabled and not panel.open_button.disabled
    panel.backend.value = "aer_simulator_statevector"
    panel.max_time.value = "1h30m"
    panel.open_button.click()
    session = panel.session
    assert isinstance(session, Session) and default_mode() is session
    assert session.max_time == 5400 and session.backend() == "aer_simulator_statevector"
    assert panel.open_button.disabled and not panel.close_button.disabled
    SamplerV2().run([measured_bell()], shots=10).result()
    wait_until(lambda: "DONE 1" in panel.status.value)
    assert re.search(r"remaining 1h(29|30)m", panel.status.value)
    panel.close_button.click()
    assert session.status() == "Closed" and default_mode() is None
    panel.mode.value = "batch"
    panel.open_button.click()
    assert isinstance(panel.session, Batch)
    panel.cancel_button.click()
    assert panel.session.state == "cancelled"
    panel.max_time.value = "soon"
    panel.open_button.click()
    assert "not a duration" in panel.message.value
    panel.close()


def test_job_status_shows_progress_of_multi_pub_jobs(service, clean_defaults):
    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    job = sampler.run([measured_bell()] * 4, shots=10)
    status = JobStatus(job)
    job.result()
    wait_until(lambda: status.progress.value == 4)
    assert status.progress.max == 4
    wait_until(lambda: "DONE" in status.badge.value)
    assert job.job_id() in status.label.value


def test_job_status_shows_progress_of_sweeps(service, clean_defaults):
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.quantum_info import SparsePauliOp

    theta = Parameter("θ")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    job = service.run("sweep", inputs={
        "circuit": circuit, "observables": SparsePauliOp("Z"),
        "grid": {"parameter_values": [[0.1 * k] for k in range(5)]},
    })
    status = JobStatus(job)
    job.result()
    wait_until(lambda: status.progress.value == 5)
    assert status.progress.max == 5 and status.progress.description == "5/5"


def test_a_job_shows_itself(service, ip, monkeypatch):
    from IPython.utils.capture import capture_output

    job = SamplerV2(mode=service.backend("aer_simulator")).run([measured_bell()] * 2, shots=10)
    job.result()
    page = job._repr_html_()
    assert job.job_id() in page and ">DONE<" in page
    assert "duration" in page and "PUB 0: meas" in page and "PUB 1: meas" in page
    failed = service.run(lambda ctx: 1 / 0)
    failed.wait_for_final_state(30)
    assert "ZeroDivisionError" in failed._repr_html_()
    # in a widget frontend the job displays as its live status line
    monkeypatch.setenv("QRT_DISPLAY", "widget")
    with capture_output() as out:
        ip.display_formatter.ipython_display_formatter(job)
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in out.outputs)
    monkeypatch.setenv("QRT_DISPLAY", "static")
    with capture_output() as out:
        ip.display_formatter.ipython_display_formatter(job)
    (shown,) = out.outputs
    assert job.job_id() in shown.data["text/html"] and "RuntimeJob" in shown.data["text/plain"]


def test_drawing_while_runs_arrive(clean_defaults):
    """Subscriber threads add points and whole runs while a figure is being drawn."""
    import threading

    plot = ConvergencePlot("energy", live=False)

    def feed():
        for k in range(600):
            plot.add_point(f"run {k}", 0, 1.0 / (k + 1))
            time.sleep(0.0005)

    feeder = threading.Thread(target=feed)
    feeder.start()
    drawn = 0
    while feeder.is_alive() or drawn < 3:
        plot._traces()
        plot.figure()
        drawn += 1
    feeder.join()
    assert plot._repr_mimebundle_()["image/png"].startswith(b"\x89PNG")
    assert len(plot.series) == 600
