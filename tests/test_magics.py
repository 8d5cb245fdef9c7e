"""%qrt magics through a real IPython InteractiveShell, with jobs that run on Aer."""

from __future__ import annotations

import time

import pytest
from conftest import measured_bell, wait_until
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from qrt_jupyter import LocalRuntimeService, SamplerV2, Session
from qrt_jupyter.jupyter.widgets import ConvergencePlot
from qrt_jupyter.runtime.backends import CATALOGUE
from qrt_jupyter.runtime.core.current import default_mode, default_options


def run(ip, line: str):
    with capture_output() as out:
        value = ip.run_line_magic("qrt", line)
    text = out.stdout + "".join(o.data.get("text/plain", "") for o in out.outputs)
    return value, text


def test_backends_lists_the_catalogue(ip):
    _, text = run(ip, "backends")
    for name in CATALOGUE:
        assert name in text
    assert "noisy" in text and "statevector" in text


def test_session_open_becomes_the_current_mode(ip):
    run(ip, "session open --backend aer_simulator --max-time 15m")
    session = default_mode()
    assert isinstance(session, Session)
    assert session.max_time == 900
    assert ip.user_ns["session"] is session
    job = SamplerV2().run([measured_bell()], shots=10)
    job.result()
    assert job.session_id == session.session_id
    _, text = run(ip, "jobs --session current")
    assert job.job_id() in text and "DONE" in text
    run(ip, "session close")
    assert session.status() == "Closed"
    assert default_mode() is None


def test_session_open_batch_and_cancel(ip):
    run(ip, "session open --batch --backend aer_simulator_statevector")
    batch = default_mode()
    assert type(batch).__name__ == "Batch"
    assert batch.backend() == "aer_simulator_statevector"
    run(ip, "session cancel")
    assert batch.state == "cancelled"


def test_session_show_without_session_is_one_clear_error(ip):
    with pytest.raises(UsageError, match="no session is open"):
        ip.run_line_magic("qrt", "session close")


def test_job_and_cancel(ip, qrt_home):
    service = LocalRuntimeService.default()

    def forever(ctx):
        i = 0
        while True:
            ctx.publish({"i": i})
            i += 1
            time.sleep(0.01)

    job = service.run(forever)
    wait_until(lambda: len(job.interim_results()) > 2)
    _, text = run(ip, f"job {job.job_id()}")
    assert "RUNNING" in text and "interim results:" in text
    _, text = run(ip, f"cancel {job.job_id()}")
    assert "cancel requested" in text
    job.wait_for_final_state(10)
    assert job.status() == "CANCELLED"
    _, text = run(ip, f"cancel {job.job_id()}")
    assert "already ended" in text


def test_unknown_job_is_one_line_usage_error(ip):
    with pytest.raises(UsageError) as err:
        ip.run_line_magic("qrt", "job deadbeef")
    assert "No job 'deadbeef'" in str(err.value)
    assert "\n" not in str(err.value)


def test_options_are_typed_validated_and_used(ip):
    run(ip, "options default_shots=123 simulator.seed_simulator=7 environment.job_tags=['x']")
    assert default_options()["default_shots"] == 123
    sampler = SamplerV2()
    assert sampler.options.default_shots == 123
    assert sampler.options.simulator.seed_simulator == 7
    job = sampler.run([measured_bell()])
    assert job.result()[0].data.meas.num_shots == 123
    assert job.tags == ["x"]
    with pytest.raises(UsageError, match="Did you mean 'default_shots'"):
        ip.run_line_magic("qrt", "options default_shot=5")
    with pytest.raises(UsageError, match="must be"):
        ip.run_line_magic("qrt", "options default_shots='many'")
    run(ip, "options --reset")
    assert default_options() == {}


def test_wrong_subcommand_and_flag_name_the_nearest(ip):
    with pytest.raises(UsageError, match="Did you mean 'session'"):
        ip.run_line_magic("qrt", "sesion open")
    with pytest.raises(UsageError, match="Did you mean '--limit'"):
        ip.run_line_magic("qrt", "jobs --limt 3")


def test_help_documents_every_subcommand(ip):
    _, text = run(ip, "help")
    for sub in ("backends", "session", "jobs", "job", "cancel", "options", "plot",
                "version", "run"):
        assert f"%qrt {sub}" in text
    doc = ip.find_line_magic("qrt").__doc__
    assert "%%qrt run" in doc and "%qrt plot" in doc


def test_version_table(ip):
    import qiskit
    import qiskit_aer

    _, text = run(ip, "version")
    assert qiskit.__version__ in text and qiskit_aer.__version__ in text
    assert "CPUs" in text


def test_plot_is_bound_to_interim_results(ip):
    service = LocalRuntimeService.default()

    def descend(ctx):
        for i in range(20):
            ctx.publish({"iteration": i, "energy": -1 + 1 / (i + 1), "std": 0.01})

    job = service.run(descend)
    job.result()
    plot, _ = run(ip, f"plot {job.job_id()} --key energy --exact -1")
    assert isinstance(plot, ConvergencePlot)
    wait_until(lambda: sum(len(s.x) for s in plot.series.values()) == 20)
    (series,) = plot.series.values()
    assert series.y[-1] == pytest.approx(-1 + 1 / 20)
    assert plot.exact == -1


def test_cell_run_returns_at_once_and_binds_the_job(ip):
    ip.run_cell("steps = 6")
    body = (
        "import time\n"
        "for i in range(steps):\n"
        "    ctx.publish({'iteration': i, 'energy': 1.0 / (i + 1)})\n"
        "    time.sleep(0.05)\n"
        "result = steps * 7\n"
    )
    start = time.perf_counter()
    with capture_output():
        ip.run_cell_magic("qrt", "run --plot energy --name myjob", body)
    elapsed = time.perf_counter() - start
    job = ip.user_ns["myjob"]
    assert not job.in_final_state() or elapsed < 0.3  # returned before the 0.3 s body ended
    assert job.result(timeout=30) == 42
    plot = ip.user_ns["myjob_plot"]
    assert plot.series["cell"].y == pytest.approx([1.0 / (i + 1) for i in range(6)])


def test_cell_run_errors_are_one_line(ip):
    with pytest.raises(UsageError, match="syntax error"):
        ip.run_cell_magic("qrt", "run", "for i in range(:\n")
    with pytest.raises(UsageError, match="cell magic"):
        ip.run_line_magic("qrt", "run")
    with pytest.raises(UsageError, match="not a Python name"):
        ip.run_cell_magic("qrt", "run --name 1abc", "pass\n")
