//! The conformance suite over every store in the crate, and over broken stores to show
//! that it catches what it claims to.
#![cfg(feature = "conformance")]
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

extern crate alloc;

mod support;

use alloc::sync::Arc;
use std::collections::HashMap;

use support::{Suspending, TestRng, at, block_on};
use tokenstile::UnixTime;
use tokenstile::session::SessionRecord;
use tokenstile::store::conformance::{self, ConformanceFailure};
use tokenstile::store::{
    LookupKey, MemoryStore, SessionStore, SharedStore, StoreErrorKind, SubjectKey, Watermark,
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
    S: SessionStore<Data = Data>,
{
    conformance::check_store(store, &mut TestRng::new(seed), at(0), sample)
}

#[test]
fn memory_store_passes() {
    check(&mut MemoryStore::<Data, 16>::new(), 1).unwrap();
    check(&mut MemoryStore::<Data, 128>::new(), 2).unwrap();
    // Through the blanket impl for `&mut T`, and twice on the same store.
    let mut store = MemoryStore::<Data, 32>::new();
    check(&mut &mut store, 3).unwrap();
    check(&mut store, 4).unwrap();
}

#[test]
fn shared_store_passes() {
    check(&mut SharedStore::<Data>::new(), 5).unwrap();
    check(&mut SharedStore::<Data>::with_max_entries(24), 6).unwrap();
    let shared = SharedStore::<Data>::with_max_entries(64);
    check(&mut &shared, 7).unwrap();
}

#[test]
fn shared_store_passes_from_many_threads_at_once() {
    let shared = Arc::new(SharedStore::<Data>::new());
    let threads: Vec<_> = (0..4)
        .map(|seed| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || check(&mut &*shared, 100 + seed))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
}

#[test]
fn async_suite_runs_on_a_suspending_store() {
    let mut store = Suspending::new(MemoryStore::<Data, 16>::new());
    block_on(conformance::check_async_store(
        &mut store,
        &mut TestRng::new(8),
        at(0),
        sample,
    ))
    .unwrap();
    assert!(store.suspensions.get() > 50);
    // Sync stores are async stores too.
    let mut sync = SharedStore::<Data>::new();
    block_on(conformance::check_async_store(
        &mut sync,
        &mut TestRng::new(9),
        at(0),
        sample,
    ))
    .unwrap();
}

/// A store with one deliberate defect, to check that the suite notices it.
#[derive(Clone, Copy, PartialEq)]
enum Defect {
    CreateOverwrites,
    EvictsLiveSessions,
    GetReturnsExpired,
    RotateCopies,
    RotateOverwrites,
    TouchResurrects,
    UpdateResurrects,
    WatermarkLowers,
    RemoveSubjectMissesRotated,
}

struct Faulty {
    inner: MemoryStore<Data, 16>,
    defect: Defect,
    rotated: Vec<LookupKey>,
    marks: HashMap<[u8; 32], Watermark>,
}

impl SessionStore for Faulty {
    type Data = Data;
    type Error = StoreErrorKind;

    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Data>,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        if self.defect == Defect::CreateOverwrites {
            self.inner.remove(key)?;
        }
        match self.inner.create(key, record.clone(), now) {
            Err(StoreErrorKind::Capacity) if self.defect == Defect::EvictsLiveSessions => {
                // Drop some live session to make room.
                let victim = SubjectKey::from_bytes(*record.subject().as_bytes());
                self.inner.remove_subject(&victim)?;
                self.inner.create(key, record, now)
            }
            result => result,
        }
    }

    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Data>>, StoreErrorKind> {
        if self.defect == Defect::GetReturnsExpired {
            return self.inner.get(key, UnixTime::EPOCH);
        }
        self.inner.get(key, now)
    }

    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Data>,
        now: UnixTime,
    ) -> Result<bool, StoreErrorKind> {
        if self.defect == Defect::UpdateResurrects
            && !self.inner.update(key, record.clone(), now)?
        {
            self.inner.create(key, record, now)?;
            return Ok(true);
        }
        self.inner.update(key, record, now)
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreErrorKind> {
        let touched = self.inner.touch(key, idle_deadline, now)?;
        if !touched && self.defect == Defect::TouchResurrects {
            let record = SessionRecord::from_parts(
                SubjectKey::new("ghost"),
                sample(0),
                now,
                now,
                idle_deadline,
                idle_deadline,
            );
            self.inner.create(key, record, now)?;
        }
        Ok(touched)
    }

    fn remove(&mut self, key: &LookupKey) -> Result<bool, StoreErrorKind> {
        self.inner.remove(key)
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Data>>, StoreErrorKind> {
        match self.defect {
            Defect::RotateCopies => {
                let Some(record) = self.inner.get(old, now)? else {
                    return Ok(None);
                };
                self.inner.create(new, record.clone(), now)?;
                Ok(Some(record))
            }
            Defect::RotateOverwrites => {
                self.inner.remove(new)?;
                self.inner.rotate(old, new, now)
            }
            Defect::RemoveSubjectMissesRotated => {
                // Moves the session but files it under another subject's index.
                let Some(record) = self.inner.rotate(old, new, now)? else {
                    return Ok(None);
                };
                self.rotated.push(*new);
                Ok(Some(record))
            }
            _ => self.inner.rotate(old, new, now),
        }
    }

    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, StoreErrorKind> {
        if self.defect == Defect::RemoveSubjectMissesRotated {
            // Forget the rotated sessions while deleting: they survive.
            let mut saved = Vec::new();
            for key in &self.rotated {
                if let Some(record) = self.inner.get(key, UnixTime::EPOCH)? {
                    saved.push((*key, record));
                }
            }
            let removed = self.inner.remove_subject(subject)?;
            for (key, record) in saved {
                self.inner.create(&key, record, UnixTime::EPOCH)?;
            }
            return Ok(removed);
        }
        self.inner.remove_subject(subject)
    }

    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        self.inner.revoke(key, until, now)
    }

    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, StoreErrorKind> {
        self.inner.is_revoked(key, now)
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        if self.defect == Defect::WatermarkLowers {
            // Overwrites instead of merging.
            self.marks.insert(*key.as_bytes(), watermark);
            return Ok(());
        }
        self.inner.raise_watermark(key, watermark, now)
    }

    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, StoreErrorKind> {
        if self.defect == Defect::WatermarkLowers {
            let mark = self.marks.get(key.as_bytes()).copied();
            return Ok(mark.filter(|m| now < m.expires_at()));
        }
        self.inner.watermark(key, now)
    }

    fn purge_expired(&mut self, now: UnixTime) -> Result<usize, StoreErrorKind> {
        self.inner.purge_expired(now)
    }

    fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }
}

#[test]
fn suite_catches_each_defect_in_the_right_check() {
    let cases = [
        (Defect::CreateOverwrites, "create_never_overwrites"),
        (Defect::EvictsLiveSessions, "capacity"),
        (Defect::GetReturnsExpired, "expiry"),
        (Defect::RotateCopies, "rotate"),
        (Defect::RotateOverwrites, "rotate"),
        // Caught reviving an expired session before the touch check proper.
        (Defect::TouchResurrects, "expiry"),
        (Defect::UpdateResurrects, "create_get_update_remove"),
        (Defect::WatermarkLowers, "watermark"),
        (Defect::RemoveSubjectMissesRotated, "remove_subject"),
    ];
    for (defect, check_name) in cases {
        let mut store = Faulty {
            inner: MemoryStore::new(),
            defect,
            rotated: Vec::new(),
            marks: HashMap::new(),
        };
        let failure = check(&mut store, 10).unwrap_err();
        assert_eq!(failure.check(), check_name, "{failure}");
    }
}

#[test]
fn failure_reports_the_check_and_the_store_error() {
    let mut store = MemoryStore::<Data, 16>::new();
    // Fill the store completely so the very first create fails with Capacity.
    for n in 0..16u8 {
        let key = tokenstile::session::SessionId::parse(&format!("{:A<42}E", char::from(b'a' + n)))
            .unwrap()
            .lookup_key();
        let record = SessionRecord::from_parts(
            SubjectKey::new("x"),
            sample(0),
            at(0),
            at(0),
            at(1_000_000),
            at(1_000_000),
        );
        store.create(&key, record, at(0)).unwrap();
    }
    let failure = check(&mut store, 11).unwrap_err();
    assert_eq!(failure.check(), "create_get_update_remove");
    assert_eq!(failure.store_error(), Some(StoreErrorKind::Capacity));
    assert_eq!(
        failure.to_string(),
        "store conformance check `create_get_update_remove` failed: create to succeed (store error: store is full)"
    );
}
