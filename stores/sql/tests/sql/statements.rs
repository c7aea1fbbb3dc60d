//! How many statements a checked JWT costs, counted by MariaDB itself (`SHOW GLOBAL
//! STATUS`): `Questions` counts the statements clients send, `Com_stmt_execute` the
//! executions of prepared statements (which is how sqlx runs every query).

use std::collections::HashMap;

use tokenstile::store::{RevocationCheck, RevocationStore, Watermark};
use tokenstile_sql::MySqlStore;
use tokenstile_sql::sqlx::mysql::MySqlPoolOptions;
use tokenstile_sql::sqlx::{self, Connection as _, MySqlConnection};

use crate::conformance::key;
use crate::support::{now, options};

/// `Questions` and `Com_stmt_execute`, from one statement.
async fn counters(connection: &mut MySqlConnection) -> (i64, i64) {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_stmt_execute')",
    )
    .fetch_all(&mut *connection)
    .await
    .unwrap();
    let status: HashMap<String, i64> = rows
        .into_iter()
        .map(|(name, value)| (name, value.parse().unwrap()))
        .collect();
    (status["Questions"], status["Com_stmt_execute"])
}

pub(crate) async fn mariadb(url: &str) {
    // One connection, so that the statement is prepared once, by the warm-up.
    let pool = MySqlPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let mut store = MySqlStore::from_pool(pool, options("count_"));
    store.migrate().await.unwrap();
    let mut admin = MySqlConnection::connect(url).await.unwrap();
    let now = now();
    let (token, family, mark) = (key(), key(), key());
    let raised = Watermark::new(now, now.saturating_add(60));
    store.raise_watermark(&mark, raised, now).await.unwrap();
    let entries = [token, family];
    store
        .check_revoked(&entries, Some(&mark), now)
        .await
        .unwrap();
    assert!(!store.is_revoked(&token, now).await.unwrap());
    assert_eq!(store.watermark(&mark, now).await.unwrap(), Some(raised));

    // What reading the counters costs, with nothing in between.
    let first = counters(&mut admin).await;
    let second = counters(&mut admin).await;
    let idle = (second.0 - first.0, second.1 - first.1);

    let mut cost = async |store: &mut MySqlStore, want: RevocationCheck| {
        let before = counters(&mut admin).await;
        assert_eq!(
            store
                .check_revoked(&entries, Some(&mark), now)
                .await
                .unwrap(),
            want
        );
        let after = counters(&mut admin).await;
        (after.0 - before.0 - idle.0, after.1 - before.1 - idle.1)
    };
    assert_eq!(
        cost(&mut store, RevocationCheck::NotRevoked(Some(raised))).await,
        (1, 1),
        "a check that finds nothing: one statement"
    );
    store
        .revoke(&family, now.saturating_add(60), now)
        .await
        .unwrap();
    assert_eq!(
        cost(&mut store, RevocationCheck::Revoked(1)).await,
        (1, 1),
        "a check that finds a revoked entry: one statement"
    );

    // The single calls it replaces: three statements.
    let before = counters(&mut admin).await;
    assert!(!store.is_revoked(&token, now).await.unwrap());
    assert!(store.is_revoked(&family, now).await.unwrap());
    assert_eq!(store.watermark(&mark, now).await.unwrap(), Some(raised));
    let after = counters(&mut admin).await;
    assert_eq!(
        (after.0 - before.0 - idle.0, after.1 - before.1 - idle.1),
        (3, 3)
    );
}
