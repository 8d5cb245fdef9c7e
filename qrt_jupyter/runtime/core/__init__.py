"""The runtime's core: what needs no Qiskit.

Errors, ids and status literals, durations, events, settings, the current mode and
the SQLite store. The Jupyter server extension reads the store through this layer
alone, so it starts without loading Qiskit or Aer.
"""
