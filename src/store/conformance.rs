//! The conformance suite every store must pass (feature `conformance`).
//!
//! Call [`check_store`] (or [`check_async_store`]) from your store's tests. The suite
//! exercises the [`SessionStore`] contract through the trait alone: create, get, update,
//! touch and remove; create never overwriting; expiry; rotation (the old key gone, the new
//! one holding the same record, a rotation onto a live key refused with both left intact);
//! removing a subject's sessions; revocations and watermarks with their expiry; purging;
//! and, for stores that report a [`capacity`](SessionStore::capacity), behaviour when
//! full.
//!
//! The suite never panics: the first violation comes back as a [`ConformanceFailure`]
//! naming the check and what was expected.
//!
//! Every time the suite uses is `now` plus an offset of at most a few hours, so a store
//! that expires entries by its own clock (a Redis TTL) passes if `now` is the real current
//! time. Keys are derived from `rng`, so runs against a shared backend don't collide;
//! sessions the suite creates are removed at the end of each check, while its revocations
//! and watermarks (which can't be removed) expire within a few minutes of `now`. A store
//! with a capacity is filled to it, so test with a small one.
//!
//! ```
//! use tokenstile::UnixTime;
//! use tokenstile::store::{MemoryStore, conformance};
//! # struct Rng(u64);
//! # impl rand_core::TryRng for Rng {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { let mut b = [0; 4]; self.try_fill_bytes(&mut b)?; Ok(u32::from_le_bytes(b)) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { let mut b = [0; 8]; self.try_fill_bytes(&mut b)?; Ok(u64::from_le_bytes(b)) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst {
//! #             self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
//! #             *b = (self.0 >> 56) as u8;
//! #         }
//! #         Ok(())
//! #     }
//! # }
//! # impl rand_core::TryCryptoRng for Rng {}
//! # let mut rng = Rng(1);
//!
//! let mut store: MemoryStore<u32, 16> = MemoryStore::new();
//! // `sample(n)` must give different data for different `n`.
//! conformance::check_store(&mut store, &mut rng, UnixTime::from_secs(1_700_000_000), |n| n)?;
//! # Ok::<(), conformance::ConformanceFailure>(())
//! ```

use core::fmt;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use rand_core::CryptoRng;

use super::{AsyncSessionStore, LookupKey, SessionStore, StoreError, StoreErrorKind};
use super::{SubjectKey, Watermark};
use crate::session::{SessionId, SessionRecord};
use crate::time::UnixTime;

/// Runs the whole suite against a synchronous store.
///
/// `now` is the time the suite starts from; pass the real current time if the store
/// expires entries by its own clock. `sample(n)` must return different data for different
/// `n`.
///
/// # Errors
///
/// The first check that fails.
pub fn check_store<S, R>(
    store: &mut S,
    rng: &mut R,
    now: UnixTime,
    sample: impl FnMut(u32) -> S::Data,
) -> Result<(), ConformanceFailure>
where
    S: SessionStore,
    S::Data: Clone + PartialEq,
    R: CryptoRng + ?Sized,
{
    // A synchronous store's futures are ready at once, so one poll runs the suite.
    let suite = pin!(check_async_store(store, rng, now, sample));
    match suite.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(ConformanceFailure::new(
            "synchronous",
            "a synchronous store's operation did not complete at once",
        )),
    }
}

/// Runs the whole suite against an async store; await it in your executor.
///
/// Arguments as for [`check_store`].
///
/// # Errors
///
/// The first check that fails.
pub async fn check_async_store<S, R>(
    store: &mut S,
    rng: &mut R,
    now: UnixTime,
    sample: impl FnMut(u32) -> S::Data,
) -> Result<(), ConformanceFailure>
where
    S: AsyncSessionStore,
    S::Data: Clone + PartialEq,
    R: CryptoRng + ?Sized,
{
    let mut suite = Suite {
        store,
        rng,
        now,
        sample,
    };
    suite.create_get_update_remove().await?;
    suite.create_never_overwrites().await?;
    suite.expiry().await?;
    suite.touch().await?;
    suite.rotate().await?;
    suite.remove_subject().await?;
    suite.revocation().await?;
    suite.watermark().await?;
    suite.purge_expired().await?;
    suite.capacity().await?;
    Ok(())
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

    const fn new(check: &'static str, expected: &'static str) -> Self {
        Self {
            check,
            expected,
            store_error: None,
        }
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

struct Suite<'a, S: ?Sized, R: ?Sized, F> {
    store: &'a mut S,
    rng: &'a mut R,
    now: UnixTime,
    sample: F,
}

impl<S, R, F> Suite<'_, S, R, F>
where
    S: AsyncSessionStore + ?Sized,
    S::Data: Clone + PartialEq,
    R: CryptoRng + ?Sized,
    F: FnMut(u32) -> S::Data,
{
    async fn create_get_update_remove(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("create_get_update_remove");
        let key = self.session_key();
        let subject = self.subject();
        let first = self.record(&subject, 1, 1000, 2000);
        let second = self.record(&subject, 2, 1000, 2000);
        let now = self.now;

        let absent = self.store.get(&key, now).await;
        c.ensure(
            c.ok(absent, "get of an unknown key")?.is_none(),
            "an unknown key to be absent",
        )?;
        let missing = self.store.update(&key, second.clone(), now).await;
        c.ensure(
            !c.ok(missing, "update of an unknown key")?,
            "update of an unknown key to return false",
        )?;
        let absent = self.store.get(&key, now).await;
        c.ensure(
            c.ok(absent, "get")?.is_none(),
            "update not to create an entry",
        )?;

        let created = self.store.create(&key, first.clone(), now).await;
        c.ok(created, "create to succeed")?;
        let got = self.store.get(&key, now).await;
        c.ensure(
            c.ok(got, "get")?.as_ref() == Some(&first),
            "get to return the created record",
        )?;

        let updated = self.store.update(&key, second.clone(), now).await;
        c.ensure(
            c.ok(updated, "update")?,
            "update of a live session to return true",
        )?;
        let got = self.store.get(&key, now).await;
        c.ensure(
            c.ok(got, "get")?.as_ref() == Some(&second),
            "get to return the updated record",
        )?;

        let removed = self.store.remove(&key).await;
        c.ensure(
            c.ok(removed, "remove")?,
            "remove of a live session to return true",
        )?;
        let got = self.store.get(&key, now).await;
        c.ensure(c.ok(got, "get")?.is_none(), "a removed session to be gone")?;
        let removed = self.store.remove(&key).await;
        c.ensure(!c.ok(removed, "remove")?, "a second remove to return false")?;
        let updated = self.store.update(&key, second, now).await;
        c.ensure(
            !c.ok(updated, "update")?,
            "update never to resurrect a removed session",
        )?;
        let got = self.store.get(&key, now).await;
        c.ensure(
            c.ok(got, "get")?.is_none(),
            "update never to resurrect a removed session",
        )
    }

    async fn create_never_overwrites(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("create_never_overwrites");
        let key = self.session_key();
        let subject = self.subject();
        let first = self.record(&subject, 1, 1000, 2000);
        let intruder = self.record(&subject, 2, 1000, 2000);
        let now = self.now;

        let created = self.store.create(&key, first.clone(), now).await;
        c.ok(created, "create to succeed")?;
        let again = self
            .store
            .create(&key, intruder, now.saturating_add(1))
            .await;
        c.error_kind(
            again,
            StoreErrorKind::Conflict,
            "a second create under a live key to fail with Conflict",
        )?;
        let got = self.store.get(&key, now.saturating_add(1)).await;
        c.ensure(
            c.ok(got, "get")?.as_ref() == Some(&first),
            "the first record to survive a conflicting create",
        )?;
        self.cleanup(&[key], c).await
    }

    async fn expiry(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("expiry");
        let idle = self.session_key();
        let absolute = self.session_key();
        let subject = self.subject();
        // One dies at its idle deadline, the other at its absolute deadline.
        let by_idle = self.record(&subject, 1, 100, 200);
        let by_absolute = self.record(&subject, 2, 200, 100);
        let now = self.now;
        let before = now.saturating_add(99);
        let at = now.saturating_add(100);

        for (key, record) in [(&idle, by_idle), (&absolute, by_absolute)] {
            let created = self.store.create(key, record, now).await;
            c.ok(created, "create to succeed")?;
            let got = self.store.get(key, before).await;
            c.ensure(
                c.ok(got, "get")?.is_some(),
                "a session to be live before its deadline",
            )?;
            let got = self.store.get(key, at).await;
            c.ensure(
                c.ok(got, "get")?.is_none(),
                "get not to return a session at its deadline",
            )?;
            let replacement = self.record(&subject, 3, 1000, 1000);
            let updated = self.store.update(key, replacement, at).await;
            c.ensure(
                !c.ok(updated, "update")?,
                "update of an expired session to return false",
            )?;
            let touched = self.store.touch(key, now.saturating_add(1000), at).await;
            c.ensure(
                !c.ok(touched, "touch")?,
                "touch of an expired session to return false",
            )?;
            let got = self.store.get(key, at).await;
            c.ensure(
                c.ok(got, "get")?.is_none(),
                "update and touch not to revive an expired session",
            )?;
            let rotate_to = self.session_key();
            let rotated = self.store.rotate(key, &rotate_to, at).await;
            c.ensure(
                c.ok(rotated, "rotate")?.is_none(),
                "rotate of an expired session to return None",
            )?;
            let got = self.store.get(&rotate_to, now).await;
            c.ensure(
                c.ok(got, "get")?.is_none(),
                "a refused rotation not to create the new key",
            )?;
        }
        self.cleanup(&[idle, absolute], c).await
    }

    async fn touch(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("touch");
        let key = self.session_key();
        let subject = self.subject();
        let record = self.record(&subject, 1, 100, 1000);
        let now = self.now;
        let t = |secs| now.saturating_add(secs);

        let created = self.store.create(&key, record.clone(), now).await;
        c.ok(created, "create to succeed")?;
        let touched = self.store.touch(&key, t(150), t(50)).await;
        c.ensure(
            c.ok(touched, "touch")?,
            "touch of a live session to return true",
        )?;
        let got = c.ok(self.store.get(&key, t(120)).await, "get")?;
        let Some(got) = got else {
            return Err(c.fail("a touched session to outlive its old idle deadline"));
        };
        c.ensure(
            got.last_seen() == t(50) && got.idle_deadline() == t(150),
            "touch to set last_seen and the idle deadline",
        )?;
        c.ensure(
            got.data() == record.data()
                && got.absolute_deadline() == record.absolute_deadline()
                && got.created() == record.created()
                && got.subject() == record.subject(),
            "touch to leave the data, subject, creation time and absolute deadline alone",
        )?;

        // An older touch arriving late moves nothing backwards.
        let touched = self.store.touch(&key, t(120), t(40)).await;
        c.ensure(
            c.ok(touched, "touch")?,
            "touch of a live session to return true",
        )?;
        let got = c.ok(self.store.get(&key, t(60)).await, "get")?;
        c.ensure(
            got.is_some_and(|r| r.last_seen() == t(50) && r.idle_deadline() == t(150)),
            "touch never to move last_seen or the idle deadline backwards",
        )?;

        let removed = self.store.remove(&key).await;
        c.ok(removed, "remove")?;
        let touched = self.store.touch(&key, t(500), t(60)).await;
        c.ensure(
            !c.ok(touched, "touch")?,
            "touch of a removed session to return false",
        )?;
        let got = self.store.get(&key, t(60)).await;
        c.ensure(
            c.ok(got, "get")?.is_none(),
            "touch never to resurrect a removed session",
        )
    }

    async fn rotate(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("rotate");
        let old = self.session_key();
        let new = self.session_key();
        let other = self.session_key();
        let subject = self.subject();
        let record = self.record(&subject, 1, 1000, 2000);
        let occupant = self.record(&subject, 2, 1000, 2000);
        let now = self.now;

        let created = self.store.create(&old, record.clone(), now).await;
        c.ok(created, "create to succeed")?;
        let rotated = self.store.rotate(&old, &new, now).await;
        c.ensure(
            c.ok(rotated, "rotate")?.as_ref() == Some(&record),
            "rotate to return the moved record",
        )?;
        let got = self.store.get(&old, now).await;
        c.ensure(
            c.ok(got, "get")?.is_none(),
            "the old key to be gone after a rotation",
        )?;
        let got = self.store.get(&new, now).await;
        c.ensure(
            c.ok(got, "get")?.as_ref() == Some(&record),
            "the new key to hold the unchanged record",
        )?;
        let rotated = self.store.rotate(&old, &other, now).await;
        c.ensure(
            c.ok(rotated, "rotate")?.is_none(),
            "rotating a key that is gone to return None",
        )?;
        let got = self.store.get(&other, now).await;
        c.ensure(
            c.ok(got, "get")?.is_none(),
            "a refused rotation not to create the new key",
        )?;

        // Onto a live session: refused, both intact.
        let created = self.store.create(&other, occupant.clone(), now).await;
        c.ok(created, "create to succeed")?;
        let rotated = self.store.rotate(&new, &other, now).await;
        c.error_kind(
            rotated,
            StoreErrorKind::Conflict,
            "rotating onto a live session to fail with Conflict",
        )?;
        let got = self.store.get(&new, now).await;
        c.ensure(
            c.ok(got, "get")?.as_ref() == Some(&record),
            "a conflicting rotation to leave the source intact",
        )?;
        let got = self.store.get(&other, now).await;
        c.ensure(
            c.ok(got, "get")?.as_ref() == Some(&occupant),
            "a conflicting rotation to leave the target intact",
        )?;
        let rotated = self.store.rotate(&new, &new, now).await;
        c.error_kind(
            rotated,
            StoreErrorKind::Conflict,
            "rotating a session onto itself to fail with Conflict",
        )?;
        let got = self.store.get(&new, now).await;
        c.ensure(
            c.ok(got, "get")?.as_ref() == Some(&record),
            "rotating onto itself to leave the session intact",
        )?;
        self.cleanup(&[new, other], c).await
    }

    async fn remove_subject(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("remove_subject");
        let doomed = self.subject();
        let bystander = self.subject();
        let keys = [self.session_key(), self.session_key(), self.session_key()];
        let rotated_to = self.session_key();
        let spared = self.session_key();
        let now = self.now;

        for (n, key) in (0..).zip(&keys) {
            let record = self.record(&doomed, n, 1000, 2000);
            let created = self.store.create(key, record, now).await;
            c.ok(created, "create to succeed")?;
        }
        let record = self.record(&bystander, 9, 1000, 2000);
        let created = self.store.create(&spared, record, now).await;
        c.ok(created, "create to succeed")?;
        // A rotated session still belongs to its subject.
        let [rotated_from, ..] = &keys;
        let rotated = self.store.rotate(rotated_from, &rotated_to, now).await;
        c.ensure(c.ok(rotated, "rotate")?.is_some(), "rotate to succeed")?;

        let removed = self.store.remove_subject(&doomed).await;
        c.ensure(
            c.ok(removed, "remove_subject")? == 3,
            "remove_subject to report its three live sessions",
        )?;
        for key in keys.iter().chain([&rotated_to]) {
            let got = self.store.get(key, now).await;
            c.ensure(
                c.ok(got, "get")?.is_none(),
                "every session of the subject, rotated ones too, to be gone",
            )?;
        }
        let got = self.store.get(&spared, now).await;
        c.ensure(
            c.ok(got, "get")?.is_some(),
            "other subjects' sessions to survive",
        )?;
        let removed = self.store.remove_subject(&doomed).await;
        c.ensure(
            c.ok(removed, "remove_subject")? == 0,
            "a second remove_subject to find nothing",
        )?;
        self.cleanup(&[spared], c).await
    }

    async fn revocation(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("revocation");
        let key = self.revocation_key();
        let unknown = self.revocation_key();
        let stale = self.revocation_key();
        let now = self.now;
        let t = |secs| now.saturating_add(secs);

        let revoked = self.store.is_revoked(&key, now).await;
        c.ensure(
            !c.ok(revoked, "is_revoked")?,
            "an unknown token not to be revoked",
        )?;
        let stored = self.store.revoke(&key, t(100), now).await;
        c.ok(stored, "revoke to succeed")?;
        let revoked = self.store.is_revoked(&key, t(99)).await;
        c.ensure(
            c.ok(revoked, "is_revoked")?,
            "a revocation to hold until its time",
        )?;
        let revoked = self.store.is_revoked(&key, t(100)).await;
        c.ensure(
            !c.ok(revoked, "is_revoked")?,
            "a revocation to end at its time",
        )?;
        // Revoking again for a shorter time keeps the longer one.
        let stored = self.store.revoke(&key, t(50), now).await;
        c.ok(stored, "revoke to succeed")?;
        let revoked = self.store.is_revoked(&key, t(99)).await;
        c.ensure(
            c.ok(revoked, "is_revoked")?,
            "a shorter revocation not to cut a longer one",
        )?;
        let stored = self.store.revoke(&key, t(200), now).await;
        c.ok(stored, "revoke to succeed")?;
        let revoked = self.store.is_revoked(&key, t(150)).await;
        c.ensure(
            c.ok(revoked, "is_revoked")?,
            "a longer revocation to extend a shorter one",
        )?;
        let revoked = self.store.is_revoked(&unknown, now).await;
        c.ensure(
            !c.ok(revoked, "is_revoked")?,
            "revocations not to leak to other keys",
        )?;
        let stored = self.store.revoke(&stale, now, now).await;
        c.ok(stored, "revoke of an already expired token to succeed")?;
        let revoked = self.store.is_revoked(&stale, now).await;
        c.ensure(
            !c.ok(revoked, "is_revoked")?,
            "a revocation ending now not to be live",
        )?;
        // A revocation is not a session.
        let got = self.store.get(&key, now).await;
        c.ensure(
            c.ok(got, "get")?.is_none(),
            "get not to return a revocation as a session",
        )
    }

    async fn watermark(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("watermark");
        let key = self.revocation_key();
        let now = self.now;
        let t = |secs| now.saturating_add(secs);

        let got = self.store.watermark(&key, now).await;
        c.ensure(
            c.ok(got, "watermark")?.is_none(),
            "an unknown subject to have no watermark",
        )?;
        let first = Watermark::new(t(10), t(100));
        let raised = self.store.raise_watermark(&key, first, now).await;
        c.ok(raised, "raise_watermark to succeed")?;
        let got = self.store.watermark(&key, t(99)).await;
        c.ensure(
            c.ok(got, "watermark")? == Some(first),
            "the watermark to be stored as given",
        )?;
        let got = self.store.watermark(&key, t(100)).await;
        c.ensure(
            c.ok(got, "watermark")?.is_none(),
            "a watermark to end at its expiry",
        )?;

        let lower = Watermark::new(t(5), t(50));
        let raised = self.store.raise_watermark(&key, lower, now).await;
        c.ok(raised, "raise_watermark to succeed")?;
        let got = self.store.watermark(&key, now).await;
        c.ensure(
            c.ok(got, "watermark")? == Some(first),
            "a lower watermark never to lower the stored one",
        )?;
        let higher = Watermark::new(t(20), t(80));
        let raised = self.store.raise_watermark(&key, higher, now).await;
        c.ok(raised, "raise_watermark to succeed")?;
        let got = self.store.watermark(&key, now).await;
        c.ensure(
            c.ok(got, "watermark")? == Some(Watermark::new(t(20), t(100))),
            "raising to keep the later cutoff and the later expiry",
        )
    }

    async fn purge_expired(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("purge_expired");
        let doomed = self.session_key();
        let kept = self.session_key();
        let revoked = self.revocation_key();
        let subject = self.subject();
        let now = self.now;
        let t = |secs| now.saturating_add(secs);

        let short = self.record(&subject, 1, 100, 100);
        let long = self.record(&subject, 2, 10_000, 10_000);
        let created = self.store.create(&doomed, short, now).await;
        c.ok(created, "create to succeed")?;
        let created = self.store.create(&kept, long, now).await;
        c.ok(created, "create to succeed")?;
        let stored = self.store.revoke(&revoked, t(300), now).await;
        c.ok(stored, "revoke to succeed")?;
        let purged = self.store.purge_expired(t(200)).await;
        c.ok(purged, "purge_expired to succeed")?;
        let got = self.store.get(&kept, t(200)).await;
        c.ensure(
            c.ok(got, "get")?.is_some(),
            "purge never to remove a live session",
        )?;
        let still = self.store.is_revoked(&revoked, t(200)).await;
        c.ensure(
            c.ok(still, "is_revoked")?,
            "purge never to remove a live revocation",
        )?;
        let got = self.store.get(&doomed, t(200)).await;
        c.ensure(
            c.ok(got, "get")?.is_none(),
            "an expired session to stay gone",
        )?;
        self.cleanup(&[doomed, kept], c).await
    }

    async fn capacity(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("capacity");
        let Some(capacity) = self.store.capacity() else {
            return Ok(());
        };
        let salt = self.salt();
        let key = |n: usize| numbered_key(&salt, n);
        let subject = self.subject();
        let long = self.record(&subject, 1, 10_000, 20_000);
        let now = self.now;

        // Fill with live sessions until the store refuses.
        let mut filled = 0;
        loop {
            if filled > capacity {
                return Err(c.fail("the store not to hold more entries than its capacity"));
            }
            match self.store.create(&key(filled), long.clone(), now).await {
                Ok(()) => filled = filled.saturating_add(1),
                Err(e) if e.kind() == StoreErrorKind::Capacity => break,
                Err(e) => return Err(c.error(e.kind(), "create to succeed or fail with Capacity")),
            }
        }
        if filled < 2 {
            return Err(c.fail("room for at least two sessions when the check starts"));
        }
        for n in 0..filled {
            let got = self.store.get(&key(n), now).await;
            c.ensure(
                c.ok(got, "get")?.is_some(),
                "a full store to keep every live session",
            )?;
        }
        let revocation = self.revocation_key();
        let refused = self
            .store
            .revoke(&revocation, now.saturating_add(100), now)
            .await;
        c.error_kind(
            refused,
            StoreErrorKind::Capacity,
            "a revocation in a store full of live entries to fail with Capacity",
        )?;

        // Freed room is usable again.
        let removed = self.store.remove(&key(0)).await;
        c.ensure(
            c.ok(removed, "remove")?,
            "remove to succeed in a full store",
        )?;
        let created = self.store.create(&key(filled), long.clone(), now).await;
        c.ok(created, "create to succeed after a remove")?;

        // A session that has expired is evicted for a new one; live ones never are.
        let short = self.record(&subject, 2, 50, 50);
        let removed = self.store.remove(&key(1)).await;
        c.ensure(
            c.ok(removed, "remove")?,
            "remove to succeed in a full store",
        )?;
        let created = self.store.create(&key(1), short, now).await;
        c.ok(created, "create to succeed after a remove")?;
        let later = now.saturating_add(60);
        let newest = filled.saturating_add(1);
        let created = self.store.create(&key(newest), long.clone(), later).await;
        c.ok(created, "create in a full store to evict an expired entry")?;
        for n in 2..=newest {
            let got = self.store.get(&key(n), later).await;
            c.ensure(
                c.ok(got, "get")?.is_some(),
                "eviction never to drop a live session",
            )?;
        }

        for n in 0..=newest {
            let removed = self.store.remove(&key(n)).await;
            c.ok(removed, "remove")?;
        }
        Ok(())
    }

    async fn cleanup(&mut self, keys: &[LookupKey], c: Check) -> Result<(), ConformanceFailure> {
        for key in keys {
            let removed = self.store.remove(key).await;
            c.ok(removed, "remove to succeed")?;
        }
        Ok(())
    }

    fn record(
        &mut self,
        subject: &SubjectKey,
        n: u32,
        idle: u64,
        absolute: u64,
    ) -> SessionRecord<S::Data> {
        let data = (self.sample)(n);
        let now = self.now;
        SessionRecord::from_parts(
            *subject,
            data,
            now,
            now,
            now.saturating_add(idle),
            now.saturating_add(absolute),
        )
    }

    fn salt(&mut self) -> [u8; 32] {
        let mut salt = [0; 32];
        self.rng.fill_bytes(&mut salt);
        salt
    }

    fn session_key(&mut self) -> LookupKey {
        LookupKey::for_session(&self.salt())
    }

    fn revocation_key(&mut self) -> LookupKey {
        let id = match SessionId::generate(&mut *self.rng) {
            Ok(id) => id,
            Err(never) => match never {},
        };
        let mut jti = [0; SessionId::ENCODED_LEN];
        LookupKey::for_revoked_token(Some("tokenstile conformance"), id.encode(&mut jti))
    }

    fn subject(&mut self) -> SubjectKey {
        SubjectKey::from_bytes(self.salt())
    }
}

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
    fn fail(self, expected: &'static str) -> ConformanceFailure {
        ConformanceFailure::new(self.0, expected)
    }

    fn error(self, kind: StoreErrorKind, expected: &'static str) -> ConformanceFailure {
        ConformanceFailure {
            check: self.0,
            expected,
            store_error: Some(kind),
        }
    }

    fn ensure(self, condition: bool, expected: &'static str) -> Result<(), ConformanceFailure> {
        if condition {
            Ok(())
        } else {
            Err(self.fail(expected))
        }
    }

    fn ok<T, E: StoreError>(
        self,
        result: Result<T, E>,
        expected: &'static str,
    ) -> Result<T, ConformanceFailure> {
        result.map_err(|e| self.error(e.kind(), expected))
    }

    fn error_kind<T, E: StoreError>(
        self,
        result: Result<T, E>,
        kind: StoreErrorKind,
        expected: &'static str,
    ) -> Result<(), ConformanceFailure> {
        match result {
            Err(e) if e.kind() == kind => Ok(()),
            Err(e) => Err(self.error(e.kind(), expected)),
            Ok(_) => Err(self.fail(expected)),
        }
    }
}
