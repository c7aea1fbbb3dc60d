//! Failures get the right kind: foreign or undecodable values are `Corrupt`, an
//! unreachable Redis is `Backend`, and no error message quotes stored data.

use redis::Commands;
use tokenstile::store::{SessionStore, StoreErrorKind, Watermark};

use crate::server::RedisServer;
use crate::support::{Profile, hex, key, now, record, subject};
use tokenstile_redis::{Error, RedisStore};

fn kind<T: core::fmt::Debug>(result: Result<T, Error>) -> StoreErrorKind {
    result.unwrap_err().kind()
}

#[test]
fn undecodable_values_are_corrupt_and_removable() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let k = key();
    let name = format!("tokenstile:session:{}", hex(k.as_bytes()));

    let _: () = raw.set(&name, "s1:garbage").unwrap();
    assert_eq!(kind(store.get(&k, now)), StoreErrorKind::Corrupt);
    assert_eq!(
        kind(store.touch(&k, now.saturating_add(60), now)),
        StoreErrorKind::Corrupt
    );
    assert_eq!(
        kind(store.update(&k, record(&subject(), 1, now, 60, 60), now)),
        StoreErrorKind::Corrupt
    );
    assert_eq!(kind(store.rotate(&k, &key(), now)), StoreErrorKind::Corrupt);
    assert_eq!(
        kind(store.create(&k, record(&subject(), 1, now, 60, 60), now)),
        StoreErrorKind::Conflict,
        "create never overwrites, whatever is there"
    );
    let junk: String = raw.get(&name).unwrap();
    assert_eq!(junk, "s1:garbage");
    assert!(store.remove(&k).unwrap());
    assert!(store.get(&k, now).unwrap().is_none());

    // Another Redis type under a session key: corrupt for reads, and still removable.
    let _: () = raw.hset(&name, "field", "value").unwrap();
    assert_eq!(kind(store.get(&k, now)), StoreErrorKind::Corrupt);
    assert_eq!(kind(store.touch(&k, now, now)), StoreErrorKind::Corrupt);
    assert!(store.remove(&k).unwrap());
    assert!(!raw.exists::<_, bool>(&name).unwrap());
}

#[test]
fn data_of_another_type_is_corrupt_and_not_quoted() {
    let server = RedisServer::start();
    let mut profiles: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let mut numbers: RedisStore<_, u32> = RedisStore::new(server.connection());
    let now = now();
    let k = key();
    profiles
        .create(&k, record(&subject(), 1, now, 60, 60), now)
        .unwrap();
    let error = numbers.get(&k, now).unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Corrupt);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("user-1"), "{shown}");
    assert_eq!(error.to_string(), "redis stored entry is corrupt");
    assert!(core::error::Error::source(&error).is_none());
}

#[test]
fn undecodable_revocations_and_watermarks_are_corrupt() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let k = key();
    let _: () = raw
        .set(
            format!("tokenstile:revoked:{}", hex(k.as_bytes())),
            "r1:soon",
        )
        .unwrap();
    let _: () = raw
        .set(
            format!("tokenstile:watermark:{}", hex(k.as_bytes())),
            "w1:1:2",
        )
        .unwrap();
    // Fail closed: a revocation that can't be read is an error, never "not revoked".
    assert_eq!(kind(store.is_revoked(&k, now)), StoreErrorKind::Corrupt);
    assert_eq!(
        kind(store.revoke(&k, now.saturating_add(9), now)),
        StoreErrorKind::Corrupt
    );
    assert_eq!(kind(store.watermark(&k, now)), StoreErrorKind::Corrupt);
    let wm = Watermark::new(now, now.saturating_add(9));
    assert_eq!(
        kind(store.raise_watermark(&k, wm, now)),
        StoreErrorKind::Corrupt
    );
}

#[test]
fn a_foreign_subject_index_is_corrupt_and_blocks_nothing_else() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let s = subject();
    let _: () = raw
        .set(
            format!("tokenstile:subject:{}", hex(s.as_bytes())),
            "foreign",
        )
        .unwrap();
    let k = key();
    // The session is not created half-way (stored but missing from the index).
    assert_eq!(
        kind(store.create(&k, record(&s, 1, now, 60, 60), now)),
        StoreErrorKind::Corrupt
    );
    assert!(store.get(&k, now).unwrap().is_none());
    assert_eq!(kind(store.remove_subject(&s)), StoreErrorKind::Corrupt);
    // Other subjects are unaffected.
    store
        .create(&k, record(&subject(), 1, now, 60, 60), now)
        .unwrap();
}

#[test]
fn an_unreachable_redis_is_a_backend_failure() {
    let server = RedisServer::start();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let client = server.client();
    let now = now();
    let k = key();
    store
        .create(&k, record(&subject(), 1, now, 60, 60), now)
        .unwrap();
    drop(server);

    let error = store.get(&k, now).unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Backend);
    assert!(error.redis_error().is_some());
    assert!(core::error::Error::source(&error).is_some());
    assert_eq!(error.to_string(), "redis store backend failure");
    assert_eq!(kind(store.remove(&k)), StoreErrorKind::Backend);
    assert_eq!(
        kind(store.remove_subject(&subject())),
        StoreErrorKind::Backend
    );

    // A client that opens a connection per call fails the same way.
    let mut per_call: RedisStore<_, Profile> = RedisStore::new(client);
    assert_eq!(kind(per_call.is_revoked(&k, now)), StoreErrorKind::Backend);
    assert_eq!(
        kind(per_call.create(&key(), record(&subject(), 1, now, 60, 60), now)),
        StoreErrorKind::Backend
    );
}

#[test]
fn unserializable_data_is_reported_not_stored() {
    use std::collections::BTreeMap;

    let server = RedisServer::start();
    let mut store: RedisStore<_, BTreeMap<(u8, u8), u8>> = RedisStore::new(server.connection());
    let now = now();
    let k = key();
    // JSON object keys must be strings: this map can't be serialized.
    let data = BTreeMap::from([((1, 2), 3)]);
    let record = tokenstile::session::SessionRecord::from_parts(
        subject(),
        data,
        now,
        now,
        now.saturating_add(60),
        now.saturating_add(60),
    );
    let error = store.create(&k, record, now).unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Other);
    assert_eq!(error.to_string(), "session data could not be serialized");
    assert!(store.get(&k, now).unwrap().is_none());
}

#[test]
fn stores_and_errors_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Error>();
    fn send<T: Send>() {}
    send::<RedisStore<redis::Connection, Profile>>();
    #[cfg(feature = "tokio")]
    {
        send_sync::<tokenstile_redis::AsyncRedisStore<redis::aio::MultiplexedConnection, Profile>>(
        );
    }
}
