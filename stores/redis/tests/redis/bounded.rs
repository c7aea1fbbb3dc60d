//! Bounded work: what one call makes Redis do doesn't grow with the number of sessions
//! a subject has. Redis counts every command a script runs in `INFO commandstats`, so
//! the tests compare those counts (deterministic, unlike timings) for a subject with a
//! few sessions and for one with thousands.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use tokenstile::UnixTime;
use tokenstile::store::{
    CreateOutcome, SessionHandle, SessionRecord, SessionStore, SubjectKey, SubjectLimit, WhenFull,
};
use tokenstile_redis::RedisStore;

use crate::server::RedisServer;
use crate::support::{Profile, key, now, profile, record, store, subject};

/// Commands run per command name since the last reset, without the ones the test itself
/// sends (`EVALSHA` is the store's script call; scripts' inner commands are counted
/// under their own names).
fn commands(raw: &mut redis::Connection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(raw).unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .filter(|(name, _)| !matches!(name.as_str(), "info" | "config|resetstat"))
        .collect()
}

fn reset(raw: &mut redis::Connection) {
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(raw).unwrap();
}

/// The commands one batch of calls made Redis run.
async fn measure<F: Future<Output = ()>>(
    raw: &mut redis::Connection,
    run: F,
) -> BTreeMap<String, u64> {
    reset(raw);
    run.await;
    commands(raw)
}

async fn fill(
    store: &mut RedisStore,
    subject: &SubjectKey,
    n: u32,
    now: UnixTime,
) -> Vec<tokenstile::store::LookupKey> {
    let mut keys = Vec::new();
    for i in 0..n {
        let k = key();
        let created = UnixTime::from_secs(now.as_secs() - 1000 + u64::from(i % 900));
        store
            .create(&k, record(subject, i, created, 3600, 3600), None, created)
            .await
            .unwrap();
        keys.push(k);
    }
    keys
}

/// Runs every operation once on a subject with `n` sessions and returns the commands
/// each made Redis run.
async fn profile_operations(
    server: &RedisServer,
    n: u32,
) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
    let mut raw = server.connection();
    let mut store = store(server).await;
    let now = now();
    let alice = subject();
    let keys = fill(&mut store, &alice, n, now).await;
    let mut out = BTreeMap::new();
    let limit = |when_full| {
        Some(SubjectLimit::new(
            NonZeroUsize::new(n as usize).unwrap(),
            when_full,
        ))
    };

    out.insert(
        "create",
        measure(&mut raw, async {
            store
                .create(&key(), record(&alice, 0, now, 60, 60), None, now)
                .await
                .unwrap();
        })
        .await,
    );
    out.insert(
        "create, limit refuses",
        measure(&mut raw, async {
            let outcome = store
                .create(
                    &key(),
                    record(&alice, 0, now, 60, 60),
                    limit(WhenFull::Refuse),
                    now,
                )
                .await
                .unwrap();
            assert_eq!(outcome, CreateOutcome::LimitReached);
        })
        .await,
    );
    out.insert(
        "create, limit ends the oldest",
        measure(&mut raw, async {
            let outcome = store
                .create(
                    &key(),
                    record(&alice, 0, now, 60, 60),
                    limit(WhenFull::EndOldest),
                    now,
                )
                .await
                .unwrap();
            assert_eq!(outcome, CreateOutcome::Created { ended: 2 });
        })
        .await,
    );
    let k = keys[n as usize / 2];
    out.insert(
        "get",
        measure(&mut raw, async {
            assert!(
                SessionStore::<Profile>::get(&mut store, &k, now)
                    .await
                    .unwrap()
                    .is_some()
            );
        })
        .await,
    );
    out.insert(
        "touch",
        measure(&mut raw, async {
            assert!(
                SessionStore::<Profile>::touch(&mut store, &k, now.saturating_add(3600), now)
                    .await
                    .unwrap()
            );
        })
        .await,
    );
    out.insert(
        "update",
        measure(&mut raw, async {
            store
                .update(&k, 1, &profile(7), now.saturating_add(3600), now)
                .await
                .unwrap();
        })
        .await,
    );
    let new = key();
    out.insert(
        "rotate",
        measure(&mut raw, async {
            assert!(
                SessionStore::<Profile>::rotate(&mut store, &k, &new, now)
                    .await
                    .unwrap()
                    .is_some()
            );
        })
        .await,
    );
    out.insert(
        "remove_owned",
        measure(&mut raw, async {
            assert!(
                SessionStore::<Profile>::remove_owned(&mut store, &new, &alice, now)
                    .await
                    .unwrap()
            );
        })
        .await,
    );
    out.insert(
        "remove",
        measure(&mut raw, async {
            assert!(
                SessionStore::<Profile>::remove(&mut store, &keys[n as usize - 1])
                    .await
                    .unwrap()
            );
        })
        .await,
    );
    // remove_subject: the atomic step alone (the sweep is counted separately below).
    let before_sweep = measure(&mut raw, async {
        let removed = SessionStore::<Profile>::remove_subject(&mut store, &alice, Some(&keys[2]))
            .await
            .unwrap();
        assert!(removed >= n as usize - 4);
    })
    .await;
    out.insert("remove_subject (all scripts)", before_sweep);
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(
        store.list_subject(&alice, now, &mut listed).await.unwrap(),
        1
    );
    out
}

#[tokio::test]
async fn no_operation_does_more_for_a_subject_with_many_sessions() {
    let server = RedisServer::start();
    // The first run loads the scripts into Redis (SCRIPT LOAD after NOSCRIPT).
    profile_operations(&server, 10).await;
    let small = profile_operations(&server, 10).await;
    let large = profile_operations(&server, 3000).await;
    for (op, counts) in &small {
        if op.starts_with("remove_subject") {
            continue;
        }
        assert_eq!(
            &large[op], counts,
            "{op}: more commands for 3000 sessions than for 10"
        );
        assert_eq!(
            counts.get("evalsha"),
            Some(&match *op {
                "touch" | "rotate" => 2,
                _ => 1,
            }),
            "{op}: {counts:?}"
        );
    }
}

#[tokio::test]
async fn remove_subject_works_in_bounded_scripts() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(0)
        .query(&mut raw)
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-max-len")
        .arg(100_000)
        .query(&mut raw)
        .unwrap();
    let mut store = store(&server).await;
    let now = now();
    // Load the scripts first.
    let warm_up = subject();
    fill(&mut store, &warm_up, 1, now).await;
    SessionStore::<Profile>::remove_subject(&mut store, &warm_up, None)
        .await
        .unwrap();
    let alice = subject();
    fill(&mut store, &alice, 3000, now).await;
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut raw).unwrap();
    let removed = SessionStore::<Profile>::remove_subject(&mut store, &alice, None)
        .await
        .unwrap();
    assert_eq!(removed, 3000);
    // The slow log (threshold 0) has every command, the scripts' inner ones included:
    // count the script calls, and the inner commands between consecutive ones.
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query(&mut raw)
        .unwrap();
    let names: Vec<String> = entries.iter().rev().filter_map(command_name).collect();
    let mut scripts = 0;
    let mut inner = 0;
    let mut most_inner = 0;
    for name in &names {
        if name == "EVALSHA" {
            scripts += 1;
            inner = 0;
        } else if name != "SLOWLOG" {
            inner += 1;
            most_inner = most_inner.max(inner);
        }
    }
    // One detach and ceil(3000 / 200) cleanup scripts, none running more than 6
    // commands per session of its chunk of 200 (ZSCORE, TYPE, GET, DEL, 2 ZREM) and a
    // few more.
    assert_eq!(scripts, 1 + 15, "{names:?}");
    assert!(most_inner <= 6 * 200 + 5, "{most_inner}");
    let names: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut raw).unwrap();
    assert!(names.is_empty(), "{names:?}");
}

/// The command name of a slow-log entry: `[id, time, duration, [name, args...], ...]`.
fn command_name(entry: &redis::Value) -> Option<String> {
    let redis::Value::Array(fields) = entry else {
        return None;
    };
    let redis::Value::Array(args) = fields.get(3)? else {
        return None;
    };
    match args.first()? {
        redis::Value::BulkString(name) => Some(String::from_utf8_lossy(name).into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn dead_index_entries_are_pruned_a_bounded_number_at_a_time() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    let alice = subject();
    for i in 0..100 {
        store
            .create(&key(), record(&alice, i, now, 10, 10), None, now)
            .await
            .unwrap();
    }
    let index = crate::support::index_name(&alice);
    let later = now.saturating_add(20);
    let mut sizes = Vec::new();
    for i in 0..4 {
        store
            .create(&key(), record(&alice, 200 + i, later, 60, 60), None, later)
            .await
            .unwrap();
        sizes.push(
            redis::cmd("ZCARD")
                .arg(&index)
                .query::<u64>(&mut raw)
                .unwrap(),
        );
    }
    // 100 dead + 1 new, 32 pruned per create.
    assert_eq!(sizes, [69, 38, 7, 4]);
}

/// A subject with up to a page of live sessions (1000) is listed by one script, so in one
/// atomic step; one more takes a second script.
#[tokio::test]
async fn a_subject_within_one_page_is_listed_by_one_script() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    // Load the script first.
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    store
        .list_subject(&subject(), now, &mut listed)
        .await
        .unwrap();
    for (n, scripts) in [(2, 1), (1000, 1), (1001, 2)] {
        let alice = subject();
        fill(&mut store, &alice, n, now).await;
        let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
        let counts = measure(&mut raw, async {
            let found = store.list_subject(&alice, now, &mut listed).await.unwrap();
            assert_eq!(found, n as usize);
        })
        .await;
        assert_eq!(listed.len(), n as usize);
        assert_eq!(
            counts.get("evalsha"),
            Some(&scripts),
            "{n} sessions: {counts:?}"
        );
    }
}

/// A subject larger than a page is listed script after script, each going on from where
/// the one before ended: from the score and member it listed last, not from where that
/// member is when the next script runs. A touch in between moves the session later in
/// the index (its expiry grows); resuming after its new place skipped every session in
/// between. Runs the listing script itself, a page at a time, to touch in between; once
/// with every expiry apart, once with all of them in the same second (the index then
/// orders them by member alone).
#[tokio::test]
async fn a_session_touched_between_two_pages_skips_no_other() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    let list = redis::Script::new(
        &[
            include_str!("../../src/lua/prelude.lua"),
            include_str!("../../src/lua/list.lua"),
        ]
        .concat(),
    );
    let member = |k: &tokenstile::store::LookupKey| crate::support::hex(k.as_bytes());
    let members = |reply: &[Vec<u8>]| -> Vec<String> {
        reply[2..]
            .chunks(2)
            .map(|pair| String::from_utf8(pair[0].clone()).unwrap())
            .collect()
    };
    for apart in [1, 0] {
        let alice = subject();
        // 1500 sessions idle for an hour (so a touch moves the expiry; at most a day),
        // created a second apart or all at once, in index order.
        let mut sessions = Vec::new();
        for i in 0..1500u32 {
            let k = key();
            let created = UnixTime::from_secs(now.as_secs() - 2000 + u64::from(i) * apart);
            store
                .create(&k, record(&alice, i, created, 3600, 86_400), None, created)
                .await
                .unwrap();
            sessions.push((created, member(&k), k));
        }
        sessions.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let in_order: Vec<String> = sessions.iter().map(|s| s.1.clone()).collect();
        let mut page = |cursor: &(Vec<u8>, Vec<u8>)| {
            list.key(crate::support::index_name(&alice))
                .arg(now.as_secs().to_string())
                .arg("{tokenstile:sessions}:")
                .arg(1000)
                .arg(&cursor.0)
                .arg(&cursor.1)
                .invoke::<Vec<Vec<u8>>>(&mut raw)
                .unwrap()
        };

        let first = page(&(Vec::new(), Vec::new()));
        assert_eq!(members(&first), in_order[..1000], "apart {apart}");
        let cursor = (first[0].clone(), first[1].clone());
        assert_eq!(String::from_utf8(cursor.0.clone()).unwrap(), in_order[999]);

        // The last session listed is touched before the next script: it moves to the end.
        let later = now.saturating_add(7200);
        assert!(
            SessionStore::<Profile>::touch(&mut store, &sessions[999].2, later, now)
                .await
                .unwrap()
        );
        let second = members(&page(&cursor));
        assert_eq!(
            second.len(),
            501,
            "apart {apart}: the rest, then the touched one"
        );
        assert_eq!(second[..500], in_order[1000..], "apart {apart}");
        assert_eq!(second[500], in_order[999], "apart {apart}");

        // Through the store: every session once.
        let mut all: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
        assert_eq!(
            store.list_subject(&alice, now, &mut all).await.unwrap(),
            1500
        );
        let mut handles: Vec<String> = all
            .iter()
            .map(|(h, _)| crate::support::hex(h.as_bytes()))
            .collect();
        handles.sort();
        handles.dedup();
        assert_eq!(handles.len(), 1500, "apart {apart}");
    }
}
