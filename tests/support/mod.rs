//! Helpers shared by the session and store tests: deterministic RNGs, a store that counts
//! its writes, an async store that really suspends, and a tiny executor.
#![allow(dead_code, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use core::cell::Cell;
use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use rand_core::{TryCryptoRng, TryRng};
use tokenstile::UnixTime;
use tokenstile::session::SessionRecord;
use tokenstile::store::{AsyncSessionStore, LookupKey, SessionStore, SubjectKey, Watermark};

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

/// Wraps a store and counts the calls that write.
pub(crate) struct Counting<S> {
    pub(crate) inner: S,
    pub(crate) creates: usize,
    pub(crate) updates: usize,
    pub(crate) touches: usize,
    pub(crate) removes: usize,
    pub(crate) rotates: usize,
}

impl<S> Counting<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            creates: 0,
            updates: 0,
            touches: 0,
            removes: 0,
            rotates: 0,
        }
    }

    pub(crate) fn writes(&self) -> usize {
        self.creates + self.updates + self.touches + self.removes + self.rotates
    }
}

impl<S: SessionStore> SessionStore for Counting<S> {
    type Data = S::Data;
    type Error = S::Error;

    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<S::Data>,
        now: UnixTime,
    ) -> Result<(), S::Error> {
        self.creates += 1;
        self.inner.create(key, record, now)
    }

    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<S::Data>>, S::Error> {
        self.inner.get(key, now)
    }

    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<S::Data>,
        now: UnixTime,
    ) -> Result<bool, S::Error> {
        self.updates += 1;
        self.inner.update(key, record, now)
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, S::Error> {
        self.touches += 1;
        self.inner.touch(key, idle_deadline, now)
    }

    fn remove(&mut self, key: &LookupKey) -> Result<bool, S::Error> {
        self.removes += 1;
        self.inner.remove(key)
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<S::Data>>, S::Error> {
        self.rotates += 1;
        self.inner.rotate(old, new, now)
    }

    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, S::Error> {
        self.removes += 1;
        self.inner.remove_subject(subject)
    }

    fn revoke(&mut self, key: &LookupKey, until: UnixTime, now: UnixTime) -> Result<(), S::Error> {
        self.inner.revoke(key, until, now)
    }

    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, S::Error> {
        self.inner.is_revoked(key, now)
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), S::Error> {
        self.inner.raise_watermark(key, watermark, now)
    }

    fn watermark(&mut self, key: &LookupKey, now: UnixTime) -> Result<Option<Watermark>, S::Error> {
        self.inner.watermark(key, now)
    }

    fn purge_expired(&mut self, now: UnixTime) -> Result<usize, S::Error> {
        self.inner.purge_expired(now)
    }

    fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }
}

/// An async store that suspends once before every operation, as a network client would,
/// and then runs it on a synchronous store. It implements only `AsyncSessionStore`.
pub(crate) struct Suspending<S> {
    pub(crate) inner: S,
    pub(crate) suspensions: Cell<usize>,
}

impl<S> Suspending<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            suspensions: Cell::new(0),
        }
    }

    async fn pause(&self) {
        YieldOnce(false).await;
        self.suspensions.set(self.suspensions.get() + 1);
    }
}

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

impl<S: SessionStore> AsyncSessionStore for Suspending<S> {
    type Data = S::Data;
    type Error = S::Error;

    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<S::Data>,
        now: UnixTime,
    ) -> Result<(), S::Error> {
        self.pause().await;
        self.inner.create(key, record, now)
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<S::Data>>, S::Error> {
        self.pause().await;
        self.inner.get(key, now)
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<S::Data>,
        now: UnixTime,
    ) -> Result<bool, S::Error> {
        self.pause().await;
        self.inner.update(key, record, now)
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, S::Error> {
        self.pause().await;
        self.inner.touch(key, idle_deadline, now)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, S::Error> {
        self.pause().await;
        self.inner.remove(key)
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<S::Data>>, S::Error> {
        self.pause().await;
        self.inner.rotate(old, new, now)
    }

    async fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, S::Error> {
        self.pause().await;
        self.inner.remove_subject(subject)
    }

    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), S::Error> {
        self.pause().await;
        self.inner.revoke(key, until, now)
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, S::Error> {
        self.pause().await;
        self.inner.is_revoked(key, now)
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), S::Error> {
        self.pause().await;
        self.inner.raise_watermark(key, watermark, now)
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, S::Error> {
        self.pause().await;
        self.inner.watermark(key, now)
    }

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, S::Error> {
        self.pause().await;
        self.inner.purge_expired(now)
    }

    fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }
}

/// Runs a future to completion by polling it until it is ready.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Seconds after a fixed start time.
pub(crate) fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(1_700_000_000 + secs)
}
