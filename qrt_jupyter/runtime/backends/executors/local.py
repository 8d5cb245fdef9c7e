"""The default executor: simulations run in the scheduler's worker threads.

Aer's own ``backend.run`` hands every job to one process-wide thread; calling
Aer's synchronous entry point from our worker threads saves that thread hop per
call. Aer keeps the interpreter lock while it simulates, so the jobs of a Batch
take turns between their simulator calls rather than simulate at the same time;
simulations that overlap on several cores need an executor with worker processes
(or Dask).

Aer turns every circuit into its C++ form in Python on every call (about 1 ms
for a small ansatz, more than the simulation itself). A variational loop runs
the same cached ISA circuit with new parameter values over and over, so the
executor keeps the assembled form per circuit (``_AerAssembly``) and only
converts the binds per call; see ``_run_aer_cached`` for what is replayed.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
import weakref
from typing import Any

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterExpression
from qiskit.providers import BackendV2
from qiskit.result import Result


class LocalExecutor:
    """Runs backend calls in the calling thread; Aer parallelises inside each call."""

    name = "local"

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = max(1, capacity or os.cpu_count() or 1)

    def run_circuits(
        self,
        backend: BackendV2,
        circuits: list[QuantumCircuit],
        parameter_binds: list[dict] | None,
        run_options: dict[str, Any],
    ) -> Result:
        direct = getattr(backend, "_execute_circuits_job", None)
        result = None
        if direct is not None and _AER_CACHE_ENABLED:
            result = _run_aer_cached(backend, circuits, parameter_binds, run_options)
        if result is None and direct is not None:
            result = direct(circuits, parameter_binds, dict(run_options))
        elif result is None:
            result = backend.run(bind_all(circuits, parameter_binds), **run_options).result()
        if not result.success:
            statuses = {getattr(r, "status", "") for r in result.results}
            raise RuntimeError(f"The simulator failed: {'; '.join(map(str, statuses))}")
        return result

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "capacity": self.capacity}


def bind_all(circuits: list[QuantumCircuit], parameter_binds: list[dict] | None):
    """Bound copies in Aer's result order (circuit-major), for backends without binds."""
    if not parameter_binds:
        return circuits
    bound: list[QuantumCircuit] = []
    for circuit, binds in zip(circuits, parameter_binds):
        if not binds:
            bound.append(circuit)
            continue
        rows = len(next(iter(binds.values())))
        for k in range(rows):
            bound.append(circuit.assign_parameters({p: v[k] for p, v in binds.items()}))
    return bound


# -- cached Aer assembly --------------------------------------------------------------------
#
# What ``AerBackend._execute_circuits_job`` does per call, and how it is replayed here:
#   _compile (control flow, Initialize, noise-model passes)  -> only cached when it returns
#       the circuit itself and no noise model is involved (otherwise: Aer's own path);
#   assemble_circuits                                          -> once per circuit object;
#   _convert_binds                                            -> from the cached list of
#       parameterised positions;
#   generate_aer_config, _execute_circuits, result formatting -> every call, as Aer does.
# Aer's C++ copies a *parameterised* circuit before binding each row and only normalises the
# template in place without truncation (a fixed point), so a template can be reused. For a
# circuit without parameters Aer would truncate and reseed the template itself; here it gets
# a binding of its own global phase instead, which takes the copying path. Without
# ``seed_simulator`` Aer seeds from the template, so a reused template gets a fresh random
# seed per call, as a freshly assembled one would have.

#: Set to False to always go through Aer's own entry point (tests compare both paths).
_AER_CACHE_ENABLED = True
_POOL_SIZE = 4
_MAX_ENTRIES = 512


class _AerAssembly:
    """One circuit's assembled Aer form: idle templates and the parameterised positions."""

    __slots__ = ("ref", "size", "basis", "templates", "slots", "phase_slot", "global_phase",
                 "__weakref__")

    def __init__(self, circuit: QuantumCircuit, basis: tuple | None) -> None:
        self.ref = weakref.ref(circuit)
        self.size = len(circuit.data)
        self.basis = basis
        self.templates: list[Any] = []
        aer_circuit, idx_map = self.assemble(circuit)
        self.global_phase = aer_circuit.global_phase_angle
        self.templates.append(aer_circuit)
        # (aer op index, param position, Parameter) for every parameter Aer would bind
        slots: list[tuple[int, int, Any]] = []
        cacheable = True
        for index, instruction in enumerate(circuit.data):
            operation = instruction.operation
            if not operation.is_parameterized():
                continue
            for pos, param in enumerate(operation.params):
                if isinstance(param, ParameterExpression) and param.parameters:
                    slots.append((idx_map[index] if idx_map else index, pos, param))
                    if not isinstance(param, Parameter):
                        cacheable = False
        phase = circuit.global_phase
        self.phase_slot = isinstance(phase, ParameterExpression) and bool(phase.parameters)
        if self.phase_slot:
            cacheable = False
        self.slots = slots if cacheable else None

    def assemble(self, circuit: QuantumCircuit) -> tuple[Any, list]:
        from qiskit_aer.backends.aer_compiler import assemble_circuits

        basis = list(self.basis) if self.basis is not None else None
        aer_circuits, idx_maps = assemble_circuits([circuit], basis)
        return aer_circuits[0], idx_maps[0]

    def matches(self, circuit: QuantumCircuit, basis: tuple | None) -> bool:
        return self.ref() is circuit and self.size == len(circuit.data) and self.basis == basis

    def take(self, circuit: QuantumCircuit) -> Any:
        try:
            return self.templates.pop()
        except IndexError:
            return self.assemble(circuit)[0]

    def give_back(self, template: Any) -> None:
        if len(self.templates) < _POOL_SIZE:
            self.templates.append(template)


_assemblies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_assemblies_lock = threading.Lock()


def _assembly_for(backend: Any, circuit: QuantumCircuit, basis: tuple | None
                  ) -> _AerAssembly | None:
    """The cached assembly of ``circuit`` for ``backend``, built on first use."""
    table = _assemblies.get(backend)
    if table is None:
        with _assemblies_lock:
            table = _assemblies.setdefault(backend, {})
    key = id(circuit)
    entry = table.get(key)
    if entry is not None and entry.matches(circuit, basis):
        return entry if entry.slots is not None else None
    entry = _AerAssembly(circuit, basis)
    with _assemblies_lock:
        if len(table) >= _MAX_ENTRIES:
            table.pop(next(iter(table)))
        table[key] = entry
    try:
        weakref.finalize(circuit, _forget, table, key, weakref.ref(entry))
    except TypeError:
        pass
    return entry if entry.slots is not None else None


def _forget(table: dict, key: int, entry_ref: weakref.ref) -> None:
    with _assemblies_lock:
        entry = table.get(key)
        if entry is not None and entry is entry_ref():
            del table[key]


def _cacheable_backend(backend: Any, run_options: dict[str, Any]) -> bool:
    try:
        from qiskit_aer import AerSimulator
    except ImportError:  # pragma: no cover - Aer is a dependency
        return False
    if not isinstance(backend, AerSimulator):
        return False
    options = backend.options
    if run_options.get("noise_model", getattr(options, "noise_model", None)):
        return False
    runtime_bind = run_options.get("runtime_parameter_bind_enable",
                                   getattr(options, "runtime_parameter_bind_enable", None))
    return not runtime_bind and "parameterizations" not in run_options


def _needs_compile(circuit: QuantumCircuit, compiled: dict) -> bool:
    """Whether Aer's ``_compile`` would change ``circuit`` (checked once per circuit)."""
    known = compiled.get(id(circuit))
    if known is not None and known[0]() is circuit and known[1] == len(circuit.data):
        return known[2]
    from qiskit_aer.backends.aer_compiler import compile_circuit
    from qiskit_aer.backends.backend_utils import circuit_optypes
    from qiskit_aer.noise.errors.base_quantum_error import QuantumChannelInstruction

    optypes = [circuit_optypes(circuit)]
    out, _ = compile_circuit([circuit], optypes=optypes)
    needs = out[0] is not circuit or QuantumChannelInstruction in optypes[0]
    try:
        compiled[id(circuit)] = (weakref.ref(circuit), len(circuit.data), needs)
    except TypeError:
        return True
    return needs


_compiled: dict[int, tuple] = {}


def _run_aer_cached(backend: Any, circuits: list[QuantumCircuit],
                    parameter_binds: list[dict] | None, run_options: dict[str, Any]
                    ) -> Result | None:
    """Aer's ``_execute_circuits_job`` with cached assembly; None when not applicable."""
    if not circuits or not _cacheable_backend(backend, run_options):
        return None
    if parameter_binds is not None and len(parameter_binds) != len(circuits):
        return None
    basis = None
    if backend._target is not None:
        basis = tuple(backend.configuration().basis_gates)
    entries = []
    for circuit in circuits:
        if not isinstance(circuit, QuantumCircuit) or _needs_compile(circuit, _compiled):
            return None
        entry = _assembly_for(backend, circuit, basis)
        if entry is None:
            return None
        entries.append(entry)
    # The binds, exactly as Aer's _convert_binds would produce them; anything unusual
    # (missing binds, expressions) goes through Aer itself so that it fails the same way.
    parameterizations = []
    for k, entry in enumerate(entries):
        binds = parameter_binds[k] if parameter_binds else None
        if entry.slots:
            if not binds:
                return None
            table = []
            for index, pos, param in entry.slots:
                values = binds.get(param)
                if values is None:
                    return None
                table.append([(index, pos), values])
        else:
            if binds:
                return None
            table = []
        parameterizations.append(table)
    return _execute_cached(backend, circuits, entries, parameterizations, run_options)


def _execute_cached(backend: Any, circuits: list[QuantumCircuit], entries: list[_AerAssembly],
                    parameterizations: list[list], run_options: dict[str, Any]) -> Result:
    from qiskit_aer.backends.aer_compiler import generate_aer_config
    from qiskit_aer.backends.controller_wrappers import AerConfig

    start = time.time()
    seeded = run_options.get("seed_simulator") is not None
    templates = [entry.take(circuit) for entry, circuit in zip(entries, circuits)]
    try:
        for circ_id, (template, entry) in enumerate(zip(templates, entries)):
            template.circ_id = circ_id
            template.global_phase_angle = entry.global_phase
            if not seeded:
                template.seed = int.from_bytes(os.urandom(4), "little")
        tables = []
        for table, entry in zip(parameterizations, entries):
            if not table:
                # Bind the circuit's own global phase: Aer then runs a copy of the template
                # (see the note above) instead of truncating the template in place.
                table = [[(AerConfig.GLOBAL_PHASE_POS, -1), [entry.global_phase]]]
            tables.append(table)
        options = dict(run_options)
        options["parameterizations"] = tables
        config = generate_aer_config(circuits, backend.options, **options)
        metadata_map = {k: circuit.metadata for k, circuit in enumerate(circuits)}
        output = backend._execute_circuits(templates, None, config)
    finally:
        for template, entry in zip(templates, entries):
            entry.give_back(template)
    if not isinstance(output, dict):
        from qiskit_aer.aererror import AerError

        raise AerError("simulation terminated without returning valid output.")
    output["job_id"] = ""
    output["date"] = datetime.datetime.now().isoformat()
    output["backend_name"] = backend.name
    output["backend_version"] = backend.configuration().backend_version
    for result in output["results"]:
        if "header" not in result:
            continue
        result["header"]["metadata"] = metadata_map[result.pop("circ_id")]
    output["time_taken"] = time.time() - start
    return backend._format_results(output)


_default: LocalExecutor | None = None
_default_lock = threading.Lock()


def default_executor() -> LocalExecutor:
    """The process-wide local executor, shared so that capacity means the machine's."""
    global _default
    with _default_lock:
        if _default is None:
            _default = LocalExecutor()
        return _default
