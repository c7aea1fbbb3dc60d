//! A call that fails changes nothing: undecodable records, foreign values and data that
//! can't be serialized are reported, and Redis holds exactly what it held before.

use std::collections::BTreeMap;

use redis::Commands;
use serde::Serialize;
use tokenstile::UnixTime;
use tokenstile::store::{
    LookupKey, RevocationStore, SessionHandle, SessionRecord, SessionStore, StoreErrorKind,
    Watermark,
};
use tokenstile_redis::RedisStore;

use crate::server::RedisServer;
use crate::support::{Profile, hex, key, now, profile, record, session_name, store, subject};

/// Every key in Redis with its type and value (strings) or members and scores (sorted
/// sets): a snapshot to compare before and after a failed call.
fn dump(raw: &mut redis::Connection) -> BTreeMap<String, String> {
    let names: Vec<String> = raw.keys("*").unwrap();
    names
        .into_iter()
        .map(|name| {
            let kind: String = redis::cmd("TYPE").arg(&name).query(raw).unwrap();
            let shown = match kind.as_str() {
                "string" => raw
                    .get::<_, Vec<u8>>(&name)
                    .map(|v| format!("{v:?}"))
                    .unwrap(),
                "zset" => format!(
                    "{:?}",
                    raw.zrange_withscores::<_, Vec<(String, f64)>>(&name, 0, -1)
                        .unwrap()
                ),
                other => other.to_owned(),
            };
            (name, shown)
        })
        .collect()
}

#[tokio::test]
async fn data_of_another_type_is_reported_and_never_moved_or_touched() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    let (k, alice) = (key(), subject());
    store
        .create(&k, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    let before = dump(&mut raw);
    let later = now.saturating_add(30);

    // The record is a `Profile`: read as a `u32` it is corrupt, and nothing changes.
    let err = SessionStore::<u32>::get(&mut store, &k, now)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    let err = SessionStore::<u32>::touch(&mut store, &k, later.saturating_add(60), later)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    let new = key();
    let err = SessionStore::<u32>::rotate(&mut store, &k, &new, later)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    let mut listed: Vec<(SessionHandle, SessionRecord<u32>)> = Vec::new();
    let err = store
        .list_subject(&alice, now, &mut listed)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    assert!(listed.is_empty());
    assert_eq!(dump(&mut raw), before, "a failed call changed Redis");

    // Read as what it is, it is all there, under the old key.
    let got: SessionRecord<Profile> = store.get(&k, now).await.unwrap().unwrap();
    assert_eq!(got, record(&alice, 1, now, 60, 600));
    // The error never quotes the data.
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("user-1"), "{shown}");
}

/// Asserts that reading, touching and updating the session under `k` all fail as
/// `Corrupt`; `case` names the value in messages.
async fn assert_corrupt_to_read_and_write(
    store: &mut RedisStore,
    k: &LookupKey,
    now: UnixTime,
    case: &str,
) {
    let kind = |e: tokenstile_redis::Error| e.kind();
    assert_eq!(
        SessionStore::<Profile>::get(store, k, now)
            .await
            .map_err(kind)
            .map(drop),
        Err(StoreErrorKind::Corrupt),
        "get: {case}"
    );
    assert_eq!(
        SessionStore::<Profile>::touch(store, k, now, now)
            .await
            .map_err(kind),
        Err(StoreErrorKind::Corrupt),
        "touch: {case}"
    );
    assert_eq!(
        SessionStore::<Profile>::update(store, k, 0, &profile(2), now, now)
            .await
            .map_err(kind),
        Err(StoreErrorKind::Corrupt),
        "update: {case}"
    );
}

#[tokio::test]
async fn foreign_values_are_corrupt_and_nothing_is_written() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    let k = key();
    let name = session_name(&k);
    for garbage in ["s2:garbage", "s1:00000000000000000001", ""] {
        let _: () = raw.set(&name, garbage).unwrap();
        let before = dump(&mut raw);
        assert_corrupt_to_read_and_write(&mut store, &k, now, garbage).await;
        assert_eq!(
            SessionStore::<Profile>::rotate(&mut store, &k, &key(), now)
                .await
                .unwrap_err()
                .kind(),
            StoreErrorKind::Corrupt
        );
        assert_eq!(
            store
                .create(&k, record(&subject(), 1, now, 60, 60), None, now)
                .await
                .unwrap_err()
                .kind(),
            StoreErrorKind::Corrupt
        );
        assert_eq!(dump(&mut raw), before);
        // Still removable.
        assert!(
            SessionStore::<Profile>::remove(&mut store, &k)
                .await
                .unwrap()
        );
        assert!(!raw.exists::<_, bool>(&name).unwrap());
    }

    // Another Redis type under a session key, a subject index or a revocation.
    let _: () = raw.hset(&name, "field", "value").unwrap();
    let before = dump(&mut raw);
    assert_eq!(
        SessionStore::<Profile>::get(&mut store, &k, now)
            .await
            .unwrap_err()
            .kind(),
        StoreErrorKind::Corrupt
    );
    assert_eq!(
        SessionStore::<Profile>::touch(&mut store, &k, now, now)
            .await
            .unwrap_err()
            .kind(),
        StoreErrorKind::Corrupt
    );
    assert_eq!(dump(&mut raw), before);
    assert!(
        SessionStore::<Profile>::remove(&mut store, &k)
            .await
            .unwrap()
    );

    let alice = subject();
    let index = format!("{{tokenstile:sessions}}:subject:{}", hex(alice.as_bytes()));
    let _: () = raw.set(&index, "not a sorted set").unwrap();
    let before = dump(&mut raw);
    let fresh = key();
    assert_eq!(
        store
            .create(&fresh, record(&alice, 1, now, 60, 60), None, now)
            .await
            .unwrap_err()
            .kind(),
        StoreErrorKind::Corrupt
    );
    assert_eq!(dump(&mut raw), before, "nothing of the session was written");
    assert_eq!(
        SessionStore::<Profile>::remove_subject(&mut store, &alice, None)
            .await
            .unwrap_err()
            .kind(),
        StoreErrorKind::Corrupt
    );
    assert_eq!(dump(&mut raw), before);

    let token = key();
    let revoked = format!("tokenstile:revoked:{}", hex(token.as_bytes()));
    let _: () = raw.set(&revoked, "r1:soon").unwrap();
    let before = dump(&mut raw);
    assert_eq!(
        store
            .revoke(&token, now.saturating_add(60), now)
            .await
            .unwrap_err()
            .kind(),
        StoreErrorKind::Corrupt
    );
    assert_eq!(
        store.is_revoked(&token, now).await.unwrap_err().kind(),
        StoreErrorKind::Corrupt
    );
    let mark = key();
    let wm = format!("tokenstile:watermark:{}", hex(mark.as_bytes()));
    let _: () = raw.set(&wm, "w1:?").unwrap();
    let watermark = Watermark::new(now, now.saturating_add(60));
    assert_eq!(
        store
            .raise_watermark(&mark, watermark, now)
            .await
            .unwrap_err()
            .kind(),
        StoreErrorKind::Corrupt
    );
    let _: () = raw.del(&wm).unwrap();
    assert_eq!(dump(&mut raw), before);
}

/// Data that serde_json can't write: a map with non-string keys.
#[derive(Serialize, serde::Deserialize)]
struct Unwritable(BTreeMap<(u8, u8), u8>);

#[tokio::test]
async fn data_that_cannot_be_serialized_writes_nothing() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    let (k, alice) = (key(), subject());
    let bad = Unwritable(BTreeMap::from([((1, 2), 3)]));
    let record = SessionRecord::new(
        alice,
        bad,
        now,
        now.saturating_add(60),
        now.saturating_add(60),
    );
    let err = store.create(&k, record, None, now).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Other);
    let names: Vec<String> = raw.keys("*").unwrap();
    assert!(names.is_empty(), "{names:?}");

    let good = key();
    store
        .create(
            &good,
            crate::support::record(&alice, 1, now, 60, 60),
            None,
            now,
        )
        .await
        .unwrap();
    let before = dump(&mut raw);
    let bad = Unwritable(BTreeMap::from([((1, 2), 3)]));
    let err = store.update(&good, 1, &bad, now, now).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Other);
    assert_eq!(dump(&mut raw), before);
}

/// A time beyond `u64::MAX` in a stored session (written by something else) is corrupt to
/// the scripts as to the decoder: a touch or an update does not go on with it.
#[tokio::test]
async fn a_time_beyond_u64_is_corrupt_to_every_script() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    let k = key();
    store
        .create(&k, record(&subject(), 1, now, 60, 60), None, now)
        .await
        .unwrap();
    let name = session_name(&k);
    let value: Vec<u8> = raw.get(&name).unwrap();
    // The idle deadline is the 20 digits at bytes 46-65 (1-based).
    for digits in ["18446744073709551616", "99999999999999999999"] {
        let mut edited = value.clone();
        edited[45..65].copy_from_slice(digits.as_bytes());
        let _: () = raw.set(&name, &edited).unwrap();
        let before = dump(&mut raw);
        assert_corrupt_to_read_and_write(&mut store, &k, now, digits).await;
        assert_eq!(dump(&mut raw), before, "{digits}: nothing written");
    }
    // The largest u64 itself is a time like any other.
    let mut edited = value.clone();
    edited[45..65].copy_from_slice(b"18446744073709551615");
    let _: () = raw.set(&name, &edited).unwrap();
    assert!(
        SessionStore::<Profile>::get(&mut store, &k, now)
            .await
            .unwrap()
            .is_some()
    );
}
