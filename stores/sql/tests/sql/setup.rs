//! Setting a store up: `migrate` at every start with a user that may only read and write
//! rows, several processes opening a new SQLite file at once, and a `migrate` cancelled
//! under its lock.

use tokenstile::store::RevocationStore;
use tokenstile_sql::sqlx::mysql::MySqlPoolOptions;
use tokenstile_sql::sqlx::postgres::PgPoolOptions;
use tokenstile_sql::sqlx::{self, Connection as _};
use tokenstile_sql::{MySqlStore, PostgresStore, SqliteStore};

use crate::support::{now, options};

/// Once the tables exist, a user with only `SELECT`, `INSERT`, `UPDATE` and `DELETE` can
/// run `migrate` (as every start does) and use the store.
pub(crate) async fn mariadb_dml_user(root_url: &str) {
    let root = MySqlPoolOptions::new().connect(root_url).await.unwrap();
    MySqlStore::from_pool(root.clone(), options("dml_"))
        .migrate()
        .await
        .unwrap();
    let database = root_url.rsplit('/').next().unwrap();
    for statement in [
        "DROP USER IF EXISTS 'dml'@'%'".to_owned(),
        "CREATE USER 'dml'@'%' IDENTIFIED BY 'dml-password'".to_owned(),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {database}.* TO 'dml'@'%'"),
    ] {
        sqlx::query(&statement).execute(&root).await.unwrap();
    }
    let url = root_url.replacen("root@", "dml:dml-password@", 1);
    let pool = MySqlPoolOptions::new().connect(&url).await.unwrap();
    let store = MySqlStore::from_pool(pool, options("dml_"));
    store.migrate().await.unwrap();
    writes(store).await;
}

/// Defines `$name(root_url)`: a `migrate` cancelled while it holds the migration lock
/// (MySQL's `GET_LOCK`, PostgreSQL's advisory lock: both belong to the connection's
/// session), as a start-up timeout cancels it, leaves no pooled connection holding the
/// lock, where every other server's `migrate` would wait for it and fail. A second
/// session holds the row of migration 1 uncommitted (`$table` creates the migrations
/// table, `$insert` writes that row): the migration's own insert, made under the lock,
/// waits for it. `$held` counts the sessions holding the lock.
macro_rules! cancelled_migrate {
    ($name:ident, $conn:ty, $pool:ty, $store:ty, $table:expr, $insert:expr, $held:expr) => {
        pub(crate) async fn $name(root_url: &str) {
            let mut blocker = <$conn>::connect(root_url).await.unwrap();
            for statement in [$table, "BEGIN", $insert] {
                sqlx::query(statement).execute(&mut blocker).await.unwrap();
            }
            let pool = <$pool>::new().connect(root_url).await.unwrap();
            let store = <$store>::from_pool(pool.clone(), options("cancel_"));
            let migrating = tokio::spawn(async move { store.migrate().await });
            let mut observer = <$conn>::connect(root_url).await.unwrap();
            // Whether the lock comes to be held (`used`) or free within five seconds.
            let mut lock_comes_to = async |used: bool| {
                for _ in 0..100 {
                    let held: i64 = sqlx::query_scalar($held)
                        .fetch_one(&mut observer)
                        .await
                        .unwrap();
                    if (held > 0) == used {
                        return true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                false
            };
            assert!(
                lock_comes_to(true).await,
                "migrate took the lock and waits for the row held"
            );
            migrating.abort();
            assert!(migrating.await.unwrap_err().is_cancelled());
            // The server ends the session once its statement is done.
            sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
            assert!(
                lock_comes_to(false).await,
                "the cancelled migrate's connection still holds the lock"
            );
            // Another server migrates at once; the pool of the cancelled one still serves.
            let other = <$pool>::new().connect(root_url).await.unwrap();
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                <$store>::from_pool(other, options("cancel_")).migrate(),
            )
            .await
            .unwrap()
            .unwrap();
            writes(<$store>::from_pool(pool, options("cancel_"))).await;
        }
    };
}

cancelled_migrate!(
    mariadb_cancelled_migrate,
    sqlx::MySqlConnection,
    MySqlPoolOptions,
    MySqlStore,
    "CREATE TABLE cancel_migrations \
     (version BIGINT NOT NULL PRIMARY KEY, description BLOB NOT NULL) ENGINE = InnoDB",
    "INSERT INTO cancel_migrations (version, description) VALUES (1, 'held')",
    "SELECT IS_USED_LOCK('tokenstile-sql migrate cancel_') IS NOT NULL"
);

cancelled_migrate!(
    postgres_cancelled_migrate,
    sqlx::PgConnection,
    PgPoolOptions,
    PostgresStore,
    "CREATE TABLE cancel_migrations (version BIGINT PRIMARY KEY, description BYTEA NOT NULL)",
    "INSERT INTO cancel_migrations (version, description) VALUES (1, 'held')",
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
);

/// As [`mariadb_dml_user`], on PostgreSQL (whose `public` schema grants no `CREATE` to
/// other users since version 15).
pub(crate) async fn postgres_dml_user(root_url: &str) {
    let root = PgPoolOptions::new().connect(root_url).await.unwrap();
    PostgresStore::from_pool(root.clone(), options("dml_"))
        .migrate()
        .await
        .unwrap();
    for statement in [
        "DROP OWNED BY dml",
        "DROP ROLE IF EXISTS dml",
        "CREATE ROLE dml LOGIN PASSWORD 'dml-password'",
        "GRANT USAGE ON SCHEMA public TO dml",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO dml",
    ] {
        // The role doesn't exist on the first run: DROP OWNED BY fails then.
        let done = sqlx::query(statement).execute(&root).await;
        assert!(
            done.is_ok() || statement.starts_with("DROP OWNED"),
            "{statement}: {done:?}"
        );
    }
    let url = root_url.replacen("postgres@", "dml:dml-password@", 1);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let denied = sqlx::query("CREATE TABLE dml_probe (x INTEGER)")
        .execute(&mut conn)
        .await;
    assert!(
        denied.is_err(),
        "the user must not be able to create tables"
    );
    let pool = PgPoolOptions::new().connect(&url).await.unwrap();
    let store = PostgresStore::from_pool(pool, options("dml_"));
    store.migrate().await.unwrap();
    writes(store).await;
}

/// The store works for its user: a revocation is written and read back.
async fn writes<S: RevocationStore<Error = tokenstile_sql::Error>>(mut store: S) {
    let (key, t) = (crate::conformance::key(), now());
    store.revoke(&key, t.saturating_add(60), t).await.unwrap();
    assert!(store.is_revoked(&key, t).await.unwrap());
}

/// Two processes (here: two pools) opening a new SQLite file at once both succeed: one
/// applies the migrations, the other finds them applied.
pub(crate) async fn sqlite_concurrent_opens(dir: &crate::servers::SqliteDir) {
    for round in 0..20 {
        let path = dir.file(format!("opened-at-once-{round}.db"));
        let opens: Vec<_> = (0..2)
            .map(|_| {
                let path = path.clone();
                tokio::spawn(async move { SqliteStore::open(&path, 2, options("race_")).await })
            })
            .collect();
        for open in opens {
            let opened = open.await.unwrap();
            assert!(opened.is_ok(), "round {round}: {:?}", opened.err());
        }
    }
}
