//! A fixed-capacity in-memory store that needs no allocator.

use core::fmt;

use super::table::{self, Revocation};
use super::{
    CreateOutcome, LookupKey, RevocationCheck, RevocationStore, SessionRecord, SessionSink,
    SessionStore, Store, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, Watermark,
};
use crate::time::UnixTime;

mod slots;

use slots::Slots;

/// An in-memory store for up to `S` sessions and, separately, up to `R` revoked tokens and
/// watermarks, in fixed-size tables with no allocator.
///
/// - `S` and `R` can be any size from 1 to 2<sup>32</sup> − 1, powers of two or not (checked
///   when `new` is compiled for them: `cargo build` reports a zero capacity, `cargo check`
///   does not).
/// - A lookup goes straight to the slot named by the key's first bytes (the key is a
///   SHA-256 digest, so they are uniform) and takes about the same time however many
///   entries the table holds, until it is nearly full.
/// - When a table is full, writing a new entry first purges its expired entries; if none
///   is expired the write fails with [`StoreErrorKind::Capacity`]. A live session, a live
///   revocation or a live watermark is never dropped to make room, and because the two
///   tables are separate, a table full of sessions never blocks a logout.
/// - Everything is lost when the store is dropped (on a reboot, for example): sessions
///   end, which is safe, but **revocations are forgotten too**, so revoked JWTs that have
///   not expired become usable again. Keep JWT lifetimes short, or rotate the signing key
///   after a restart, if that matters.
///
/// On a 64-bit target, for a `D` aligned to at most 8 bytes, a session takes 36 bytes (its
/// key and a 4-byte index slot) plus the [`SessionRecord<D>`] (72 bytes plus `D`, rounded
/// up to 8), and a revocation 60 bytes: about `S × (108 + size_of::<D>()) + R × 60` bytes
/// in all. `MemoryStore<u64, 16, 16>` is 2,848 bytes. Put it in a `static` (a new store is
/// all zeros, so it goes to `.bss` and takes no flash) or on the heap if the stack is
/// small.
///
/// Operations on a subject's sessions (listing them, the per-subject limit, ending them)
/// and purging go through every session; each one they remove moves one other entry and
/// a few index slots.
pub struct MemoryStore<D, const S: usize, const R: usize> {
    sessions: Slots<SessionRecord<D>, S>,
    revocations: Slots<Revocation, R>,
}

impl<D, const S: usize, const R: usize> MemoryStore<D, S, R> {
    /// An empty store.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            sessions: Slots::new(),
            revocations: Slots::new(),
        }
    }

    /// How many sessions, live or dead, the store holds.
    #[must_use]
    pub fn sessions_len(&self) -> usize {
        self.sessions.len()
    }

    /// How many revoked tokens and watermarks, live or dead, the store holds.
    #[must_use]
    pub fn revocations_len(&self) -> usize {
        self.revocations.len()
    }
}

impl<D: Send, const S: usize, const R: usize> Store for MemoryStore<D, S, R> {
    type Error = StoreErrorKind;

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        let sessions = table::purge_sessions(&mut self.sessions, now);
        let revocations = table::purge_revocations(&mut self.revocations, now);
        Ok(sessions.saturating_add(revocations))
    }
}

impl<D: Clone + Send + Sync, const S: usize, const R: usize> SessionStore<D>
    for MemoryStore<D, S, R>
{
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, Self::Error> {
        table::create(&mut self.sessions, key, record, limit, now)
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        Ok(table::get(&self.sessions, key, now))
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, Self::Error> {
        Ok(table::update(
            &mut self.sessions,
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
        Ok(table::touch(&mut self.sessions, key, idle_deadline, now))
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        Ok(table::remove(&mut self.sessions, key))
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Self::Error> {
        table::rotate(&mut self.sessions, old, new, now)
    }

    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, Self::Error> {
        Ok(table::remove_subject(&mut self.sessions, subject, keep))
    }

    async fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, Self::Error> {
        Ok(table::list_subject(&self.sessions, subject, now, out))
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        Ok(table::remove_owned(&mut self.sessions, key, subject, now))
    }

    fn session_capacity(&self) -> Option<usize> {
        Some(S)
    }
}

impl<D: Send, const S: usize, const R: usize> RevocationStore for MemoryStore<D, S, R> {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::revoke(&mut self.revocations, key, until, now)
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        Ok(table::is_revoked(&self.revocations, key, now))
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        table::raise_watermark(&mut self.revocations, key, watermark, now)
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        Ok(table::watermark(&self.revocations, key, now))
    }

    /// The lookups of the single calls, in their order, without their futures.
    async fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, Self::Error> {
        let revocations = &self.revocations;
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
        Some(R)
    }
}

impl<D, const S: usize, const R: usize> Default for MemoryStore<D, S, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D, const S: usize, const R: usize> fmt::Debug for MemoryStore<D, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("sessions", &self.sessions.len())
            .field("session_capacity", &S)
            .field("revocations", &self.revocations.len())
            .field("revocation_capacity", &R)
            .finish_non_exhaustive()
    }
}

impl<D, const N: usize> table::Sessions<D> for Slots<SessionRecord<D>, N> {
    fn get(&self, key: &LookupKey) -> Option<&SessionRecord<D>> {
        Slots::get(self, key)
    }

    fn get_mut(&mut self, key: &LookupKey) -> Option<&mut SessionRecord<D>> {
        Slots::get_mut(self, key)
    }

    fn insert(&mut self, key: LookupKey, record: SessionRecord<D>) -> Result<(), SessionRecord<D>> {
        Slots::insert(self, key, record)
    }

    fn remove(&mut self, key: &LookupKey) -> Option<SessionRecord<D>> {
        Slots::remove(self, key)
    }

    fn retain(&mut self, keep: impl FnMut(&LookupKey, &SessionRecord<D>) -> bool) {
        Slots::retain(self, keep);
    }

    fn for_subject(&self, subject: &SubjectKey, mut f: impl FnMut(&LookupKey, &SessionRecord<D>)) {
        self.iter()
            .filter(|(_, record)| record.subject() == subject)
            .for_each(|(key, record)| f(key, record));
    }

    fn len(&self) -> usize {
        Slots::len(self)
    }
}

impl<const N: usize> table::Revocations for Slots<Revocation, N> {
    fn get(&self, key: &LookupKey) -> Option<&Revocation> {
        Slots::get(self, key)
    }

    fn insert(&mut self, key: LookupKey, entry: Revocation) -> Result<(), Revocation> {
        Slots::insert(self, key, entry)
    }

    fn retain(&mut self, mut keep: impl FnMut(&Revocation) -> bool) {
        Slots::retain(self, |_, entry| keep(entry));
    }

    fn len(&self) -> usize {
        Slots::len(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::block_on;

    /// The figure in the type's documentation.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn size_on_64_bit_targets() {
        assert_eq!(core::mem::size_of::<MemoryStore<u64, 16, 16>>(), 2848);
    }

    #[test]
    fn full_of_live_sessions_refuses_them_but_still_revokes() {
        let mut store: MemoryStore<u8, 2, 2> = MemoryStore::new();
        let keys = [1, 2, 3].map(|b| LookupKey::for_session(&[b; 32]));
        let now = UnixTime::from_secs(10);
        for key in &keys[..2] {
            let created = block_on(store.create(key, SessionRecord::expiring(100), None, now));
            assert_eq!(created, Ok(CreateOutcome::Created { ended: 0 }));
        }
        assert_eq!(
            block_on(store.create(&keys[2], SessionRecord::expiring(100), None, now)),
            Err(StoreErrorKind::Capacity)
        );
        // Revocations have their own table: a store full of sessions still logs out.
        let token = LookupKey::for_revoked_token(None, "t");
        assert_eq!(
            block_on(store.revoke(&token, UnixTime::from_secs(100), now)),
            Ok(())
        );
        assert_eq!(block_on(store.is_revoked(&token, now)), Ok(true));
        for key in &keys[..2] {
            assert!(matches!(block_on(store.get(key, now)), Ok(Some(_))));
        }
        // Once one has expired, its slot is reused.
        let later = UnixTime::from_secs(100);
        let created = block_on(store.create(&keys[2], SessionRecord::expiring(200), None, later));
        assert_eq!(created, Ok(CreateOutcome::Created { ended: 0 }));
        assert_eq!(store.sessions_len(), 1);
    }
}
