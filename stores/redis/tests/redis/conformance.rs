//! tokenstile's store conformance suite, against a real Redis.

use std::thread;

use tokenstile::store::conformance;

use crate::server::RedisServer;
use crate::support::{Profile, now, profile};
use tokenstile_redis::RedisStore;

#[test]
fn sync_store_passes() {
    let server = RedisServer::start();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    conformance::check_store(&mut store, &mut rand::rng(), now(), profile).unwrap();
    // Only the suite's revocations and watermarks are left, expiring on their own.
    let mut raw = server.connection();
    let left: Vec<String> = redis::cmd("KEYS")
        .arg("tokenstile:*")
        .query(&mut raw)
        .unwrap();
    assert!(
        left.iter()
            .all(|k| k.starts_with("tokenstile:revoked:") || k.starts_with("tokenstile:watermark:")),
        "{left:?}"
    );
}

#[test]
fn sync_store_passes_with_plain_data() {
    let server = RedisServer::start();
    let mut store: RedisStore<_, u32> = RedisStore::with_prefix(server.client(), "n:");
    conformance::check_store(&mut store, &mut rand::rng(), now(), |n| n).unwrap();
}

#[test]
fn stores_sharing_one_redis_pass_side_by_side() {
    let server = RedisServer::start();
    thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
                    conformance::check_store(&mut store, &mut rand::rng(), now(), profile)
                })
            })
            .collect();
        for run in runs {
            run.join().unwrap().unwrap();
        }
    });
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn async_store_passes() {
    let server = RedisServer::start();
    let connection = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut store: tokenstile_redis::AsyncRedisStore<_, Profile> =
        tokenstile_redis::AsyncRedisStore::new(connection);
    conformance::check_async_store(&mut store, &mut rand::rng(), now(), profile)
        .await
        .unwrap();
}

#[cfg(feature = "connection-manager")]
#[tokio::test]
async fn async_store_on_a_connection_manager_passes() {
    let server = RedisServer::start();
    let manager = redis::aio::ConnectionManager::new(server.client())
        .await
        .unwrap();
    let mut store: tokenstile_redis::AsyncRedisStore<_, Profile> =
        tokenstile_redis::AsyncRedisStore::with_prefix(manager, "m:");
    conformance::check_async_store(&mut store, &mut rand::rng(), now(), profile)
        .await
        .unwrap();
}
