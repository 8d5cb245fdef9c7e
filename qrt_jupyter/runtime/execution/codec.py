"""Compact, self-describing bytes for results and interim results in the store.

A JSON header describes the object; numpy arrays (evs, stds, the packed bits of
a BitArray) follow as raw buffers, so a PrimitiveResult round-trips exactly and
cheaply. Objects the format does not know fall back to pickle, because a
program's return value is the user's own data in the user's own store.
"""

from __future__ import annotations

import json
import pickle
import struct
from typing import Any

import numpy as np
from qiskit.primitives import BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult

MAGIC = b"QRT1"
_HEADER = struct.Struct("<4sI")


class _Encoder:
    def __init__(self) -> None:
        self.buffers: list[bytes] = []

    def array(self, arr: np.ndarray) -> dict:
        arr = np.ascontiguousarray(arr)
        if arr.dtype == object:
            return {"__pickle__": self._blob(pickle.dumps(arr))}
        return {"__nd__": self._blob(arr.tobytes()), "dtype": arr.dtype.str, "shape": arr.shape}

    def _blob(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def encode(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if np.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, np.generic):
            return self.encode(obj.item())
        if isinstance(obj, complex):
            return {"__complex__": [obj.real, obj.imag]}
        if isinstance(obj, dict) and all(isinstance(k, str) for k in obj):
            if any(k.startswith("__") and k.endswith("__") for k in obj):
                return {"__dict__": [[k, self.encode(v)] for k, v in obj.items()]}
            return {k: self.encode(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.encode(v) for v in obj]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v) for v in obj]}
        if isinstance(obj, BitArray):
            return {"__bitarray__": self.array(obj.array), "num_bits": obj.num_bits}
        if isinstance(obj, DataBin):
            return {
                "__databin__": {k: self.encode(v) for k, v in obj.items()},
                "shape": list(obj.shape),
            }
        if isinstance(obj, (SamplerPubResult, PubResult)):
            return {
                "__pubresult__": type(obj) is SamplerPubResult,
                "data": self.encode(obj.data),
                "metadata": self.encode(obj.metadata),
            }
        if isinstance(obj, PrimitiveResult):
            return {
                "__primitiveresult__": [self.encode(r) for r in obj],
                "metadata": self.encode(obj.metadata),
            }
        return {"__pickle__": self._blob(pickle.dumps(obj))}


def encode(obj: Any) -> bytes:
    """Bytes for ``obj``: header, JSON description, then raw buffers."""
    enc = _Encoder()
    doc = enc.encode(obj)
    sizes = [len(b) for b in enc.buffers]
    header = json.dumps({"doc": doc, "sizes": sizes}, separators=(",", ":")).encode()
    return b"".join([_HEADER.pack(MAGIC, len(header)), header, *enc.buffers])


def decode(data: bytes) -> Any:
    """The object :func:`encode` was given."""
    magic, header_len = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ValueError("not a qrt_jupyter encoded value")
    start = _HEADER.size
    header = json.loads(data[start : start + header_len])
    offset = start + header_len
    buffers = []
    view = memoryview(data)
    for size in header["sizes"]:
        buffers.append(view[offset : offset + size])
        offset += size
    return _decode(header["doc"], buffers)


def _decode(doc: Any, buffers: list[memoryview]) -> Any:
    if isinstance(doc, list):
        return [_decode(v, buffers) for v in doc]
    if not isinstance(doc, dict):
        return doc
    if "__nd__" in doc:
        raw = buffers[doc["__nd__"]]
        return np.frombuffer(raw, dtype=np.dtype(doc["dtype"])).reshape(doc["shape"]).copy()
    if "__pickle__" in doc:
        return pickle.loads(buffers[doc["__pickle__"]])
    if "__float__" in doc:
        return float(doc["__float__"])
    if "__complex__" in doc:
        re, im = doc["__complex__"]
        return complex(re, im)
    if "__tuple__" in doc:
        return tuple(_decode(v, buffers) for v in doc["__tuple__"])
    if "__dict__" in doc:
        return {k: _decode(v, buffers) for k, v in doc["__dict__"]}
    if "__bitarray__" in doc:
        return BitArray(_decode(doc["__bitarray__"], buffers), doc["num_bits"])
    if "__databin__" in doc:
        fields = {k: _decode(v, buffers) for k, v in doc["__databin__"].items()}
        return DataBin(**fields, shape=tuple(doc["shape"]))
    if "__pubresult__" in doc:
        cls = SamplerPubResult if doc["__pubresult__"] else PubResult
        return cls(_decode(doc["data"], buffers), metadata=_decode(doc["metadata"], buffers))
    if "__primitiveresult__" in doc:
        return PrimitiveResult(
            [_decode(r, buffers) for r in doc["__primitiveresult__"]],
            metadata=_decode(doc["metadata"], buffers),
        )
    return {k: _decode(v, buffers) for k, v in doc.items()}


def to_json(obj: Any) -> Any:
    """A JSON-safe rendering for the store's readable columns and the REST API."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else repr(obj)
    if isinstance(obj, np.generic):
        return to_json(obj.item())
    if isinstance(obj, np.ndarray):
        return to_json(obj.tolist()) if obj.size <= 64 else f"<array shape={obj.shape}>"
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    return repr(obj)
