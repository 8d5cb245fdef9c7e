"""What the sidebar's REST API knows and does, independent of tornado.

The handlers stay a few lines per verb; the logic lives here: reading the store
that every kernel writes, turning rows into JSON-able models (times as UNIX
seconds), validating ids and filters, and writing cancel requests that the
kernel owning a job or session acts on. Keeping it apart from the web layer
means it is tested and reasoned about as plain Python, as dask-labextension
does with its cluster manager.

The store is opened on first use, not when the server starts: a store that
cannot be opened (not ours, newer schema) turns into a 503 with the reason on
every endpoint instead of a server extension that fails to load.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# the runtime's own id pattern, status words and duration (runtime.core loads no Qiskit)
from qrt_jupyter.runtime.core.durations import job_duration
from qrt_jupyter.runtime.core.ids import ID_PATTERN, JOB_FINAL_STATES, JOB_STATUSES

if TYPE_CHECKING:  # opened lazily: a store that fails to open or import answers 503
    from qrt_jupyter.runtime.core.store import Store

#: the ``state`` filter of GET sessions
SESSION_FILTERS = ("open", "all")
MAX_LIMIT = 500
#: Newest jobs listed in a session's detail (the counts cover all of them).
SESSION_JOB_LIST_LIMIT = 200
MAX_POLL_TIMEOUT = 60.0
#: How often a long-poll looks at the store's change sequence (seconds).
POLL_INTERVAL = 0.2
#: Jobs of dead kernels are looked for at most this often (seconds).
REAP_INTERVAL = 2.0


class ApiError(Exception):
    """A request the API refuses; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class StoreUnavailable(ApiError):
    status = 503


def check_id(value: str, what: str = "job") -> str:
    """Return ``value`` if it is a well-formed id, else raise BadRequest."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        shown = value if isinstance(value, str) and len(value) <= 80 else f"{str(value)[:80]}…"
        raise BadRequest(
            f"{shown!r} is not a {what} id: ids are 1 to 64 letters, digits, '-' or '_'."
        )
    return value


def check_limit(limit: int, name: str = "limit") -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"{name} must be between 1 and {MAX_LIMIT}, not {limit}.")
    return limit


class RuntimeManager:
    """Sessions and jobs of the store under ``$QRT_HOME`` (or ``store_path``) as JSON models."""

    def __init__(self, store_path: str | Path | None = None, *,
                 reap_interval: float = REAP_INTERVAL) -> None:
        self._store_path = Path(store_path) if store_path is not None else None
        self._store: Store | None = None
        self._open_lock = threading.Lock()
        self._reap_interval = reap_interval
        self._last_reap = 0.0

    # -- the store -------------------------------------------------------------
    def preload(self) -> None:
        """Import the store module ahead of the first request; errors wait for that request."""
        try:
            import qrt_jupyter.runtime.core.store  # noqa: F401
        except Exception:  # noqa: BLE001 - reported by the first request instead
            pass

    @property
    def store(self) -> Store:
        """The store, opened on first use; StoreUnavailable says why it cannot be."""
        if self._store is None:
            with self._open_lock:
                if self._store is None:
                    try:
                        from qrt_jupyter.runtime.core.store import Store, default_home

                        path = self._store_path or default_home() / "store.sqlite"
                        self._store = Store(path)
                    except Exception as exc:  # noqa: BLE001 - any failure becomes a 503
                        raise StoreUnavailable(
                            f"The qrt_jupyter job store cannot be opened: {exc}"
                        ) from exc
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _reap(self, force: bool = False) -> None:
        """Mark jobs and sessions of kernels that died (throttled; it reads every pending job)."""
        now = time.monotonic()
        if force or now - self._last_reap >= self._reap_interval:
            self._last_reap = now
            self.store.reap_orphans()

    def change_seq(self) -> int:
        return self.store.change_seq()

    # -- status ----------------------------------------------------------------
    def status(self) -> dict[str, int]:
        self._reap()
        seq = self.store.change_seq()
        counts = self.store.job_status_counts()
        return {
            "running": counts.get("RUNNING", 0),
            "queued": counts.get("QUEUED", 0),
            "open_sessions": self.store.count_sessions(state="open"),
            "seq": seq,
        }

    # -- sessions ----------------------------------------------------------------
    def sessions(self, state: str = "open", limit: int = 50) -> dict[str, Any]:
        if state not in SESSION_FILTERS:
            raise BadRequest(f"state must be 'open' or 'all', not {state!r}.")
        check_limit(limit)
        self._reap()
        seq = self.store.change_seq()  # read first: a change after it shows in the next poll
        rows = self.store.list_sessions(state="open" if state == "open" else None, limit=limit)
        now = time.time()
        return {"sessions": [self._session_model(r, now) for r in rows], "seq": seq}

    def session(self, session_id: str) -> dict[str, Any]:
        check_id(session_id, "session")
        row = self._session_row(session_id)
        model = self._session_model(row, time.time())
        model["job_list"] = self._job_models(
            self.store.list_jobs(session_id=session_id, limit=SESSION_JOB_LIST_LIMIT)
        )
        return model

    def end_session(self, session_id: str, how: str) -> dict[str, Any]:
        """Ask the kernel that owns the session to close ('close') or cancel ('cancel') it."""
        if how not in ("close", "cancel"):
            raise BadRequest(f"A session can be closed or cancelled, not {how!r}.")
        check_id(session_id, "session")
        self._reap(force=True)
        row = self._session_row(session_id)
        if row["state"] not in ("open", "inactive"):  # a deactivated session still ends
            raise Conflict(
                f"Session {session_id} is {row['state']}; only an open session can be "
                f"{'closed' if how == 'close' else 'cancelled'}."
            )
        self.store.request_session_cancel(session_id, how)
        return {"ok": True, "requested": how}

    def _session_row(self, session_id: str) -> dict:
        row = self.store.get_session(session_id)
        if row is None:
            raise NotFound(f"No session {session_id!r} in the store.")
        return row

    def _session_model(self, row: dict, now: float) -> dict[str, Any]:
        age = now - row["created"]
        max_time = row["max_time"]
        # max_time counts from the first job's start, as the session itself counts it
        started = self.store.session_started(row["id"])
        remaining = None
        if max_time is not None:
            remaining = max_time if started is None else max(0.0, max_time - (now - started))
        # an open session idle past its TTL is deactivated until its next job starts; the
        # store's column (schema v3) is read with .get so an older row reads as active
        active = bool(row.get("active", 1))
        state = "inactive" if row["state"] == "open" and not active else row["state"]
        return {
            "id": row["id"],
            "mode": row["mode"],
            "backend": row["backend"],
            "state": state,
            "active": active,
            "created": row["created"],
            "closed": row["closed"],
            "max_time": max_time,
            "ttl": row["ttl"],
            "age": age,
            "started": started,
            "remaining": remaining,
            "jobs": self.store.session_job_counts(row["id"]),
        }

    # -- jobs ----------------------------------------------------------------
    def jobs(self, *, limit: int = 20, offset: int = 0, status: Sequence[str] = (),
             session_id: str | None = None, program: str | None = None) -> dict[str, Any]:
        check_limit(limit)
        if offset < 0:
            raise BadRequest(f"offset must be 0 or more, not {offset}.")
        statuses = [s.strip().upper() for s in status if s.strip()]
        unknown = [s for s in statuses if s not in JOB_STATUSES]
        if unknown:
            raise BadRequest(
                f"Unknown job status {', '.join(unknown)}; use {', '.join(JOB_STATUSES)}."
            )
        if session_id is not None:
            check_id(session_id, "session")
        if program is not None and not 1 <= len(program) <= 200:
            raise BadRequest("program must be a name of 1 to 200 characters.")
        self._reap()
        seq = self.store.change_seq()
        filters: dict[str, Any] = {"session_id": session_id, "program": program,
                                   "status": statuses or None}
        rows = self.store.list_jobs(limit=limit, offset=offset, **filters)
        total = self.store.count_matching_jobs(**filters)
        return {"jobs": self._job_models(rows), "total": total, "seq": seq}

    def job(self, job_id: str, since: int = -1) -> dict[str, Any]:
        """A job with metrics, logs, status history and the interim results after ``since``."""
        check_id(job_id)
        row = self._job_row(job_id)
        model = self._job_model(row, time.time())
        interim = self.store.interim(job_id, since=since, payload=False)
        model.update(
            metrics=row["metrics"],
            options=row["options"],
            inputs=row["inputs"],
            logs=[{"at": e["at"], "level": e["level"], "message": e["message"]}
                  for e in self.store.logs(job_id)],
            events=[{"status": e["status"], "at": e["at"]} for e in self.store.job_events(job_id)],
            interim=[{"seq": r["seq"], "at": r["at"], "value": _decode_summary(r["summary"])}
                     for r in interim],
            # the newest result sent; with none sent, never more than ``since``, so that
            # ?since=last_seq cannot skip a result published between the two reads
            last_seq=interim[-1]["seq"] if interim else min(
                max(since, -1), self.store.last_interim_seq(job_id)
            ),
        )
        return finite(model)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """Write a cancel request; the owning kernel's watcher cancels the job within ~0.2 s."""
        check_id(job_id)
        row = self._job_row(job_id)
        if row["status"] in JOB_FINAL_STATES:
            raise Conflict(f"Job {job_id} is already {row['status']}; it cannot be cancelled.")
        self.store.request_cancel(job_id)
        self._reap(force=True)  # a job whose kernel died is ended here, not left RUNNING
        return {"ok": True, "status": self._job_row(job_id)["status"]}

    def _job_row(self, job_id: str) -> dict:
        row = self.store.get_job(job_id)
        if row is None:
            raise NotFound(f"No job {job_id!r} in the store.")
        return row

    def _job_models(self, rows: list[dict]) -> list[dict[str, Any]]:
        now = time.time()
        return [self._job_model(r, now) for r in rows]

    @staticmethod
    def _job_model(row: dict, now: float) -> dict[str, Any]:
        started, finished = row["started"], row["finished"]
        duration = job_duration(started, finished, now)
        return {
            "id": row["id"],
            "session_id": row["session_id"],
            "kind": row["kind"],
            "program": row["program"],
            "primitive": row["program"] or row["kind"],
            "backend": row["backend"],
            "status": row["status"],
            "created": row["created"],
            "started": started,
            "finished": finished,
            "duration": duration,
            "tags": row["tags"],
            "error": row["error"],
            "cancel_requested": bool(row["cancel_requested"]),
        }

    # -- live updates ------------------------------------------------------------
    async def wait_for_change(self, since: int, timeout: float = 20.0, *,
                              gone: Callable[[], bool] = lambda: False,
                              interval: float = POLL_INTERVAL) -> dict[str, int]:
        """Return ``{"seq": ...}`` once the store changed after ``since`` or ``timeout`` passed.

        Each look at the store runs in a worker thread and the waits are
        ``asyncio.sleep``, so any number of waiting clients never block the
        server. ``gone()`` ends the wait early when the client disconnected.
        """
        if timeout < 0:
            raise BadRequest(f"timeout must be 0 or more seconds, not {timeout}.")
        timeout = min(timeout, MAX_POLL_TIMEOUT)
        deadline = time.monotonic() + timeout
        while True:
            seq = await asyncio.to_thread(self._seq_after_reap)
            left = deadline - time.monotonic()
            if seq > since or left <= 0 or gone():
                return {"seq": seq}
            await asyncio.sleep(min(interval, left))

    def _seq_after_reap(self) -> int:
        self._reap()
        return self.store.change_seq()


def _decode_summary(summary: str) -> Any:
    try:
        return json.loads(summary)
    except ValueError:
        return summary


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None: browsers reject them in JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(model: Any) -> str:
    """Strict JSON text of a model (no NaN, which JSON.parse refuses)."""
    try:
        return json.dumps(model, allow_nan=False)
    except ValueError:
        return json.dumps(finite(model), allow_nan=False)
