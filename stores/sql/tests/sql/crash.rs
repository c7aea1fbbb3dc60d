//! Crashes: a database server SIGKILLed while writes are in flight must, once
//! restarted, hold every write it acknowledged; an SQLite writer process killed
//! mid-write must leave a consistent file holding every write it acknowledged.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokenstile::store::{LookupKey, SessionStore, UpdateOutcome};

use crate::conformance::{key, record, subject};
use crate::support::{Data, Database, TestStore, now};

/// What writers were told had been written.
#[derive(Default)]
pub(crate) struct Acked {
    sessions: Vec<(LookupKey, Data, u64)>,
    revoked: Vec<LookupKey>,
}

/// Writes until the store fails (the server is gone), recording every acknowledgement.
async fn writer<S: TestStore>(mut s: S, acked: Arc<Mutex<Acked>>, id: u32) {
    let t = now();
    let subject = subject();
    for n in 0.. {
        let k = key();
        let data = Data::new(id * 100_000 + n);
        let r = record(&subject, data.clone(), t, 3600);
        if SessionStore::<Data>::create(&mut s, &k, r, None, t)
            .await
            .is_err()
        {
            return;
        }
        acked.lock().unwrap().sessions.push((k, data.clone(), 1));
        let mut saved = data;
        saved.saves = 1;
        match SessionStore::<Data>::update(&mut s, &k, 1, &saved, t.saturating_add(3600), t).await {
            Ok(UpdateOutcome::Updated { version: 2 }) => {
                let mut acked = acked.lock().unwrap();
                if let Some(last) = acked.sessions.last_mut() {
                    *last = (k, saved, 2);
                }
            }
            Ok(other) => panic!("update after create: {other:?}"),
            Err(_) => return,
        }
        let token = key();
        if s.revoke(&token, t.saturating_add(3600), t).await.is_err() {
            return;
        }
        acked.lock().unwrap().revoked.push(token);
    }
}

/// Starts writers on `store`, lets them run, calls `kill`, and returns what was acked.
pub(crate) async fn write_until_killed<S: TestStore>(store: &S, kill: impl FnOnce()) -> Acked {
    let acked = Arc::new(Mutex::new(Acked::default()));
    let tasks: Vec<_> = (0..6)
        .map(|id| tokio::spawn(writer(store.clone(), Arc::clone(&acked), id)))
        .collect();
    // Kill once the writers are well under way, whatever the machine's speed.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().sessions.len() < ENOUGH {
        assert!(
            std::time::Instant::now() < deadline,
            "the writers acknowledged fewer than {ENOUGH} sessions in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("writers to notice the crash")
            .unwrap();
    }
    Arc::try_unwrap(acked).ok().unwrap().into_inner().unwrap()
}

/// Checks that everything acknowledged is in the store.
pub(crate) async fn verify<S: TestStore>(name: &str, mut s: S, acked: &Acked) {
    let t = now();
    assert!(
        acked.sessions.len() >= 10,
        "{name}: the writers wrote too little before the crash ({})",
        acked.sessions.len()
    );
    for (k, data, version) in &acked.sessions {
        let got = SessionStore::<Data>::get(&mut s, k, t).await.unwrap();
        let got = got.unwrap_or_else(|| panic!("{name}: an acknowledged session was lost"));
        assert!(
            got.version() >= *version && (got.version() > *version || got.data() == data),
            "{name}: an acknowledged save was lost"
        );
    }
    for token in &acked.revoked {
        assert!(
            s.is_revoked(token, t).await.unwrap(),
            "{name}: an acknowledged revocation was lost"
        );
    }
    eprintln!(
        "{name}: {} sessions and {} revocations acknowledged before the crash, all present after it",
        acked.sessions.len(),
        acked.revoked.len()
    );
}

/// The SQLite half: a child process (this test binary, running
/// [`sqlite_child`]) writes to the file and reports each acknowledged write on stdout;
/// it is SIGKILLed mid-run, and the file must be consistent and hold every write.
pub(crate) async fn sqlite(path: &std::path::Path) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sqlite_crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let acked = Arc::clone(&acked);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(hex) = line.strip_prefix("ACK ") {
                    acked.lock().unwrap().push(hex.to_owned());
                }
            }
        })
    };
    // Kill it once it is well under way: wherever it is, it is writing.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < ENOUGH {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the SQLite writer exited early with {status}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the SQLite writer acknowledged fewer than {ENOUGH} writes in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 10,
        "the SQLite writer wrote too little ({})",
        acked.len()
    );

    // The file is consistent...
    use tokenstile_sql::sqlx::Connection as _;
    let mut conn = tokenstile_sql::sqlx::SqliteConnection::connect_with(
        &tokenstile_sql::SqliteStore::connect_options(path),
    )
    .await
    .unwrap();
    let check: String = tokenstile_sql::sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check, "ok", "the SQLite file is corrupt after a crash");
    // ...and holds every acknowledged write.
    let stored: Vec<Vec<u8>> =
        tokenstile_sql::sqlx::query_scalar("SELECT lookup_key FROM crash_sessions")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let stored: std::collections::HashSet<String> = stored.iter().map(|k| hex(k)).collect();
    for k in &acked {
        assert!(stored.contains(k), "an acknowledged SQLite write was lost");
    }
    eprintln!(
        "sqlite: {} writes acknowledged before the kill, all present after it",
        acked.len()
    );
}

/// How many writes to see acknowledged before the crash.
const ENOUGH: usize = 100;

pub(crate) const CHILD_ENV: &str = "TOKENSTILE_SQL_CRASH_CHILD";

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The child's loop: create sessions and report each acknowledged one, until killed.
pub(crate) async fn sqlite_child(path: &std::path::Path) {
    let mut store = tokenstile_sql::SqliteStore::open(path, 4, crate::support::options("crash_"))
        .await
        .unwrap();
    let t = now();
    let subject = subject();
    for n in 0..1_000_000u32 {
        let k = key();
        let r = record(&subject, Data::new(n), t, 3600);
        SessionStore::<Data>::create(&mut store, &k, r, None, t)
            .await
            .unwrap();
        println!("ACK {}", hex(k.as_bytes()));
    }
}

pub(crate) async fn server<DB: Database>(
    db: &DB,
    kill: impl FnOnce(),
    restart: impl FnOnce(),
) -> Acked {
    let store = db.open("crash_").await;
    let acked = write_until_killed(&store, kill).await;
    // With the server down, a call fails once the pool's wait for a connection is over
    // (`Options`' default, 3 s), not after sqlx's own default of 30 s.
    let started = std::time::Instant::now();
    let down = SessionStore::<Data>::get(&mut store.clone(), &key(), now()).await;
    let waited = started.elapsed();
    assert!(down.is_err(), "a read with the server down succeeded");
    assert!(
        waited < Duration::from_secs(15),
        "a read with the server down took {waited:?}"
    );
    drop(store);
    restart();
    acked
}
