//! Server-side TTLs: every entry carries a Redis expiry matching its own deadline, and
//! Redis really drops it then.

use std::time::Duration;

use redis::Commands;
use tokenstile::UnixTime;
use tokenstile::store::{SessionStore, SubjectKey, Watermark};

use crate::server::RedisServer;
use crate::support::{Profile, hex, key, now, record, subject};
use tokenstile_redis::RedisStore;

struct Inspect {
    raw: redis::Connection,
}

impl Inspect {
    fn pttl(&mut self, key: &str) -> i64 {
        self.raw.pttl(key).unwrap()
    }

    /// Asserts that `key` expires `secs` seconds from the write, within a generous margin
    /// for the time the test itself takes.
    fn assert_ttl(&mut self, key: &str, secs: u64) {
        let expected = i64::try_from(secs).unwrap() * 1000;
        let pttl = self.pttl(key);
        assert!(
            pttl <= expected && pttl > expected - 5000,
            "{key}: PTTL {pttl} ms, expected about {expected} ms"
        );
    }
}

fn session_key(k: &tokenstile::store::LookupKey) -> String {
    format!("tokenstile:session:{}", hex(k.as_bytes()))
}

fn index_key(s: &SubjectKey) -> String {
    format!("tokenstile:subject:{}", hex(s.as_bytes()))
}

#[test]
fn session_ttls_follow_the_earlier_deadline() {
    let server = RedisServer::start();
    let mut inspect = Inspect {
        raw: server.connection(),
    };
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let t = |secs| now.saturating_add(secs);
    let (k, s) = (key(), subject());

    store
        .create(&k, record(&s, 1, now, 100, 1000), now)
        .unwrap();
    inspect.assert_ttl(&session_key(&k), 100);
    assert!(inspect.pttl(&index_key(&s)) >= inspect.pttl(&session_key(&k)));

    // Touch moves the TTL to the new idle deadline...
    assert!(store.touch(&k, t(500), now).unwrap());
    inspect.assert_ttl(&session_key(&k), 500);
    // ...but never past the absolute deadline.
    assert!(store.touch(&k, t(5000), now).unwrap());
    inspect.assert_ttl(&session_key(&k), 1000);
    inspect.assert_ttl(&index_key(&s), 1000);

    // Update sets it from the new record.
    assert!(
        store
            .update(&k, record(&s, 2, now, 300, 1000), now)
            .unwrap()
    );
    inspect.assert_ttl(&session_key(&k), 300);
    // The index never shrinks below a session it holds.
    inspect.assert_ttl(&index_key(&s), 1000);

    // Rotation moves the TTL with the value.
    let new = key();
    store.rotate(&k, &new, now).unwrap().unwrap();
    inspect.assert_ttl(&session_key(&new), 300);
    assert_eq!(inspect.pttl(&session_key(&k)), -2, "the old key is gone");

    // TTLs are relative to the caller's `now`: a later write shortens what is left.
    assert!(store.touch(&new, t(300), t(200)).unwrap());
    inspect.assert_ttl(&session_key(&new), 100);
}

#[test]
fn revocation_and_watermark_ttls_only_grow() {
    let server = RedisServer::start();
    let mut inspect = Inspect {
        raw: server.connection(),
    };
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let t = |secs| now.saturating_add(secs);
    let k = key();
    let revoked = format!("tokenstile:revoked:{}", hex(k.as_bytes()));
    let marked = format!("tokenstile:watermark:{}", hex(k.as_bytes()));

    store.revoke(&k, t(100), now).unwrap();
    inspect.assert_ttl(&revoked, 100);
    store.revoke(&k, t(50), now).unwrap();
    inspect.assert_ttl(&revoked, 100);
    store.revoke(&k, t(200), now).unwrap();
    inspect.assert_ttl(&revoked, 200);

    store
        .raise_watermark(&k, Watermark::new(now, t(100)), now)
        .unwrap();
    inspect.assert_ttl(&marked, 100);
    store
        .raise_watermark(&k, Watermark::new(t(1), t(50)), now)
        .unwrap();
    inspect.assert_ttl(&marked, 100);
    store
        .raise_watermark(&k, Watermark::new(t(1), t(400)), now)
        .unwrap();
    inspect.assert_ttl(&marked, 400);

    // Nothing is written for a revocation that has already ended.
    let stale = key();
    store.revoke(&stale, now, now).unwrap();
    assert_eq!(
        inspect.pttl(&format!("tokenstile:revoked:{}", hex(stale.as_bytes()))),
        -2
    );
}

#[test]
fn redis_drops_entries_at_their_deadline() {
    let server = RedisServer::start();
    let mut inspect = Inspect {
        raw: server.connection(),
    };
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let (k, s, revoked) = (key(), subject(), key());
    store.create(&k, record(&s, 1, now, 1, 1), now).unwrap();
    store.revoke(&revoked, now.saturating_add(1), now).unwrap();
    assert!(inspect.pttl(&session_key(&k)) > 0);
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(inspect.pttl(&session_key(&k)), -2);
    assert_eq!(
        inspect.pttl(&index_key(&s)),
        -2,
        "the index expires with its last session"
    );
    let keys: Vec<String> = inspect.raw.keys("*").unwrap();
    assert!(keys.is_empty(), "{keys:?}");
    // Even a reader whose clock lags sees nothing: Redis has dropped it.
    assert!(store.get(&k, now).unwrap().is_none());
    assert!(!store.is_revoked(&revoked, now).unwrap());
}

#[test]
fn far_deadlines_are_kept_exactly_with_a_capped_ttl() {
    let server = RedisServer::start();
    let mut inspect = Inspect {
        raw: server.connection(),
    };
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let (k, s) = (key(), subject());
    let forever = tokenstile::session::SessionRecord::from_parts(
        s,
        crate::support::profile(1),
        now,
        now,
        UnixTime::from_secs(u64::MAX),
        UnixTime::from_secs(u64::MAX),
    );
    store.create(&k, forever.clone(), now).unwrap();
    let pttl = inspect.pttl(&session_key(&k));
    assert!(
        pttl > 999_999_000_000_000 && pttl <= 1_000_000_000_000_000,
        "{pttl}"
    );
    assert_eq!(
        store.get(&k, UnixTime::from_secs(u64::MAX - 1)).unwrap(),
        Some(forever)
    );
    assert!(store.touch(&k, UnixTime::from_secs(u64::MAX), now).unwrap());
}
