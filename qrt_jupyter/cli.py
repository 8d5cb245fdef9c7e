"""The ``qrt`` command: a headless demo and a look into the job store.

``qrt demo`` is the project's main job: a Session on the local Aer executor
runs the built-in VQE on a Heisenberg chain, prints the convergence as the
interim results arrive, compares the final energy with the exact one and leaves
the job in the store, where ``qrt jobs`` and ``service.job(id)`` find it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

import numpy as np


def heisenberg_chain(num_qubits: int):
    """XX + YY + ZZ on neighbouring qubits of an open chain."""
    from qiskit.quantum_info import SparsePauliOp

    terms = []
    for i in range(num_qubits - 1):
        for pauli in "XYZ":
            label = ["I"] * num_qubits
            label[i] = label[i + 1] = pauli
            terms.append(("".join(reversed(label)), 1.0))
    return SparsePauliOp.from_list(terms)


def demo(num_qubits: int, reps: int, maxiter: int, backend: str) -> int:
    from qiskit.circuit.library import efficient_su2

    from qrt_jupyter import LocalRuntimeService, Session

    service = LocalRuntimeService()
    hamiltonian = heisenberg_chain(num_qubits)
    exact = float(np.linalg.eigvalsh(hamiltonian.to_matrix()).min())
    ansatz = efficient_su2(num_qubits, reps=reps)
    print(f"store: {service.store.path}")
    print(f"VQE on a {num_qubits}-qubit Heisenberg chain, EfficientSU2 reps={reps} "
          f"({ansatz.num_parameters} parameters), backend {backend}")
    print(f"{'iter':>5} {'evals':>6} {'energy':>14} {'|grad|':>10} {'error':>10}")
    lock = threading.Lock()

    def show(job_id: str, step: dict) -> None:
        with lock:
            grad = step.get("grad_norm")
            print(f"{step['iteration']:>5} {step['nfev']:>6} {step['energy']:>14.8f} "
                  f"{grad if grad is None else format(grad, '10.2e'):>10} "
                  f"{step['energy'] - exact:>10.2e}", flush=True)

    with Session(backend=backend, max_time="15m", service=service) as session:
        job = service.run(
            "vqe",
            inputs={"ansatz": ansatz, "hamiltonian": hamiltonian, "optimizer": "BFGS",
                    "gradient": "parameter-shift", "maxiter": maxiter, "seed": 0},
            mode=session, callback=show, tags=["demo"],
        )
        result = job.result()
    metrics = job.metrics()
    print()
    print(f"final energy   {result['optimal_value']:.10f}")
    print(f"exact energy   {exact:.10f}")
    print(f"error          {result['optimal_value'] - exact:.2e}")
    print(f"iterations     {result['num_iterations']}  "
          f"(circuit evaluations {result['num_evaluations']})")
    print(f"job            {job.job_id()}  {job.status()}  "
          f"{metrics['usage']['seconds']:.2f} s in session {session.session_id}")
    print(f"find it again: LocalRuntimeService().job('{job.job_id()}').result()")
    return 0 if abs(result["optimal_value"] - exact) < 1e-3 else 1


def list_jobs(limit: int) -> int:
    from qrt_jupyter import LocalRuntimeService

    service = LocalRuntimeService()
    for job in service.jobs(limit=limit):
        print(f"{job.job_id()}  {job.status():<9}  {job.primitive_id:<10}  "
              f"{job.backend_name():<28}  {job.creation_date.isoformat(timespec='seconds')}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qrt", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run a VQE in a local Session and print its convergence")
    p_demo.add_argument("--qubits", type=int, default=4)
    p_demo.add_argument("--reps", type=int, default=3)
    p_demo.add_argument("--maxiter", type=int, default=200)
    p_demo.add_argument("--backend", default="aer_simulator_statevector")
    p_jobs = sub.add_parser("jobs", help="list the newest jobs in the store")
    p_jobs.add_argument("--limit", type=int, default=20)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.qubits, args.reps, args.maxiter, args.backend)
    return list_jobs(args.limit)


if __name__ == "__main__":
    sys.exit(main())
