//! The synchronous store.

use core::fmt;
use core::marker::PhantomData;

use redis::{ConnectionLike, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokenstile::UnixTime;
use tokenstile::session::SessionRecord;
use tokenstile::store::{LookupKey, SessionStore, SubjectKey, Watermark};

use crate::codec::Keys;
use crate::error::Error;
use crate::ops::{self, Request};

/// A [`SessionStore`] on a blocking Redis connection.
///
/// `C` is anything that implements [`redis::ConnectionLike`]: a [`redis::Connection`],
/// a pooled connection, or a [`redis::Client`] (which opens a connection per call). `D`
/// is the session data, stored as JSON. Every operation is one command or one Lua script,
/// so several stores (in several processes) may share one Redis: see the crate docs for
/// how each operation maps to Redis.
///
/// Because every `SessionStore` is an
/// [`AsyncSessionStore`](tokenstile::store::AsyncSessionStore), this store also works with
/// async code, but it blocks the calling thread; use `AsyncRedisStore` (feature `tokio`)
/// in async servers.
///
/// ```no_run
/// use tokenstile::store::SessionStore;
/// use tokenstile_redis::RedisStore;
///
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let mut store: RedisStore<_, String> = RedisStore::new(client.get_connection()?);
/// assert_eq!(store.prefix(), "tokenstile:");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisStore<C, D> {
    connection: C,
    keys: Keys,
    data: PhantomData<fn(D) -> D>,
}

impl<C, D> RedisStore<C, D> {
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

impl<C: ConnectionLike, D> RedisStore<C, D> {
    fn run(&mut self, request: Request) -> Result<Value, Error> {
        match request {
            Request::Command(cmd) => cmd.query(&mut self.connection),
            Request::Script(call) => call.invoke(&mut self.connection),
        }
        .map_err(Error::redis)
    }
}

impl<C, D> fmt::Debug for RedisStore<C, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl<C, D> SessionStore for RedisStore<C, D>
where
    C: ConnectionLike,
    D: Serialize + DeserializeOwned,
{
    type Data = D;
    type Error = Error;

    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let reply = self.run(ops::create(&self.keys, key, &record, now)?)?;
        ops::create_reply(&reply)
    }

    fn get(&mut self, key: &LookupKey, now: UnixTime) -> Result<Option<SessionRecord<D>>, Error> {
        let reply = self.run(ops::get(&self.keys, key))?;
        ops::get_reply(reply, now)
    }

    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let reply = self.run(ops::update(&self.keys, key, &record, now)?)?;
        ops::written_reply(&reply)
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let reply = self.run(ops::touch(&self.keys, key, idle_deadline, now))?;
        ops::written_reply(&reply)
    }

    fn remove(&mut self, key: &LookupKey) -> Result<bool, Error> {
        let reply = self.run(ops::remove(&self.keys, key))?;
        ops::remove_reply(&reply)
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        let reply = self.run(ops::rotate(&self.keys, old, new, now))?;
        ops::rotate_reply(reply)
    }

    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Error> {
        let reply = self.run(ops::remove_subject(&self.keys, subject))?;
        ops::remove_subject_reply(&reply)
    }

    fn revoke(&mut self, key: &LookupKey, until: UnixTime, now: UnixTime) -> Result<(), Error> {
        match ops::revoke(&self.keys, key, until, now) {
            Some(request) => ops::stored_reply(&self.run(request)?),
            None => Ok(()),
        }
    }

    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Error> {
        let reply = self.run(ops::is_revoked(&self.keys, key))?;
        ops::is_revoked_reply(reply, now)
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Error> {
        let reply = self.run(ops::raise_watermark(&self.keys, key, watermark, now))?;
        ops::stored_reply(&reply)
    }

    fn watermark(&mut self, key: &LookupKey, now: UnixTime) -> Result<Option<Watermark>, Error> {
        let reply = self.run(ops::watermark(&self.keys, key))?;
        ops::watermark_reply(reply, now)
    }

    /// Redis expires every entry by its TTL, so there is nothing to purge: always `Ok(0)`.
    fn purge_expired(&mut self, _now: UnixTime) -> Result<usize, Error> {
        Ok(0)
    }
}
