"""An executor whose simulations run in a warm pool of worker processes.

Aer keeps the interpreter lock while it simulates, so the worker threads of a Batch
on the local executor take turns. Here each backend call goes to one of ``workers``
processes (never a fork of this threaded process: each is a fresh interpreter on two
pipes, which also keeps it from re-running the user's ``__main__``), so that as many
simulations run at once as there are workers, while this process prepares and records
the next jobs.

Every worker keeps, per call key:

* the backend, sent pickled the first time that worker sees it (with its options and
  noise model);
* the circuits, sent the first time that worker sees them, so that a repeated circuit is
  neither pickled again nor re-assembled by Aer (the local executor's assembly cache
  works on the worker's copy).

The per-shot memory of a result comes back as one uint64 array (``memory.HexMemory``),
converted in the worker, instead of a pickled list of hex strings.

Which worker knows which key is tracked here, per worker. A worker that dies fails the
call it was running with a clear error and is replaced for the next one.
"""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
import threading
import weakref
from collections import OrderedDict
from multiprocessing.connection import Connection
from typing import Any

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.result import Result

#: circuits a worker keeps (least recently used dropped first)
_WORKER_CIRCUITS = 1024


class WorkerDiedError(RuntimeError):
    """The worker process running a call exited before it answered."""


class _Keys:
    """Stable keys for live objects: the same object gets the same key while it lives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, tuple[weakref.ref, int, int]] = {}
        self._count = itertools.count(1)

    def key(self, obj: Any, size: int = 0) -> int:
        with self._lock:
            known = self._by_id.get(id(obj))
            if known is not None and known[0]() is obj and known[1] == size:
                return known[2]
            key = next(self._count)
            ident = id(obj)
            try:
                ref = weakref.ref(obj, lambda _r, i=ident, k=key: self._drop(i, k))
            except TypeError:
                return -key  # not weak-referenceable: never cached
            self._by_id[id(obj)] = (ref, size, key)
            return key

    def _drop(self, ident: int, key: int) -> None:
        with self._lock:
            known = self._by_id.get(ident)
            if known is not None and known[2] == key:
                del self._by_id[ident]


class _Worker:
    """One worker process (a fresh interpreter, not a fork) and what it has been sent."""

    def __init__(self, index: int) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        code = ("import sys; "
                "from qrt_jupyter.runtime.backends.executors.process import _worker_entry; "
                f"_worker_entry({to_child_r}, {from_child_w})")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL, close_fds=True, env=_worker_env(),
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.index = index
        self._send = Connection(to_child_w, readable=False)
        self._recv = Connection(from_child_r, writable=False)
        self.backends: set[int] = set()
        self.circuits: OrderedDict[int, None] = OrderedDict()
        self.calls = 0
        #: send lock; tickets: ``sent`` messages so far, ``served`` replies read so far
        self.lock = threading.Lock()
        self.turn = threading.Condition()
        self.sent = 0
        self.served = 0
        self.inflight = 0
        self.dead = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, message: Any) -> None:
        self._send.send(message)

    def recv(self) -> Any:
        return self._recv.recv()

    def poll(self, timeout: float) -> bool:
        return self._recv.poll(timeout)

    def exitcode(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        try:
            self._send.send(None)
        except (OSError, ValueError):
            pass
        try:
            self.process.wait(1.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(1.0)
        for conn in (self._send, self._recv):
            try:
                conn.close()
            except OSError:
                pass


def _worker_env() -> dict[str, str]:
    """This process's environment, with one OpenMP thread per worker.

    Aer's OpenMP threads spin while they wait; with several workers on a small machine
    they would take the cores from each other (a Bell circuit: 2.4 ms instead of 0.9 ms
    per call with two workers on two cores). The pool's parallelism is its processes.
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    path = os.pathsep.join(p for p in sys.path if p)
    env["PYTHONPATH"] = path
    return env


class ProcessExecutor:
    """Runs backend calls in ``workers`` warm worker processes.

    ``capacity`` (the number of jobs that may run at once) defaults to twice the number of
    workers, so that while one job's simulation runs in a worker, another job prepares its
    call or records its result in this process.
    """

    name = "processes"

    def __init__(self, workers: int | None = None, capacity: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.capacity = max(1, capacity or 2 * self.workers)
        self._keys = _Keys()
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self._closed = False
        self._started = 0
        for _ in range(self.workers):
            self._spawn()

    # -- pool ------------------------------------------------------------------------------
    def _spawn(self) -> None:
        with self._lock:
            index = self._started
            self._started += 1
            self._all.append(_Worker(index))

    def _retire(self, worker: _Worker) -> None:
        """Take a dead worker out of the pool (once) and start another in its place."""
        with self._lock:
            if worker not in self._all:
                return
            self._all.remove(worker)
        try:
            worker.stop()
        except Exception:  # noqa: BLE001 - it is gone either way
            pass
        if not self._closed:
            self._spawn()

    def _pick(self) -> _Worker:
        """The worker with the fewest calls in flight (calls to one worker are pipelined).

        An idle worker whose process has exited (killed, out of memory) is replaced
        first, so that a job is never sent to a process that is gone.
        """
        with self._lock:
            gone = [w for w in self._all if w.inflight == 0 and w.exitcode() is not None]
        for worker in gone:
            self._retire(worker)
        with self._lock:
            if not self._all:
                raise RuntimeError("The process executor was closed.")
            worker = min(self._all, key=lambda w: w.inflight)
            worker.inflight += 1
            return worker

    def warm(self, timeout: float = 120.0) -> None:
        """Wait until every worker has started and imported the simulator."""
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            with worker.lock:
                worker.inflight += 1
            try:
                self._call(worker, lambda: ("ping",), timeout=timeout)
            finally:
                with worker.lock:
                    worker.inflight -= 1

    def close(self) -> None:
        """Stop the worker processes (the executor is unusable afterwards)."""
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), []
        for worker in workers:
            worker.stop()

    def _call(self, worker: _Worker, make_message: Any, timeout: float | None = None) -> Any:
        """Send a message and wait for its reply.

        Several calls may be in flight on one worker: the worker answers in the order it was
        sent, so each caller takes a ticket when it sends and reads the reply of its ticket
        when the callers before it have read theirs. The worker thus has its next call
        waiting when it finishes one, instead of waiting for this process to send it.
        """
        with worker.lock:
            ticket = worker.sent
            try:
                if worker.dead:
                    raise EOFError
                worker.send(make_message())
            except (EOFError, OSError, ValueError) as exc:
                worker.dead = True
                failure: BaseException | None = exc
            else:
                failure = None
            worker.sent += 1
        try:
            with worker.turn:
                while worker.served != ticket:
                    worker.turn.wait()
            if failure is None and not worker.dead:
                try:
                    if timeout is not None and not worker.poll(timeout):
                        raise TimeoutError("a worker process did not answer in time")
                    return worker.recv()
                except (EOFError, OSError) as exc:
                    worker.dead = True
                    failure = exc
            code = worker.exitcode()
            self._retire(worker)
            raise WorkerDiedError(
                f"The worker process running this simulation exited (exit code {code}) "
                f"before it answered ({type(failure).__name__ if failure else 'EOFError'}). "
                "It was replaced; run the job again."
            )
        finally:
            with worker.turn:
                worker.served += 1
                worker.turn.notify_all()
            with self._lock:
                worker.inflight -= 1

    # -- the executor interface ----------------------------------------------------------------
    def run_circuits(self, backend: BackendV2, circuits: list[QuantumCircuit],
                     parameter_binds: list[dict] | None, run_options: dict[str, Any]) -> Result:
        if self._closed:
            raise RuntimeError("The process executor was closed.")
        backend_key = self._keys.key(backend)
        circuit_keys = [self._keys.key(c, len(c.data)) if isinstance(c, QuantumCircuit) else 0
                        for c in circuits]
        worker = self._pick()

        def message() -> tuple:
            # called under the worker's send lock: what the worker will hold once it has
            # read this message is recorded in the order the worker reads them
            backend_part: Any = backend_key
            if backend_key <= 0 or backend_key not in worker.backends:
                backend_part = (backend_key, _backend_payload(backend))
                if backend_key > 0:
                    worker.backends.add(backend_key)
            circuit_part: list[Any] = []
            for key, circuit in zip(circuit_keys, circuits):
                if key > 0 and key in worker.circuits:
                    worker.circuits.move_to_end(key)
                    circuit_part.append(key)
                else:
                    circuit_part.append((key, circuit))
                    if key > 0:
                        worker.circuits[key] = None
            while len(worker.circuits) > _WORKER_CIRCUITS:
                worker.circuits.popitem(last=False)
            worker.calls += 1
            return ("run", backend_part, circuit_part, parameter_binds, run_options)

        kind, payload = self._call(worker, message)
        if kind == "error":
            exc_type, text = payload
            raise RuntimeError(f"{exc_type} in a worker process: {text}")
        return payload

    def describe(self) -> dict[str, Any]:
        with self._lock:
            pids = [w.pid for w in self._all]
        return {"executor": self.name, "capacity": self.capacity, "workers": self.workers,
                "pids": pids}


def _backend_payload(backend: BackendV2) -> bytes:
    """The pickled backend, sent once per worker (options and noise model included)."""
    return pickle.dumps(backend, protocol=pickle.HIGHEST_PROTOCOL)


# -- the worker process ------------------------------------------------------------------------
def _worker_entry(read_fd: int, write_fd: int) -> None:  # pragma: no cover - in the child
    """The worker process's main loop, on the two pipe ends it inherited."""
    _worker_main(Connection(read_fd, writable=False), Connection(write_fd, readable=False))


def _worker_main(inbox: Any, conn: Any) -> None:  # pragma: no cover - runs in the child
    from .local import LocalExecutor
    from .memory import pack_memory

    executor = LocalExecutor(1)
    backends: dict[int, Any] = {}
    circuits: OrderedDict[int, QuantumCircuit] = OrderedDict()
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message is None:
            return
        if message[0] == "ping":
            conn.send(("ok", os.getpid()))
            continue
        try:
            _, backend_part, circuit_part, binds, run_options = message
            # circuits first: this process records them as sent even if the call fails
            batch = []
            for part in circuit_part:
                if isinstance(part, tuple):
                    key, circuit = part
                    if key > 0:
                        circuits[key] = circuit
                        circuits.move_to_end(key)
                        while len(circuits) > _WORKER_CIRCUITS:
                            circuits.popitem(last=False)
                else:
                    circuit = circuits[part]
                    circuits.move_to_end(part)
                batch.append(circuit)
            if isinstance(backend_part, tuple):
                key, payload = backend_part
                try:
                    backend = _rebuild_backend(payload)
                except Exception as exc:  # noqa: BLE001 - every later call says so too
                    backend = exc
                if key > 0:
                    backends[key] = backend
            else:
                backend = backends[backend_part]
            if isinstance(backend, Exception):
                raise RuntimeError(f"the backend could not be unpickled: {backend!r}")
            result = executor.run_circuits(backend, batch, binds, run_options)
            pack_memory(result)
            reply: tuple = ("ok", result)
        except BaseException as exc:  # noqa: BLE001 - sent back as the job's error
            reply = ("error", (type(exc).__name__, str(exc)))
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send(("error", (type(exc).__name__, f"could not send the result: {exc}")))


def _rebuild_backend(payload: bytes) -> Any:  # pragma: no cover - runs in the child
    return pickle.loads(payload)


_shared: ProcessExecutor | None = None
_shared_lock = threading.Lock()


def shared_process_executor() -> ProcessExecutor:
    """The process-wide process executor (``executor="processes"``), started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = ProcessExecutor()
        return _shared
