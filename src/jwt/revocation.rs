//! JWT revocation through a [`RevocationStore`], keyed on decoded claims.
//!
//! Three mechanisms, all stored as entries that expire on their own:
//!
//! - **one token**, by its `jti` scoped by its `iss` ([`revoke_token`]), kept until the
//!   token's `exp` (plus leeway), after which verification refuses it anyway;
//! - **all tokens of a subject** from an issuer issued at or before a cutoff
//!   ([`revoke_subject`]), the "log out everywhere" of JWTs, kept until no such token can
//!   still be valid;
//! - **all tokens of a session** (their `sid` claim): a [refresh-token
//!   family](crate::refresh) that is logged out, or whose refresh token was reused, revokes
//!   every access token issued from it at once.
//!
//! [`check_not_revoked`] consults all three after a token is verified, in one store call
//! ([`RevocationStore::check_revoked`]), and [`verify_not_revoked`] does both steps in one
//! call. They are `async fn`s over any [`RevocationStore`]; over an in-memory store, drive
//! them with [`block_on`](crate::store::block_on) where there is no executor.
//!
//! Keys are SHA-256 digests over a domain-separation label and the length-prefixed
//! decoded claim values, never over the token text: a token re-encoded differently (which
//! strict verification refuses anyway) still maps to the same key, and the store sees no
//! identifiers in the clear.

use core::fmt;

use serde::Deserialize;

use crate::error::{Claim, Error, VerifyError};
use crate::jwt::{RegisteredClaims, Validation, Verified, VerifyingKeys};
use crate::store::{LookupKey, RevocationStore, StoreError, Watermark};
use crate::time::UnixTime;

/// Revokes the token with these claims, by its `iss` and `jti`, until its `exp` plus
/// `leeway` seconds.
///
/// Pass the verification leeway you use ([`Validation::leeway`]), so the revocation lasts
/// as long as verification could still accept the token. A token already past that time
/// needs no entry, and none is written.
///
/// The key is the pair (`iss`, `jti`), with an absent `iss` kept apart from every issuer:
/// tokens without `iss` share one namespace of `jti`s, so an application that mints such
/// tokens in several places must keep their `jti`s unique across them (random `jti`s do).
///
/// # Errors
///
/// [`RevocationError::Token`] with [`VerifyError::MissingClaim`] if the token has no `jti`
/// or no `exp` (revoke such tokens with [`revoke_subject`]); [`RevocationError::Store`] if
/// the store fails, including `Capacity`: the token is then **not** revoked.
pub async fn revoke_token<S>(
    store: &mut S,
    claims: &RegisteredClaims<'_>,
    leeway: u64,
    now: UnixTime,
) -> Result<(), RevocationError<S::Error>>
where
    S: RevocationStore + ?Sized,
{
    let (key, until) = token_entry(claims, leeway)?;
    store
        .revoke(&key, until, now)
        .await
        .map_err(RevocationError::Store)
}

/// Revokes every token from `issuer` (`None`: tokens without `iss`) about `subject` that
/// was issued at or before `cutoff`, and every such token without `iat`.
///
/// To log a subject out everywhere, pass `now` as the cutoff: tokens issued in this very
/// second are revoked too, so a new login should come a second later (or be a session).
/// The watermark is kept until `expires_at`: choose the moment by which every token issued
/// at or before `cutoff` has expired (the cutoff plus your longest token lifetime plus
/// leeway). Raising it again later only ever moves both times forward.
///
/// # Errors
///
/// [`RevocationError::Store`] if the store fails, including `Capacity`: nothing is then
/// revoked.
pub async fn revoke_subject<S>(
    store: &mut S,
    issuer: Option<&str>,
    subject: &str,
    cutoff: UnixTime,
    expires_at: UnixTime,
    now: UnixTime,
) -> Result<(), RevocationError<S::Error>>
where
    S: RevocationStore + ?Sized,
{
    store
        .raise_watermark(
            &LookupKey::for_watermark(issuer, subject),
            Watermark::new(cutoff, expires_at),
            now,
        )
        .await
        .map_err(RevocationError::Store)
}

/// Checks that a verified token has not been revoked: by `jti`, by its session (`sid`), or
/// by a watermark on its subject.
///
/// Everything is asked of the store in one call, [`RevocationStore::check_revoked`]: on
/// the Redis and SQL stores, one round trip per token, however many of `jti`, `sid` and
/// `sub` it has. A token with none of them can't have been revoked and passes without
/// asking the store.
///
/// Fails closed: a token without `iat` whose subject has a watermark is revoked, and a
/// store failure is an error, not a pass.
///
/// # Errors
///
/// [`RevocationError::Token`] with [`VerifyError::Revoked`] if it is revoked;
/// [`RevocationError::Store`] if the store fails (refuse the token then).
pub async fn check_not_revoked<S>(
    store: &mut S,
    claims: &RegisteredClaims<'_>,
    now: UnixTime,
) -> Result<(), RevocationError<S::Error>>
where
    S: RevocationStore + ?Sized,
{
    let token = claims
        .jti
        .map(|jti| LookupKey::for_revoked_token(claims.iss, jti));
    let family = claims.sid.map(LookupKey::for_revoked_family);
    let mark = claims
        .sub
        .map(|sub| LookupKey::for_watermark(claims.iss, sub));
    // The token's entries in the order they were checked one by one: `jti`, then `sid`.
    let both;
    let entries: &[LookupKey] = match (&token, &family) {
        (Some(token), Some(family)) => {
            both = [*token, *family];
            &both
        }
        (Some(one), None) | (None, Some(one)) => core::slice::from_ref(one),
        (None, None) => &[],
    };
    if entries.is_empty() && mark.is_none() {
        return Ok(());
    }
    let found = store
        .check_revoked(entries, mark.as_ref(), now)
        .await
        .map_err(RevocationError::Store)?;
    if found.revokes(claims.iat) {
        return Err(RevocationError::REVOKED);
    }
    Ok(())
}

/// [`verify`](crate::jwt::verify)s a token, then [`check_not_revoked`].
///
/// ```
/// use tokenstile::jwt::{self, Hs256Key, RevocationError, Validation};
/// use tokenstile::store::{block_on, MemoryStore};
/// use tokenstile::{Error, UnixTime, VerifyError};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Claims<'a> { sub: &'a str, jti: &'a str, iat: u64, exp: u64 }
///
/// let key = Hs256Key::new_from_slice(&[7u8; 32])?;
/// let now = UnixTime::from_secs(1_700_000_000);
/// let mut buf = [0u8; 256];
/// let claims = Claims { sub: "alice", jti: "t-1", iat: now.as_secs(), exp: now.as_secs() + 900 };
/// let token = jwt::sign(&key, &claims, &mut buf)?;
///
/// let mut store: MemoryStore<(), 8, 64> = MemoryStore::new();
/// let policy = Validation::new();
/// let mut scratch = [0u8; 256];
/// let verified = block_on(jwt::verify_not_revoked::<Claims, _, _>(
///     &key, token, &policy, &mut store, now, &mut scratch,
/// ))?;
///
/// // Log out: revoke this token until it expires.
/// block_on(jwt::revoke_token(&mut store, &verified.registered, policy.leeway, now))?;
/// let refused = block_on(jwt::verify_not_revoked::<Claims, _, _>(
///     &key, token, &policy, &mut store, now, &mut scratch,
/// ));
/// assert!(matches!(refused, Err(RevocationError::Token(Error::Verify(VerifyError::Revoked)))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`RevocationError::Token`] with the error of [`verify`](crate::jwt::verify), or with
/// [`VerifyError::Revoked`]; [`RevocationError::Store`] if the store fails.
pub async fn verify_not_revoked<'s, T, K, S>(
    keys: &K,
    token: &str,
    policy: &Validation<'_>,
    store: &mut S,
    now: UnixTime,
    scratch: &'s mut [u8],
) -> Result<Verified<'s, T>, RevocationError<S::Error>>
where
    T: Deserialize<'s>,
    K: VerifyingKeys + ?Sized,
    S: RevocationStore + ?Sized,
{
    let verified = crate::jwt::verify(keys, token, policy, now, scratch)?;
    check_not_revoked(store, &verified.registered, now).await?;
    Ok(verified)
}

/// A token was refused, or the revocation store failed.
///
/// `E` is the store's error type. Either way the token must not be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError<E> {
    /// The store failed; see its [`kind`](StoreError::kind).
    Store(E),
    /// The token is refused: [`VerifyError::Revoked`], a claim that revocation needs is
    /// missing, or (from [`verify_not_revoked`]) any verification error.
    Token(Error),
}

impl<E> RevocationError<E> {
    const REVOKED: Self = Self::Token(Error::Verify(VerifyError::Revoked));

    /// The HTTP status code to answer with: `401` for a refused token (send
    /// [`INVALID_TOKEN_CHALLENGE`](crate::http::INVALID_TOKEN_CHALLENGE) with it, as RFC
    /// 6750 says), `503` for [`Store`](Self::Store), `500` for an error of the caller
    /// rather than the token ([`Error::is_token_rejected`] false: a weak key, a buffer
    /// too small).
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::Token(e) if e.is_token_rejected() => 401,
            Self::Token(_) => 500,
            Self::Store(_) => 503,
        }
    }
}

impl<E> From<Error> for RevocationError<E> {
    fn from(e: Error) -> Self {
        Self::Token(e)
    }
}

impl<E> fmt::Display for RevocationError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(_) => f.write_str("revocation store failed"),
            Self::Token(e) => e.fmt(f),
        }
    }
}

impl<E: StoreError + 'static> core::error::Error for RevocationError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            Self::Token(e) => e.source(),
        }
    }
}

/// The revocation key of a token and how long to keep it.
fn token_entry<E>(
    claims: &RegisteredClaims<'_>,
    leeway: u64,
) -> Result<(LookupKey, UnixTime), RevocationError<E>> {
    let missing = |claim| RevocationError::Token(Error::Verify(VerifyError::MissingClaim(claim)));
    let jti = claims.jti.ok_or_else(|| missing(Claim::Jti))?;
    let exp = claims.exp.ok_or_else(|| missing(Claim::Exp))?;
    Ok((
        LookupKey::for_revoked_token(claims.iss, jti),
        exp.saturating_add(leeway),
    ))
}
