//! The session lifecycle over the in-memory stores, with a fixed clock.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

extern crate alloc;

mod support;

use core::num::NonZeroUsize;
use core::sync::atomic::{AtomicBool, Ordering};

use support::{BrokenRng, Instrumented, RepeatingRng, TestRng, Wait, at};
use tokenstile::session::{Rotated, SessionError, SessionId, SessionIdError, SessionPolicy};
use tokenstile::store::{
    MemoryStore, SessionHandle, SessionRecord, SessionStore, SharedStore, StoreError,
    StoreErrorKind, SubjectLimit, WhenFull,
};

#[derive(Clone, Debug, PartialEq)]
struct Data {
    user: u32,
    role: heapless::String<8>,
}

fn data(user: u32) -> Data {
    Data {
        user,
        role: heapless::String::try_from("reader").unwrap(),
    }
}

type Store = MemoryStore<Data, 64, 64>;

const POLICY: SessionPolicy = SessionPolicy::new();

fn not_found<E>(result: Result<impl Sized, SessionError<E>>) -> bool {
    matches!(result, Err(SessionError::NotFound))
}

fn store_error<T, E: StoreError>(result: Result<T, SessionError<E>>) -> Option<StoreErrorKind> {
    match result {
        Err(SessionError::Store(e)) => Some(e.kind()),
        _ => None,
    }
}

/// Three sessions of Alice, created at 0, 1 and 2 with data 0, 1 and 2, and one of Bob.
fn alice_and_bob(store: &mut Store, rng: &mut TestRng) -> (Vec<SessionId>, SessionId) {
    let alice = (0..3)
        .map(|n| {
            POLICY
                .create(&mut *store, &mut *rng, "alice", data(n), at(n.into()))
                .wait()
                .unwrap()
        })
        .collect();
    let bob = POLICY
        .create(store, rng, "bob", data(9), at(0))
        .wait()
        .unwrap();
    (alice, bob)
}

#[test]
fn defaults_are_documented_values() {
    assert_eq!(POLICY.idle_timeout, 30 * 60);
    assert_eq!(POLICY.absolute_timeout, 8 * 60 * 60);
    assert_eq!(POLICY.touch_interval, 60);
    assert_eq!(SessionPolicy::default(), POLICY);
    let custom = POLICY
        .with_idle_timeout(10)
        .with_absolute_timeout(20)
        .with_touch_interval(1);
    assert_eq!(
        (
            custom.idle_timeout,
            custom.absolute_timeout,
            custom.touch_interval
        ),
        (10, 20, 1)
    );
}

#[test]
fn create_then_load_returns_the_data_and_deadlines() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(1), "alice", data(7), at(0))
        .wait()
        .unwrap();
    let record = POLICY.load(&mut store, &id, at(10)).wait().unwrap();
    assert_eq!(record.data(), &data(7));
    assert!(record.belongs_to("alice"));
    assert_eq!(record.created(), at(0));
    assert_eq!(record.idle_deadline(), at(1800));
    assert_eq!(record.absolute_deadline(), at(28_800));
    // The store holds the lookup key, never the ID.
    assert!(
        store
            .get(&id.lookup_key(), at(10))
            .wait()
            .unwrap()
            .is_some()
    );
}

#[test]
fn idle_timeout_ends_a_quiet_session() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(2), "alice", data(1), at(0))
        .wait()
        .unwrap();
    assert!(POLICY.load(&mut store, &id, at(1799)).wait().is_ok());
    // That load was activity: the idle deadline moved to 1799 + 1800.
    assert!(POLICY.load(&mut store, &id, at(3598)).wait().is_ok());
    assert!(not_found(
        POLICY.load(&mut store, &id, at(3598 + 1800)).wait()
    ));

    let quiet = POLICY
        .create(&mut store, &mut TestRng::new(3), "bob", data(2), at(0))
        .wait()
        .unwrap();
    assert!(not_found(POLICY.load(&mut store, &quiet, at(1800)).wait()));
}

#[test]
fn absolute_timeout_ends_a_session_despite_constant_activity() {
    let mut store = Instrumented::counting(Store::new());
    let id = POLICY
        .create(&mut store, &mut TestRng::new(4), "alice", data(1), at(0))
        .wait()
        .unwrap();
    let mut t = 0;
    while t < 28_800 {
        let record = POLICY.load(&mut store, &id, at(t)).wait().unwrap();
        assert!(record.expires_at() > at(t));
        t += 30;
    }
    assert!(store.touches > 400, "activity was written back");
    assert!(not_found(POLICY.load(&mut store, &id, at(28_800)).wait()));
}

#[test]
fn touch_is_throttled_to_the_interval() {
    let mut store = Instrumented::counting(Store::new());
    let id = POLICY
        .create(&mut store, &mut TestRng::new(5), "alice", data(1), at(0))
        .wait()
        .unwrap();
    assert_eq!(store.writes(), 1);
    for t in 0..60 {
        POLICY.load(&mut store, &id, at(t)).wait().unwrap();
    }
    assert_eq!(
        store.touches, 0,
        "60 loads within the interval write nothing"
    );
    let record = POLICY.load(&mut store, &id, at(60)).wait().unwrap();
    assert_eq!(store.touches, 1);
    assert_eq!(record.last_seen(), at(60));
    assert_eq!(record.idle_deadline(), at(60 + 1800));
    for t in 61..120 {
        POLICY.load(&mut store, &id, at(t)).wait().unwrap();
    }
    assert_eq!(store.touches, 1);
    POLICY.load(&mut store, &id, at(120)).wait().unwrap();
    assert_eq!(store.touches, 2);
    assert_eq!(store.updates, 0, "touching never rewrites the data");

    // Interval zero: every load writes.
    let eager = POLICY.with_touch_interval(0);
    eager.load(&mut store, &id, at(121)).wait().unwrap();
    eager.load(&mut store, &id, at(121)).wait().unwrap();
    assert_eq!(store.touches, 4);
}

#[test]
fn touch_does_not_clobber_data_saved_concurrently() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(6), "alice", data(1), at(0))
        .wait()
        .unwrap();
    // Request A loads; request B saves new data; A's later load touches.
    let stale = POLICY.load(&mut store, &id, at(10)).wait().unwrap();
    let mut fresh = POLICY.load(&mut store, &id, at(11)).wait().unwrap();
    fresh.data_mut().user = 99;
    POLICY
        .save(&mut store, &id, &mut fresh, at(12))
        .wait()
        .unwrap();
    POLICY.load(&mut store, &id, at(200)).wait().unwrap();
    assert_eq!(stale.data().user, 1);
    assert_eq!(
        POLICY
            .load(&mut store, &id, at(201))
            .wait()
            .unwrap()
            .data()
            .user,
        99
    );
}

#[test]
fn save_keeps_deadlines_and_never_resurrects() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(7), "alice", data(1), at(0))
        .wait()
        .unwrap();
    let mut record = POLICY.load(&mut store, &id, at(100)).wait().unwrap();
    record.data_mut().role = heapless::String::try_from("admin").unwrap();
    POLICY
        .save(&mut store, &id, &mut record, at(100))
        .wait()
        .unwrap();
    let mut saved = POLICY.load(&mut store, &id, at(101)).wait().unwrap();
    assert_eq!(saved.data().role.as_str(), "admin");
    assert_eq!(saved.absolute_deadline(), at(28_800));
    assert_eq!(saved.idle_deadline(), at(1900));

    assert!(POLICY.destroy(&mut store, &id).wait().unwrap());
    assert!(not_found(
        POLICY
            .save(&mut store, &id, &mut saved.clone(), at(102))
            .wait()
    ));
    assert!(not_found(POLICY.load(&mut store, &id, at(102)).wait()));
    // A record past the policy can't be saved.
    assert!(matches!(
        POLICY.save(&mut store, &id, &mut saved, at(28_800)).wait(),
        Err(SessionError::Expired)
    ));
}

#[test]
fn a_tighter_policy_ends_existing_sessions_and_removes_them() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(8), "alice", data(1), at(0))
        .wait()
        .unwrap();
    let strict = POLICY.with_idle_timeout(60);
    assert!(matches!(
        strict.load(&mut store, &id, at(100)).wait(),
        Err(SessionError::Expired)
    ));
    assert!(not_found(POLICY.load(&mut store, &id, at(100)).wait()));

    let id = POLICY
        .create(&mut store, &mut TestRng::new(9), "alice", data(1), at(0))
        .wait()
        .unwrap();
    let short = POLICY.with_absolute_timeout(100).with_touch_interval(0);
    assert!(short.load(&mut store, &id, at(99)).wait().is_ok());
    assert!(matches!(
        short.load(&mut store, &id, at(100)).wait(),
        Err(SessionError::Expired)
    ));
}

#[test]
fn rotation_keeps_data_and_kills_the_old_id() {
    let mut store = Store::new();
    let mut rng = TestRng::new(10);
    let old = POLICY
        .create(&mut store, &mut rng, "alice", data(5), at(0))
        .wait()
        .unwrap();
    let before = POLICY.load(&mut store, &old, at(100)).wait().unwrap();
    let Rotated {
        id: new, record, ..
    } = POLICY
        .rotate(&mut store, &mut rng, &old, at(200))
        .wait()
        .unwrap();
    assert!(new != old);
    assert_eq!(record, before);
    assert!(not_found(POLICY.load(&mut store, &old, at(200)).wait()));
    let loaded = POLICY.load(&mut store, &new, at(201)).wait().unwrap();
    assert_eq!(loaded.data(), &data(5));
    assert_eq!(loaded.created(), at(0));
    assert_eq!(
        loaded.absolute_deadline(),
        at(28_800),
        "rotation never extends the lifetime"
    );
    // The old ID can't be rotated again, nor destroyed.
    assert!(not_found(
        POLICY.rotate(&mut store, &mut rng, &old, at(202)).wait()
    ));
    assert!(!POLICY.destroy(&mut store, &old).wait().unwrap());
}

#[test]
fn rotating_an_expired_session_fails_and_leaves_nothing() {
    let mut store = Store::new();
    let mut rng = TestRng::new(11);
    let id = POLICY
        .create(&mut store, &mut rng, "alice", data(1), at(0))
        .wait()
        .unwrap();
    let strict = POLICY.with_absolute_timeout(10);
    assert!(matches!(
        strict.rotate(&mut store, &mut rng, &id, at(20)).wait(),
        Err(SessionError::Expired)
    ));
    assert_eq!(store.sessions_len(), 0);
}

#[test]
fn destroy_is_immediate() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(12), "alice", data(1), at(0))
        .wait()
        .unwrap();
    assert!(POLICY.destroy(&mut store, &id).wait().unwrap());
    assert!(not_found(POLICY.load(&mut store, &id, at(1)).wait()));
    assert!(!POLICY.destroy(&mut store, &id).wait().unwrap());
}

#[test]
fn log_out_everywhere_ends_every_session_of_the_subject_only() {
    let mut store = Store::new();
    let mut rng = TestRng::new(13);
    let (alice, bob) = alice_and_bob(&mut store, &mut rng);
    // One of Alice's sessions was rotated since.
    let rotated = POLICY
        .rotate(&mut store, &mut rng, &alice[0], at(5))
        .wait()
        .unwrap()
        .id;

    assert_eq!(
        POLICY.destroy_subject(&mut store, "alice").wait().unwrap(),
        3
    );
    for id in alice.iter().chain([&rotated]) {
        assert!(not_found(POLICY.load(&mut store, id, at(10)).wait()));
    }
    assert_eq!(
        POLICY.load(&mut store, &bob, at(10)).wait().unwrap().data(),
        &data(9)
    );
    assert_eq!(
        POLICY.destroy_subject(&mut store, "alice").wait().unwrap(),
        0
    );
}

#[test]
fn a_repeated_id_is_an_error_and_overwrites_nothing() {
    let mut store = Instrumented::counting(Store::new());
    let first = POLICY
        .create(&mut store, &mut RepeatingRng(7), "alice", data(1), at(0))
        .wait()
        .unwrap();
    let second = POLICY
        .create(
            &mut store,
            &mut RepeatingRng(7),
            "mallory",
            data(666),
            at(1),
        )
        .wait();
    assert_eq!(store_error(second), Some(StoreErrorKind::Conflict));
    assert_eq!(store.creates, 2, "no silent retry with another ID");
    let kept = POLICY.load(&mut store, &first, at(2)).wait().unwrap();
    assert_eq!(kept.data(), &data(1));
    assert!(kept.belongs_to("alice"));

    // Rotating onto an ID in use fails too, and leaves both sessions where they were.
    let other = POLICY
        .create(&mut store, &mut RepeatingRng(8), "bob", data(2), at(0))
        .wait()
        .unwrap();
    let rotated = POLICY
        .rotate(&mut store, &mut RepeatingRng(7), &other, at(3))
        .wait();
    assert_eq!(store_error(rotated), Some(StoreErrorKind::Conflict));
    assert_eq!(
        POLICY
            .load(&mut store, &other, at(4))
            .wait()
            .unwrap()
            .data(),
        &data(2)
    );
    assert_eq!(
        POLICY
            .load(&mut store, &first, at(4))
            .wait()
            .unwrap()
            .data(),
        &data(1)
    );
}

#[test]
fn a_failing_rng_is_reported() {
    let mut store = Store::new();
    assert!(matches!(
        POLICY
            .create(&mut store, &mut BrokenRng, "alice", data(1), at(0))
            .wait(),
        Err(SessionError::Random)
    ));
    assert_eq!(store.sessions_len(), 0);
    let id = POLICY
        .create(&mut store, &mut TestRng::new(14), "alice", data(1), at(0))
        .wait()
        .unwrap();
    assert!(matches!(
        POLICY.rotate(&mut store, &mut BrokenRng, &id, at(1)).wait(),
        Err(SessionError::Random)
    ));
    assert!(POLICY.load(&mut store, &id, at(2)).wait().is_ok());
}

#[test]
fn a_full_store_refuses_new_sessions_and_keeps_the_live_ones() {
    let mut store = MemoryStore::<Data, 4, 4>::new();
    let mut rng = TestRng::new(15);
    let ids: Vec<SessionId> = (0..4)
        .map(|n| {
            POLICY
                .create(&mut store, &mut rng, "alice", data(n), at(0))
                .wait()
                .unwrap()
        })
        .collect();
    let refused = POLICY
        .create(&mut store, &mut rng, "bob", data(9), at(1))
        .wait();
    assert_eq!(store_error(refused), Some(StoreErrorKind::Capacity));
    for (n, id) in (0..).zip(&ids) {
        assert_eq!(
            POLICY.load(&mut store, id, at(2)).wait().unwrap().data(),
            &data(n)
        );
    }
}

#[test]
fn a_full_store_evicts_an_expired_session_for_a_new_one() {
    let mut store = MemoryStore::<Data, 4, 4>::new();
    let mut rng = TestRng::new(16);
    let short = POLICY.with_idle_timeout(100);
    let doomed = short
        .create(&mut store, &mut rng, "alice", data(0), at(0))
        .wait()
        .unwrap();
    let kept: Vec<SessionId> = (1..4)
        .map(|n| {
            POLICY
                .create(&mut store, &mut rng, "alice", data(n), at(0))
                .wait()
                .unwrap()
        })
        .collect();
    assert_eq!(store.sessions_len(), 4);
    let newcomer = POLICY
        .create(&mut store, &mut rng, "bob", data(9), at(100))
        .wait()
        .unwrap();
    assert_eq!(store.sessions_len(), 4);
    assert!(not_found(POLICY.load(&mut store, &doomed, at(100)).wait()));
    for id in kept.iter().chain([&newcomer]) {
        assert!(POLICY.load(&mut store, id, at(101)).wait().is_ok());
    }
}

#[test]
fn purge_removes_only_dead_sessions() {
    let mut store = Store::new();
    let mut rng = TestRng::new(17);
    POLICY
        .with_idle_timeout(10)
        .create(&mut store, &mut rng, "a", data(0), at(0))
        .wait()
        .unwrap();
    let live = POLICY
        .create(&mut store, &mut rng, "a", data(1), at(0))
        .wait()
        .unwrap();
    assert_eq!(POLICY.purge_expired(&mut store, at(10)).wait().unwrap(), 1);
    assert_eq!(store.sessions_len(), 1);
    assert!(POLICY.load(&mut store, &live, at(10)).wait().is_ok());
}

#[test]
fn hostile_ids_get_specific_errors() {
    let cases: &[(&str, SessionIdError)] = &[
        ("", SessionIdError::Length),
        ("short", SessionIdError::Length),
        (&"A".repeat(44), SessionIdError::Length),
        (&"A".repeat(4096), SessionIdError::Length),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            SessionIdError::Alphabet,
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
            SessionIdError::Alphabet,
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/A",
            SessionIdError::Alphabet,
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA",
            SessionIdError::Alphabet,
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAA;AAAAAAAAAAAAAAAAAAAAA",
            SessionIdError::Alphabet,
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u{e9}",
            SessionIdError::Alphabet,
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
            SessionIdError::NonCanonical,
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_",
            SessionIdError::NonCanonical,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<SessionId>().err(), Some(*expected), "{text:?}");
    }
    // A valid but unknown ID is simply not found.
    let mut store = Store::new();
    let unknown = SessionId::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    assert!(not_found(POLICY.load(&mut store, &unknown, at(0)).wait()));
}

#[test]
fn ids_round_trip_and_are_redacted() {
    let id = SessionId::generate(&mut TestRng::new(18)).unwrap();
    let mut buf = [0; SessionId::ENCODED_LEN];
    let text = id.encode(&mut buf).to_owned();
    assert_eq!(text.len(), 43);
    assert!(SessionId::parse(&text).unwrap() == id);
    assert_eq!(id.encode_string(), text);
    assert_eq!(format!("{id:?}"), "SessionId(..)");
    assert!(!format!("{:?}", id.lookup_key()).contains(&text));
}

#[test]
fn the_lifecycle_runs_on_a_store_that_suspends() {
    let mut store = Instrumented::suspending(Store::new());
    let mut rng = TestRng::new(19);
    let id = POLICY
        .create(&mut store, &mut rng, "alice", data(1), at(0))
        .wait()
        .unwrap();
    let mut record = POLICY.load(&mut store, &id, at(100)).wait().unwrap();
    record.data_mut().user = 2;
    POLICY
        .save(&mut store, &id, &mut record, at(100))
        .wait()
        .unwrap();
    let Rotated {
        id: new, record, ..
    } = POLICY
        .rotate(&mut store, &mut rng, &id, at(200))
        .wait()
        .unwrap();
    assert_eq!(record.data().user, 2);
    assert!(not_found(POLICY.load(&mut store, &id, at(200)).wait()));
    assert_eq!(
        POLICY.destroy_subject(&mut store, "alice").wait().unwrap(),
        1
    );
    assert!(!POLICY.destroy(&mut store, &new).wait().unwrap());
    assert_eq!(POLICY.purge_expired(&mut store, at(300)).wait().unwrap(), 0);
    assert!(store.suspensions >= 8);
}

#[test]
fn a_shared_store_serves_many_threads() {
    let store = SharedStore::<Data>::new();
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let mut handle = store.clone();
            std::thread::spawn(move || {
                let mut rng = TestRng::new(100 + u64::from(t));
                (0..50)
                    .map(|n| {
                        let id = POLICY
                            .create(&mut handle, &mut rng, "alice", data(t * 100 + n), at(0))
                            .wait()
                            .unwrap();
                        (id, t * 100 + n)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let created: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let mut handle = store.clone();
    for (id, user) in &created {
        assert_eq!(
            POLICY
                .load(&mut handle, id, at(1))
                .wait()
                .unwrap()
                .data()
                .user,
            *user
        );
    }
    assert_eq!(
        POLICY.destroy_subject(&mut handle, "alice").wait().unwrap(),
        200
    );
    assert_eq!(store.sessions_len(), 0);
}

/// Without `purge_expired` and without limits, a `SharedStore` drops dead sessions as it
/// grows, and never a live one.
#[test]
fn a_shared_store_sweeps_dead_sessions_as_it_grows() {
    let mut store = SharedStore::<Data>::new();
    let mut rng = TestRng::new(60);
    let short = SessionPolicy::new().with_idle_timeout(10);
    for n in 0..3000 {
        let subject = format!("user{n}");
        short
            .create(&mut store, &mut rng, &subject, data(n), at(0))
            .wait()
            .unwrap();
    }
    // All live so far: nothing to sweep.
    assert_eq!(store.sessions_len(), 3000);
    let live: Vec<_> = (0..3000)
        .map(|n| {
            let subject = format!("user{n}");
            let id = POLICY
                .create(&mut store, &mut rng, &subject, data(n), at(100))
                .wait()
                .unwrap();
            (id, n)
        })
        .collect();
    // The first 3000 died at 10 and were swept when the store reached 4096 sessions.
    assert_eq!(store.sessions_len(), 3000);
    for (id, n) in &live {
        let record = POLICY.load(&mut store, id, at(101)).wait().unwrap();
        assert_eq!(record.data().user, *n);
    }
}

/// Many threads load, change and save one session at once, retrying when their save is
/// stale: no update is lost.
#[test]
fn concurrent_saves_lose_no_update() {
    let store = SharedStore::<Data>::new();
    let id = POLICY
        .create(
            &mut store.clone(),
            &mut TestRng::new(40),
            "alice",
            data(0),
            at(0),
        )
        .wait()
        .unwrap();
    let id_text = id.encode_string();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut handle = store.clone();
            let id = SessionId::parse(&id_text).unwrap();
            std::thread::spawn(move || {
                for _ in 0..250 {
                    loop {
                        let mut record = POLICY.load(&mut handle, &id, at(1)).wait().unwrap();
                        record.data_mut().user += 1;
                        match POLICY.save(&mut handle, &id, &mut record, at(1)).wait() {
                            Ok(()) => break,
                            Err(SessionError::Stale) => continue,
                            Err(e) => panic!("save: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let record = POLICY.load(&mut store.clone(), &id, at(2)).wait().unwrap();
    assert_eq!(record.data().user, 1000, "every increment is kept");
    assert_eq!(record.version(), 1001);
}

/// Session data whose `Drop` or `Clone` panics once when armed: a bug in an app's type,
/// which must not cost the store a live session or a session its index.
#[derive(Debug)]
struct Fragile;

static PANIC_ON_DROP: AtomicBool = AtomicBool::new(false);
static PANIC_ON_CLONE: AtomicBool = AtomicBool::new(false);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert!(
            !PANIC_ON_CLONE.swap(false, Ordering::SeqCst),
            "clone of session data"
        );
        Self
    }
}

impl Drop for Fragile {
    fn drop(&mut self) {
        // Not while unwinding from the clone's panic: that would abort.
        let armed = !std::thread::panicking() && PANIC_ON_DROP.swap(false, Ordering::SeqCst);
        assert!(!armed, "drop of session data");
    }
}

/// Log-out-everywhere is interrupted by a panicking `Drop` of the first session it
/// removes; the next call (the lock taken over) still finds and ends all the others. A
/// rotation interrupted by a panicking `Clone` leaves the session under its old ID.
#[test]
fn a_panic_in_the_data_type_loses_no_session_of_a_shared_store() {
    use core::panic::AssertUnwindSafe;
    use std::panic::catch_unwind;
    let mut store = SharedStore::<Fragile>::new();
    let mut rng = TestRng::new(60);
    let ids: Vec<_> = (0..8)
        .map(|n| {
            POLICY
                .create(&mut store, &mut rng, "alice", Fragile, at(n))
                .wait()
                .unwrap()
        })
        .collect();

    PANIC_ON_CLONE.store(true, Ordering::SeqCst);
    let rotated = catch_unwind(AssertUnwindSafe(|| {
        POLICY.rotate(&mut store, &mut rng, &ids[0], at(10)).wait()
    }));
    assert!(rotated.is_err(), "the clone panicked");
    POLICY.load(&mut store, &ids[0], at(10)).wait().unwrap();

    PANIC_ON_DROP.store(true, Ordering::SeqCst);
    let ended = catch_unwind(AssertUnwindSafe(|| {
        POLICY.destroy_subject(&mut store, "alice").wait()
    }));
    assert!(ended.is_err(), "the drop panicked");
    assert_eq!(
        POLICY.destroy_subject(&mut store, "alice").wait().unwrap(),
        7,
        "the sessions not reached before the panic"
    );
    assert_eq!(store.sessions_len(), 0);
    for id in &ids {
        assert!(not_found(POLICY.load(&mut store, id, at(11)).wait()));
    }
}

/// A save whose old data panics when dropped is complete or not made: the data written
/// with a new version, so that a save from the same version read before is still stale.
#[test]
fn a_save_interrupted_by_the_old_datas_drop_keeps_saves_versioned() {
    use core::panic::AssertUnwindSafe;
    use std::panic::catch_unwind;
    let mut store = SharedStore::<Fragile>::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(61), "alice", Fragile, at(0))
        .wait()
        .unwrap();
    let mut first = POLICY.load(&mut store, &id, at(1)).wait().unwrap();
    let mut second = POLICY.load(&mut store, &id, at(1)).wait().unwrap();
    *first.data_mut() = Fragile;
    PANIC_ON_DROP.store(true, Ordering::SeqCst);
    let saved = catch_unwind(AssertUnwindSafe(|| {
        POLICY.save(&mut store, &id, &mut first, at(2)).wait()
    }));
    assert!(saved.is_err(), "the drop panicked");
    assert_eq!(
        POLICY
            .load(&mut store, &id, at(3))
            .wait()
            .unwrap()
            .version(),
        2
    );
    *second.data_mut() = Fragile;
    assert!(matches!(
        POLICY.save(&mut store, &id, &mut second, at(3)).wait(),
        Err(SessionError::Stale)
    ));
}

#[test]
fn stores_and_ids_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SessionId>();
    send_sync::<MemoryStore<Data, 8, 8>>();
    send_sync::<SharedStore<Data>>();
    send_sync::<SessionPolicy>();
    send_sync::<SessionError<StoreErrorKind>>();
    send_sync::<SessionHandle>();
}

/// Generic code over any store gets `Send` futures, as a multi-threaded server needs.
#[test]
fn lifecycle_futures_are_send_for_any_store() {
    fn send<T: Send>(_: &T) {}
    fn generic<S: SessionStore<Data>>(store: &mut S, id: &SessionId) {
        let mut rng = TestRng::new(1);
        send(&POLICY.load(store, id, at(0)));
        send(&POLICY.create(store, &mut rng, "alice", data(1), at(0)));
        send(&POLICY.destroy_subject(store, "alice"));
    }
    let id = SessionId::generate(&mut TestRng::new(2)).unwrap();
    generic(&mut Store::new(), &id);
    generic(&mut SharedStore::new(), &id);
}

#[test]
fn a_stale_save_is_refused_and_changes_nothing() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(30), "alice", data(1), at(0))
        .wait()
        .unwrap();
    // Two requests load version 1. The first demotes the user; the second, still holding
    // the old privileges, saves something unrelated and must not put them back.
    let mut first = POLICY.load(&mut store, &id, at(10)).wait().unwrap();
    let mut second = POLICY.load(&mut store, &id, at(11)).wait().unwrap();
    first.data_mut().role = heapless::String::try_from("guest").unwrap();
    POLICY
        .save(&mut store, &id, &mut first, at(12))
        .wait()
        .unwrap();
    assert_eq!(first.version(), 2);
    second.data_mut().user = 5;
    assert!(matches!(
        POLICY.save(&mut store, &id, &mut second, at(13)).wait(),
        Err(SessionError::Stale)
    ));
    let now = POLICY.load(&mut store, &id, at(14)).wait().unwrap();
    assert_eq!(now.data().role.as_str(), "guest");
    assert_eq!(now.data().user, 1);
    // Reload, reapply, save: it goes through.
    let mut retry = now;
    retry.data_mut().user = 5;
    POLICY
        .save(&mut store, &id, &mut retry, at(15))
        .wait()
        .unwrap();
    // And the saved copy can be saved again: it follows the version.
    retry.data_mut().user = 6;
    POLICY
        .save(&mut store, &id, &mut retry, at(16))
        .wait()
        .unwrap();
    assert_eq!(
        POLICY
            .load(&mut store, &id, at(17))
            .wait()
            .unwrap()
            .version(),
        4
    );
}

#[test]
fn save_writes_the_data_only() {
    let mut store = Store::new();
    let mut rng = TestRng::new(31);
    let alice = POLICY
        .create(&mut store, &mut rng, "alice", data(1), at(0))
        .wait()
        .unwrap();
    // A record forged with another subject, a later creation time and a later absolute
    // deadline, at the current version.
    let loaded = POLICY.load(&mut store, &alice, at(10)).wait().unwrap();
    let mut forged = SessionRecord::from_parts(
        tokenstile::store::SubjectKey::new("mallory"),
        data(2),
        at(10),
        at(10),
        at(10_000),
        at(99_999),
        loaded.version(),
    );
    POLICY
        .save(&mut store, &alice, &mut forged, at(20))
        .wait()
        .unwrap();
    let stored = POLICY.load(&mut store, &alice, at(21)).wait().unwrap();
    assert_eq!(stored.data(), &data(2));
    assert!(stored.belongs_to("alice"));
    assert_eq!(stored.created(), at(0));
    assert_eq!(stored.absolute_deadline(), at(28_800));
    // So "log out everywhere" for alice still ends it.
    assert_eq!(
        POLICY.destroy_subject(&mut store, "alice").wait().unwrap(),
        1
    );
}

#[test]
fn listing_and_ending_sessions_by_handle() {
    let mut store = Store::new();
    let mut rng = TestRng::new(32);
    let (ids, bob) = alice_and_bob(&mut store, &mut rng);
    let mut listed: Vec<(SessionHandle, SessionRecord<Data>)> = Vec::new();
    assert_eq!(
        POLICY
            .list(&mut store, "alice", at(5), &mut listed)
            .wait()
            .unwrap(),
        3
    );
    listed.sort_by_key(|(_, r)| r.created());
    for ((handle, record), (n, id)) in listed.iter().zip((0..).zip(&ids)) {
        assert!(*handle == id.handle());
        assert_eq!(record.data(), &data(n));
    }
    // Handles survive a round trip through a form field.
    let mut buf = [0; SessionHandle::ENCODED_LEN];
    let text = listed[1].0.encode(&mut buf).to_owned();
    let handle = SessionHandle::parse(&text).unwrap();
    assert!(SessionHandle::parse("not a handle").is_err());
    // Bob can't end Alice's session with her handle; Alice can.
    assert!(
        !POLICY
            .end_session(&mut store, "bob", &handle, at(6))
            .wait()
            .unwrap()
    );
    assert!(POLICY.load(&mut store, &ids[1], at(6)).wait().is_ok());
    assert!(
        POLICY
            .end_session(&mut store, "alice", &handle, at(6))
            .wait()
            .unwrap()
    );
    assert!(not_found(POLICY.load(&mut store, &ids[1], at(6)).wait()));
    // "Sign out of all other sessions" keeps the current one only.
    assert_eq!(
        POLICY
            .destroy_others(&mut store, "alice", &ids[2])
            .wait()
            .unwrap(),
        1
    );
    assert!(not_found(POLICY.load(&mut store, &ids[0], at(7)).wait()));
    assert!(POLICY.load(&mut store, &ids[2], at(7)).wait().is_ok());
    assert!(POLICY.load(&mut store, &bob, at(7)).wait().is_ok());
    // A fixed-size sink keeps what fits, and the count tells the rest.
    let mut one: heapless::Vec<(SessionHandle, SessionRecord<Data>), 1> = heapless::Vec::new();
    assert_eq!(
        POLICY
            .list(&mut store, "bob", at(7), &mut one)
            .wait()
            .unwrap(),
        1
    );
    assert_eq!(one.len(), 1);
}

#[test]
fn the_listing_leaves_out_sessions_a_shortened_timeout_ended() {
    let mut store = Store::new();
    let mut rng = TestRng::new(34);
    let old = POLICY
        .create(&mut store, &mut rng, "alice", data(1), at(0))
        .wait()
        .unwrap();
    let fresh = POLICY
        .create(&mut store, &mut rng, "alice", data(2), at(500))
        .wait()
        .unwrap();
    // Both are live by their records; a policy with a 10-minute idle timeout ends the
    // one last seen 700 seconds ago, and so must its listing.
    let shorter = POLICY.with_idle_timeout(600);
    let mut listed: Vec<(SessionHandle, SessionRecord<Data>)> = Vec::new();
    let n = shorter
        .list(&mut store, "alice", at(700), &mut listed)
        .wait()
        .unwrap();
    assert_eq!((n, listed.len()), (1, 1));
    assert!(listed[0].0 == fresh.handle());
    assert!(matches!(
        shorter.load(&mut store, &old, at(700)).wait(),
        Err(SessionError::Expired)
    ));
    // The policy it was written under still lists both.
    let mut listed: Vec<(SessionHandle, SessionRecord<Data>)> = Vec::new();
    let n = POLICY
        .list(&mut store, "alice", at(700), &mut listed)
        .wait()
        .unwrap();
    assert_eq!(
        (n, listed.len()),
        (1, 1),
        "the load above destroyed the old one"
    );
    // A full sink still gets the count of the sessions the policy keeps.
    let mut none: heapless::Vec<(SessionHandle, SessionRecord<Data>), 0> = heapless::Vec::new();
    assert_eq!(
        shorter
            .list(&mut store, "alice", at(700), &mut none)
            .wait()
            .unwrap(),
        1
    );
}

#[test]
fn a_subject_limit_refuses_or_ends_the_oldest() {
    let two = NonZeroUsize::new(2).unwrap();
    let refusing = POLICY.with_subject_limit(SubjectLimit::new(two, WhenFull::Refuse));
    let mut store = Store::new();
    let mut rng = TestRng::new(33);
    let a = refusing
        .create(&mut store, &mut rng, "alice", data(1), at(0))
        .wait()
        .unwrap();
    let b = refusing
        .create(&mut store, &mut rng, "alice", data(2), at(1))
        .wait()
        .unwrap();
    assert!(matches!(
        refusing
            .create(&mut store, &mut rng, "alice", data(3), at(2))
            .wait(),
        Err(SessionError::LimitReached)
    ));
    assert_eq!(store.sessions_len(), 2);
    // Other subjects are not limited by Alice's sessions.
    refusing
        .create(&mut store, &mut rng, "bob", data(4), at(2))
        .wait()
        .unwrap();
    // After a logout there is room again.
    assert!(refusing.destroy(&mut store, &a).wait().unwrap());
    let c = refusing
        .create(&mut store, &mut rng, "alice", data(5), at(3))
        .wait()
        .unwrap();

    let evicting = POLICY.with_subject_limit(SubjectLimit::new(two, WhenFull::EndOldest));
    let d = evicting
        .create(&mut store, &mut rng, "alice", data(6), at(4))
        .wait()
        .unwrap();
    assert!(
        not_found(POLICY.load(&mut store, &b, at(5)).wait()),
        "the oldest one ended"
    );
    assert!(POLICY.load(&mut store, &c, at(5)).wait().is_ok());
    assert!(POLICY.load(&mut store, &d, at(5)).wait().is_ok());
}

#[test]
fn session_errors_display_and_chain_the_store_error() {
    let err: SessionError<StoreErrorKind> = SessionError::Store(StoreErrorKind::Capacity);
    assert_eq!(err.to_string(), "session store failed");
    let source = core::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "store is full");
    let expired: SessionError<StoreErrorKind> = SessionError::Expired;
    assert_eq!(expired.to_string(), "session expired");
    assert!(core::error::Error::source(&expired).is_none());
}

/// The status each error answers with, for frameworks without an integration.
#[test]
fn session_errors_map_to_statuses() {
    for (error, status) in [
        (SessionError::NotFound, 401),
        (SessionError::Expired, 401),
        (SessionError::LimitReached, 403),
        (SessionError::Stale, 409),
        (SessionError::Store(StoreErrorKind::Backend), 503),
        (SessionError::Random, 500),
    ] {
        assert_eq!(error.status(), status, "{error}");
    }
}
