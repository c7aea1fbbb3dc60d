//! Shared test helpers: data, records, keys and clocks.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokenstile::UnixTime;
use tokenstile::session::{SessionId, SessionRecord};
use tokenstile::store::{LookupKey, SubjectKey};

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
    SessionRecord::from_parts(
        *subject,
        profile(n),
        now,
        now,
        now.saturating_add(idle),
        now.saturating_add(absolute),
    )
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}
