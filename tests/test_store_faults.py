"""Store faults with real faults: a full disk (a small tmpfs) under QRT_HOME."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import measured_bell

from qrt_jupyter import LocalRuntimeService, SamplerV2
from qrt_jupyter.errors import StoreError


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MB tmpfs mounted for the test (needs root, as the CI machines have)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"mounting a tmpfs needs root: {done.stderr}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


def test_full_disk_says_so_and_the_store_recovers(small_disk):
    service = LocalRuntimeService(small_disk / "store.sqlite")
    sampler = SamplerV2(mode=service.backend("aer_simulator"))
    done = sampler.run([measured_bell()], shots=10)
    done.result(timeout=60)
    filler = _fill(small_disk)
    with pytest.raises(StoreError, match="disk holding QRT_HOME is full") as info:
        for _ in range(200):  # the WAL may hold a few pages before the disk refuses
            sampler.run([measured_bell()], shots=10).result(timeout=60)
    assert "no transaction is active" not in str(info.value)
    assert str(small_disk) in str(info.value)
    # reading still works, and so does opening a new service on the full disk
    again = LocalRuntimeService(small_disk / "store.sqlite")
    assert again.job(done.job_id()).status() == "DONE"
    os.remove(filler)
    job = sampler.run([measured_bell()], shots=10)
    assert job.result(timeout=60)[0].data.meas.num_shots == 10
    assert again.job(job.job_id()).status() == "DONE"
