//! Integration tests against real servers: MariaDB and PostgreSQL installed and started
//! by the tests themselves (see `sql/servers.rs`), and SQLite files in a temp dir.
//!
//! One test per database runs every scenario on one server, in turn: the public
//! conformance suite, two pools sharing the database, a concurrency stress, and a
//! crash (the server SIGKILLed mid-run, or for SQLite a writer process killed
//! mid-write).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs,
    unreachable_pub
)]

mod conformance;
mod crash;
mod servers;
mod setup;
mod shared;
mod statements;
mod stress;
mod support;

use std::path::PathBuf;
use std::sync::Mutex;

use tokenstile_sql::{MySqlStore, Options, PostgresStore, SqliteStore};

use crate::servers::{MariaDb, Postgres, SqliteDir};
use crate::support::Database;

struct MariaDbDatabase {
    server: Mutex<MariaDb>,
    url: String,
}

impl Database for MariaDbDatabase {
    type Store = MySqlStore;

    async fn open_with(&self, options: Options) -> MySqlStore {
        // The store's own pool, with `Options`' wait for a connection.
        let store = MySqlStore::connect_with(&self.url, options).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    fn name(&self) -> &'static str {
        "mariadb"
    }

    async fn execute(&self, store: &Self::Store, sql: &str) {
        tokenstile_sql::sqlx::query(sql)
            .execute(store.pool())
            .await
            .unwrap();
    }
}

struct PostgresDatabase {
    server: Mutex<Postgres>,
    url: String,
}

impl Database for PostgresDatabase {
    type Store = PostgresStore;

    async fn open_with(&self, options: Options) -> PostgresStore {
        let store = PostgresStore::connect_with(&self.url, options)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    }

    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn execute(&self, store: &Self::Store, sql: &str) {
        tokenstile_sql::sqlx::query(sql)
            .execute(store.pool())
            .await
            .unwrap();
    }
}

struct SqliteDatabase {
    path: PathBuf,
}

impl Database for SqliteDatabase {
    type Store = SqliteStore;

    async fn open_with(&self, options: Options) -> SqliteStore {
        SqliteStore::open(&self.path, 8, options).await.unwrap()
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn execute(&self, store: &Self::Store, sql: &str) {
        tokenstile_sql::sqlx::query(sql)
            .execute(store.pool())
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb() {
    let server = MariaDb::start();
    server.create_database("tokenstile").await;
    let db = MariaDbDatabase {
        url: server.url("tokenstile"),
        server: Mutex::new(server),
    };
    conformance::run(&db).await;
    conformance::extras(&db).await;
    statements::mariadb(&db.url).await;
    setup::mariadb_dml_user(&db.url).await;
    setup::mariadb_cancelled_migrate(&db.url).await;
    conformance::any_store(&db.url.replacen("mysql", "mariadb", 1), "mysql").await;
    shared::run(&db).await;
    stress::run(&db).await;
    let acked = crash::server(
        &db,
        || db.server.lock().unwrap().kill(),
        || db.server.lock().unwrap().restart(),
    )
    .await;
    crash::verify(db.name(), db.open("crash_").await, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let server = Postgres::start();
    server.create_database("tokenstile").await;
    let db = PostgresDatabase {
        url: server.url("tokenstile"),
        server: Mutex::new(server),
    };
    conformance::run(&db).await;
    conformance::extras(&db).await;
    conformance::any_store(&db.url, "postgres").await;
    setup::postgres_dml_user(&db.url).await;
    setup::postgres_cancelled_migrate(&db.url).await;
    shared::run(&db).await;
    stress::run(&db).await;
    let acked = crash::server(
        &db,
        || db.server.lock().unwrap().kill(),
        || db.server.lock().unwrap().restart(),
    )
    .await;
    crash::verify(db.name(), db.open("crash_").await, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let dir = SqliteDir::new();
    let db = SqliteDatabase {
        path: dir.file("store.db"),
    };
    conformance::run(&db).await;
    conformance::extras(&db).await;
    let url = format!("sqlite://{}", dir.file("any.db").display());
    conformance::any_store(&url, "sqlite").await;
    setup::sqlite_concurrent_opens(&dir).await;
    shared::run(&db).await;
    stress::run(&db).await;
    crash::sqlite(&dir.file("crash.db")).await;
}

/// The child process of the SQLite crash test: when started by it (with the database
/// path in the environment), writes until killed. Run on its own, it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_crash_child() {
    if let Some(path) = std::env::var_os(crash::CHILD_ENV) {
        crash::sqlite_child(std::path::Path::new(&path)).await;
    }
}
