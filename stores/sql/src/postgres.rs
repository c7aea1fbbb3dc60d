//! The store for PostgreSQL (feature `postgres`).
//!
//! Transactions run at `READ COMMITTED`; creations, rotations and subject-wide removals
//! first lock the subject's row in `<prefix>subjects` (an `INSERT ... ON CONFLICT DO
//! UPDATE`, which takes the row lock), so the statements after it see every session of
//! the subject that any other transaction has committed. Single-row operations are one
//! conditional statement each. Migrations hold a session-level advisory lock and run
//! in transactions (PostgreSQL's DDL is transactional).

use core::str::FromStr as _;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, Transaction};

use crate::sql::{Migration, Placeholders, Templates, common};

type Db = sqlx::Postgres;

const PLACEHOLDERS: Placeholders = Placeholders::Dollar;

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "sessions, subjects, revocations, watermarks",
    sql: include_str!("../migrations/postgres/0001_initial.sql"),
}];

const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS {p}migrations \
    (version BIGINT PRIMARY KEY, description BYTEA NOT NULL)";

static TEMPLATES: Templates = Templates {
    lock_subject: Some(
        "INSERT INTO {p}subjects (subject) VALUES (:subject) \
         ON CONFLICT (subject) DO UPDATE SET subject = EXCLUDED.subject",
    ),
    get: common::GET,
    get_for_update: "SELECT subject, data, created, last_seen, idle_deadline, \
        absolute_deadline, version FROM {p}sessions \
        WHERE lookup_key = :key AND expires_at > :now FOR UPDATE",
    subject_of: common::SUBJECT_OF,
    delete_dead: None,
    insert: "INSERT INTO {p}sessions (lookup_key, subject, data, created, last_seen, \
        idle_deadline, absolute_deadline, expires_at, version) VALUES (:key, :subject, :data, \
        :created, :last_seen, :idle, :absolute, :expires, :version) \
        ON CONFLICT (lookup_key) DO UPDATE SET subject = EXCLUDED.subject, \
        data = EXCLUDED.data, created = EXCLUDED.created, last_seen = EXCLUDED.last_seen, \
        idle_deadline = EXCLUDED.idle_deadline, absolute_deadline = EXCLUDED.absolute_deadline, \
        expires_at = EXCLUDED.expires_at, version = EXCLUDED.version \
        WHERE {p}sessions.expires_at <= :now",
    live_keys_of_subject: common::LIVE_KEYS_OF_SUBJECT,
    delete: common::DELETE,
    delete_owned: common::DELETE_OWNED,
    delete_subject: common::DELETE_SUBJECT,
    update: "UPDATE {p}sessions SET data = :data, last_seen = GREATEST(last_seen, :now), \
        idle_deadline = GREATEST(idle_deadline, :idle), \
        expires_at = LEAST(GREATEST(idle_deadline, :idle), absolute_deadline), \
        version = version + 1 \
        WHERE lookup_key = :key AND version = :version AND expires_at > :now",
    touch: "UPDATE {p}sessions SET last_seen = GREATEST(last_seen, :now), \
        idle_deadline = GREATEST(idle_deadline, :idle), \
        expires_at = LEAST(GREATEST(idle_deadline, :idle), absolute_deadline) \
        WHERE lookup_key = :key AND expires_at > :now",
    delete_dead_at_new_key: common::DELETE_DEAD_AT_NEW_KEY,
    move_key: common::MOVE_KEY,
    list_subject: common::LIST_SUBJECT,
    revoke: "INSERT INTO {p}revocations (lookup_key, revoked_until) VALUES (:key, :until) \
        ON CONFLICT (lookup_key) DO UPDATE \
        SET revoked_until = GREATEST({p}revocations.revoked_until, EXCLUDED.revoked_until)",
    is_revoked: common::IS_REVOKED,
    raise_watermark: "INSERT INTO {p}watermarks (lookup_key, cutoff, expires_at) \
        VALUES (:key, :cutoff, :expires) ON CONFLICT (lookup_key) DO UPDATE SET \
        cutoff = CASE WHEN {p}watermarks.expires_at > :now \
            THEN GREATEST({p}watermarks.cutoff, EXCLUDED.cutoff) ELSE EXCLUDED.cutoff END, \
        expires_at = CASE WHEN {p}watermarks.expires_at > :now \
            THEN GREATEST({p}watermarks.expires_at, EXCLUDED.expires_at) \
            ELSE EXCLUDED.expires_at END \
        WHERE {p}watermarks.expires_at > :now OR EXCLUDED.expires_at > :now",
    watermark: common::WATERMARK,
    check_revoked: common::CHECK_REVOKED,
    // The outer condition is checked again on the row as it is when the delete reaches
    // it, so a session touched meanwhile is never purged.
    purge_sessions: "DELETE FROM {p}sessions WHERE expires_at <= :now AND lookup_key IN \
        (SELECT lookup_key FROM {p}sessions WHERE expires_at <= :now LIMIT :limit)",
    purge_revocations: "DELETE FROM {p}revocations WHERE revoked_until <= :now \
        AND lookup_key IN (SELECT lookup_key FROM {p}revocations \
        WHERE revoked_until <= :now LIMIT :limit)",
    purge_watermarks: "DELETE FROM {p}watermarks WHERE expires_at <= :now AND lookup_key IN \
        (SELECT lookup_key FROM {p}watermarks WHERE expires_at <= :now LIMIT :limit)",
    purge_subjects: Some(
        "DELETE FROM {p}subjects WHERE subject IN (SELECT t.subject FROM {p}subjects t \
         WHERE NOT EXISTS (SELECT 1 FROM {p}sessions s WHERE s.subject = t.subject) \
         LIMIT :limit)",
    ),
};

async fn begin(conn: &mut PoolConnection<Db>) -> Result<Transaction<'_, Db>, sqlx::Error> {
    conn.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
        .await
}

/// A serialization failure or a deadlock: PostgreSQL rolled the transaction back.
fn is_retryable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("40001" | "40P01")))
}

/// The advisory lock key of a prefix's migrations.
fn migration_lock_id(prefix: &crate::options::TablePrefix) -> i64 {
    // FNV-1a over a fixed label and the prefix.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"tokenstile-sql migrate "
        .iter()
        .chain(prefix.as_str().as_bytes())
    {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_le_bytes(hash.to_le_bytes())
}

async fn lock_migrations(
    conn: &mut PoolConnection<Db>,
    prefix: &crate::options::TablePrefix,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(migration_lock_id(prefix))
        .execute(&mut **conn)
        .await
        .map(drop)
}

async fn unlock_migrations(
    conn: &mut PoolConnection<Db>,
    prefix: &crate::options::TablePrefix,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(migration_lock_id(prefix))
        .execute(&mut **conn)
        .await
        .map(drop)
}

include!("shared_impl.rs");

impl SqlStore {
    /// Connects a pool to the PostgreSQL database at `url`
    /// (`postgres://user:password@host:port/database`, or
    /// `postgres://user@localhost/database?host=/run/postgresql` for a unix socket), with the default
    /// [`Options`]. Call [`migrate`](Self::migrate) before use.
    ///
    /// # Errors
    ///
    /// A malformed URL or a failed connection.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, Options::default()).await
    }

    /// Connects as [`connect`](Self::connect) does, with `options`.
    ///
    /// # Errors
    ///
    /// A malformed URL or a failed connection.
    pub async fn connect_with(url: &str, options: Options) -> Result<Self, Error> {
        let connect = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .acquire_timeout(options.acquire_timeout())
            .connect_with(connect)
            .await?;
        Ok(Self::from_pool(pool, options))
    }
}
