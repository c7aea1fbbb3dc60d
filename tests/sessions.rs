//! The session lifecycle over the in-memory stores, with a fixed clock.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

extern crate alloc;

mod support;

use alloc::sync::Arc;

use support::{BrokenRng, Counting, RepeatingRng, Suspending, TestRng, at, block_on};
use tokenstile::session::{Rotated, SessionError, SessionId, SessionIdError, SessionPolicy};
use tokenstile::store::{MemoryStore, SessionStore, SharedStore, StoreError, StoreErrorKind};

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

type Store = MemoryStore<Data, 64>;

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
        .unwrap();
    let record = POLICY.load(&mut store, &id, at(10)).unwrap();
    assert_eq!(record.data(), &data(7));
    assert!(record.belongs_to("alice"));
    assert_eq!(record.created(), at(0));
    assert_eq!(record.idle_deadline(), at(1800));
    assert_eq!(record.absolute_deadline(), at(28_800));
    // The store holds the lookup key, never the ID.
    assert!(store.get(&id.lookup_key(), at(10)).unwrap().is_some());
}

#[test]
fn idle_timeout_ends_a_quiet_session() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(2), "alice", data(1), at(0))
        .unwrap();
    assert!(POLICY.load(&mut store, &id, at(1799)).is_ok());
    // That load was activity: the idle deadline moved to 1799 + 1800.
    assert!(POLICY.load(&mut store, &id, at(3598)).is_ok());
    assert!(not_found(POLICY.load(&mut store, &id, at(3598 + 1800))));

    let quiet = POLICY
        .create(&mut store, &mut TestRng::new(3), "bob", data(2), at(0))
        .unwrap();
    assert!(not_found(POLICY.load(&mut store, &quiet, at(1800))));
}

#[test]
fn absolute_timeout_ends_a_session_despite_constant_activity() {
    let mut store = Counting::new(Store::new());
    let id = POLICY
        .create(&mut store, &mut TestRng::new(4), "alice", data(1), at(0))
        .unwrap();
    let mut t = 0;
    while t < 28_800 {
        let record = POLICY.load(&mut store, &id, at(t)).unwrap();
        assert!(record.expires_at() > at(t));
        t += 30;
    }
    assert!(store.touches > 400, "activity was written back");
    assert!(not_found(POLICY.load(&mut store, &id, at(28_800))));
}

#[test]
fn touch_is_throttled_to_the_interval() {
    let mut store = Counting::new(Store::new());
    let id = POLICY
        .create(&mut store, &mut TestRng::new(5), "alice", data(1), at(0))
        .unwrap();
    assert_eq!(store.writes(), 1);
    for t in 0..60 {
        POLICY.load(&mut store, &id, at(t)).unwrap();
    }
    assert_eq!(
        store.touches, 0,
        "60 loads within the interval write nothing"
    );
    let record = POLICY.load(&mut store, &id, at(60)).unwrap();
    assert_eq!(store.touches, 1);
    assert_eq!(record.last_seen(), at(60));
    assert_eq!(record.idle_deadline(), at(60 + 1800));
    for t in 61..120 {
        POLICY.load(&mut store, &id, at(t)).unwrap();
    }
    assert_eq!(store.touches, 1);
    POLICY.load(&mut store, &id, at(120)).unwrap();
    assert_eq!(store.touches, 2);
    assert_eq!(store.updates, 0, "touching never rewrites the data");

    // Interval zero: every load writes.
    let eager = POLICY.with_touch_interval(0);
    eager.load(&mut store, &id, at(121)).unwrap();
    eager.load(&mut store, &id, at(121)).unwrap();
    assert_eq!(store.touches, 4);
}

#[test]
fn touch_does_not_clobber_data_saved_concurrently() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(6), "alice", data(1), at(0))
        .unwrap();
    // Request A loads; request B saves new data; A's later load touches.
    let stale = POLICY.load(&mut store, &id, at(10)).unwrap();
    let mut fresh = POLICY.load(&mut store, &id, at(11)).unwrap();
    fresh.data_mut().user = 99;
    POLICY.save(&mut store, &id, fresh, at(12)).unwrap();
    POLICY.load(&mut store, &id, at(200)).unwrap();
    assert_eq!(stale.data().user, 1);
    assert_eq!(
        POLICY.load(&mut store, &id, at(201)).unwrap().data().user,
        99
    );
}

#[test]
fn save_keeps_deadlines_and_never_resurrects() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(7), "alice", data(1), at(0))
        .unwrap();
    let mut record = POLICY.load(&mut store, &id, at(100)).unwrap();
    record.data_mut().role = heapless::String::try_from("admin").unwrap();
    POLICY.save(&mut store, &id, record, at(100)).unwrap();
    let saved = POLICY.load(&mut store, &id, at(101)).unwrap();
    assert_eq!(saved.data().role.as_str(), "admin");
    assert_eq!(saved.absolute_deadline(), at(28_800));
    assert_eq!(saved.idle_deadline(), at(1900));

    assert!(POLICY.destroy(&mut store, &id).unwrap());
    assert!(not_found(POLICY.save(
        &mut store,
        &id,
        saved.clone(),
        at(102)
    )));
    assert!(not_found(POLICY.load(&mut store, &id, at(102))));
    // A record past the policy can't be saved.
    assert!(matches!(
        POLICY.save(&mut store, &id, saved, at(28_800)),
        Err(SessionError::Expired)
    ));
}

#[test]
fn a_tighter_policy_ends_existing_sessions_and_removes_them() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(8), "alice", data(1), at(0))
        .unwrap();
    let strict = POLICY.with_idle_timeout(60);
    assert!(matches!(
        strict.load(&mut store, &id, at(100)),
        Err(SessionError::Expired)
    ));
    assert!(not_found(POLICY.load(&mut store, &id, at(100))));

    let id = POLICY
        .create(&mut store, &mut TestRng::new(9), "alice", data(1), at(0))
        .unwrap();
    let short = POLICY.with_absolute_timeout(100).with_touch_interval(0);
    assert!(short.load(&mut store, &id, at(99)).is_ok());
    assert!(matches!(
        short.load(&mut store, &id, at(100)),
        Err(SessionError::Expired)
    ));
}

#[test]
fn rotation_keeps_data_and_kills_the_old_id() {
    let mut store = Store::new();
    let mut rng = TestRng::new(10);
    let old = POLICY
        .create(&mut store, &mut rng, "alice", data(5), at(0))
        .unwrap();
    let before = POLICY.load(&mut store, &old, at(100)).unwrap();
    let Rotated { id: new, record } = POLICY.rotate(&mut store, &mut rng, &old, at(200)).unwrap();
    assert!(new != old);
    assert_eq!(record, before);
    assert!(not_found(POLICY.load(&mut store, &old, at(200))));
    let loaded = POLICY.load(&mut store, &new, at(201)).unwrap();
    assert_eq!(loaded.data(), &data(5));
    assert_eq!(loaded.created(), at(0));
    assert_eq!(
        loaded.absolute_deadline(),
        at(28_800),
        "rotation never extends the lifetime"
    );
    // The old ID can't be rotated again, nor destroyed.
    assert!(not_found(POLICY.rotate(
        &mut store,
        &mut rng,
        &old,
        at(202)
    )));
    assert!(!POLICY.destroy(&mut store, &old).unwrap());
}

#[test]
fn rotating_an_expired_session_fails_and_leaves_nothing() {
    let mut store = Store::new();
    let mut rng = TestRng::new(11);
    let id = POLICY
        .create(&mut store, &mut rng, "alice", data(1), at(0))
        .unwrap();
    let strict = POLICY.with_absolute_timeout(10);
    assert!(matches!(
        strict.rotate(&mut store, &mut rng, &id, at(20)),
        Err(SessionError::Expired)
    ));
    assert!(store.is_empty());
}

#[test]
fn destroy_is_immediate() {
    let mut store = Store::new();
    let id = POLICY
        .create(&mut store, &mut TestRng::new(12), "alice", data(1), at(0))
        .unwrap();
    assert!(POLICY.destroy(&mut store, &id).unwrap());
    assert!(not_found(POLICY.load(&mut store, &id, at(1))));
    assert!(!POLICY.destroy(&mut store, &id).unwrap());
}

#[test]
fn log_out_everywhere_ends_every_session_of_the_subject_only() {
    let mut store = Store::new();
    let mut rng = TestRng::new(13);
    let alice: Vec<SessionId> = (0..3)
        .map(|n| {
            POLICY
                .create(&mut store, &mut rng, "alice", data(n), at(n.into()))
                .unwrap()
        })
        .collect();
    let bob = POLICY
        .create(&mut store, &mut rng, "bob", data(9), at(0))
        .unwrap();
    // One of Alice's sessions was rotated since.
    let rotated = POLICY
        .rotate(&mut store, &mut rng, &alice[0], at(5))
        .unwrap()
        .id;

    assert_eq!(POLICY.destroy_subject(&mut store, "alice").unwrap(), 3);
    for id in alice.iter().chain([&rotated]) {
        assert!(not_found(POLICY.load(&mut store, id, at(10))));
    }
    assert_eq!(
        POLICY.load(&mut store, &bob, at(10)).unwrap().data(),
        &data(9)
    );
    assert_eq!(POLICY.destroy_subject(&mut store, "alice").unwrap(), 0);
}

#[test]
fn a_repeated_id_is_an_error_and_overwrites_nothing() {
    let mut store = Counting::new(Store::new());
    let first = POLICY
        .create(&mut store, &mut RepeatingRng(7), "alice", data(1), at(0))
        .unwrap();
    let second = POLICY.create(
        &mut store,
        &mut RepeatingRng(7),
        "mallory",
        data(666),
        at(1),
    );
    assert_eq!(store_error(second), Some(StoreErrorKind::Conflict));
    assert_eq!(store.creates, 2, "no silent retry with another ID");
    let kept = POLICY.load(&mut store, &first, at(2)).unwrap();
    assert_eq!(kept.data(), &data(1));
    assert!(kept.belongs_to("alice"));

    // Rotating onto an ID in use fails too, and leaves both sessions where they were.
    let other = POLICY
        .create(&mut store, &mut RepeatingRng(8), "bob", data(2), at(0))
        .unwrap();
    let rotated = POLICY.rotate(&mut store, &mut RepeatingRng(7), &other, at(3));
    assert_eq!(store_error(rotated), Some(StoreErrorKind::Conflict));
    assert_eq!(
        POLICY.load(&mut store, &other, at(4)).unwrap().data(),
        &data(2)
    );
    assert_eq!(
        POLICY.load(&mut store, &first, at(4)).unwrap().data(),
        &data(1)
    );
}

#[test]
fn a_failing_rng_is_reported() {
    let mut store = Store::new();
    assert!(matches!(
        POLICY.create(&mut store, &mut BrokenRng, "alice", data(1), at(0)),
        Err(SessionError::Random)
    ));
    assert!(store.is_empty());
    let id = POLICY
        .create(&mut store, &mut TestRng::new(14), "alice", data(1), at(0))
        .unwrap();
    assert!(matches!(
        POLICY.rotate(&mut store, &mut BrokenRng, &id, at(1)),
        Err(SessionError::Random)
    ));
    assert!(POLICY.load(&mut store, &id, at(2)).is_ok());
}

#[test]
fn a_full_store_refuses_new_sessions_and_keeps_the_live_ones() {
    let mut store = MemoryStore::<Data, 4>::new();
    let mut rng = TestRng::new(15);
    let ids: Vec<SessionId> = (0..4)
        .map(|n| {
            POLICY
                .create(&mut store, &mut rng, "alice", data(n), at(0))
                .unwrap()
        })
        .collect();
    let refused = POLICY.create(&mut store, &mut rng, "bob", data(9), at(1));
    assert_eq!(store_error(refused), Some(StoreErrorKind::Capacity));
    for (n, id) in (0..).zip(&ids) {
        assert_eq!(POLICY.load(&mut store, id, at(2)).unwrap().data(), &data(n));
    }
}

#[test]
fn a_full_store_evicts_an_expired_session_for_a_new_one() {
    let mut store = MemoryStore::<Data, 4>::new();
    let mut rng = TestRng::new(16);
    let short = POLICY.with_idle_timeout(100);
    let doomed = short
        .create(&mut store, &mut rng, "alice", data(0), at(0))
        .unwrap();
    let kept: Vec<SessionId> = (1..4)
        .map(|n| {
            POLICY
                .create(&mut store, &mut rng, "alice", data(n), at(0))
                .unwrap()
        })
        .collect();
    assert_eq!(store.len(), 4);
    let newcomer = POLICY
        .create(&mut store, &mut rng, "bob", data(9), at(100))
        .unwrap();
    assert_eq!(store.len(), 4);
    assert!(not_found(POLICY.load(&mut store, &doomed, at(100))));
    for id in kept.iter().chain([&newcomer]) {
        assert!(POLICY.load(&mut store, id, at(101)).is_ok());
    }
}

#[test]
fn purge_removes_only_dead_sessions() {
    let mut store = Store::new();
    let mut rng = TestRng::new(17);
    POLICY
        .with_idle_timeout(10)
        .create(&mut store, &mut rng, "a", data(0), at(0))
        .unwrap();
    let live = POLICY
        .create(&mut store, &mut rng, "a", data(1), at(0))
        .unwrap();
    assert_eq!(POLICY.purge_expired(&mut store, at(10)).unwrap(), 1);
    assert_eq!(store.len(), 1);
    assert!(POLICY.load(&mut store, &live, at(10)).is_ok());
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
    assert!(not_found(POLICY.load(&mut store, &unknown, at(0))));
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
fn the_async_lifecycle_matches_the_sync_one() {
    let mut store = Suspending::new(Store::new());
    let mut rng = TestRng::new(19);
    block_on(async {
        let id = POLICY
            .create_async(&mut store, &mut rng, "alice", data(1), at(0))
            .await
            .unwrap();
        let mut record = POLICY.load_async(&mut store, &id, at(100)).await.unwrap();
        record.data_mut().user = 2;
        POLICY
            .save_async(&mut store, &id, record, at(100))
            .await
            .unwrap();
        let Rotated { id: new, record } = POLICY
            .rotate_async(&mut store, &mut rng, &id, at(200))
            .await
            .unwrap();
        assert_eq!(record.data().user, 2);
        assert!(matches!(
            POLICY.load_async(&mut store, &id, at(200)).await,
            Err(SessionError::NotFound)
        ));
        assert_eq!(
            POLICY
                .destroy_subject_async(&mut store, "alice")
                .await
                .unwrap(),
            1
        );
        assert!(!POLICY.destroy_async(&mut store, &new).await.unwrap());
        assert_eq!(
            POLICY
                .purge_expired_async(&mut store, at(300))
                .await
                .unwrap(),
            0
        );
    });
    assert!(store.suspensions.get() >= 8);
}

#[test]
fn a_shared_store_serves_many_threads() {
    let store = Arc::new(SharedStore::<Data>::new());
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut rng = TestRng::new(100 + u64::from(t));
                let mut handle = &*store;
                (0..50)
                    .map(|n| {
                        let id = POLICY
                            .create(&mut handle, &mut rng, "alice", data(t * 100 + n), at(0))
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
    let mut handle = &*store;
    for (id, user) in &created {
        assert_eq!(
            POLICY.load(&mut handle, id, at(1)).unwrap().data().user,
            *user
        );
    }
    assert_eq!(POLICY.destroy_subject(&mut handle, "alice").unwrap(), 200);
    assert!(store.is_empty());
}

#[test]
fn stores_and_ids_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SessionId>();
    send_sync::<MemoryStore<Data, 8>>();
    send_sync::<SharedStore<Data>>();
    send_sync::<SessionPolicy>();
    send_sync::<SessionError<StoreErrorKind>>();
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
