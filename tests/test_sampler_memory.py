"""The sampler's uint64 memory conversion equals qiskit's bit-by-bit helpers."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.primitives.backend_sampler_v2 import (
    _analyze_circuit,
    _memory_array,
    _samples_to_packed_array,
)

from qrt_jupyter import SamplerV2
from qrt_jupyter.runtime.primitives.sampler import _packed_registers


@pytest.mark.parametrize("sizes", [(2,), (1, 7), (3, 9, 5), (8, 8, 16), (13, 40, 11), (64,)])
def test_packed_registers_match_qiskit(sizes):
    circuit = QuantumCircuit(QuantumRegister(1),
                             *[ClassicalRegister(n, f"c{k}") for k, n in enumerate(sizes)])
    meas_info, max_num_bytes = _analyze_circuit(circuit)
    total = sum(sizes)
    rng = np.random.default_rng(total)
    words = [hex(int.from_bytes(rng.bytes(8), "little") & ((1 << total) - 1))
             for _ in range(500)]
    words += ["0x0", hex((1 << total) - 1)]
    samples = _memory_array([words], max_num_bytes)[0]
    got = _packed_registers(words, meas_info)
    for item, packed in zip(meas_info, got):
        expected = _samples_to_packed_array(samples, item.num_bits, item.start)
        assert packed.dtype == np.uint8
        np.testing.assert_array_equal(packed, expected)


def test_sampler_registers_and_rows(service):
    qc = QuantumCircuit(QuantumRegister(3), ClassicalRegister(1, "a"), ClassicalRegister(2, "b"))
    qc.x(0)
    qc.h(1)
    qc.measure(0, 0)
    qc.measure([1, 2], [1, 2])
    sampler = SamplerV2(mode=service.backend("aer_simulator"),
                        options={"simulator": {"seed_simulator": 3}})
    data = sampler.run([qc], shots=200).result()[0].data
    assert data.a.get_counts() == {"1": 200}
    assert set(data.b.get_counts()) <= {"00", "01"} and data.b.num_shots == 200
