//! Session throughput per database: creations and validations (loads) per second, from
//! concurrent tasks through one pool, with the server on loopback (MariaDB and
//! PostgreSQL started on temporary data directories as the tests do; SQLite on a file
//! in a temp dir, WAL, `synchronous = FULL`).
//!
//! ```text
//! cargo bench -p tokenstile-sql --all-features --bench throughput
//! ```
//!
//! `TOKENSTILE_SQL_BENCH_SECS` sets the seconds per measurement (default 5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::cast_precision_loss,
    missing_docs,
    unreachable_pub,
    dead_code
)]

#[path = "../tests/sql/servers.rs"]
mod servers;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng as _;
use tokenstile::UnixTime;
use tokenstile::session::{SessionId, SessionPolicy};
use tokenstile::store::{RevocationStore, SessionStore, Store};
use tokenstile_sql::sqlx::mysql::MySqlPoolOptions;
use tokenstile_sql::sqlx::postgres::PgPoolOptions;
use tokenstile_sql::sqlx::sqlite::SqlitePoolOptions;
use tokenstile_sql::{MySqlStore, Options, PostgresStore, SqliteStore};

const TASKS: usize = 16;
const CONNECTIONS: u32 = 16;
const SESSIONS: usize = 2000;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Data {
    user_id: u64,
    roles: Vec<String>,
}

fn now() -> UnixTime {
    UnixTime::from_secs(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

fn secs() -> Duration {
    let secs = std::env::var("TOKENSTILE_SQL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(secs)
}

/// Runs `op` from `TASKS` tasks for the measurement time; returns operations per second.
async fn measure<S, F, Fut>(store: &S, op: F) -> f64
where
    S: Clone + Send + 'static,
    F: Fn(S, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let op = Arc::new(op);
    let end = Instant::now() + secs();
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (store, done, op) = (store.clone(), Arc::clone(&done), Arc::clone(&op));
            tokio::spawn(async move {
                let mut n = task as u64 * 1_000_000_000;
                while Instant::now() < end {
                    op(store.clone(), n).await;
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn bench<S>(name: &str, store: S)
where
    S: SessionStore<Data> + RevocationStore + Store + Clone + Send + Sync + 'static,
{
    let policy = SessionPolicy::new();
    let create = measure(&store, move |mut s: S, n| async move {
        let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
        let data = Data {
            user_id: n,
            roles: vec!["user".to_owned()],
        };
        policy
            .create(&mut s, &mut rng, &format!("user-{}", n % 5000), data, now())
            .await
            .unwrap();
    })
    .await;

    let mut ids = Vec::with_capacity(SESSIONS);
    let mut s = store.clone();
    for n in 0..SESSIONS {
        let data = Data {
            user_id: n as u64,
            roles: vec!["user".to_owned()],
        };
        let id = policy
            .create(&mut s, &mut rand::rng(), &format!("user-{n}"), data, now())
            .await
            .unwrap();
        ids.push(id);
    }
    let ids: Arc<Vec<SessionId>> = Arc::new(ids);
    let validate = measure(&store, move |mut s: S, n| {
        let ids = Arc::clone(&ids);
        async move {
            let id = &ids[(n as usize * 7919) % ids.len()];
            // A load within the touch interval: one read, as most requests are.
            policy.load::<Data, _>(&mut s, id, now()).await.unwrap();
        }
    })
    .await;
    println!("| {name} | {create:>8.0} | {validate:>8.0} |");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "{TASKS} tasks, a pool of {CONNECTIONS} connections, {} s per figure, on {} cores",
            secs().as_secs(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!("| database | create/s | validate/s |");
        println!("|---|---:|---:|");

        let maria = servers::MariaDb::start();
        maria.create_database("bench").await;
        let pool = MySqlPoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect(&maria.url("bench"))
            .await
            .unwrap();
        let store = MySqlStore::from_pool(pool, Options::default());
        store.migrate().await.unwrap();
        bench("MariaDB (mysql)", store).await;
        drop(maria);

        let pg = servers::Postgres::start();
        pg.create_database("bench").await;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect(&pg.url("bench"))
            .await
            .unwrap();
        let store = PostgresStore::from_pool(pool, Options::default());
        store.migrate().await.unwrap();
        bench("PostgreSQL", store).await;
        drop(pg);

        let dir = servers::SqliteDir::new();
        let pool = SqlitePoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect_with(SqliteStore::connect_options(dir.file("bench.db")))
            .await
            .unwrap();
        let store = SqliteStore::from_pool(pool, Options::default());
        store.migrate().await.unwrap();
        bench("SQLite", store).await;
    });
}
