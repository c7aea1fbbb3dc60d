//! What every scenario shares: the session data, the clock, and a way to open another
//! store (another pool: another application server) on the same database.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokenstile::UnixTime;
use tokenstile::store::{RevocationStore, SessionStore, Store};
use tokenstile_sql::{Options, TablePrefix};

/// Session data: which logical session this is, and how many saves it has had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Data {
    pub(crate) id: u32,
    pub(crate) saves: u64,
    pub(crate) note: String,
}

impl Data {
    pub(crate) fn new(id: u32) -> Self {
        Self {
            id,
            saves: 0,
            note: format!("session \"{id}\" \u{e9}'; --"),
        }
    }
}

/// The real current time: the stores have no clock of their own, but the servers share
/// one database between tests and runs, so keep to real time.
pub(crate) fn now() -> UnixTime {
    UnixTime::from_secs(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

pub(crate) fn options(prefix: &str) -> Options {
    Options::new().with_table_prefix(TablePrefix::new(prefix).unwrap())
}

/// A store that serves the tests: sessions of `Data` (and of other types), revocations.
pub(crate) trait TestStore:
    SessionStore<Data>
    + SessionStore<u32>
    + SessionStore<String>
    + RevocationStore
    + Store<Error = tokenstile_sql::Error>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> TestStore for S where
    S: SessionStore<Data>
        + SessionStore<u32>
        + SessionStore<String>
        + RevocationStore
        + Store<Error = tokenstile_sql::Error>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// A database the tests can open stores on: each call is a new pool, as another
/// application server would have, with tables under `prefix`, migrated.
pub(crate) trait Database: Sync {
    type Store: TestStore;

    fn open_with(&self, options: Options) -> impl Future<Output = Self::Store> + Send;

    fn open(&self, prefix: &str) -> impl Future<Output = Self::Store> + Send {
        self.open_with(options(prefix))
    }

    /// The database's name in messages.
    fn name(&self) -> &'static str;

    /// Runs `sql` as it is on the store's pool: a row edited behind the store's back.
    fn execute(&self, store: &Self::Store, sql: &str) -> impl Future<Output = ()> + Send;
}
