"""The store's SQL schema, as forward-only migrations.

``MIGRATIONS[i]`` brings a store from schema version i to i + 1; ``PRAGMA user_version``
holds the version, ``PRAGMA application_id`` marks the file as ours.
"""

from __future__ import annotations

#: Written to ``PRAGMA application_id``: "QRT1". Identifies the file as ours.
APPLICATION_ID = 0x51525431

_SCHEMA_V1 = """
CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
INSERT INTO counter (id, seq) VALUES (1, 0);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    backend TEXT NOT NULL,
    max_time REAL,
    ttl REAL,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    closed REAL,
    owner TEXT NOT NULL,
    changed INTEGER NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    session_id TEXT,
    kind TEXT NOT NULL,
    program TEXT,
    backend TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    tags TEXT NOT NULL DEFAULT '[]',
    inputs TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    owner TEXT NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    result BLOB,
    changed INTEGER NOT NULL
);
CREATE INDEX jobs_session ON jobs (session_id, created);
CREATE INDEX jobs_created ON jobs (created);
CREATE INDEX jobs_changed ON jobs (changed);
CREATE TABLE job_events (
    job_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id);
CREATE TABLE job_logs (
    job_id TEXT NOT NULL,
    at REAL NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX job_logs_job ON job_logs (job_id);
CREATE TABLE interim (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    payload BLOB NOT NULL,
    summary TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
"""

_CHECKPOINTS_V2 = """
CREATE TABLE checkpoints (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);
"""

#: v3: a session's deactivation (idle past its TTL) is recorded, so that the sidebar and
#: other processes see what the owning notebook sees
_SESSION_ACTIVE_V3 = """
ALTER TABLE sessions ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
"""

#: MIGRATIONS[i] brings a store from schema version i to i + 1.
MIGRATIONS: list[str] = [_SCHEMA_V1, _CHECKPOINTS_V2, _SESSION_ACTIVE_V3]
SCHEMA_VERSION = len(MIGRATIONS)
