"""``service.run``: a program run as a job, with its inputs checked before anything is stored.

The program's function runs in the job's worker thread with a ``ProgramContext``;
primitives it makes run inside its job (see ``programs.context``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..core import current
from ..core.errors import InvalidInputError, did_you_mean
from ..execution import codec
from ..execution.context import ExecutionContext
from ..execution.engine import Engine, Target, resolve_target
from ..execution.job import RuntimeJob
from . import load_builtins
from .context import ProgramContext, split_options
from .registry import Program, make_program, registered

__all__ = ["find_program", "known_programs", "make_program", "run_program"]


def known_programs(extra: Mapping[str, Program]) -> list[Program]:
    """Built-in, decorated and ``extra`` (a service's registered) programs."""
    load_builtins()
    return list({**registered(), **extra}.values())


def find_program(program: str | Callable, extra: Mapping[str, Program]) -> Program:
    """The program for a name or function; an unknown name raises with a suggestion."""
    if callable(program):
        # a function registered with a service runs under the name it was given
        for prog in extra.values():
            if prog.fn is program:
                return prog
        name = getattr(program, "__qrt_program__", None)
        if name is not None and name in registered():
            return registered()[name]
        return make_program(program)
    if not isinstance(program, str):
        raise InvalidInputError(
            f"program must be a registered name or a function, not {type(program).__name__}."
        )
    load_builtins()
    known = {**registered(), **extra}
    if program not in known:
        raise InvalidInputError(
            f"No program named '{program}'.{did_you_mean(program, known)} "
            f"Registered: {', '.join(sorted(known))}."
        )
    return known[program]


def run_program(engine: Engine, prog: Program, inputs: dict, *, mode: Any,
                options: dict | None, callback: Callable | None, resume_from: str | None,
                tags: Sequence[str], max_execution_time: float | None,
                log_level: str) -> RuntimeJob:
    """Check the inputs against the program, then submit it to ``engine``."""
    est_opts, sam_opts = split_options(options)
    if mode is None:
        mode = current.current_mode() or engine.backend("aer_simulator")
    target = resolve_target(mode)
    if target.engine is not engine:
        target = Target(engine, engine.add_backend(target.backend), target.mode, target.cache)
    bound = prog.bind(inputs, backend=target.backend)
    if max_execution_time is not None and max_execution_time <= 0:
        raise InvalidInputError("max_execution_time must be a positive number of seconds.")

    def work(job_ctx: ExecutionContext) -> Any:
        ctx = ProgramContext(job_ctx, target, estimator_options=est_opts,
                             sampler_options=sam_opts, resume_from=resume_from)
        return prog.fn(ctx, **bound)

    summary = {k: _summarise(v) for k, v in bound.items()}
    if resume_from:
        summary["resume_from"] = resume_from
    return engine.submit(
        work, kind="program", program=prog.name, backend=target.backend, mode=target.mode,
        inputs=summary, options=codec.to_json(options or {}), tags=tags, log_level=log_level,
        max_execution_time=max_execution_time, callback=callback,
    )


def _summarise(value: Any) -> Any:
    """A short JSON description of a program input for the store and the sidebar."""
    if isinstance(value, QuantumCircuit):
        return {"circuit": value.name, "num_qubits": value.num_qubits,
                "num_parameters": value.num_parameters}
    if isinstance(value, SparsePauliOp):
        return {"operator": f"{len(value)} Pauli terms", "num_qubits": value.num_qubits}
    text = codec.to_json(value)
    return text if len(repr(text)) < 2000 else repr(value)[:200]
