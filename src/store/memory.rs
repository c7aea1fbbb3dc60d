//! A fixed-capacity in-memory store that needs no allocator.

use core::fmt;

use heapless::index_map::FnvIndexMap;

use super::table::{self, Entry};
use crate::session::SessionRecord;
use crate::store::{LookupKey, SessionStore, StoreErrorKind, SubjectKey, Watermark};
use crate::time::UnixTime;

/// An in-memory store for up to `N` entries (sessions, revoked tokens and watermarks
/// together), in a fixed-size table with no allocator.
///
/// - `N` must be a power of two, at least 2 and at most 65 536 (checked at compile time).
/// - Lookups hash the key (FNV over the 32-byte digest) and take about the same time
///   however full the table is.
/// - When the table is full, writing a new entry first purges the expired ones; if none
///   is expired the write fails with [`StoreErrorKind::Capacity`]. A live session, a live
///   revocation or a live watermark is never dropped to make room.
/// - Everything is lost when the store is dropped (on a reboot, for example): sessions
///   end, which is safe, but **revocations are forgotten too**, so revoked JWTs that have
///   not expired become usable again. Keep JWT lifetimes short, or rotate the signing key
///   after a restart, if that matters.
///
/// Each slot holds a 32-byte key plus a [`SessionRecord<D>`] (about 72 bytes plus `D`),
/// so the table takes roughly `N × (110 + size_of::<D>())` bytes. Put it in a `static` or
/// on the heap if the stack is small.
///
/// Removing a subject's sessions and purging walk the whole table.
pub struct MemoryStore<D, const N: usize> {
    map: FnvIndexMap<LookupKey, Entry<D>, N>,
}

impl<D, const N: usize> MemoryStore<D, N> {
    /// An empty store.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            map: FnvIndexMap::new(),
        }
    }

    /// How many entries, live or dead, the store holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the store holds no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<D: Clone, const N: usize> SessionStore for MemoryStore<D, N> {
    type Data = D;
    type Error = StoreErrorKind;

    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::create(&mut self.map, key, record, now)
    }

    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        Ok(table::get(&self.map, key, now))
    }

    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        Ok(table::update(&mut self.map, key, record, now))
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        Ok(table::touch(&mut self.map, key, idle_deadline, now))
    }

    fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        Ok(table::remove(&mut self.map, key))
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        table::rotate(&mut self.map, old, new, now)
    }

    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Self::Error> {
        Ok(table::remove_subject(&mut self.map, subject))
    }

    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::revoke(&mut self.map, key, until, now)
    }

    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        Ok(table::is_revoked(&self.map, key, now))
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::raise_watermark(&mut self.map, key, watermark, now)
    }

    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        Ok(table::watermark(&self.map, key, now))
    }

    fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        Ok(table::purge_expired(&mut self.map, now))
    }

    fn capacity(&self) -> Option<usize> {
        Some(N)
    }
}

impl<D, const N: usize> Default for MemoryStore<D, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D, const N: usize> fmt::Debug for MemoryStore<D, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.map.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

impl<D, const N: usize> table::Map<D> for FnvIndexMap<LookupKey, Entry<D>, N> {
    fn get(&self, key: &LookupKey) -> Option<&Entry<D>> {
        FnvIndexMap::get(self, key)
    }

    fn get_mut(&mut self, key: &LookupKey) -> Option<&mut Entry<D>> {
        FnvIndexMap::get_mut(self, key)
    }

    fn remove(&mut self, key: &LookupKey) -> Option<Entry<D>> {
        self.swap_remove(key)
    }

    fn insert(&mut self, key: LookupKey, entry: Entry<D>) -> Result<(), Entry<D>> {
        FnvIndexMap::insert(self, key, entry)
            .map(drop)
            .map_err(|(_, entry)| entry)
    }

    fn retain(&mut self, mut keep: impl FnMut(&Entry<D>) -> bool) {
        FnvIndexMap::retain(self, |_, entry| keep(entry));
    }

    fn len(&self) -> usize {
        FnvIndexMap::len(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires: u64) -> SessionRecord<u8> {
        SessionRecord::from_parts(
            SubjectKey::new("s"),
            1,
            UnixTime::EPOCH,
            UnixTime::EPOCH,
            UnixTime::from_secs(expires),
            UnixTime::from_secs(expires),
        )
    }

    #[test]
    fn full_of_live_entries_refuses_and_keeps_them() {
        let mut store: MemoryStore<u8, 2> = MemoryStore::new();
        let keys = [1, 2, 3].map(|b| LookupKey::for_session(&[b; 32]));
        let now = UnixTime::from_secs(10);
        for key in &keys[..2] {
            assert_eq!(store.create(key, record(100), now), Ok(()));
        }
        assert_eq!(
            store.create(&keys[2], record(100), now),
            Err(StoreErrorKind::Capacity)
        );
        assert_eq!(
            store.revoke(&keys[2], UnixTime::from_secs(100), now),
            Err(StoreErrorKind::Capacity)
        );
        for key in &keys[..2] {
            assert!(matches!(store.get(key, now), Ok(Some(_))));
        }
        // Once one has expired, its slot is reused.
        let later = UnixTime::from_secs(100);
        assert_eq!(store.create(&keys[2], record(200), later), Ok(()));
        assert_eq!(store.len(), 1);
    }
}
