//! Shared test helpers: data, records, keys, clocks and stores.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokenstile::UnixTime;
use tokenstile::session::SessionId;
use tokenstile::store::{LookupKey, SessionRecord, SubjectKey};
use tokenstile_redis::{OnWeakServer, Options, RedisStore};

use crate::server::RedisServer;

/// Session data as an application might keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Profile {
    pub(crate) user: String,
    pub(crate) role: u32,
}

pub(crate) fn profile(n: u32) -> Profile {
    Profile {
        user: format!("user-{n} \"quoted\" ünïcode"),
        role: n,
    }
}

/// The wall clock: Redis expires entries by its own clock, so TTL tests use real time.
pub(crate) fn now() -> UnixTime {
    UnixTime::from_secs(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

pub(crate) fn session_id() -> SessionId {
    SessionId::generate(&mut rand::rng()).unwrap()
}

/// A fresh random key (derived from a new session ID, as tokenstile derives them).
pub(crate) fn key() -> LookupKey {
    session_id().lookup_key()
}

/// A fresh random subject.
pub(crate) fn subject() -> SubjectKey {
    let mut bytes = [0; 32];
    rand::fill(&mut bytes);
    SubjectKey::from_bytes(bytes)
}

/// A session created at `now` for `subject`, idle for `idle` and at most `absolute`
/// seconds.
pub(crate) fn record(
    subject: &SubjectKey,
    n: u32,
    now: UnixTime,
    idle: u64,
    absolute: u64,
) -> SessionRecord<Profile> {
    SessionRecord::new(
        *subject,
        profile(n),
        now,
        now.saturating_add(idle),
        now.saturating_add(absolute),
    )
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A store on a connection manager to `server`, without the persistence check.
pub(crate) async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::connect(server.client(), Options::new(OnWeakServer::Accept))
        .await
        .unwrap()
}

/// The name of a session's key in Redis, under the default prefix.
pub(crate) fn session_name(key: &LookupKey) -> String {
    format!("{{tokenstile:sessions}}:session:{}", hex(key.as_bytes()))
}

/// The name of a subject's index in Redis, under the default prefix.
pub(crate) fn index_name(subject: &SubjectKey) -> String {
    format!(
        "{{tokenstile:sessions}}:subject:{}",
        hex(subject.as_bytes())
    )
}
