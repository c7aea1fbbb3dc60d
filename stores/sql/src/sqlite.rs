//! The store for SQLite (feature `sqlite`): a file, in WAL mode, shared by the
//! connections of a pool in one process (and by other processes on the same host).
//!
//! Every transaction that writes more than one row starts with `BEGIN IMMEDIATE`, taking
//! SQLite's write lock at once, so writes are serialized and never upgrade a read lock
//! (which could fail with `SQLITE_BUSY` half-way). Readers see the last committed
//! state. [`SqlStore::open`] sets `synchronous = FULL`, so a write is on disk when the
//! call returns: it survives a crash of the process or of the machine.

use core::str::FromStr as _;
use core::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, Transaction};

use crate::sql::{Migration, Placeholders, Templates, common};

type Db = sqlx::Sqlite;

const PLACEHOLDERS: Placeholders = Placeholders::NumberedQuestion;

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "sessions, revocations, watermarks",
    sql: include_str!("../migrations/sqlite/0001_initial.sql"),
}];

const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS {p}migrations \
    (version INTEGER NOT NULL PRIMARY KEY, description BLOB NOT NULL)";

static TEMPLATES: Templates = Templates {
    lock_subject: None,
    get: common::GET,
    get_for_update: common::GET,
    subject_of: common::SUBJECT_OF,
    delete_dead: None,
    insert: "INSERT INTO {p}sessions (lookup_key, subject, data, created, last_seen, \
        idle_deadline, absolute_deadline, expires_at, version) VALUES (:key, :subject, :data, \
        :created, :last_seen, :idle, :absolute, :expires, :version) \
        ON CONFLICT (lookup_key) DO UPDATE SET subject = excluded.subject, \
        data = excluded.data, created = excluded.created, last_seen = excluded.last_seen, \
        idle_deadline = excluded.idle_deadline, absolute_deadline = excluded.absolute_deadline, \
        expires_at = excluded.expires_at, version = excluded.version \
        WHERE {p}sessions.expires_at <= :now",
    live_keys_of_subject: common::LIVE_KEYS_OF_SUBJECT,
    delete: common::DELETE,
    delete_owned: common::DELETE_OWNED,
    delete_subject: common::DELETE_SUBJECT,
    update: "UPDATE {p}sessions SET data = :data, last_seen = MAX(last_seen, :now), \
        idle_deadline = MAX(idle_deadline, :idle), \
        expires_at = MIN(MAX(idle_deadline, :idle), absolute_deadline), \
        version = version + 1 \
        WHERE lookup_key = :key AND version = :version AND expires_at > :now",
    touch: "UPDATE {p}sessions SET last_seen = MAX(last_seen, :now), \
        idle_deadline = MAX(idle_deadline, :idle), \
        expires_at = MIN(MAX(idle_deadline, :idle), absolute_deadline) \
        WHERE lookup_key = :key AND expires_at > :now",
    delete_dead_at_new_key: common::DELETE_DEAD_AT_NEW_KEY,
    move_key: common::MOVE_KEY,
    list_subject: common::LIST_SUBJECT,
    revoke: "INSERT INTO {p}revocations (lookup_key, revoked_until) VALUES (:key, :until) \
        ON CONFLICT (lookup_key) DO UPDATE \
        SET revoked_until = MAX(revoked_until, excluded.revoked_until)",
    is_revoked: common::IS_REVOKED,
    raise_watermark: "INSERT INTO {p}watermarks (lookup_key, cutoff, expires_at) \
        VALUES (:key, :cutoff, :expires) ON CONFLICT (lookup_key) DO UPDATE SET \
        cutoff = CASE WHEN expires_at > :now THEN MAX(cutoff, excluded.cutoff) \
            ELSE excluded.cutoff END, \
        expires_at = CASE WHEN expires_at > :now THEN MAX(expires_at, excluded.expires_at) \
            ELSE excluded.expires_at END \
        WHERE expires_at > :now OR excluded.expires_at > :now",
    watermark: common::WATERMARK,
    check_revoked: common::CHECK_REVOKED,
    purge_sessions: "DELETE FROM {p}sessions WHERE lookup_key IN \
        (SELECT lookup_key FROM {p}sessions WHERE expires_at <= :now LIMIT :limit)",
    purge_revocations: "DELETE FROM {p}revocations WHERE lookup_key IN \
        (SELECT lookup_key FROM {p}revocations WHERE revoked_until <= :now LIMIT :limit)",
    purge_watermarks: "DELETE FROM {p}watermarks WHERE lookup_key IN \
        (SELECT lookup_key FROM {p}watermarks WHERE expires_at <= :now LIMIT :limit)",
    purge_subjects: None,
};

async fn begin(conn: &mut PoolConnection<Db>) -> Result<Transaction<'_, Db>, sqlx::Error> {
    conn.begin_with("BEGIN IMMEDIATE").await
}

/// `SQLITE_BUSY` or `SQLITE_LOCKED` (and their extended codes): the database was busy
/// for longer than the busy timeout, and nothing was written.
fn is_retryable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e)
        if e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6)))
}

async fn lock_migrations(
    _conn: &mut PoolConnection<Db>,
    _prefix: &crate::options::TablePrefix,
) -> Result<(), sqlx::Error> {
    // Each migration runs in a transaction, and SQLite serializes those that write;
    // the statements are idempotent, so a race between two processes is harmless.
    Ok(())
}

async fn unlock_migrations(
    _conn: &mut PoolConnection<Db>,
    _prefix: &crate::options::TablePrefix,
) -> Result<(), sqlx::Error> {
    Ok(())
}

include!("shared_impl.rs");

impl SqlStore {
    /// The connection options [`open`](Self::open) uses for the database file at `path`:
    /// created if missing, WAL journal, `synchronous = FULL`, a 10-second busy timeout.
    #[must_use]
    pub fn connect_options(path: impl AsRef<std::path::Path>) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
    }

    /// Opens (creating it if missing) the database file at `path` with a pool of
    /// `max_connections`, with the options of
    /// [`connect_options`](Self::connect_options), and runs [`migrate`](Self::migrate):
    /// ready to use.
    ///
    /// Several processes may open a new file at once. Switching a new file to WAL needs it
    /// to itself, and SQLite then answers "busy" at once rather than wait (waiting could
    /// deadlock), so `open` tries again, for about a second, with growing pauses.
    ///
    /// # Errors
    ///
    /// The file can't be opened or created, or the migration fails.
    pub async fn open(
        path: impl AsRef<std::path::Path>,
        max_connections: u32,
        options: Options,
    ) -> Result<Self, Error> {
        let connect = Self::connect_options(path);
        let mut pause = Duration::from_millis(5);
        let pool = loop {
            match SqlitePoolOptions::new()
                .max_connections(max_connections)
                .connect_with(connect.clone())
                .await
            {
                Err(e) if is_retryable(&e) && pause < Duration::from_secs(1) => {
                    tokio::time::sleep(pause).await;
                    pause = pause.saturating_mul(2);
                }
                done => break done?,
            }
        };
        let store = Self::from_pool(pool, options);
        store.migrate().await?;
        Ok(store)
    }

    /// Connects a pool to the SQLite database file named by `url`
    /// (`sqlite://path/to/file.db`), with the default [`Options`], in WAL mode with
    /// `synchronous = FULL`, creating the file if missing. Call
    /// [`migrate`](Self::migrate) before use. (`sqlite::memory:` gives each connection of
    /// the pool a database of its own: use a file.)
    ///
    /// # Errors
    ///
    /// A malformed URL, or the file can't be opened.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, Options::default()).await
    }

    /// Connects as [`connect`](Self::connect) does, with `options`.
    ///
    /// # Errors
    ///
    /// A malformed URL, or the file can't be opened.
    pub async fn connect_with(url: &str, options: Options) -> Result<Self, Error> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().connect_with(connect).await?;
        Ok(Self::from_pool(pool, options))
    }
}
