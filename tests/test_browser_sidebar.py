"""End to end in a real browser: the Quantum Runtime sidebar shows a kernel's jobs live.

JupyterLab runs on localhost with the server extension and the prebuilt lab
extension; a notebook's kernel runs two jobs. In headless Chromium the test
opens the sidebar, sees the first job appear and finish, cancels the second
through the sidebar's button and confirmation dialog, and keeps screenshots.
"""

from __future__ import annotations

import json
import time

import nbformat
from labserver import (
    ARTIFACTS,
    chromium_page,
    jupyter_lab,
    run_command,
    wait_for_kernel,
    wait_for_lab,
)

from qrt_jupyter import LocalRuntimeService

CELLS = [
    """from qrt_jupyter import LocalRuntimeService, Session
import time
service = LocalRuntimeService()
session = Session(backend="aer_simulator", service=service)""",
    """def descend(ctx, steps):
    for i in range(steps):
        ctx.publish({"iteration": i, "energy": -1 + 1 / (i + 1)})
        time.sleep(0.1)
    return steps

def forever(ctx):
    i = 0
    while True:
        ctx.publish({"iteration": i, "energy": (-1) ** i / (i + 1)})
        i += 1
        time.sleep(0.05)

quick = service.run(descend, inputs={"steps": 40}, mode=session)
slow = service.run(forever)
print("JOBS", quick.job_id(), slow.job_id())""",
]


def _job(page, job_id: str):
    return page.locator(f'.qrt-JobItem[data-job-id="{job_id}"]')


def test_sidebar_follows_and_cancels_kernel_jobs(tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, root / "jobs.ipynb")
    qrt_home = tmp_path / "qrt"
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_lab(root, qrt_home) as lab, chromium_page() as page:
        page.goto(lab.page_url("lab/tree/jobs.ipynb"))
        wait_for_lab(page)
        wait_for_kernel(page)
        run_command(page, "qrt:show-sidebar")
        page.wait_for_selector(".qrt-Sidebar", timeout=30_000)
        run_command(page, "notebook:run-all-cells")
        page.wait_for_selector("text=/JOBS [0-9a-f]{20} [0-9a-f]{20}/", timeout=120_000)
        words = page.inner_text("text=/JOBS [0-9a-f]{20} [0-9a-f]{20}/").split()
        quick_id, slow_id = words[words.index("JOBS") + 1: words.index("JOBS") + 3]

        # the quick job appears while it runs, then finishes, without any reload
        _job(page, quick_id).wait_for(timeout=30_000)
        page.wait_for_selector(f'.qrt-JobItem[data-job-id="{quick_id}"][data-status="RUNNING"]',
                               timeout=30_000)
        page.wait_for_selector('.qrt-Sidebar [data-session-id]', timeout=30_000)
        _job(page, quick_id).click()  # detail view with the sparkline of its energies
        page.wait_for_selector(f'.qrt-Detail[data-job-id="{quick_id}"] svg', timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "sidebar-running.png"))
        page.wait_for_selector(f'.qrt-JobItem[data-job-id="{quick_id}"][data-status="DONE"]',
                               timeout=60_000)

        # cancel the other job from the sidebar, through the confirmation dialog
        slow_item = _job(page, slow_id)
        slow_item.get_by_role("button", name="Cancel").click()
        page.get_by_role("button", name="Cancel job").click()
        page.wait_for_selector(
            f'.qrt-JobItem[data-job-id="{slow_id}"][data-status="CANCELLED"]', timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "sidebar-cancelled.png"))

    # the store, read from this process, agrees with what the sidebar showed
    service = LocalRuntimeService(qrt_home / "store.sqlite")
    assert service.job(quick_id).status() == "DONE"
    assert service.job(quick_id).result() == 40
    slow = service.job(slow_id)
    assert slow.status() == "CANCELLED"
    assert len(slow.interim_results()) > 3
    assert json.dumps(service.job(quick_id).metrics())  # readable across processes


def test_cancel_reaches_the_kernel_within_a_second(tmp_path):
    """The REST cancel is written to the store and honoured by the owning process.

    The owner polls the store every 0.2 s, so a cancel lands well within a second; on a
    shared machine one attempt can be starved of CPU, so the best of three must make it
    (a watcher that took a second or more would fail all three).
    """
    import threading
    import urllib.request

    qrt_home = tmp_path / "qrt"
    root = tmp_path / "lab"
    root.mkdir()
    service = LocalRuntimeService(qrt_home / "store.sqlite")

    def forever(ctx):
        ctx.publish({"started": time.time()})
        while True:
            ctx.check()
            time.sleep(0.02)

    delays = []
    with jupyter_lab(root, qrt_home) as lab:
        for _ in range(3):
            job = service.run(forever)
            started = threading.Event()
            job.stream_results(lambda _id, _r, started=started: started.set())
            assert started.wait(30)
            request = urllib.request.Request(
                f"{lab.url}/qrt/api/jobs/{job.job_id()}/cancel", method="POST", data=b"{}",
                headers={"Authorization": f"token {lab.token}"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert json.load(response)["ok"] is True
            answered = time.monotonic()
            job.wait_for_final_state(timeout=5)
            delays.append(time.monotonic() - answered)
            assert job.status() == "CANCELLED"
            if delays[-1] < 1.0:
                break
    assert min(delays) < 1.0, delays
