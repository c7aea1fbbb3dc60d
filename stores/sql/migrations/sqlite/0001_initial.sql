-- Sessions, filed under the SHA-256 lookup key of their ID. `expires_at` is the earlier
-- of the two deadlines, kept in step by every write, so that liveness and purging use
-- one indexed column. (SQLite serializes write transactions: no lock rows are needed.)
CREATE TABLE IF NOT EXISTS {p}sessions (
    lookup_key BLOB NOT NULL PRIMARY KEY,
    subject BLOB NOT NULL,
    data BLOB NOT NULL,
    created INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    idle_deadline INTEGER NOT NULL,
    absolute_deadline INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {p}sessions_subject ON {p}sessions (subject, expires_at);
CREATE INDEX IF NOT EXISTS {p}sessions_expires_at ON {p}sessions (expires_at);
CREATE TABLE IF NOT EXISTS {p}revocations (
    lookup_key BLOB NOT NULL PRIMARY KEY,
    revoked_until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {p}revocations_until ON {p}revocations (revoked_until);
CREATE TABLE IF NOT EXISTS {p}watermarks (
    lookup_key BLOB NOT NULL PRIMARY KEY,
    cutoff INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {p}watermarks_expires_at ON {p}watermarks (expires_at);
