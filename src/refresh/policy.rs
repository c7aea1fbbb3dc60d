//! The refresh-token lifecycle, written once over the storage traits.

use core::fmt;

use rand_core::TryCryptoRng;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::family::{Family, Presented};
use super::token::RefreshToken;
use crate::store::{
    CreateOutcome, KeepOnly, LookupKey, RevocationStore, SessionHandle, SessionRecord, SessionSink,
    SessionStore, StoreError, SubjectKey, SubjectLimit, UpdateOutcome, Watermark, WhenFull,
};
use crate::time::UnixTime;

/// How long access tokens, refresh tokens and families live; the refresh-token operations
/// are its methods.
///
/// - an **access token** (a JWT) lives [`access_lifetime`](Self::access_lifetime)
///   (default 15 minutes) and is checked without a store lookup of the family;
/// - a **refresh token** lives [`refresh_lifetime`](Self::refresh_lifetime) (default 14
///   days) unless used: each use replaces it;
/// - a **family** (one login on one device) ends [`family_lifetime`](Self::family_lifetime)
///   (default 30 days) after the login, however often it is refreshed.
///
/// ```
/// use tokenstile::refresh::RefreshPolicy;
///
/// let policy = RefreshPolicy::new().with_access_lifetime(5 * 60);
/// assert_eq!(policy.grace_period, 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Seconds an access token is valid. Default: 900 (15 minutes).
    pub access_lifetime: u64,
    /// Seconds a refresh token is valid if not used. Default: 1 209 600 (14 days).
    pub refresh_lifetime: u64,
    /// Seconds after the login at which a family ends, whatever its use. Default:
    /// 2 592 000 (30 days).
    pub family_lifetime: u64,
    /// Seconds after a refresh during which the refresh token it replaced gets
    /// [`RefreshError::Superseded`] rather than being treated as reused: while the clock
    /// (in whole seconds) has moved on by less than this. 0 turns the grace off: even a
    /// replay in the same second counts as reuse. Default: 10.
    pub grace_period: u64,
    /// The verification leeway of your [`Validation`](crate::jwt::Validation), in seconds,
    /// so revocations of access tokens last as long as verification could accept them.
    /// Default: 60, which covers a `Validation` with up to a minute of leeway (its own
    /// default is none); set it to yours if that is more.
    ///
    /// A revocation is timed by the `now` of the call that ends the family. A refresh
    /// racing with that call, whose `now` is later (a server whose clock runs ahead, or a
    /// request that read its clock a second later), issues an access token that outlives
    /// the revocation by the difference, unless this leeway exceeds the `Validation`'s by
    /// at least that much: keep a margin for the clock differences among your servers.
    pub leeway: u64,
    /// At most this many families (devices) per subject, or no limit. Default: none.
    ///
    /// With [`WhenFull::EndOldest`], a login past the limit ends the subject's oldest
    /// families, each as [`end_family`](Self::end_family) would: its refresh tokens stop
    /// working and every access token issued from it is revoked.
    ///
    /// The store counts the families by the deadlines stored in them: after a lifetime
    /// is shortened, families it ended (which [`refresh`](Self::refresh) and
    /// [`list`](Self::list) already treat as gone) count until those deadlines pass.
    pub subject_limit: Option<SubjectLimit>,
}

impl RefreshPolicy {
    /// The default policy: access tokens 15 minutes, refresh tokens 14 days, families 30
    /// days, a 10-second grace period, a 60-second leeway, no subject limit.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            access_lifetime: 15 * 60,
            refresh_lifetime: 14 * 24 * 60 * 60,
            family_lifetime: 30 * 24 * 60 * 60,
            grace_period: 10,
            leeway: 60,
            subject_limit: None,
        }
    }

    /// The same policy with another access-token lifetime, in seconds.
    #[must_use]
    pub const fn with_access_lifetime(mut self, secs: u64) -> Self {
        self.access_lifetime = secs;
        self
    }

    /// The same policy with another refresh-token lifetime, in seconds.
    #[must_use]
    pub const fn with_refresh_lifetime(mut self, secs: u64) -> Self {
        self.refresh_lifetime = secs;
        self
    }

    /// The same policy with another family lifetime, in seconds.
    #[must_use]
    pub const fn with_family_lifetime(mut self, secs: u64) -> Self {
        self.family_lifetime = secs;
        self
    }

    /// The same policy with another grace period, in seconds.
    #[must_use]
    pub const fn with_grace_period(mut self, secs: u64) -> Self {
        self.grace_period = secs;
        self
    }

    /// The same policy with another leeway, in seconds.
    #[must_use]
    pub const fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway = secs;
        self
    }

    /// The same policy with a limit on families per subject.
    #[must_use]
    pub const fn with_subject_limit(mut self, limit: SubjectLimit) -> Self {
        self.subject_limit = Some(limit);
        self
    }

    /// Logs `subject` in on one device: starts a family holding `data` and returns its
    /// first refresh token and the values for its first access token.
    ///
    /// Under a [subject limit](Self::subject_limit) that ends the oldest families, a login
    /// at the limit ends the oldest (by creation time), each as
    /// [`end_family`](Self::end_family) would, and tries again. The store enforces the
    /// limit itself, refusing: the policy, not the store, ends families, because only the
    /// policy revokes what they issued; it revokes a family's access tokens before it
    /// removes the family, so a failure never leaves an ended family's tokens valid.
    /// `data` is cloned for each attempt.
    ///
    /// The work is bounded: at most [`LOGIN_ATTEMPTS`](Self::LOGIN_ATTEMPTS) rounds of
    /// making room, each ending at most [`ENDED_PER_ROUND`](Self::ENDED_PER_ROUND)
    /// families. A subject further above a lowered limit than that is trimmed over several
    /// logins, each refused until the subject fits.
    ///
    /// # Errors
    ///
    /// [`RefreshError::Random`] if the RNG fails; [`RefreshError::LimitReached`] if the
    /// subject limit refuses, or if it ends the oldest but there is still no room after
    /// [`LOGIN_ATTEMPTS`](Self::LOGIN_ATTEMPTS) rounds (concurrent logins of the same
    /// subject took it, or the subject was far above a lowered limit);
    /// [`RefreshError::Store`] if the store fails (families ended before the failure stay
    /// ended, each with its access tokens revoked).
    pub async fn issue<D, S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        subject: &str,
        data: D,
        now: UnixTime,
    ) -> Result<Grant, RefreshError<S::Error>>
    where
        D: Clone + Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        let token = RefreshToken::generate(rng).map_err(|_| RefreshError::Random)?;
        let access = AccessGrant::new(rng, &token, now, self.access_lifetime)?;
        let key = token.family_key();
        let owner = SubjectKey::for_families(subject);
        let evicting = self
            .subject_limit
            .filter(|limit| limit.when_full() == WhenFull::EndOldest);
        // The store refuses; ending the oldest is done below, with its revocation.
        let limit = self.subject_limit.map(SubjectLimit::refusing);
        let mut rounds = 0u32;
        loop {
            let record = SessionRecord::new(
                owner,
                Family::new(data.clone(), token.secret_digest(), now),
                now,
                now.saturating_add(self.refresh_lifetime),
                now.saturating_add(self.family_lifetime),
            );
            let outcome = store
                .create(&key, record, limit, now)
                .await
                .map_err(RefreshError::Store)?;
            if !matches!(outcome, CreateOutcome::LimitReached) {
                return Ok(Grant {
                    refresh: token,
                    access,
                });
            }
            let Some(max) = evicting.map(|limit| limit.max()) else {
                return Err(RefreshError::LimitReached);
            };
            if rounds == Self::LOGIN_ATTEMPTS {
                return Err(RefreshError::LimitReached);
            }
            rounds = rounds.saturating_add(1);
            let mut oldest = Oldest::default();
            let live = store
                .list_subject(&owner, now, &mut oldest)
                .await
                .map_err(RefreshError::Store)?;
            // As many as the listing confirms above the limit, the new one counted. None
            // when it confirms no limit: a store may count what it doesn't list (Redis
            // counts an index entry whose key a clock ahead expired early), and a
            // concurrent logout may have made room.
            let excess = live.saturating_add(1).saturating_sub(max);
            for (_, handle) in oldest.0.iter().take(excess) {
                self.retire(store, handle, now).await?;
            }
        }
    }

    /// How many rounds of making room [`issue`](Self::issue) makes under a subject limit
    /// that ends the oldest families, before it gives up with
    /// [`RefreshError::LimitReached`].
    pub const LOGIN_ATTEMPTS: u32 = 8;

    /// How many of the oldest families [`issue`](Self::issue) ends at most in one round of
    /// making room.
    pub const ENDED_PER_ROUND: usize = 8;

    /// Exchanges `presented` for a new refresh token and a new access token, in one
    /// compare-and-swap on the family: the presented token is dead from this moment.
    ///
    /// What decides the outcome is which secret of its family `presented` holds:
    ///
    /// | presented | outcome |
    /// |---|---|
    /// | the current secret | a new grant |
    /// | the secret the latest refresh replaced, less than [`grace_period`](Self::grace_period) seconds ago | [`RefreshError::Superseded`]: a concurrent refresh won; nothing changes |
    /// | any other secret of a live family | [`RefreshError::Reused`]: the family is ended, and every access token issued from it revoked (or the store's error revoking them, in the variant) |
    ///
    /// Two refreshes of one token at once (two tabs) therefore end with exactly one new
    /// grant and one `Superseded`, never two live successors and never a silent end of the
    /// family. Only holders of one of the family's refresh tokens know its ID, so a secret
    /// the family no longer has is a stolen or replayed token.
    ///
    /// # Errors
    ///
    /// As in the table; [`RefreshError::Invalid`] if no live family has this token's ID
    /// (never issued, logged out, ended, or its refresh token expired);
    /// [`RefreshError::Expired`] if the family is past this policy's lifetimes (it is then
    /// ended); [`RefreshError::Random`] if the RNG fails; [`RefreshError::Store`] if the
    /// store fails.
    pub async fn refresh<D, S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        presented: &RefreshToken,
        now: UnixTime,
    ) -> Result<Refreshed<D>, RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        let key = presented.family_key();
        let digest = presented.secret_digest();
        let record = store
            .get(&key, now)
            .await
            .map_err(RefreshError::Store)?
            .ok_or(RefreshError::Invalid)?;
        if !self.is_live(&record, now) {
            self.retire(store, &SessionHandle::new(key), now).await?;
            return Err(RefreshError::Expired);
        }
        self.admit(store, &record, &digest, &key, now).await?;

        let next = presented.successor(rng).map_err(|_| RefreshError::Random)?;
        let access = AccessGrant::new(rng, &next, now, self.access_lifetime)?;
        let version = record.version();
        let Some(family) = record.into_data().rotated(next.secret_digest(), now) else {
            // Four billion refreshes: end the family rather than wrap the counter.
            self.retire(store, &SessionHandle::new(key), now).await?;
            return Err(RefreshError::Expired);
        };
        let idle_deadline = now.saturating_add(self.refresh_lifetime);
        match store
            .update(&key, version, &family, idle_deadline, now)
            .await
            .map_err(RefreshError::Store)?
        {
            UpdateOutcome::Updated { .. } => Ok(Refreshed {
                grant: Grant {
                    refresh: next,
                    access,
                },
                data: family.into_data(),
            }),
            UpdateOutcome::Stale => {
                // Another write came first: a concurrent refresh, or the end of the
                // family. Read again to tell which.
                let again = store
                    .get(&key, now)
                    .await
                    .map_err(RefreshError::Store)?
                    .ok_or(RefreshError::Invalid)?;
                self.admit(store, &again, &digest, &key, now).await?;
                // The presented secret is still current, so the write that came first
                // was not a refresh; a retry will succeed.
                Err(RefreshError::Superseded)
            }
            _ => Err(RefreshError::Invalid),
        }
    }

    /// Logs out the device that holds `token`: ends its family and revokes every access
    /// token issued from it. Reports whether the store held the family (live, or dead
    /// and not yet purged).
    ///
    /// Any token of the family will do, even a replaced one: whoever holds one may end it.
    ///
    /// A token of a family the store does not hold (never issued, already ended, or
    /// expired and purged) changes nothing and writes nothing: anyone can send made-up
    /// tokens here, and none of them takes a place in the revocation table. A family
    /// ended earlier had its access tokens revoked then; one that expired by its
    /// lifetimes issued its last access token at least
    /// [`refresh_lifetime`](Self::refresh_lifetime) ago, or, at the end of
    /// [`family_lifetime`](Self::family_lifetime), at most
    /// [`access_lifetime`](Self::access_lifetime) before, which stays valid until its
    /// `exp`.
    ///
    /// # Errors
    ///
    /// [`RefreshError::Store`] if the store fails: the family may then still be live, and
    /// logging out again ends it (a family the store gives out has its access tokens
    /// revoked before it is removed, so none is ever gone with its tokens valid).
    pub async fn logout<D, S>(
        &self,
        store: &mut S,
        token: &RefreshToken,
        now: UnixTime,
    ) -> Result<bool, RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
    {
        self.end_family_of(store, &SessionHandle::new(token.family_key()), None, now)
            .await
    }

    /// Ends the family `handle` names, if it is one of `subject`'s ("sign out of this
    /// device" on an account page), and revokes every access token issued from it.
    /// Reports whether it did; a handle of another subject's family ends nothing.
    ///
    /// # Errors
    ///
    /// [`RefreshError::Store`] if the store fails: the family may then still be live, and
    /// trying again ends it, as for [`logout`](Self::logout).
    pub async fn end_family<D, S>(
        &self,
        store: &mut S,
        subject: &str,
        handle: &SessionHandle,
        now: UnixTime,
    ) -> Result<bool, RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
    {
        let owner = SubjectKey::for_families(subject);
        self.end_family_of(store, handle, Some(&owner), now).await
    }

    /// Ends the family `handle` names, if it is `owner`'s (any owner's for `None`), and
    /// revokes its access tokens; reports whether it ended one.
    ///
    /// A family the store gives out has its tokens revoked before it is removed: should
    /// the revocation fail, the family is still there, and the next try ends it. Removed
    /// first, a failed revocation would leave nothing to try again with, and the tokens
    /// valid until their `exp`. A family the store does not give out writes nothing,
    /// unless the removal finds it after all (dead, but not yet purged).
    async fn end_family_of<D, S>(
        &self,
        store: &mut S,
        handle: &SessionHandle,
        owner: Option<&SubjectKey>,
        now: UnixTime,
    ) -> Result<bool, RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
    {
        let key = handle.lookup_key();
        let held = store
            .get(key, now)
            .await
            .map_err(RefreshError::Store)?
            .is_some_and(|record| owner.is_none_or(|owner| record.subject() == owner));
        if held {
            self.revoke_access(store, handle, now)
                .await
                .map_err(RefreshError::Store)?;
        }
        let ended = match owner {
            None => store.remove(key).await,
            Some(owner) => store.remove_owned(key, owner, now).await,
        }
        .map_err(RefreshError::Store)?;
        if ended && !held {
            self.revoke_access(store, handle, now)
                .await
                .map_err(RefreshError::Store)?;
        }
        Ok(ended)
    }

    /// Logs `subject` out everywhere: ends every family of the subject and revokes every
    /// access token about `subject` from `issuer` issued until now (a
    /// [watermark](crate::jwt::revoke_subject), so it covers access tokens issued by any
    /// means). Reports how many families it ended.
    ///
    /// Pass the `iss` and `sub` your access tokens carry.
    ///
    /// Times are whole seconds: a refresh that runs between the moment `now` was read
    /// and this call's removal of the families, in the next second, issues an access
    /// token with a later `iat` than the watermark covers, which stays valid until its
    /// `exp` (at most [`access_lifetime`](Self::access_lifetime)). Read `now` just
    /// before the call; where that window matters, pass `now` plus a second, which also
    /// revokes access tokens of a login in that second.
    ///
    /// # Errors
    ///
    /// [`RefreshError::Store`] if the store fails; families or tokens may then still be
    /// live.
    pub async fn logout_everywhere<D, S>(
        &self,
        store: &mut S,
        issuer: Option<&str>,
        subject: &str,
        now: UnixTime,
    ) -> Result<usize, RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
    {
        let ended = store
            .remove_subject(&SubjectKey::for_families(subject), None)
            .await
            .map_err(RefreshError::Store)?;
        let mark = Watermark::new(now, self.access_deadline(now));
        store
            .raise_watermark(&LookupKey::for_watermark(issuer, subject), mark, now)
            .await
            .map_err(RefreshError::Store)?;
        Ok(ended)
    }

    /// Lists the live families of `subject` ("where you're signed in") into `out`, and
    /// returns how many there are: those this policy's lifetimes leave live (a lifetime
    /// shortened since a family was written ends it here too). Each comes with its
    /// [`SessionHandle`], which is also the `sid` of the access tokens issued from it:
    /// compare it with [`RefreshToken::family`] to mark the current device, and pass it
    /// to [`end_family`](Self::end_family).
    ///
    /// # Errors
    ///
    /// [`RefreshError::Store`] if the store fails.
    pub async fn list<D, S, O>(
        &self,
        store: &mut S,
        subject: &str,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + ?Sized,
        O: SessionSink<Family<D>> + Send,
    {
        let mut live = KeepOnly::new(out, |record: &SessionRecord<Family<D>>| {
            self.is_live(record, now)
        });
        store
            .list_subject(&SubjectKey::for_families(subject), now, &mut live)
            .await
            .map_err(RefreshError::Store)?;
        Ok(live.kept())
    }

    /// Lets a refresh with a secret of `digest` go ahead, or ends the family (a reused
    /// token) and says why not.
    async fn admit<D, S>(
        &self,
        store: &mut S,
        record: &SessionRecord<Family<D>>,
        digest: &[u8; 32],
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<(), RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
    {
        match record.data().classify(digest, now, self.grace_period) {
            Presented::Current => Ok(()),
            Presented::JustRotated => Err(RefreshError::Superseded),
            Presented::Reused => {
                // Should revoking its access tokens fail once the family is gone, the reuse
                // is still what is reported, with that failure.
                let revocation = self.end(store, key, now).await?;
                Err(RefreshError::Reused {
                    family: SessionHandle::new(*key),
                    revocation,
                })
            }
        }
    }

    /// Ends the family under `key`, which the caller has just read and found reused, and
    /// revokes its access tokens, also when a concurrent call removed the family first.
    /// The family goes first, so a failure in between can't leave it able to mint tokens
    /// (the families [`retire`](Self::retire) ends aren't suspect, so theirs go last). The
    /// outer error is the removal's (nothing changed); the inner result is the
    /// revocation's, for the caller to report as it needs.
    async fn end<D, S>(
        &self,
        store: &mut S,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Result<(), S::Error>, RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
    {
        store.remove(key).await.map_err(RefreshError::Store)?;
        Ok(self
            .revoke_access(store, &SessionHandle::new(*key), now)
            .await)
    }

    /// Ends `family`, which can mint no more access tokens (it is past this policy's
    /// lifetimes, or at its last generation) or is made room for by a new login, revoking
    /// its tokens first: should that fail, the family stays with its access tokens
    /// refused, never gone with them valid, and the next refresh or login tries again.
    async fn retire<D, S>(
        &self,
        store: &mut S,
        family: &SessionHandle,
        now: UnixTime,
    ) -> Result<(), RefreshError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<Family<D>> + RevocationStore + ?Sized,
    {
        self.revoke_access(store, family, now)
            .await
            .map_err(RefreshError::Store)?;
        store
            .remove(family.lookup_key())
            .await
            .map_err(RefreshError::Store)?;
        Ok(())
    }

    /// Revokes every access token whose `sid` is `family`, for as long as one issued up
    /// to now can be accepted.
    async fn revoke_access<S>(
        &self,
        store: &mut S,
        family: &SessionHandle,
        now: UnixTime,
    ) -> Result<(), S::Error>
    where
        S: RevocationStore + ?Sized,
    {
        let mut sid = [0u8; SessionHandle::ENCODED_LEN];
        let key = LookupKey::for_revoked_family(family.encode(&mut sid));
        store.revoke(&key, self.access_deadline(now), now).await
    }

    /// When the last access token issued at or before `now` stops being accepted.
    fn access_deadline(&self, now: UnixTime) -> UnixTime {
        now.saturating_add(self.access_lifetime)
            .saturating_add(self.leeway)
    }

    /// Whether the family is alive at `now` by its record and by this policy.
    fn is_live<D>(&self, record: &SessionRecord<Family<D>>, now: UnixTime) -> bool {
        record.is_live(now)
            && now < record.created().saturating_add(self.family_lifetime)
            && now
                < record
                    .data()
                    .rotated_at()
                    .saturating_add(self.refresh_lifetime)
    }
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self::new()
    }
}

/// A refresh token and the values of the access token that goes with it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Grant {
    /// The new refresh token: send it to the client (in a cookie or the response body).
    pub refresh: RefreshToken,
    /// The values for the new access token.
    pub access: AccessGrant,
}

/// The result of a successful [`RefreshPolicy::refresh`].
///
/// It holds no subject: the store keeps only a digest of it. The family's data `D` is
/// where to keep the subject (and anything else the new access token's claims need).
///
/// `Debug` shows the grant (itself redacted) but not the application data, as
/// [`SessionRecord`]'s keeps a session's data out.
#[non_exhaustive]
pub struct Refreshed<D> {
    /// The new refresh token and access-token values.
    pub grant: Grant,
    /// The family's application data, to fill the new access token's claims.
    pub data: D,
}

impl<D> fmt::Debug for Refreshed<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refreshed")
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

/// The values an access token issued from a family carries: its `sid` (the family's
/// handle), a fresh random `jti`, `iat` and `exp`.
///
/// Put them into your claims type, or sign [`claims`](Self::claims) as they are, with
/// [`jwt::sign`](crate::jwt::sign). [`jwt::verify_not_revoked`](crate::jwt::verify_not_revoked)
/// then refuses the token once its family has ended.
#[derive(Clone, Copy)]
pub struct AccessGrant {
    sid: [u8; SessionHandle::ENCODED_LEN],
    jti: [u8; JTI_LEN],
    iat: UnixTime,
    exp: UnixTime,
}

impl AccessGrant {
    fn new<R, E>(
        rng: &mut R,
        token: &RefreshToken,
        now: UnixTime,
        lifetime: u64,
    ) -> Result<Self, RefreshError<E>>
    where
        R: TryCryptoRng + ?Sized,
    {
        let mut id = [0u8; 16];
        rng.try_fill_bytes(&mut id)
            .map_err(|_| RefreshError::Random)?;
        let mut grant = Self {
            sid: [0; SessionHandle::ENCODED_LEN],
            jti: [0; JTI_LEN],
            iat: now,
            exp: now.saturating_add(lifetime),
        };
        token.family().encode(&mut grant.sid);
        // 16 bytes are exactly `JTI_LEN` characters of unpadded base64url.
        crate::b64::encode(&id, &mut grant.jti).map_err(|_| RefreshError::Random)?;
        Ok(grant)
    }

    /// The `sid` claim: the family's [`SessionHandle`] in text form.
    #[must_use]
    pub fn sid(&self) -> &str {
        // Written by `SessionHandle::encode`: ASCII.
        core::str::from_utf8(&self.sid).unwrap_or_default()
    }

    /// The `jti` claim: 128 random bits in base64url.
    #[must_use]
    pub fn jti(&self) -> &str {
        // Written by the base64url encoder: ASCII.
        core::str::from_utf8(&self.jti).unwrap_or_default()
    }

    /// The `iat` claim.
    #[must_use]
    pub const fn iat(&self) -> UnixTime {
        self.iat
    }

    /// The `exp` claim.
    #[must_use]
    pub const fn exp(&self) -> UnixTime {
        self.exp
    }

    /// The registered claims of the access token, for `subject` from `issuer`, ready for
    /// [`jwt::sign`](crate::jwt::sign).
    #[must_use]
    pub fn claims<'a>(&'a self, issuer: Option<&'a str>, subject: &'a str) -> AccessClaims<'a> {
        AccessClaims {
            iss: issuer,
            aud: &[],
            sub: subject,
            sid: self.sid(),
            jti: self.jti(),
            iat: self.iat.as_secs(),
            exp: self.exp.as_secs(),
        }
    }
}

impl fmt::Debug for AccessGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessGrant")
            .field("sid", &self.sid())
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// The claims of an access token issued from a family: `iss` (if any), `aud` (if any),
/// `sub`, `sid`, `jti`, `iat` and `exp`. Serializes as a JSON object for
/// [`jwt::sign`](crate::jwt::sign).
///
/// A token is only as good as the policy that verifies it accepts: where that
/// [`Validation`](crate::jwt::Validation) requires audiences, name them with
/// [`with_audiences`](Self::with_audiences).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessClaims<'a> {
    /// `iss`, left out when `None`.
    pub iss: Option<&'a str>,
    /// `aud`: one audience is written as a string, several as an array, none left out.
    pub aud: &'a [&'a str],
    /// `sub`.
    pub sub: &'a str,
    /// `sid`: the family's handle.
    pub sid: &'a str,
    /// `jti`.
    pub jti: &'a str,
    /// `iat`, in Unix seconds.
    pub iat: u64,
    /// `exp`, in Unix seconds.
    pub exp: u64,
}

impl<'a> AccessClaims<'a> {
    /// These claims with `aud` naming `audiences`, such as the
    /// [`audiences`](crate::jwt::Validation::audiences) of the policy that will verify the
    /// token.
    #[must_use]
    pub const fn with_audiences(mut self, audiences: &'a [&'a str]) -> Self {
        self.aud = audiences;
        self
    }
}

impl Serialize for AccessClaims<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = 5usize
            .saturating_add(usize::from(self.iss.is_some()))
            .saturating_add(usize::from(!self.aud.is_empty()));
        let mut s = serializer.serialize_struct("AccessClaims", fields)?;
        match self.iss {
            Some(iss) => s.serialize_field("iss", iss)?,
            None => s.skip_field("iss")?,
        }
        match self.aud {
            [] => s.skip_field("aud")?,
            [one] => s.serialize_field("aud", one)?,
            many => s.serialize_field("aud", many)?,
        }
        s.serialize_field("sub", self.sub)?;
        s.serialize_field("sid", self.sid)?;
        s.serialize_field("jti", self.jti)?;
        s.serialize_field("iat", &self.iat)?;
        s.serialize_field("exp", &self.exp)?;
        s.end()
    }
}

/// A refresh-token operation failed.
///
/// `E` is the store's error type. Every variant but `Store` and `Random` means "this
/// refresh token gets no new tokens": `Reused` is the one to log as a security event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshError<E> {
    /// The family is past the policy's lifetimes. It has been ended.
    Expired,
    /// No live family has this token's ID: never issued, logged out, ended, or its refresh
    /// token expired.
    Invalid,
    /// The subject already has as many families as the policy's subject limit allows, and
    /// the limit refuses more.
    LimitReached,
    /// The random number generator failed. Its own error is not kept.
    Random,
    /// A refresh token the family no longer has was presented: stolen, or replayed. The
    /// family has been ended and, if `revocation` is `Ok`, every access token issued from
    /// it revoked. Log it; the user must log in again.
    Reused {
        /// The family that was ended.
        family: SessionHandle,
        /// Whether revoking the family's access tokens succeeded: the store's error if it
        /// failed (a full revocation table, a lost connection). The family is ended all
        /// the same, but its access tokens then stay valid until they expire: log the
        /// error with the reuse.
        revocation: Result<(), E>,
    },
    /// The store failed; see its [`kind`](StoreError::kind).
    Store(E),
    /// A concurrent refresh of the same token won a moment ago (within the grace period):
    /// nothing changed. Use the refresh token that refresh issued (a browser's cookie jar
    /// already holds it); don't retry with this one after the grace period, or it counts
    /// as reused.
    Superseded,
}

impl<E> RefreshError<E> {
    /// The HTTP status code to answer with: `401` for [`Invalid`](Self::Invalid),
    /// [`Expired`](Self::Expired) and [`Reused`](Self::Reused) (log in again; clear the
    /// refresh cookie), `409` for [`Superseded`](Self::Superseded) (another request
    /// refreshed a moment ago: keep the cookie the client now holds, and retry once),
    /// `403` for [`LimitReached`](Self::LimitReached), `503` for [`Store`](Self::Store),
    /// `500` for [`Random`](Self::Random).
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::Invalid | Self::Expired | Self::Reused { .. } => 401,
            Self::Superseded => 409,
            Self::LimitReached => 403,
            Self::Store(_) => 503,
            Self::Random => 500,
        }
    }
}

impl<E> fmt::Display for RefreshError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Expired => "refresh token family expired",
            Self::Invalid => "no such refresh token",
            Self::LimitReached => "too many logins for this subject",
            Self::Random => "random number generator failed",
            Self::Reused {
                revocation: Ok(()), ..
            } => "refresh token reused: its family was ended",
            Self::Reused { .. } => {
                "refresh token reused: its family was ended, but revoking its access tokens failed"
            }
            Self::Store(_) => "refresh token store failed",
            Self::Superseded => "refresh token was just replaced by a concurrent refresh",
        })
    }
}

impl<E: StoreError + 'static> core::error::Error for RefreshError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Store(e)
            | Self::Reused {
                revocation: Err(e), ..
            } => Some(e),
            _ => None,
        }
    }
}

/// Keeps the handles of the [`RefreshPolicy::ENDED_PER_ROUND`] oldest families
/// [`SessionStore::list_subject`] hands it, oldest first: the earliest created, the smaller
/// handle on a tie (the order stores end sessions in under [`WhenFull::EndOldest`]).
#[derive(Default)]
struct Oldest(heapless::Vec<(UnixTime, SessionHandle), { RefreshPolicy::ENDED_PER_ROUND }>);

impl<D> SessionSink<Family<D>> for Oldest {
    fn push(&mut self, handle: SessionHandle, record: SessionRecord<Family<D>>) {
        let order = (record.created(), *handle.as_bytes());
        // Where it goes among those kept (sorted), if it is among the oldest at all.
        let at = self
            .0
            .iter()
            .position(|(created, kept)| order < (*created, *kept.as_bytes()))
            .unwrap_or(self.0.len());
        if at == RefreshPolicy::ENDED_PER_ROUND {
            return;
        }
        if self.0.is_full() {
            self.0.pop();
        }
        // Room was made above, and `at` is at most the length: the insert can't fail.
        let _ = self.0.insert(at, (record.created(), handle));
    }
}

/// Length of a `jti`: 16 random bytes in unpadded base64url.
const JTI_LEN: usize = 22;
