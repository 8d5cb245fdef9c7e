"""Compile a circuit and an observable into what the adjoint kernels run.

Why a separate module: everything here is preprocessing that happens once per circuit or
observable object and is cached (keyed by object identity, guarded by a weakref), while
:mod:`.kernels` is the per-call numeric sweep. Keeping the Qiskit-facing side here (gate
tables, ``transpile`` to a supported basis, ``ParameterExpression`` handling) leaves the
kernels working only on numpy arrays, fused gate blocks and angle slots.

Gradient slots: every gate angle is a linear form c0 + sum_k c_k * theta_k of the circuit
parameters (chain rule through ``ParameterExpression.gradient``); non-linear expressions fall
back to evaluating the expression and its derivatives symbolically on every call.
:func:`slot_angles` turns parameter values into slot angles and :func:`param_gradient` maps
the kernels' per-slot gradient back onto the circuit parameters.

Observables: H|psi> groups the Pauli terms of a SparsePauliOp by X mask; every group is one
reversed (bit-flipped) view of psi times a precomputed phase factor over the union of its Z
supports (:func:`observable_groups`).
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Gate, ParameterExpression
from qiskit.circuit.library import (
    CPhaseGate,
    CRXGate,
    CRYGate,
    CRZGate,
    PhaseGate,
    RXGate,
    RXXGate,
    RYGate,
    RYYGate,
    RZGate,
    RZXGate,
    RZZGate,
    U1Gate,
    U3Gate,
    UGate,
)
from qiskit.quantum_info import Operator, SparsePauliOp

__all__ = [
    "SUPPORTED_PARAMETRIC_GATES",
    "Item",
    "Op",
    "Program",
    "clear_compiled",
    "compiled_program",
    "item_matrix",
    "observable_groups",
    "param_gradient",
    "slot_angles",
]

# U(t) = F0 + cos(t/2) Fc + sin(t/2) Fs  (all Pauli rotations and their controlled versions)
_HALF_GATES = {
    "rx": RXGate,
    "ry": RYGate,
    "rz": RZGate,
    "rxx": RXXGate,
    "ryy": RYYGate,
    "rzz": RZZGate,
    "rzx": RZXGate,
    "crx": CRXGate,
    "cry": CRYGate,
    "crz": CRZGate,
}
# U(t) = F0 + exp(i t) F1
_PHASE_GATES = {"p": PhaseGate, "u1": U1Gate, "cp": CPhaseGate}
_U_GATES = {"u": UGate, "u3": U3Gate}

SUPPORTED_PARAMETRIC_GATES: frozenset[str] = (
    frozenset(_HALF_GATES) | frozenset(_PHASE_GATES) | frozenset(_U_GATES)
)

# Basis used when a circuit holds something we cannot apply directly.
_DECOMPOSE_BASIS = sorted(SUPPORTED_PARAMETRIC_GATES) + [
    "cx",
    "cz",
    "swap",
    "x",
    "y",
    "z",
    "h",
    "s",
    "sdg",
    "t",
    "tdg",
    "sx",
    "sxdg",
    "id",
]
_SKIP = {"barrier", "delay"}


def _templates() -> dict[str, tuple[str, tuple[np.ndarray, ...], bool]]:
    out: dict[str, tuple[str, tuple[np.ndarray, ...], bool]] = {}
    for name, cls in _HALF_GATES.items():
        u0 = cls(0.0).to_matrix()
        upi = cls(math.pi).to_matrix()
        u2pi = cls(2 * math.pi).to_matrix()
        f0 = (u0 + u2pi) / 2
        fc = (u0 - u2pi) / 2
        fs = upi - f0
        diag = bool(np.allclose(fc, np.diag(np.diag(fc))) and np.allclose(fs, np.diag(np.diag(fs))))
        out[name] = ("half", (f0, fc, fs), diag)
    for name, cls in _PHASE_GATES.items():
        u0 = cls(0.0).to_matrix()
        upi = cls(math.pi).to_matrix()
        out[name] = ("phase", ((u0 + upi) / 2, (u0 - upi) / 2), True)
    for name in _U_GATES:
        out[name] = ("u", (), False)
    return out


_TEMPLATES = _templates()


# --------------------------------------------------------------------------- program


@dataclass
class Item:
    """One gate: either a fixed matrix or a parametric template with angle slots."""

    kind: str  # "fixed" | "half" | "phase" | "u"
    mats: tuple[np.ndarray, ...]
    slots: tuple[int, ...]
    diag: bool


@dataclass
class Op:
    """One unit of the sweep: a fused run of 1q gates on one qubit, a CX, or a 2q gate.

    ``kind`` picks the kernel; ``diag`` lets it multiply in place by phases.
    """

    kind: str  # "1q" | "cx" | "diag" | "dense"
    qubits: tuple[int, ...]
    items: list[Item]
    diag: bool
    has_params: bool = False


@dataclass
class Program:
    """A compiled circuit: ops in order plus the map from circuit parameters to angle slots.

    ``first_param_op`` lets the backward sweep stop early; ``signature`` and ``ref`` guard
    the identity-keyed cache against a different or mutated circuit.
    """

    n: int
    num_params: int
    ops: list[Op]
    first_param_op: int
    slot_const: np.ndarray
    lin_slot: np.ndarray
    lin_param: np.ndarray
    lin_coeff: np.ndarray
    nonlinear: list[tuple[int, ParameterExpression, list[tuple[int, object]]]]
    signature: tuple
    ref: weakref.ref = field(repr=False, default=None)  # type: ignore[assignment]


def _needs_decomposition(circuit: QuantumCircuit) -> bool:
    for ins in circuit.data:
        op = ins.operation
        if op.name in _SKIP:
            continue
        if op.name in SUPPORTED_PARAMETRIC_GATES and isinstance(op, Gate):
            continue
        if isinstance(op, Gate) and op.num_qubits <= 2 and not _has_free_params(op):
            continue
        return True
    return False


def _has_free_params(op) -> bool:
    return any(isinstance(p, ParameterExpression) and p.parameters for p in op.params)


def _fixed_matrix(op) -> np.ndarray:
    try:
        return np.asarray(op.to_matrix(), dtype=complex)
    except Exception:  # composite gates without a direct matrix
        return np.asarray(Operator(op).data, dtype=complex)


def _is_diag(m: np.ndarray) -> bool:
    return bool(np.count_nonzero(m - np.diag(np.diag(m))) == 0)


def _compile(circuit: QuantumCircuit) -> Program:
    params = list(circuit.parameters)
    pindex = {p: i for i, p in enumerate(params)}
    work = circuit
    if _needs_decomposition(circuit):
        work = transpile(circuit, basis_gates=_DECOMPOSE_BASIS, optimization_level=0)
    n = work.num_qubits

    slot_const: list[float] = []
    lin: list[tuple[int, int, float]] = []
    nonlinear: list[tuple[int, ParameterExpression, list[tuple[int, object]]]] = []

    def new_slot(expr) -> int:
        s = len(slot_const)
        if not isinstance(expr, ParameterExpression) or not expr.parameters:
            slot_const.append(float(expr))
            return s
        coeffs = []
        linear = True
        for p in expr.parameters:
            g = expr.gradient(p)
            if isinstance(g, ParameterExpression):
                if g.parameters:
                    linear = False
                    break
                g = complex(g.numeric()) if hasattr(g, "numeric") else complex(g)
            coeffs.append((pindex[p], complex(g).real))
        if linear:
            c0 = expr.bind({p: 0.0 for p in expr.parameters})
            slot_const.append(float(c0.numeric()) if hasattr(c0, "numeric") else float(c0))
            lin.extend((s, i, c) for i, c in coeffs)
        else:
            slot_const.append(0.0)
            nonlinear.append((s, expr, [(pindex[p], p) for p in expr.parameters]))
        return s

    ops: list[Op] = []
    pending: dict[int, list[Item]] = {}

    def flush(q: int) -> None:
        items = pending.pop(q, None)
        if items:
            ops.append(Op("1q", (q,), items, all(it.diag for it in items)))

    for ins in work.data:
        op = ins.operation
        name = op.name
        if name in _SKIP:
            continue
        qubits = tuple(work.find_bit(q).index for q in ins.qubits)
        if name in SUPPORTED_PARAMETRIC_GATES and isinstance(op, Gate):
            kind, mats, diag = _TEMPLATES[name]
            item = Item(kind, mats, tuple(new_slot(p) for p in op.params), diag)
        elif isinstance(op, Gate) and op.num_qubits <= 2 and not _has_free_params(op):
            m = _fixed_matrix(op)
            item = Item("fixed", (m,), (), _is_diag(m))
        else:
            raise ValueError(
                f"adjoint gradient: unsupported instruction {name!r} (measurements, resets "
                "and non-unitary operations cannot be differentiated)"
            )
        if len(qubits) == 1:
            pending.setdefault(qubits[0], []).append(item)
            continue
        for q in qubits:
            flush(q)
        if name == "cx":
            ops.append(Op("cx", qubits, [item], False))
        else:
            ops.append(Op("diag" if item.diag else "dense", qubits, [item], item.diag))
    for q in sorted(pending):
        flush(q)

    first = len(ops)
    for i, o in enumerate(ops):
        o.has_params = any(it.slots for it in o.items)
        if o.has_params and i < first:
            first = i
    ls = np.array([t[0] for t in lin], dtype=np.intp)
    lp = np.array([t[1] for t in lin], dtype=np.intp)
    lc = np.array([t[2] for t in lin], dtype=float)
    return Program(
        n=n,
        num_params=len(params),
        ops=ops,
        first_param_op=first,
        slot_const=np.array(slot_const, dtype=float),
        lin_slot=ls,
        lin_param=lp,
        lin_coeff=lc,
        nonlinear=nonlinear,
        signature=_signature(circuit),
    )


def _signature(circuit: QuantumCircuit) -> tuple:
    return (circuit.num_qubits, len(circuit.data), circuit.num_parameters)


_PROGRAMS: dict[int, Program] = {}
_OBSERVABLES: dict[int, tuple[weakref.ref, int, list, np.ndarray]] = {}
_LOCK = threading.Lock()


def compiled_program(circuit: QuantumCircuit) -> Program:
    """The cached :class:`Program` for ``circuit``, compiling (and transpiling) only once."""
    key = id(circuit)
    prog = _PROGRAMS.get(key)
    if prog is not None and prog.ref() is circuit and prog.signature == _signature(circuit):
        return prog
    prog = _compile(circuit)
    prog.ref = weakref.ref(circuit, lambda _r, k=key: _PROGRAMS.pop(k, None))
    with _LOCK:
        _PROGRAMS[key] = prog
    return prog


def clear_compiled() -> None:
    """Drop cached circuit programs and observable groupings (see ``clear_adjoint_cache``)."""
    with _LOCK:
        _PROGRAMS.clear()
        _OBSERVABLES.clear()


# --------------------------------------------------------------------------- parameters


def slot_angles(
    prog: Program, vals: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, list[tuple[int, float]]]]]:
    """Gate angles for parameter values ``vals``, and d(angle)/d(theta_i) of non-linear slots.

    Linear slots are one ``bincount``; non-linear expressions are bound and differentiated
    symbolically here, once per call, so the kernels only ever see numbers.
    """
    angles = prog.slot_const.copy()
    if prog.lin_slot.size:
        angles += np.bincount(
            prog.lin_slot, weights=prog.lin_coeff * vals[prog.lin_param], minlength=angles.size
        )
    nl_grads: list[tuple[int, list[tuple[int, float]]]] = []
    for slot, expr, plist in prog.nonlinear:
        binding = {p: float(vals[i]) for i, p in plist}
        angles[slot] = float(expr.bind(binding).numeric())
        derivs = []
        for i, p in plist:
            g = expr.gradient(p)
            if isinstance(g, ParameterExpression):
                g = g.bind({q: v for q, v in binding.items() if q in g.parameters}).numeric()
            derivs.append((i, float(complex(g).real)))
        nl_grads.append((slot, derivs))
    return angles, nl_grads


def param_gradient(
    prog: Program,
    slot_grad: np.ndarray,
    nl_grads: list[tuple[int, list[tuple[int, float]]]],
) -> np.ndarray:
    """Chain rule from per-slot gradients to ``d value / d circuit.parameters[i]``."""
    grad = np.zeros(prog.num_params)
    if prog.lin_slot.size:
        grad += np.bincount(
            prog.lin_param,
            weights=prog.lin_coeff * slot_grad[prog.lin_slot],
            minlength=prog.num_params,
        )
    for slot, derivs in nl_grads:
        for i, c in derivs:
            grad[i] += c * slot_grad[slot]
    return grad


# --------------------------------------------------------------------------- matrices


def item_matrix(
    item: Item, angles: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """Gate matrix and, for each angle slot, dU/d(angle)."""
    if item.kind == "fixed":
        return item.mats[0], []
    if item.kind == "half":
        f0, fc, fs = item.mats
        t = angles[item.slots[0]] / 2
        c, s = math.cos(t), math.sin(t)
        return f0 + c * fc + s * fs, [(item.slots[0], (c * fs - s * fc) / 2)]
    if item.kind == "phase":
        f0, f1 = item.mats
        e = complex(math.cos(angles[item.slots[0]]), math.sin(angles[item.slots[0]]))
        return f0 + e * f1, [(item.slots[0], 1j * e * f1)]
    # u / u3
    st, sp, sl = item.slots
    th, ph, la = angles[st], angles[sp], angles[sl]
    c, s = math.cos(th / 2), math.sin(th / 2)
    ep = complex(math.cos(ph), math.sin(ph))
    el = complex(math.cos(la), math.sin(la))
    u = np.array([[c, -el * s], [ep * s, ep * el * c]], dtype=complex)
    d_th = np.array([[-s / 2, -el * c / 2], [ep * c / 2, -ep * el * s / 2]], dtype=complex)
    d_ph = np.array([[0, 0], [1j * ep * s, 1j * ep * el * c]], dtype=complex)
    d_la = np.array([[0, -1j * el * s], [0, 1j * ep * el * c]], dtype=complex)
    return u, [(st, d_th), (sp, d_ph), (sl, d_la)]


# --------------------------------------------------------------------------- observable


def observable_groups(obs: SparsePauliOp, n: int) -> list:
    """``(view shape, slices, phase factor)`` per X-mask group of ``obs``, cached per object."""
    key = id(obs)
    hit = _OBSERVABLES.get(key)
    if (
        hit is not None
        and hit[0]() is obs
        and hit[1] == n
        and np.array_equal(hit[3], obs.coeffs)  # guards against in-place coefficient edits
    ):
        return hit[2]
    if obs.num_qubits != n:
        raise ValueError(f"observable has {obs.num_qubits} qubits, circuit has {n}")
    xs = np.asarray(obs.paulis.x, dtype=bool)
    zs = np.asarray(obs.paulis.z, dtype=bool)
    ks = (np.asarray(obs.paulis.phase) + np.count_nonzero(xs & zs, axis=1)) % 4
    coeffs = np.asarray(obs.coeffs, dtype=complex) * ((-1j) ** ks)
    weights = 1 << np.arange(n, dtype=np.int64)
    xm = xs.astype(np.int64) @ weights
    groups = []
    for xmask in np.unique(xm):
        rows = np.nonzero(xm == xmask)[0]
        c = coeffs[rows]
        if np.all(c == 0):
            continue
        flip = [bool((int(xmask) >> q) & 1) for q in range(n)]
        union = np.any(zs[rows], axis=0)
        # runs over qubits n-1..0 with equal (flip, in-union) flags
        shape: list[int] = []
        fshape: list[int] = []
        sel: list[slice] = []
        q = n - 1
        while q >= 0:
            tag = (flip[q], bool(union[q]))
            run = 0
            while q >= 0 and (flip[q], bool(union[q])) == tag:
                run += 1
                q -= 1
            shape.append(1 << run)
            fshape.append((1 << run) if tag[1] else 1)
            sel.append(slice(None, None, -1) if tag[0] else slice(None))
        uq = [q for q in range(n) if union[q]]  # compact bit t <-> union qubit uq[t]
        j = np.arange(1 << len(uq), dtype=np.int64)
        factor = np.zeros(j.shape, dtype=complex)
        for r, cr in zip(rows, c):
            zc = 0
            for t, qq in enumerate(uq):
                if zs[r, qq]:
                    zc |= 1 << t
            sign = 1 - 2 * (np.bitwise_count(j & zc) & 1).astype(np.float64)
            factor += cr * sign
        if np.all(np.abs(factor.imag) < 1e-15 * max(1.0, np.abs(factor).max())):
            factor = factor.real.copy()
        groups.append((tuple(shape), tuple(sel), factor.reshape(fshape)))
    ref = weakref.ref(obs, lambda _r, k=key: _OBSERVABLES.pop(k, None))
    _OBSERVABLES[key] = (ref, n, groups, np.array(obs.coeffs, copy=True))
    return groups
