"""Job and session ids and the status words, shared by the runtime, the store and the server.

The status strings are qiskit-ibm-runtime's, so code that compares them ports unchanged.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Literal

JobStatus = Literal["QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED"]
JOB_STATUSES: tuple[str, ...] = ("QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED")
#: A job in one of these states never changes again.
JOB_FINAL_STATES: tuple[str, ...] = ("DONE", "ERROR", "CANCELLED")
PENDING_STATES: tuple[str, ...] = ("QUEUED", "RUNNING")
#: What the store records of a session or batch ("inactive" is an open one, deactivated).
SESSION_STATES: tuple[str, ...] = ("open", "inactive", "closed", "cancelled", "expired")

#: What the runtime generates; also keeps ids out of paths and SQL.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_job_id() -> str:
    return secrets.token_hex(10)


def new_session_id() -> str:
    return uuid.uuid4().hex[:20]


def is_id(value: object) -> bool:
    """Whether ``value`` is a well-formed job or session id."""
    return isinstance(value, str) and ID_PATTERN.match(value) is not None
