"""EstimatorV2 of the local runtime: exact or sampled expectation values of PUBs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from qiskit.primitives import BaseEstimatorV2, PrimitiveResult
from qiskit.primitives.containers.estimator_pub import EstimatorPubLike

from ..backends import is_noisy, supports_exact
from ..execution.context import ExecutionContext
from ..execution.job import RuntimeJob
from .base import PrimitiveBase, options_report, run_options
from .expectation import exact_pub, sampled_pub, shots_for
from .final_state import backend_allows, rng_for
from .options import EstimatorOptions, Unset
from .validation import coerce_estimator_pubs

#: Precision used where exact values are impossible and none was given (qiskit-ibm-runtime's).
SAMPLED_DEFAULT_PRECISION = 0.015625
ESTIMATOR_APPLIED = {
    "default_precision", "default_shots", "seed_estimator", "simulator.seed_simulator",
    "simulator.noise_model", "environment.*", "max_execution_time", "experimental",
}


class EstimatorV2(PrimitiveBase[EstimatorOptions], BaseEstimatorV2):
    """Expectation values of observables; ``stds`` are standard errors of the estimate."""

    _options_class = EstimatorOptions

    def __init__(self, mode: Any = None,
                 options: EstimatorOptions | Mapping[str, Any] | None = None) -> None:
        self._init_mode(mode)
        self._options = self._initial_options(EstimatorOptions, options)

    def run(self, pubs: Iterable[EstimatorPubLike], *,
            precision: float | None = None) -> RuntimeJob:
        target = self._target()
        options = self._options.copy()
        noise_option = options.simulator.noise_model not in (Unset, None)
        exact_ok = supports_exact(target.backend) and not noise_option
        noisy = is_noisy(target.backend) or noise_option
        shots_given = options.default_shots is not Unset
        if options.default_precision is not Unset:
            default_precision = float(options.default_precision)
        else:
            default_precision = 0.0 if exact_ok else SAMPLED_DEFAULT_PRECISION
        coerced = coerce_estimator_pubs(
            pubs, precision, default_precision, target.backend,
            exact_supported=exact_ok, shots_given=shots_given,
        )
        extra = ["resilience_level"] if noisy and options.resilience_level > 0 else []
        chosen, not_applied = options_report(options, ESTIMATOR_APPLIED, extra)
        seed = options.seed_estimator
        if seed is Unset:
            seed = options.simulator.seed_simulator
        runopts = run_options(options, target.backend, seed)
        shared_cache = target.cache
        final_state_ok = backend_allows(target.backend, runopts)

        def work(ctx: ExecutionContext) -> PrimitiveResult:
            cache = ctx.cache(shared_cache)
            rng = rng_for(runopts) if final_state_ok else None
            results = []
            for i, pub in enumerate(coerced):
                ctx.check()
                entry, _hit = cache.lookup(pub.circuit)
                if shots_given:
                    results.append(sampled_pub(ctx, entry, cache, pub,
                                               int(options.default_shots), runopts, rng))
                elif pub.precision == 0:
                    results.append(exact_pub(ctx, entry, pub, runopts))
                else:
                    results.append(sampled_pub(ctx, entry, cache, pub,
                                               shots_for(pub.precision), runopts, rng))
                ctx.publish({"kind": "progress", "pub": i, "done": i + 1, "of": len(coerced)})
            cache_stats = cache.stats()
            ctx.metrics.update({
                "transpile_cache": cache_stats, "options_applied": chosen,
                "options_not_applied": not_applied, "num_pubs": len(coerced),
            })
            return PrimitiveResult(results, metadata={
                "version": 2, "options_applied": chosen, "options_not_applied": not_applied,
                "transpile_cache": cache_stats, "noisy_backend": noisy,
            })

        inputs = {
            "pubs": [
                {"num_qubits": p.circuit.num_qubits, "shape": list(p.shape),
                 "precision": p.precision, "name": p.circuit.name}
                for p in coerced
            ]
        }
        return self._submit(target, work, kind="estimator", inputs=inputs, chosen=chosen,
                            options=options)
