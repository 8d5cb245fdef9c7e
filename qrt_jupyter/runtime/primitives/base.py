"""What SamplerV2 and EstimatorV2 share: resolving the mode, options bookkeeping, submission."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from qiskit.providers import BackendV2

from ..backends import is_aer
from ..core import current as context
from ..execution.completed import run_inline
from ..execution.engine import Target, resolve_target
from .options import OptionsNode, Unset, build_options, jsonable

_DEFAULTS: dict[type, dict[str, Any]] = {}
_O = TypeVar("_O", bound=OptionsNode)


def _default_flat(cls: type[OptionsNode]) -> dict[str, Any]:
    """The default values of an options class by dotted name (built once: read only)."""
    flat = _DEFAULTS.get(cls)
    if flat is None:
        flat = _DEFAULTS[cls] = cls().flat()
    return flat


def options_report(options: OptionsNode, applied_names: set[str],
                   extra_not_applied: list[str] = ()) -> tuple[dict, list[str]]:
    """(options the user set, with their values; names set but not honoured locally)."""
    defaults = _default_flat(type(options))
    chosen: dict[str, Any] = {}
    not_applied: list[str] = []
    for name, value in options.flat().items():
        if value is Unset or value == defaults.get(name):
            continue
        chosen[name] = jsonable(value)
        top = name.split(".")[0]
        if name not in applied_names and f"{top}.*" not in applied_names:
            not_applied.append(name)
    for name in extra_not_applied:
        if name not in not_applied:
            not_applied.append(name)
    return chosen, not_applied


def run_options(options: OptionsNode, backend: BackendV2, seed: Any) -> dict[str, Any]:
    """Simulator run options from the primitive options."""
    out: dict[str, Any] = {}
    if seed is not Unset and seed is not None:
        out["seed_simulator"] = int(seed)
    noise = options.simulator.noise_model
    if noise is not Unset and noise is not None and is_aer(backend):
        out["noise_model"] = noise
    return out


class PrimitiveBase(Generic[_O]):
    """Mode handling shared by both primitives (mirrors qiskit-ibm-runtime's BasePrimitiveV2)."""

    _options_class: type[_O]
    _options: _O

    def _init_mode(self, mode: Any) -> None:
        # Bind to the current Session/Batch at construction, as qiskit-ibm-runtime does;
        # with none, resolve at run() so a notebook's later `%qrt session open` is used.
        self._mode = mode if mode is not None else context.current_mode()

    @staticmethod
    def _initial_options(cls: type[OptionsNode], options: Any) -> Any:
        """The process-wide defaults (``%qrt options``) overlaid with ``options``."""
        if isinstance(options, cls):
            return options.copy()
        built = cls()
        names = set(built.to_dict())
        for key, value in context.default_options().items():
            if key.split(".")[0] in names:
                built.update(**{key: value})
        if options is not None:
            built.update(**build_options(cls, options).to_dict(only_set=True))
        return built

    @property
    def mode(self) -> Any:
        return self._mode

    @property
    def options(self) -> _O:
        return self._options

    @options.setter
    def options(self, value: _O | Mapping[str, Any]) -> None:
        self._options = build_options(self._options_class, value)

    def _target(self) -> Target:
        return resolve_target(self._mode)

    def _submit(self, target: Target, work: Callable[[Any], Any], *, kind: str, inputs: dict,
                chosen: dict, options: Any) -> Any:
        if target.context is not None:
            # made by a program's context: the work runs inside the program's own job
            # (which holds its session's turn) instead of queueing behind it
            return run_inline(target.context, work, kind=kind, backend=target.backend)
        max_time = options.max_execution_time
        callback = options.environment.callback
        return target.engine.submit(
            work, kind=kind, backend=target.backend, mode=target.mode, inputs=inputs,
            options=chosen, tags=options.environment.job_tags,
            log_level=options.environment.log_level,
            max_execution_time=None if max_time is Unset else float(max_time),
            callback=callback if callable(callback) else None,
        )
