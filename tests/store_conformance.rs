//! The conformance suite over every store in the crate, and over broken stores to show
//! that it catches what it claims to.
#![cfg(feature = "conformance")]
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

mod support;

use std::collections::HashMap;

use support::{Instrumented, TestRng, Wait, at};
use tokenstile::UnixTime;
use tokenstile::store::conformance::{self, ConformanceFailure};
use tokenstile::store::{
    CreateOutcome, LookupKey, MemoryStore, RevocationCheck, RevocationStore, SessionRecord,
    SessionSink, SessionStore, SharedStore, Store, StoreErrorKind, SubjectKey, SubjectLimit,
    UpdateOutcome, Watermark, WhenFull,
};

#[derive(Clone, Debug, PartialEq)]
struct Data {
    n: u32,
    name: heapless::String<16>,
}

fn sample(n: u32) -> Data {
    let mut name = heapless::String::new();
    name.push_str("user").unwrap();
    Data { n, name }
}

fn check<S>(store: &mut S, seed: u64) -> Result<(), ConformanceFailure>
where
    S: SessionStore<Data> + RevocationStore,
{
    conformance::check_store(store, &mut TestRng::new(seed), at(0), sample).wait()
}

#[test]
fn memory_store_passes() {
    check(&mut MemoryStore::<Data, 16, 16>::new(), 1).unwrap();
    check(&mut MemoryStore::<Data, 128, 8>::new(), 2).unwrap();
    // Through the blanket impl for `&mut T`, and twice on the same store.
    let mut store = MemoryStore::<Data, 32, 32>::new();
    check(&mut &mut store, 3).unwrap();
    check(&mut store, 4).unwrap();
}

#[test]
fn shared_store_passes() {
    check(&mut SharedStore::<Data>::new(), 5).unwrap();
    check(&mut SharedStore::<Data>::with_capacity(24, 12), 6).unwrap();
    let shared = SharedStore::<Data>::with_capacity(64, 64);
    check(&mut shared.clone(), 7).unwrap();
}

/// The smallest stores the suite's docs promise to pass: five sessions, two revocations.
#[test]
fn small_stores_pass() {
    macro_rules! memory {
        ($($s:literal, $r:literal);* $(;)?) => {$(
            check(&mut MemoryStore::<Data, $s, $r>::new(), 20)
                .unwrap_or_else(|e| panic!("MemoryStore<_, {}, {}>: {e}", $s, $r));
        )*};
    }
    memory!(5, 2; 5, 3; 5, 4; 5, 5; 5, 6; 5, 7; 6, 2; 7, 2; 8, 2; 16, 2; 16, 3; 16, 7);
    for sessions in 5..=9 {
        for revocations in 2..=9 {
            check(
                &mut SharedStore::<Data>::with_capacity(sessions, revocations),
                21,
            )
            .unwrap_or_else(|e| panic!("SharedStore({sessions}, {revocations}): {e}"));
        }
    }
}

#[test]
fn the_parts_run_on_their_own() {
    let mut store = MemoryStore::<Data, 16, 16>::new();
    let mut rng = TestRng::new(12);
    conformance::check_sessions(&mut store, &mut rng, at(0), sample)
        .wait()
        .unwrap();
    conformance::check_revocations(&mut store, &mut rng, at(0))
        .wait()
        .unwrap();
}

#[test]
fn the_suite_runs_on_a_store_that_suspends() {
    let mut store = Instrumented::suspending(MemoryStore::<Data, 16, 16>::new());
    check(&mut store, 8).unwrap();
    assert!(store.suspensions > 50);
}

/// A store with one deliberate defect, to check that the suite notices it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Defect {
    CheckIgnoresExpiry,
    CheckIgnoresWatermark,
    CreateOverwrites,
    EndOldestCountsDead,
    EndsNewest,
    EvictsLiveSessions,
    GetReturnsExpired,
    IgnoresLimit,
    IgnoresKeep,
    ListsDeadSessions,
    PurgeDoesNothing,
    PurgeMiscounts,
    PurgeReportsNothing,
    PurgeSkipsRevocations,
    RemoveOwnedIgnoresSubject,
    RemoveSubjectMissesRotated,
    RevocationsShareCapacity,
    RevokeLowers,
    RotateCopies,
    RotateNeedsRoom,
    RotateOverwrites,
    TouchResurrects,
    UpdateIgnoresVersion,
    UpdateKeepsIdleDeadline,
    UpdateOverwritesActivity,
    UpdateResurrects,
    WatermarkLowers,
}

struct Faulty {
    inner: MemoryStore<Data, 16, 16>,
    defect: Defect,
    rotated: Vec<LookupKey>,
    marks: HashMap<[u8; 32], Watermark>,
    revoked: HashMap<[u8; 32], UnixTime>,
    created: Vec<LookupKey>,
}

impl Faulty {
    fn new(defect: Defect) -> Self {
        Self {
            inner: MemoryStore::new(),
            defect,
            rotated: Vec::new(),
            marks: HashMap::new(),
            revoked: HashMap::new(),
            created: Vec::new(),
        }
    }

    fn has(&self, defect: Defect) -> bool {
        self.defect == defect
    }
}

impl Store for Faulty {
    type Error = StoreErrorKind;

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, StoreErrorKind> {
        if self.has(Defect::PurgeDoesNothing) {
            // As if its entries expired on their own, which they don't.
            return Ok(0);
        }
        let purged = self.inner.purge_expired(now).await?;
        match self.defect {
            // Counts what it looked at, not what it deleted.
            Defect::PurgeMiscounts => Ok(purged + 1),
            Defect::PurgeReportsNothing => Ok(0),
            // With `PurgeSkipsRevocations`, the revocations it keeps itself stay.
            _ => Ok(purged),
        }
    }
}

impl SessionStore<Data> for Faulty {
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Data>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, StoreErrorKind> {
        if self.has(Defect::CreateOverwrites) {
            self.inner.remove(key).await?;
        }
        if let Some(limit) = limit
            && self.has(Defect::EndOldestCountsDead)
            && limit.when_full() == WhenFull::EndOldest
        {
            // Counts the subject's dead sessions too, and ends the oldest to make room.
            if self.inner.get(key, now).await?.is_some() {
                return Err(StoreErrorKind::Conflict);
            }
            let mut all = Vec::new();
            for key in self.created.clone() {
                if let Some(r) = self.inner.get(&key, UnixTime::EPOCH).await?
                    && r.subject() == record.subject()
                {
                    all.push((r.created(), key));
                }
            }
            all.sort_by_key(|(created, _)| *created);
            let ended = (all.len() + 1).saturating_sub(limit.max());
            for (_, oldest) in all.iter().take(ended) {
                self.inner.remove(oldest).await?;
            }
            self.created.push(*key);
            self.inner.create(key, record, None, now).await?;
            return Ok(CreateOutcome::Created { ended });
        }
        let limit = match limit {
            _ if self.has(Defect::IgnoresLimit) => None,
            Some(limit)
                if self.has(Defect::EndsNewest) && limit.when_full() == WhenFull::EndOldest =>
            {
                // Ends the newest session instead of the oldest.
                let mut live = Vec::new();
                for key in self.created.clone() {
                    if let Some(r) = self.inner.get(&key, now).await?
                        && r.subject() == record.subject()
                    {
                        live.push((r.created(), key));
                    }
                }
                if live.len() >= limit.max() {
                    live.sort_by_key(|(created, _)| *created);
                    let (_, newest) = live.last().unwrap();
                    self.inner.remove(newest).await?;
                }
                None
            }
            limit => limit,
        };
        self.created.push(*key);
        match self.inner.create(key, record.clone(), limit, now).await {
            Err(StoreErrorKind::Capacity) if self.has(Defect::EvictsLiveSessions) => {
                // Drops some live session to make room.
                let victim = *record.subject();
                self.inner.remove_subject(&victim, None).await?;
                self.inner.create(key, record, limit, now).await
            }
            result => result,
        }
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Data>>, StoreErrorKind> {
        if self.has(Defect::GetReturnsExpired) {
            return self.inner.get(key, UnixTime::EPOCH).await;
        }
        self.inner.get(key, now).await
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &Data,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, StoreErrorKind> {
        let current = self.inner.get(key, now).await?;
        if self.has(Defect::UpdateIgnoresVersion)
            && let Some(current) = &current
        {
            return self
                .inner
                .update(key, current.version(), data, idle_deadline, now)
                .await;
        }
        if self.has(Defect::UpdateKeepsIdleDeadline)
            && let Some(current) = &current
        {
            // Writes the data and the version, but keeps the stored idle deadline.
            return self
                .inner
                .update(key, version, data, current.idle_deadline(), now)
                .await;
        }
        if self.has(Defect::UpdateOverwritesActivity)
            && let Some(current) = &current
            && current.version() == version
        {
            // Writes `now` and the idle deadline given, even where they are earlier.
            let updated = SessionRecord::from_parts(
                *current.subject(),
                data.clone(),
                current.created(),
                now,
                idle_deadline,
                current.absolute_deadline(),
                version + 1,
            );
            self.inner.remove(key).await?;
            self.inner.create(key, updated, None, now).await?;
            return Ok(UpdateOutcome::Updated {
                version: version + 1,
            });
        }
        if self.has(Defect::UpdateResurrects) && current.is_none() {
            let record = SessionRecord::new(
                SubjectKey::new("ghost"),
                data.clone(),
                now,
                idle_deadline,
                idle_deadline,
            );
            self.inner.create(key, record, None, now).await?;
            return Ok(UpdateOutcome::Updated {
                version: version + 1,
            });
        }
        self.inner
            .update(key, version, data, idle_deadline, now)
            .await
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreErrorKind> {
        let touched = self.inner.touch(key, idle_deadline, now).await?;
        if !touched && self.has(Defect::TouchResurrects) {
            let record = SessionRecord::new(
                SubjectKey::new("ghost"),
                sample(0),
                now,
                idle_deadline,
                idle_deadline,
            );
            self.inner.create(key, record, None, now).await?;
        }
        Ok(touched)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, StoreErrorKind> {
        self.inner.remove(key).await
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Data>>, StoreErrorKind> {
        match self.defect {
            Defect::RotateCopies => {
                let Some(record) = self.inner.get(old, now).await? else {
                    return Ok(None);
                };
                self.inner.create(new, record.clone(), None, now).await?;
                Ok(Some(record))
            }
            Defect::RotateNeedsRoom
                if Some(self.inner.sessions_len()) >= self.inner.session_capacity() =>
            {
                // Files the copy before removing the original.
                Err(StoreErrorKind::Capacity)
            }
            Defect::RotateOverwrites => {
                self.inner.remove(new).await?;
                self.inner.rotate(old, new, now).await
            }
            Defect::RemoveSubjectMissesRotated => {
                let Some(record) = self.inner.rotate(old, new, now).await? else {
                    return Ok(None);
                };
                self.rotated.push(*new);
                Ok(Some(record))
            }
            _ => self.inner.rotate(old, new, now).await,
        }
    }

    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, StoreErrorKind> {
        if self.has(Defect::IgnoresKeep) {
            return self.inner.remove_subject(subject, None).await;
        }
        if self.has(Defect::RemoveSubjectMissesRotated) {
            // Forgets the rotated sessions while deleting: they survive.
            let mut saved = Vec::new();
            for key in &self.rotated {
                if let Some(record) = self.inner.get(key, UnixTime::EPOCH).await? {
                    saved.push((*key, record));
                }
            }
            let removed = self.inner.remove_subject(subject, keep).await?;
            for (key, record) in saved {
                self.inner
                    .create(&key, record, None, UnixTime::EPOCH)
                    .await?;
            }
            return Ok(removed);
        }
        self.inner.remove_subject(subject, keep).await
    }

    async fn list_subject<O: SessionSink<Data> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, StoreErrorKind> {
        if self.has(Defect::ListsDeadSessions) {
            return self.inner.list_subject(subject, UnixTime::EPOCH, out).await;
        }
        self.inner.list_subject(subject, now, out).await
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, StoreErrorKind> {
        if self.has(Defect::RemoveOwnedIgnoresSubject) {
            return self.inner.remove(key).await;
        }
        self.inner.remove_owned(key, subject, now).await
    }

    fn session_capacity(&self) -> Option<usize> {
        self.inner.session_capacity()
    }
}

impl RevocationStore for Faulty {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        if self.has(Defect::RevocationsShareCapacity) && self.inner.sessions_len() >= 16 {
            return Err(StoreErrorKind::Capacity);
        }
        if self.has(Defect::RevokeLowers) {
            // Overwrites instead of keeping the later end.
            self.revoked.insert(*key.as_bytes(), until);
            return Ok(());
        }
        if self.has(Defect::PurgeSkipsRevocations) {
            let stored = self.revoked.entry(*key.as_bytes()).or_insert(until);
            *stored = until.max(*stored);
            return Ok(());
        }
        self.inner.revoke(key, until, now).await
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, StoreErrorKind> {
        if self.has(Defect::RevokeLowers) || self.has(Defect::PurgeSkipsRevocations) {
            return Ok(self
                .revoked
                .get(key.as_bytes())
                .is_some_and(|until| now < *until));
        }
        self.inner.is_revoked(key, now).await
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        if self.has(Defect::WatermarkLowers) {
            // Overwrites instead of merging.
            self.marks.insert(*key.as_bytes(), watermark);
            return Ok(());
        }
        self.inner.raise_watermark(key, watermark, now).await
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, StoreErrorKind> {
        if self.has(Defect::WatermarkLowers) {
            let mark = self.marks.get(key.as_bytes()).copied();
            return Ok(mark.filter(|m| now < m.expires_at()));
        }
        self.inner.watermark(key, now).await
    }

    async fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, StoreErrorKind> {
        // A store that trusts its TTLs to drop dead entries, where they linger: it judges
        // at the time the entries were written instead of at `now`.
        let now = if self.has(Defect::CheckIgnoresExpiry) {
            at(0)
        } else {
            now
        };
        for (index, key) in entries.iter().enumerate() {
            if self.is_revoked(key, now).await? {
                return Ok(RevocationCheck::Revoked(index));
            }
        }
        if self.has(Defect::CheckIgnoresWatermark) {
            return Ok(RevocationCheck::NotRevoked(None));
        }
        let found = match watermark {
            Some(key) => self.watermark(key, now).await?,
            None => None,
        };
        Ok(RevocationCheck::NotRevoked(found))
    }

    fn revocation_capacity(&self) -> Option<usize> {
        self.inner.revocation_capacity()
    }
}

#[test]
fn suite_catches_each_defect_in_the_right_check() {
    let cases = [
        (Defect::CheckIgnoresExpiry, "check_revoked"),
        (Defect::CheckIgnoresWatermark, "check_revoked"),
        (Defect::CreateOverwrites, "create_never_overwrites"),
        (Defect::EndOldestCountsDead, "limit_ends_oldest"),
        (Defect::EndsNewest, "limit_ends_oldest"),
        (Defect::EvictsLiveSessions, "session_capacity"),
        (Defect::GetReturnsExpired, "expiry"),
        (Defect::IgnoresLimit, "limit_refuses"),
        (Defect::IgnoresKeep, "remove_subject"),
        (Defect::ListsDeadSessions, "list_subject"),
        (Defect::PurgeDoesNothing, "purge_expired_sessions"),
        (Defect::PurgeMiscounts, "purge_expired_sessions"),
        (Defect::PurgeReportsNothing, "purge_expired_sessions"),
        (Defect::PurgeSkipsRevocations, "purge_expired_revocations"),
        (Defect::RemoveOwnedIgnoresSubject, "remove_owned"),
        (Defect::RemoveSubjectMissesRotated, "rotate"),
        (
            Defect::RevocationsShareCapacity,
            "sessions_never_block_revocations",
        ),
        (Defect::RevokeLowers, "revoke"),
        (Defect::RotateCopies, "rotate"),
        (Defect::RotateNeedsRoom, "session_capacity"),
        (Defect::RotateOverwrites, "rotate"),
        // Caught reviving an expired session before the touch check proper.
        (Defect::TouchResurrects, "expiry"),
        (Defect::UpdateIgnoresVersion, "update_is_versioned"),
        (Defect::UpdateKeepsIdleDeadline, "create_get_update_remove"),
        (Defect::UpdateOverwritesActivity, "update_is_versioned"),
        (Defect::UpdateResurrects, "create_get_update_remove"),
        (Defect::WatermarkLowers, "watermark"),
    ];
    for (defect, check_name) in cases {
        let failure = check(&mut Faulty::new(defect), 10).unwrap_err();
        assert_eq!(failure.check(), check_name, "{defect:?}: {failure}");
    }
    // Caught by the expectation written for them, not by an earlier one in the check.
    let cases = [
        (Defect::EndOldestCountsDead, "a dead session not to count"),
        (
            Defect::PurgeDoesNothing,
            "purge_expired of a store with a fixed",
        ),
        (
            Defect::PurgeReportsNothing,
            "purge_expired to report how many",
        ),
        (
            Defect::PurgeSkipsRevocations,
            "purge_expired of a store with a fixed",
        ),
        (Defect::RotateNeedsRoom, "rotate to succeed in a full store"),
        (
            Defect::UpdateKeepsIdleDeadline,
            "update to move the idle deadline",
        ),
        (
            Defect::UpdateOverwritesActivity,
            "update never to move last_seen",
        ),
    ];
    for (defect, expected) in cases {
        let failure = check(&mut Faulty::new(defect), 10).unwrap_err();
        assert!(
            failure.expected().starts_with(expected),
            "{defect:?}: {failure}"
        );
    }
}

#[test]
fn failure_reports_the_check_and_the_store_error() {
    let mut store = MemoryStore::<Data, 16, 16>::new();
    // Fill the store completely so the very first create fails with Capacity.
    for n in 0..16u8 {
        let key = tokenstile::session::SessionId::parse(&format!("{:A<42}E", char::from(b'a' + n)))
            .unwrap()
            .lookup_key();
        let record = SessionRecord::new(
            SubjectKey::new("x"),
            sample(0),
            at(0),
            at(1_000_000),
            at(1_000_000),
        );
        store.create(&key, record, None, at(0)).wait().unwrap();
    }
    let failure = check(&mut store, 11).unwrap_err();
    assert_eq!(failure.check(), "create_get_update_remove");
    assert_eq!(failure.store_error(), Some(StoreErrorKind::Capacity));
    assert_eq!(
        failure.to_string(),
        "store conformance check `create_get_update_remove` failed: create to succeed (store error: store is full)"
    );
}
