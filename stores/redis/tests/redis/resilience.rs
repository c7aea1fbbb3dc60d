//! Restarts, crashes and server settings: reconnection without rebuilding the store,
//! bounded waits while Redis is down, acknowledged logouts and revocations that survive
//! a SIGKILL on an append-only server, and the persistence check at connect.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokenstile::UnixTime;
use tokenstile::store::{
    LookupKey, RevocationStore, SessionStore, StoreErrorKind, SubjectKey, Watermark,
};
use tokenstile_redis::{Durability, OnWeakServer, Options, RedisStore};

use crate::server::{NO_PERSISTENCE, RedisServer};
use crate::support::{Profile, key, now, record, subject};

fn quick() -> Options {
    Options::new(OnWeakServer::Accept)
        .connection_timeout(Duration::from_millis(200))
        .response_timeout(Duration::from_millis(500))
        .reconnect(2, Duration::from_millis(100))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_reconnects_after_a_restart_under_traffic() {
    let mut server = RedisServer::start();
    let store = RedisStore::connect(server.client(), quick()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // (when, took, outcome) of every call.
    let calls = Arc::new(Mutex::new(Vec::<(
        Instant,
        Duration,
        Result<(), StoreErrorKind>,
    )>::new()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut store = store.clone();
        let (stop, calls) = (stop.clone(), calls.clone());
        tasks.push(tokio::spawn(async move {
            let alice = subject();
            while !stop.load(Ordering::Relaxed) {
                let now = now();
                let k = key();
                let started = Instant::now();
                let result = async {
                    store
                        .create(&k, record(&alice, 1, now, 60, 60), None, now)
                        .await?;
                    SessionStore::<Profile>::get(&mut store, &k, now).await?;
                    store.revoke(&key(), now.saturating_add(60), now).await
                }
                .await
                .map_err(|e| e.kind());
                calls
                    .lock()
                    .unwrap()
                    .push((started, started.elapsed(), result));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed = Instant::now();
    server.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let restarted = Instant::now();
    tokio::task::block_in_place(|| server.restart());
    tokio::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let calls = calls.lock().unwrap();
    let before: Vec<_> = calls
        .iter()
        .filter(|(at, took, _)| *at + *took < killed)
        .collect();
    let down: Vec<_> = calls
        .iter()
        .filter(|(at, took, _)| {
            *at > killed + Duration::from_millis(100) && *at + *took < restarted
        })
        .collect();
    let last_second: Vec<_> = calls
        .iter()
        .filter(|(at, _, _)| *at > restarted + Duration::from_millis(1000))
        .collect();
    assert!(!before.is_empty() && before.iter().all(|(_, _, r)| r.is_ok()));
    assert!(!down.is_empty());
    assert!(
        down.iter()
            .all(|(_, _, r)| *r == Err(StoreErrorKind::Backend)),
        "calls while Redis was down: {down:?}"
    );
    // Bounded: no call waited much longer than the timeouts allow (three round trips of
    // at most 0.5 s, plus reconnection attempts).
    let slowest = calls.iter().map(|(_, took, _)| *took).max().unwrap();
    assert!(slowest < Duration::from_secs(3), "{slowest:?}");
    // Back without a new store: every call of the last second succeeded.
    assert!(!last_second.is_empty());
    assert!(
        last_second.iter().all(|(_, _, r)| r.is_ok()),
        "{last_second:?}"
    );
}

#[tokio::test]
async fn calls_fail_fast_and_clearly_while_redis_is_down() {
    let mut server = RedisServer::start();
    let mut store = RedisStore::connect(server.client(), quick()).await.unwrap();
    server.kill();
    for _ in 0..3 {
        let started = Instant::now();
        let error = SessionStore::<Profile>::get(&mut store, &key(), now())
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(error.kind(), StoreErrorKind::Backend);
        assert!(error.redis_error().is_some());
        assert_eq!(error.to_string(), "redis store backend failure");
    }
    // Connecting to a server that isn't there fails within the connection attempts.
    let started = Instant::now();
    let error = RedisStore::connect(server.client(), quick())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Backend);
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// What a crash test acknowledged: removed sessions, log-outs everywhere (with the
/// sessions created before each), revocations and watermarks.
#[derive(Default)]
struct Acknowledged {
    removed: Vec<LookupKey>,
    logged_out: Vec<(SubjectKey, Vec<LookupKey>)>,
    revoked: Vec<(LookupKey, UnixTime)>,
    watermarks: Vec<(LookupKey, Watermark)>,
}

/// The acknowledged revocations and log-outs a crash test needs before its verdict means
/// something.
const MIN_TRAFFIC: usize = 50;

/// Runs logins, logouts and revocations from 4 tasks until Redis is SIGKILLed under
/// them, then restarts it from its files and returns what was acknowledged.
async fn crash_under_traffic(server: &mut RedisServer) -> Acknowledged {
    // Generous timeouts: every fsync'd write waits for the disk.
    let options = quick().response_timeout(Duration::from_secs(5));
    let store = RedisStore::connect(server.client(), options).await.unwrap();
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut store = store.clone();
        let acknowledged = acknowledged.clone();
        tasks.push(tokio::spawn(async move {
            let now = now();
            loop {
                let alice = subject();
                let mut keys = Vec::new();
                for i in 0..3 {
                    let k = key();
                    if store
                        .create(&k, record(&alice, i, now, 600, 600), None, now)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    keys.push(k);
                }
                if SessionStore::<Profile>::remove(&mut store, &keys[0])
                    .await
                    .is_err()
                {
                    return;
                }
                acknowledged.lock().unwrap().removed.push(keys[0]);
                if SessionStore::<Profile>::remove_subject(&mut store, &alice, None)
                    .await
                    .is_err()
                {
                    return;
                }
                acknowledged.lock().unwrap().logged_out.push((alice, keys));
                let token = key();
                let until = now.saturating_add(600);
                if store.revoke(&token, until, now).await.is_err() {
                    return;
                }
                acknowledged.lock().unwrap().revoked.push((token, until));
                let mark = key();
                let watermark = Watermark::new(now, now.saturating_add(600));
                if store.raise_watermark(&mark, watermark, now).await.is_err() {
                    return;
                }
                acknowledged
                    .lock()
                    .unwrap()
                    .watermarks
                    .push((mark, watermark));
            }
        }));
    }
    // At least 700 ms of traffic, and then until enough is acknowledged for the checks to
    // mean something: on a loaded machine every fsync'd write waits longer. The kill
    // comes under the traffic either way.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        {
            let so_far = acknowledged.lock().unwrap();
            if so_far.revoked.len() > MIN_TRAFFIC + 10 && so_far.logged_out.len() > MIN_TRAFFIC + 10
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }
    let server_ref = &mut *server;
    tokio::task::block_in_place(|| server_ref.restart());
    Arc::try_unwrap(acknowledged)
        .ok()
        .unwrap()
        .into_inner()
        .unwrap()
}

/// How many acknowledged logouts and revocations are no longer in force.
async fn lost(server: &RedisServer, acknowledged: &Acknowledged) -> usize {
    let mut store = RedisStore::connect(server.client(), quick()).await.unwrap();
    let now = now();
    let mut lost = 0;
    for k in &acknowledged.removed {
        lost += usize::from(
            SessionStore::<Profile>::get(&mut store, k, now)
                .await
                .unwrap()
                .is_some(),
        );
    }
    for (_, keys) in &acknowledged.logged_out {
        for k in keys {
            lost += usize::from(
                SessionStore::<Profile>::get(&mut store, k, now)
                    .await
                    .unwrap()
                    .is_some(),
            );
        }
    }
    for (token, _) in &acknowledged.revoked {
        lost += usize::from(!store.is_revoked(token, now).await.unwrap());
    }
    for (mark, watermark) in &acknowledged.watermarks {
        lost += usize::from(store.watermark(mark, now).await.unwrap() != Some(*watermark));
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_logouts_and_revocations_survive_a_sigkill_with_appendfsync_always() {
    let mut server = RedisServer::start_configured(&[
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let acknowledged = crash_under_traffic(&mut server).await;
    assert!(
        acknowledged.revoked.len() > MIN_TRAFFIC,
        "too little traffic: {}",
        acknowledged.revoked.len()
    );
    assert!(acknowledged.logged_out.len() > MIN_TRAFFIC);
    assert_eq!(lost(&server, &acknowledged).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_an_append_only_file_a_sigkill_loses_acknowledged_revocations() {
    // The check above can fail: the same run on a server that persists nothing brings
    // back every session and forgets every revocation.
    let mut server = RedisServer::start_configured(NO_PERSISTENCE);
    let acknowledged = crash_under_traffic(&mut server).await;
    assert!(!acknowledged.revoked.is_empty());
    let lost = lost(&server, &acknowledged).await;
    assert_eq!(
        lost,
        acknowledged.revoked.len() + acknowledged.watermarks.len(),
        "removed sessions stay removed (nothing comes back from an empty server), \
         revocations are all lost"
    );
}

/// Captures what the store logs, for the `Warn` policy.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

fn captured() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).unwrap();
        log::set_max_level(log::LevelFilter::Warn);
        capture
    })
}

async fn connect(
    server: &RedisServer,
    policy: OnWeakServer,
) -> Result<RedisStore, tokenstile_redis::Error> {
    RedisStore::connect(
        server.client(),
        Options::new(policy).prefix(format!("{policy:?}")),
    )
    .await
}

#[tokio::test]
async fn the_persistence_check_is_the_applications_choice() {
    let capture = captured();
    let weak = RedisServer::start_configured(NO_PERSISTENCE);
    let error = connect(&weak, OnWeakServer::Refuse(Durability::EverySecond))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Other);
    let detail = error.detail().unwrap();
    assert!(detail.contains("appendonly is no (need yes)"), "{detail}");
    assert!(error.to_string().contains("appendonly is no"));

    let store = connect(&weak, OnWeakServer::Warn(Durability::EverySecond))
        .await
        .unwrap();
    assert_eq!(store.server_settings().unwrap().appendonly(), "no");
    assert_eq!(store.server_settings().unwrap().durability(), None);
    let logged = capture.0.lock().unwrap().clone();
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("WARN") && l.contains("appendonly is no")),
        "{logged:?}"
    );

    let store = connect(&weak, OnWeakServer::Accept).await.unwrap();
    assert!(store.server_settings().is_none());

    let everysec =
        RedisServer::start_configured(&["--appendonly", "yes", "--appendfsync", "everysec"]);
    let store = connect(&everysec, OnWeakServer::Refuse(Durability::EverySecond))
        .await
        .unwrap();
    assert_eq!(
        store.server_settings().unwrap().durability(),
        Some(Durability::EverySecond)
    );
    let error = connect(&everysec, OnWeakServer::Refuse(Durability::EveryWrite))
        .await
        .unwrap_err();
    assert!(
        error
            .detail()
            .unwrap()
            .contains("appendfsync is everysec (need always)"),
        "{error}"
    );

    let evicting = RedisServer::start_configured(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--maxmemory-policy",
        "volatile-lru",
    ]);
    let error = connect(&evicting, OnWeakServer::Refuse(Durability::EverySecond))
        .await
        .unwrap_err();
    let detail = error.detail().unwrap();
    assert!(
        detail.contains("maxmemory-policy is volatile-lru (need noeviction)"),
        "{detail}"
    );
    assert!(!detail.contains("appendfsync"), "{detail}");

    let strict = RedisServer::start_configured(&["--appendonly", "yes", "--appendfsync", "always"]);
    let store = connect(&strict, OnWeakServer::Refuse(Durability::EveryWrite))
        .await
        .unwrap();
    assert_eq!(
        store.server_settings().unwrap().durability(),
        Some(Durability::EveryWrite)
    );
}

#[tokio::test]
async fn a_server_that_refuses_config_is_refused_only_when_asked() {
    let server = RedisServer::start_configured(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--rename-command",
        "CONFIG",
        "",
    ]);
    let error = connect(&server, OnWeakServer::Refuse(Durability::EverySecond))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Backend);
    let store = connect(&server, OnWeakServer::Warn(Durability::EverySecond))
        .await
        .unwrap();
    assert!(store.server_settings().is_none());
    connect(&server, OnWeakServer::Accept).await.unwrap();
}
