//! The session lifecycle, written once over the storage traits.

use core::fmt;

use rand_core::TryCryptoRng;

use super::{SessionId, SessionRecord};
use crate::store::{AsyncSessionStore, SessionStore, StoreError, SubjectKey, complete};
use crate::time::UnixTime;

/// How long sessions live and how often activity is written back; the lifecycle
/// operations are its methods.
///
/// A session ends at the first of:
///
/// - the **idle timeout** after the last recorded activity (default 30 minutes);
/// - the **absolute timeout** after it was created (default 8 hours), however active it
///   is, and even across [rotations](Self::rotate);
/// - [destroying](Self::destroy) it, or all of its subject's sessions
///   ([`destroy_subject`](Self::destroy_subject)).
///
/// Loading a session counts as activity, but it is written back to the store only when the
/// last write is at least the **touch interval** old (default 60 seconds). So a session
/// busy with many requests costs one store write a minute, and its idle timeout is
/// effectively between `idle_timeout - touch_interval` and `idle_timeout`. Keep the touch
/// interval well below the idle timeout.
///
/// Deadlines are stored in each record, and loading checks them **and** this policy, so
/// shortening a timeout also ends existing sessions that exceed it.
///
/// All times are whole seconds. The methods with an `_async` suffix do the same over an
/// [`AsyncSessionStore`].
///
/// ```
/// use tokenstile::session::SessionPolicy;
///
/// let policy = SessionPolicy::new()
///     .with_idle_timeout(15 * 60)
///     .with_absolute_timeout(12 * 60 * 60);
/// assert_eq!(policy.touch_interval, 60);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SessionPolicy {
    /// Seconds without recorded activity after which a session ends. Default: 1800
    /// (30 minutes).
    pub idle_timeout: u64,
    /// Seconds after creation at which a session ends regardless of activity. Default:
    /// 28 800 (8 hours).
    pub absolute_timeout: u64,
    /// Minimum seconds between two write-backs of activity. Default: 60. Zero writes on
    /// every load.
    pub touch_interval: u64,
}

impl SessionPolicy {
    /// Default idle timeout: 30 minutes.
    pub const DEFAULT_IDLE_TIMEOUT: u64 = 30 * 60;
    /// Default absolute timeout: 8 hours.
    pub const DEFAULT_ABSOLUTE_TIMEOUT: u64 = 8 * 60 * 60;
    /// Default touch interval: 60 seconds.
    pub const DEFAULT_TOUCH_INTERVAL: u64 = 60;

    /// The default policy: idle 30 minutes, absolute 8 hours, touch every 60 seconds.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            absolute_timeout: Self::DEFAULT_ABSOLUTE_TIMEOUT,
            touch_interval: Self::DEFAULT_TOUCH_INTERVAL,
        }
    }

    /// The same policy with another idle timeout, in seconds.
    #[must_use]
    pub const fn with_idle_timeout(mut self, secs: u64) -> Self {
        self.idle_timeout = secs;
        self
    }

    /// The same policy with another absolute timeout, in seconds.
    #[must_use]
    pub const fn with_absolute_timeout(mut self, secs: u64) -> Self {
        self.absolute_timeout = secs;
        self
    }

    /// The same policy with another touch interval, in seconds.
    #[must_use]
    pub const fn with_touch_interval(mut self, secs: u64) -> Self {
        self.touch_interval = secs;
        self
    }

    /// Starts a session for `subject` (typically a user ID) holding `data`, and returns
    /// its new ID.
    ///
    /// The ID comes from `rng`. If the store already holds a live entry under it, nothing
    /// is overwritten and no other ID is tried: the collision is reported, because with
    /// 256 random bits it means the RNG is broken.
    ///
    /// # Errors
    ///
    /// [`SessionError::Random`] if the RNG fails; [`SessionError::Store`] if the store
    /// does, including [`StoreErrorKind::Conflict`](crate::store::StoreErrorKind::Conflict)
    /// for a collision and `Capacity` for a full store.
    pub fn create<S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        subject: &str,
        data: S::Data,
        now: UnixTime,
    ) -> Result<SessionId, SessionError<S::Error>>
    where
        S: SessionStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        complete(self.create_async(&mut &mut *store, rng, subject, data, now))
    }

    /// The live session `id` names, after recording this as activity.
    ///
    /// The activity is written back (with [`SessionStore::touch`], which leaves the data
    /// alone) only when the last write is at least the touch interval old. The returned
    /// record shows the deadlines as they now are.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotFound`] if there is no live session under `id` (never was,
    /// destroyed, rotated away, or dropped by the store after its deadline);
    /// [`SessionError::Expired`] if the record is past this policy's timeouts (the session
    /// is then removed); [`SessionError::Store`] if the store fails.
    pub fn load<S>(
        &self,
        store: &mut S,
        id: &SessionId,
        now: UnixTime,
    ) -> Result<SessionRecord<S::Data>, SessionError<S::Error>>
    where
        S: SessionStore + ?Sized,
    {
        complete(self.load_async(&mut &mut *store, id, now))
    }

    /// Writes `record` (as returned by [`load`](Self::load) or [`rotate`](Self::rotate),
    /// with changed data) back under `id`, recording activity at `now`.
    ///
    /// The subject, creation time and absolute deadline stay as they are. A session
    /// destroyed in the meantime is not brought back.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotFound`] if no live session is stored under `id`;
    /// [`SessionError::Expired`] if `record` is past this policy's timeouts;
    /// [`SessionError::Store`] if the store fails.
    pub fn save<S>(
        &self,
        store: &mut S,
        id: &SessionId,
        record: SessionRecord<S::Data>,
        now: UnixTime,
    ) -> Result<(), SessionError<S::Error>>
    where
        S: SessionStore + ?Sized,
    {
        complete(self.save_async(&mut &mut *store, id, record, now))
    }

    /// Moves the session `id` names to a fresh ID and returns the new ID with the
    /// session, data and deadlines unchanged. The old ID is dead from this moment.
    ///
    /// Rotate at login and at every privilege change, so an ID an attacker planted or
    /// observed before is worthless afterwards (session fixation). The absolute deadline
    /// does not move.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load), and [`SessionError::Random`] if the RNG fails. A new ID
    /// that collides is reported as a store
    /// [`Conflict`](crate::store::StoreErrorKind::Conflict), and the session stays under
    /// the old ID.
    pub fn rotate<S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        id: &SessionId,
        now: UnixTime,
    ) -> Result<Rotated<S::Data>, SessionError<S::Error>>
    where
        S: SessionStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        complete(self.rotate_async(&mut &mut *store, rng, id, now))
    }

    /// Ends the session `id` names (logout), and reports whether there was one.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; the session may then still exist.
    pub fn destroy<S>(&self, store: &mut S, id: &SessionId) -> Result<bool, SessionError<S::Error>>
    where
        S: SessionStore + ?Sized,
    {
        complete(self.destroy_async(&mut &mut *store, id))
    }

    /// Ends every session of `subject` ("log out everywhere") and reports how many there
    /// were.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; sessions may then still exist.
    pub fn destroy_subject<S>(
        &self,
        store: &mut S,
        subject: &str,
    ) -> Result<usize, SessionError<S::Error>>
    where
        S: SessionStore + ?Sized,
    {
        complete(self.destroy_subject_async(&mut &mut *store, subject))
    }

    /// Removes every entry that is dead at `now` from the store, and reports how many.
    /// Run it now and then for stores that don't expire entries on their own.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub fn purge_expired<S>(
        &self,
        store: &mut S,
        now: UnixTime,
    ) -> Result<usize, SessionError<S::Error>>
    where
        S: SessionStore + ?Sized,
    {
        complete(self.purge_expired_async(&mut &mut *store, now))
    }

    /// [`create`](Self::create) over an async store.
    ///
    /// # Errors
    ///
    /// As [`create`](Self::create).
    pub async fn create_async<S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        subject: &str,
        data: S::Data,
        now: UnixTime,
    ) -> Result<SessionId, SessionError<S::Error>>
    where
        S: AsyncSessionStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        let (id, record) = self.new_session(rng, subject, data, now)?;
        store
            .create(&id.lookup_key(), record, now)
            .await
            .map_err(SessionError::Store)?;
        Ok(id)
    }

    /// [`load`](Self::load) over an async store.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    pub async fn load_async<S>(
        &self,
        store: &mut S,
        id: &SessionId,
        now: UnixTime,
    ) -> Result<SessionRecord<S::Data>, SessionError<S::Error>>
    where
        S: AsyncSessionStore + ?Sized,
    {
        let key = id.lookup_key();
        let mut record = store
            .get(&key, now)
            .await
            .map_err(SessionError::Store)?
            .ok_or(SessionError::NotFound)?;
        if !self.is_live(&record, now) {
            store.remove(&key).await.map_err(SessionError::Store)?;
            return Err(SessionError::Expired);
        }
        if let Some(idle_deadline) = self.touch_due(&record, now) {
            if !store
                .touch(&key, idle_deadline, now)
                .await
                .map_err(SessionError::Store)?
            {
                return Err(SessionError::NotFound);
            }
            record.touch(idle_deadline, now);
        }
        Ok(record)
    }

    /// [`save`](Self::save) over an async store.
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save).
    pub async fn save_async<S>(
        &self,
        store: &mut S,
        id: &SessionId,
        record: SessionRecord<S::Data>,
        now: UnixTime,
    ) -> Result<(), SessionError<S::Error>>
    where
        S: AsyncSessionStore + ?Sized,
    {
        let record = self.prepare_save(record, now)?;
        if store
            .update(&id.lookup_key(), record, now)
            .await
            .map_err(SessionError::Store)?
        {
            Ok(())
        } else {
            Err(SessionError::NotFound)
        }
    }

    /// [`rotate`](Self::rotate) over an async store.
    ///
    /// # Errors
    ///
    /// As [`rotate`](Self::rotate).
    pub async fn rotate_async<S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        id: &SessionId,
        now: UnixTime,
    ) -> Result<Rotated<S::Data>, SessionError<S::Error>>
    where
        S: AsyncSessionStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        let new_id = SessionId::generate(rng).map_err(|_| SessionError::Random)?;
        let new_key = new_id.lookup_key();
        let record = store
            .rotate(&id.lookup_key(), &new_key, now)
            .await
            .map_err(SessionError::Store)?
            .ok_or(SessionError::NotFound)?;
        if !self.is_live(&record, now) {
            store.remove(&new_key).await.map_err(SessionError::Store)?;
            return Err(SessionError::Expired);
        }
        Ok(Rotated { id: new_id, record })
    }

    /// [`destroy`](Self::destroy) over an async store.
    ///
    /// # Errors
    ///
    /// As [`destroy`](Self::destroy).
    pub async fn destroy_async<S>(
        &self,
        store: &mut S,
        id: &SessionId,
    ) -> Result<bool, SessionError<S::Error>>
    where
        S: AsyncSessionStore + ?Sized,
    {
        store
            .remove(&id.lookup_key())
            .await
            .map_err(SessionError::Store)
    }

    /// [`destroy_subject`](Self::destroy_subject) over an async store.
    ///
    /// # Errors
    ///
    /// As [`destroy_subject`](Self::destroy_subject).
    pub async fn destroy_subject_async<S>(
        &self,
        store: &mut S,
        subject: &str,
    ) -> Result<usize, SessionError<S::Error>>
    where
        S: AsyncSessionStore + ?Sized,
    {
        store
            .remove_subject(&SubjectKey::new(subject))
            .await
            .map_err(SessionError::Store)
    }

    /// [`purge_expired`](Self::purge_expired) over an async store.
    ///
    /// # Errors
    ///
    /// As [`purge_expired`](Self::purge_expired).
    pub async fn purge_expired_async<S>(
        &self,
        store: &mut S,
        now: UnixTime,
    ) -> Result<usize, SessionError<S::Error>>
    where
        S: AsyncSessionStore + ?Sized,
    {
        store.purge_expired(now).await.map_err(SessionError::Store)
    }

    /// A fresh ID and the record of a session starting at `now`.
    fn new_session<D, E, R>(
        &self,
        rng: &mut R,
        subject: &str,
        data: D,
        now: UnixTime,
    ) -> Result<(SessionId, SessionRecord<D>), SessionError<E>>
    where
        R: TryCryptoRng + ?Sized,
    {
        let id = SessionId::generate(rng).map_err(|_| SessionError::Random)?;
        let record = SessionRecord::from_parts(
            SubjectKey::new(subject),
            data,
            now,
            now,
            now.saturating_add(self.idle_timeout),
            now.saturating_add(self.absolute_timeout),
        );
        Ok((id, record))
    }

    /// Whether `record` is alive at `now` by its own deadlines and by this policy.
    fn is_live<D>(&self, record: &SessionRecord<D>, now: UnixTime) -> bool {
        record.is_live(now)
            && now < record.created().saturating_add(self.absolute_timeout)
            && now < record.last_seen().saturating_add(self.idle_timeout)
    }

    /// The new idle deadline if activity at `now` is due to be written back.
    fn touch_due<D>(&self, record: &SessionRecord<D>, now: UnixTime) -> Option<UnixTime> {
        (now.secs_since(record.last_seen()) >= self.touch_interval)
            .then(|| now.saturating_add(self.idle_timeout))
    }

    /// `record` with activity recorded at `now`, if it is still alive.
    fn prepare_save<D, E>(
        &self,
        mut record: SessionRecord<D>,
        now: UnixTime,
    ) -> Result<SessionRecord<D>, SessionError<E>> {
        if !self.is_live(&record, now) {
            return Err(SessionError::Expired);
        }
        record.touch(now.saturating_add(self.idle_timeout), now);
        Ok(record)
    }
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self::new()
    }
}

/// A session moved to a new ID by [`SessionPolicy::rotate`].
#[derive(Debug)]
pub struct Rotated<D> {
    /// The new ID: send it to the client in place of the old one.
    pub id: SessionId,
    /// The session, unchanged by the move.
    pub record: SessionRecord<D>,
}

/// A session operation failed.
///
/// `E` is the store's error type. `NotFound` and `Expired` both mean "not logged in";
/// they are told apart only so an application can word its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError<E> {
    /// The session is past its idle or absolute timeout.
    Expired,
    /// No live session has this ID.
    NotFound,
    /// The random number generator failed, so no ID could be made. Its own error is not
    /// kept.
    Random,
    /// The store failed; see its [`kind`](StoreError::kind).
    Store(E),
}

impl<E> fmt::Display for SessionError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Expired => "session expired",
            Self::NotFound => "no such session",
            Self::Random => "random number generator failed",
            Self::Store(_) => "session store failed",
        })
    }
}

impl<E: StoreError + 'static> core::error::Error for SessionError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}
