//! Refresh tokens with rotation and reuse detection, over the in-memory stores, with a
//! fixed clock.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

mod support;

extern crate alloc;

use alloc::sync::Arc;
use core::num::NonZeroUsize;
use std::sync::Barrier;

use serde::{Deserialize, Serialize};
use support::{BrokenRng, Instrumented, TestRng, Wait, at};
use tokenstile::http::CookieOptions;
use tokenstile::jwt::{self, Hs256Key, RevocationError, Validation};
use tokenstile::refresh::{
    self, Family, Grant, RefreshError, RefreshPolicy, RefreshToken, RefreshTokenError,
};
use tokenstile::store::{
    MemoryStore, SessionHandle, SessionRecord, SessionStore, SharedStore, StoreErrorKind,
    SubjectLimit, WhenFull,
};
use tokenstile::{Error, UnixTime, VerifyError};

/// What a family holds: the device it was started on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Device {
    user: u32,
    label: heapless::String<16>,
}

fn device(user: u32, label: &str) -> Device {
    Device {
        user,
        label: heapless::String::try_from(label).unwrap(),
    }
}

type Store = MemoryStore<Family<Device>, 32, 32>;

const POLICY: RefreshPolicy = RefreshPolicy::new();
const ISSUER: &str = "https://auth.example";
const KEY: &[u8; 32] = b"tokenstile refresh test key, 32B";

/// Signs the access token of `grant` for `sub`.
fn access_token(grant: &Grant, sub: &str) -> String {
    let key = Hs256Key::new_from_slice(KEY).unwrap();
    jwt::sign_to_string(&key, &grant.access.claims(Some(ISSUER), sub)).unwrap()
}

/// Verifies an access token and checks its revocation, as every request would.
fn check_access<S>(
    store: &mut S,
    token: &str,
    now: UnixTime,
) -> Result<(), RevocationError<S::Error>>
where
    S: tokenstile::store::RevocationStore,
{
    let key = Hs256Key::new_from_slice(KEY).unwrap();
    let policy = Validation::new().with_issuer(ISSUER);
    let mut scratch = [0u8; 512];
    jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
        &key,
        token,
        &policy,
        store,
        now,
        &mut scratch,
    )
    .wait()
    .map(drop)
}

fn revoked<E>(result: Result<(), RevocationError<E>>) -> bool {
    matches!(
        result,
        Err(RevocationError::Token(Error::Verify(VerifyError::Revoked)))
    )
}

fn login(store: &mut Store, rng: &mut TestRng, user: u32, label: &str, now: UnixTime) -> Grant {
    POLICY
        .issue(
            store,
            rng,
            &format!("user-{user}"),
            device(user, label),
            now,
        )
        .wait()
        .unwrap()
}

/// `POLICY` with a limit of `max` families per subject that ends the oldest.
fn evicting(max: usize) -> RefreshPolicy {
    POLICY.with_subject_limit(SubjectLimit::new(
        NonZeroUsize::new(max).unwrap(),
        WhenFull::EndOldest,
    ))
}

/// `n` logins of user 1 with `policy`, at times 0, 1, 2 and so on.
fn logins<S>(policy: RefreshPolicy, store: &mut S, rng: &mut TestRng, n: u64) -> Vec<Grant>
where
    S: SessionStore<Family<Device>> + tokenstile::store::RevocationStore,
    S::Error: core::fmt::Debug,
{
    (0..n)
        .map(|t| {
            policy
                .issue(store, rng, "user-1", device(1, "d"), at(t))
                .wait()
                .unwrap()
        })
        .collect()
}

/// The live families of user 1 at `now`.
fn families<S>(store: &mut S, now: UnixTime) -> Vec<(SessionHandle, SessionRecord<Family<Device>>)>
where
    S: SessionStore<Family<Device>>,
    S::Error: core::fmt::Debug,
{
    let mut listed = Vec::new();
    POLICY
        .list(store, "user-1", now, &mut listed)
        .wait()
        .unwrap();
    listed
}

/// Whether the access token of `grant` (user 1's) is refused as revoked at `now`.
fn refused<S: tokenstile::store::RevocationStore>(
    store: &mut S,
    grant: &Grant,
    now: UnixTime,
) -> bool {
    revoked(check_access(store, &access_token(grant, "user-1"), now))
}

#[test]
fn a_chain_of_refreshes_keeps_the_family_and_kills_each_old_token() {
    let mut store = Store::new();
    let mut rng = TestRng::new(1);
    let first = login(&mut store, &mut rng, 7, "phone", at(0));
    assert_eq!(first.access.iat(), at(0));
    assert_eq!(first.access.exp(), at(900));
    assert_eq!(first.access.sid().len(), 43);
    assert_eq!(first.access.jti().len(), 22);

    let mut current = first.refresh;
    let mut jtis = vec![first.access.jti().to_owned()];
    for step in 1..=50u64 {
        let t = at(step * 600);
        let refreshed = POLICY
            .refresh(&mut store, &mut rng, &current, t)
            .wait()
            .unwrap();
        assert_eq!(refreshed.data, device(7, "phone"));
        let grant = refreshed.grant;
        assert!(grant.refresh.family() == current.family(), "same family");
        assert!(grant.refresh != current, "a new secret");
        assert_eq!(grant.access.sid(), first.access.sid());
        assert_eq!(grant.access.exp(), t.saturating_add(900));
        jtis.push(grant.access.jti().to_owned());
        let token = access_token(&grant, "user-7");
        assert_eq!(check_access(&mut store, &token, t), Ok(()));
        current = grant.refresh;
    }
    jtis.sort();
    jtis.dedup();
    assert_eq!(jtis.len(), 51, "every access token has its own jti");
    // Still one family, at generation 51.
    let mut listed: Vec<(SessionHandle, SessionRecord<Family<Device>>)> = Vec::new();
    assert_eq!(
        POLICY
            .list(&mut store, "user-7", at(30_000), &mut listed)
            .wait()
            .unwrap(),
        1
    );
    assert_eq!(listed[0].1.data().generation(), 51);
    assert!(listed[0].0 == current.family());
}

#[test]
fn reuse_ends_the_family_and_every_access_token_issued_from_it() {
    let mut store = Store::new();
    let mut rng = TestRng::new(2);
    let stolen = login(&mut store, &mut rng, 1, "laptop", at(0));
    let early_access = access_token(&stolen, "user-1");
    let legit = POLICY
        .refresh(&mut store, &mut rng, &stolen.refresh, at(100))
        .wait()
        .unwrap()
        .grant;
    let late_access = access_token(&legit, "user-1");
    // Another device of the same user, which must survive.
    let other = login(&mut store, &mut rng, 1, "tablet", at(0));
    let other_access = access_token(&other, "user-1");

    // The thief presents the old refresh token after the grace period.
    let replay = POLICY
        .refresh(&mut store, &mut rng, &stolen.refresh, at(200))
        .wait();
    let Err(RefreshError::Reused { family, revocation }) = replay else {
        panic!("expected Reused, got {replay:?}");
    };
    assert_eq!(revocation, Ok(()));
    assert!(family == stolen.refresh.family());
    // The legitimate holder's newer token is dead too: the whole family ended.
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &legit.refresh, at(201))
            .wait(),
        Err(RefreshError::Invalid)
    ));
    // Every access token of the family is refused at once, however recent.
    assert!(revoked(check_access(&mut store, &early_access, at(202))));
    assert!(revoked(check_access(&mut store, &late_access, at(202))));
    // The other device goes on.
    assert_eq!(check_access(&mut store, &other_access, at(202)), Ok(()));
    assert!(
        POLICY
            .refresh(&mut store, &mut rng, &other.refresh, at(203))
            .wait()
            .is_ok()
    );
}

#[test]
fn a_token_two_generations_old_counts_as_reused() {
    let mut store = Store::new();
    let mut rng = TestRng::new(3);
    let g1 = login(&mut store, &mut rng, 1, "phone", at(0));
    let g2 = POLICY
        .refresh(&mut store, &mut rng, &g1.refresh, at(100))
        .wait()
        .unwrap()
        .grant;
    let _g3 = POLICY
        .refresh(&mut store, &mut rng, &g2.refresh, at(101))
        .wait()
        .unwrap();
    // Within the grace period of the last refresh, but it is not the token it replaced.
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &g1.refresh, at(102))
            .wait(),
        Err(RefreshError::Reused { .. })
    ));
}

#[test]
fn the_two_tab_race_has_one_winner_and_no_family_kill() {
    let mut store = Store::new();
    let mut rng = TestRng::new(4);
    let grant = login(&mut store, &mut rng, 1, "browser", at(0));
    // Tab A refreshes; tab B, with the same cookie, a moment later.
    let a = POLICY
        .refresh(&mut store, &mut rng, &grant.refresh, at(500))
        .wait()
        .unwrap();
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &grant.refresh, at(505))
            .wait(),
        Err(RefreshError::Superseded)
    ));
    // Nothing changed: A's new token works, and the family is intact.
    let next = POLICY
        .refresh(&mut store, &mut rng, &a.grant.refresh, at(506))
        .wait()
        .unwrap();
    // Past the grace period, the old token counts as reused.
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &a.grant.refresh, at(600))
            .wait(),
        Err(RefreshError::Reused { .. })
    ));
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &next.grant.refresh, at(601))
            .wait(),
        Err(RefreshError::Invalid)
    ));
}

/// The grace period counts whole seconds of the clock and is half-open: a replaced token is
/// forgiven while fewer than `grace_period` seconds have passed, so a grace period of 0
/// forgives nothing, not even a replay in the same second.
#[test]
fn the_grace_period_ends_after_its_last_whole_second() {
    for (grace, after, forgiven) in [
        (0, 0, false),
        (1, 0, true),
        (1, 1, false),
        (10, 9, true),
        (10, 10, false),
    ] {
        let policy = POLICY.with_grace_period(grace);
        let mut store = Store::new();
        let mut rng = TestRng::new(grace.wrapping_add(after));
        let grant = policy
            .issue(&mut store, &mut rng, "ann", device(1, "laptop"), at(100))
            .wait()
            .unwrap();
        policy
            .refresh(&mut store, &mut rng, &grant.refresh, at(200))
            .wait()
            .unwrap();
        let replay = policy
            .refresh(&mut store, &mut rng, &grant.refresh, at(200 + after))
            .wait();
        if forgiven {
            assert!(
                matches!(replay, Err(RefreshError::Superseded)),
                "grace {grace}, {after} s after: {replay:?}"
            );
        } else {
            assert!(
                matches!(replay, Err(RefreshError::Reused { .. })),
                "grace {grace}, {after} s after: {replay:?}"
            );
        }
    }
}

/// Many threads refresh the same token at the same moment through one shared store, round
/// after round: each round has exactly one winner, every other thread gets `Superseded`,
/// and the family goes on from the winner's token only.
#[test]
fn concurrent_refreshes_of_one_token_have_exactly_one_winner() {
    let store = SharedStore::<Family<Device>>::new();
    let grant = POLICY
        .issue(
            &mut store.clone(),
            &mut TestRng::new(5),
            "user-1",
            device(1, "tabs"),
            at(0),
        )
        .wait()
        .unwrap();
    let mut text = grant.refresh.encode_string();
    for round in 0..20u64 {
        let barrier = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let (mut handle, barrier, text) =
                    (store.clone(), Arc::clone(&barrier), text.clone());
                std::thread::spawn(move || {
                    let token = RefreshToken::parse(&text).unwrap();
                    let mut rng = TestRng::new(1000 * round + t);
                    barrier.wait();
                    POLICY
                        .refresh(&mut handle, &mut rng, &token, at(100 * round + 1))
                        .wait()
                        .map(|r| r.grant.refresh.encode_string())
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<String> = results.iter().filter_map(|r| r.clone().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(RefreshError::Superseded))),
            "round {round}: {results:?}"
        );
        let mut listed: Vec<(SessionHandle, SessionRecord<Family<Device>>)> = Vec::new();
        let n = POLICY
            .list(
                &mut store.clone(),
                "user-1",
                at(100 * round + 2),
                &mut listed,
            )
            .wait()
            .unwrap();
        assert_eq!(n, 1, "the family lives on");
        assert_eq!(u64::from(listed[0].1.data().generation()), round + 2);
        text = winners[0].clone();
    }
}

#[test]
fn access_refresh_and_family_lifetimes_end_things_in_their_order() {
    let policy = RefreshPolicy::new()
        .with_access_lifetime(60)
        .with_refresh_lifetime(600)
        .with_family_lifetime(1000);
    let mut store = Store::new();
    let mut rng = TestRng::new(6);
    let grant = policy
        .issue(&mut store, &mut rng, "user-1", device(1, "phone"), at(0))
        .wait()
        .unwrap();
    let token = access_token(&grant, "user-1");
    // The access token dies first, by its own exp.
    assert_eq!(check_access(&mut store, &token, at(59)), Ok(()));
    assert!(matches!(
        check_access(&mut store, &token, at(60)),
        Err(RevocationError::Token(Error::Verify(VerifyError::Expired)))
    ));
    // An unused refresh token dies at its lifetime.
    let idle = policy
        .issue(&mut store, &mut rng, "user-2", device(2, "idle"), at(0))
        .wait()
        .unwrap();
    assert!(matches!(
        policy
            .refresh(&mut store, &mut rng, &idle.refresh, at(600))
            .wait(),
        Err(RefreshError::Invalid)
    ));
    // A refreshed family lives on, but not past its own lifetime.
    let mut current = grant.refresh;
    for t in [500, 900] {
        current = policy
            .refresh(&mut store, &mut rng, &current, at(t))
            .wait()
            .unwrap()
            .grant
            .refresh;
    }
    assert!(matches!(
        policy
            .refresh(&mut store, &mut rng, &current, at(1000))
            .wait(),
        Err(RefreshError::Invalid | RefreshError::Expired)
    ));
    // A policy tightened since the login ends the family at the next refresh.
    let strict = policy.with_family_lifetime(100);
    let fresh = policy
        .issue(&mut store, &mut rng, "user-3", device(3, "x"), at(0))
        .wait()
        .unwrap();
    assert!(matches!(
        strict
            .refresh(&mut store, &mut rng, &fresh.refresh, at(200))
            .wait(),
        Err(RefreshError::Expired)
    ));
    assert!(matches!(
        policy
            .refresh(&mut store, &mut rng, &fresh.refresh, at(201))
            .wait(),
        Err(RefreshError::Invalid)
    ));
}

#[test]
fn logout_of_one_device_and_of_every_device() {
    let mut store = Store::new();
    let mut rng = TestRng::new(7);
    let phone = login(&mut store, &mut rng, 1, "phone", at(0));
    let laptop = login(&mut store, &mut rng, 1, "laptop", at(0));
    let bobs = login(&mut store, &mut rng, 2, "bob", at(0));
    let (phone_access, laptop_access) = (
        access_token(&phone, "user-1"),
        access_token(&laptop, "user-1"),
    );
    let bob_access = access_token(&bobs, "user-2");

    // This device: its family and access tokens end, the laptop's don't.
    assert!(
        POLICY
            .logout(&mut store, &phone.refresh, at(10))
            .wait()
            .unwrap()
    );
    assert!(
        !POLICY
            .logout(&mut store, &phone.refresh, at(11))
            .wait()
            .unwrap()
    );
    assert!(revoked(check_access(&mut store, &phone_access, at(12))));
    assert_eq!(check_access(&mut store, &laptop_access, at(12)), Ok(()));
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &phone.refresh, at(12))
            .wait(),
        Err(RefreshError::Invalid)
    ));

    // Everywhere: the laptop's family and its access token end too; Bob is untouched.
    let ended = POLICY
        .logout_everywhere(&mut store, Some(ISSUER), "user-1", at(20))
        .wait()
        .unwrap();
    assert_eq!(ended, 1);
    assert!(revoked(check_access(&mut store, &laptop_access, at(21))));
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &laptop.refresh, at(21))
            .wait(),
        Err(RefreshError::Invalid)
    ));
    assert_eq!(check_access(&mut store, &bob_access, at(21)), Ok(()));
    // A login a second later works.
    let again = login(&mut store, &mut rng, 1, "phone", at(21));
    assert_eq!(
        check_access(&mut store, &access_token(&again, "user-1"), at(22)),
        Ok(())
    );
}

/// A logout with a token of no family in the store writes nothing: made-up tokens can't
/// fill the revocation table and so keep reuse detection from revoking a stolen family.
#[test]
fn logout_of_families_the_store_never_held_writes_nothing() {
    let mut store: MemoryStore<Family<Device>, 8, 4> = MemoryStore::new();
    let mut rng = TestRng::new(100);
    let victim = POLICY
        .issue(&mut store, &mut rng, "user-1", device(1, "phone"), at(0))
        .wait()
        .unwrap();
    let victim_access = access_token(&victim, "user-1");
    POLICY
        .refresh(&mut store, &mut rng, &victim.refresh, at(1))
        .wait()
        .unwrap();
    for first in ['B', 'C', 'D', 'E', 'F'] {
        let made_up = RefreshToken::parse(&format!("{first}{}", "A".repeat(85))).unwrap();
        assert!(!POLICY.logout(&mut store, &made_up, at(2)).wait().unwrap());
    }
    assert_eq!(store.revocations_len(), 0);
    // The replaced token, presented again, is reuse: the family ends and its access
    // token is revoked, in a revocation table the made-up logouts left empty.
    let replay = POLICY
        .refresh(&mut store, &mut rng, &victim.refresh, at(100))
        .wait();
    assert!(
        matches!(replay, Err(RefreshError::Reused { .. })),
        "{replay:?}"
    );
    assert!(revoked(check_access(&mut store, &victim_access, at(101))));
}

/// `Refreshed`'s `Debug` keeps the family's application data out, as `SessionRecord`'s
/// does.
#[test]
fn refreshed_debug_shows_no_application_data() {
    let mut store = Store::new();
    let mut rng = TestRng::new(103);
    let grant = login(&mut store, &mut rng, 1, "not-for-logs", at(0));
    let refreshed = POLICY
        .refresh(&mut store, &mut rng, &grant.refresh, at(1))
        .wait()
        .unwrap();
    let text = format!("{refreshed:?}");
    assert!(text.starts_with("Refreshed"), "{text}");
    assert!(!text.contains("not-for-logs"), "{text}");
}

#[test]
fn the_listing_leaves_out_families_a_shortened_lifetime_ended() {
    let mut store = Store::new();
    let mut rng = TestRng::new(9);
    let _phone = login(&mut store, &mut rng, 1, "phone", at(0));
    let laptop = login(&mut store, &mut rng, 1, "laptop", at(5000));
    // Live by their records; a family lifetime of 100 minutes ends the phone's at 6000.
    let shorter = POLICY.with_family_lifetime(6000);
    let mut listed: Vec<(SessionHandle, SessionRecord<Family<Device>>)> = Vec::new();
    let n = shorter
        .list(&mut store, "user-1", at(6000), &mut listed)
        .wait()
        .unwrap();
    assert_eq!((n, listed.len()), (1, 1));
    assert!(listed[0].0 == laptop.refresh.family());
    let mut listed: Vec<(SessionHandle, SessionRecord<Family<Device>>)> = Vec::new();
    assert_eq!(
        POLICY
            .list(&mut store, "user-1", at(6000), &mut listed)
            .wait()
            .unwrap(),
        2
    );
}

#[test]
fn listing_and_ending_families_by_handle() {
    let mut store = Store::new();
    let mut rng = TestRng::new(8);
    let phone = login(&mut store, &mut rng, 1, "phone", at(0));
    let laptop = login(&mut store, &mut rng, 1, "laptop", at(5));
    let _bob = login(&mut store, &mut rng, 2, "bob", at(0));
    let mut listed: Vec<(SessionHandle, SessionRecord<Family<Device>>)> = Vec::new();
    assert_eq!(
        POLICY
            .list(&mut store, "user-1", at(10), &mut listed)
            .wait()
            .unwrap(),
        2
    );
    let labels: Vec<&str> = listed
        .iter()
        .map(|(_, r)| r.data().data().label.as_str())
        .collect();
    assert!(labels.contains(&"phone") && labels.contains(&"laptop"));
    // The handle is the `sid` of the family's access tokens.
    let (handle, _) = listed
        .iter()
        .find(|(h, _)| *h == laptop.refresh.family())
        .unwrap();
    let mut buf = [0u8; SessionHandle::ENCODED_LEN];
    assert_eq!(handle.encode(&mut buf), laptop.access.sid());
    // Families are not sessions: a subject's session list doesn't show them.
    let mut sessions: Vec<(SessionHandle, SessionRecord<Family<Device>>)> = Vec::new();
    let n = store
        .list_subject(
            &tokenstile::store::SubjectKey::new("user-1"),
            at(10),
            &mut sessions,
        )
        .wait()
        .unwrap();
    assert_eq!(n, 0);
    // Another subject can't end it; its owner can.
    assert!(
        !POLICY
            .end_family(&mut store, "user-2", handle, at(11))
            .wait()
            .unwrap()
    );
    assert!(
        POLICY
            .end_family(&mut store, "user-1", handle, at(11))
            .wait()
            .unwrap()
    );
    assert!(revoked(check_access(
        &mut store,
        &access_token(&laptop, "user-1"),
        at(12)
    )));
    assert_eq!(
        check_access(&mut store, &access_token(&phone, "user-1"), at(12)),
        Ok(())
    );
}

#[test]
fn a_subject_limit_refuses_or_ends_the_oldest_family() {
    let two = NonZeroUsize::new(2).unwrap();
    let refusing = POLICY.with_subject_limit(SubjectLimit::new(two, WhenFull::Refuse));
    let mut store = Store::new();
    let mut rng = TestRng::new(9);
    let grants = logins(refusing, &mut store, &mut rng, 2);
    assert!(matches!(
        refusing
            .issue(&mut store, &mut rng, "user-1", device(1, "d"), at(2))
            .wait(),
        Err(RefreshError::LimitReached)
    ));
    let newest = evicting(2)
        .issue(&mut store, &mut rng, "user-1", device(1, "new"), at(3))
        .wait()
        .unwrap();
    let listed = families(&mut store, at(4));
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|(h, _)| *h == newest.refresh.family()));
    assert!(listed.iter().any(|(h, _)| *h == grants[1].refresh.family()));
    // The oldest family is ended as a logout would end it: its refresh token gets
    // nothing, and the access token it issued is refused at once.
    assert!(refused(&mut store, &grants[0], at(4)));
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &grants[0].refresh, at(4))
            .wait(),
        Err(RefreshError::Invalid)
    ));
    for live in [&grants[1], &newest] {
        assert_eq!(
            check_access(&mut store, &access_token(live, "user-1"), at(4)),
            Ok(())
        );
    }
}

/// A limit lowered below what a subject already has ends every family above it at the
/// next login, and revokes each one's access tokens.
#[test]
fn a_lowered_subject_limit_ends_every_family_above_it() {
    let mut store = Store::new();
    let mut rng = TestRng::new(10);
    let old = logins(POLICY, &mut store, &mut rng, 4);
    let newest = evicting(1)
        .issue(&mut store, &mut rng, "user-1", device(1, "new"), at(5))
        .wait()
        .unwrap();
    let listed = families(&mut store, at(6));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, newest.refresh.family());
    assert!(old.iter().all(|grant| refused(&mut store, grant, at(6))));
    assert_eq!(
        check_access(&mut store, &access_token(&newest, "user-1"), at(6)),
        Ok(())
    );
}

/// A subject far above a lowered limit: each login does bounded work (at most
/// `LOGIN_ATTEMPTS` rounds of `ENDED_PER_ROUND`), is refused until the subject fits,
/// and every family ended on the way has its access tokens revoked.
#[test]
fn a_login_far_above_a_lowered_limit_does_bounded_work() {
    let mut store = Instrumented::counting(SharedStore::<Family<Device>>::new());
    let mut rng = TestRng::new(12);
    let old = logins(POLICY, &mut store, &mut rng, 150);
    let per_login = RefreshPolicy::LOGIN_ATTEMPTS as usize * RefreshPolicy::ENDED_PER_ROUND;
    let mut attempts = 0;
    let newest = loop {
        let (creates, removes) = (store.creates, store.removes);
        attempts += 1;
        let result = evicting(1)
            .issue(&mut store, &mut rng, "user-1", device(1, "new"), at(200))
            .wait();
        assert!(store.creates - creates <= RefreshPolicy::LOGIN_ATTEMPTS as usize + 1);
        assert!(store.removes - removes <= per_login);
        match result {
            Ok(grant) => break grant,
            Err(RefreshError::LimitReached) => assert!(attempts * per_login < 150),
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(attempts, 150usize.div_ceil(per_login));
    let listed = families(&mut store, at(201));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, newest.refresh.family());
    assert!(old.iter().all(|grant| refused(&mut store, grant, at(201))));
}

/// A revocation that fails while a login makes room ends nothing it didn't revoke: every
/// old family is alive, or its access tokens are refused.
#[test]
fn a_login_whose_revocation_fails_leaves_no_ended_family_unrevoked() {
    let mut store = SharedStore::<Family<Device>>::with_capacity(64, 1);
    let mut rng = TestRng::new(13);
    let old = logins(POLICY, &mut store, &mut rng, 3);
    let result = evicting(1)
        .issue(&mut store, &mut rng, "user-1", device(1, "new"), at(5))
        .wait();
    assert!(
        matches!(result, Err(RefreshError::Store(StoreErrorKind::Capacity))),
        "{result:?}"
    );
    let listed = families(&mut store, at(6));
    assert!(!listed.is_empty());
    for grant in &old {
        let alive = listed.iter().any(|(h, _)| *h == grant.refresh.family());
        assert!(
            alive || refused(&mut store, grant, at(6)),
            "an ended family's access token is still accepted"
        );
    }
}

/// A logout, an ending from the account page, and an ending of an expired family, each
/// when the store cannot take another revocation: the family stays, and the next try,
/// once there is room, ends it with its access tokens refused. (Removed before the
/// revocation failed, the family left nothing to try again with, and its tokens valid.)
#[test]
fn an_ending_whose_revocation_fails_can_be_tried_again() {
    let full = StoreErrorKind::Capacity;
    // Room for one revocation, which a log-out-everywhere of another user holds until 10.
    let crowded = || {
        let mut store = SharedStore::<Family<Device>>::with_capacity(64, 1);
        jwt::revoke_subject(&mut store, None, "user-2", at(0), at(10), at(0))
            .wait()
            .unwrap();
        store
    };
    let mut rng = TestRng::new(16);

    let mut store = crowded();
    let [grant] = logins(POLICY, &mut store, &mut rng, 1).try_into().unwrap();
    assert_eq!(
        POLICY.logout(&mut store, &grant.refresh, at(5)).wait(),
        Err(RefreshError::Store(full))
    );
    assert_eq!(families(&mut store, at(5)).len(), 1, "still there");
    assert_eq!(
        POLICY.logout(&mut store, &grant.refresh, at(10)).wait(),
        Ok(true)
    );
    assert!(families(&mut store, at(10)).is_empty());
    assert!(refused(&mut store, &grant, at(10)));

    let mut store = crowded();
    let [grant] = logins(POLICY, &mut store, &mut rng, 1).try_into().unwrap();
    let handle = grant.refresh.family();
    assert_eq!(
        POLICY
            .end_family(&mut store, "user-1", &handle, at(5))
            .wait(),
        Err(RefreshError::Store(full))
    );
    assert_eq!(families(&mut store, at(5)).len(), 1, "still there");
    assert_eq!(
        POLICY
            .end_family(&mut store, "user-1", &handle, at(10))
            .wait(),
        Ok(true)
    );
    assert!(refused(&mut store, &grant, at(10)));

    // Issued under a lifetime shortened later: the refresh finds the family expired.
    let mut store = crowded();
    let [grant] = logins(POLICY, &mut store, &mut rng, 1).try_into().unwrap();
    let shortened = POLICY.with_family_lifetime(5);
    assert_eq!(
        shortened
            .refresh(&mut store, &mut rng, &grant.refresh, at(5))
            .wait()
            .map(drop),
        Err(RefreshError::Store(full))
    );
    assert_eq!(
        shortened
            .refresh(&mut store, &mut rng, &grant.refresh, at(10))
            .wait()
            .map(drop),
        Err(RefreshError::Expired)
    );
    assert!(refused(&mut store, &grant, at(10)));
    assert_eq!(
        shortened
            .refresh(&mut store, &mut rng, &grant.refresh, at(11))
            .wait()
            .map(drop),
        Err(RefreshError::Invalid),
        "ended"
    );
}

/// Another subject's handle ends nothing and revokes nothing, whatever the store holds.
#[test]
fn ending_another_subjects_family_revokes_nothing() {
    let mut store = SharedStore::<Family<Device>>::with_capacity(64, 1);
    let mut rng = TestRng::new(17);
    let [grant] = logins(POLICY, &mut store, &mut rng, 1).try_into().unwrap();
    let handle = grant.refresh.family();
    assert_eq!(
        POLICY
            .end_family(&mut store, "user-2", &handle, at(5))
            .wait(),
        Ok(false)
    );
    assert!(!refused(&mut store, &grant, at(5)));
    // The one revocation place is still free: the owner's ending takes it.
    assert_eq!(
        POLICY
            .end_family(&mut store, "user-1", &handle, at(6))
            .wait(),
        Ok(true)
    );
    assert!(refused(&mut store, &grant, at(6)));
}

/// A reuse detected when the store cannot take another revocation: the family still ends,
/// and the reuse is still what is reported, with the store's error for the access tokens
/// that stay valid.
#[test]
fn a_reuse_whose_revocation_fails_is_still_reported_as_a_reuse() {
    // Room for one revocation, which the logout of another family takes.
    let mut store = SharedStore::<Family<Device>>::with_capacity(64, 1);
    let mut rng = TestRng::new(14);
    let [stolen, other] = logins(POLICY, &mut store, &mut rng, 2).try_into().unwrap();
    assert!(
        POLICY
            .logout(&mut store, &other.refresh, at(5))
            .wait()
            .unwrap()
    );
    let legit = POLICY
        .refresh(&mut store, &mut rng, &stolen.refresh, at(10))
        .wait()
        .unwrap();
    let replay = POLICY
        .refresh(&mut store, &mut rng, &stolen.refresh, at(100))
        .wait();
    let Err(RefreshError::Reused { family, revocation }) = replay else {
        panic!("expected Reused, got {replay:?}");
    };
    assert!(family == stolen.refresh.family());
    assert_eq!(revocation, Err(StoreErrorKind::Capacity));
    assert!(
        core::error::Error::source(&replay.unwrap_err()).is_some(),
        "the store's error is the source"
    );
    // The family is ended all the same: its newest token refreshes nothing.
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &legit.grant.refresh, at(101))
            .wait(),
        Err(RefreshError::Invalid)
    ));
}

/// A store whose `create` counts sessions its listing doesn't show (Redis after a clock
/// ahead expired a key early): the login is refused after a few tries, and no live
/// family is ended for room the listing says is there.
#[test]
fn a_limit_the_listing_does_not_confirm_ends_nothing() {
    let mut store = Instrumented::counting(Store::new());
    let mut rng = TestRng::new(11);
    let first = logins(evicting(2), &mut store, &mut rng, 1).remove(0);
    store.phantoms = 1;
    assert!(matches!(
        evicting(2)
            .issue(&mut store, &mut rng, "user-1", device(1, "d"), at(1))
            .wait(),
        Err(RefreshError::LimitReached)
    ));
    assert_eq!(store.removes, 0, "nothing was ended");
    assert_eq!(
        check_access(&mut store, &access_token(&first, "user-1"), at(2)),
        Ok(())
    );
    assert!(
        POLICY
            .refresh(&mut store, &mut rng, &first.refresh, at(2))
            .wait()
            .is_ok()
    );
}

/// Logins of one subject racing at its limit: the limit holds, each login either
/// succeeds or is refused as `LimitReached`, and every family that did not survive has
/// its access tokens revoked.
#[test]
fn concurrent_logins_at_the_limit_keep_it_and_revoke_what_they_end() {
    let evicting = evicting(2);
    let store = SharedStore::<Family<Device>>::new();
    for round in 0..10u64 {
        let now = at(10 * round);
        let barrier = Arc::new(Barrier::new(6));
        let threads: Vec<_> = (0..6u64)
            .map(|t| {
                let (mut handle, barrier) = (store.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let mut rng = TestRng::new(100 * round + t);
                    barrier.wait();
                    evicting
                        .issue(&mut handle, &mut rng, "user-1", device(1, "d"), now)
                        .wait()
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(RefreshError::LimitReached))),
            "round {round}: {results:?}"
        );
        let listed = families(&mut store.clone(), now);
        assert_eq!(listed.len(), 2, "round {round}");
        for grant in results.iter().filter_map(|r| r.as_ref().ok()) {
            let alive = listed.iter().any(|(h, _)| *h == grant.refresh.family());
            let checked = check_access(&mut store.clone(), &access_token(grant, "user-1"), now);
            if alive {
                assert_eq!(checked, Ok(()), "round {round}");
            } else {
                assert!(revoked(checked), "round {round}: an ended family's token");
            }
        }
    }
}

#[test]
fn hostile_refresh_tokens_get_typed_errors() {
    let cases: &[(&str, RefreshTokenError)] = &[
        ("", RefreshTokenError::Length),
        (&"A".repeat(85), RefreshTokenError::Length),
        (&"A".repeat(87), RefreshTokenError::Length),
        (&"A".repeat(10_000), RefreshTokenError::Length),
        (&format!("{}=", "A".repeat(85)), RefreshTokenError::Alphabet),
        (&format!("{}+", "A".repeat(85)), RefreshTokenError::Alphabet),
        (&format!("{}é", "A".repeat(84)), RefreshTokenError::Alphabet),
        (
            &format!("{} {}", "A".repeat(42), "A".repeat(43)),
            RefreshTokenError::Alphabet,
        ),
        (
            &format!("{}B", "A".repeat(85)),
            RefreshTokenError::NonCanonical,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            text.parse::<RefreshToken>().err(),
            Some(*expected),
            "{text:?}"
        );
    }
    // A well-formed token nobody was given: no family, and nothing is ended or created.
    let mut store = Store::new();
    let mut rng = TestRng::new(10);
    let unknown = RefreshToken::parse(&"A".repeat(86)).unwrap();
    assert!(matches!(
        POLICY.refresh(&mut store, &mut rng, &unknown, at(0)).wait(),
        Err(RefreshError::Invalid)
    ));
    assert_eq!(store.sessions_len(), 0);
    assert_eq!(format!("{unknown:?}"), "RefreshToken(..)");
}

#[test]
fn failures_of_the_rng_and_the_store_are_reported() {
    let mut store = Store::new();
    assert!(matches!(
        POLICY
            .issue(&mut store, &mut BrokenRng, "user-1", device(1, "x"), at(0))
            .wait(),
        Err(RefreshError::Random)
    ));
    assert_eq!(store.sessions_len(), 0);
    let grant = login(&mut store, &mut TestRng::new(11), 1, "x", at(0));
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut BrokenRng, &grant.refresh, at(1))
            .wait(),
        Err(RefreshError::Random)
    ));
    // The failed refresh changed nothing: the token still works.
    assert!(
        POLICY
            .refresh(&mut store, &mut TestRng::new(12), &grant.refresh, at(2))
            .wait()
            .is_ok()
    );
    // A full store refuses a login with a store error, never drops a live family.
    let mut small: MemoryStore<Family<Device>, 2, 2> = MemoryStore::new();
    let mut rng = TestRng::new(13);
    for _ in 0..2 {
        POLICY
            .issue(&mut small, &mut rng, "u", device(1, "x"), at(0))
            .wait()
            .unwrap();
    }
    assert!(matches!(
        POLICY
            .issue(&mut small, &mut rng, "u", device(1, "x"), at(0))
            .wait(),
        Err(RefreshError::Store(StoreErrorKind::Capacity))
    ));
}

#[test]
fn the_flow_runs_on_a_store_that_suspends() {
    let mut store = Instrumented::suspending(Store::new());
    let mut rng = TestRng::new(14);
    let grant = POLICY
        .issue(&mut store, &mut rng, "user-1", device(1, "x"), at(0))
        .wait()
        .unwrap();
    let next = POLICY
        .refresh(&mut store, &mut rng, &grant.refresh, at(1))
        .wait()
        .unwrap();
    assert!(matches!(
        POLICY
            .refresh(&mut store, &mut rng, &grant.refresh, at(100))
            .wait(),
        Err(RefreshError::Reused { .. })
    ));
    assert!(
        !POLICY
            .logout(&mut store, &next.grant.refresh, at(101))
            .wait()
            .unwrap()
    );
    assert!(store.suspensions >= 5);
}

#[test]
fn families_round_trip_through_json() {
    let mut store = Store::new();
    let grant = login(&mut store, &mut TestRng::new(15), 1, "phone", at(0));
    let mut listed: Vec<(SessionHandle, SessionRecord<Family<Device>>)> = Vec::new();
    POLICY
        .list(&mut store, "user-1", at(1), &mut listed)
        .wait()
        .unwrap();
    let family = listed[0].1.data();
    let json = serde_json::to_string(family).unwrap();
    assert!(json.contains("\"generation\":1"));
    let back: Family<Device> = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, family);
    // Malformed digests and duplicate fields are refused.
    let bad = json.replacen("\"current\":\"", "\"current\":\"zz", 1);
    assert!(serde_json::from_str::<Family<Device>>(&bad).is_err());
    let dup = json.replacen("\"generation\":1", "\"generation\":1,\"generation\":2", 1);
    assert!(serde_json::from_str::<Family<Device>>(&dup).is_err());
    assert!(listed[0].0 == grant.refresh.family());
}

#[test]
fn the_refresh_cookie_is_secure_and_scoped_to_its_path() {
    let options = refresh::cookie_options("/auth");
    let mut out = [0u8; 256];
    let set = options.set_cookie(&"A".repeat(86), 3600, &mut out).unwrap();
    assert!(set.starts_with("__Secure-refresh="));
    assert!(set.contains("Path=/auth"));
    assert!(set.contains("Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    assert_eq!(refresh::COOKIE_NAME, "__Secure-refresh");
    assert_eq!(options.name, refresh::COOKIE_NAME);
    assert_eq!(options.same_site, CookieOptions::new().same_site);
}

#[test]
fn the_refresh_cookie_at_the_root_path_is_locked_to_its_host() {
    let options = refresh::cookie_options("/");
    assert_eq!(options.name, refresh::HOST_COOKIE_NAME);
    assert_eq!(refresh::HOST_COOKIE_NAME, "__Host-refresh");
    let mut out = [0u8; 256];
    let set = options.set_cookie(&"A".repeat(86), 3600, &mut out).unwrap();
    assert!(set.starts_with("__Host-refresh="), "{set}");
    assert!(
        set.contains("; Path=/;") && !set.contains("Domain"),
        "{set}"
    );
    assert!(set.contains("Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    // Any other path keeps the `__Secure-` name: a `__Host-` cookie needs `Path=/`.
    for path in ["/auth", "/auth/", "//", "/a"] {
        let options = refresh::cookie_options(path);
        assert_eq!(options.name, refresh::COOKIE_NAME, "{path}");
        assert!(options.validate().is_ok(), "{path}");
    }
}

#[test]
fn access_claims_name_the_audiences_a_policy_requires() {
    let mut store = Store::new();
    let mut rng = TestRng::new(7);
    let grant = login(&mut store, &mut rng, 1, "laptop", at(0));
    let key = Hs256Key::new_from_slice(KEY).unwrap();
    let mut scratch = [0u8; 512];
    for audiences in [&["api"][..], &["api", "admin"][..]] {
        let claims = grant.access.claims(Some(ISSUER), "user-1");
        // Without `aud`, a policy that requires one refuses the token.
        let plain = jwt::sign_to_string(&key, &claims).unwrap();
        let policy = Validation::new()
            .with_issuer(ISSUER)
            .with_audiences(audiences);
        assert_eq!(
            jwt::verify::<serde::de::IgnoredAny, _>(&key, &plain, &policy, at(1), &mut scratch)
                .map(drop),
            Err(Error::Verify(VerifyError::MissingClaim(
                tokenstile::Claim::Aud
            )))
        );
        let token = jwt::sign_to_string(&key, &claims.with_audiences(audiences)).unwrap();
        let verified =
            jwt::verify::<serde::de::IgnoredAny, _>(&key, &token, &policy, at(1), &mut scratch)
                .unwrap();
        let aud: Vec<&str> = verified.registered.aud.unwrap().iter().collect();
        assert_eq!(aud, audiences);
        // One audience is a string, several an array.
        let payload = token.split('.').nth(1).unwrap();
        let json = base64ct_decode(payload);
        let expected = if audiences.len() == 1 {
            "\"aud\":\"api\"".to_owned()
        } else {
            "\"aud\":[\"api\",\"admin\"]".to_owned()
        };
        assert!(json.contains(&expected), "{json}");
    }
}

fn base64ct_decode(segment: &str) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    String::from_utf8(Base64UrlUnpadded::decode_vec(segment).unwrap()).unwrap()
}

/// The status each error answers with, for frameworks without an integration.
#[test]
fn refresh_errors_map_to_statuses() {
    let reused = RefreshError::Reused {
        family: SessionHandle::from_bytes([7; 32]),
        revocation: Err(StoreErrorKind::Capacity),
    };
    for (error, status) in [
        (RefreshError::Invalid, 401),
        (RefreshError::Expired, 401),
        (reused, 401),
        (RefreshError::Superseded, 409),
        (RefreshError::LimitReached, 403),
        (RefreshError::Store(StoreErrorKind::Backend), 503),
        (RefreshError::Random, 500),
    ] {
        assert_eq!(error.status(), status, "{error}");
    }
}
