//! A thread-safe in-memory store (feature `std`).

use alloc::sync::Arc;
use core::fmt;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::table::{self, Revocation};
use super::{
    CreateOutcome, LookupKey, RevocationCheck, RevocationStore, SessionRecord, SessionSink,
    SessionStore, Store, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, Watermark,
};
use crate::time::UnixTime;

/// An in-memory store behind a `Mutex`, for servers with many threads (feature `std`).
///
/// A `SharedStore` is a handle: clones share one store, so clone it into each task or
/// request handler and pass `&mut handle` to each call. Each call takes the lock once and
/// is atomic.
///
/// Sessions are indexed by subject, so listing a subject's sessions, enforcing the
/// per-subject limit and "log out everywhere" cost time in proportion to that subject's
/// sessions, not to the whole store.
///
/// Dead entries go as the store grows, whether or not
/// [`purge_expired`](Store::purge_expired) is called: a write that adds an entry and so
/// makes twice as many as the last sweep left (and at least 1,024) then drops the dead
/// ones, and the memory they took. So sessions, and revocations apart, never number more
/// than twice those live at their last sweep, or 1,024, at an amortized constant cost per
/// write; a call that fails or changes nothing never sweeps. With
/// [`with_capacity`](Self::with_capacity) it behaves like
/// [`MemoryStore`](super::MemoryStore) when full: dead entries are purged, live ones are
/// never dropped, and writing fails with [`StoreErrorKind::Capacity`]. Sessions and
/// revocations have separate limits, so sessions never block a logout. Everything is lost
/// when the process exits, revocations included.
///
/// A panic in another thread while it held the lock doesn't disable the store: every
/// operation leaves the maps consistent, so the lock is simply taken over.
///
/// ```
/// use tokenstile::UnixTime;
/// use tokenstile::store::{block_on, SharedStore, Store};
///
/// let store: SharedStore<u32> = SharedStore::with_capacity(100_000, 100_000);
/// let worker = {
///     let mut store = store.clone();
///     std::thread::spawn(move || block_on(store.purge_expired(UnixTime::from_secs(1_700_000_000))))
/// };
/// assert_eq!(worker.join().ok(), Some(Ok(0)));
/// ```
pub struct SharedStore<D> {
    inner: Arc<Mutex<Inner<D>>>,
}

impl<D> SharedStore<D> {
    /// An empty store without size limits.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(usize::MAX, usize::MAX)
    }

    /// An empty store that holds at most `sessions` sessions and, separately, at most
    /// `revocations` revoked tokens and watermarks.
    #[must_use]
    pub fn with_capacity(sessions: usize, revocations: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                sessions: Indexed {
                    map: HashMap::new(),
                    by_subject: HashMap::new(),
                    max: sessions,
                    sweep_at: SWEEP_FLOOR,
                },
                revocations: Limited {
                    map: HashMap::new(),
                    max: revocations,
                    sweep_at: SWEEP_FLOOR,
                },
            })),
        }
    }

    /// How many sessions, live or dead, the store holds.
    #[must_use]
    pub fn sessions_len(&self) -> usize {
        self.lock().sessions.map.len()
    }

    /// How many revoked tokens and watermarks, live or dead, the store holds.
    #[must_use]
    pub fn revocations_len(&self) -> usize {
        self.lock().revocations.map.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner<D>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn limits(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.sessions.max, inner.revocations.max)
    }
}

impl<D: Send> Store for SharedStore<D> {
    type Error = StoreErrorKind;

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        let mut inner = self.lock();
        let sessions = inner.sessions.purge(now);
        let revocations = inner.revocations.purge(now);
        Ok(sessions.saturating_add(revocations))
    }
}

impl<D: Clone + Send + Sync> SessionStore<D> for SharedStore<D> {
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, Self::Error> {
        write(&mut self.lock().sessions, now, |sessions| {
            table::create(sessions, key, record, limit, now)
        })
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        Ok(table::get(&self.lock().sessions, key, now))
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, Self::Error> {
        let mut inner = self.lock();
        Ok(table::update(
            &mut inner.sessions,
            key,
            version,
            data,
            idle_deadline,
            now,
        ))
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        Ok(table::touch(
            &mut self.lock().sessions,
            key,
            idle_deadline,
            now,
        ))
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        Ok(table::remove(&mut self.lock().sessions, key))
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        write(&mut self.lock().sessions, now, |sessions| {
            table::rotate(sessions, old, new, now)
        })
    }

    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, Self::Error> {
        Ok(table::remove_subject(
            &mut self.lock().sessions,
            subject,
            keep,
        ))
    }

    async fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, Self::Error> {
        Ok(table::list_subject(
            &self.lock().sessions,
            subject,
            now,
            out,
        ))
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        Ok(table::remove_owned(
            &mut self.lock().sessions,
            key,
            subject,
            now,
        ))
    }

    fn session_capacity(&self) -> Option<usize> {
        Some(self.limits().0).filter(|&max| max != usize::MAX)
    }
}

impl<D: Send> RevocationStore for SharedStore<D> {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        write(&mut self.lock().revocations, now, |revocations| {
            table::revoke(revocations, key, until, now)
        })
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        Ok(table::is_revoked(&self.lock().revocations, key, now))
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        write(&mut self.lock().revocations, now, |revocations| {
            table::raise_watermark(revocations, key, watermark, now)
        })
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        Ok(table::watermark(&self.lock().revocations, key, now))
    }

    /// Everything under one lock: what the default's separate calls would find, read at
    /// one instant.
    async fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, Self::Error> {
        let inner = self.lock();
        let revocations = &inner.revocations;
        if let Some(index) = entries
            .iter()
            .position(|key| table::is_revoked(revocations, key, now))
        {
            return Ok(RevocationCheck::Revoked(index));
        }
        Ok(RevocationCheck::NotRevoked(
            watermark.and_then(|key| table::watermark(revocations, key, now)),
        ))
    }

    fn revocation_capacity(&self) -> Option<usize> {
        Some(self.limits().1).filter(|&max| max != usize::MAX)
    }
}

impl<D> Clone for SharedStore<D> {
    /// Another handle to the same store.
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D> Default for SharedStore<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D> fmt::Debug for SharedStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("SharedStore")
            .field("sessions", &inner.sessions.map.len())
            .field("revocations", &inner.revocations.map.len())
            .finish_non_exhaustive()
    }
}

struct Inner<D> {
    sessions: Indexed<D>,
    revocations: Limited,
}

/// The fewest entries at which a write sweeps the dead ones out of a map.
const SWEEP_FLOOR: usize = 1024;

/// When a map that holds `live` entries after a purge sweeps again: at twice that.
fn next_sweep(live: usize) -> usize {
    live.saturating_mul(2).max(SWEEP_FLOOR)
}

/// A map of the store that drops its dead entries as it grows.
trait Sweep {
    /// How many entries, live or dead, it holds.
    fn entries(&self) -> usize;
    /// The size at which a write first drops the dead entries.
    fn sweep_at(&self) -> usize;
    /// Drops the entries dead at `now`, gives back their memory and sets the next
    /// `sweep_at`; returns how many went.
    fn purge(&mut self, now: UnixTime) -> usize;
}

/// Makes the write `f` on `map`, then drops the dead entries if the map has grown to its
/// `sweep_at`. Between calls a map always holds fewer entries than that (a purge sets it to
/// twice what is left, or 1,024), so only a write that added an entry sweeps: a call that
/// failed or changed nothing has removed nothing either. (A purge that a full store makes
/// to find room doesn't move `sweep_at`: the next sweep only comes later.)
fn write<M: Sweep, R>(map: &mut M, now: UnixTime, f: impl FnOnce(&mut M) -> R) -> R {
    let result = f(map);
    if map.entries() >= map.sweep_at() {
        map.purge(now);
    }
    result
}

/// Sessions with an index by subject, refusing new keys beyond `max`.
struct Indexed<D> {
    map: HashMap<LookupKey, SessionRecord<D>>,
    by_subject: HashMap<SubjectKey, HashSet<LookupKey>>,
    max: usize,
    /// The size at which a write first drops the dead sessions.
    sweep_at: usize,
}

impl<D> Sweep for Indexed<D> {
    fn entries(&self) -> usize {
        self.map.len()
    }

    fn sweep_at(&self) -> usize {
        self.sweep_at
    }

    /// The maps, and each subject's set of keys, keep room to grow to the next sweep.
    fn purge(&mut self, now: UnixTime) -> usize {
        let purged = table::purge_sessions(self, now);
        self.sweep_at = next_sweep(self.map.len());
        self.map.shrink_to(self.sweep_at);
        self.by_subject.shrink_to(self.sweep_at);
        for keys in self.by_subject.values_mut() {
            keys.shrink_to(next_sweep(keys.len()));
        }
        purged
    }
}

impl<D> Indexed<D> {
    fn unindex(&mut self, subject: &SubjectKey, key: &LookupKey) {
        if let Some(keys) = self.by_subject.get_mut(subject) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_subject.remove(subject);
            }
        }
    }
}

impl<D> table::Sessions<D> for Indexed<D> {
    fn get(&self, key: &LookupKey) -> Option<&SessionRecord<D>> {
        self.map.get(key)
    }

    fn get_mut(&mut self, key: &LookupKey) -> Option<&mut SessionRecord<D>> {
        self.map.get_mut(key)
    }

    fn insert(&mut self, key: LookupKey, record: SessionRecord<D>) -> Result<(), SessionRecord<D>> {
        if self.map.len() >= self.max && !self.map.contains_key(&key) {
            return Err(record);
        }
        let subject = *record.subject();
        // Indexed before a replaced record is dropped: a panicking `Drop` of `D` leaves
        // the map and the index in step.
        self.by_subject.entry(subject).or_default().insert(key);
        if let Some(replaced) = self.map.insert(key, record) {
            let old = *replaced.subject();
            if old != subject {
                self.unindex(&old, &key);
            }
        }
        Ok(())
    }

    fn remove(&mut self, key: &LookupKey) -> Option<SessionRecord<D>> {
        let record = self.map.remove(key)?;
        let subject = *record.subject();
        self.unindex(&subject, key);
        Some(record)
    }

    fn retain(&mut self, mut keep: impl FnMut(&LookupKey, &SessionRecord<D>) -> bool) {
        let by_subject = &mut self.by_subject;
        self.map.retain(|key, record| {
            let kept = keep(key, record);
            if !kept && let Some(keys) = by_subject.get_mut(record.subject()) {
                keys.remove(key);
            }
            kept
        });
        by_subject.retain(|_, keys| !keys.is_empty());
    }

    fn for_subject(&self, subject: &SubjectKey, mut f: impl FnMut(&LookupKey, &SessionRecord<D>)) {
        let Some(keys) = self.by_subject.get(subject) else {
            return;
        };
        for key in keys {
            if let Some(record) = self.map.get(key) {
                f(key, record);
            }
        }
    }

    fn retain_subject(
        &mut self,
        subject: &SubjectKey,
        mut keep: impl FnMut(&LookupKey, &SessionRecord<D>) -> bool,
    ) {
        // The subject's keys are filtered where they are, not taken out of the index while
        // records are dropped: should a `Drop` of `D` panic, the keys not visited yet stay
        // indexed (and a key whose record is gone is one every reader skips).
        let Some(keys) = self.by_subject.get_mut(subject) else {
            return;
        };
        let map = &mut self.map;
        keys.retain(|key| match map.get(key) {
            Some(record) if keep(key, record) => true,
            Some(_) => {
                map.remove(key);
                false
            }
            None => false,
        });
        if keys.is_empty() {
            self.by_subject.remove(subject);
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// A `HashMap` of revocations that refuses new keys beyond `max` entries.
struct Limited {
    map: HashMap<LookupKey, Revocation>,
    max: usize,
    /// The size at which a write first drops the dead entries.
    sweep_at: usize,
}

impl Sweep for Limited {
    fn entries(&self) -> usize {
        self.map.len()
    }

    fn sweep_at(&self) -> usize {
        self.sweep_at
    }

    /// The map keeps room to grow to the next sweep.
    fn purge(&mut self, now: UnixTime) -> usize {
        let purged = table::purge_revocations(self, now);
        self.sweep_at = next_sweep(self.map.len());
        self.map.shrink_to(self.sweep_at);
        purged
    }
}

impl table::Revocations for Limited {
    fn get(&self, key: &LookupKey) -> Option<&Revocation> {
        self.map.get(key)
    }

    fn insert(&mut self, key: LookupKey, entry: Revocation) -> Result<(), Revocation> {
        if self.map.len() >= self.max && !self.map.contains_key(&key) {
            return Err(entry);
        }
        self.map.insert(key, entry);
        Ok(())
    }

    fn retain(&mut self, mut keep: impl FnMut(&Revocation) -> bool) {
        self.map.retain(|_, entry| keep(entry));
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::block_on;

    fn key(n: u32) -> LookupKey {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&n.to_le_bytes());
        LookupKey::for_session(&bytes)
    }

    /// A call refused with as many sessions as the first sweep takes, one dead by its
    /// `now`, removes nothing: a reader behind still finds that one. (The write that
    /// brought the store to that size swept already, with nothing dead then, and moved the
    /// next sweep further: between calls a map holds fewer entries than its sweep size.)
    #[test]
    fn a_refused_create_sweeps_nothing() {
        let mut store = SharedStore::new();
        let now = UnixTime::from_secs(10);
        let dead = key(u32::MAX);
        block_on(store.create(&dead, SessionRecord::expiring(100), None, now)).unwrap();
        for n in 1..SWEEP_FLOOR {
            block_on(store.create(&key(n as u32), SessionRecord::expiring(1_000), None, now))
                .unwrap();
        }
        assert_eq!(store.sessions_len(), SWEEP_FLOOR);
        let late = UnixTime::from_secs(200);
        let taken = block_on(store.create(&key(1), SessionRecord::expiring(1_000), None, late));
        assert_eq!(taken, Err(StoreErrorKind::Conflict));
        assert_eq!(store.sessions_len(), SWEEP_FLOOR);
        assert!(store.lock().sessions.sweep_at > SWEEP_FLOOR);
        let behind = UnixTime::from_secs(90);
        assert!(block_on(store.get(&dead, behind)).unwrap().is_some());
    }

    /// A sweep gives back the memory of what it dropped: of the sessions' map and of the
    /// subject's set of keys, which held more entries than are left.
    #[test]
    fn a_sweep_gives_back_memory() {
        let mut store = SharedStore::new();
        let early = UnixTime::from_secs(10);
        for n in 0..5_000 {
            block_on(store.create(&key(n), SessionRecord::expiring(100), None, early)).unwrap();
        }
        let late = UnixTime::from_secs(200);
        let mut n = 5_000;
        let peak = loop {
            let before = store.sessions_len();
            block_on(store.create(&key(n), SessionRecord::expiring(1_000), None, late)).unwrap();
            n += 1;
            if store.sessions_len() < before {
                break before + 1;
            }
        };
        assert_eq!(
            store.sessions_len(),
            n as usize - 5_000,
            "only the live ones are left"
        );
        let inner = store.lock();
        let keys = inner
            .sessions
            .by_subject
            .get(&SubjectKey::new("s"))
            .unwrap();
        assert!(
            inner.sessions.map.capacity() < peak,
            "{}",
            inner.sessions.map.capacity()
        );
        assert!(keys.capacity() < peak, "{}", keys.capacity());
    }

    /// A watermark raised dead on arrival, with as many revocations as the first sweep
    /// takes, changes nothing either.
    #[test]
    fn a_dead_raise_sweeps_nothing() {
        let mut store = SharedStore::<u8>::new();
        let now = UnixTime::from_secs(10);
        let mark = Watermark::new(UnixTime::from_secs(30), UnixTime::from_secs(100));
        block_on(store.raise_watermark(&key(u32::MAX), mark, now)).unwrap();
        for n in 1..SWEEP_FLOOR {
            block_on(store.revoke(&key(n as u32), UnixTime::from_secs(1_000), now)).unwrap();
        }
        let late = UnixTime::from_secs(200);
        let dead_on_arrival = Watermark::new(UnixTime::from_secs(40), UnixTime::from_secs(150));
        block_on(store.raise_watermark(&key(0), dead_on_arrival, late)).unwrap();
        assert_eq!(store.revocations_len(), SWEEP_FLOOR);
        assert!(store.lock().revocations.sweep_at > SWEEP_FLOOR);
        let behind = UnixTime::from_secs(90);
        assert_eq!(
            block_on(store.watermark(&key(u32::MAX), behind)),
            Ok(Some(mark))
        );
    }
}
