//! Helpers shared by the session and store tests: deterministic RNGs, and a store wrapper
//! that counts writes and can really suspend.
#![allow(dead_code, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::num::NonZeroUsize;
use core::task::{Context, Poll};

use rand_core::{TryCryptoRng, TryRng};
use tokenstile::UnixTime;
use tokenstile::store::{
    CreateOutcome, LookupKey, RevocationStore, SessionRecord, SessionSink, SessionStore, Store,
    SubjectKey, SubjectLimit, UpdateOutcome, Watermark,
};

/// TEST ONLY, NOT CRYPTOGRAPHIC: a deterministic SplitMix64 generator that claims
/// `TryCryptoRng` so tests can drive ID generation reproducibly.
pub(crate) struct TestRng(u64);

impl TestRng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

/// TEST ONLY: an "RNG" that returns the same bytes every time, to force ID collisions.
pub(crate) struct RepeatingRng(pub(crate) u8);

impl TryRng for RepeatingRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from_le_bytes([self.0; 4]))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(u64::from_le_bytes([self.0; 8]))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(self.0);
        Ok(())
    }
}

impl TryCryptoRng for RepeatingRng {}

/// A hardware RNG that has failed.
pub(crate) struct BrokenRng;

#[derive(Debug)]
pub(crate) struct RngFailure;

impl fmt::Display for RngFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("entropy source failed")
    }
}

impl core::error::Error for RngFailure {}

impl TryRng for BrokenRng {
    type Error = RngFailure;

    fn try_next_u32(&mut self) -> Result<u32, RngFailure> {
        Err(RngFailure)
    }

    fn try_next_u64(&mut self) -> Result<u64, RngFailure> {
        Err(RngFailure)
    }

    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), RngFailure> {
        Err(RngFailure)
    }
}

impl TryCryptoRng for BrokenRng {}

/// Wraps a store, counts the calls that write, and (if asked) suspends once before every
/// call as a network client would. One wrapper serves every store trait.
pub(crate) struct Instrumented<S> {
    pub(crate) inner: S,
    suspend: bool,
    /// Sessions `create` counts against a subject limit that no listing shows (as a
    /// store whose count and listing disagree would).
    pub(crate) phantoms: usize,
    pub(crate) suspensions: usize,
    pub(crate) creates: usize,
    pub(crate) updates: usize,
    pub(crate) touches: usize,
    pub(crate) removes: usize,
    pub(crate) rotates: usize,
}

impl<S> Instrumented<S> {
    /// Counts writes; never suspends.
    pub(crate) fn counting(inner: S) -> Self {
        Self {
            inner,
            suspend: false,
            phantoms: 0,
            suspensions: 0,
            creates: 0,
            updates: 0,
            touches: 0,
            removes: 0,
            rotates: 0,
        }
    }

    /// Counts writes and suspends once before every call.
    pub(crate) fn suspending(inner: S) -> Self {
        Self {
            suspend: true,
            ..Self::counting(inner)
        }
    }

    pub(crate) fn writes(&self) -> usize {
        self.creates + self.updates + self.touches + self.removes + self.rotates
    }

    /// Suspends once (if asked), then bumps `count`.
    async fn step(&mut self, count: fn(&mut Self) -> &mut usize) {
        if self.suspend {
            YieldOnce(false).await;
            self.suspensions += 1;
        }
        *count(self) += 1;
    }
}

/// Returns `Pending` once, waking itself, then `Ready`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl<S: Store> Store for Instrumented<S> {
    type Error = S::Error;

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, S::Error> {
        self.step(|s| &mut s.removes).await;
        self.inner.purge_expired(now).await
    }
}

impl<D: Send + Sync, S: SessionStore<D>> SessionStore<D> for Instrumented<S> {
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, S::Error> {
        self.step(|s| &mut s.creates).await;
        let limit = match limit {
            Some(limit) if self.phantoms > 0 => {
                match NonZeroUsize::new(limit.max().saturating_sub(self.phantoms)) {
                    Some(max) => Some(SubjectLimit::new(max, limit.when_full())),
                    None => return Ok(CreateOutcome::LimitReached),
                }
            }
            other => other,
        };
        self.inner.create(key, record, limit, now).await
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, S::Error> {
        self.pause_for_read().await;
        self.inner.get(key, now).await
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, S::Error> {
        self.step(|s| &mut s.updates).await;
        self.inner
            .update(key, version, data, idle_deadline, now)
            .await
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, S::Error> {
        self.step(|s| &mut s.touches).await;
        self.inner.touch(key, idle_deadline, now).await
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, S::Error> {
        self.step(|s| &mut s.removes).await;
        self.inner.remove(key).await
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, S::Error> {
        self.step(|s| &mut s.rotates).await;
        self.inner.rotate(old, new, now).await
    }

    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, S::Error> {
        self.step(|s| &mut s.removes).await;
        self.inner.remove_subject(subject, keep).await
    }

    async fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, S::Error> {
        self.pause_for_read().await;
        self.inner.list_subject(subject, now, out).await
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, S::Error> {
        self.step(|s| &mut s.removes).await;
        self.inner.remove_owned(key, subject, now).await
    }

    fn session_capacity(&self) -> Option<usize> {
        self.inner.session_capacity()
    }
}

impl<S: RevocationStore> RevocationStore for Instrumented<S> {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), S::Error> {
        self.pause_for_read().await;
        self.inner.revoke(key, until, now).await
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, S::Error> {
        self.pause_for_read().await;
        self.inner.is_revoked(key, now).await
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), S::Error> {
        self.pause_for_read().await;
        self.inner.raise_watermark(key, watermark, now).await
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, S::Error> {
        self.pause_for_read().await;
        self.inner.watermark(key, now).await
    }

    fn revocation_capacity(&self) -> Option<usize> {
        self.inner.revocation_capacity()
    }
}

impl<S> Instrumented<S> {
    /// Suspends once (if asked) before a call that writes no session.
    async fn pause_for_read(&mut self) {
        if self.suspend {
            YieldOnce(false).await;
            self.suspensions += 1;
        }
    }
}

/// Runs a future to completion with [`tokenstile::store::block_on`], written after the call.
pub(crate) trait Wait: Future + Sized {
    fn wait(self) -> Self::Output {
        tokenstile::store::block_on(self)
    }
}

impl<F: Future> Wait for F {}

/// Seconds after a fixed start time.
pub(crate) fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(1_700_000_000 + secs)
}
