"""End to end in a real browser: JupyterLab runs the live-VQE notebook in headless Chromium.

It checks what a person would see: the live plot's trace grows while the job
runs, and the job monitor's cancel button cancels the running job (checked
in the page and, from this process, in the store).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from labserver import (
    ARTIFACTS,
    chromium_page,
    jupyter_lab,
    run_command,
    wait_for_kernel,
    wait_for_lab,
)

from qrt_jupyter import LocalRuntimeService

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_live_vqe_with_magics.ipynb"

# per plot: the last iteration drawn (the drawn history is downsampled, so its length
# stops growing at the plot's max_points while the last x keeps growing)
_PLOT_POINTS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(
    el => (el.data || []).filter(t => t.mode === 'lines' && t.x && t.x.length)
                         .reduce((n, t) => Math.max(n, t.x[t.x.length - 1] + 1), 0))
"""


def test_live_plot_grows_and_monitor_cancels(tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    qrt_home = tmp_path / "qrt"
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_lab(root, qrt_home, env={"QRT_DEMO_ITERATIONS": "4000"}) as lab, \
            chromium_page() as page:
        page.goto(lab.page_url(f"lab/tree/{NOTEBOOK.name}"))
        wait_for_lab(page)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_for_kernel(page)
        # run everything above the last cell (which waits for the long job to end)
        page.evaluate(
            "() => { const nb = window.jupyterapp.shell.currentWidget.content;"
            " nb.activeCellIndex = nb.widgets.length - 1; }")
        run_command(page, "notebook:run-all-above")

        # the long job's id is printed by its cell; its live plot is the fourth plot
        page.wait_for_selector("text=/long job: [0-9a-f]{20}/", timeout=180_000)
        text = page.inner_text("text=/long job: [0-9a-f]{20}/")
        job_id = text.split("long job:")[1].split()[0]
        page.wait_for_function(f"() => ({_PLOT_POINTS})().length >= 3 && "
                               f"({_PLOT_POINTS})()[2] > 0", timeout=120_000)
        first = page.evaluate(_PLOT_POINTS)[-1]
        time.sleep(2.0)
        second = page.evaluate(_PLOT_POINTS)[-1]
        assert second > first > 0, (first, second)
        # the two-optimiser plot shows both runs
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.js-plotly-plot'))[0].data"
            ".filter(t => t.mode === 'lines').length === 2", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "notebook-live-plot.png"), full_page=False)

        service = LocalRuntimeService(qrt_home / "store.sqlite")
        assert service.job(job_id).status() == "RUNNING"
        button = page.locator(f'button[title="cancel {job_id}"]')
        button.wait_for(timeout=60_000)
        button.scroll_into_view_if_needed()
        button.click()
        deadline = time.monotonic() + 30
        while service.job(job_id).status() != "CANCELLED":
            assert time.monotonic() < deadline, service.job(job_id).status()
            time.sleep(0.2)
        page.evaluate(
            "() => { const nb = window.jupyterapp.shell.currentWidget.content;"
            " nb.activeCellIndex = nb.widgets.length - 1; }")
        run_command(page, "notebook:run-cell")
        try:
            page.wait_for_selector("text=long job ended: CANCELLED", timeout=60_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "notebook-cancelled.png"), full_page=False)
