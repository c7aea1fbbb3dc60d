//! Setting a store up: `migrate` at every start with a user that may only read and write
//! rows, and several processes opening a new SQLite file at once.

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
