//! tokenstile's store conformance suite, against a real Redis.

use tokenstile::store::conformance;
use tokenstile_redis::{OnWeakServer, Options, RedisStore};

use crate::server::RedisServer;
use crate::support::{Profile, now, profile, store};

#[tokio::test]
async fn the_store_passes() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    conformance::check_store(&mut store, &mut rand::rng(), now(), profile)
        .await
        .unwrap();
    // Only the suite's revocations and watermarks are left, expiring on their own.
    let mut raw = server.connection();
    let left: Vec<String> = redis::Commands::keys(&mut raw, "*").unwrap();
    assert!(
        left.iter().all(|k| k.starts_with("tokenstile:revoked:")
            || k.starts_with("tokenstile:watermark:")),
        "{left:?}"
    );
    assert!(!left.is_empty());
}

#[tokio::test]
async fn the_store_passes_with_plain_data_and_its_parts_separately() {
    let server = RedisServer::start();
    let mut store = RedisStore::connect(
        server.client(),
        Options::new(OnWeakServer::Accept).prefix("n:"),
    )
    .await
    .unwrap();
    conformance::check_store(&mut store, &mut rand::rng(), now(), |n| n)
        .await
        .unwrap();
    conformance::check_sessions::<Profile, _, _>(&mut store, &mut rand::rng(), now(), profile)
        .await
        .unwrap();
    conformance::check_revocations(&mut store, &mut rand::rng(), now())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_sharing_one_redis_pass_side_by_side() {
    let server = RedisServer::start();
    let mut runs = Vec::new();
    for i in 0..3 {
        // Each run purges and lists its own subjects; a prefix of its own keeps the
        // runs' limits and listings apart, as separate applications would be.
        let mut store = RedisStore::connect(
            server.client(),
            Options::new(OnWeakServer::Accept).prefix(format!("app{i}:")),
        )
        .await
        .unwrap();
        runs.push(tokio::spawn(async move {
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
            conformance::check_store(&mut store, &mut rng, now(), profile).await
        }));
    }
    for run in runs {
        run.await.unwrap().unwrap();
    }
}
