//! SQL stores for [`tokenstile`] sessions and JWT revocations, on
//! [`sqlx`]: PostgreSQL (feature `postgres`), MySQL and MariaDB (feature `mysql`) and
//! SQLite (feature `sqlite`).
//!
//! Each database has a store type, [`PostgresStore`], [`MySqlStore`] and
//! [`SqliteStore`], implementing tokenstile's [`SessionStore<D>`] for every
//! `D: Serialize + DeserializeOwned` (the data is stored as JSON, as the Redis store
//! does) and [`RevocationStore`]. A store is a cheap handle around a connection pool:
//! clone it into each task. Create the tables with `migrate()` once, at start.
//! [`AnyStore`] picks the database from a URL at run time.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tokenstile::UnixTime;
//! use tokenstile::session::SessionPolicy;
//! use tokenstile_sql::{Options, SqliteStore};
//!
//! // Opens (or creates) the file, and migrates it.
//! let mut store = SqliteStore::open("sessions.db", 8, Options::default()).await?;
//! let policy = SessionPolicy::new();
//! let now = UnixTime::from_secs(1_700_000_000);
//! let id = policy
//!     .create(&mut store, &mut rand::rng(), "alice", 42_u32, now)
//!     .await?;
//! let session = policy.load::<u32, _>(&mut store, &id, now).await?;
//! assert_eq!(*session.data(), 42);
//! # Ok(())
//! # }
//! ```
//!
//! # Schema
//!
//! Four tables, named with a validated prefix ([`TablePrefix`], `tokenstile_` by
//! default), created by versioned migrations shipped in the crate (recorded in
//! `<prefix>migrations`):
//!
//! | table | columns | indexes |
//! |---|---|---|
//! | `sessions` | `lookup_key` (32 bytes, primary key), `subject` (32 bytes), `data` (JSON bytes), `created`, `last_seen`, `idle_deadline`, `absolute_deadline`, `expires_at` (the earlier deadline), `version` | `(subject, expires_at)`, `(expires_at)` |
//! | `subjects` | `subject` (primary key): a lock row per subject (not on SQLite) | |
//! | `revocations` | `lookup_key` (primary key), `revoked_until` | `(revoked_until)` |
//! | `watermarks` | `lookup_key` (primary key), `cutoff`, `expires_at` | `(expires_at)` |
//!
//! Times are Unix seconds in 64-bit integer columns. Keys are the SHA-256 digests
//! tokenstile derives: the database never holds a session ID or a token.
//!
//! # Atomicity
//!
//! Every value is a bound parameter; only the validated prefix is part of the SQL text.
//!
//! - Reads, `update`, `touch`, `remove`, `remove_owned`, `revoke` and `raise_watermark`
//!   are one statement each, conditional on liveness (`expires_at > now`) and, for
//!   `update`, on the version (`UPDATE ... WHERE version = ?`): a compare-and-swap, never
//!   a read followed by a write. `touch` and `update` only raise deadlines
//!   (`GREATEST`/`MAX`), so concurrent touches commute; revocations and watermarks are
//!   upserts that keep the later time (`GREATEST`/`MAX`), so nothing is ever lowered.
//! - `check_revoked`, the revocation check of a JWT, is one statement on every database:
//!   a `SELECT` of scalar subqueries reads the token's two revocation entries and its
//!   subject's watermark, where the single reads took three statements.
//! - `create`, `rotate` and `remove_subject` are transactions that first lock the
//!   subject: on PostgreSQL and MySQL its row in `subjects` (an upsert, which takes the
//!   row lock); on SQLite the whole database (`BEGIN IMMEDIATE`). While a transaction
//!   holds it, no other creation, rotation or removal of the subject's sessions runs,
//!   and reads after the lock (at `READ COMMITTED`) see every session committed before.
//!   So a per-subject limit counts exactly, and "log out everywhere" deletes every
//!   session of the subject whose creation returned before it, with nothing created
//!   half-way. A live session already under the key is reported as
//!   [`StoreErrorKind::Conflict`](tokenstile::store::StoreErrorKind::Conflict): `create`
//!   never overwrites one (on PostgreSQL and SQLite its upsert only replaces a dead row
//!   and writes nothing over a live one; on MySQL a dead row is deleted first, and the
//!   plain `INSERT` fails on the primary key), and a rotation onto it fails on the
//!   primary key.
//! - A transaction that fails is rolled back (failed means unchanged). A transaction or a
//!   single statement that lost a deadlock or a serialization race (which the database
//!   rolled back whole) is retried a few times.
//! - `purge_expired` deletes dead rows in batches of [`Options::purge_batch`] rows, each
//!   batch one statement whose condition is evaluated on the row it deletes, so a
//!   session touched meanwhile is never purged.
//!
//! # Durability
//!
//! A call returns after its transaction has committed. Acknowledged writes survive a
//! crash of the database server as long as the server flushes its log at commit: the
//! defaults of PostgreSQL (`fsync = on`, `synchronous_commit = on`) and of InnoDB
//! (`innodb_flush_log_at_trx_commit = 1`). The SQLite store's own constructors set WAL
//! mode and `synchronous = FULL`.
//!
//! [`SessionStore<D>`]: tokenstile::store::SessionStore
//! [`RevocationStore`]: tokenstile::store::RevocationStore
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports)
)]

extern crate alloc;

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod any;
mod error;
mod options;
mod sql;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub mod mysql;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub mod sqlite;

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub use any::AnyStore;
pub use error::Error;
#[cfg(feature = "mysql")]
pub use mysql::SqlStore as MySqlStore;
pub use options::{InvalidTablePrefix, Options, TablePrefix};
#[cfg(feature = "postgres")]
pub use postgres::SqlStore as PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqlStore as SqliteStore;
pub use sqlx;
