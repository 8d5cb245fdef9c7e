"""The built-in ``sweep`` program: one circuit (or program) over a grid of configurations.

Axes are parameter values, shots, precision, backend, any primitive option
(dotted names such as ``resilience_level`` or ``twirling.enable_gates``) or, when
sweeping a program, its inputs. Each point is published as soon as it is done,
so a plot or table fills while the sweep runs.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core.errors import InvalidInputError
from ..execution import codec
from ..primitives.options import EstimatorOptions, SamplerOptions
from .registry import program

_RUN_AXES = ("parameter_values", "shots", "precision", "backend")


def grid_points(grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The cartesian product of the axes, in the order the axes were given."""
    if not isinstance(grid, Mapping) or not grid:
        raise InvalidInputError("sweep: 'grid' must be a non-empty dict of axis -> values.")
    axes = list(grid)
    values = []
    for axis in axes:
        items = grid[axis]
        if isinstance(items, np.ndarray) and axis == "parameter_values":
            items = list(items)
        if not isinstance(items, (list, tuple)) or not items:
            raise InvalidInputError(f"sweep: axis '{axis}' needs a non-empty list of values.")
        values.append(list(items))
    return [dict(zip(axes, combo)) for combo in itertools.product(*values)]


class _QuietContext:
    """A program's context for an inner program: its interim results stay out of the sweep's."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def publish(self, obj: Any) -> int:
        self._ctx.check()
        return -1

    def checkpoint(self, state: Any) -> None:
        return None

    @property
    def last_checkpoint(self) -> Any:
        return None


def _checked(grid: Any, circuit: Any, observables: Any, program: str | None) -> Any:
    """The grid's points and the inner program (or None); InvalidInputError otherwise."""
    points = grid_points(grid)
    if (circuit is None) == (program is None):
        raise InvalidInputError("sweep: give either 'circuit' or 'program'.")
    if program is not None:
        # the built-ins are loaded together (programs.load_builtins), sweep with them
        from .registry import registered

        known = registered()
        if program not in known:
            raise InvalidInputError(f"sweep: no program named '{program}'.")
        inner = known[program]
        for axis in grid:
            if axis not in inner.inputs:
                raise InvalidInputError(f"sweep: '{axis}' is not an input of '{program}'.")
        return points, inner
    option_class = EstimatorOptions if observables is not None else SamplerOptions
    names = set(option_class().flat()) | set(option_class().to_dict())
    for axis in grid:
        if axis not in _RUN_AXES and axis not in names:
            # raises with the nearest valid name
            option_class().update(**{axis: grid[axis][0]})
    return points, None


def _check_inputs(inputs: dict[str, Any], backend: Any = None) -> None:
    """At submission: a bad grid, axis or target raises before anything is stored."""
    _checked(inputs["grid"], inputs["circuit"], inputs["observables"], inputs["program"])


@program(name="sweep", check=_check_inputs)
def sweep(ctx: Any, grid: dict, circuit: Any = None, observables: Any = None,
          parameter_values: Any = None, shots: int | None = None,
          precision: float | None = None, program: str | None = None,
          inputs: dict | None = None) -> Any:
    """Run a circuit (Estimator with observables, Sampler without) or a program per grid point."""
    points, inner = _checked(grid, circuit, observables, program)
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for index, point in enumerate(points):
        ctx.check()
        record: dict[str, Any] = {"index": index, "of": len(points),
                                  **{k: _plain(v) for k, v in point.items()}}
        if program is not None:
            merged = {**(inputs or {}), **point}
            result = inner.fn(_QuietContext(ctx), **inner.bind(merged))
            record["result"] = result
        else:
            record.update(_run_point(ctx, point, circuit, observables, parameter_values,
                                     shots, precision))
        record["elapsed"] = time.perf_counter() - started
        ctx.publish(record)
        records.append(record)
    try:
        import pandas as pd

        return pd.DataFrame.from_records(records)
    except ImportError:
        return records


def _plain(value: Any) -> Any:
    value = codec.to_json(value)
    return value


def _run_point(ctx: Any, point: dict, circuit: Any, observables: Any, parameter_values: Any,
               shots: int | None, precision: float | None) -> dict[str, Any]:
    options = {k: v for k, v in point.items() if k not in _RUN_AXES}
    backend = point.get("backend")
    values = point.get("parameter_values", parameter_values)
    shots = point.get("shots", shots)
    precision = point.get("precision", precision)
    if observables is not None:
        if shots is not None:
            options["default_shots"] = int(shots)
        est = ctx.estimator(options=options or None, backend=backend)
        pub = (circuit, observables) if values is None else (circuit, observables, values)
        res = est.run([pub], precision=precision).result()[0]
        evs, stds = np.asarray(res.data.evs), np.asarray(res.data.stds)
        return {"ev": float(evs) if evs.ndim == 0 else evs,
                "std": float(stds) if stds.ndim == 0 else stds,
                "shots": res.metadata.get("shots")}
    sam = ctx.sampler(options=options or None, backend=backend)
    pub = circuit if values is None else (circuit, values)
    res = sam.run([pub], shots=shots).result()[0]
    counts = {name: bits.get_counts() for name, bits in res.data.items()
              if hasattr(bits, "get_counts") and not bits.shape}
    return {"counts": counts if len(counts) != 1 else next(iter(counts.values())),
            "shots": res.metadata.get("shots")}
