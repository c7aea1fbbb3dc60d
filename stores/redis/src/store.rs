//! The store.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{ErrorKind, ScriptInvocation, ServerErrorKind, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokenstile::UnixTime;
use tokenstile::store::{
    CreateOutcome, LookupKey, RevocationCheck, RevocationStore, SessionHandle, SessionRecord,
    SessionSink, SessionStore, Store, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome,
    Watermark, WhenFull,
};

use crate::codec::{self, Keys};
use crate::connect::ServerSettings;
use crate::error::Error;
use crate::ops;

/// tokenstile's [`SessionStore`] (for any session data type) and [`RevocationStore`] on
/// Redis.
///
/// `C` is the async connection: by default a [`ConnectionManager`], which reconnects on
/// its own after Redis restarts or the connection drops; [`connect`](Self::connect)
/// builds one with bounded timeouts and checks the server's persistence settings. Any
/// other [`redis::aio::ConnectionLike`] works too (a `MultiplexedConnection`, or a
/// cluster connection with the redis crate's `cluster-async` feature): see
/// [`with_prefix`](Self::with_prefix).
///
/// The store is a cheap handle: clone it into every task or request handler; the clones
/// share the connection. Session data of any type `D: Serialize + DeserializeOwned` is
/// stored as JSON, so one store serves several data types (a record read as the wrong
/// type is reported as [`StoreErrorKind::Corrupt`] and left as it is).
///
/// Every operation is one Lua script, or a read followed by one script that checks the
/// read is still current; listing a large subject and cleaning up after
/// log-out-everywhere run bounded scripts one after another. See the crate docs for how
/// each operation maps to Redis and what it costs.
pub struct RedisStore<C = ConnectionManager> {
    connection: C,
    keys: Keys,
    settings: Option<ServerSettings>,
}

impl<C> RedisStore<C> {
    /// A store on `connection` whose keys start with [`DEFAULT_PREFIX`](crate::DEFAULT_PREFIX).
    ///
    /// Nothing is checked: prefer [`connect`](Self::connect), which sets timeouts and
    /// checks the server's persistence.
    #[must_use]
    pub fn new(connection: C) -> Self {
        Self::with_prefix(connection, crate::DEFAULT_PREFIX)
    }

    /// A store on `connection` whose keys start with `prefix`, for example `"myapp:auth:"`.
    ///
    /// Stores with different prefixes share nothing; stores with the same prefix share
    /// everything, whichever process they run in.
    ///
    /// On Redis Cluster, don't start the prefix with `}`: session keys start with the hash
    /// tag `{<prefix>sessions}`, which would then be empty, and Redis ignores an empty
    /// tag, so a session's keys would land in different slots and every session script
    /// would fail with `CROSSSLOT`. Build the cluster connection with
    /// `ClusterClientBuilder::retries(0)`: a request the cluster connection sends again
    /// after a lost reply would run a script twice, and the second run would answer
    /// `Conflict` for the first one's write.
    #[must_use]
    pub fn with_prefix(connection: C, prefix: impl Into<String>) -> Self {
        Self {
            connection,
            keys: Keys::new(prefix.into()),
            settings: None,
        }
    }

    /// The prefix of every key this store writes.
    #[must_use]
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// The server's persistence settings as [`connect`](Self::connect) or
    /// [`check_server`](Self::check_server) read them, if they were read.
    #[must_use]
    pub fn server_settings(&self) -> Option<&ServerSettings> {
        self.settings.as_ref()
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

    pub(crate) fn set_settings(&mut self, settings: ServerSettings) {
        self.settings = Some(settings);
    }
}

impl<C: ConnectionLike + Send> RedisStore<C> {
    /// Reads the server's persistence and eviction settings (`CONFIG GET`), and keeps
    /// them for [`server_settings`](Self::server_settings).
    ///
    /// # Errors
    ///
    /// A backend failure, including a server that refuses `CONFIG` (some managed
    /// services rename or disable it).
    pub async fn check_server(&mut self) -> Result<ServerSettings, Error> {
        let settings = ServerSettings::read(&mut self.connection).await?;
        self.settings = Some(settings.clone());
        Ok(settings)
    }

    async fn run(&mut self, call: &ScriptInvocation<'_>) -> Result<Value, Error> {
        call.invoke_async(&mut self.connection)
            .await
            .map_err(Error::redis)
    }

    async fn command(&mut self, cmd: redis::Cmd) -> Result<Value, Error> {
        cmd.query_async(&mut self.connection)
            .await
            .map_err(Error::redis)
    }

    /// The value of the session filed under `key` while its subject's index holds it.
    async fn read(&mut self, key: &LookupKey) -> Result<Option<Vec<u8>>, Error> {
        let mut call = ops::GET.prepare_invoke();
        call.key(self.keys.session(key))
            .arg(codec::member(key))
            .arg(self.keys.sessions());
        let reply = self.run(&call).await?;
        ops::bytes(reply)
    }

    /// The live record filed under `key`, decoded as `D`.
    async fn read_live<D: DeserializeOwned>(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        let Some(value) = self.read(key).await? else {
            return Ok(None);
        };
        let record: SessionRecord<D> = codec::decode_session(&value)?;
        Ok(record.is_live(now).then_some(record))
    }
}

impl<C: Clone> Clone for RedisStore<C> {
    fn clone(&self) -> Self {
        Self {
            connection: self.connection.clone(),
            keys: self.keys.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<C> fmt::Debug for RedisStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.keys.prefix())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How many times `touch` and `rotate` read again when the session's version changed
/// between their read and their write (another request saved it meanwhile).
const ATTEMPTS: usize = 4;

/// How many sessions one listing script returns at most.
const LIST_PAGE: usize = 1000;

/// How many detached sessions one cleanup script deletes.
const SWEEP_CHUNK: usize = 200;

impl<C: ConnectionLike + Send> Store for RedisStore<C> {
    type Error = Error;

    /// Redis expires every entry by its TTL, and dead index entries are pruned as
    /// sessions are created: there is nothing to purge, so this is always `Ok(0)`.
    async fn purge_expired(&mut self, _now: UnixTime) -> Result<usize, Error> {
        Ok(0)
    }
}

impl<C, D> SessionStore<D> for RedisStore<C>
where
    C: ConnectionLike + Send,
    D: Serialize + DeserializeOwned + Send + Sync,
{
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, Error> {
        let value = codec::encode_session(&record)?;
        let (max, when_full) = match limit {
            None => (0, "refuse"),
            Some(limit) => (
                limit.max(),
                match limit.when_full() {
                    WhenFull::EndOldest => "oldest",
                    _ => "refuse",
                },
            ),
        };
        let mut call = ops::CREATE.prepare_invoke();
        call.key(self.keys.session(key))
            .key(self.keys.subject(record.subject()))
            .key(self.keys.age(record.subject()))
            .arg(value)
            .arg(codec::time(record.expires_at()))
            .arg(codec::time(now))
            .arg(codec::member(key))
            .arg(codec::time(record.created()))
            .arg(self.keys.sessions())
            .arg(max)
            .arg(when_full)
            .arg(codec::subject_hex(record.subject()));
        let reply = self.run(&call).await?;
        Ok(match ops::created(reply)? {
            Some(ended) => CreateOutcome::Created { ended },
            None => CreateOutcome::LimitReached,
        })
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        self.read_live(key, now).await
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, Error> {
        let data = codec::encode_data(data)?;
        let next = version.checked_add(1);
        let mut call = ops::UPDATE.prepare_invoke();
        call.key(self.keys.session(key))
            .arg(codec::member(key))
            .arg(self.keys.sessions())
            .arg(codec::digits(version))
            .arg(next.map(codec::digits).unwrap_or_default())
            .arg(data)
            .arg(codec::time(idle_deadline))
            .arg(codec::time(now));
        let reply = self.run(&call).await?;
        match (ops::code(&reply)?, next) {
            (ops::OK, Some(version)) => Ok(UpdateOutcome::Updated { version }),
            (ops::ABSENT, _) => Ok(UpdateOutcome::NotFound),
            (ops::STALE, _) => Ok(UpdateOutcome::Stale),
            (other, _) => Err(ops::unexpected(other)),
        }
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Error> {
        for _ in 0..ATTEMPTS {
            // Decode first: a record that can't be read as `D` is reported, untouched.
            let Some(record) = self.read_live::<D>(key, now).await? else {
                return Ok(false);
            };
            let mut call = ops::TOUCH.prepare_invoke();
            call.key(self.keys.session(key))
                .arg(codec::time(idle_deadline))
                .arg(codec::time(now))
                .arg(codec::member(key))
                .arg(self.keys.sessions())
                .arg(codec::digits(record.version()));
            match ops::code(&self.run(&call).await?)? {
                ops::OK => return Ok(true),
                ops::ABSENT => return Ok(false),
                ops::CHANGED => {}
                other => return Err(ops::unexpected(other)),
            }
        }
        // Saved by others on every attempt: each save recorded activity too, and the
        // contract lets a touch be dropped under contention.
        Ok(true)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Error> {
        let mut call = ops::REMOVE.prepare_invoke();
        call.key(self.keys.session(key))
            .arg(codec::member(key))
            .arg(self.keys.sessions());
        match ops::code(&self.run(&call).await?)? {
            ops::OK => Ok(true),
            ops::ABSENT => Ok(false),
            other => Err(ops::unexpected(other)),
        }
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        for _ in 0..ATTEMPTS {
            // Decode first: a record that can't be read as `D` is reported, not moved.
            let read = self.read_live::<D>(old, now).await?;
            let mut call = ops::ROTATE.prepare_invoke();
            call.key(self.keys.session(old))
                .key(self.keys.session(new))
                .arg(codec::time(now))
                .arg(codec::member(old))
                .arg(codec::member(new))
                .arg(self.keys.sessions())
                .arg(
                    read.as_ref()
                        .map(|r| codec::digits(r.version()))
                        .unwrap_or_default(),
                );
            let reply = self.run(&call).await?;
            if let Value::BulkString(moved) = reply {
                // The same data bytes that decoded above, with the times as moved.
                return codec::decode_session(&moved).map(Some);
            }
            match ops::code(&reply)? {
                ops::ABSENT => return Ok(None),
                ops::CONFLICT => return Err(Error::conflict()),
                ops::CHANGED => {}
                other => return Err(ops::unexpected(other)),
            }
        }
        Err(Error::new(StoreErrorKind::Backend)
            .with_detail("the session kept changing while being rotated".to_owned()))
    }

    /// One script detaches the subject's index (every session in it is dead from that
    /// moment, whatever their number); then scripts of 200 delete their keys. Once the
    /// first script succeeded this returns `Ok`, even if the cleanup is interrupted: the
    /// remaining keys are never read again and expire with their TTLs.
    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, Error> {
        let index = self.keys.subject(subject);
        let age = self.keys.age(subject);
        for _ in 0..ATTEMPTS {
            let (gone, gone_age) = self.keys.swept(subject, detach_tag());
            let mut call = ops::DETACH.prepare_invoke();
            call.key(&index)
                .key(&age)
                .key(&gone)
                .key(&gone_age)
                .arg(keep.map(codec::member).unwrap_or_default())
                .arg(self.keys.sessions());
            let reply = self.run(&call).await?;
            if ops::code(&reply)? == ops::NAME_TAKEN {
                continue;
            }
            let taken = ops::count(&reply)?;
            // Every session taken is already dead to every reader. Delete their keys in
            // bounded chunks, so that no single script blocks Redis for long; if this is
            // interrupted, the rest expire with their TTLs and are never read again.
            let mut sweep = ops::SWEEP.prepare_invoke();
            sweep
                .key(&gone)
                .key(&gone_age)
                .key(&index)
                .arg(self.keys.sessions())
                .arg(SWEEP_CHUNK)
                .arg(codec::subject_hex(subject));
            while let Ok(left) = self.run(&sweep).await {
                if !matches!(left, Value::Int(n) if n > 0) {
                    break;
                }
            }
            return Ok(taken);
        }
        Err(Error::protocol())
    }

    /// Reads the subject's live sessions in scripts of up to 1000: one atomic step for a
    /// subject with up to 1000 live sessions. For a larger one, each script goes on from
    /// where the one before ended, so a session touched or updated meanwhile is neither
    /// skipped nor listed twice (its later listing is the one kept), nor are the others;
    /// a session ended meanwhile may be listed or not, and one rotated meanwhile may be
    /// missed or listed under both its keys.
    async fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, Error> {
        // One script per page, so that no script runs long whatever the number of
        // sessions; a subject within one page is listed in one atomic step.
        let mut pairs = Vec::new();
        let mut cursor = (Vec::new(), Vec::new());
        loop {
            let mut call = ops::LIST.prepare_invoke();
            call.key(self.keys.subject(subject))
                .arg(codec::score(now))
                .arg(self.keys.sessions())
                .arg(LIST_PAGE)
                .arg(&cursor.0)
                .arg(&cursor.1);
            let (next, page) = ops::page(self.run(&call).await?)?;
            let more = !next.0.is_empty();
            pairs.extend(page);
            if !more {
                break;
            }
            cursor = next;
        }
        // A session touched or updated between two scripts moved later in the index, and
        // a later page lists it again: keep its last listing, the newest. (A cursor was
        // kept only if a second script ran.)
        if !cursor.0.is_empty() {
            ops::keep_last_listings(&mut pairs);
        }
        // Decode everything before handing anything out: a corrupt entry fails the call
        // and leaves `out` as it was.
        let mut found = Vec::with_capacity(pairs.len());
        for (member, value) in pairs {
            let handle = codec::parse_member(&member).ok_or_else(Error::corrupt)?;
            let record: SessionRecord<D> = codec::decode_session(&value)?;
            if record.subject() != subject {
                return Err(Error::corrupt());
            }
            if record.is_live(now) {
                found.push((SessionHandle::from_bytes(handle), record));
            }
        }
        let n = found.len();
        for (handle, record) in found {
            out.push(handle, record);
        }
        Ok(n)
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let mut call = ops::REMOVE_OWNED.prepare_invoke();
        call.key(self.keys.session(key))
            .arg(codec::member(key))
            .arg(self.keys.sessions())
            .arg(codec::subject_hex(subject))
            .arg(codec::time(now));
        match ops::code(&self.run(&call).await?)? {
            ops::OK => Ok(true),
            ops::ABSENT => Ok(false),
            other => Err(ops::unexpected(other)),
        }
    }
}

impl<C: ConnectionLike + Send> RevocationStore for RedisStore<C> {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Error> {
        if until <= now {
            return Ok(());
        }
        let mut call = ops::REVOKE.prepare_invoke();
        call.key(self.keys.revoked(key))
            .arg(codec::time(until))
            .arg(codec::time(now));
        stored(&self.run(&call).await?)
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Error> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.revoked(key));
        match ops::bytes(self.command(cmd).await?)? {
            None => Ok(false),
            Some(value) => Ok(now < codec::decode_revocation(&value)?),
        }
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Error> {
        let mut call = ops::RAISE_WATERMARK.prepare_invoke();
        call.key(self.keys.watermark(key))
            .arg(codec::time(watermark.cutoff()))
            .arg(codec::time(watermark.expires_at()))
            .arg(codec::time(now));
        stored(&self.run(&call).await?)
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Error> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.watermark(key));
        let Some(value) = ops::bytes(self.command(cmd).await?)? else {
            return Ok(None);
        };
        let watermark = codec::decode_watermark(&value)?;
        Ok((now < watermark.expires_at()).then_some(watermark))
    }

    /// One round trip: the entries and the watermark are read with one pipeline of
    /// `GET`s. On Redis Cluster, where the keys are usually in different slots (they
    /// carry no hash tag) and the cluster client refuses such a pipeline before sending
    /// anything, they are read with one `MGET`, which the client splits by slot and sends
    /// to the shards at once. The values are then judged in order, as the single calls
    /// would judge them; the one difference is on a cluster, where `MGET` answers nil for
    /// a key holding another Redis type (foreign data: this store writes only strings
    /// there), which therefore reads as absent instead of [`StoreErrorKind::Corrupt`].
    async fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, Error> {
        let names: Vec<String> = entries
            .iter()
            .map(|key| self.keys.revoked(key))
            .chain(watermark.map(|key| self.keys.watermark(key)))
            .collect();
        if names.is_empty() {
            return Ok(RevocationCheck::NotRevoked(None));
        }
        let mut values = self.get_all(&names).await?.into_iter();
        for (index, value) in values.by_ref().take(entries.len()).enumerate() {
            if let Some(value) = value?
                && now < codec::decode_revocation(&value)?
            {
                return Ok(RevocationCheck::Revoked(index));
            }
        }
        let Some(value) = values.next().transpose()?.flatten() else {
            return Ok(RevocationCheck::NotRevoked(None));
        };
        let watermark = codec::decode_watermark(&value)?;
        Ok(RevocationCheck::NotRevoked(
            (now < watermark.expires_at()).then_some(watermark),
        ))
    }
}

impl<C: ConnectionLike + Send> RedisStore<C> {
    /// The values of the string keys `names`, in one round trip, each as `GET` gives it
    /// (a key of another type is `Corrupt`); `names` is not empty.
    async fn get_all(
        &mut self,
        names: &[String],
    ) -> Result<Vec<Result<Option<Vec<u8>>, Error>>, Error> {
        let mut pipe = redis::pipe();
        for name in names {
            pipe.cmd("GET").arg(name);
        }
        let replies = match self
            .connection
            .req_packed_commands(&pipe, 0, names.len())
            .await
        {
            Ok(replies) => replies,
            // Keys in several slots of a cluster: refused by the cluster client before
            // anything was sent. `MGET` answers nil for a key of another type, where `GET`
            // fails: on a cluster such a key reads as absent.
            Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::CrossSlot) => {
                let mut cmd = redis::cmd("MGET");
                cmd.arg(names);
                match self.command(cmd).await? {
                    Value::Array(replies) => replies,
                    _ => return Err(Error::protocol()),
                }
            }
            Err(error) => return Err(Error::redis(error)),
        };
        if replies.len() != names.len() {
            return Err(Error::protocol());
        }
        Ok(replies
            .into_iter()
            .map(|reply| match reply {
                Value::ServerError(error) => Err(Error::redis(error.into())),
                reply => ops::bytes(reply),
            })
            .collect())
    }
}

/// The reply of `revoke` and `raise_watermark`.
fn stored(reply: &Value) -> Result<(), Error> {
    match ops::code(reply)? {
        ops::OK => Ok(()),
        other => Err(ops::unexpected(other)),
    }
}

/// A name for a detached index that no other call uses at the same time: a process-wide
/// counter mixed with the process ID and the clock. The detach script refuses a name in
/// use, and the caller then draws another.
fn detach_tag() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let pid = u64::from(std::process::id());
    (pid << 40 ^ u64::from(nanos) << 8).wrapping_add(n)
}
