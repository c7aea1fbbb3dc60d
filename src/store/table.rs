//! The store semantics, written once over two maps: sessions, and revocations.
//!
//! [`MemoryStore`](super::MemoryStore) and `SharedStore` differ only in the maps they use
//! and in locking; both call these functions, so they behave identically. Sessions and
//! revocations live in separate maps with separate capacities, so sessions can never
//! crowd out a logout.

use super::{
    CreateOutcome, LookupKey, SessionHandle, SessionRecord, SessionSink, StoreErrorKind,
    SubjectKey, SubjectLimit, UpdateOutcome, Watermark, WhenFull,
};
use crate::time::UnixTime;

/// A session map: what the semantics need from it.
pub(super) trait Sessions<D> {
    fn get(&self, key: &LookupKey) -> Option<&SessionRecord<D>>;
    fn get_mut(&mut self, key: &LookupKey) -> Option<&mut SessionRecord<D>>;
    /// Inserts or replaces. Fails, giving the record back, only when the key is absent
    /// and the map is full.
    fn insert(&mut self, key: LookupKey, record: SessionRecord<D>) -> Result<(), SessionRecord<D>>;
    fn remove(&mut self, key: &LookupKey) -> Option<SessionRecord<D>>;
    /// Keeps the sessions for which `keep` is true, asking it once about each.
    fn retain(&mut self, keep: impl FnMut(&LookupKey, &SessionRecord<D>) -> bool);
    /// Calls `f` for each session of `subject`, live or dead.
    fn for_subject(&self, subject: &SubjectKey, f: impl FnMut(&LookupKey, &SessionRecord<D>));
    /// Keeps the sessions of `subject` for which `keep` is true, and every other session.
    fn retain_subject(
        &mut self,
        subject: &SubjectKey,
        mut keep: impl FnMut(&LookupKey, &SessionRecord<D>) -> bool,
    ) {
        self.retain(|key, record| record.subject() != subject || keep(key, record));
    }
    fn len(&self) -> usize;
}

/// A revocation map: what the semantics need from it.
pub(super) trait Revocations {
    fn get(&self, key: &LookupKey) -> Option<&Revocation>;
    /// Inserts or replaces. Fails, giving the entry back, only when the key is absent and
    /// the map is full.
    fn insert(&mut self, key: LookupKey, entry: Revocation) -> Result<(), Revocation>;
    /// Keeps the entries for which `keep` is true, asking it once about each.
    fn retain(&mut self, keep: impl FnMut(&Revocation) -> bool);
    fn len(&self) -> usize;
}

/// One entry of the revocation map. Keys of the two kinds come from different hash
/// domains, so they share one map without colliding.
#[derive(Clone, Copy)]
pub(super) enum Revocation {
    Token(UnixTime),
    Watermark(Watermark),
}

impl Revocation {
    fn is_live(&self, now: UnixTime) -> bool {
        now < match self {
            Self::Token(until) => *until,
            Self::Watermark(mark) => mark.expires_at(),
        }
    }
}

pub(super) fn create<D, M: Sessions<D>>(
    map: &mut M,
    key: &LookupKey,
    record: SessionRecord<D>,
    limit: Option<SubjectLimit>,
    now: UnixTime,
) -> Result<CreateOutcome, StoreErrorKind> {
    if live(map, key, now).is_some() {
        return Err(StoreErrorKind::Conflict);
    }
    let subject = *record.subject();
    let mut ended = 0usize;
    if let Some(limit) = limit {
        // Dead sessions of the subject don't count; drop them.
        map.retain_subject(&subject, |_, r| r.is_live(now));
        let mut count = 0usize;
        map.for_subject(&subject, |_, _| count = count.saturating_add(1));
        if count >= limit.max() {
            if limit.when_full() == WhenFull::Refuse {
                return Ok(CreateOutcome::LimitReached);
            }
            // Ending the oldest frees at least one slot, so the insert below fits.
            while count >= limit.max() {
                let Some(oldest) = oldest_of(map, &subject) else {
                    break;
                };
                map.remove(&oldest);
                count = count.saturating_sub(1);
                ended = ended.saturating_add(1);
            }
        }
    }
    insert_session(map, key, record, now)?;
    Ok(CreateOutcome::Created { ended })
}

pub(super) fn get<D: Clone, M: Sessions<D>>(
    map: &M,
    key: &LookupKey,
    now: UnixTime,
) -> Option<SessionRecord<D>> {
    live(map, key, now).cloned()
}

pub(super) fn update<D: Clone, M: Sessions<D>>(
    map: &mut M,
    key: &LookupKey,
    version: u64,
    data: &D,
    idle_deadline: UnixTime,
    now: UnixTime,
) -> UpdateOutcome {
    let Some(stored) = live_mut(map, key, now) else {
        return UpdateOutcome::NotFound;
    };
    match stored.apply_update(version, data.clone(), idle_deadline, now) {
        Some(version) => UpdateOutcome::Updated { version },
        None => UpdateOutcome::Stale,
    }
}

pub(super) fn touch<D, M: Sessions<D>>(
    map: &mut M,
    key: &LookupKey,
    idle_deadline: UnixTime,
    now: UnixTime,
) -> bool {
    live_mut(map, key, now)
        .map(|stored| stored.touch(idle_deadline, now))
        .is_some()
}

pub(super) fn remove<D, M: Sessions<D>>(map: &mut M, key: &LookupKey) -> bool {
    map.remove(key).is_some()
}

pub(super) fn rotate<D: Clone, M: Sessions<D>>(
    map: &mut M,
    old: &LookupKey,
    new: &LookupKey,
    now: UnixTime,
) -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
    if live(map, new, now).is_some() {
        return Err(StoreErrorKind::Conflict);
    }
    // The copy handed back is made first, while the session is still filed: a panicking
    // `Clone` of `D` leaves it where it was.
    let Some(copy) = live(map, old, now).cloned() else {
        return Ok(None);
    };
    // `old` holds a live session, checked just above.
    let Some(record) = map.remove(old) else {
        return Ok(None);
    };
    // A slot was just freed, so this insert can't run out of room. Should it anyway, the
    // session goes back where it was rather than being lost.
    match map.insert(*new, record) {
        Ok(()) => Ok(Some(copy)),
        Err(record) => {
            // Re-filing under the key just vacated fits in the slot just freed.
            let _refiled = map.insert(*old, record);
            Err(StoreErrorKind::Capacity)
        }
    }
}

pub(super) fn remove_subject<D, M: Sessions<D>>(
    map: &mut M,
    subject: &SubjectKey,
    keep: Option<&LookupKey>,
) -> usize {
    let mut removed = 0usize;
    map.retain_subject(subject, |key, _| {
        let kept = keep.is_some_and(|keep| keep == key);
        if !kept {
            removed = removed.saturating_add(1);
        }
        kept
    });
    removed
}

pub(super) fn list_subject<D: Clone, M: Sessions<D>, O: SessionSink<D>>(
    map: &M,
    subject: &SubjectKey,
    now: UnixTime,
    out: &mut O,
) -> usize {
    let mut count = 0usize;
    map.for_subject(subject, |key, record| {
        if record.is_live(now) {
            out.push(SessionHandle::new(*key), record.clone());
            count = count.saturating_add(1);
        }
    });
    count
}

pub(super) fn remove_owned<D, M: Sessions<D>>(
    map: &mut M,
    key: &LookupKey,
    subject: &SubjectKey,
    now: UnixTime,
) -> bool {
    if live(map, key, now).is_some_and(|record| record.subject() == subject) {
        return map.remove(key).is_some();
    }
    false
}

pub(super) fn revoke<R: Revocations>(
    map: &mut R,
    key: &LookupKey,
    until: UnixTime,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    let until = match live_revocation(map, key, now) {
        Some(Revocation::Token(stored)) => until.max(*stored),
        // Keys of the two kinds never collide; a watermark here is a broken invariant.
        Some(Revocation::Watermark(_)) => return Err(StoreErrorKind::Conflict),
        None if until <= now => return Ok(()),
        None => until,
    };
    insert_revocation(map, key, Revocation::Token(until), now)
}

pub(super) fn is_revoked<R: Revocations>(map: &R, key: &LookupKey, now: UnixTime) -> bool {
    matches!(live_revocation(map, key, now), Some(Revocation::Token(_)))
}

pub(super) fn raise_watermark<R: Revocations>(
    map: &mut R,
    key: &LookupKey,
    watermark: Watermark,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    let watermark = match live_revocation(map, key, now) {
        Some(Revocation::Watermark(stored)) => watermark.merge(*stored),
        Some(Revocation::Token(_)) => return Err(StoreErrorKind::Conflict),
        None if watermark.expires_at() <= now => return Ok(()),
        None => watermark,
    };
    insert_revocation(map, key, Revocation::Watermark(watermark), now)
}

pub(super) fn watermark<R: Revocations>(
    map: &R,
    key: &LookupKey,
    now: UnixTime,
) -> Option<Watermark> {
    match live_revocation(map, key, now) {
        Some(Revocation::Watermark(mark)) => Some(*mark),
        _ => None,
    }
}

pub(super) fn purge_sessions<D, M: Sessions<D>>(map: &mut M, now: UnixTime) -> usize {
    let before = map.len();
    map.retain(|_, record| record.is_live(now));
    before.saturating_sub(map.len())
}

pub(super) fn purge_revocations<R: Revocations>(map: &mut R, now: UnixTime) -> usize {
    let before = map.len();
    map.retain(|entry| entry.is_live(now));
    before.saturating_sub(map.len())
}

fn live<'m, D, M: Sessions<D>>(
    map: &'m M,
    key: &LookupKey,
    now: UnixTime,
) -> Option<&'m SessionRecord<D>> {
    map.get(key).filter(|record| record.is_live(now))
}

fn live_mut<'m, D, M: Sessions<D>>(
    map: &'m mut M,
    key: &LookupKey,
    now: UnixTime,
) -> Option<&'m mut SessionRecord<D>> {
    map.get_mut(key).filter(|record| record.is_live(now))
}

fn live_revocation<'m, R: Revocations>(
    map: &'m R,
    key: &LookupKey,
    now: UnixTime,
) -> Option<&'m Revocation> {
    map.get(key).filter(|entry| entry.is_live(now))
}

/// The key of `subject`'s session created first (ties broken by key bytes, so every
/// store picks the same one).
fn oldest_of<D, M: Sessions<D>>(map: &M, subject: &SubjectKey) -> Option<LookupKey> {
    let mut oldest: Option<(UnixTime, LookupKey)> = None;
    map.for_subject(subject, |key, record| {
        let candidate = (record.created(), *key);
        let older = match &oldest {
            None => true,
            Some((created, k)) => {
                candidate.0 < *created
                    || (candidate.0 == *created
                        && bytes_before(candidate.1.as_bytes(), k.as_bytes()))
            }
        };
        if older {
            oldest = Some(candidate);
        }
    });
    oldest.map(|(_, key)| key)
}

/// Whether `a` sorts before `b`, byte by byte.
fn bytes_before(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b)
        .find(|(x, y)| x != y)
        .is_some_and(|(x, y)| x < y)
}

/// Files `record` under `key` (replacing whatever dead session is there). When the map is
/// full, dead sessions are purged to make room; live ones never are.
fn insert_session<D, M: Sessions<D>>(
    map: &mut M,
    key: &LookupKey,
    record: SessionRecord<D>,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    match map.insert(*key, record) {
        Ok(()) => Ok(()),
        Err(record) => {
            if purge_sessions(map, now) == 0 {
                return Err(StoreErrorKind::Capacity);
            }
            map.insert(*key, record)
                .map_err(|_| StoreErrorKind::Capacity)
        }
    }
}

/// As [`insert_session`], for the revocation map.
fn insert_revocation<R: Revocations>(
    map: &mut R,
    key: &LookupKey,
    entry: Revocation,
    now: UnixTime,
) -> Result<(), StoreErrorKind> {
    match map.insert(*key, entry) {
        Ok(()) => Ok(()),
        Err(entry) => {
            if purge_revocations(map, now) == 0 {
                return Err(StoreErrorKind::Capacity);
            }
            map.insert(*key, entry)
                .map_err(|_| StoreErrorKind::Capacity)
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    extern crate alloc;

    use alloc::vec;

    use super::bytes_before;

    /// The tie-break orders keys as `<` on their bytes does (the order the other stores'
    /// queries use): equal keys, and keys that differ first in the first, a middle or the
    /// last byte, either way round, at the extremes of a byte's values.
    #[test]
    fn bytes_before_is_the_order_of_the_bytes() {
        let mut keys = vec![[0u8; 32], [0xff; 32]];
        for at in [0, 15, 31] {
            for (low, high) in [(0x00, 0x01), (0x7f, 0x80), (0xfe, 0xff)] {
                let mut a = [0x55u8; 32];
                let mut b = a;
                a[at] = low;
                b[at] = high;
                // Later bytes that would order the other way.
                if at < 31 {
                    a[31] = 0xff;
                    b[31] = 0x00;
                }
                keys.extend([a, b]);
            }
        }
        for a in &keys {
            for b in &keys {
                assert_eq!(bytes_before(a, b), a < b, "{a:?} {b:?}");
            }
        }
    }
}
