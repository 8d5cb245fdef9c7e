"""The built-in ``qaoa`` program: Max-Cut with a sampler-based (CVaR) objective.

The objective is computed from real samples, as on hardware: the mean cut of
the best ``cvar_alpha`` fraction of shots (alpha = 1 is the plain expectation),
which pushes probability towards the best cuts rather than a good average.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from scipy.optimize import minimize

from ..core.errors import InvalidInputError
from .optimizers import SCIPY_METHODS
from .registry import program


def parse_graph(graph: Any) -> tuple[int, list[tuple[int, int, float]]]:
    """(number of nodes, weighted edges) from a networkx graph or an edge list."""
    if hasattr(graph, "edges") and hasattr(graph, "nodes"):
        nodes = sorted(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        edges = [(index[u], index[v], float(w))
                 for u, v, w in graph.edges(data="weight", default=1.0)]
        return len(nodes), edges
    edges = []
    try:
        for edge in graph:
            u, v, *rest = edge
            edges.append((int(u), int(v), float(rest[0]) if rest else 1.0))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            "qaoa: 'graph' must be a networkx graph or a list of (u, v) or (u, v, weight)."
        ) from exc
    if not edges:
        raise InvalidInputError("qaoa: the graph has no edges.")
    return max(max(u, v) for u, v, _ in edges) + 1, edges


def qaoa_circuit(num_nodes: int, edges: list[tuple[int, int, float]], reps: int) -> QuantumCircuit:
    gammas = ParameterVector("γ", reps)
    betas = ParameterVector("β", reps)
    qc = QuantumCircuit(num_nodes, name=f"qaoa_p{reps}")
    qc.h(range(num_nodes))
    for layer in range(reps):
        for u, v, w in edges:
            qc.rzz(-w * gammas[layer], u, v)
        for q in range(num_nodes):
            qc.rx(2 * betas[layer], q)
    qc.measure_all()
    return qc


def cut_values(outcomes: np.ndarray, edges: list[tuple[int, int, float]]) -> np.ndarray:
    """Cut weight of each outcome (bit i of the integer is node i)."""
    total = np.zeros(outcomes.shape, dtype=float)
    for u, v, w in edges:
        total += w * (((outcomes >> u) ^ (outcomes >> v)) & 1)
    return total


def cvar(values: np.ndarray, weights: np.ndarray, alpha: float) -> float:
    """Mean of the best ``alpha`` fraction of the weighted values (largest first)."""
    order = np.argsort(-values)
    values, weights = values[order], weights[order]
    keep = alpha * weights.sum()
    taken = np.minimum(weights, np.maximum(0.0, keep - (np.cumsum(weights) - weights)))
    return float((values * taken).sum() / taken.sum())


@program(name="qaoa")
def qaoa(ctx: Any, graph: Any, reps: int = 1, initial_point: Any = None,
         optimizer: str = "COBYLA", maxiter: int = 200, shots: int = 1024,
         cvar_alpha: float = 1.0, seed: int | None = None) -> dict:
    """QAOA for Max-Cut; returns the best cut found and the final bitstring distribution."""
    num_nodes, edges = parse_graph(graph)
    if not 0 < cvar_alpha <= 1:
        raise InvalidInputError("qaoa: cvar_alpha must be in (0, 1].")
    if optimizer.upper() not in SCIPY_METHODS:
        raise InvalidInputError(f"qaoa: unknown optimizer '{optimizer}'.")
    circuit = qaoa_circuit(num_nodes, edges, reps)
    if initial_point is not None:
        x0 = np.asarray(initial_point, dtype=float)
        if x0.shape != (2 * reps,):
            raise InvalidInputError(f"qaoa: initial_point needs {2 * reps} values (γ..., β...).")
    # circuit.parameters orders β before γ (sorted by name); map our (γ, β) layout onto it
    names = [p.name for p in circuit.parameters]
    order = [names.index(f"γ[{k}]") for k in range(reps)] + [
        names.index(f"β[{k}]") for k in range(reps)]
    sampler = ctx.sampler(options={"simulator": {"seed_simulator": seed}} if seed is not None
                          else None)
    started = time.perf_counter()
    state: dict[str, Any] = {"nfev": 0, "iteration": 0, "best": (-np.inf, 0), "last": None}
    history: list[float] = []

    def sample(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = np.empty(len(x))
        values[order] = x
        bits = sampler.run([(circuit, values)], shots=shots).result()[0].data.meas
        counts = bits.get_int_counts()
        outcomes = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        weights = np.fromiter(counts.values(), dtype=float, count=len(counts))
        return outcomes, weights

    def objective(x: np.ndarray) -> float:
        last = state["last"]
        if last is not None and np.array_equal(last[0], x):
            return last[1]
        outcomes, weights = sample(x)
        cuts = cut_values(outcomes, edges)
        state["nfev"] += 1
        k = int(np.argmax(cuts))
        if cuts[k] > state["best"][0]:
            state["best"] = (float(cuts[k]), int(outcomes[k]))
        value = -cvar(cuts, weights, cvar_alpha)
        mean = float(cuts @ weights / weights.sum())
        std = float(np.sqrt(((cuts - mean) ** 2) @ weights / weights.sum() / weights.sum()))
        state["last"] = (x.copy(), value, std)
        return value

    def on_iteration(intermediate_result: Any) -> None:
        x = np.asarray(intermediate_result.x)
        value = objective(x)
        std = state["last"][2]
        history.append(value)
        ctx.publish({
            "iteration": state["iteration"], "nfev": state["nfev"], "energy": value,
            "std": std, "best_cut": state["best"][0], "parameters": x.copy(),
            "elapsed": time.perf_counter() - started,
        })
        state["iteration"] += 1

    if initial_point is None:
        # No start given: scan p=1 angles as one broadcast PUB, then interpolate the
        # p=1 optimum layer by layer (INTERP), a start that avoids the poor local optima
        # random angles fall into.
        x0 = _interp_start(ctx, num_nodes, edges, reps, shots, cvar_alpha, seed, optimizer)
    res = minimize(objective, x0, method=optimizer, callback=on_iteration,
                   options={"maxiter": maxiter})
    outcomes, weights = sample(res.x)
    cuts = cut_values(outcomes, edges)
    k = int(np.argmax(cuts))
    if cuts[k] > state["best"][0]:
        state["best"] = (float(cuts[k]), int(outcomes[k]))
    best_cut, best_int = state["best"]
    probabilities = weights / weights.sum()
    distribution = {
        format(int(o), f"0{num_nodes}b"): float(p)
        for o, p in sorted(zip(outcomes, probabilities), key=lambda t: -t[1])
    }
    return {
        "best_cut": best_cut,
        "best_bitstring": format(best_int, f"0{num_nodes}b"),
        "probability_best_cut": float(probabilities[cuts >= best_cut].sum()),
        "distribution": distribution,
        "optimal_point": np.asarray(res.x, dtype=float),
        "optimal_value": float(res.fun),
        "history": history,
        "num_evaluations": state["nfev"] + 1,
        "num_iterations": state["iteration"],
    }


def _interp_start(ctx: Any, num_nodes: int, edges: list[tuple[int, int, float]], reps: int,
                  shots: int, alpha: float, seed: int | None, optimizer: str) -> np.ndarray:
    sampler = ctx.sampler(options={"simulator": {"seed_simulator": seed}} if seed is not None
                          else None)
    gammas = np.linspace(0.1, np.pi - 0.1, 10)
    betas = np.linspace(0.05, np.pi / 2 - 0.05, 8)
    grid = np.array([(g, b) for g in gammas for b in betas])

    def evaluate(p: int, points: np.ndarray) -> np.ndarray:
        circuit = qaoa_circuit(num_nodes, edges, p)
        names = [q.name for q in circuit.parameters]
        order = [names.index(f"γ[{k}]") for k in range(p)] + [
            names.index(f"β[{k}]") for k in range(p)]
        values = np.empty_like(points)
        values[:, order] = points
        bits = sampler.run([(circuit, values)], shots=shots).result()[0].data.meas
        out = np.empty(len(points))
        for r in range(len(points)):
            counts = bits[r].get_int_counts()
            outcomes = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = np.fromiter(counts.values(), dtype=float, count=len(counts))
            out[r] = -cvar(cut_values(outcomes, edges), weights, alpha)
        return out

    x = grid[int(np.argmin(evaluate(1, grid)))]
    for p in range(1, reps + 1):
        if p > 1:
            x = np.concatenate([_interp(x[: p - 1]), _interp(x[p - 1 :])])
        if p < reps:
            x = minimize(lambda y, p=p: evaluate(p, y[None, :])[0], x, method=optimizer,
                         options={"maxiter": 60}).x
    return x


def _interp(angles: np.ndarray) -> np.ndarray:
    """Zhou et al.'s INTERP: p angles -> p + 1 angles on the same schedule."""
    p = len(angles)
    padded = np.concatenate([[0.0], angles, [0.0]])
    return np.array([
        (i / p) * padded[i] + ((p - i) / p) * padded[i + 1] for i in range(p + 1)
    ])
