//! The store semantics, written once over a map from lookup keys to entries.
//!
//! [`MemoryStore`](super::MemoryStore) and `SharedStore` differ only in the map they use
//! and in locking; both call these functions, so they behave identically.

use crate::session::SessionRecord;
use crate::store::{LookupKey, StoreErrorKind, SubjectKey, Watermark};
use crate::time::UnixTime;

/// One stored entry.
#[derive(Clone)]
pub(super) enum Entry<D> {
    Session(SessionRecord<D>),
    Revoked(UnixTime),
    Watermark(Watermark),
}

impl<D> Entry<D> {
    fn expires_at(&self) -> UnixTime {
        match self {
            Self::Session(record) => record.expires_at(),
            Self::Revoked(until) => *until,
            Self::Watermark(mark) => mark.expires_at(),
        }
    }

    fn is_live(&self, now: UnixTime) -> bool {
        now < self.expires_at()
    }
}

/// What the semantics need from a map.
pub(super) trait Map<D> {
    fn get(&self, key: &LookupKey) -> Option<&Entry<D>>;
    fn get_mut(&mut self, key: &LookupKey) -> Option<&mut Entry<D>>;
    fn remove(&mut self, key: &LookupKey) -> Option<Entry<D>>;
    /// Inserts or replaces. Fails, giving the entry back, only when the key is absent and
    /// the map is full.
    fn insert(&mut self, key: LookupKey, entry: Entry<D>) -> Result<(), Entry<D>>;
    fn retain(&mut self, keep: impl FnMut(&Entry<D>) -> bool);
    fn len(&self) -> usize;
}

pub(super) fn create<D, M: Map<D>>(
    map: &mut M,
    key: &LookupKey,
    record: SessionRecord<D>,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    if live(map, key, now).is_some() {
        return Err(StoreErrorKind::Conflict);
    }
    insert(map, key, Entry::Session(record), now)
}

pub(super) fn get<D: Clone, M: Map<D>>(
    map: &M,
    key: &LookupKey,
    now: UnixTime,
) -> Option<SessionRecord<D>> {
    match live(map, key, now) {
        Some(Entry::Session(record)) => Some(record.clone()),
        _ => None,
    }
}

pub(super) fn update<D, M: Map<D>>(
    map: &mut M,
    key: &LookupKey,
    record: SessionRecord<D>,
    now: UnixTime,
) -> bool {
    live_session(map, key, now)
        .map(|stored| *stored = record)
        .is_some()
}

pub(super) fn touch<D, M: Map<D>>(
    map: &mut M,
    key: &LookupKey,
    idle_deadline: UnixTime,
    now: UnixTime,
) -> bool {
    live_session(map, key, now)
        .map(|stored| stored.touch(idle_deadline, now))
        .is_some()
}

pub(super) fn remove<D, M: Map<D>>(map: &mut M, key: &LookupKey) -> bool {
    match map.get(key) {
        Some(Entry::Session(_)) => map.remove(key).is_some(),
        _ => false,
    }
}

pub(super) fn rotate<D: Clone, M: Map<D>>(
    map: &mut M,
    old: &LookupKey,
    new: &LookupKey,
    now: UnixTime,
) -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
    if live(map, new, now).is_some() {
        return Err(StoreErrorKind::Conflict);
    }
    if live_session(map, old, now).is_none() {
        return Ok(None);
    }
    // `old` holds a live session, checked just above.
    let Some(Entry::Session(record)) = map.remove(old) else {
        return Ok(None);
    };
    // A slot was just freed, so this insert can't run out of room. Should it anyway, the
    // session goes back where it was rather than being lost.
    match map.insert(*new, Entry::Session(record.clone())) {
        Ok(()) => Ok(Some(record)),
        Err(entry) => {
            // Re-filing under the key just vacated fits in the slot just freed.
            let _refiled = map.insert(*old, entry);
            Err(StoreErrorKind::Capacity)
        }
    }
}

pub(super) fn remove_subject<D, M: Map<D>>(map: &mut M, subject: &SubjectKey) -> usize {
    let before = map.len();
    map.retain(|entry| !matches!(entry, Entry::Session(record) if record.subject() == subject));
    before.saturating_sub(map.len())
}

pub(super) fn revoke<D, M: Map<D>>(
    map: &mut M,
    key: &LookupKey,
    until: UnixTime,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    let until = match live(map, key, now) {
        Some(Entry::Revoked(stored)) => until.max(*stored),
        Some(_) => return Err(StoreErrorKind::Conflict),
        None if until <= now => return Ok(()),
        None => until,
    };
    insert(map, key, Entry::Revoked(until), now)
}

pub(super) fn is_revoked<D, M: Map<D>>(map: &M, key: &LookupKey, now: UnixTime) -> bool {
    matches!(live(map, key, now), Some(Entry::Revoked(_)))
}

pub(super) fn raise_watermark<D, M: Map<D>>(
    map: &mut M,
    key: &LookupKey,
    watermark: Watermark,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    let watermark = match live(map, key, now) {
        Some(Entry::Watermark(stored)) => watermark.merge(*stored),
        Some(_) => return Err(StoreErrorKind::Conflict),
        None if watermark.expires_at() <= now => return Ok(()),
        None => watermark,
    };
    insert(map, key, Entry::Watermark(watermark), now)
}

pub(super) fn watermark<D, M: Map<D>>(
    map: &M,
    key: &LookupKey,
    now: UnixTime,
) -> Option<Watermark> {
    match live(map, key, now) {
        Some(Entry::Watermark(mark)) => Some(*mark),
        _ => None,
    }
}

pub(super) fn purge_expired<D, M: Map<D>>(map: &mut M, now: UnixTime) -> usize {
    let before = map.len();
    map.retain(|entry| entry.is_live(now));
    before.saturating_sub(map.len())
}

fn live<'m, D, M: Map<D>>(map: &'m M, key: &LookupKey, now: UnixTime) -> Option<&'m Entry<D>> {
    map.get(key).filter(|entry| entry.is_live(now))
}

fn live_session<'m, D, M: Map<D>>(
    map: &'m mut M,
    key: &LookupKey,
    now: UnixTime,
) -> Option<&'m mut SessionRecord<D>> {
    match map.get_mut(key) {
        Some(Entry::Session(record)) if record.is_live(now) => Some(record),
        _ => None,
    }
}

/// Files `entry` under `key` (replacing whatever dead entry is there). When the map is
/// full, dead entries are purged to make room; live ones never are.
fn insert<D, M: Map<D>>(
    map: &mut M,
    key: &LookupKey,
    entry: Entry<D>,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    match map.insert(*key, entry) {
        Ok(()) => Ok(()),
        Err(entry) => {
            if purge_expired(map, now) == 0 {
                return Err(StoreErrorKind::Capacity);
            }
            map.insert(*key, entry)
                .map_err(|_| StoreErrorKind::Capacity)
        }
    }
}
