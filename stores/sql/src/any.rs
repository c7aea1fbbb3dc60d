//! [`AnyStore`]: whichever of the enabled databases a URL names.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokenstile::UnixTime;
use tokenstile::store::{
    CreateOutcome, LookupKey, RevocationCheck, RevocationStore, SessionRecord, SessionSink,
    SessionStore, Store, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, Watermark,
};

use crate::{Error, Options};

/// A store on whichever database a URL names, for programs that pick the database at run
/// time (a `--database URL` flag): it forwards every call to the store of that database.
///
/// | URL | store | feature |
/// |---|---|---|
/// | `postgres://...`, `postgresql://...` | [`PostgresStore`](crate::PostgresStore) | `postgres` |
/// | `mysql://...`, `mariadb://...` | [`MySqlStore`](crate::MySqlStore) | `mysql` |
/// | `sqlite://path`, `sqlite:path` | [`SqliteStore`](crate::SqliteStore) | `sqlite` |
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnyStore {
    /// A PostgreSQL store.
    #[cfg(feature = "postgres")]
    Postgres(crate::PostgresStore),
    /// A MySQL or MariaDB store.
    #[cfg(feature = "mysql")]
    MySql(crate::MySqlStore),
    /// An SQLite store.
    #[cfg(feature = "sqlite")]
    Sqlite(crate::SqliteStore),
}

/// Calls the same expression on whichever store `self` holds.
macro_rules! each {
    ($self:expr, $store:ident => $call:expr) => {
        match $self {
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($store) => $call,
            #[cfg(feature = "mysql")]
            AnyStore::MySql($store) => $call,
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite($store) => $call,
        }
    };
}

impl AnyStore {
    /// Connects to the database `url` names (see the table above), with `options`, and
    /// runs [`migrate`](Self::migrate): ready to use.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Other`] for a URL of no enabled database; a malformed URL, a
    /// failed connection or a failed migration.
    pub async fn connect(url: &str, options: Options) -> Result<Self, Error> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        let store = match scheme {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                Self::Postgres(crate::PostgresStore::connect_with(url, options).await?)
            }
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                let url = url
                    .strip_prefix("mariadb")
                    .map_or_else(|| url.to_owned(), |rest| format!("mysql{rest}"));
                Self::MySql(crate::MySqlStore::connect_with(&url, options).await?)
            }
            #[cfg(feature = "sqlite")]
            "sqlite" => Self::Sqlite(crate::SqliteStore::connect_with(url, options).await?),
            _ => return Err(Error::new(StoreErrorKind::Other)),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Creates or upgrades the tables, as each store's `migrate` does.
    ///
    /// # Errors
    ///
    /// As each store's `migrate`.
    pub async fn migrate(&self) -> Result<(), Error> {
        each!(self, s => s.migrate().await)
    }

    /// The name of the database: `"postgres"`, `"mysql"` or `"sqlite"`.
    #[must_use]
    pub fn database(&self) -> &'static str {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => "postgres",
            #[cfg(feature = "mysql")]
            Self::MySql(_) => "mysql",
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => "sqlite",
        }
    }
}

impl Store for AnyStore {
    type Error = Error;

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Error> {
        each!(self, s => s.purge_expired(now).await)
    }
}

impl<D> SessionStore<D> for AnyStore
where
    D: Serialize + DeserializeOwned + Send + Sync,
{
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, Error> {
        each!(self, s => s.create(key, record, limit, now).await)
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        each!(self, s => s.get(key, now).await)
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, Error> {
        each!(self, s => s.update(key, version, data, idle_deadline, now).await)
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Error> {
        each!(self, s => SessionStore::<D>::touch(s, key, idle_deadline, now).await)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Error> {
        each!(self, s => SessionStore::<D>::remove(s, key).await)
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        each!(self, s => s.rotate(old, new, now).await)
    }

    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, Error> {
        each!(self, s => SessionStore::<D>::remove_subject(s, subject, keep).await)
    }

    async fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, Error> {
        each!(self, s => s.list_subject(subject, now, out).await)
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, Error> {
        each!(self, s => SessionStore::<D>::remove_owned(s, key, subject, now).await)
    }
}

impl RevocationStore for AnyStore {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Error> {
        each!(self, s => s.revoke(key, until, now).await)
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Error> {
        each!(self, s => s.is_revoked(key, now).await)
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Error> {
        each!(self, s => s.raise_watermark(key, watermark, now).await)
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Error> {
        each!(self, s => s.watermark(key, now).await)
    }

    async fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, Error> {
        each!(self, s => s.check_revoked(entries, watermark, now).await)
    }
}
