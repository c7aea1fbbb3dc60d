// The store, written once and included by each database's module, which defines `Db`
// (the sqlx database), `PLACEHOLDERS`, `TEMPLATES`, `MIGRATIONS`, `begin`, `is_retryable`
// and `migrate`.

use alloc::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row as _;
use sqlx::pool::{Pool, PoolConnection};
use subtle::ConstantTimeEq as _;
use tokenstile::UnixTime;
use tokenstile::store::{
    CreateOutcome, LookupKey, RevocationCheck, RevocationStore, SessionHandle, SessionRecord, SessionSink,
    SessionStore, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, Watermark, WhenFull,
};

use crate::error::Error;
use crate::options::Options;
use crate::sql::{self, Statement, Value, Values};

/// How often a transaction that lost a deadlock or a serialization race is retried.
const RETRIES: u32 = 8;

/// The compiled statements of one store.
#[derive(Debug)]
struct Statements {
    lock_subject: Option<Statement>,
    get: Statement,
    get_for_update: Statement,
    subject_of: Statement,
    delete_dead: Option<Statement>,
    insert: Statement,
    live_keys_of_subject: Statement,
    delete: Statement,
    delete_owned: Statement,
    delete_subject: Statement,
    update: Statement,
    touch: Statement,
    delete_dead_at_new_key: Statement,
    move_key: Statement,
    list_subject: Statement,
    revoke: Statement,
    is_revoked: Statement,
    raise_watermark: Statement,
    watermark: Statement,
    check_revoked: Statement,
    purge_sessions: Statement,
    purge_revocations: Statement,
    purge_watermarks: Statement,
    purge_subjects: Option<Statement>,
}

impl Statements {
    fn new(options: &Options) -> Self {
        let t = &TEMPLATES;
        let c = |template: &str| sql::compile(template, options.table_prefix(), PLACEHOLDERS);
        Self {
            lock_subject: t.lock_subject.map(c),
            get: c(t.get),
            get_for_update: c(t.get_for_update),
            subject_of: c(t.subject_of),
            delete_dead: t.delete_dead.map(c),
            insert: c(t.insert),
            live_keys_of_subject: c(t.live_keys_of_subject),
            delete: c(t.delete),
            delete_owned: c(t.delete_owned),
            delete_subject: c(t.delete_subject),
            update: c(t.update),
            touch: c(t.touch),
            delete_dead_at_new_key: c(t.delete_dead_at_new_key),
            move_key: c(t.move_key),
            list_subject: c(t.list_subject),
            revoke: c(t.revoke),
            is_revoked: c(t.is_revoked),
            raise_watermark: c(t.raise_watermark),
            watermark: c(t.watermark),
            check_revoked: c(t.check_revoked),
            purge_sessions: c(t.purge_sessions),
            purge_revocations: c(t.purge_revocations),
            purge_watermarks: c(t.purge_watermarks),
            purge_subjects: t.purge_subjects.map(c),
        }
    }
}

/// What a store shares with its clones.
#[derive(Debug)]
struct Inner {
    options: Options,
    statements: Statements,
}

/// A tokenstile store of sessions and JWT revocations in this database: a cheap handle
/// around a connection pool, cloned into each task.
///
/// It implements [`SessionStore<D>`] for every `D: Serialize + DeserializeOwned` (one
/// store serves several data types; the data is stored as JSON) and
/// [`RevocationStore`]. Create the tables once with [`migrate`](Self::migrate). The
/// crate documentation describes the schema, how each operation stays atomic, and the
/// durability it relies on.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: Pool<Db>,
    inner: Arc<Inner>,
}

/// A key's bytes, or the empty string (which no key is) for none.
fn bytes(key: Option<&LookupKey>) -> &[u8] {
    key.map_or(&[], |key| key.as_bytes())
}

/// Binds `values` to `statement` in the order it names them.
fn query<'q>(
    statement: &'q Statement,
    values: &Values<'q>,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>> {
    let mut query = sqlx::query(&statement.sql);
    for param in &statement.params {
        query = match values.get(*param) {
            Value::Bytes(bytes) => query.bind(bytes),
            Value::Int(n) => query.bind(n),
        };
    }
    query
}

/// Reads a session record from `row`, whose columns from `at` on are subject, data,
/// created, last seen, idle deadline, absolute deadline and version.
fn record_from_row<D: DeserializeOwned>(
    row: &<Db as sqlx::Database>::Row,
    at: usize,
) -> Result<SessionRecord<D>, Error> {
    let bytes = |i: usize| -> Result<Vec<u8>, Error> {
        row.try_get::<Vec<u8>, _>(at.saturating_add(i))
            .map_err(|_| Error::corrupt())
    };
    let time = |i: usize| -> Result<UnixTime, Error> {
        let secs: i64 = row
            .try_get(at.saturating_add(i))
            .map_err(|_| Error::corrupt())?;
        sql::stored_time(secs).ok_or_else(Error::corrupt)
    };
    let subject = sql::digest(&bytes(0)?).ok_or_else(Error::corrupt)?;
    // The decoder's error could quote the data: report the kind alone.
    let data = serde_json::from_slice(&bytes(1)?).map_err(|_| Error::corrupt())?;
    let version: i64 = row
        .try_get(at.saturating_add(6))
        .map_err(|_| Error::corrupt())?;
    Ok(SessionRecord::from_parts(
        SubjectKey::from_bytes(subject),
        data,
        time(2)?,
        time(3)?,
        time(4)?,
        time(5)?,
        u64::try_from(version).map_err(|_| Error::corrupt())?,
    ))
}

fn encode_data<D: Serialize>(data: &D) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(data).map_err(|_| Error::new(StoreErrorKind::Other))
}

/// What a transaction's body decided: commit its writes, or roll back having written
/// nothing that matters (a refusal, an absent session).
enum Commit<T> {
    Yes(T),
    No(T),
}

/// Ends a transaction as its body decided: commits, or rolls back, explicitly in either
/// case, so that no lock outlives the call (an error rolls back too: failed means
/// unchanged).
async fn finish<T>(
    tx: sqlx::Transaction<'_, Db>,
    done: Result<Commit<T>, Error>,
) -> Result<T, Error> {
    match done {
        Ok(Commit::Yes(value)) => {
            tx.commit().await?;
            Ok(value)
        }
        Ok(Commit::No(value)) => {
            tx.rollback().await?;
            Ok(value)
        }
        Err(e) => {
            // The error is what matters; if the rollback fails too, the connection is
            // broken and the database rolls the transaction back when it closes.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Whether an error is a lost deadlock or serialization race, after which the whole
/// transaction (already rolled back) may be retried.
fn retryable(error: &Error) -> bool {
    error.sqlx_error().is_some_and(is_retryable)
}

/// Runs `$attempt` (an expression producing a future of `Result<_, Error>`) until it
/// succeeds, fails for good, or has lost [`RETRIES`] deadlocks or serialization races,
/// pausing before each retry ([`pause_before_retry`]).
macro_rules! with_retries {
    ($attempt:expr) => {{
        let mut tries = 0u32;
        loop {
            match $attempt.await {
                Err(e) if retryable(&e) && tries < RETRIES => {
                    tries = tries.saturating_add(1);
                    pause_before_retry(tries).await;
                }
                done => break done,
            }
        }
    }};
}

/// The pause before retry number `tries` (from 1): a random time up to 2^`tries`
/// milliseconds (at most 256 ms), so that transactions that deadlocked with each other
/// don't start again in step and meet again, as they do under load when retried at once.
/// All pauses together stay under about half a second.
async fn pause_before_retry(tries: u32) {
    let ceiling_us = 1000u64 << tries.min(8);
    // Jitter from the clock's sub-second nanoseconds: it only has to differ between the
    // transactions involved, not be unpredictable.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let pause_us = u64::from(nanos.wrapping_mul(0x9e37_79b9)).checked_rem(ceiling_us);
    let pause_us = pause_us.unwrap_or(0);
    tokio::time::sleep(core::time::Duration::from_micros(pause_us)).await;
}

impl SqlStore {
    /// A store on `pool`, with its tables named as `options` say. Call
    /// [`migrate`](Self::migrate) once before use.
    #[must_use]
    pub fn from_pool(pool: Pool<Db>, options: Options) -> Self {
        let statements = Statements::new(&options);
        Self {
            pool,
            inner: Arc::new(Inner {
                options,
                statements,
            }),
        }
    }

    /// The connection pool.
    #[must_use]
    pub fn pool(&self) -> &Pool<Db> {
        &self.pool
    }

    /// The options the store was built with.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Creates or upgrades the store's tables: applies, in order, each migration shipped
    /// with this crate that the database has not recorded yet (in the table
    /// `<prefix>migrations`). Safe to call from several processes at once, and at every
    /// start.
    ///
    /// # Errors
    ///
    /// A database failure, or [`StoreErrorKind::Other`] if the database records a
    /// migration this version of the crate doesn't know (a newer schema).
    pub async fn migrate(&self) -> Result<(), Error> {
        migrate(&self.pool, self.inner.options.table_prefix()).await
    }

    fn statements(&self) -> &Statements {
        &self.inner.statements
    }

    /// Takes the subject's lock row for the rest of the transaction.
    async fn lock_subject(
        &self,
        tx: &mut <Db as sqlx::Database>::Connection,
        subject: &[u8],
    ) -> Result<(), Error> {
        if let Some(lock) = &self.statements().lock_subject {
            let values = Values {
                subject,
                ..Values::default()
            };
            query(lock, &values).execute(&mut *tx).await?;
        }
        Ok(())
    }

    async fn try_create(
        &self,
        values: &Values<'_>,
        limit: Option<SubjectLimit>,
    ) -> Result<CreateOutcome, Error> {
        let mut conn: PoolConnection<Db> = self.pool.acquire().await?;
        let mut tx = begin(&mut conn).await?;
        let done = self.create_in(&mut tx, values, limit).await;
        finish(tx, done).await
    }

    async fn create_in(
        &self,
        tx: &mut <Db as sqlx::Database>::Connection,
        values: &Values<'_>,
        limit: Option<SubjectLimit>,
    ) -> Result<Commit<CreateOutcome>, Error> {
        let s = self.statements();
        self.lock_subject(tx, values.subject).await?;
        let mut ended = 0usize;
        if let Some(limit) = limit {
            let rows = query(&s.live_keys_of_subject, values)
                .fetch_all(&mut *tx)
                .await?;
            let keys = rows
                .iter()
                .map(|row| row.try_get::<Vec<u8>, _>(0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| Error::corrupt())?;
            // A live session under the key itself: a conflict, whatever the limit says
            // (ending it to make room would overwrite it). Digests of keys, compared in
            // constant time as every key is in the crate, though an index compares them
            // as it likes.
            if keys
                .iter()
                .any(|key| bool::from(key.as_slice().ct_eq(values.key)))
            {
                return Err(Error::conflict());
            }
            if keys.len() >= limit.max() {
                if limit.when_full() == WhenFull::Refuse {
                    return Ok(Commit::No(CreateOutcome::LimitReached));
                }
                let excess = keys.len().saturating_sub(limit.max()).saturating_add(1);
                for key in keys.iter().take(excess) {
                    let oldest = Values { key, ..*values };
                    let removed = query(&s.delete, &oldest).execute(&mut *tx).await?;
                    if removed.rows_affected() > 0 {
                        ended = ended.saturating_add(1);
                    }
                }
            }
        }
        if let Some(delete_dead) = &s.delete_dead {
            query(delete_dead, values).execute(&mut *tx).await?;
        }
        let inserted = query(&s.insert, values).execute(&mut *tx).await?;
        if inserted.rows_affected() == 0 {
            // A live session holds the key: nothing is written (the rollback undoes any
            // session ended for the limit).
            return Err(Error::conflict());
        }
        Ok(Commit::Yes(CreateOutcome::Created { ended }))
    }

    async fn try_rotate<D: DeserializeOwned>(
        &self,
        values: &Values<'_>,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        let mut conn: PoolConnection<Db> = self.pool.acquire().await?;
        let mut tx = begin(&mut conn).await?;
        let done = self.rotate_in(&mut tx, values).await;
        finish(tx, done).await
    }

    async fn rotate_in<D: DeserializeOwned>(
        &self,
        tx: &mut <Db as sqlx::Database>::Connection,
        values: &Values<'_>,
    ) -> Result<Commit<Option<SessionRecord<D>>>, Error> {
        let s = self.statements();
        // A key never changes owner, so its subject can be read before taking the
        // subject's lock; the record itself is read again under the lock.
        let Some(row) = query(&s.subject_of, values)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Commit::No(None));
        };
        let subject: Vec<u8> = row.try_get(0).map_err(|_| Error::corrupt())?;
        self.lock_subject(tx, &subject).await?;
        let Some(row) = query(&s.get_for_update, values)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Commit::No(None));
        };
        let record = record_from_row(&row, 0)?;
        if bool::from(values.key.ct_eq(values.new_key)) {
            return Err(Error::conflict());
        }
        query(&s.delete_dead_at_new_key, values)
            .execute(&mut *tx)
            .await?;
        // A live session under the new key makes this a unique-key violation: Conflict,
        // and the transaction is rolled back.
        let moved = query(&s.move_key, values).execute(&mut *tx).await?;
        if moved.rows_affected() != 1 {
            return Err(Error::new(StoreErrorKind::Backend));
        }
        Ok(Commit::Yes(Some(record)))
    }

    async fn try_remove_subject(&self, values: &Values<'_>) -> Result<usize, Error> {
        let mut conn: PoolConnection<Db> = self.pool.acquire().await?;
        let mut tx = begin(&mut conn).await?;
        let done = self.remove_subject_in(&mut tx, values).await;
        finish(tx, done).await
    }

    async fn remove_subject_in(
        &self,
        tx: &mut <Db as sqlx::Database>::Connection,
        values: &Values<'_>,
    ) -> Result<Commit<usize>, Error> {
        // Under the subject's lock, no create or rotation of this subject is in flight:
        // every session it has committed is seen and deleted.
        self.lock_subject(tx, values.subject).await?;
        let removed = query(&self.statements().delete_subject, values)
            .execute(&mut *tx)
            .await?;
        Ok(Commit::Yes(
            usize::try_from(removed.rows_affected()).unwrap_or(usize::MAX),
        ))
    }

    /// Runs one write statement outside a transaction, retrying it if it lost a deadlock
    /// (a single statement can: InnoDB then rolls it back whole), and returns how many
    /// rows it affected.
    async fn write(&self, statement: &Statement, values: &Values<'_>) -> Result<u64, Error> {
        with_retries!(async {
            query(statement, values)
                .execute(&self.pool)
                .await
                .map(|done| done.rows_affected())
                .map_err(Error::from)
        })
    }

    /// Deletes dead rows with `statement` in batches: until a batch deletes nothing, or,
    /// with `until_short`, until one comes back short.
    ///
    /// Entries dead at a fixed `now` are a number that only falls, so the first rule ends
    /// and leaves none behind a short batch (one that met rows a concurrent touch kept
    /// alive or a concurrent removal took). Unused subject rows are different: every
    /// logout that ends a subject's last session makes one more, so under steady traffic
    /// a batch might never come back empty; they are bookkeeping, and a short batch ends
    /// their purge.
    ///
    /// Each batch is a transaction of its own, begun as every transaction of the store is
    /// (at `READ COMMITTED` on PostgreSQL and MySQL): a batch scans rows it doesn't delete
    /// (MySQL's `subjects`, for their sessions), and at MySQL's default `REPEATABLE READ`
    /// it would keep every one of them locked, blocking every login, until it ended.
    async fn purge(
        &self,
        statement: &Statement,
        now: i64,
        until_short: bool,
    ) -> Result<usize, Error> {
        let batch = self.inner.options.purge_batch().get();
        let values = Values {
            now,
            limit: i64::from(batch),
            ..Values::default()
        };
        let mut total = 0usize;
        loop {
            let n = with_retries!(async {
                let mut conn: PoolConnection<Db> = self.pool.acquire().await?;
                let mut tx = begin(&mut conn).await?;
                let done = query(statement, &values)
                    .execute(&mut *tx)
                    .await
                    .map(|done| Commit::Yes(done.rows_affected()))
                    .map_err(Error::from);
                finish(tx, done).await
            })?;
            total = total.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
            if n == 0 || (until_short && n < u64::from(batch)) {
                return Ok(total);
            }
        }
    }
}

impl tokenstile::store::Store for SqlStore {
    type Error = Error;

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Error> {
        let s = self.statements();
        let now = sql::time(now);
        let mut purged = self.purge(&s.purge_sessions, now, false).await?;
        purged = purged.saturating_add(self.purge(&s.purge_revocations, now, false).await?);
        purged = purged.saturating_add(self.purge(&s.purge_watermarks, now, false).await?);
        if let Some(subjects) = &s.purge_subjects {
            // Lock rows of subjects without sessions are bookkeeping, not entries: they
            // are not counted.
            self.purge(subjects, now, true).await?;
        }
        Ok(purged)
    }
}

impl<D> SessionStore<D> for SqlStore
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
        let data = encode_data(record.data())?;
        let values = Values {
            key: key.as_bytes(),
            subject: record.subject().as_bytes(),
            data: &data,
            created: sql::time(record.created()),
            last_seen: sql::time(record.last_seen()),
            idle: sql::time(record.idle_deadline()),
            absolute: sql::time(record.absolute_deadline()),
            expires: sql::time(record.expires_at()),
            version: i64::try_from(record.version())
                .map_err(|_| Error::new(StoreErrorKind::Other))?,
            now: sql::time(now),
            ..Values::default()
        };
        with_retries!(self.try_create(&values, limit))
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        let values = Values {
            key: key.as_bytes(),
            now: sql::time(now),
            ..Values::default()
        };
        let row = query(&self.statements().get, &values)
            .fetch_optional(&self.pool)
            .await?;
        // The row's `expires_at` selected it; the record's own deadlines decide (they
        // agree unless the row was edited by hand).
        let record = row.map(|row| record_from_row::<D>(&row, 0)).transpose()?;
        Ok(record.filter(|r| r.is_live(now)))
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, Error> {
        let data = encode_data(data)?;
        // A version the column can't hold is never the stored one, and one whose successor
        // it can't hold (`i64::MAX`) can't be updated: no statement is run for either,
        // and the session is then stale or missing as for any other version.
        let writable = i64::try_from(version)
            .ok()
            .zip(version.checked_add(1).filter(|n| i64::try_from(*n).is_ok()));
        let mut values = Values {
            key: key.as_bytes(),
            data: &data,
            idle: sql::time(idle_deadline),
            now: sql::time(now),
            ..Values::default()
        };
        let s = self.statements();
        if let Some((stored, next)) = writable {
            values.version = stored;
            if self.write(&s.update, &values).await? > 0 {
                return Ok(UpdateOutcome::Updated { version: next });
            }
        }
        // Nothing written: tell a stale version from a missing session.
        let live = query(&s.subject_of, &values)
            .fetch_optional(&self.pool)
            .await?;
        Ok(if live.is_some() {
            UpdateOutcome::Stale
        } else {
            UpdateOutcome::NotFound
        })
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let values = Values {
            key: key.as_bytes(),
            idle: sql::time(idle_deadline),
            now: sql::time(now),
            ..Values::default()
        };
        Ok(self.write(&self.statements().touch, &values).await? > 0)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Error> {
        let values = Values {
            key: key.as_bytes(),
            ..Values::default()
        };
        Ok(self.write(&self.statements().delete, &values).await? > 0)
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, Error> {
        let values = Values {
            key: old.as_bytes(),
            new_key: new.as_bytes(),
            now: sql::time(now),
            ..Values::default()
        };
        with_retries!(self.try_rotate(&values))
    }

    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, Error> {
        let values = Values {
            subject: subject.as_bytes(),
            keep: keep.map_or(&[][..], |k| &k.as_bytes()[..]),
            ..Values::default()
        };
        with_retries!(self.try_remove_subject(&values))
    }

    async fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, Error> {
        let values = Values {
            subject: subject.as_bytes(),
            now: sql::time(now),
            ..Values::default()
        };
        let rows = query(&self.statements().list_subject, &values)
            .fetch_all(&self.pool)
            .await?;
        // Decode everything before handing anything over: a corrupt row fails the call.
        let mut sessions = Vec::with_capacity(rows.len());
        for row in &rows {
            let key: Vec<u8> = row.try_get(0).map_err(|_| Error::corrupt())?;
            let key = sql::digest(&key).ok_or_else(Error::corrupt)?;
            let record: SessionRecord<D> = record_from_row(row, 1)?;
            // As in `get`: the record's own deadlines decide, not the row's `expires_at`.
            if record.is_live(now) {
                sessions.push((SessionHandle::from_bytes(key), record));
            }
        }
        let count = sessions.len();
        for (handle, record) in sessions {
            out.push(handle, record);
        }
        Ok(count)
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let values = Values {
            key: key.as_bytes(),
            subject: subject.as_bytes(),
            now: sql::time(now),
            ..Values::default()
        };
        Ok(self.write(&self.statements().delete_owned, &values).await? > 0)
    }
}

impl RevocationStore for SqlStore {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Error> {
        if until <= now {
            // Dead on arrival: nothing to store.
            return Ok(());
        }
        let values = Values {
            key: key.as_bytes(),
            until: sql::time(until),
            now: sql::time(now),
            ..Values::default()
        };
        self.write(&self.statements().revoke, &values).await?;
        Ok(())
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Error> {
        let values = Values {
            key: key.as_bytes(),
            now: sql::time(now),
            ..Values::default()
        };
        let row = query(&self.statements().is_revoked, &values)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Error> {
        // Even a watermark dead on arrival is merged: its cutoff raises a live one's. With
        // no live one it changes nothing (the statement's condition).
        let values = Values {
            key: key.as_bytes(),
            cutoff: sql::time(watermark.cutoff()),
            expires: sql::time(watermark.expires_at()),
            now: sql::time(now),
            ..Values::default()
        };
        self.write(&self.statements().raise_watermark, &values)
            .await?;
        Ok(())
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Error> {
        let values = Values {
            key: key.as_bytes(),
            now: sql::time(now),
            ..Values::default()
        };
        let Some(row) = query(&self.statements().watermark, &values)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let time = |i: usize| -> Result<UnixTime, Error> {
            let secs: i64 = row.try_get(i).map_err(|_| Error::corrupt())?;
            sql::stored_time(secs).ok_or_else(Error::corrupt)
        };
        Ok(Some(Watermark::new(time(0)?, time(1)?)))
    }

    /// One statement for a checked JWT: two entries and the watermark, each read as
    /// `is_revoked` and `watermark` read it. More than two entries take one more
    /// statement per two.
    async fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, Error> {
        if entries.is_empty() && watermark.is_none() {
            return Ok(RevocationCheck::NotRevoked(None));
        }
        // The watermark's columns from the first statement, judged after every entry.
        let mut mark = None;
        let mut start = 0;
        loop {
            let rest = entries.get(start..).unwrap_or_default();
            let chunk = rest.get(..2).unwrap_or(rest);
            let values = Values {
                key: bytes(chunk.first()),
                second: bytes(chunk.get(1)),
                mark: bytes(watermark.filter(|_| start == 0)),
                now: sql::time(now),
                ..Values::default()
            };
            let row = query(&self.statements().check_revoked, &values)
                .fetch_one(&self.pool)
                .await?;
            for i in 0..chunk.len() {
                let count: i64 = row.try_get(i).map_err(|_| Error::corrupt())?;
                if count > 0 {
                    return Ok(RevocationCheck::Revoked(start.saturating_add(i)));
                }
            }
            if start == 0 && watermark.is_some() {
                let time = |i: usize| row.try_get::<Option<i64>, _>(i);
                mark = Some((time(2), time(3)));
            }
            start = start.saturating_add(chunk.len());
            if start >= entries.len() {
                break;
            }
        }
        let found = match mark {
            None | Some((Ok(None), Ok(None))) => None,
            Some((Ok(Some(cutoff)), Ok(Some(expires_at)))) => {
                let time = |secs| sql::stored_time(secs).ok_or_else(Error::corrupt);
                Some(Watermark::new(time(cutoff)?, time(expires_at)?))
            }
            Some(_) => return Err(Error::corrupt()),
        };
        Ok(RevocationCheck::NotRevoked(found))
    }
}

/// Applies the migrations the database has not recorded, each in a transaction of its
/// own (where the database has transactional DDL), holding the database's migration
/// lock.
async fn migrate(pool: &Pool<Db>, prefix: &crate::options::TablePrefix) -> Result<(), Error> {
    // Every start calls this: when every migration is recorded, one read is all it does,
    // so a user with only SELECT, INSERT, UPDATE and DELETE can run it.
    let select = format!("SELECT version FROM {}migrations", prefix.as_str());
    let recorded = sqlx::query_scalar::<_, i64>(&select).fetch_all(pool).await;
    if let Ok(applied) = recorded
        && MIGRATIONS.iter().all(|m| applied.contains(&m.version))
    {
        let known = MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0);
        if applied.iter().any(|v| *v > known) {
            return Err(Error::new(StoreErrorKind::Other));
        }
        return Ok(());
    }
    let mut conn: PoolConnection<Db> = pool.acquire().await?;
    // The migration lock belongs to the connection's session (MySQL's `GET_LOCK`,
    // PostgreSQL's advisory lock): should this call be cancelled (a start-up timeout),
    // the connection closes instead of going back to the pool still holding it.
    conn.close_on_drop();
    lock_migrations(&mut conn, prefix).await?;
    let applied = apply_migrations(&mut conn, prefix).await;
    let unlocked = unlock_migrations(&mut conn, prefix).await;
    if unlocked.is_err() {
        // Don't hand a connection that may still hold the lock back to the pool.
        drop(conn.detach());
    }
    applied?;
    unlocked?;
    Ok(())
}

async fn apply_migrations(
    conn: &mut PoolConnection<Db>,
    prefix: &crate::options::TablePrefix,
) -> Result<(), Error> {
    let table = MIGRATIONS_TABLE.replace("{p}", prefix.as_str());
    sqlx::query(&table).execute(&mut **conn).await?;
    let select = format!("SELECT version FROM {}migrations", prefix.as_str());
    let insert = sql::compile(
        &format!(
            "INSERT INTO {}migrations (version, description) VALUES (:version, :data)",
            prefix.as_str()
        ),
        prefix,
        PLACEHOLDERS,
    );
    let applied: Vec<i64> = sqlx::query_scalar(&select).fetch_all(&mut **conn).await?;
    let known = MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0);
    if applied.iter().any(|v| *v > known) {
        return Err(Error::new(StoreErrorKind::Other));
    }
    for migration in MIGRATIONS {
        if applied.contains(&migration.version) {
            continue;
        }
        let mut tx = begin(conn).await?;
        // SQLite takes no migration lock: another process may have applied this one
        // since the read above. Under the transaction (its write lock, on SQLite), look
        // again.
        let recorded: Vec<i64> = sqlx::query_scalar(&select).fetch_all(&mut *tx).await?;
        if recorded.contains(&migration.version) {
            tx.rollback().await?;
            continue;
        }
        for statement in migration.statements(prefix) {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        let values = Values {
            version: migration.version,
            data: migration.description.as_bytes(),
            ..Values::default()
        };
        query(&insert, &values).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(())
}
