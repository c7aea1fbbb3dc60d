//! The async store (feature `tokio`).

use core::fmt;
use core::marker::PhantomData;

use redis::Value;
use redis::aio::ConnectionLike;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokenstile::UnixTime;
use tokenstile::session::SessionRecord;
use tokenstile::store::{AsyncSessionStore, LookupKey, SubjectKey, Watermark};

use crate::codec::Keys;
use crate::error::Error;
use crate::ops::{self, Request};

/// An [`AsyncSessionStore`] on an async Redis connection (feature `tokio`).
///
/// `C` is anything that implements [`redis::aio::ConnectionLike`], typically a
/// [`redis::aio::MultiplexedConnection`] or a `redis::aio::ConnectionManager` (feature
/// `connection-manager`). Both are cheap to clone and share one connection, so clone the
/// store into each request handler. `D` is the session data, stored as JSON.
///
/// The same Redis layout and scripts as [`RedisStore`](crate::RedisStore): sync and
/// async stores with the same prefix share sessions, revocations and watermarks.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use tokenstile::store::AsyncSessionStore;
/// use tokenstile_redis::AsyncRedisStore;
///
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let connection = client.get_multiplexed_async_connection().await?;
/// let store: AsyncRedisStore<_, String> = AsyncRedisStore::with_prefix(connection, "app:");
/// let mut per_request = store.clone();
/// # let _ = &mut per_request;
/// # Ok(())
/// # }
/// ```
pub struct AsyncRedisStore<C, D> {
    connection: C,
    keys: Keys,
    data: PhantomData<fn(D) -> D>,
}

impl<C, D> AsyncRedisStore<C, D> {
    /// A store on `connection` whose keys start with [`DEFAULT_PREFIX`](crate::DEFAULT_PREFIX).
    #[must_use]
    pub fn new(connection: C) -> Self {
        Self::with_prefix(connection, crate::DEFAULT_PREFIX)
    }

    /// A store on `connection` whose keys start with `prefix`, for example `"myapp:auth:"`.
    ///
    /// Stores with different prefixes share nothing; stores with the same prefix share
    /// everything, whichever process they run in.
    #[must_use]
    pub fn with_prefix(connection: C, prefix: impl Into<String>) -> Self {
        Self {
            connection,
            keys: Keys::new(prefix.into()),
            data: PhantomData,
        }
    }

    /// The prefix of every key this store writes.
    #[must_use]
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// The connection, for commands of the application's own.
    #[must_use]
    pub fn connection_mut(&mut self) -> &mut C {
        &mut self.connection
    }

    /// The connection, giving up the store.
    #[must_use]
    pub fn into_connection(self) -> C {
        self.connection
    }
}

impl<C: ConnectionLike, D> AsyncRedisStore<C, D> {
    async fn run(&mut self, request: Request) -> Result<Value, Error> {
        match request {
            Request::Command(cmd) => cmd.query_async(&mut self.connection).await,
            Request::Script(call) => call.invoke_async(&mut self.connection).await,
        }
        .map_err(Error::redis)
    }
}

impl<C: Clone, D> Clone for AsyncRedisStore<C, D> {
    fn clone(&self) -> Self {
        Self {
            connection: self.connection.clone(),
            keys: self.keys.clone(),
            data: PhantomData,
        }
    }
}

impl<C, D> fmt::Debug for AsyncRedisStore<C, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncRedisStore")
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl<C, D> AsyncSessionStore for AsyncRedisStore<C, D>
where
    C: ConnectionLike,
    D: Serialize + DeserializeOwned,
{
    type Data = D;
    type Error = Error;

    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let request = ops::create(&self.keys, key, &record, now)?;
        ops::create_reply(&self.run(request).await?)
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        let reply = self.run(ops::get(&self.keys, key)).await?;
        ops::get_reply(reply, now)
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let request = ops::update(&self.keys, key, &record, now)?;
        ops::written_reply(&self.run(request).await?)
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let request = ops::touch(&self.keys, key, idle_deadline, now);
        ops::written_reply(&self.run(request).await?)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Error> {
        let request = ops::remove(&self.keys, key);
        ops::remove_reply(&self.run(request).await?)
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        let request = ops::rotate(&self.keys, old, new, now);
        ops::rotate_reply(self.run(request).await?)
    }

    async fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Error> {
        let request = ops::remove_subject(&self.keys, subject);
        ops::remove_subject_reply(&self.run(request).await?)
    }

    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Error> {
        match ops::revoke(&self.keys, key, until, now) {
            Some(request) => ops::stored_reply(&self.run(request).await?),
            None => Ok(()),
        }
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Error> {
        let reply = self.run(ops::is_revoked(&self.keys, key)).await?;
        ops::is_revoked_reply(reply, now)
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Error> {
        let request = ops::raise_watermark(&self.keys, key, watermark, now);
        ops::stored_reply(&self.run(request).await?)
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Error> {
        let reply = self.run(ops::watermark(&self.keys, key)).await?;
        ops::watermark_reply(reply, now)
    }

    /// Redis expires every entry by its TTL, so there is nothing to purge: always `Ok(0)`.
    async fn purge_expired(&mut self, _now: UnixTime) -> Result<usize, Error> {
        Ok(0)
    }
}
