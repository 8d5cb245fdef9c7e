"""SamplerV2 of the local runtime: qiskit's BaseSamplerV2 semantics on a warm Aer executor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from qiskit.primitives import BaseSamplerV2, BitArray, DataBin, PrimitiveResult, SamplerPubResult
from qiskit.primitives.backend_sampler_v2 import (
    _analyze_circuit,
    _memory_array,
    _samples_to_packed_array,
)
from qiskit.primitives.containers.sampler_pub import SamplerPubLike

from ..backends import is_noisy
from ..backends.executors.memory import HexMemory, hex_to_uint64
from ..execution.context import ExecutionContext
from ..execution.job import RuntimeJob
from .base import PrimitiveBase, options_report, run_options
from .binding import ROWS_PER_CALL, binds_for, chunks, value_rows
from .final_state import (
    FinalStatePlan,
    backend_allows,
    draw_memory,
    plan_for,
    probabilities,
    rng_for,
    rows_per_call,
)
from .options import SamplerOptions, Unset
from .validation import coerce_sampler_pubs

DEFAULT_SHOTS = 4096
SAMPLER_APPLIED = {
    "default_shots", "simulator.seed_simulator", "simulator.noise_model", "environment.*",
    "max_execution_time", "experimental",
}


class SamplerV2(PrimitiveBase[SamplerOptions], BaseSamplerV2):
    """Samples circuits; results hold a BitArray per classical register."""

    _options_class = SamplerOptions

    def __init__(self, mode: Any = None,
                 options: SamplerOptions | Mapping[str, Any] | None = None) -> None:
        self._init_mode(mode)
        self._options = self._initial_options(SamplerOptions, options)

    def run(self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None) -> RuntimeJob:
        target = self._target()
        options = self._options.copy()
        default = options.default_shots if options.default_shots is not Unset else DEFAULT_SHOTS
        coerced = coerce_sampler_pubs(pubs, shots, default, target.backend)
        chosen, not_applied = options_report(options, SAMPLER_APPLIED)
        seed = options.simulator.seed_simulator
        runopts = run_options(options, target.backend, seed)
        shared_cache = target.cache
        backend_noisy = is_noisy(target.backend)
        final_state_ok = backend_allows(target.backend, runopts)

        def work(ctx: ExecutionContext) -> PrimitiveResult:
            cache = ctx.cache(shared_cache)
            rng = rng_for(runopts) if final_state_ok else None
            results = []
            shots_from = []
            for i, pub in enumerate(coerced):
                ctx.check()
                result, source = _sample_pub(ctx, cache, pub, runopts, rng)
                results.append(result)
                shots_from.append(source)
                ctx.publish({"kind": "progress", "pub": i, "done": i + 1, "of": len(coerced)})
            cache_stats = cache.stats()
            ctx.metrics.update({
                "transpile_cache": cache_stats, "options_applied": chosen,
                "options_not_applied": not_applied, "num_pubs": len(coerced),
                "shots_from": shots_from,
            })
            return PrimitiveResult(results, metadata={
                "version": 2, "options_applied": chosen, "options_not_applied": not_applied,
                "transpile_cache": cache_stats, "noisy_backend": backend_noisy,
            })

        inputs = {
            "pubs": [
                {"num_qubits": p.circuit.num_qubits, "shape": list(p.shape), "shots": p.shots,
                 "name": p.circuit.name}
                for p in coerced
            ]
        }
        return self._submit(target, work, kind="sampler", inputs=inputs, chosen=chosen,
                            options=options)


def _sample_pub(ctx: ExecutionContext, cache: Any, pub: Any, runopts: dict,
                rng: np.random.Generator | None) -> tuple[SamplerPubResult, str]:
    """The PUB's result, and where its shots came from ("final_state" or "simulator")."""
    entry, _hit = cache.lookup(pub.circuit)
    circuit = entry.circuit
    shape = pub.parameter_values.shape
    rows = value_rows(pub) if pub.circuit.num_parameters else np.zeros((1, 0))
    meas_info, max_num_bytes = _analyze_circuit(circuit)
    arrays = {
        item.creg_name: np.zeros((rows.shape[0], pub.shots, item.num_bytes), dtype=np.uint8)
        for item in meas_info
    }
    fast = all(item.num_bits > 0 and item.start + item.num_bits <= 64 for item in meas_info)
    plan = final_state_plan(entry) if fast and rng is not None else None
    if plan is not None:
        _sample_final_state(ctx, plan, pub, rows, runopts, rng, meas_info, arrays)
    else:
        _sample_simulator(ctx, circuit, pub, rows, runopts, meas_info, max_num_bytes, arrays,
                          fast)
    total = int(np.prod(shape)) if shape else 1
    meas = {}
    for item in meas_info:
        data = arrays[item.creg_name]
        if data.shape[0] == 1 and total != 1:
            data = np.repeat(data, total, axis=0)
        meas[item.creg_name] = BitArray(data.reshape(shape + data.shape[1:]), item.num_bits)
    result = SamplerPubResult(
        DataBin(**meas, shape=shape),
        metadata={"shots": pub.shots, "circuit_metadata": pub.circuit.metadata},
    )
    return result, "final_state" if plan is not None else "simulator"


def final_state_plan(entry: Any) -> FinalStatePlan | None:
    """The entry's final-state plan, worked out once per ISA circuit."""
    plan = entry.derived.get("final_state", False)
    if plan is False:
        plan = entry.derived["final_state"] = plan_for(entry.circuit)
    return plan


def _sample_final_state(ctx: ExecutionContext, plan: FinalStatePlan, pub: Any, rows: np.ndarray,
                        runopts: dict, rng: np.random.Generator, meas_info: list,
                        arrays: dict[str, np.ndarray]) -> None:
    """One probe run per chunk of rows; the shots are drawn here."""
    options = dict(runopts, shots=1)
    for part in chunks(rows.shape[0], rows_per_call([plan], ROWS_PER_CALL)):
        binds = binds_for(plan.probe, pub.circuit, rows[part])
        result = ctx.run_circuits([plan.probe], [binds] if binds else None, options)
        for r in range(part.stop - part.start):
            memory = draw_memory(plan, probabilities(result, r), pub.shots, rng)
            for item, packed in zip(meas_info, _pack_values(memory, meas_info)):
                arrays[item.creg_name][part.start + r] = packed


def _sample_simulator(ctx: ExecutionContext, circuit: Any, pub: Any, rows: np.ndarray,
                      runopts: dict, meas_info: list, max_num_bytes: int,
                      arrays: dict[str, np.ndarray], fast: bool) -> None:
    """The simulator's own shots, one memory word per shot."""
    options = dict(runopts, shots=pub.shots, memory=True)
    for part in chunks(rows.shape[0]):
        binds = binds_for(circuit, pub.circuit, rows[part])
        result = ctx.run_circuits([circuit], [binds] if binds else None, options)
        memory = [
            exp.data.memory if getattr(exp.data, "memory", None) else ["0x0"] * exp.shots
            for exp in result.results
        ]
        if fast:
            for r, shots in enumerate(memory):
                for item, packed in zip(meas_info, _packed_registers(shots, meas_info)):
                    arrays[item.creg_name][part.start + r] = packed
            continue
        for r, samples in enumerate(_memory_array(memory, max_num_bytes)):
            for item in meas_info:
                arrays[item.creg_name][part.start + r] = _samples_to_packed_array(
                    samples, item.num_bits, item.start
                )


def _packed_registers(memory: list[str], meas_info: list) -> list[np.ndarray]:
    """Each register's bits of Aer's hex memory, packed big-endian: (shots, num_bytes) uint8.

    What qiskit's ``_memory_array`` + ``_samples_to_packed_array`` produce, computed on
    one uint64 per shot (registers ending at or below clbit 64) instead of bit by bit.
    """
    if isinstance(memory, HexMemory):  # converted by a worker process already
        values = memory.values
    else:
        values = hex_to_uint64(memory)
    return _pack_values(values, meas_info)


def _pack_values(values: np.ndarray, meas_info: list) -> list[np.ndarray]:
    """Each register's bits of one uint64 per shot, packed big-endian."""
    out = []
    for item in meas_info:
        bits = values >> np.uint64(item.start) if item.start else values
        if item.num_bits < 64:
            bits = bits & np.uint64((1 << item.num_bits) - 1)
        # big-endian bytes of each value; keep the register's last num_bytes
        out.append(bits.astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - item.num_bytes:])
    return out
