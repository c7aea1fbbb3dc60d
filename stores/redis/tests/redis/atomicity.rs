//! Rotation and log-out-everywhere are single steps: a conflict changes nothing, and a
//! reader that sees several keys at once (one `MGET`) never catches a move half done.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use redis::{Commands, Value};
use tokenstile::store::{LookupKey, SessionStore, StoreErrorKind};

use crate::server::RedisServer;
use crate::support::{Profile, hex, key, now, record, subject};
use tokenstile_redis::RedisStore;

fn session_key(k: &LookupKey) -> String {
    format!("tokenstile:session:{}", hex(k.as_bytes()))
}

/// What Redis holds under a key: its value and its TTL in milliseconds.
fn snapshot(raw: &mut redis::Connection, key: &str) -> (Option<Vec<u8>>, i64) {
    let value: Option<Vec<u8>> = raw.get(key).unwrap();
    let pttl: i64 = raw.pttl(key).unwrap();
    (value, pttl)
}

/// The same value, and a TTL that has only ticked down meanwhile.
fn assert_unchanged(before: &(Option<Vec<u8>>, i64), after: &(Option<Vec<u8>>, i64)) {
    assert_eq!(before.0, after.0);
    assert!(
        after.1 <= before.1 && after.1 > before.1 - 1000,
        "{before:?} {after:?}"
    );
}

fn members(raw: &mut redis::Connection, index: &str) -> std::collections::BTreeSet<String> {
    raw.smembers(index).unwrap()
}

#[test]
fn a_refused_rotation_changes_nothing() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let s = subject();
    let index = format!("tokenstile:subject:{}", hex(s.as_bytes()));
    let (old, occupied) = (key(), key());
    store
        .create(&old, record(&s, 1, now, 600, 3600), now)
        .unwrap();
    store
        .create(&occupied, record(&s, 2, now, 300, 3600), now)
        .unwrap();
    let old_before = snapshot(&mut raw, &session_key(&old));
    let occupied_before = snapshot(&mut raw, &session_key(&occupied));
    let members_before = members(&mut raw, &index);
    assert_eq!(members_before.len(), 2);

    let refused = store.rotate(&old, &occupied, now);
    assert_eq!(refused.unwrap_err().kind(), StoreErrorKind::Conflict);
    assert_unchanged(&old_before, &snapshot(&mut raw, &session_key(&old)));
    assert_unchanged(
        &occupied_before,
        &snapshot(&mut raw, &session_key(&occupied)),
    );
    assert_eq!(members(&mut raw, &index), members_before);

    // A corrupt entry under the target: refused before anything is written.
    let _: () = raw.set(session_key(&occupied), "not a session").unwrap();
    let refused = store.rotate(&old, &occupied, now);
    assert_eq!(refused.unwrap_err().kind(), StoreErrorKind::Corrupt);
    assert_unchanged(&old_before, &snapshot(&mut raw, &session_key(&old)));
    assert_eq!(members(&mut raw, &index), members_before);

    // A foreign value where the subject index belongs: the script checks every key it
    // will write before its first write, so the session stays where it was.
    let new = key();
    let _: () = raw.del(&index).unwrap();
    let _: () = raw.set(&index, "foreign").unwrap();
    let refused = store.rotate(&old, &new, now);
    assert_eq!(refused.unwrap_err().kind(), StoreErrorKind::Corrupt);
    assert_unchanged(&old_before, &snapshot(&mut raw, &session_key(&old)));
    assert!(!raw.exists::<_, bool>(session_key(&new)).unwrap());
}

#[test]
fn no_reader_sees_both_ids_or_neither_during_rotations() {
    const ROTATIONS: usize = 200;
    let server = RedisServer::start();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let chain: Vec<LookupKey> = (0..=ROTATIONS).map(|_| key()).collect();
    let names: Vec<String> = chain.iter().map(session_key).collect();
    store
        .create(&chain[0], record(&subject(), 1, now, 600, 3600), now)
        .unwrap();

    let done = AtomicBool::new(false);
    let observations = thread::scope(|scope| {
        let observer = scope.spawn(|| {
            let mut raw = server.connection();
            let mut observations = 0usize;
            while !done.load(Ordering::Acquire) {
                let values: Vec<Option<Vec<u8>>> = raw.mget(&names).unwrap();
                let live = values.iter().filter(|v| v.is_some()).count();
                assert_eq!(live, 1, "a reader saw {live} copies of the session");
                observations += 1;
            }
            observations
        });
        for pair in chain.windows(2) {
            let moved = store.rotate(&pair[0], &pair[1], now).unwrap();
            assert!(moved.is_some());
        }
        done.store(true, Ordering::Release);
        observer.join().unwrap()
    });
    assert!(observations > 0);
    assert!(store.get(&chain[ROTATIONS], now).unwrap().is_some());
}

#[test]
fn log_out_everywhere_is_all_or_nothing() {
    const SESSIONS: u32 = 50;
    let server = RedisServer::start();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let s = subject();
    let keys: Vec<LookupKey> = (0..SESSIONS).map(|_| key()).collect();
    for (n, k) in (0..).zip(&keys) {
        store.create(k, record(&s, n, now, 600, 3600), now).unwrap();
    }
    let names: Vec<String> = keys.iter().map(session_key).collect();

    let started = AtomicBool::new(false);
    thread::scope(|scope| {
        let observer = scope.spawn(|| {
            let mut raw = server.connection();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let values: Vec<Option<Vec<u8>>> = raw.mget(&names).unwrap();
                let live = values.iter().filter(|v| v.is_some()).count();
                assert!(
                    live == 0 || live == keys.len(),
                    "a reader saw {live} sessions"
                );
                started.store(true, Ordering::Release);
                if live == 0 || Instant::now() > deadline {
                    return live;
                }
            }
        });
        while !started.load(Ordering::Acquire) {
            thread::yield_now();
        }
        assert_eq!(store.remove_subject(&s).unwrap(), keys.len());
        assert_eq!(observer.join().unwrap(), 0);
    });
}

#[test]
fn log_out_everywhere_catches_every_session_created_before_it() {
    const LOGINS: usize = 300;
    let server = RedisServer::start();
    let now = now();
    let s = subject();
    let keys: Vec<LookupKey> = (0..LOGINS).map(|_| key()).collect();
    let names: Vec<String> = keys.iter().map(session_key).collect();
    let created = AtomicUsize::new(0);

    thread::scope(|scope| {
        scope.spawn(|| {
            let mut logins: RedisStore<_, Profile> = RedisStore::new(server.connection());
            for (n, k) in (0..).zip(&keys) {
                logins
                    .create(k, record(&s, n, now, 600, 3600), now)
                    .unwrap();
                created.store(n as usize + 1, Ordering::Release);
            }
        });
        let mut logout: RedisStore<_, Profile> = RedisStore::new(server.connection());
        let mut raw = server.connection();
        let mut rounds = 0;
        loop {
            // Every login that had completed before log-out-everywhere started must be
            // gone once it returns, however the two interleave.
            let before = created.load(Ordering::Acquire);
            logout.remove_subject(&s).unwrap();
            if before > 0 {
                let values: Vec<Option<Vec<u8>>> = raw.mget(&names[..before]).unwrap();
                let survivors = values.iter().filter(|v| v.is_some()).count();
                assert_eq!(
                    survivors, 0,
                    "{survivors} of {before} earlier sessions survived"
                );
            }
            rounds += 1;
            if before == LOGINS {
                break;
            }
        }
        assert!(rounds > 1);
    });
    let mut raw = server.connection();
    let left: Vec<Value> = raw.keys("tokenstile:*").unwrap();
    assert!(left.is_empty(), "{left:?}");
}
