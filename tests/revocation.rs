//! JWT revocation through the session store: by `jti`, by subject watermark, fail-closed.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

mod support;

use core::convert::Infallible;

use support::{Instrumented, Wait, at};
use tokenstile::jwt::{
    self, Hs256Key, RegisteredClaims, RevocationError, Validation, check_not_revoked,
    revoke_subject, revoke_token,
};
use tokenstile::store::{
    LookupKey, MemoryStore, RevocationCheck, RevocationStore, Store, StoreError, StoreErrorKind,
    Watermark,
};
use tokenstile::{Claim, Error, UnixTime, VerifyError};

type Memory = MemoryStore<(), 4, 32>;

fn claims<'a>(
    iss: Option<&'a str>,
    sub: Option<&'a str>,
    jti: Option<&'a str>,
) -> RegisteredClaims<'a> {
    let mut c = RegisteredClaims::default();
    c.iss = iss;
    c.sub = sub;
    c.jti = jti;
    c.iat = Some(at(0));
    c.exp = Some(at(900));
    c
}

fn is_revoked<E>(result: Result<(), RevocationError<E>>) -> bool {
    matches!(
        result,
        Err(RevocationError::Token(Error::Verify(VerifyError::Revoked)))
    )
}

#[test]
fn a_revoked_token_stays_revoked_until_exp_plus_leeway() {
    let mut store = Memory::new();
    let token = claims(Some("auth"), Some("alice"), Some("t-1"));
    assert_eq!(check_not_revoked(&mut store, &token, at(1)).wait(), Ok(()));
    revoke_token(&mut store, &token, 30, at(1)).wait().unwrap();
    assert!(is_revoked(
        check_not_revoked(&mut store, &token, at(1)).wait()
    ));
    assert!(is_revoked(
        check_not_revoked(&mut store, &token, at(929)).wait()
    ));
    // By then verification refuses the token as expired; the entry is gone.
    assert_eq!(
        check_not_revoked(&mut store, &token, at(930)).wait(),
        Ok(())
    );
    assert_eq!(store.purge_expired(at(930)).wait(), Ok(1));
}

#[test]
fn revocation_is_scoped_by_issuer_and_jti() {
    let mut store = Memory::new();
    revoke_token(
        &mut store,
        &claims(Some("auth"), None, Some("t-1")),
        0,
        at(0),
    )
    .wait()
    .unwrap();
    let same = claims(Some("auth"), Some("bob"), Some("t-1"));
    assert!(is_revoked(
        check_not_revoked(&mut store, &same, at(1)).wait()
    ));
    for other in [
        claims(Some("other"), None, Some("t-1")),
        claims(None, None, Some("t-1")),
        claims(Some(""), None, Some("t-1")),
        claims(Some("auth"), None, Some("t-2")),
        claims(Some("aut"), None, Some("ht-1")),
    ] {
        assert_eq!(
            check_not_revoked(&mut store, &other, at(1)).wait(),
            Ok(()),
            "{other:?}"
        );
    }
}

#[test]
fn revoking_needs_jti_and_exp() {
    let mut store = Memory::new();
    let no_jti = claims(Some("auth"), Some("alice"), None);
    assert_eq!(
        revoke_token(&mut store, &no_jti, 0, at(0)).wait(),
        Err(RevocationError::Token(Error::Verify(
            VerifyError::MissingClaim(Claim::Jti)
        )))
    );
    let mut no_exp = claims(Some("auth"), Some("alice"), Some("t-1"));
    no_exp.exp = None;
    assert_eq!(
        revoke_token(&mut store, &no_exp, 0, at(0)).wait(),
        Err(RevocationError::Token(Error::Verify(
            VerifyError::MissingClaim(Claim::Exp)
        )))
    );
    assert_eq!(store.revocations_len(), 0);
}

#[test]
fn an_already_expired_token_needs_no_entry() {
    let mut store = Memory::new();
    revoke_token(&mut store, &claims(None, None, Some("old")), 0, at(900))
        .wait()
        .unwrap();
    assert_eq!(store.revocations_len(), 0);
}

#[test]
fn a_watermark_revokes_older_tokens_of_the_subject() {
    let mut store = Memory::new();
    revoke_subject(
        &mut store,
        Some("auth"),
        "alice",
        at(100),
        at(1000),
        at(100),
    )
    .wait()
    .unwrap();

    let mut older = claims(Some("auth"), Some("alice"), None);
    older.iat = Some(at(50));
    let mut same_second = older;
    same_second.iat = Some(at(100));
    let mut newer = older;
    newer.iat = Some(at(101));
    let mut no_iat = older;
    no_iat.iat = None;

    assert!(is_revoked(
        check_not_revoked(&mut store, &older, at(200)).wait()
    ));
    assert!(is_revoked(
        check_not_revoked(&mut store, &same_second, at(200)).wait()
    ));
    assert!(
        is_revoked(check_not_revoked(&mut store, &no_iat, at(200)).wait()),
        "no iat: fail closed"
    );
    assert_eq!(
        check_not_revoked(&mut store, &newer, at(200)).wait(),
        Ok(())
    );

    // Other subjects, and the same subject from another issuer, are unaffected.
    let mut bob = older;
    bob.sub = Some("bob");
    assert_eq!(check_not_revoked(&mut store, &bob, at(200)).wait(), Ok(()));
    let mut elsewhere = older;
    elsewhere.iss = Some("other");
    assert_eq!(
        check_not_revoked(&mut store, &elsewhere, at(200)).wait(),
        Ok(())
    );

    // After its expiry the watermark is forgotten.
    assert_eq!(
        check_not_revoked(&mut store, &no_iat, at(1000)).wait(),
        Ok(())
    );
}

#[test]
fn watermarks_only_rise() {
    let mut store = Memory::new();
    revoke_subject(&mut store, None, "alice", at(100), at(1000), at(0))
        .wait()
        .unwrap();
    revoke_subject(&mut store, None, "alice", at(10), at(500), at(0))
        .wait()
        .unwrap();
    let mut token = claims(None, Some("alice"), None);
    token.iat = Some(at(90));
    assert!(is_revoked(
        check_not_revoked(&mut store, &token, at(600)).wait()
    ));
}

/// A store whose backend is down.
struct Down;

impl Store for Down {
    type Error = StoreErrorKind;
}

// A device that only checks JWTs implements revocations and nothing else.
impl RevocationStore for Down {
    async fn revoke(
        &mut self,
        _: &LookupKey,
        _: UnixTime,
        _: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn is_revoked(&mut self, _: &LookupKey, _: UnixTime) -> Result<bool, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn raise_watermark(
        &mut self,
        _: &LookupKey,
        _: Watermark,
        _: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn watermark(
        &mut self,
        _: &LookupKey,
        _: UnixTime,
    ) -> Result<Option<Watermark>, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
}

#[test]
fn a_failing_store_fails_closed() {
    let token = claims(Some("auth"), Some("alice"), Some("t-1"));
    let err = check_not_revoked(&mut Down, &token, at(0))
        .wait()
        .unwrap_err();
    assert_eq!(err, RevocationError::Store(StoreErrorKind::Backend));
    assert_eq!(err.to_string(), "revocation store failed");
    let source = core::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "store backend failure");
    // Only the watermark lookup reaches the store for a token without jti: still an error.
    let no_jti = claims(Some("auth"), Some("alice"), None);
    assert!(matches!(
        check_not_revoked(&mut Down, &no_jti, at(0)).wait(),
        Err(RevocationError::Store(e)) if e.kind() == StoreErrorKind::Backend
    ));
    assert_eq!(
        revoke_token(&mut Down, &token, 0, at(0)).wait(),
        Err(RevocationError::Store(StoreErrorKind::Backend))
    );
}

#[test]
fn a_full_store_refuses_a_revocation_instead_of_losing_it() {
    let mut store = MemoryStore::<(), 2, 2>::new();
    revoke_token(&mut store, &claims(None, None, Some("a")), 0, at(0))
        .wait()
        .unwrap();
    revoke_token(&mut store, &claims(None, None, Some("b")), 0, at(0))
        .wait()
        .unwrap();
    assert_eq!(
        revoke_token(&mut store, &claims(None, None, Some("c")), 0, at(0)).wait(),
        Err(RevocationError::Store(StoreErrorKind::Capacity))
    );
    for jti in ["a", "b"] {
        assert!(is_revoked(
            check_not_revoked(&mut store, &claims(None, None, Some(jti)), at(1)).wait()
        ));
    }
}

#[test]
fn verify_then_check_in_one_call() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Claims<'a> {
        iss: &'a str,
        sub: &'a str,
        jti: &'a str,
        iat: u64,
        exp: u64,
    }
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let mut buf = [0u8; 512];
    let token = jwt::sign(
        &key,
        &Claims {
            iss: "auth",
            sub: "alice",
            jti: "t-9",
            iat: at(0).as_secs(),
            exp: at(900).as_secs(),
        },
        &mut buf,
    )
    .unwrap();
    let policy = Validation::new().with_leeway(5);
    let mut store = Memory::new();
    let mut scratch = [0u8; 512];

    let verified = jwt::verify_not_revoked::<Claims, _, _>(
        &key,
        token,
        &policy,
        &mut store,
        at(1),
        &mut scratch,
    )
    .wait()
    .unwrap();
    assert_eq!(verified.claims.sub, "alice");
    revoke_token(&mut store, &verified.registered, policy.leeway, at(1))
        .wait()
        .unwrap();

    let refused = jwt::verify_not_revoked::<Claims, _, _>(
        &key,
        token,
        &policy,
        &mut store,
        at(2),
        &mut scratch,
    )
    .wait();
    assert!(matches!(
        refused,
        Err(RevocationError::Token(Error::Verify(VerifyError::Revoked)))
    ));
    // Verification errors come first, unchanged.
    let expired = jwt::verify_not_revoked::<Claims, _, _>(
        &key,
        token,
        &policy,
        &mut store,
        at(905),
        &mut scratch,
    )
    .wait();
    assert!(matches!(
        expired,
        Err(RevocationError::Token(Error::Verify(VerifyError::Expired)))
    ));
    let other_key = Hs256Key::new_from_slice(&[8u8; 32]).unwrap();
    let forged = jwt::verify_not_revoked::<Claims, _, _>(
        &other_key,
        token,
        &policy,
        &mut store,
        at(2),
        &mut scratch,
    )
    .wait();
    assert!(matches!(
        forged,
        Err(RevocationError::Token(Error::Verify(
            VerifyError::Signature
        )))
    ));
}

#[test]
fn revocation_runs_on_a_store_that_suspends() {
    let mut store = Instrumented::suspending(Memory::new());
    let token = claims(Some("auth"), Some("alice"), Some("t-1"));
    assert_eq!(check_not_revoked(&mut store, &token, at(1)).wait(), Ok(()));
    revoke_token(&mut store, &token, 0, at(1)).wait().unwrap();
    assert!(is_revoked(
        check_not_revoked(&mut store, &token, at(1)).wait()
    ));

    let mut other = claims(Some("auth"), Some("bob"), None);
    revoke_subject(&mut store, Some("auth"), "bob", at(5), at(100), at(5))
        .wait()
        .unwrap();
    assert!(is_revoked(
        check_not_revoked(&mut store, &other, at(6)).wait()
    ));
    other.iat = Some(at(6));
    assert_eq!(check_not_revoked(&mut store, &other, at(6)).wait(), Ok(()));
    assert!(store.suspensions >= 5);
}

#[test]
fn errors_are_typed_and_displayed() {
    let revoked: RevocationError<Infallible> =
        RevocationError::Token(Error::Verify(VerifyError::Revoked));
    assert_eq!(revoked.to_string(), "token revoked");
    let from: RevocationError<Infallible> = Error::Verify(VerifyError::Signature).into();
    assert_eq!(
        from,
        RevocationError::Token(Error::Verify(VerifyError::Signature))
    );
}

/// Records how `check_not_revoked` asks the store: one `check_revoked` call, never the
/// single calls, and fails if told to.
#[derive(Default)]
struct Recording {
    inner: Memory,
    /// `(entries, watermark asked)` of each `check_revoked` call.
    checks: Vec<(usize, bool)>,
    single_calls: usize,
    fail: bool,
}

impl Store for Recording {
    type Error = StoreErrorKind;
}

impl RevocationStore for Recording {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        self.inner.revoke(key, until, now).await
    }
    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, StoreErrorKind> {
        self.single_calls += 1;
        self.inner.is_revoked(key, now).await
    }
    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        self.inner.raise_watermark(key, watermark, now).await
    }
    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, StoreErrorKind> {
        self.single_calls += 1;
        self.inner.watermark(key, now).await
    }
    async fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, StoreErrorKind> {
        self.checks.push((entries.len(), watermark.is_some()));
        if self.fail {
            return Err(StoreErrorKind::Backend);
        }
        self.inner.check_revoked(entries, watermark, now).await
    }
}

#[test]
fn a_check_is_one_store_call() {
    let mut store = Recording::default();
    let mut token = claims(Some("auth"), Some("alice"), Some("t-1"));
    token.sid = Some("family-1");
    assert_eq!(check_not_revoked(&mut store, &token, at(1)).wait(), Ok(()));
    assert_eq!(store.checks, [(2, true)]);

    let mut sid_only = claims(Some("auth"), None, None);
    sid_only.sid = Some("family-1");
    for (claims, asked) in [
        (claims(Some("auth"), Some("alice"), None), (0, true)),
        (claims(Some("auth"), None, Some("t-1")), (1, false)),
        (sid_only, (1, false)),
    ] {
        store.checks.clear();
        assert_eq!(check_not_revoked(&mut store, &claims, at(1)).wait(), Ok(()));
        assert_eq!(store.checks, [asked]);
    }
    // Nothing to ask about: the store is not asked.
    store.checks.clear();
    let anonymous = claims(None, None, None);
    assert_eq!(
        check_not_revoked(&mut store, &anonymous, at(1)).wait(),
        Ok(())
    );
    assert!(store.checks.is_empty());

    // Revoked by its jti, by its watermark: one call each, refused.
    revoke_token(&mut store, &token, 0, at(1)).wait().unwrap();
    assert!(is_revoked(
        check_not_revoked(&mut store, &token, at(1)).wait()
    ));
    let mut later = claims(Some("auth"), Some("bob"), Some("t-2"));
    later.sid = Some("family-2");
    revoke_subject(&mut store, Some("auth"), "bob", at(0), at(900), at(1))
        .wait()
        .unwrap();
    assert!(is_revoked(
        check_not_revoked(&mut store, &later, at(1)).wait()
    ));
    assert_eq!(store.single_calls, 0);

    // The call fails: so does the check.
    store.fail = true;
    let fresh = claims(Some("auth"), Some("carol"), Some("t-3"));
    assert_eq!(
        check_not_revoked(&mut store, &fresh, at(1)).wait(),
        Err(RevocationError::Store(StoreErrorKind::Backend))
    );
}

/// Without `purge_expired` and without limits, a `SharedStore` drops dead revocations as
/// it grows, and never a live one.
#[cfg(feature = "std")]
#[test]
fn a_shared_store_sweeps_dead_revocations_as_it_grows() {
    use tokenstile::store::SharedStore;
    let mut store = SharedStore::<()>::new();
    let revoke = |store: &mut SharedStore<()>, n: u32, now: u64, until: u64| {
        let subject = format!("user{n}");
        revoke_subject(store, None, &subject, at(now), at(until), at(now))
            .wait()
            .unwrap();
    };
    for n in 0..1500 {
        revoke(&mut store, n, 0, 10);
    }
    assert_eq!(store.revocations_len(), 1500);
    for n in 1500..3000 {
        revoke(&mut store, n, 100, 1000);
    }
    // The first 1500 ended at 10 and were swept when the store reached 2048 entries.
    assert_eq!(store.revocations_len(), 1500);
    for n in 1500..3000 {
        let subject = format!("user{n}");
        let mut c = claims(None, Some(&subject), None);
        c.iat = Some(at(50));
        assert!(is_revoked(
            check_not_revoked(&mut store, &c, at(101)).wait()
        ));
    }
}

/// The status each error answers with: a refused token is 401, the caller's mistake 500.
#[test]
fn revocation_errors_map_to_statuses() {
    use tokenstile::{DecodeError, KeyError};
    for (error, status) in [
        (
            RevocationError::Token(Error::Verify(VerifyError::Revoked)),
            401,
        ),
        (
            RevocationError::Token(Error::Verify(VerifyError::Expired)),
            401,
        ),
        (
            RevocationError::Token(Error::Decode(DecodeError::Base64)),
            401,
        ),
        (RevocationError::Token(Error::Key(KeyError::TooShort)), 500),
        (RevocationError::Store(StoreErrorKind::Backend), 503),
    ] {
        assert_eq!(error.status(), status, "{error}");
    }
}
