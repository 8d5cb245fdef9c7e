"""The numeric engine of the adjoint method: <psi(theta)|H|psi(theta)> and its gradient.

Why this exists: parameter shift costs 2P+1 statevector simulations per gradient, which at
16-20 qubits and ~100 parameters means seconds to minutes per optimiser step. The adjoint
method (Jones & Gacon 2020) gets the same exact gradient from one forward pass, one H|psi>
and one backward sweep that un-applies the gates to |psi> and |lambda> = H|psi>. Nothing in
the Qiskit runtime stack offers it, so exact-mode sessions implement it here. The circuit and
observable arrive pre-compiled and cached by :mod:`.compilation`; this module only runs sweeps.

Design notes (the hot path is memory bandwidth on a 2^n complex vector):

* Consecutive single-qubit gates on the same qubit are fused into one 2x2 block. The forward
  and backward passes apply a block once per state; inside a block the gradient terms come
  from one 2x2 "cross matrix" M_ab = sum_rest conj(lambda_a) psi_b, which is transported
  through the block's gates analytically (M -> conj(V) M V^T), so a block with k parameters
  costs one reduction instead of k.
* Non-diagonal 1q blocks are applied out of place with BLAS (batched complex matmul, or a
  real-valued GEMM on the float view for the lowest qubits, where the batch would be tiny);
  diagonal gates multiply in place by a phase tile broadcast over contiguous blocks; CX is an
  in-place swap of two quarter-size views; other 2q gates use tensordot.
* numpy's bundled OpenBLAS is pinned to one thread (through ctypes) for the length of a call.
* The work buffers are reused per thread, so repeated calls inside an optimisation loop only
  pay for the sweeps.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from collections.abc import Iterator

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qrt_jupyter.runtime.gradients.compilation import (
    Op,
    clear_compiled,
    compiled_program,
    item_matrix,
    observable_groups,
    param_gradient,
    slot_angles,
)

__all__ = ["adjoint_value_and_gradient", "clear_adjoint_cache"]

_LOW_TILE = 10  # diagonal phases are tiled over the lowest 2^10 amplitudes
_SMALL_LO = 4  # 1q blocks on qubits with 2^q <= this use the real-GEMM path


# --------------------------------------------------------------------------- BLAS threads


def _find_openblas() -> tuple[object, object] | None:
    """numpy's bundled OpenBLAS thread setters, if present (wheel builds)."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libdir, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter, getter in (
            ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
            ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
            ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
            ("openblas_set_num_threads", "openblas_get_num_threads"),
        ):
            if hasattr(lib, setter) and hasattr(lib, getter):
                set_fn, get_fn = getattr(lib, setter), getattr(lib, getter)
                set_fn.argtypes = [ctypes.c_int]
                get_fn.restype = ctypes.c_int
                return set_fn, get_fn
    return None


_OPENBLAS = _find_openblas()


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Our GEMMs are tiny-by-huge and memory bound: OpenBLAS threading only adds wake-up
    latency (measured 0.1 ms -> 15 ms per gate on a loaded 2-core machine), so pin to one
    thread for the duration of a call and restore the previous setting."""
    if _OPENBLAS is None:
        yield
        return
    set_fn, get_fn = _OPENBLAS
    before = get_fn()
    if before == 1:
        yield
        return
    set_fn(1)
    try:
        yield
    finally:
        set_fn(before)



# --------------------------------------------------------------------------- kernels


class _Buffers:
    """Reusable work arrays for one qubit count (avoids page-faulting 5 x 2^n x 16 B per call)."""

    def __init__(self, n: int) -> None:
        size = 1 << n
        self.psi = [np.empty(size, complex), np.empty(size, complex)]
        self.lam = [np.empty(size, complex), np.empty(size, complex)]
        self.tmp = np.empty(size, complex)


_TLS = threading.local()


def _buffers(n: int) -> _Buffers:
    bufs = getattr(_TLS, "bufs", None)
    if bufs is None or bufs[0] != n:
        bufs = (n, _Buffers(n))
        _TLS.bufs = bufs
    return bufs[1]


class _State:
    __slots__ = ("cur", "alt")

    def __init__(self, pair: list[np.ndarray]) -> None:
        self.cur, self.alt = pair

    def swap(self) -> None:
        self.cur, self.alt = self.alt, self.cur


def _real_block(u: np.ndarray, lo: int) -> np.ndarray:
    """Real (4lo x 4lo) matrix acting on rows [a, l, re/im] of the float view (right-multiply)."""
    x, y = u.real, u.imag
    q = np.empty((2, 2, 2, 2))  # [b, r_in, a, r_out]
    q[:, 0, :, 0] = x.T
    q[:, 1, :, 0] = -y.T
    q[:, 0, :, 1] = y.T
    q[:, 1, :, 1] = x.T
    if lo == 1:
        return q.reshape(4, 4)
    r = np.einsum("biao,lm->bliamo", q, np.eye(lo))
    return r.reshape(4 * lo, 4 * lo)


def _apply_1q(state: _State, u: np.ndarray, q: int, n: int) -> None:
    lo = 1 << q
    hi = 1 << (n - 1 - q)
    if lo <= _SMALL_LO:
        src = state.cur.view(np.float64).reshape(hi, 4 * lo)
        dst = state.alt.view(np.float64).reshape(hi, 4 * lo)
        np.matmul(src, _real_block(u, lo), out=dst)
    else:
        np.matmul(u, state.cur.reshape(hi, 2, lo), out=state.alt.reshape(hi, 2, lo))
    state.swap()


def _cross_1q(psi: np.ndarray, lam: np.ndarray, tmp: np.ndarray, q: int, n: int) -> np.ndarray:
    """M_ab = sum_rest conj(lam_a) psi_b for qubit q."""
    lo = 1 << q
    hi = 1 << (n - 1 - q)
    np.conjugate(lam, out=tmp)
    if lo <= _SMALL_LO:
        w = tmp.reshape(hi, 2 * lo).T @ psi.reshape(hi, 2 * lo)
        return w.reshape(2, lo, 2, lo).diagonal(axis1=1, axis2=3).sum(-1)
    return np.matmul(tmp.reshape(hi, 2, lo), psi.reshape(hi, 2, lo).transpose(0, 2, 1)).sum(0)


_DIAG_LAYOUT: dict[tuple[int, tuple[int, ...]], tuple[tuple[int, ...], np.ndarray, tuple]] = {}


def _diag_layout(n: int, qubits: tuple[int, ...]):
    """State view shape, gate-index tensor (broadcastable) and the axes to reduce over."""
    key = (n, qubits)
    hit = _DIAG_LAYOUT.get(key)
    if hit is not None:
        return hit
    k = min(n, _LOW_TILE)
    shape: list[int] = []
    fshape: list[int] = []
    gate_axes: list[int | None] = []  # which gate-qubit position an axis carries
    q = n - 1
    while q >= k:
        if q in qubits:
            shape.append(2)
            fshape.append(2)
            gate_axes.append(qubits.index(q))
            q -= 1
        else:
            run = 0
            while q >= k and q not in qubits:
                run += 1
                q -= 1
            shape.append(1 << run)
            fshape.append(1)
            gate_axes.append(None)
    shape.append(1 << k)
    fshape.append(1 << k)
    idx = np.zeros(fshape, dtype=np.intp)
    low = np.arange(1 << k)
    lowidx = np.zeros(1 << k, dtype=np.intp)
    for t, qq in enumerate(qubits):
        if qq < k:
            lowidx |= ((low >> qq) & 1) << t
    idx = idx + lowidx
    for axis, t in enumerate(gate_axes):
        if t is None:
            continue
        bshape = [1] * len(fshape)
        bshape[axis] = 2
        idx = idx + (np.arange(2).reshape(bshape) << t)
    reduce_axes = tuple(a for a, t in enumerate(gate_axes) if t is None)
    hit = (tuple(shape), idx, reduce_axes)
    _DIAG_LAYOUT[key] = hit
    return hit


def _apply_diag(arr: np.ndarray, dvals: np.ndarray, qubits: tuple[int, ...], n: int) -> None:
    shape, idx, _ = _diag_layout(n, qubits)
    view = arr.reshape(shape)
    np.multiply(view, dvals[idx], out=view)


def _cross_diag(
    psi: np.ndarray, lam: np.ndarray, tmp: np.ndarray, qubits: tuple[int, ...], n: int
) -> np.ndarray:
    """D_a = sum_{j in block a} conj(lam_j) psi_j (diagonal of the cross matrix)."""
    shape, idx, reduce_axes = _diag_layout(n, qubits)
    np.conjugate(lam, out=tmp)
    np.multiply(tmp, psi, out=tmp)
    s = (
        tmp.reshape(shape).sum(axis=reduce_axes, keepdims=True)
        if reduce_axes
        else tmp.reshape(shape)
    )
    s = np.broadcast_to(s, idx.shape).ravel()
    m = 1 << len(qubits)
    flat = idx.ravel()
    return np.bincount(flat, weights=s.real, minlength=m) + 1j * np.bincount(
        flat, weights=s.imag, minlength=m
    )


def _axes(qubits: tuple[int, ...], n: int) -> list[int]:
    """Tensor axes of the gate qubits, most significant gate qubit first."""
    return [n - 1 - q for q in reversed(qubits)]


def _apply_dense(state: _State, u: np.ndarray, qubits: tuple[int, ...], n: int) -> None:
    k = len(qubits)
    ut = u.reshape((2,) * (2 * k))
    src = state.cur.reshape((2,) * n)
    ax = _axes(qubits, n)
    res = np.tensordot(ut, src, axes=(list(range(k, 2 * k)), ax))
    np.copyto(state.alt.reshape((2,) * n), np.moveaxis(res, list(range(k)), ax))
    state.swap()


def _cross_dense(psi: np.ndarray, lam: np.ndarray, tmp: np.ndarray, qubits, n: int) -> np.ndarray:
    k = len(qubits)
    ax = _axes(qubits, n)
    dest = list(range(n - k, n))
    np.conjugate(lam, out=tmp)
    lm = np.moveaxis(tmp.reshape((2,) * n), ax, dest).reshape(-1, 1 << k)
    pm = np.moveaxis(psi.reshape((2,) * n), ax, dest).reshape(-1, 1 << k)
    return lm.T @ pm


_CX_LAYOUT: dict[tuple[int, int, int], tuple[tuple[int, ...], tuple, tuple]] = {}


def _apply_cx(arr: np.ndarray, tmp: np.ndarray, c: int, t: int, n: int) -> None:
    key = (n, c, t)
    lay = _CX_LAYOUT.get(key)
    if lay is None:
        shape: list[int] = []
        sel_a: list[object] = []
        sel_b: list[object] = []
        q = n - 1
        while q >= 0:
            if q in (c, t):
                shape.append(2)
                sel_a.append(slice(1, 2) if q == c else slice(0, 1))  # slices keep views
                sel_b.append(slice(1, 2))
                q -= 1
            else:
                run = 0
                while q >= 0 and q not in (c, t):
                    run += 1
                    q -= 1
                shape.append(1 << run)
                sel_a.append(slice(None))
                sel_b.append(slice(None))
        lay = (tuple(shape), tuple(sel_a), tuple(sel_b))
        _CX_LAYOUT[key] = lay
    shape, sa, sb = lay
    view = arr.reshape(shape)
    a = view[sa]
    b = view[sb]
    t4 = tmp[: a.size].reshape(a.shape)
    np.copyto(t4, a)
    np.copyto(a, b)
    np.copyto(b, t4)


def _apply_op(state: _State, tmp: np.ndarray, op: Op, u: np.ndarray, n: int) -> None:
    if op.kind == "cx":
        _apply_cx(state.cur, tmp, op.qubits[0], op.qubits[1], n)
    elif op.diag:
        _apply_diag(state.cur, np.diag(u).copy(), op.qubits, n)
    elif op.kind == "1q":
        _apply_1q(state, u, op.qubits[0], n)
    else:
        _apply_dense(state, u, op.qubits, n)



# --------------------------------------------------------------------------- observable


def _apply_observable(groups: list, psi: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    if not groups:
        out.fill(0)
        return
    first = True
    for shape, sel, factor in groups:
        src = psi.reshape(shape)[sel]
        if first:
            np.multiply(src, factor, out=out.reshape(shape))
            first = False
        else:
            t = tmp.reshape(shape)
            np.multiply(src, factor, out=t)
            np.add(out, tmp, out=out)



# --------------------------------------------------------------------------- public API


def adjoint_value_and_gradient(
    circuit: QuantumCircuit, observable: SparsePauliOp, values: np.ndarray
) -> tuple[float, np.ndarray]:
    """Exact <psi(theta)|H|psi(theta)> and its gradient by the adjoint method.

    Args:
        circuit: unitary circuit (measurements/resets are rejected); gates outside
            ``SUPPORTED_PARAMETRIC_GATES`` and fixed gates on more than two qubits are
            decomposed with ``transpile`` once and cached per circuit object.
        observable: Hermitian ``SparsePauliOp`` on ``circuit.num_qubits`` qubits.
        values: parameter values in the order of ``circuit.parameters``.

    Returns:
        ``(value, gradient)`` with ``gradient[i] = d value / d circuit.parameters[i]``.

    The circuit and observable must not be mutated between calls without changing their
    size (the cache is keyed by object identity). Not re-entrant across threads for the
    same qubit count in the same thread; distinct threads use distinct buffers.
    """
    with _single_threaded_blas():
        return _run(circuit, observable, values)


def _run(
    circuit: QuantumCircuit, observable: SparsePauliOp, values: np.ndarray
) -> tuple[float, np.ndarray]:
    prog = compiled_program(circuit)
    vals = np.asarray(values, dtype=float).ravel()
    if vals.size != prog.num_params:
        raise ValueError(f"expected {prog.num_params} parameter values, got {vals.size}")
    n = prog.n
    groups = observable_groups(observable, n)

    angles, nl_grads = slot_angles(prog, vals)

    bufs = _buffers(n)
    psi = _State(bufs.psi)
    tmp = bufs.tmp

    # forward pass; remember each op's matrices for the backward sweep
    psi.cur.fill(0)
    psi.cur[0] = 1.0
    mats: list[tuple[np.ndarray, list]] = []
    for op in prog.ops:
        if len(op.items) == 1:
            u, d = item_matrix(op.items[0], angles)
            per_item = [(u, d)]
        else:
            per_item = [item_matrix(it, angles) for it in op.items]
            u = per_item[0][0]
            for ui, _ in per_item[1:]:
                u = ui @ u
        mats.append((u, per_item))
        _apply_op(psi, tmp, op, u, n)

    lam = _State(bufs.lam)
    _apply_observable(groups, psi.cur, lam.cur, tmp)
    value = float(np.vdot(psi.cur, lam.cur).real)

    slot_grad = np.zeros(angles.size)
    for i in range(len(prog.ops) - 1, prog.first_param_op - 1, -1):
        op = prog.ops[i]
        u, per_item = mats[i]
        if op.has_params:
            if op.diag:
                dm = _cross_diag(psi.cur, lam.cur, tmp, op.qubits, n)
                for ui, derivs in reversed(per_item):
                    for slot, du in derivs:
                        g = np.diag(du) * np.conj(np.diag(ui))  # diag of dU U^dagger
                        slot_grad[slot] += 2.0 * float(np.dot(g, dm).real)
            else:
                if op.kind == "1q":
                    m = _cross_1q(psi.cur, lam.cur, tmp, op.qubits[0], n)
                else:
                    m = _cross_dense(psi.cur, lam.cur, tmp, op.qubits, n)
                last = len(per_item) - 1
                for j in range(last, -1, -1):
                    ui, derivs = per_item[j]
                    uh = ui.conj().T
                    for slot, du in derivs:
                        g = du @ uh
                        slot_grad[slot] += 2.0 * float(np.sum(g * m).real)
                    if j:
                        m = ui.T @ m @ ui.conj()
        if i > prog.first_param_op:
            uh = u.conj().T
            _apply_op(psi, tmp, op, uh, n)
            _apply_op(lam, tmp, op, uh, n)

    return value, param_gradient(prog, slot_grad, nl_grads)


def clear_adjoint_cache() -> None:
    """Drop cached circuit programs, observable groupings and work buffers."""
    clear_compiled()
    _TLS.__dict__.clear()
