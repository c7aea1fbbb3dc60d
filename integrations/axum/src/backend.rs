//! The store behind a trait object, so extractors need not name the store type.
//!
//! Each operation clones the store handle (a cheap clone for every server store) and runs
//! the core crate's lifecycle or revocation function on it. Store errors are logged here,
//! once, by kind; callers only see a [`Refusal`].

use core::future::Future;
use core::pin::Pin;

use tokenstile::jwt::{self, RegisteredClaims, RevocationError};
use tokenstile::session::{Rotated, SessionError, SessionId, SessionPolicy};
use tokenstile::store::{RevocationStore, SessionRecord, SessionStore, StoreError};
use tokenstile::{Error, UnixTime, VerifyError};

use crate::rejection::Refusal;

/// A boxed `Send` future.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The session operations the extractors need, over an erased store.
pub(crate) trait SessionBackend<D>: Send + Sync {
    fn create<'a>(
        &'a self,
        policy: SessionPolicy,
        subject: &'a str,
        data: D,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<SessionId, Refusal>>;

    fn load<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<SessionRecord<D>, Refusal>>;

    fn save<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
        record: &'a mut SessionRecord<D>,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>>;

    fn rotate<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<Rotated<D>, Refusal>>;

    fn destroy<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
    ) -> BoxFuture<'a, Result<bool, Refusal>>;

    fn destroy_subject<'a>(
        &'a self,
        policy: SessionPolicy,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<usize, Refusal>>;
}

/// The JWT revocation operations, over an erased store.
pub(crate) trait RevocationBackend: Send + Sync {
    fn check<'a>(
        &'a self,
        claims: &'a RegisteredClaims<'a>,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>>;

    fn revoke_token<'a>(
        &'a self,
        claims: &'a RegisteredClaims<'a>,
        leeway: u64,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>>;

    fn revoke_subject<'a>(
        &'a self,
        issuer: Option<&'a str>,
        subject: &'a str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>>;
}

/// A store handle, erased.
pub(crate) struct Erased<S>(pub(crate) S);

/// Logs a store failure (its kind and message, which name no secret) and turns it into
/// [`Refusal::Unavailable`].
pub(crate) fn store_failed<E: StoreError>(error: &E) -> Refusal {
    tracing::error!(
        target: "tokenstile_axum",
        event = "store_error",
        kind = ?error.kind(),
        error = %error,
        "session store failed"
    );
    Refusal::Unavailable
}

fn session_refusal<E: StoreError>(error: SessionError<E>) -> Refusal {
    match error {
        SessionError::NotFound => Refusal::NoSession,
        SessionError::Expired => Refusal::SessionExpired,
        SessionError::LimitReached => Refusal::TooManySessions,
        SessionError::Stale => Refusal::Conflict,
        SessionError::Store(e) => store_failed(&e),
        _ => {
            tracing::error!(target: "tokenstile_axum", event = "internal_error", error = %error);
            Refusal::Internal
        }
    }
}

/// Classifies a refused or unverifiable token.
pub(crate) fn token_refusal(error: &Error) -> Refusal {
    match error {
        Error::Verify(VerifyError::Revoked) => Refusal::RevokedToken,
        Error::Verify(VerifyError::Expired) => Refusal::ExpiredToken,
        _ => Refusal::InvalidToken,
    }
}

fn revocation_refusal<E: StoreError>(error: RevocationError<E>) -> Refusal {
    match error {
        RevocationError::Store(e) => store_failed(&e),
        RevocationError::Token(e) => token_refusal(&e),
        _ => Refusal::Internal,
    }
}

impl<S, D> SessionBackend<D> for Erased<S>
where
    S: SessionStore<D> + Clone + Send + Sync,
    D: Send + Sync + 'static,
{
    fn create<'a>(
        &'a self,
        policy: SessionPolicy,
        subject: &'a str,
        data: D,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<SessionId, Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            let mut rng = getrandom::SysRng;
            policy
                .create(&mut store, &mut rng, subject, data, now)
                .await
                .map_err(session_refusal)
        })
    }

    fn load<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<SessionRecord<D>, Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            policy
                .load(&mut store, id, now)
                .await
                .map_err(session_refusal)
        })
    }

    fn save<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
        record: &'a mut SessionRecord<D>,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            policy
                .save(&mut store, id, record, now)
                .await
                .map_err(session_refusal)
        })
    }

    fn rotate<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<Rotated<D>, Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            let mut rng = getrandom::SysRng;
            policy
                .rotate(&mut store, &mut rng, id, now)
                .await
                .map_err(session_refusal)
        })
    }

    fn destroy<'a>(
        &'a self,
        policy: SessionPolicy,
        id: &'a SessionId,
    ) -> BoxFuture<'a, Result<bool, Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            policy
                .destroy::<D, S>(&mut store, id)
                .await
                .map_err(session_refusal)
        })
    }

    fn destroy_subject<'a>(
        &'a self,
        policy: SessionPolicy,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<usize, Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            policy
                .destroy_subject::<D, S>(&mut store, subject)
                .await
                .map_err(session_refusal)
        })
    }
}

impl<S> RevocationBackend for Erased<S>
where
    S: RevocationStore + Clone + Send + Sync,
{
    fn check<'a>(
        &'a self,
        claims: &'a RegisteredClaims<'a>,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            jwt::check_not_revoked(&mut store, claims, now)
                .await
                .map_err(revocation_refusal)
        })
    }

    fn revoke_token<'a>(
        &'a self,
        claims: &'a RegisteredClaims<'a>,
        leeway: u64,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            jwt::revoke_token(&mut store, claims, leeway, now)
                .await
                .map_err(revocation_refusal)
        })
    }

    fn revoke_subject<'a>(
        &'a self,
        issuer: Option<&'a str>,
        subject: &'a str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let mut store = self.0.clone();
            jwt::revoke_subject(&mut store, issuer, subject, now, expires_at, now)
                .await
                .map_err(revocation_refusal)
        })
    }
}
