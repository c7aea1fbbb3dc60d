//! Two application servers, each with its own connection and store, sharing one Redis:
//! each sees the other's logins, activity, rotations, logouts and revocations at once.

use tokenstile::store::{SessionStore, StoreErrorKind, Watermark};

use crate::server::RedisServer;
use crate::support::{Profile, key, now, record, subject};
use tokenstile_redis::RedisStore;

#[test]
fn two_servers_see_each_others_changes_at_once() {
    let redis = RedisServer::start();
    let mut a: RedisStore<_, Profile> = RedisStore::with_prefix(redis.connection(), "shop:");
    let mut b: RedisStore<_, Profile> = RedisStore::with_prefix(redis.connection(), "shop:");
    let now = now();
    let t = |secs| now.saturating_add(secs);
    let alice = subject();

    // Login on A, request served by B.
    let first = key();
    let session = record(&alice, 1, now, 600, 3600);
    a.create(&first, session.clone(), now).unwrap();
    assert_eq!(b.get(&first, now).unwrap(), Some(session.clone()));
    // The same ID can't be created twice, whichever server tries.
    let clash = b.create(&first, record(&alice, 2, now, 600, 3600), now);
    assert_eq!(clash.unwrap_err().kind(), StoreErrorKind::Conflict);

    // Activity on B, seen by A.
    assert!(b.touch(&first, t(900), t(10)).unwrap());
    assert_eq!(
        a.get(&first, t(10)).unwrap().unwrap().idle_deadline(),
        t(900)
    );

    // Privilege change on A rotates the ID: B no longer accepts the old one.
    let second = key();
    let moved = a.rotate(&first, &second, t(10)).unwrap().unwrap();
    assert!(b.get(&first, t(10)).unwrap().is_none());
    assert_eq!(b.get(&second, t(10)).unwrap(), Some(moved));
    // A rotation of the old ID on B finds nothing: the move happened once.
    assert!(b.rotate(&first, &key(), t(10)).unwrap().is_none());

    // Data written on B, read on A.
    let mut changed = b.get(&second, t(10)).unwrap().unwrap();
    changed.data_mut().role = 42;
    assert!(b.update(&second, changed, t(10)).unwrap());
    assert_eq!(a.get(&second, t(10)).unwrap().unwrap().data().role, 42);

    // Logout on B: A refuses the session at once.
    assert!(b.remove(&second).unwrap());
    assert!(a.get(&second, t(10)).unwrap().is_none());
    assert!(!a.touch(&second, t(900), t(10)).unwrap());

    // A token revoked on A is revoked on B; a watermark raised on B holds on A.
    let jti = key();
    a.revoke(&jti, t(300), now).unwrap();
    assert!(b.is_revoked(&jti, now).unwrap());
    let wm = Watermark::new(now, t(300));
    b.raise_watermark(&jti, wm, now).unwrap();
    assert_eq!(a.watermark(&jti, now).unwrap(), Some(wm));

    // Logins on both, log-out-everywhere on one: gone on both.
    let (on_a, on_b) = (key(), key());
    a.create(&on_a, record(&alice, 3, now, 600, 3600), now)
        .unwrap();
    b.create(&on_b, record(&alice, 4, now, 600, 3600), now)
        .unwrap();
    assert_eq!(b.remove_subject(&alice).unwrap(), 2);
    for k in [&on_a, &on_b] {
        assert!(a.get(k, now).unwrap().is_none());
        assert!(b.get(k, now).unwrap().is_none());
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn a_sync_and_an_async_server_share_everything() {
    use tokenstile::store::AsyncSessionStore;
    use tokenstile_redis::AsyncRedisStore;

    let redis = RedisServer::start();
    let mut blocking: RedisStore<_, Profile> = RedisStore::new(redis.connection());
    let connection = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut nonblocking: AsyncRedisStore<_, Profile> = AsyncRedisStore::new(connection);
    let now = now();
    let alice = subject();

    let (k, rotated, jti) = (key(), key(), key());
    SessionStore::create(&mut blocking, &k, record(&alice, 1, now, 600, 3600), now).unwrap();
    // The futures are `Send`, so multi-threaded executors (web frameworks) accept them.
    fn send<F: Send>(future: F) -> F {
        future
    }
    assert!(send(nonblocking.get(&k, now)).await.unwrap().is_some());
    assert!(
        nonblocking
            .rotate(&k, &rotated, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(SessionStore::get(&mut blocking, &k, now).unwrap().is_none());
    assert!(
        SessionStore::get(&mut blocking, &rotated, now)
            .unwrap()
            .is_some()
    );
    SessionStore::revoke(&mut blocking, &jti, now.saturating_add(60), now).unwrap();
    assert!(nonblocking.is_revoked(&jti, now).await.unwrap());
    assert_eq!(nonblocking.remove_subject(&alice).await.unwrap(), 1);
    assert!(
        SessionStore::get(&mut blocking, &rotated, now)
            .unwrap()
            .is_none()
    );
}
