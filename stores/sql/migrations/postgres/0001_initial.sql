-- Sessions, filed under the SHA-256 lookup key of their ID. `expires_at` is the earlier
-- of the two deadlines, kept in step by every write, so that liveness and purging use
-- one indexed column.
CREATE TABLE IF NOT EXISTS {p}sessions (
    lookup_key BYTEA PRIMARY KEY,
    subject BYTEA NOT NULL,
    data BYTEA NOT NULL,
    created BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    idle_deadline BIGINT NOT NULL,
    absolute_deadline BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}sessions_subject ON {p}sessions (subject, expires_at);
CREATE INDEX IF NOT EXISTS {p}sessions_expires_at ON {p}sessions (expires_at);
-- One row per subject, locked by the transactions that create, rotate or remove the
-- subject's sessions, so that limits and "log out everywhere" see every session.
CREATE TABLE IF NOT EXISTS {p}subjects (
    subject BYTEA PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS {p}revocations (
    lookup_key BYTEA PRIMARY KEY,
    revoked_until BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}revocations_until ON {p}revocations (revoked_until);
CREATE TABLE IF NOT EXISTS {p}watermarks (
    lookup_key BYTEA PRIMARY KEY,
    cutoff BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}watermarks_expires_at ON {p}watermarks (expires_at);
