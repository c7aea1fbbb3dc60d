//! A thread-safe in-memory store (feature `std`).

use core::fmt;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::table::{self, Entry};
use crate::session::SessionRecord;
use crate::store::{LookupKey, SessionStore, StoreErrorKind, SubjectKey, Watermark};
use crate::time::UnixTime;

/// An in-memory store behind a `Mutex`, for servers with many threads (feature `std`).
///
/// The trait is implemented for `&SharedStore<D>`, so one store can be shared by
/// reference (or through an `Arc`) and each thread passes `&mut &store`. Each call takes
/// the lock once and is atomic. It is also implemented for `SharedStore<D>` itself, for a
/// single owner.
///
/// Without a limit the store grows with the number of live entries; with
/// [`with_max_entries`](Self::with_max_entries) it behaves like
/// [`MemoryStore`](super::MemoryStore) when full: dead entries are purged, live ones are
/// never dropped, and writing fails with [`StoreErrorKind::Capacity`]. Everything is lost
/// when the process exits, revocations included.
///
/// A panic in another thread while it held the lock doesn't disable the store: every
/// operation leaves the map consistent, so the lock is simply taken over.
///
/// ```
/// use std::sync::Arc;
/// use tokenstile::UnixTime;
/// use tokenstile::store::{SessionStore, SharedStore};
///
/// let store: Arc<SharedStore<u32>> = Arc::new(SharedStore::with_max_entries(100_000));
/// let worker = {
///     let store = Arc::clone(&store);
///     std::thread::spawn(move || {
///         let mut store = &*store;
///         store.purge_expired(UnixTime::from_secs(1_700_000_000))
///     })
/// };
/// assert_eq!(worker.join().ok(), Some(Ok(0)));
/// ```
pub struct SharedStore<D> {
    map: Mutex<Limited<D>>,
    max_entries: Option<usize>,
}

impl<D> SharedStore<D> {
    /// An empty store without a size limit.
    #[must_use]
    pub fn new() -> Self {
        Self {
            map: Mutex::new(Limited {
                map: HashMap::new(),
                max: usize::MAX,
            }),
            max_entries: None,
        }
    }

    /// An empty store that holds at most `max` entries of all kinds together.
    #[must_use]
    pub fn with_max_entries(max: usize) -> Self {
        Self {
            map: Mutex::new(Limited {
                map: HashMap::new(),
                max,
            }),
            max_entries: Some(max),
        }
    }

    /// How many entries, live or dead, the store holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the store holds no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().map.is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Limited<D>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<D: Clone> SessionStore for &SharedStore<D> {
    type Data = D;
    type Error = StoreErrorKind;

    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::create(&mut *self.lock(), key, record, now)
    }

    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        Ok(table::get(&*self.lock(), key, now))
    }

    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        Ok(table::update(&mut *self.lock(), key, record, now))
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        Ok(table::touch(&mut *self.lock(), key, idle_deadline, now))
    }

    fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        Ok(table::remove(&mut *self.lock(), key))
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        table::rotate(&mut *self.lock(), old, new, now)
    }

    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Self::Error> {
        Ok(table::remove_subject(&mut *self.lock(), subject))
    }

    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::revoke(&mut *self.lock(), key, until, now)
    }

    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        Ok(table::is_revoked(&*self.lock(), key, now))
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::raise_watermark(&mut *self.lock(), key, watermark, now)
    }

    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        Ok(table::watermark(&*self.lock(), key, now))
    }

    fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        Ok(table::purge_expired(&mut *self.lock(), now))
    }

    fn capacity(&self) -> Option<usize> {
        self.max_entries
    }
}

/// Forwards to the impl for `&SharedStore<D>`.
impl<D: Clone> SessionStore for SharedStore<D> {
    type Data = D;
    type Error = StoreErrorKind;

    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        (&*self).create(key, record, now)
    }

    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        (&*self).get(key, now)
    }

    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        (&*self).update(key, record, now)
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        (&*self).touch(key, idle_deadline, now)
    }

    fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        (&*self).remove(key)
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        (&*self).rotate(old, new, now)
    }

    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Self::Error> {
        (&*self).remove_subject(subject)
    }

    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        (&*self).revoke(key, until, now)
    }

    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        (&*self).is_revoked(key, now)
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        (&*self).raise_watermark(key, watermark, now)
    }

    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        (&*self).watermark(key, now)
    }

    fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        (&*self).purge_expired(now)
    }

    fn capacity(&self) -> Option<usize> {
        self.max_entries
    }
}

impl<D> Default for SharedStore<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D> fmt::Debug for SharedStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedStore")
            .field("len", &self.len())
            .field("max_entries", &self.max_entries)
            .finish_non_exhaustive()
    }
}

/// A `HashMap` that refuses new keys beyond `max` entries.
struct Limited<D> {
    map: HashMap<LookupKey, Entry<D>>,
    max: usize,
}

impl<D> table::Map<D> for Limited<D> {
    fn get(&self, key: &LookupKey) -> Option<&Entry<D>> {
        self.map.get(key)
    }

    fn get_mut(&mut self, key: &LookupKey) -> Option<&mut Entry<D>> {
        self.map.get_mut(key)
    }

    fn remove(&mut self, key: &LookupKey) -> Option<Entry<D>> {
        self.map.remove(key)
    }

    fn insert(&mut self, key: LookupKey, entry: Entry<D>) -> Result<(), Entry<D>> {
        if self.map.len() >= self.max && !self.map.contains_key(&key) {
            return Err(entry);
        }
        self.map.insert(key, entry);
        Ok(())
    }

    fn retain(&mut self, mut keep: impl FnMut(&Entry<D>) -> bool) {
        self.map.retain(|_, entry| keep(entry));
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}
