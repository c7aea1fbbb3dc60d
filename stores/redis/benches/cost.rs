//! Server-side cost of each store operation for one subject with 10, 10 000 and 100 000
//! sessions, as Redis itself reports it (`INFO commandstats`, `SLOWLOG`), against a real
//! redis-server this program starts on a free loopback port and stops by PID.
//!
//! ```text
//! cargo bench -p tokenstile-redis --bench cost
//! ```
//!
//! Prints a Markdown table (the one in the crate README).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

#[path = "../tests/redis/server.rs"]
#[allow(dead_code)]
mod server;

use std::num::NonZeroUsize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokenstile::UnixTime;
use tokenstile::session::SessionId;
use tokenstile::store::{
    LookupKey, SessionHandle, SessionRecord, SessionStore, SubjectKey, SubjectLimit, WhenFull,
};
use tokenstile_redis::{OnWeakServer, Options, RedisStore};

use server::RedisServer;

const SIZES: [usize; 3] = [10, 10_000, 100_000];
const CALLS: usize = 200;

fn now() -> UnixTime {
    UnixTime::from_secs(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

fn key() -> LookupKey {
    SessionId::generate(&mut rand::rng()).unwrap().lookup_key()
}

fn record(subject: &SubjectKey, n: usize, created: UnixTime) -> SessionRecord<String> {
    SessionRecord::new(
        *subject,
        format!("device {n}"),
        created,
        created.saturating_add(3600),
        created.saturating_add(8 * 3600),
    )
}

/// Commands the scripts ran since the last reset (Redis counts a script's inner commands
/// under their own names), without the script calls themselves and this program's own.
fn inner_commands(raw: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(raw).unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            if matches!(name, "evalsha" | "info" | "script|load")
                || name.starts_with("config")
                || name.starts_with("slowlog")
            {
                return None;
            }
            stats
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// `(calls, microseconds)` of script calls since the last reset.
fn evalsha(raw: &mut redis::Connection) -> (u64, u64) {
    let info: String = redis::cmd("INFO").arg("commandstats").query(raw).unwrap();
    info.lines()
        .find_map(|line| {
            let stats = line.strip_prefix("cmdstat_evalsha:")?;
            let field = |name: &str| -> Option<u64> {
                stats
                    .split(',')
                    .find_map(|f| f.strip_prefix(name)?.parse().ok())
            };
            Some((field("calls=")?, field("usec=")?))
        })
        .unwrap_or((0, 0))
}

/// The longest script call in the slow log (which logs anything over 50 µs) whose first
/// key contains `first_key`, in µs.
fn slowest_script_on(raw: &mut redis::Connection, first_key: &str) -> Option<u64> {
    scripts_on(raw, first_key).into_iter().max()
}

/// The durations (µs) of the script calls in the slow log whose first key contains
/// `first_key`, sorted.
fn scripts_on(raw: &mut redis::Connection, first_key: &str) -> Vec<u64> {
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG").arg("GET").arg(-1).query(raw).unwrap();
    entries
        .iter()
        .filter_map(|entry| {
            let redis::Value::Array(fields) = entry else { return None };
            let (Some(redis::Value::Int(us)), Some(redis::Value::Array(args))) =
                (fields.get(2), fields.get(3))
            else {
                return None;
            };
            let is_script = matches!(args.first(), Some(redis::Value::BulkString(n)) if n == b"EVALSHA");
            let on = matches!(args.get(3), Some(redis::Value::BulkString(k)) if String::from_utf8_lossy(k).contains(first_key));
            (is_script && on).then_some(*us as u64)
        })
        .collect::<Vec<_>>()
        .tap_sort()
}

trait TapSort {
    fn tap_sort(self) -> Self;
}

impl TapSort for Vec<u64> {
    fn tap_sort(mut self) -> Self {
        self.sort_unstable();
        self
    }
}

fn reset(raw: &mut redis::Connection) {
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(raw).unwrap();
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(raw).unwrap();
}

struct Row {
    op: &'static str,
    per_call: Vec<String>,
}

/// Runs `calls` and reports the mean server time per store call, and the slowest script.
async fn measure<F: Future<Output = ()>>(
    raw: &mut redis::Connection,
    calls: usize,
    run: F,
) -> String {
    reset(raw);
    run.await;
    let (_, usec) = evalsha(raw);
    let commands = inner_commands(raw) as f64 / calls as f64;
    let per_call = usec as f64 / calls as f64;
    format!("{commands:.0} cmds, {per_call:.0} µs")
}

async fn fill(store: &RedisStore, subject: SubjectKey, n: usize, now: UnixTime) -> Vec<LookupKey> {
    let keys: Vec<LookupKey> = (0..n).map(|_| key()).collect();
    let mut tasks = Vec::new();
    for (t, chunk) in keys.chunks(n.div_ceil(32)).enumerate() {
        let mut store = store.clone();
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            for (i, k) in chunk.iter().enumerate() {
                let created =
                    UnixTime::from_secs(now.as_secs() - 3000 + ((t * 7919 + i) % 2000) as u64);
                store
                    .create(k, record(&subject, i, created), None, created)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    keys
}

async fn run(n: usize, rows: &mut Vec<Row>) {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(50)
        .query(&mut raw)
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-max-len")
        .arg(10_000)
        .query(&mut raw)
        .unwrap();
    let store = RedisStore::connect(server.client(), Options::new(OnWeakServer::Accept))
        .await
        .unwrap();
    let mut store2 = store.clone();
    let now = now();
    let alice = SubjectKey::new("alice");
    let keys = fill(&store, alice, n, now).await;
    let mut s = store.clone();
    // Load every script once.
    let warm = SubjectKey::new("warm-up");
    let w = key();
    s.create(&w, record(&warm, 0, now), None, now)
        .await
        .unwrap();
    SessionStore::<String>::touch(&mut s, &w, now, now)
        .await
        .unwrap();
    s.update(&w, 1, &"x".to_owned(), now, now).await.unwrap();
    let w2 = key();
    SessionStore::<String>::rotate(&mut s, &w, &w2, now)
        .await
        .unwrap();
    SessionStore::<String>::remove_owned(&mut s, &w2, &warm, now)
        .await
        .unwrap();
    let mut sink: Vec<(SessionHandle, SessionRecord<String>)> = Vec::new();
    s.list_subject(&warm, now, &mut sink).await.unwrap();
    SessionStore::<String>::remove_subject(&mut s, &warm, None)
        .await
        .unwrap();

    let mut results: Vec<(&'static str, String)> = Vec::new();
    results.push((
        "`create` (no limit)",
        measure(&mut raw, CALLS, async {
            for i in 0..CALLS {
                s.create(&key(), record(&alice, i, now), None, now)
                    .await
                    .unwrap();
            }
        })
        .await,
    ));
    let some: Vec<LookupKey> = keys.iter().rev().take(CALLS).copied().collect();
    results.push((
        "`get`",
        measure(&mut raw, some.len(), async {
            for k in &some {
                SessionStore::<String>::get(&mut s, k, now)
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
        .await,
    ));
    results.push((
        "`touch` (a read, then the write)",
        measure(&mut raw, some.len(), async {
            for k in &some {
                assert!(
                    SessionStore::<String>::touch(&mut s, k, now.saturating_add(3600), now)
                        .await
                        .unwrap()
                );
            }
        })
        .await,
    ));
    results.push((
        "`update`",
        measure(&mut raw, some.len(), async {
            for k in &some {
                s.update(k, 1, &"changed".to_owned(), now.saturating_add(3600), now)
                    .await
                    .unwrap();
            }
        })
        .await,
    ));
    let rotated: Vec<LookupKey> = some.iter().map(|_| key()).collect();
    results.push((
        "`rotate` (a read, then the move)",
        measure(&mut raw, some.len(), async {
            for (old, new) in some.iter().zip(&rotated) {
                SessionStore::<String>::rotate(&mut s, old, new, now)
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
        .await,
    ));
    results.push((
        "`remove_owned`",
        measure(&mut raw, some.len(), async {
            for k in &rotated {
                assert!(
                    SessionStore::<String>::remove_owned(&mut s, k, &alice, now)
                        .await
                        .unwrap()
                );
            }
        })
        .await,
    ));
    results.push((
        "`list_subject`, whole call (every live session, 1000 per script)",
        measure(&mut raw, 1, async {
            let mut sink: Vec<(SessionHandle, SessionRecord<String>)> = Vec::new();
            s.list_subject(&alice, now, &mut sink).await.unwrap();
        })
        .await,
    ));

    // A limit of exactly the live sessions there are: `Refuse` refuses, `EndOldest`
    // ends one per login.
    let mut sink: Vec<(SessionHandle, SessionRecord<String>)> = Vec::new();
    let live = s.list_subject(&alice, now, &mut sink).await.unwrap();
    drop(sink);
    let limited = |when| Some(SubjectLimit::new(NonZeroUsize::new(live).unwrap(), when));
    results.push((
        "`create`, limit reached, `Refuse`",
        measure(&mut raw, CALLS, async {
            for i in 0..CALLS {
                s.create(
                    &key(),
                    record(&alice, i, now),
                    limited(WhenFull::Refuse),
                    now,
                )
                .await
                .unwrap();
            }
        })
        .await,
    ));
    results.push((
        "`create`, limit reached, `EndOldest`",
        measure(&mut raw, CALLS, async {
            for i in 0..CALLS {
                s.create(
                    &key(),
                    record(&alice, i, now),
                    limited(WhenFull::EndOldest),
                    now,
                )
                .await
                .unwrap();
            }
        })
        .await,
    ));
    // Log out everywhere, while another client keeps reading: how long does it wait?
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = {
        let stop = stop.clone();
        let probe_key = keys[0];
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let _ = SessionStore::<String>::get(&mut store2, &probe_key, now)
                    .await
                    .unwrap();
                worst = worst.max(started.elapsed());
            }
            worst
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    reset(&mut raw);
    let started = Instant::now();
    let removed = SessionStore::<String>::remove_subject(&mut s, &alice, None)
        .await
        .unwrap();
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let worst = probe.await.unwrap();
    let shown = |us: Option<u64>| us.map_or("< 50 µs".to_owned(), |us| format!("{us} µs"));
    let detach = shown(slowest_script_on(&mut raw, ":subject:"));
    let sweeps = scripts_on(&mut raw, ":gone:");
    let sweep = match (sweeps.get(sweeps.len() / 2), sweeps.last()) {
        (Some(median), Some(max)) => format!(
            "median {median} µs, max {max} µs ({} scripts)",
            sweeps.len()
        ),
        _ => "< 50 µs".to_owned(),
    };
    assert_eq!(removed, live);
    results.push(("`remove_subject`: the atomic step (detach)", detach));
    results.push(("`remove_subject`: cleanup scripts (200 keys each)", sweep));
    results.push((
        "`remove_subject`: whole call, client side",
        format!("{:.1} ms", took.as_secs_f64() * 1000.0),
    ));
    results.push((
        "a concurrent `get`'s worst wait meanwhile",
        format!("{:.1} ms", worst.as_secs_f64() * 1000.0),
    ));
    for (i, (op, cell)) in results.into_iter().enumerate() {
        if rows.len() <= i {
            rows.push(Row {
                op,
                per_call: Vec::new(),
            });
        }
        rows[i].per_call.push(cell);
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for n in SIZES {
        eprintln!("{n} sessions of one subject...");
        runtime.block_on(run(n, &mut rows));
    }
    println!(
        "| per call: Redis commands run, server time | {} |",
        SIZES.map(|n| format!("{n} sessions")).join(" | ")
    );
    println!("|---|{}", "---|".repeat(SIZES.len()));
    for row in rows {
        println!("| {} | {} |", row.op, row.per_call.join(" | "));
    }
}
