//! Refresh tokens on Redis: families are session records of another data type in the same
//! store, and ending one revokes its access tokens. Nothing Redis-specific is needed.

use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::refresh::{RefreshError, RefreshPolicy};
use tokenstile::session::SessionPolicy;
use tokenstile::store::{SessionHandle, SessionRecord, SubjectLimit, WhenFull};

use crate::server::RedisServer;
use crate::support::{now, store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotation_reuse_detection_and_the_two_tab_race_on_redis() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let key = Hs256Key::new_from_slice(&[7; 32]).unwrap();
    let policy = RefreshPolicy::new();
    let now = now();
    let mut rng = rand::rng();

    let grant = policy
        .issue(&mut store, &mut rng, "ann", "ann's phone".to_owned(), now)
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let access = jwt::sign(&key, &grant.access.claims(None, "ann"), &mut buf)
        .unwrap()
        .to_owned();
    let mut scratch = [0u8; 512];
    jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
        &key,
        &access,
        &Validation::new(),
        &mut store,
        now,
        &mut scratch,
    )
    .await
    .unwrap();

    // A session of the same subject, in the same store: families and sessions don't mix.
    SessionPolicy::new()
        .create(&mut store, &mut rng, "ann", "laptop".to_owned(), now)
        .await
        .unwrap();

    // Two tabs refresh the same token at once: exactly one gets new tokens.
    let later = now.saturating_add(60);
    let presented = grant.refresh.encode_string();
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let mut store = store.clone();
        let token = tokenstile::refresh::RefreshToken::parse(&presented).unwrap();
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
        tabs.push(tokio::spawn(async move {
            RefreshPolicy::new()
                .refresh::<String, _, _>(&mut store, &mut rng, &token, later)
                .await
        }));
    }
    let mut refreshed = Vec::new();
    let mut superseded = 0;
    for tab in tabs {
        match tab.await.unwrap() {
            Ok(r) => refreshed.push(r),
            Err(RefreshError::Superseded) => superseded += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((refreshed.len(), superseded), (1, 1));
    assert_eq!(refreshed[0].data, "ann's phone");

    let mut families: Vec<(
        SessionHandle,
        SessionRecord<tokenstile::refresh::Family<String>>,
    )> = Vec::new();
    assert_eq!(
        policy
            .list(&mut store, "ann", later, &mut families)
            .await
            .unwrap(),
        1
    );
    let mut sessions: Vec<(SessionHandle, SessionRecord<String>)> = Vec::new();
    assert_eq!(
        SessionPolicy::new()
            .list(&mut store, "ann", later, &mut sessions)
            .await
            .unwrap(),
        1
    );
    assert_eq!(sessions[0].1.data(), "laptop");

    // The old refresh token after the grace period: reused. The family ends, and the
    // access token issued from it is revoked.
    let replay = policy
        .refresh::<String, _, _>(
            &mut store,
            &mut rng,
            &grant.refresh,
            later.saturating_add(600),
        )
        .await;
    assert!(
        matches!(replay, Err(RefreshError::Reused { .. })),
        "{replay:?}"
    );
    let check = jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
        &key,
        &access,
        &Validation::new(),
        &mut store,
        later,
        &mut scratch,
    )
    .await;
    assert!(check.is_err());
    let mut families: Vec<(
        SessionHandle,
        SessionRecord<tokenstile::refresh::Family<String>>,
    )> = Vec::new();
    assert_eq!(
        policy
            .list(&mut store, "ann", later, &mut families)
            .await
            .unwrap(),
        0
    );
    // The session is still there.
    let mut sessions: Vec<(SessionHandle, SessionRecord<String>)> = Vec::new();
    assert_eq!(
        SessionPolicy::new()
            .list(&mut store, "ann", later, &mut sessions)
            .await
            .unwrap(),
        1
    );
}

/// Logins past a subject limit that ends the oldest families, some of them concurrent:
/// the limit holds on Redis, and every family that did not survive has its access tokens
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_past_the_limit_revoke_the_families_they_end_on_redis() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let key = Hs256Key::new_from_slice(&[7; 32]).unwrap();
    let two = std::num::NonZeroUsize::new(2).unwrap();
    let policy =
        RefreshPolicy::new().with_subject_limit(SubjectLimit::new(two, WhenFull::EndOldest));
    let now = now();

    let mut logins = Vec::new();
    for device in 0..6 {
        let mut store = store.clone();
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
        logins.push(tokio::spawn(async move {
            policy
                .issue(&mut store, &mut rng, "bob", format!("device {device}"), now)
                .await
        }));
    }
    let mut grants = Vec::new();
    for login in logins {
        match login.await.unwrap() {
            Ok(grant) => grants.push(grant),
            Err(RefreshError::LimitReached) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(grants.len() >= 2, "{} logins succeeded", grants.len());

    let mut store = store;
    let mut families: Vec<(
        SessionHandle,
        SessionRecord<tokenstile::refresh::Family<String>>,
    )> = Vec::new();
    assert_eq!(
        policy
            .list(&mut store, "bob", now, &mut families)
            .await
            .unwrap(),
        2
    );
    for grant in &grants {
        let mut buf = [0u8; 512];
        let access = jwt::sign(&key, &grant.access.claims(None, "bob"), &mut buf).unwrap();
        let mut scratch = [0u8; 512];
        let check = jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
            &key,
            access,
            &Validation::new(),
            &mut store,
            now,
            &mut scratch,
        )
        .await;
        let alive = families.iter().any(|(h, _)| *h == grant.refresh.family());
        assert_eq!(check.is_ok(), alive, "{check:?}");
    }
}
