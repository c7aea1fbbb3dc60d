-- Sessions, filed under the SHA-256 lookup key of their ID. `expires_at` is the earlier
-- of the two deadlines, kept in step by every write, so that liveness and purging use
-- one indexed column. (MySQL commits each DDL statement: every one is idempotent.)
CREATE TABLE IF NOT EXISTS {p}sessions (
    lookup_key BINARY(32) NOT NULL PRIMARY KEY,
    subject BINARY(32) NOT NULL,
    data MEDIUMBLOB NOT NULL,
    created BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    idle_deadline BIGINT NOT NULL,
    absolute_deadline BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    INDEX {p}sessions_subject (subject, expires_at),
    INDEX {p}sessions_expires_at (expires_at)
) ENGINE = InnoDB;
-- One row per subject, locked by the transactions that create, rotate or remove the
-- subject's sessions, so that limits and "log out everywhere" see every session.
CREATE TABLE IF NOT EXISTS {p}subjects (
    subject BINARY(32) NOT NULL PRIMARY KEY
) ENGINE = InnoDB;
CREATE TABLE IF NOT EXISTS {p}revocations (
    lookup_key BINARY(32) NOT NULL PRIMARY KEY,
    revoked_until BIGINT NOT NULL,
    INDEX {p}revocations_until (revoked_until)
) ENGINE = InnoDB;
CREATE TABLE IF NOT EXISTS {p}watermarks (
    lookup_key BINARY(32) NOT NULL PRIMARY KEY,
    cutoff BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    INDEX {p}watermarks_expires_at (expires_at)
) ENGINE = InnoDB;
