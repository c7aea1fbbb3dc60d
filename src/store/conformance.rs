//! The conformance suite every store must pass (feature `conformance`).
//!
//! The suite is split along the store traits, so a store runs the parts for the traits it
//! implements:
//!
//! | function | for | checks |
//! |---|---|---|
//! | [`check_sessions`] | [`SessionStore`] | create, get, versioned update, touch, remove, expiry, rotation, listing a subject, ending one / all / all others, the per-subject limit, purging, capacity |
//! | [`check_revocations`] | [`RevocationStore`] | revocations and watermarks: never lowered, expiry, purging, capacity; `check_revoked` answering as the single calls do |
//! | [`check_store`] | both | both of the above, and that sessions never block a revocation |
//!
//! The suite works through the traits alone and never panics: the first violation comes
//! back as a [`ConformanceFailure`] naming the check and what was expected.
//!
//! Every time the suite uses is `now` plus an offset of at most a few hours, so a store
//! that expires entries by its own clock (a Redis TTL) passes if `now` is the real current
//! time. Keys and subjects are derived from `rng`, so runs against a shared backend don't
//! collide; sessions the suite creates are removed at the end of each check, while its
//! revocations and watermarks (which can't be removed) expire by `now` plus an hour and a
//! half. The suite purges the store at times up to `now` plus an hour, which ends entries
//! other code may still expect live: run it on a store of its own, one run at a time.
//!
//! A store with a capacity is filled to it, so test with a small one. The suite needs
//! room for five sessions (a subject's listing holds five at once) and for two revocations
//! and watermarks: each revocation check runs a thousand seconds after the one before,
//! when that one's entries have expired and their room is free again. A second run on the
//! same store from the same `now` also finds the first run's last entries live, so it
//! needs more room, or a `now` two hours later.
//!
//! Purging is checked by reading the entries a purge should have deleted at a time they
//! were live: what the purge reports must be what it deleted. A store with a capacity
//! must delete them; a store without one may leave them to expire on their own and report
//! 0, as the Redis store does, so for such a store the suite can't tell a purge that does
//! nothing from one that leaves the work to the backend.
//!
//! The functions are `async`: await them in your executor, or drive them with
//! [`block_on`](super::block_on) for an in-memory store.
//!
//! ```
//! use tokenstile::UnixTime;
//! use tokenstile::store::{block_on, conformance, MemoryStore};
//!
//! let mut store: MemoryStore<u32, 16, 16> = MemoryStore::new();
//! let now = UnixTime::from_secs(1_700_000_000);
//! // `sample(n)` must give different data for different `n`.
//! block_on(conformance::check_store(&mut store, &mut getrandom::SysRng, now, |n| n))?;
//! # Ok::<(), conformance::ConformanceFailure>(())
//! ```

mod revocations;
mod sessions;

use core::fmt;

use rand_core::TryCryptoRng;

use super::{
    LookupKey, RevocationStore, SessionStore, Store, StoreError, StoreErrorKind, SubjectKey,
};
use crate::time::UnixTime;

/// Runs the whole suite against a store of sessions and revocations.
///
/// `now` is the time the suite starts from; pass the real current time if the store
/// expires entries by its own clock. `sample(n)` must return different data for different
/// `n`.
///
/// # Errors
///
/// The first check that fails.
pub async fn check_store<D, S, R>(
    store: &mut S,
    rng: &mut R,
    now: UnixTime,
    sample: impl FnMut(u32) -> D,
) -> Result<(), ConformanceFailure>
where
    D: Clone + PartialEq + Send + Sync,
    S: SessionStore<D> + RevocationStore + ?Sized,
    R: TryCryptoRng + ?Sized,
{
    let mut suite = Suite::new(store, rng, now, sample);
    suite.sessions().await?;
    suite.revocations().await?;
    suite.sessions_never_block_revocations().await
}

/// Runs the session part of the suite.
///
/// Arguments as for [`check_store`].
///
/// # Errors
///
/// The first check that fails.
pub async fn check_sessions<D, S, R>(
    store: &mut S,
    rng: &mut R,
    now: UnixTime,
    sample: impl FnMut(u32) -> D,
) -> Result<(), ConformanceFailure>
where
    D: Clone + PartialEq + Send + Sync,
    S: SessionStore<D> + ?Sized,
    R: TryCryptoRng + ?Sized,
{
    Suite::new(store, rng, now, sample).sessions().await
}

/// Runs the revocation part of the suite.
///
/// Arguments as for [`check_store`].
///
/// # Errors
///
/// The first check that fails.
pub async fn check_revocations<S, R>(
    store: &mut S,
    rng: &mut R,
    now: UnixTime,
) -> Result<(), ConformanceFailure>
where
    S: RevocationStore + ?Sized,
    R: TryCryptoRng + ?Sized,
{
    Suite::new(store, rng, now, ()).revocations().await
}

/// A store broke the contract: which check, what it expected, and the store's error if
/// one was returned where none should have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConformanceFailure {
    check: &'static str,
    expected: &'static str,
    store_error: Option<StoreErrorKind>,
}

impl ConformanceFailure {
    /// The name of the failed check, for example `"rotate"`.
    #[must_use]
    pub const fn check(&self) -> &'static str {
        self.check
    }

    /// What the store should have done.
    #[must_use]
    pub const fn expected(&self) -> &'static str {
        self.expected
    }

    /// The kind of the error the store returned, if the failure was an unexpected error.
    #[must_use]
    pub const fn store_error(&self) -> Option<StoreErrorKind> {
        self.store_error
    }
}

impl fmt::Display for ConformanceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "store conformance check `{}` failed: {}",
            self.check, self.expected
        )?;
        match self.store_error {
            Some(kind) => write!(f, " (store error: {kind})"),
            None => Ok(()),
        }
    }
}

impl core::error::Error for ConformanceFailure {}

/// The state every check shares: the store, the key source, the start time, and the
/// sample data.
struct Suite<'a, S: ?Sized, R: ?Sized, F> {
    store: &'a mut S,
    rng: &'a mut R,
    now: UnixTime,
    sample: F,
}

impl<'a, S: ?Sized, R: TryCryptoRng + ?Sized, F> Suite<'a, S, R, F> {
    fn new(store: &'a mut S, rng: &'a mut R, now: UnixTime, sample: F) -> Self {
        Self {
            store,
            rng,
            now,
            sample,
        }
    }

    /// `now` plus `secs`.
    fn t(&self, secs: u64) -> UnixTime {
        self.now.saturating_add(secs)
    }

    /// Moves `now` on by [`WINDOW`], past every revocation and watermark the checks so far
    /// wrote: a check that follows finds them expired, and a store with little room has
    /// theirs back.
    fn next_window(&mut self) {
        self.now = self.t(WINDOW);
    }

    fn salt(&mut self, c: Check) -> Result<[u8; 32], ConformanceFailure> {
        let mut salt = [0; 32];
        self.rng
            .try_fill_bytes(&mut salt)
            .map_err(|_| c.fail("the RNG passed to the suite to work"))?;
        Ok(salt)
    }

    fn session_key(&mut self, c: Check) -> Result<LookupKey, ConformanceFailure> {
        Ok(LookupKey::for_session(&self.salt(c)?))
    }

    fn subject(&mut self, c: Check) -> Result<SubjectKey, ConformanceFailure> {
        Ok(SubjectKey::from_bytes(self.salt(c)?))
    }
}

/// How far apart in time the revocation checks run. Each writes revocations and
/// watermarks that expire within 700 seconds of its start, and they can't be removed: the
/// next check starts after they have expired, so they don't fill a small store.
const WINDOW: u64 = 1000;

/// The `n`th key derived from `salt`.
fn numbered_key(salt: &[u8; 32], n: usize) -> LookupKey {
    let mut bytes = *salt;
    let n = u64::try_from(n).unwrap_or(u64::MAX).to_le_bytes();
    bytes.iter_mut().zip(n).for_each(|(b, n)| *b ^= n);
    LookupKey::for_session(&bytes)
}

/// Builds failures for one named check.
#[derive(Clone, Copy)]
struct Check(&'static str);

impl Check {
    const fn fail(self, expected: &'static str) -> ConformanceFailure {
        ConformanceFailure {
            check: self.0,
            expected,
            store_error: None,
        }
    }

    fn ensure(self, condition: bool, expected: &'static str) -> Result<(), ConformanceFailure> {
        if condition {
            Ok(())
        } else {
            Err(self.fail(expected))
        }
    }

    /// The failure for a store error where something else was expected.
    fn store_error<E: StoreError>(self, e: &E, expected: &'static str) -> ConformanceFailure {
        ConformanceFailure {
            check: self.0,
            expected,
            store_error: Some(e.kind()),
        }
    }

    /// The value of a call that must succeed.
    fn ok<T, E: StoreError>(
        self,
        result: Result<T, E>,
        expected: &'static str,
    ) -> Result<T, ConformanceFailure> {
        result.map_err(|e| self.store_error(&e, expected))
    }

    /// A call that must succeed with exactly `want`.
    fn equal<T: PartialEq, E: StoreError>(
        self,
        result: Result<T, E>,
        want: &T,
        expected: &'static str,
    ) -> Result<(), ConformanceFailure> {
        let got = self.ok(result, expected)?;
        self.ensure(got == *want, expected)
    }

    /// That a purge at `at`, right after one at the same time, reports nothing deleted:
    /// the first left nothing dead, and the count is of entries deleted.
    async fn nothing_left_to_purge<S: Store + ?Sized>(
        self,
        store: &mut S,
        at: UnixTime,
    ) -> Result<(), ConformanceFailure> {
        self.equal(
            store.purge_expired(at).await,
            &0,
            "a second purge at the same time to report nothing deleted (the first left \
             nothing dead, and the count is of entries deleted)",
        )
    }

    /// That a purge which reported `purged` entries deleted counted exactly the dead
    /// entries it deleted, where the check planted the only entries dead at the purge's
    /// time, `before` of them were in the store before it and `after` are still there
    /// (seen by reading them at a time they were live).
    ///
    /// A store without a fixed capacity may leave dead entries to expire on their own (a
    /// Redis TTL) and report 0; a store with one holds its entries itself, and its purge
    /// must delete them.
    fn purged(
        self,
        purged: usize,
        before: usize,
        after: usize,
        capacity: Option<usize>,
    ) -> Result<(), ConformanceFailure> {
        self.ensure(
            Some(purged) == before.checked_sub(after),
            "purge_expired to report how many dead entries it deleted, and only those",
        )?;
        self.ensure(
            capacity.is_none() || after == 0,
            "purge_expired of a store with a fixed capacity to delete its dead entries",
        )
    }

    /// A call that must fail with `kind`.
    fn error_kind<T, E: StoreError>(
        self,
        result: Result<T, E>,
        kind: StoreErrorKind,
        expected: &'static str,
    ) -> Result<(), ConformanceFailure> {
        match result {
            Err(e) if e.kind() == kind => Ok(()),
            Err(e) => Err(self.store_error(&e, expected)),
            Ok(_) => Err(self.fail(expected)),
        }
    }
}
