"""Helpers shared by the benchmark scripts (imported as ``from common import ...``).

The scripts run as ``python benchmarks/bench_x.py``, which puts this folder on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
from pathlib import Path

import numpy as np
import qiskit
import qiskit_aer


def median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    out = ["  ".join(h.rjust(w) for h, w in zip(headers, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def loadavg() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def revision() -> str | None:
    """The commit measured, with "+dirty" when the runtime had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qrt_jupyter"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine() -> dict:
    """The machine and versions common to every benchmark; scripts add their own keys."""
    return {
        "nproc": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
        "qiskit": qiskit.__version__, "qiskit_aer": qiskit_aer.__version__,
        "numpy": np.__version__, "loadavg_start": loadavg(), "revision": revision(),
    }


def save(report: dict, path: Path) -> None:
    """Write what has been measured so far (also after an interruption)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float) + "\n")


def print_targets(report: dict, summary: list[tuple[str, bool | None, str]]) -> None:
    """Record ``summary`` (target, pass, value) in the report and print it with the timing."""
    report["summary"] = [{"target": s, "pass": p, "value": v} for s, p, v in summary]
    print("\nTargets")
    for s, p, v in summary:
        print(f"  {verdict(p):4}  {s}: {v}")
    print_elapsed(report)


def print_elapsed(report: dict) -> None:
    print(f"\nelapsed {report['elapsed_s']:.0f} s; load average at end "
          f"{report['machine']['loadavg_end']}")


def finish(report: dict, path: Path, tmp_home: str) -> int:
    """Write the results, say where they are, and remove the run's throw-away store."""
    save(report, path)
    print(f"results written to {path}")
    shutil.rmtree(tmp_home, ignore_errors=True)
    return 0
