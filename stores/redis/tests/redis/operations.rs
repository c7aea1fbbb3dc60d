//! Each operation against a real Redis: what it returns and what it leaves behind.

use std::num::NonZeroUsize;

use redis::Commands;
use tokenstile::store::{
    CreateOutcome, RevocationStore, SessionHandle, SessionRecord, SessionStore, StoreErrorKind,
    SubjectLimit, UpdateOutcome, Watermark, WhenFull,
};

use crate::server::RedisServer;
use crate::support::{
    Profile, index_name, key, now, profile, record, session_name, store, subject,
};

fn limit(max: usize, when_full: WhenFull) -> Option<SubjectLimit> {
    Some(SubjectLimit::new(
        NonZeroUsize::new(max).unwrap(),
        when_full,
    ))
}

#[tokio::test]
async fn create_get_and_never_overwrite() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let (k, alice) = (key(), subject());
    let created = store
        .create(&k, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    assert_eq!(created, CreateOutcome::Created { ended: 0 });
    let got: SessionRecord<Profile> = store.get(&k, now).await.unwrap().unwrap();
    assert_eq!(got, record(&alice, 1, now, 60, 600));
    assert_eq!(got.version(), 1);

    let again = store
        .create(&k, record(&subject(), 2, now, 60, 600), None, now)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), StoreErrorKind::Conflict);
    let still: SessionRecord<Profile> = store.get(&k, now).await.unwrap().unwrap();
    assert_eq!(still.data(), &profile(1));

    // Dead by the caller's clock: not returned, and may be replaced.
    let later = now.saturating_add(61);
    assert!(
        SessionStore::<Profile>::get(&mut store, &k, later)
            .await
            .unwrap()
            .is_none()
    );
    store
        .create(&k, record(&alice, 3, later, 60, 600), None, later)
        .await
        .unwrap();
    let replaced: SessionRecord<Profile> = store.get(&k, later).await.unwrap().unwrap();
    assert_eq!(replaced.data(), &profile(3));
}

#[tokio::test]
async fn update_is_compare_and_swap_on_the_version_and_writes_data_only() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let (k, alice) = (key(), subject());
    store
        .create(&k, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    let t1 = now.saturating_add(10);
    let outcome = store
        .update(&k, 1, &profile(2), t1.saturating_add(60), t1)
        .await
        .unwrap();
    assert_eq!(outcome, UpdateOutcome::Updated { version: 2 });
    // A save based on version 1 is now stale, and changes nothing.
    let stale = store
        .update(&k, 1, &profile(3), t1.saturating_add(500), t1)
        .await
        .unwrap();
    assert_eq!(stale, UpdateOutcome::Stale);
    let got: SessionRecord<Profile> = store.get(&k, t1).await.unwrap().unwrap();
    assert_eq!(got.data(), &profile(2));
    assert_eq!(got.version(), 2);
    assert_eq!(got.last_seen(), t1);
    assert_eq!(got.idle_deadline(), t1.saturating_add(60));
    // Subject, creation time and absolute deadline as created.
    assert_eq!(got.subject(), &alice);
    assert_eq!(got.created(), now);
    assert_eq!(got.absolute_deadline(), now.saturating_add(600));
    // The idle deadline never moves back.
    store
        .update(&k, 2, &profile(4), now.saturating_add(5), t1)
        .await
        .unwrap();
    let got: SessionRecord<Profile> = store.get(&k, t1).await.unwrap().unwrap();
    assert_eq!(got.idle_deadline(), t1.saturating_add(60));
    assert_eq!(got.version(), 3);

    // No session: NotFound, nothing written.
    let missing = key();
    let outcome = store
        .update(&missing, 1, &profile(5), t1.saturating_add(60), t1)
        .await
        .unwrap();
    assert_eq!(outcome, UpdateOutcome::NotFound);
    let mut raw = server.connection();
    assert!(!raw.exists::<_, bool>(session_name(&missing)).unwrap());
    // A removed session is not brought back.
    assert!(
        SessionStore::<Profile>::remove(&mut store, &k)
            .await
            .unwrap()
    );
    let outcome = store
        .update(&k, 3, &profile(6), t1.saturating_add(60), t1)
        .await
        .unwrap();
    assert_eq!(outcome, UpdateOutcome::NotFound);
    assert!(!raw.exists::<_, bool>(session_name(&k)).unwrap());
}

#[tokio::test]
async fn a_version_that_cannot_be_incremented_is_stale() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let k = key();
    let at_max = SessionRecord::from_parts(
        subject(),
        profile(1),
        now,
        now,
        now.saturating_add(60),
        now.saturating_add(60),
        u64::MAX,
    );
    store.create(&k, at_max, None, now).await.unwrap();
    let outcome = store
        .update(&k, u64::MAX, &profile(2), now.saturating_add(60), now)
        .await
        .unwrap();
    assert_eq!(outcome, UpdateOutcome::Stale);
    let got: SessionRecord<Profile> = store.get(&k, now).await.unwrap().unwrap();
    assert_eq!((got.data(), got.version()), (&profile(1), u64::MAX));
}

#[tokio::test]
async fn touch_moves_activity_forward_only() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let k = key();
    store
        .create(&k, record(&subject(), 1, now, 60, 600), None, now)
        .await
        .unwrap();
    let t = now.saturating_add(30);
    assert!(
        SessionStore::<Profile>::touch(&mut store, &k, t.saturating_add(60), t)
            .await
            .unwrap()
    );
    // An older, late touch moves nothing back.
    assert!(
        SessionStore::<Profile>::touch(&mut store, &k, now.saturating_add(70), now)
            .await
            .unwrap()
    );
    let got: SessionRecord<Profile> = store.get(&k, t).await.unwrap().unwrap();
    assert_eq!(got.last_seen(), t);
    assert_eq!(got.idle_deadline(), t.saturating_add(60));
    assert_eq!(got.version(), 1, "a touch is not a write of the data");
    assert!(
        !SessionStore::<Profile>::touch(&mut store, &key(), t, t)
            .await
            .unwrap()
    );
    // The TTL follows the idle deadline.
    let mut raw = server.connection();
    let ttl: i64 = raw.pttl(session_name(&k)).unwrap();
    assert!(ttl > 60_000 && ttl <= 91_000, "{ttl}");
    // Dead by the caller's clock: not touched back to life.
    let dead = t.saturating_add(60);
    assert!(
        !SessionStore::<Profile>::touch(&mut store, &k, dead.saturating_add(60), dead)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn rotate_moves_the_session_and_its_index_entry() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let (old, new, alice) = (key(), key(), subject());
    store
        .create(&old, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    let moved: SessionRecord<Profile> = store.rotate(&old, &new, now).await.unwrap().unwrap();
    assert_eq!(moved, record(&alice, 1, now, 60, 600));
    assert!(
        SessionStore::<Profile>::get(&mut store, &old, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &new, now)
            .await
            .unwrap()
            .is_some()
    );
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(
        store.list_subject(&alice, now, &mut listed).await.unwrap(),
        1
    );
    assert_eq!(listed[0].0.as_bytes(), new.as_bytes());

    // Onto a live session, or onto itself: conflict, nothing moved.
    let other = key();
    store
        .create(&other, record(&subject(), 2, now, 60, 600), None, now)
        .await
        .unwrap();
    for target in [&other, &new] {
        let err = SessionStore::<Profile>::rotate(&mut store, &new, target, now)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Conflict);
    }
    let still: SessionRecord<Profile> = store.get(&new, now).await.unwrap().unwrap();
    assert_eq!(still.data(), &profile(1));
    // Nothing under old: None.
    assert!(
        SessionStore::<Profile>::rotate(&mut store, &old, &key(), now)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_limit_refuses_or_ends_the_oldest() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let alice = subject();
    let keys: Vec<_> = (0..3).map(|_| key()).collect();
    for (i, k) in keys.iter().enumerate() {
        let created = now.saturating_add(i as u64);
        let outcome = store
            .create(
                k,
                record(&alice, i as u32, created, 60, 600),
                limit(3, WhenFull::Refuse),
                created,
            )
            .await
            .unwrap();
        assert_eq!(outcome, CreateOutcome::Created { ended: 0 });
    }
    let t = now.saturating_add(5);
    let refused_key = key();
    let refused = store
        .create(
            &refused_key,
            record(&alice, 9, t, 60, 600),
            limit(3, WhenFull::Refuse),
            t,
        )
        .await
        .unwrap();
    assert_eq!(refused, CreateOutcome::LimitReached);
    assert!(
        SessionStore::<Profile>::get(&mut store, &refused_key, t)
            .await
            .unwrap()
            .is_none()
    );

    // End the oldest: the first one goes.
    let newest = key();
    let outcome = store
        .create(
            &newest,
            record(&alice, 10, t, 60, 600),
            limit(3, WhenFull::EndOldest),
            t,
        )
        .await
        .unwrap();
    assert_eq!(outcome, CreateOutcome::Created { ended: 1 });
    assert!(
        SessionStore::<Profile>::get(&mut store, &keys[0], t)
            .await
            .unwrap()
            .is_none()
    );
    for k in [&keys[1], &keys[2], &newest] {
        assert!(
            SessionStore::<Profile>::get(&mut store, k, t)
                .await
                .unwrap()
                .is_some()
        );
    }
    // A lower limit ends as many as needed.
    let outcome = store
        .create(
            &key(),
            record(&alice, 11, t, 60, 600),
            limit(1, WhenFull::EndOldest),
            t,
        )
        .await
        .unwrap();
    assert_eq!(outcome, CreateOutcome::Created { ended: 3 });
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(store.list_subject(&alice, t, &mut listed).await.unwrap(), 1);
    assert_eq!(listed[0].1.data(), &profile(11));
    // Dead sessions don't count against the limit.
    let much_later = t.saturating_add(61);
    let outcome = store
        .create(
            &key(),
            record(&alice, 12, much_later, 60, 600),
            limit(1, WhenFull::Refuse),
            much_later,
        )
        .await
        .unwrap();
    assert_eq!(outcome, CreateOutcome::Created { ended: 0 });
}

#[tokio::test]
async fn end_oldest_finds_live_sessions_behind_many_dead_ones() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let alice = subject();
    // 600 sessions that die at now + 10, created before the live ones.
    for i in 0..600 {
        store
            .create(&key(), record(&alice, i, now, 10, 10), None, now)
            .await
            .unwrap();
    }
    let t = now.saturating_add(20);
    let live: Vec<_> = (0..3).map(|_| key()).collect();
    for (i, k) in live.iter().enumerate() {
        let created = t.saturating_add(i as u64);
        store
            .create(
                k,
                record(&alice, 1000 + i as u32, created, 600, 600),
                None,
                created,
            )
            .await
            .unwrap();
    }
    let t = t.saturating_add(5);
    let outcome = store
        .create(
            &key(),
            record(&alice, 2000, t, 600, 600),
            limit(2, WhenFull::EndOldest),
            t,
        )
        .await
        .unwrap();
    assert_eq!(outcome, CreateOutcome::Created { ended: 2 });
    assert!(
        SessionStore::<Profile>::get(&mut store, &live[0], t)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &live[1], t)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &live[2], t)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn list_shows_live_sessions_of_one_subject() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let (alice, bob) = (subject(), subject());
    let mut alices = Vec::new();
    for i in 0..4 {
        let k = key();
        store
            .create(&k, record(&alice, i, now, 60, 600), None, now)
            .await
            .unwrap();
        alices.push(k);
    }
    store
        .create(&key(), record(&alice, 9, now, 5, 600), None, now)
        .await
        .unwrap();
    store
        .create(&key(), record(&bob, 5, now, 60, 600), None, now)
        .await
        .unwrap();
    let t = now.saturating_add(10);
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(store.list_subject(&alice, t, &mut listed).await.unwrap(), 4);
    let mut handles: Vec<_> = listed.iter().map(|(h, _)| *h.as_bytes()).collect();
    let mut expected: Vec<_> = alices.iter().map(|k| *k.as_bytes()).collect();
    handles.sort_unstable();
    expected.sort_unstable();
    assert_eq!(handles, expected);
    assert!(
        listed
            .iter()
            .all(|(_, r)| r.subject() == &alice && r.data().role < 4)
    );
    // A full sink keeps what fits; the count says how many there are.
    let mut two: heapless::Vec<(SessionHandle, SessionRecord<Profile>), 2> = heapless::Vec::new();
    assert_eq!(store.list_subject(&alice, t, &mut two).await.unwrap(), 4);
    assert_eq!(two.len(), 2);
}

#[tokio::test]
async fn remove_owned_ends_only_the_owners_session() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let (k, alice, mallory) = (key(), subject(), subject());
    store
        .create(&k, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    assert!(
        !SessionStore::<Profile>::remove_owned(&mut store, &k, &mallory, now)
            .await
            .unwrap()
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &k, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        SessionStore::<Profile>::remove_owned(&mut store, &k, &alice, now)
            .await
            .unwrap()
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &k, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !SessionStore::<Profile>::remove_owned(&mut store, &k, &alice, now)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn remove_subject_keeps_one_and_leaves_no_keys_behind() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let mut raw = server.connection();
    let now = now();
    let (alice, bob) = (subject(), subject());
    let mut alices = Vec::new();
    for i in 0..1200 {
        let k = key();
        store
            .create(&k, record(&alice, i, now, 60, 600), None, now)
            .await
            .unwrap();
        alices.push(k);
    }
    let bobs = key();
    store
        .create(&bobs, record(&bob, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    let keep = alices[7];
    let removed = SessionStore::<Profile>::remove_subject(&mut store, &alice, Some(&keep))
        .await
        .unwrap();
    assert_eq!(removed, 1199);
    for k in alices.iter().filter(|k| **k != keep) {
        assert!(
            SessionStore::<Profile>::get(&mut store, k, now)
                .await
                .unwrap()
                .is_none()
        );
        assert!(!raw.exists::<_, bool>(session_name(k)).unwrap());
    }
    assert!(
        SessionStore::<Profile>::get(&mut store, &keep, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &bobs, now)
            .await
            .unwrap()
            .is_some()
    );
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(
        store.list_subject(&alice, now, &mut listed).await.unwrap(),
        1
    );
    // Only the kept session, bob's and the two subjects' sets remain.
    let left: Vec<String> = raw.keys("*").unwrap();
    assert_eq!(left.len(), 6, "{left:?}");
    assert!(left.contains(&index_name(&alice)));

    // Log out everywhere: the kept one goes too.
    assert_eq!(
        SessionStore::<Profile>::remove_subject(&mut store, &alice, None)
            .await
            .unwrap(),
        1
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &keep, now)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        SessionStore::<Profile>::remove_subject(&mut store, &alice, None)
            .await
            .unwrap(),
        0
    );
    let left: Vec<String> = raw.keys("*").unwrap();
    assert_eq!(left.len(), 3, "{left:?}");
}

#[tokio::test]
async fn a_session_taken_by_remove_subject_is_dead_before_its_key_is_deleted() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let mut raw = server.connection();
    let now = now();
    let (k, alice) = (key(), subject());
    store
        .create(&k, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    // Detach the index as remove_subject's first step does, without the sweep.
    let _: () = redis::cmd("RENAME")
        .arg(index_name(&alice))
        .arg("detached")
        .query(&mut raw)
        .unwrap();
    assert!(raw.exists::<_, bool>(session_name(&k)).unwrap());
    assert!(
        SessionStore::<Profile>::get(&mut store, &k, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !SessionStore::<Profile>::touch(&mut store, &k, now, now)
            .await
            .unwrap()
    );
    assert_eq!(
        SessionStore::<Profile>::update(&mut store, &k, 1, &profile(2), now, now)
            .await
            .unwrap(),
        UpdateOutcome::NotFound
    );
    assert!(
        SessionStore::<Profile>::rotate(&mut store, &k, &key(), now)
            .await
            .unwrap()
            .is_none()
    );
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(
        store.list_subject(&alice, now, &mut listed).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn one_store_serves_several_data_types() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let (a, b, alice) = (key(), key(), subject());
    store
        .create(&a, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    let numbers = SessionRecord::new(
        alice,
        42u32,
        now,
        now.saturating_add(60),
        now.saturating_add(600),
    );
    store.create(&b, numbers, None, now).await.unwrap();
    let got: SessionRecord<u32> = store.get(&b, now).await.unwrap().unwrap();
    assert_eq!(*got.data(), 42);
    let got: SessionRecord<Profile> = store.get(&a, now).await.unwrap().unwrap();
    assert_eq!(got.data(), &profile(1));
}

#[tokio::test]
async fn revocations_and_watermarks_only_rise() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let token = key();
    store
        .revoke(&token, now.saturating_add(100), now)
        .await
        .unwrap();
    store
        .revoke(&token, now.saturating_add(10), now)
        .await
        .unwrap();
    assert!(
        store
            .is_revoked(&token, now.saturating_add(50))
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_revoked(&token, now.saturating_add(100))
            .await
            .unwrap()
    );
    // Nothing to store for a past `until`.
    let past = key();
    store.revoke(&past, now, now).await.unwrap();
    assert!(
        !store
            .is_revoked(&past, now.saturating_sub(1))
            .await
            .unwrap()
    );

    let mark = key();
    let high = Watermark::new(now.saturating_add(20), now.saturating_add(100));
    let low = Watermark::new(now.saturating_add(10), now.saturating_add(50));
    store.raise_watermark(&mark, high, now).await.unwrap();
    store.raise_watermark(&mark, low, now).await.unwrap();
    assert_eq!(store.watermark(&mark, now).await.unwrap(), Some(high));
    assert_eq!(
        store
            .watermark(&mark, now.saturating_add(100))
            .await
            .unwrap(),
        None
    );
    // Revocation keys sit outside the session hash tag, so a cluster spreads them.
    let mut raw = server.connection();
    let names: Vec<String> = raw.keys("tokenstile:*").unwrap();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[tokio::test]
async fn a_subject_with_thousands_of_sessions_is_listed_in_full() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let now = now();
    let alice = subject();
    let mut live = std::collections::BTreeSet::new();
    for i in 0..2600u32 {
        let k = key();
        // Every tenth one is dead by `t`; many share an expiry second.
        let idle = if i % 10 == 0 {
            5
        } else {
            600 + u64::from(i % 3)
        };
        store
            .create(&k, record(&alice, i, now, idle, 900), None, now)
            .await
            .unwrap();
        if i % 10 != 0 {
            live.insert(*k.as_bytes());
        }
    }
    let t = now.saturating_add(10);
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(
        store.list_subject(&alice, t, &mut listed).await.unwrap(),
        live.len()
    );
    let handles: std::collections::BTreeSet<[u8; 32]> =
        listed.iter().map(|(h, _)| *h.as_bytes()).collect();
    assert_eq!(handles, live);
}

/// "Log out my other sessions" from a session whose key Redis has just expired: nothing is
/// kept, and no set is left without a TTL.
#[tokio::test]
async fn keeping_a_session_whose_key_expired_keeps_nothing() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let mut raw = server.connection();
    let now = now();
    let alice = subject();
    let (keep, other) = (key(), key());
    store
        .create(&keep, record(&alice, 1, now, 1, 600), None, now)
        .await
        .unwrap();
    store
        .create(&other, record(&alice, 2, now, 60, 600), None, now)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert!(!raw.exists::<_, bool>(session_name(&keep)).unwrap());
    SessionStore::<Profile>::remove_subject(&mut store, &alice, Some(&keep))
        .await
        .unwrap();
    let left: Vec<String> = raw.keys("*").unwrap();
    for name in &left {
        let ttl: i64 = raw.pttl(name).unwrap();
        assert!(ttl > 0, "{name} has no TTL ({ttl}); left: {left:?}");
    }
    assert!(!raw.exists::<_, bool>(index_name(&alice)).unwrap());
}
