"""Aer's per-shot memory as one uint64 array, shaped like the list of hex strings.

Aer returns ``memory=True`` results as a list of hex strings, one per shot. A worker
process (``ProcessExecutor``) converts that list to integers once, where it costs no time
of the submitting process, and sends back 8 bytes per shot instead of a pickled string;
the sampler reads ``values`` directly. Everything else sees the usual hex strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def hex_to_uint64(memory: list[str]) -> np.ndarray:
    """``[int(word, 16) for word in memory]`` as uint64; OverflowError beyond 64 bits.

    Shots repeat few distinct words, so each distinct word is converted once (half the
    time of converting every shot for a Bell circuit).
    """
    table = {word: int(word, 16) for word in set(memory)}
    return np.fromiter(map(table.__getitem__, memory), dtype=np.uint64, count=len(memory))


class HexMemory(Sequence):
    """A read-only sequence of ``hex(value)`` strings backed by a uint64 array."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    @classmethod
    def from_hex(cls, memory: list[str]) -> HexMemory | None:
        """The packed form of ``memory``; None when a shot does not fit in 64 bits."""
        try:
            values = hex_to_uint64(memory)
        except (OverflowError, ValueError, TypeError):
            return None
        return cls(values)

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [hex(int(v)) for v in self.values[index]]
        return hex(int(self.values[index]))

    def __iter__(self):
        return (hex(v) for v in self.values.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HexMemory):
            return bool(np.array_equal(self.values, other.values))
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def __reduce__(self) -> tuple:
        return (HexMemory, (self.values,))


def pack_memory(result: Any) -> None:
    """Replace each experiment's list of hex strings by a ``HexMemory``, in place."""
    for experiment in getattr(result, "results", ()):
        data = getattr(experiment, "data", None)
        memory = getattr(data, "memory", None)
        if isinstance(memory, list) and memory and isinstance(memory[0], str):
            packed = HexMemory.from_hex(memory)
            if packed is not None:
                data.memory = packed
