"""Options of the primitives, named and nested as in qiskit-ibm-runtime.

Options are dataclasses that refuse unknown names (suggesting the nearest valid
one) and check value types on assignment, so a typo fails at the line that made
it instead of being silently ignored when the job runs. ``Unset`` marks "use the
runtime's default", which lets a job report exactly what the user chose.
"""

from __future__ import annotations

import dataclasses
import html
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from ..core.errors import InvalidOptionError, OptionTypeError, did_you_mean


class _UnsetType:
    """Sentinel for "not set by the user": the runtime picks the default."""

    _instance: _UnsetType | None = None

    def __new__(cls) -> _UnsetType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Unset"

    def __bool__(self) -> bool:
        return False

    def __copy__(self) -> _UnsetType:
        return self

    def __deepcopy__(self, memo: dict) -> _UnsetType:
        return self

    def __reduce__(self) -> str:
        return "Unset"


Unset: Any = _UnsetType()
UnsetType = _UnsetType


def _check_type(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if hint is _UnsetType:
        return value is Unset
    if hint is type(None):
        return value is None
    if origin is Union or origin is types.UnionType:  # typing.Union[...] or PEP 604 a | b
        return any(_check_type(value, arg) for arg in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple))
    if origin is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:  # typing.Union[...] or PEP 604 a | b
        return " or ".join(_describe(a) for a in typing.get_args(hint) if a is not _UnsetType)
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


class OptionsNode:
    """Shared behaviour of every options dataclass: checked assignment, update, repr."""

    _checks: typing.ClassVar[dict[str, Any]] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        hints = _hints(type(self))
        if name not in hints:
            raise InvalidOptionError(
                f"'{name}' is not an option of {type(self).__name__}."
                f"{did_you_mean(name, hints)} Valid names: {', '.join(sorted(hints))}."
            )
        hint = hints[name]
        if isinstance(hint, type) and issubclass(hint, OptionsNode):
            if isinstance(value, Mapping):
                node = hint()
                node.update(**value)
                value = node
            elif not isinstance(value, hint):
                raise OptionTypeError(
                    f"Option '{name}' takes a {hint.__name__} or a dict, "
                    f"not {type(value).__name__}."
                )
        elif not _check_type(value, hint):
            raise OptionTypeError(
                f"Option '{name}' of {type(self).__name__} must be {_describe(hint)}, "
                f"not {value!r}."
            )
        check = type(self)._checks.get(name)
        if check is not None and value is not Unset and value is not None:
            problem = check(value)
            if problem:
                raise InvalidOptionError(f"Option '{name}' {problem}, got {value!r}.")
        object.__setattr__(self, name, value)

    def update(self, **kwargs: Any) -> None:
        """Set several options at once; nested options take dicts or dotted names."""
        for key, value in kwargs.items():
            if "." in key:
                head, rest = key.split(".", 1)
                hints = _hints(type(self))
                if head not in hints:
                    setattr(self, head, value)  # raises with a suggestion
                getattr(self, head).update(**{rest: value})
                continue
            current = getattr(self, key, None) if key in _hints(type(self)) else None
            if isinstance(current, OptionsNode) and isinstance(value, Mapping):
                current.update(**value)
            else:
                setattr(self, key, value)

    def to_dict(self, *, only_set: bool = False) -> dict[str, Any]:
        """Plain dict of the options; ``only_set`` drops what equals its default."""
        out: dict[str, Any] = {}
        defaults = type(self)()
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, OptionsNode):
                sub = value.to_dict(only_set=only_set)
                if sub or not only_set:
                    out[name] = sub
            elif not only_set or value != getattr(defaults, name):
                out[name] = value
        return out

    def flat(self, prefix: str = "") -> dict[str, Any]:
        """Dotted name -> value, used to list what a job applied and what it did not."""
        out: dict[str, Any] = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, OptionsNode):
                out.update(value.flat(prefix + name + "."))
            else:
                out[prefix + name] = value
        return out

    def names(self) -> list[str]:
        """Every dotted option name, for suggestions and completion."""
        return list(self.flat())

    def copy(self) -> OptionsNode:
        # The values were checked when they were set, so copy without checking them again
        # (run() copies the options on every call): nested options and lists are copied.
        clone = object.__new__(type(self))
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, OptionsNode):
                value = value.copy()
            elif isinstance(value, list):
                value = list(value)
            object.__setattr__(clone, name, value)
        return clone

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='text-align:left'><code>{html.escape(k)}</code></td>"
            f"<td style='text-align:left'>{html.escape(repr(v))}</td></tr>"
            for k, v in self.flat().items()
        )
        return f"<table><tr><th>option</th><th>value</th></tr>{rows}</table>"


_HINTS_CACHE: dict[type, dict[str, Any]] = {}
_FIELDS_CACHE: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """``dataclasses.fields`` names, kept per class: every run() copies and lists options."""
    names = _FIELDS_CACHE.get(cls)
    if names is None:
        names = _FIELDS_CACHE[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS_CACHE.get(cls)
    if hints is None:
        names = {f.name for f in dataclasses.fields(cls)}
        hints = {k: v for k, v in typing.get_type_hints(cls).items() if k in names}
        _HINTS_CACHE[cls] = hints
    return hints


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be positive"


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be zero or positive"


def _auto_or_positive(value: Any) -> str | None:
    return None if value == "auto" or (isinstance(value, int) and value > 0) else (
        "must be 'auto' or a positive integer"
    )


@dataclass(repr=True)
class DynamicalDecouplingOptions(OptionsNode):
    """Dynamical decoupling: idle qubits get pulse sequences that refocus noise."""

    enable: bool = False
    """Insert DD sequences into idle periods. Default: False."""
    sequence_type: Literal["XX", "XpXm", "XY4"] = "XX"
    """Which sequence to insert. Default: "XX"."""
    extra_slack_distribution: Literal["middle", "edges"] = "middle"
    """Where spare idle time goes. Default: "middle"."""
    scheduling_method: Literal["alap", "asap"] = "alap"
    """How idle periods are found. Default: "alap"."""
    skip_reset_qubits: bool = False
    """Leave qubits idle before their first gate alone. Default: False."""


@dataclass(repr=True)
class TwirlingOptions(OptionsNode):
    """Pauli twirling of gates and measurements, turning coherent noise stochastic."""

    enable_gates: bool = False
    """Twirl two-qubit gates. Default: False."""
    enable_measure: bool = False
    """Twirl measurements. Default: False (True for the Estimator at resilience level 1)."""
    num_randomizations: int | Literal["auto"] = "auto"
    """Number of twirled circuit instances. Default: "auto"."""
    shots_per_randomization: int | Literal["auto"] = "auto"
    """Shots of each instance. Default: "auto"."""
    strategy: Literal["active", "active-accum", "active-circuit", "all"] = "active-accum"
    """Which qubits are twirled. Default: "active-accum"."""

    _checks = {
        "num_randomizations": _auto_or_positive,
        "shots_per_randomization": _auto_or_positive,
    }


@dataclass(repr=True)
class ExecutionOptions(OptionsNode):
    """How the backend executes circuits."""

    init_qubits: bool = True
    """Reset qubits to 0 before each shot. Default: True."""
    rep_delay: float | _UnsetType = Unset
    """Delay between shots in seconds (hardware only). Default: Unset."""
    meas_type: Literal["classified", "kerneled", "avg_kerneled"] = "classified"
    """Kind of measurement data returned by the Sampler. Default: "classified"."""


@dataclass(repr=True)
class EnvironmentOptions(OptionsNode):
    """Where a job's logs, interim results and tags go."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    """Lowest level of messages kept in the job's logs. Default: "WARNING"."""
    callback: Any = None
    """Called as callback(job_id, interim_result) for every interim result. Default: None."""
    job_tags: list[str] = field(default_factory=list)
    """Tags stored with the job, to find it again with service.jobs(tags=...). Default: []."""


@dataclass(repr=True)
class SimulatorOptions(OptionsNode):
    """Simulator settings, as in qiskit-ibm-runtime's local mode."""

    noise_model: Any = Unset
    """An Aer NoiseModel applied to every circuit. Default: Unset (the backend's own)."""
    seed_simulator: int | _UnsetType = Unset
    """Seed of the simulator's random numbers, for reproducible results. Default: Unset."""
    coupling_map: Any = Unset
    """Restrict two-qubit gates to these pairs. Default: Unset."""
    basis_gates: list[str] | _UnsetType = Unset
    """Gates circuits are transpiled to. Default: Unset."""


@dataclass(repr=True)
class ZneOptions(OptionsNode):
    """Zero-noise extrapolation settings."""

    noise_factors: list[float] | _UnsetType = Unset
    """Factors by which noise is amplified. Default: Unset ((1, 3, 5))."""
    extrapolator: str | list[str] | _UnsetType = Unset
    """Extrapolation model(s). Default: Unset (("exponential", "linear"))."""
    amplifier: Literal["gate_folding", "gate_folding_front", "gate_folding_back", "pea"] = (
        "gate_folding"
    )
    """How noise is amplified. Default: "gate_folding"."""


@dataclass(repr=True)
class MeasureNoiseLearningOptions(OptionsNode):
    """How the readout noise of TREX is learned."""

    num_randomizations: int = 32
    """Twirled calibration circuits. Default: 32."""
    shots_per_randomization: int | Literal["auto"] = "auto"
    """Shots per calibration circuit. Default: "auto"."""

    _checks = {"num_randomizations": _positive, "shots_per_randomization": _auto_or_positive}


@dataclass(repr=True)
class ResilienceOptions(OptionsNode):
    """Error mitigation of the Estimator."""

    measure_mitigation: bool | _UnsetType = Unset
    """Twirled readout error extinction (TREX). Default: Unset (on at level >= 1)."""
    measure_noise_learning: MeasureNoiseLearningOptions = field(
        default_factory=MeasureNoiseLearningOptions
    )
    """Readout noise learning. Default: MeasureNoiseLearningOptions()."""
    zne_mitigation: bool | _UnsetType = Unset
    """Zero-noise extrapolation. Default: Unset (on at level 2)."""
    zne: ZneOptions = field(default_factory=ZneOptions)
    """ZNE settings. Default: ZneOptions()."""
    pec_mitigation: bool = False
    """Probabilistic error cancellation. Default: False."""


@dataclass(repr=True)
class SamplerOptions(OptionsNode):
    """Options of :class:`qrt_jupyter.SamplerV2`."""

    default_shots: int | _UnsetType = Unset
    """Shots of PUBs that do not give their own. Default: Unset (4096)."""
    dynamical_decoupling: DynamicalDecouplingOptions = field(
        default_factory=DynamicalDecouplingOptions
    )
    """Dynamical decoupling. Default: DynamicalDecouplingOptions()."""
    execution: ExecutionOptions = field(default_factory=ExecutionOptions)
    """Execution. Default: ExecutionOptions()."""
    twirling: TwirlingOptions = field(default_factory=TwirlingOptions)
    """Twirling. Default: TwirlingOptions()."""
    environment: EnvironmentOptions = field(default_factory=EnvironmentOptions)
    """Logs, callbacks and tags. Default: EnvironmentOptions()."""
    simulator: SimulatorOptions = field(default_factory=SimulatorOptions)
    """Simulator settings. Default: SimulatorOptions()."""
    max_execution_time: int | float | _UnsetType = Unset
    """Seconds a job may run before it is stopped with ERROR. Default: Unset (no limit)."""
    experimental: dict = field(default_factory=dict)
    """Free-form experimental settings, recorded with the job. Default: {}."""

    _checks = {"default_shots": _positive, "max_execution_time": _positive}


@dataclass(repr=True)
class EstimatorOptions(OptionsNode):
    """Options of :class:`qrt_jupyter.EstimatorV2`."""

    default_precision: float | _UnsetType = Unset
    """Target standard error of PUBs that do not give their own. Default: Unset (exact
    on noiseless simulators, 0.015625 elsewhere)."""
    default_shots: int | _UnsetType = Unset
    """Shots per PUB; overrides default_precision when set. Default: Unset."""
    resilience_level: Literal[0, 1, 2] = 1
    """How much error mitigation to apply (0 none, 1 TREX, 2 TREX + ZNE). Default: 1."""
    seed_estimator: int | _UnsetType = Unset
    """Seed of the Estimator's own sampling. Default: Unset."""
    dynamical_decoupling: DynamicalDecouplingOptions = field(
        default_factory=DynamicalDecouplingOptions
    )
    """Dynamical decoupling. Default: DynamicalDecouplingOptions()."""
    resilience: ResilienceOptions = field(default_factory=ResilienceOptions)
    """Error mitigation. Default: ResilienceOptions()."""
    execution: ExecutionOptions = field(default_factory=ExecutionOptions)
    """Execution. Default: ExecutionOptions()."""
    twirling: TwirlingOptions = field(default_factory=TwirlingOptions)
    """Twirling. Default: TwirlingOptions()."""
    environment: EnvironmentOptions = field(default_factory=EnvironmentOptions)
    """Logs, callbacks and tags. Default: EnvironmentOptions()."""
    simulator: SimulatorOptions = field(default_factory=SimulatorOptions)
    """Simulator settings. Default: SimulatorOptions()."""
    max_execution_time: int | float | _UnsetType = Unset
    """Seconds a job may run before it is stopped with ERROR. Default: Unset (no limit)."""
    experimental: dict = field(default_factory=dict)
    """Free-form experimental settings, recorded with the job. Default: {}."""

    _checks = {
        "default_precision": _non_negative,
        "default_shots": _positive,
        "max_execution_time": _positive,
    }


def build_options(cls: type[OptionsNode], options: OptionsNode | Mapping[str, Any] | None):
    """Options of type ``cls`` from None, a dict or an options object (copied)."""
    if options is None:
        return cls()
    if isinstance(options, cls):
        return options.copy()
    if isinstance(options, Mapping):
        built = cls()
        built.update(**options)
        return built
    raise OptionTypeError(
        f"options must be a {cls.__name__} or a dict, not {type(options).__name__}."
    )


def jsonable(value: Any) -> Any:
    """A JSON-safe rendering of an option value, for the store and job metadata."""
    if value is Unset:
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    return repr(value)
