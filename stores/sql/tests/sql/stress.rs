//! Many tasks doing create / load / touch / save / rotate / destroy / destroy-subject /
//! revoke on overlapping sessions, through one pool per task group, then checks that
//! nothing acknowledged was lost, nothing removed came back, and no session was left
//! half-rotated (under both keys, or under none).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rand::{RngExt as _, SeedableRng as _};
use tokenstile::UnixTime;
use tokenstile::store::{
    CreateOutcome, LookupKey, RevocationStore, SessionHandle, SessionRecord, SessionStore, Store,
    SubjectKey, SubjectLimit, UpdateOutcome, Watermark, WhenFull,
};

use crate::conformance::{key, record, subject};
use crate::support::{Data, Database, TestStore, now};

const TASKS: usize = 12;
const OPS: usize = 60;
/// Subjects whose sessions tasks destroy, one by one or all at once.
const MORTAL: usize = 3;
/// Sessions created up front for a subject whose sessions are never destroyed.
const KEEPERS: u32 = 8;
/// Concurrent logins of one subject against a limit of 3, and how many times.
const LOGINS: usize = 12;
const ROUNDS: usize = 5;

#[derive(Clone, Copy)]
struct Entry {
    key: LookupKey,
    subject: usize,
    id: u32,
}

/// What the tasks share: the sessions they know of and what they were told.
struct Shared {
    subjects: Vec<SubjectKey>,
    live: Mutex<Vec<Entry>>,
    /// Keys that a removal or a rotation acknowledged as gone.
    dead: Mutex<HashSet<[u8; 32]>>,
    /// Keys a rotation moved a session away from: each at most once.
    rotated: Mutex<HashSet<[u8; 32]>>,
    /// Successful saves per logical session.
    saves: Vec<AtomicU64>,
    next_id: AtomicU64,
    violations: Mutex<Vec<String>>,
    /// The revocation keys, and the latest `until` acknowledged for each.
    revoked: Vec<(LookupKey, Mutex<UnixTime>)>,
    watermark: (LookupKey, Mutex<Option<Watermark>>),
    t: UnixTime,
}

impl Shared {
    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }

    fn is_dead(&self, key: &LookupKey) -> bool {
        self.dead.lock().unwrap().contains(key.as_bytes())
    }

    fn pick(&self, rng: &mut impl rand::Rng) -> Option<Entry> {
        let live = self.live.lock().unwrap();
        if live.is_empty() {
            return None;
        }
        Some(live[rng.random_range(0..live.len())])
    }
}

pub(crate) async fn run<DB: Database>(db: &DB) {
    let name = db.name();
    let store = db.open("stress_").await;
    let t = now();
    let mut subjects: Vec<SubjectKey> = (0..=MORTAL).map(|_| subject()).collect();
    subjects.shrink_to_fit();
    let keeper = MORTAL; // the last subject
    let shared = Arc::new(Shared {
        subjects,
        live: Mutex::new(Vec::new()),
        dead: Mutex::new(HashSet::new()),
        rotated: Mutex::new(HashSet::new()),
        saves: (0..(KEEPERS as usize + TASKS * OPS + 16))
            .map(|_| AtomicU64::new(0))
            .collect(),
        next_id: AtomicU64::new(u64::from(KEEPERS)),
        violations: Mutex::new(Vec::new()),
        revoked: (0..3).map(|_| (key(), Mutex::new(t))).collect(),
        watermark: (key(), Mutex::new(None)),
        t,
    });
    {
        let mut s = store.clone();
        for id in 0..KEEPERS {
            let k = key();
            let r = record(&shared.subjects[keeper], Data::new(id), t, 3600);
            SessionStore::<Data>::create(&mut s, &k, r, None, t)
                .await
                .unwrap();
            shared.live.lock().unwrap().push(Entry {
                key: k,
                subject: keeper,
                id,
            });
        }
    }

    // Half the tasks share one pool, the others have one each: several servers. All
    // pools are open before any task starts, so the tasks overlap.
    let mut stores = Vec::new();
    for task in 0..TASKS {
        stores.push(if task % 2 == 0 {
            store.clone()
        } else {
            db.open("stress_").await
        });
    }
    let tasks: Vec<_> = stores
        .into_iter()
        .map(|s| tokio::spawn(worker(s, Arc::clone(&shared), keeper)))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    let violations = shared.violations.lock().unwrap().clone();
    assert!(violations.is_empty(), "{name}: {violations:#?}");

    // Nothing removed or rotated away is back.
    let mut s = store.clone();
    let dead: Vec<[u8; 32]> = shared.dead.lock().unwrap().iter().copied().collect();
    let live_entries = shared.live.lock().unwrap().clone();
    for entry in &live_entries {
        if dead.contains(entry.key.as_bytes()) {
            let got = SessionStore::<Data>::get(&mut s, &entry.key, t)
                .await
                .unwrap();
            assert!(got.is_none(), "{name}: a removed session came back");
        }
    }
    // Every session is under one key only, with every acknowledged save.
    let mut seen_ids: HashMap<u32, usize> = HashMap::new();
    for (n, subject) in shared.subjects.iter().enumerate() {
        let mut listed: Vec<(SessionHandle, SessionRecord<Data>)> = Vec::new();
        SessionStore::<Data>::list_subject(&mut s, subject, t, &mut listed)
            .await
            .unwrap();
        for (_, record) in &listed {
            let id = record.data().id;
            *seen_ids.entry(id).or_default() += 1;
            assert_eq!(
                record.data().saves,
                shared.saves[id as usize].load(Ordering::SeqCst),
                "{name}: session {id} of subject {n} lost or gained a save"
            );
        }
    }
    for (id, count) in &seen_ids {
        assert_eq!(
            *count, 1,
            "{name}: session {id} is filed under {count} keys"
        );
    }
    for id in 0..KEEPERS {
        assert_eq!(
            seen_ids.get(&id),
            Some(&1),
            "{name}: never-destroyed session {id} was lost"
        );
    }
    // Revocations hold the latest acknowledged end; the watermark the merge of all.
    for (k, until) in &shared.revoked {
        let until = *until.lock().unwrap();
        if until > t {
            assert!(
                s.is_revoked(k, t).await.unwrap(),
                "{name}: a revocation was lost"
            );
            assert!(
                !s.is_revoked(k, until).await.unwrap(),
                "{name}: a revocation outlived its latest end"
            );
            let just_before = UnixTime::from_secs(until.as_secs() - 1);
            assert!(
                s.is_revoked(k, just_before).await.unwrap(),
                "{name}: a revocation was lowered"
            );
        }
    }
    let expected = *shared.watermark.1.lock().unwrap();
    assert_eq!(
        s.watermark(&shared.watermark.0, t).await.unwrap(),
        expected,
        "{name}: the watermark is not the merge of every raise"
    );

    limits(db).await;
    purge_races_touch(db).await;
}

async fn worker<S: TestStore>(mut s: S, shared: Arc<Shared>, keeper: usize) {
    let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
    let t = shared.t;
    for _ in 0..OPS {
        let op = rng.random_range(0..100);
        match op {
            // Create, for a mortal subject.
            0..=14 => {
                let subject = rng.random_range(0..MORTAL);
                let id = u32::try_from(shared.next_id.fetch_add(1, Ordering::SeqCst)).unwrap();
                let k = key();
                let r = record(&shared.subjects[subject], Data::new(id), t, 3600);
                match SessionStore::<Data>::create(&mut s, &k, r, None, t).await {
                    Ok(CreateOutcome::Created { ended: 0 }) => {
                        shared.live.lock().unwrap().push(Entry {
                            key: k,
                            subject,
                            id,
                        });
                    }
                    other => shared.violation(format!("create: {other:?}")),
                }
            }
            // Load.
            15..=34 => {
                let Some(e) = shared.pick(&mut rng) else {
                    continue;
                };
                let dead_before = shared.is_dead(&e.key);
                match SessionStore::<Data>::get(&mut s, &e.key, t).await {
                    Ok(Some(r)) if dead_before => {
                        shared.violation(format!("get found removed session {}: {r:?}", e.id));
                    }
                    Ok(Some(r)) if r.data().id != e.id => {
                        shared.violation(format!("key of {} holds {}", e.id, r.data().id));
                    }
                    Ok(_) => {}
                    Err(err) => shared.violation(format!("get: {err:?}")),
                }
            }
            // Touch.
            35..=44 => {
                let Some(e) = shared.pick(&mut rng) else {
                    continue;
                };
                let dead_before = shared.is_dead(&e.key);
                let idle = t.saturating_add(3600 + rng.random_range(0..100));
                match SessionStore::<Data>::touch(&mut s, &e.key, idle, t).await {
                    Ok(true) if dead_before => {
                        shared.violation(format!("touch revived session {}", e.id));
                    }
                    Ok(_) => {}
                    Err(err) => shared.violation(format!("touch: {err:?}")),
                }
            }
            // Versioned save: load, change, save against the version read.
            45..=64 => {
                let Some(e) = shared.pick(&mut rng) else {
                    continue;
                };
                let Ok(Some(r)) = SessionStore::<Data>::get(&mut s, &e.key, t).await else {
                    continue;
                };
                let mut data = r.data().clone();
                data.saves += 1;
                let dead_before = shared.is_dead(&e.key);
                let idle = t.saturating_add(3600);
                match SessionStore::<Data>::update(&mut s, &e.key, r.version(), &data, idle, t)
                    .await
                {
                    Ok(UpdateOutcome::Updated { version }) => {
                        if dead_before {
                            shared.violation(format!("update revived session {}", e.id));
                        }
                        if version != r.version() + 1 {
                            shared.violation(format!("update skipped a version: {version}"));
                        }
                        shared.saves[e.id as usize].fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(err) => shared.violation(format!("update: {err:?}")),
                }
            }
            // Rotate.
            65..=79 => {
                let Some(e) = shared.pick(&mut rng) else {
                    continue;
                };
                let new = key();
                match SessionStore::<Data>::rotate(&mut s, &e.key, &new, t).await {
                    Ok(Some(r)) => {
                        if r.data().id != e.id {
                            shared.violation(format!("rotate moved {} for {}", r.data().id, e.id));
                        }
                        if !shared.rotated.lock().unwrap().insert(*e.key.as_bytes()) {
                            shared.violation(format!("session {} rotated away twice", e.id));
                        }
                        shared.dead.lock().unwrap().insert(*e.key.as_bytes());
                        shared.live.lock().unwrap().push(Entry { key: new, ..e });
                    }
                    Ok(None) => {}
                    Err(err) => shared.violation(format!("rotate: {err:?}")),
                }
            }
            // Destroy one (never a keeper's).
            80..=87 => {
                let Some(e) = shared.pick(&mut rng) else {
                    continue;
                };
                if e.subject == keeper {
                    continue;
                }
                match SessionStore::<Data>::remove(&mut s, &e.key).await {
                    Ok(_) => {
                        shared.dead.lock().unwrap().insert(*e.key.as_bytes());
                    }
                    Err(err) => shared.violation(format!("remove: {err:?}")),
                }
            }
            // Destroy a mortal subject's sessions: every one acknowledged before.
            88..=91 => {
                let subject = rng.random_range(0..MORTAL);
                let before: Vec<Entry> = shared
                    .live
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|e| e.subject == subject)
                    .copied()
                    .collect();
                let subject_key = shared.subjects[subject];
                match SessionStore::<Data>::remove_subject(&mut s, &subject_key, None).await {
                    Ok(_) => {
                        let mut dead = shared.dead.lock().unwrap();
                        for e in before {
                            dead.insert(*e.key.as_bytes());
                        }
                    }
                    Err(err) => shared.violation(format!("remove_subject: {err:?}")),
                }
            }
            // Revoke a token, or raise the watermark.
            _ => {
                if rng.random_bool(0.7) {
                    let (k, latest) = &shared.revoked[rng.random_range(0..shared.revoked.len())];
                    let until = t.saturating_add(rng.random_range(1..10_000));
                    match s.revoke(k, until, t).await {
                        Ok(()) => {
                            let mut latest = latest.lock().unwrap();
                            *latest = (*latest).max(until);
                        }
                        Err(err) => shared.violation(format!("revoke: {err:?}")),
                    }
                } else {
                    let mark = Watermark::new(
                        t.saturating_add(rng.random_range(0..1000)),
                        t.saturating_add(rng.random_range(1000..10_000)),
                    );
                    match s.raise_watermark(&shared.watermark.0, mark, t).await {
                        Ok(()) => {
                            let mut merged = shared.watermark.1.lock().unwrap();
                            *merged = Some(merged.map_or(mark, |m| m.merge(mark)));
                        }
                        Err(err) => shared.violation(format!("raise_watermark: {err:?}")),
                    }
                }
            }
        }
    }
}

/// Concurrent logins of one subject against a limit of 3: a refusing limit admits
/// exactly 3; an ending one leaves exactly 3, having ended the rest.
async fn limits<DB: Database>(db: &DB) {
    let name = db.name();
    let mut stores: Vec<DB::Store> = Vec::new();
    for n in 0..LOGINS {
        stores.push(if n % 2 == 0 && n > 0 {
            stores[0].clone()
        } else {
            db.open("stress_").await
        });
    }
    let t = now();
    for round in 0..ROUNDS {
        for when_full in [WhenFull::Refuse, WhenFull::EndOldest] {
            let subject = subject();
            let limit = SubjectLimit::new(NonZeroUsize::new(3).unwrap(), when_full);
            // Every login starts at once.
            let barrier = Arc::new(tokio::sync::Barrier::new(LOGINS));
            let mut tasks = Vec::new();
            for (n, store) in stores.iter().enumerate() {
                let mut s = store.clone();
                let barrier = Arc::clone(&barrier);
                tasks.push(tokio::spawn(async move {
                    let n = u32::try_from(n).unwrap();
                    let r = record(&subject, Data::new(n), t.saturating_add(u64::from(n)), 3600);
                    let k = key();
                    barrier.wait().await;
                    SessionStore::<Data>::create(&mut s, &k, r, Some(limit), t)
                        .await
                        .unwrap()
                }));
            }
            let (mut created, mut refused, mut ended) = (0, 0, 0);
            for task in tasks {
                match task.await.unwrap() {
                    CreateOutcome::Created { ended: e } => {
                        created += 1;
                        ended += e;
                    }
                    CreateOutcome::LimitReached => refused += 1,
                    other => panic!("{other:?}"),
                }
            }
            let mut s = stores[0].clone();
            let mut listed: Vec<(SessionHandle, SessionRecord<Data>)> = Vec::new();
            let live = SessionStore::<Data>::list_subject(&mut s, &subject, t, &mut listed)
                .await
                .unwrap();
            assert_eq!(
                live, 3,
                "{name} {when_full:?} round {round}: the limit must hold under concurrency"
            );
            match when_full {
                WhenFull::Refuse => assert_eq!((created, refused), (3, LOGINS - 3), "{name}"),
                _ => assert_eq!((created, ended), (LOGINS, LOGINS - 3), "{name}"),
            }
            SessionStore::<Data>::remove_subject(&mut s, &subject, None)
                .await
                .unwrap();
        }
    }
}

/// Purging while sessions about to die are touched: a session whose touch succeeded is
/// live at the purge's `now`, and must survive it.
async fn purge_races_touch<DB: Database>(db: &DB) {
    const SESSIONS: usize = 150;
    let name = db.name();
    let options = crate::support::options("purge_race_")
        .with_purge_batch(std::num::NonZeroU32::new(5).unwrap());
    let mut store = db.open_with(options.clone()).await;
    let t = now();
    let subject = subject();
    let mut keys = Vec::new();
    for n in 0..SESSIONS {
        let k = key();
        let r = SessionRecord::new(
            subject,
            Data::new(u32::try_from(n).unwrap()),
            t,
            t.saturating_add(10),
            t.saturating_add(10_000),
        );
        SessionStore::<Data>::create(&mut store, &k, r, None, t)
            .await
            .unwrap();
        keys.push(k);
    }
    let purge_at = t.saturating_add(20);
    let toucher = {
        let mut s = db.open_with(options).await;
        let keys = keys.clone();
        tokio::spawn(async move {
            let mut touched = Vec::new();
            for k in keys {
                let at = t.saturating_add(5);
                if SessionStore::<Data>::touch(&mut s, &k, t.saturating_add(1000), at)
                    .await
                    .unwrap()
                {
                    touched.push(k);
                }
            }
            touched
        })
    };
    let purger = {
        let mut s = store.clone();
        tokio::spawn(async move {
            let mut purged = 0;
            for _ in 0..40 {
                purged += s.purge_expired(purge_at).await.unwrap();
            }
            purged
        })
    };
    let touched = toucher.await.unwrap();
    let purged = purger.await.unwrap();
    for k in &touched {
        let got = SessionStore::<Data>::get(&mut store, k, purge_at)
            .await
            .unwrap();
        assert!(
            got.is_some(),
            "{name}: purge deleted a session touched before it"
        );
    }
    assert_eq!(
        touched.len() + purged,
        SESSIONS,
        "{name}: every session is either touched or purged"
    );
    eprintln!(
        "{name}: purge raced touch: {} touched, {purged} purged",
        touched.len()
    );
}
