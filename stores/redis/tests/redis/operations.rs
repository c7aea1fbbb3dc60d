//! Every store operation, through the trait, against a real Redis. Written once over
//! `AsyncSessionStore` and run for the sync store (through tokenstile's blanket impl) and
//! the async store.

use tokenstile::UnixTime;
use tokenstile::store::{AsyncSessionStore, StoreError, StoreErrorKind, Watermark};

use crate::server::RedisServer;
use crate::support::Profile;
use crate::support::{block_on, key, now, record, subject};
use tokenstile_redis::RedisStore;

async fn all<S>(store: &mut S)
where
    S: AsyncSessionStore<Data = Profile>,
{
    create_get_update_remove(store).await;
    create_never_overwrites(store).await;
    expiry_follows_the_callers_clock(store).await;
    touch_only_moves_forward(store).await;
    rotate_moves_or_changes_nothing(store).await;
    remove_subject_removes_every_session(store).await;
    revocations_keep_the_later_time(store).await;
    watermarks_only_rise(store).await;
    purge_has_nothing_to_do(store).await;
}

fn kind<T: core::fmt::Debug, E: StoreError>(result: Result<T, E>) -> StoreErrorKind {
    result.unwrap_err().kind()
}

async fn create_get_update_remove<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let (k, alice) = (key(), subject());
    let first = record(&alice, 1, now, 600, 3600);
    let mut second = first.clone();
    second.data_mut().role = 2;

    assert!(store.get(&k, now).await.unwrap().is_none());
    assert!(!store.update(&k, second.clone(), now).await.unwrap());
    assert!(
        store.get(&k, now).await.unwrap().is_none(),
        "update created an entry"
    );

    store.create(&k, first.clone(), now).await.unwrap();
    assert_eq!(store.get(&k, now).await.unwrap(), Some(first));
    assert!(store.update(&k, second.clone(), now).await.unwrap());
    assert_eq!(store.get(&k, now).await.unwrap(), Some(second.clone()));

    assert!(store.remove(&k).await.unwrap());
    assert!(store.get(&k, now).await.unwrap().is_none());
    assert!(!store.remove(&k).await.unwrap());
    assert!(!store.update(&k, second, now).await.unwrap());
    assert!(
        store.get(&k, now).await.unwrap().is_none(),
        "update resurrected a session"
    );
}

async fn create_never_overwrites<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let k = key();
    let first = record(&subject(), 1, now, 600, 3600);
    let intruder = record(&subject(), 2, now, 600, 3600);
    store.create(&k, first.clone(), now).await.unwrap();
    assert_eq!(
        kind(store.create(&k, intruder, now).await),
        StoreErrorKind::Conflict
    );
    assert_eq!(store.get(&k, now).await.unwrap(), Some(first));
    store.remove(&k).await.unwrap();
}

async fn expiry_follows_the_callers_clock<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let s = subject();
    // One ends at its idle deadline, one at its absolute deadline.
    for (idle, absolute) in [(100, 200), (200, 100)] {
        let k = key();
        store
            .create(&k, record(&s, 1, now, idle, absolute), now)
            .await
            .unwrap();
        let (before, at) = (now.saturating_add(99), now.saturating_add(100));
        assert!(store.get(&k, before).await.unwrap().is_some());
        assert!(store.get(&k, at).await.unwrap().is_none());
        assert!(
            !store
                .update(&k, record(&s, 2, now, 999, 999), at)
                .await
                .unwrap()
        );
        assert!(!store.touch(&k, now.saturating_add(999), at).await.unwrap());
        let target = key();
        assert!(store.rotate(&k, &target, at).await.unwrap().is_none());
        assert!(store.get(&target, now).await.unwrap().is_none());
        // Still there for a reader at an earlier time: nothing was written.
        assert_eq!(
            store
                .get(&k, before)
                .await
                .unwrap()
                .map(|r| r.idle_deadline()),
            Some(now.saturating_add(idle))
        );
        assert!(store.remove(&k).await.unwrap());
    }
}

async fn touch_only_moves_forward<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let t = |secs| now.saturating_add(secs);
    let k = key();
    let original = record(&subject(), 7, now, 100, 1000);
    store.create(&k, original.clone(), now).await.unwrap();

    assert!(store.touch(&k, t(150), t(50)).await.unwrap());
    let got = store.get(&k, t(120)).await.unwrap().unwrap();
    assert_eq!((got.last_seen(), got.idle_deadline()), (t(50), t(150)));
    assert_eq!(got.data(), original.data());
    assert_eq!(got.absolute_deadline(), original.absolute_deadline());
    assert_eq!(got.created(), original.created());
    assert_eq!(got.subject(), original.subject());

    // A late, older touch moves nothing backwards.
    assert!(store.touch(&k, t(120), t(40)).await.unwrap());
    let got = store.get(&k, t(60)).await.unwrap().unwrap();
    assert_eq!((got.last_seen(), got.idle_deadline()), (t(50), t(150)));

    // The idle deadline may pass the absolute one; the record still ends at the absolute.
    assert!(store.touch(&k, t(5000), t(60)).await.unwrap());
    assert!(store.get(&k, t(999)).await.unwrap().is_some());
    assert!(store.get(&k, t(1000)).await.unwrap().is_none());

    store.remove(&k).await.unwrap();
    assert!(!store.touch(&k, t(500), t(60)).await.unwrap());
    assert!(store.get(&k, t(60)).await.unwrap().is_none());
}

async fn rotate_moves_or_changes_nothing<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let s = subject();
    let (old, new, other) = (key(), key(), key());
    let session = record(&s, 1, now, 600, 3600);
    let occupant = record(&s, 2, now, 600, 3600);

    store.create(&old, session.clone(), now).await.unwrap();
    assert_eq!(
        store.rotate(&old, &new, now).await.unwrap(),
        Some(session.clone())
    );
    assert!(store.get(&old, now).await.unwrap().is_none());
    assert_eq!(store.get(&new, now).await.unwrap(), Some(session.clone()));
    assert!(store.rotate(&old, &other, now).await.unwrap().is_none());
    assert!(store.get(&other, now).await.unwrap().is_none());

    store.create(&other, occupant.clone(), now).await.unwrap();
    assert_eq!(
        kind(store.rotate(&new, &other, now).await),
        StoreErrorKind::Conflict
    );
    assert_eq!(store.get(&new, now).await.unwrap(), Some(session.clone()));
    assert_eq!(store.get(&other, now).await.unwrap(), Some(occupant));
    assert_eq!(
        kind(store.rotate(&new, &new, now).await),
        StoreErrorKind::Conflict
    );
    assert_eq!(store.get(&new, now).await.unwrap(), Some(session.clone()));

    // An occupant that is dead by the caller's clock (Redis still holds it) is replaced.
    let dead = key();
    store
        .create(&dead, record(&s, 3, now, 10, 10), now)
        .await
        .unwrap();
    let later = now.saturating_add(20);
    assert_eq!(
        store.rotate(&new, &dead, later).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(store.get(&dead, later).await.unwrap(), Some(session));
    assert!(store.get(&new, now).await.unwrap().is_none());

    for k in [&dead, &other] {
        assert!(store.remove(k).await.unwrap());
    }
}

async fn remove_subject_removes_every_session<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let (doomed, bystander) = (subject(), subject());
    let keys = [key(), key(), key()];
    let (rotated_to, spared) = (key(), key());
    for (n, k) in (0..).zip(&keys) {
        store
            .create(k, record(&doomed, n, now, 600, 3600), now)
            .await
            .unwrap();
    }
    store
        .create(&spared, record(&bystander, 9, now, 600, 3600), now)
        .await
        .unwrap();
    assert!(
        store
            .rotate(&keys[0], &rotated_to, now)
            .await
            .unwrap()
            .is_some()
    );
    // A removed session is no longer counted.
    assert!(store.remove(&keys[1]).await.unwrap());

    assert_eq!(store.remove_subject(&doomed).await.unwrap(), 2);
    for k in keys.iter().chain([&rotated_to]) {
        assert!(store.get(k, now).await.unwrap().is_none());
    }
    assert!(store.get(&spared, now).await.unwrap().is_some());
    assert_eq!(store.remove_subject(&doomed).await.unwrap(), 0);

    // A session created after log-out-everywhere is a new login and survives.
    let fresh = key();
    store
        .create(&fresh, record(&doomed, 5, now, 600, 3600), now)
        .await
        .unwrap();
    assert!(store.get(&fresh, now).await.unwrap().is_some());
    assert_eq!(store.remove_subject(&doomed).await.unwrap(), 1);
    assert_eq!(store.remove_subject(&bystander).await.unwrap(), 1);
}

async fn revocations_keep_the_later_time<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let t = |secs| now.saturating_add(secs);
    let (k, unknown, stale) = (key(), key(), key());

    assert!(!store.is_revoked(&k, now).await.unwrap());
    store.revoke(&k, t(100), now).await.unwrap();
    assert!(store.is_revoked(&k, t(99)).await.unwrap());
    assert!(!store.is_revoked(&k, t(100)).await.unwrap());
    store.revoke(&k, t(50), now).await.unwrap();
    assert!(
        store.is_revoked(&k, t(99)).await.unwrap(),
        "a shorter revocation cut a longer one"
    );
    store.revoke(&k, t(200), now).await.unwrap();
    assert!(store.is_revoked(&k, t(199)).await.unwrap());
    assert!(!store.is_revoked(&unknown, now).await.unwrap());
    store.revoke(&stale, now, now).await.unwrap();
    assert!(!store.is_revoked(&stale, now).await.unwrap());
    // Kinds live apart: a revocation is not a session, nor the other way round.
    assert!(store.get(&k, now).await.unwrap().is_none());
    let session = key();
    store
        .create(&session, record(&subject(), 1, now, 60, 60), now)
        .await
        .unwrap();
    assert!(!store.is_revoked(&session, now).await.unwrap());
    store.revoke(&session, t(30), now).await.unwrap();
    assert!(store.get(&session, now).await.unwrap().is_some());
    assert!(store.remove(&session).await.unwrap());
    assert!(
        store.is_revoked(&session, now).await.unwrap(),
        "remove touched a revocation"
    );
}

async fn watermarks_only_rise<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let t = |secs| now.saturating_add(secs);
    let k = key();
    assert_eq!(store.watermark(&k, now).await.unwrap(), None);
    let first = Watermark::new(t(10), t(100));
    store.raise_watermark(&k, first, now).await.unwrap();
    assert_eq!(store.watermark(&k, t(99)).await.unwrap(), Some(first));
    assert_eq!(store.watermark(&k, t(100)).await.unwrap(), None);
    store
        .raise_watermark(&k, Watermark::new(t(5), t(50)), now)
        .await
        .unwrap();
    assert_eq!(store.watermark(&k, now).await.unwrap(), Some(first));
    store
        .raise_watermark(&k, Watermark::new(t(20), t(80)), now)
        .await
        .unwrap();
    assert_eq!(
        store.watermark(&k, now).await.unwrap(),
        Some(Watermark::new(t(20), t(100)))
    );
    // Extreme times survive the round trip exactly.
    let far = Watermark::new(
        UnixTime::from_secs(u64::MAX - 1),
        UnixTime::from_secs(u64::MAX),
    );
    store.raise_watermark(&k, far, now).await.unwrap();
    assert_eq!(store.watermark(&k, now).await.unwrap(), Some(far));
    // A watermark that has ended by the caller's clock is replaced, not merged.
    let other = key();
    store
        .raise_watermark(&other, Watermark::new(t(90), t(100)), now)
        .await
        .unwrap();
    let fresh = Watermark::new(t(150), t(300));
    store.raise_watermark(&other, fresh, t(200)).await.unwrap();
    assert_eq!(store.watermark(&other, t(200)).await.unwrap(), Some(fresh));
}

async fn purge_has_nothing_to_do<S: AsyncSessionStore<Data = Profile>>(store: &mut S) {
    let now = now();
    let k = key();
    store
        .create(&k, record(&subject(), 1, now, 600, 600), now)
        .await
        .unwrap();
    assert_eq!(
        store.purge_expired(now.saturating_add(1000)).await.unwrap(),
        0
    );
    assert!(store.get(&k, now).await.unwrap().is_some());
    store.remove(&k).await.unwrap();
}

#[test]
fn sync_store() {
    let server = RedisServer::start();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    block_on(all(&mut store));
}

#[test]
fn sync_store_on_a_client() {
    // `redis::Client` is a `ConnectionLike` too: a connection per call.
    let server = RedisServer::start();
    let mut store: RedisStore<_, Profile> = RedisStore::with_prefix(server.client(), "c:");
    block_on(all(&mut store));
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn async_store_on_a_multiplexed_connection() {
    let server = RedisServer::start();
    let connection = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut store: tokenstile_redis::AsyncRedisStore<_, Profile> =
        tokenstile_redis::AsyncRedisStore::new(connection);
    all(&mut store).await;
}

#[cfg(feature = "connection-manager")]
#[tokio::test]
async fn async_store_on_a_connection_manager() {
    let server = RedisServer::start();
    let manager = redis::aio::ConnectionManager::new(server.client())
        .await
        .unwrap();
    let mut store: tokenstile_redis::AsyncRedisStore<_, Profile> =
        tokenstile_redis::AsyncRedisStore::with_prefix(manager, "m:");
    all(&mut store).await;
}
