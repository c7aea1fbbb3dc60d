//! The store for MySQL and MariaDB (feature `mysql`), on InnoDB.
//!
//! Each transaction is set to `READ COMMITTED` (`SET TRANSACTION` before it begins),
//! whatever the server's default: no gap locks, so concurrent logins don't deadlock on
//! neighbouring keys. Creations, rotations and subject-wide removals first lock the
//! subject's row in `<prefix>subjects` (`INSERT ... ON DUPLICATE KEY UPDATE`, which takes
//! an exclusive row lock), so the statements after it see every session of the subject
//! that any other transaction has committed. Single-row operations are one conditional
//! statement each. MySQL commits DDL implicitly, so migrations hold a named lock
//! (`GET_LOCK`) and are written to be idempotent.

use core::str::FromStr as _;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{Connection as _, Executor as _, Transaction};

use crate::sql::{Migration, Placeholders, Templates, common};

type Db = sqlx::MySql;

const PLACEHOLDERS: Placeholders = Placeholders::Question;

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "sessions, subjects, revocations, watermarks",
    sql: include_str!("../migrations/mysql/0001_initial.sql"),
}];

const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS {p}migrations \
    (version BIGINT NOT NULL PRIMARY KEY, description BLOB NOT NULL) ENGINE = InnoDB";

static TEMPLATES: Templates = Templates {
    lock_subject: Some(
        "INSERT INTO {p}subjects (subject) VALUES (:subject) \
         ON DUPLICATE KEY UPDATE subject = subject",
    ),
    get: common::GET,
    get_for_update: "SELECT subject, data, created, last_seen, idle_deadline, \
        absolute_deadline, version FROM {p}sessions \
        WHERE lookup_key = :key AND expires_at > :now FOR UPDATE",
    subject_of: common::SUBJECT_OF,
    delete_dead: Some("DELETE FROM {p}sessions WHERE lookup_key = :key AND expires_at <= :now"),
    insert: "INSERT INTO {p}sessions (lookup_key, subject, data, created, last_seen, \
        idle_deadline, absolute_deadline, expires_at, version) VALUES (:key, :subject, :data, \
        :created, :last_seen, :idle, :absolute, :expires, :version)",
    live_keys_of_subject: common::LIVE_KEYS_OF_SUBJECT,
    delete: common::DELETE,
    delete_owned: common::DELETE_OWNED,
    delete_subject: common::DELETE_SUBJECT,
    // MySQL assigns left to right, so `expires_at` sees the new `idle_deadline`; the
    // expression gives the same value either way.
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
        ON DUPLICATE KEY UPDATE \
        revoked_until = GREATEST(revoked_until, :until)",
    is_revoked: common::IS_REVOKED,
    // Assigned left to right: `cutoff` first, while `expires_at` is still the stored one.
    raise_watermark: "INSERT INTO {p}watermarks (lookup_key, cutoff, expires_at) \
        VALUES (:key, :cutoff, :expires) ON DUPLICATE KEY UPDATE \
        cutoff = IF(expires_at > :now, GREATEST(cutoff, :cutoff), \
            IF(:expires > :now, :cutoff, cutoff)), \
        expires_at = IF(expires_at > :now, GREATEST(expires_at, :expires), \
            IF(:expires > :now, :expires, expires_at))",
    watermark: common::WATERMARK,
    check_revoked: common::CHECK_REVOKED,
    purge_sessions: "DELETE FROM {p}sessions WHERE expires_at <= :now LIMIT :limit",
    purge_revocations: "DELETE FROM {p}revocations WHERE revoked_until <= :now LIMIT :limit",
    purge_watermarks: "DELETE FROM {p}watermarks WHERE expires_at <= :now LIMIT :limit",
    purge_subjects: Some(
        "DELETE FROM {p}subjects WHERE NOT EXISTS \
         (SELECT 1 FROM {p}sessions s WHERE s.subject = {p}subjects.subject) LIMIT :limit",
    ),
};

async fn begin(conn: &mut PoolConnection<Db>) -> Result<Transaction<'_, Db>, sqlx::Error> {
    conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await?;
    conn.begin().await
}

/// A deadlock (SQLSTATE 40001, error 1213): InnoDB rolled the transaction back.
fn is_retryable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("40001"))
}

fn migration_lock_name(prefix: &crate::options::TablePrefix) -> String {
    format!("tokenstile-sql migrate {}", prefix.as_str())
}

async fn lock_migrations(
    conn: &mut PoolConnection<Db>,
    prefix: &crate::options::TablePrefix,
) -> Result<(), sqlx::Error> {
    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 60)")
        .bind(migration_lock_name(prefix))
        .fetch_one(&mut **conn)
        .await?;
    if got == Some(1) {
        Ok(())
    } else {
        // 0: another migration held the lock for the whole minute; NULL: the server
        // failed to take it. Neither is the pool's timeout, which the driver's own
        // `PoolTimedOut` would suggest to whoever reads the log.
        Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the migration lock (GET_LOCK) was not granted within 60 seconds, or the \
             server failed to take it",
        )))
    }
}

async fn unlock_migrations(
    conn: &mut PoolConnection<Db>,
    prefix: &crate::options::TablePrefix,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(migration_lock_name(prefix))
        .execute(&mut **conn)
        .await
        .map(drop)
}

include!("shared_impl.rs");

impl SqlStore {
    /// Connects a pool to the MySQL or MariaDB database at `url`
    /// (`mysql://user:password@host:port/database`, or
    /// `mysql://user@localhost/database?socket=/run/mysqld/mysqld.sock`), with the
    /// default [`Options`]. Call [`migrate`](Self::migrate) before use.
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
        let connect = MySqlConnectOptions::from_str(url)?;
        let pool = MySqlPoolOptions::new()
            .acquire_timeout(options.acquire_timeout())
            .connect_with(connect)
            .await?;
        Ok(Self::from_pool(pool, options))
    }
}
