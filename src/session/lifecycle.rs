//! The session lifecycle, written once over the storage traits.

use core::fmt;

use rand_core::TryCryptoRng;

use super::SessionId;
use crate::store::{
    CreateOutcome, KeepOnly, SessionHandle, SessionRecord, SessionSink, SessionStore, Store,
    StoreError, SubjectKey, SubjectLimit, UpdateOutcome,
};
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
/// Deadlines are stored in each record, and loading and listing check them **and** this
/// policy, so shortening a timeout also ends existing sessions that exceed it. A
/// [subject limit](Self::with_subject_limit) is counted by the store, by the stored
/// deadlines: such sessions still count toward it until those pass (or they are loaded,
/// which destroys them).
///
/// All times are whole seconds. The operations are `async fn`s over any
/// [`SessionStore`]; over an in-memory store, drive them with
/// [`block_on`](crate::store::block_on) where there is no executor.
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
    /// At most this many live sessions per subject, or no limit. Default: none.
    pub subject_limit: Option<SubjectLimit>,
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
            subject_limit: None,
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

    /// The same policy with a limit on live sessions per subject, enforced atomically by
    /// the store when a session is created.
    #[must_use]
    pub const fn with_subject_limit(mut self, limit: SubjectLimit) -> Self {
        self.subject_limit = Some(limit);
        self
    }

    /// Starts a session for `subject` (typically a user ID) holding `data`, and returns
    /// its new ID.
    ///
    /// The ID comes from `rng`. If the store already holds a live session under it,
    /// nothing is overwritten and no other ID is tried: the collision is reported, because
    /// with 256 random bits it means the RNG is broken. With a
    /// [subject limit](Self::with_subject_limit), the store refuses the login or ends the
    /// subject's oldest sessions, in the same atomic step.
    ///
    /// # Errors
    ///
    /// [`SessionError::Random`] if the RNG fails; [`SessionError::LimitReached`] if the
    /// limit refuses; [`SessionError::Store`] if the store fails, including
    /// [`StoreErrorKind::Conflict`](crate::store::StoreErrorKind::Conflict) for a
    /// collision and `Capacity` for a full store.
    pub async fn create<D, S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        subject: &str,
        data: D,
        now: UnixTime,
    ) -> Result<SessionId, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        let id = SessionId::generate(rng).map_err(|_| SessionError::Random)?;
        let record = SessionRecord::new(
            SubjectKey::new(subject),
            data,
            now,
            now.saturating_add(self.idle_timeout),
            now.saturating_add(self.absolute_timeout),
        );
        match store
            .create(&id.lookup_key(), record, self.subject_limit, now)
            .await
            .map_err(SessionError::Store)?
        {
            CreateOutcome::LimitReached => Err(SessionError::LimitReached),
            _ => Ok(id),
        }
    }

    /// The live session `id` names, after recording this as activity.
    ///
    /// The activity is written back (with [`SessionStore::touch`], which leaves the data
    /// alone) only when the last write is at least the touch interval old. The returned
    /// record shows the deadlines as they now are, and the version to
    /// [`save`](Self::save) against.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotFound`] if there is no live session under `id` (never was,
    /// destroyed, rotated away, or dropped by the store after its deadline);
    /// [`SessionError::Expired`] if the record is past this policy's timeouts (the session
    /// is then removed); [`SessionError::Store`] if the store fails.
    pub async fn load<D, S>(
        &self,
        store: &mut S,
        id: &SessionId,
        now: UnixTime,
    ) -> Result<SessionRecord<D>, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
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

    /// Writes the data of `record` (as returned by [`load`](Self::load) or
    /// [`rotate`](Self::rotate), with changed data) back under `id`, recording activity
    /// at `now`.
    ///
    /// Only the data is written: the subject, the creation time and the absolute deadline
    /// stay as the store has them, whatever `record` says. The write succeeds only if the
    /// stored version is still `record`'s: on success `record` takes the new version (so
    /// it can be saved again), and a save based on a stale read fails with
    /// [`SessionError::Stale`] and changes nothing. A session destroyed in the meantime is
    /// not brought back.
    ///
    /// # Errors
    ///
    /// [`SessionError::Stale`] if another write came first (load again, reapply the
    /// change, save again); [`SessionError::NotFound`] if no live session is stored under
    /// `id`; [`SessionError::Expired`] if `record` is past this policy's timeouts;
    /// [`SessionError::Store`] if the store fails.
    pub async fn save<D, S>(
        &self,
        store: &mut S,
        id: &SessionId,
        record: &mut SessionRecord<D>,
        now: UnixTime,
    ) -> Result<(), SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
    {
        if !self.is_live(record, now) {
            return Err(SessionError::Expired);
        }
        let idle_deadline = now.saturating_add(self.idle_timeout);
        let outcome = store
            .update(
                &id.lookup_key(),
                record.version(),
                record.data(),
                idle_deadline,
                now,
            )
            .await
            .map_err(SessionError::Store)?;
        match outcome {
            UpdateOutcome::Updated { version } => {
                record.touch(idle_deadline, now);
                record.set_version(version);
                Ok(())
            }
            UpdateOutcome::Stale => Err(SessionError::Stale),
            _ => Err(SessionError::NotFound),
        }
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
    pub async fn rotate<D, S, R>(
        &self,
        store: &mut S,
        rng: &mut R,
        id: &SessionId,
        now: UnixTime,
    ) -> Result<Rotated<D>, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
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

    /// Ends the session `id` names (logout), and reports whether there was one.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; the session may then still exist.
    pub async fn destroy<D, S>(
        &self,
        store: &mut S,
        id: &SessionId,
    ) -> Result<bool, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
    {
        store
            .remove(&id.lookup_key())
            .await
            .map_err(SessionError::Store)
    }

    /// Ends every session of `subject` ("log out everywhere") and reports how many there
    /// were: the live ones, and on some stores expired ones not purged yet
    /// ([`SessionStore::remove_subject`] may count those too).
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; sessions may then still exist.
    pub async fn destroy_subject<D, S>(
        &self,
        store: &mut S,
        subject: &str,
    ) -> Result<usize, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
    {
        store
            .remove_subject(&SubjectKey::new(subject), None)
            .await
            .map_err(SessionError::Store)
    }

    /// Ends every session of `subject` except `current` ("sign out of all other
    /// sessions"), and reports how many it ended.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; sessions may then still exist.
    pub async fn destroy_others<D, S>(
        &self,
        store: &mut S,
        subject: &str,
        current: &SessionId,
    ) -> Result<usize, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
    {
        store
            .remove_subject(&SubjectKey::new(subject), Some(&current.lookup_key()))
            .await
            .map_err(SessionError::Store)
    }

    /// Lists the live sessions of `subject` ("where you're signed in") into `out`, and
    /// returns how many there are (`out` may keep fewer): those [`load`](Self::load) would
    /// accept, by their records and by this policy's timeouts. Each comes with a
    /// [`SessionHandle`] that names it without being its ID: compare it with
    /// [`SessionId::handle`] to mark the current one, and pass it to
    /// [`end_session`](Self::end_session) to end that one.
    ///
    /// A store serving sessions of several data types reads a subject's as one type
    /// ([`SessionStore::list_subject`]): give each type its own subjects.
    ///
    /// ```
    /// use tokenstile::UnixTime;
    /// use tokenstile::session::SessionPolicy;
    /// use tokenstile::store::{block_on, MemoryStore, SessionHandle, SessionRecord};
    ///
    /// let (policy, mut rng) = (SessionPolicy::new(), getrandom::SysRng);
    /// let mut store: MemoryStore<&str, 8, 8> = MemoryStore::new();
    /// let now = UnixTime::from_secs(1_700_000_000);
    /// let laptop = block_on(policy.create(&mut store, &mut rng, "alice", "laptop", now))?;
    /// let phone = block_on(policy.create(&mut store, &mut rng, "alice", "phone", now))?;
    ///
    /// let mut sessions: heapless::Vec<(SessionHandle, SessionRecord<&str>), 8> = heapless::Vec::new();
    /// assert_eq!(block_on(policy.list(&mut store, "alice", now, &mut sessions))?, 2);
    /// let (handle, _) = sessions.iter().find(|(_, r)| *r.data() == "phone").ok_or("missing")?;
    /// assert!(*handle == phone.handle());
    ///
    /// // "Sign out of this device", from the laptop's account page.
    /// assert!(block_on(policy.end_session(&mut store, "alice", handle, now))?);
    /// assert!(block_on(policy.load(&mut store, &phone, now)).is_err());
    /// assert!(block_on(policy.load(&mut store, &laptop, now)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub async fn list<D, S, O>(
        &self,
        store: &mut S,
        subject: &str,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
        O: SessionSink<D> + Send,
    {
        let mut live = KeepOnly::new(out, |record: &SessionRecord<D>| self.is_live(record, now));
        store
            .list_subject(&SubjectKey::new(subject), now, &mut live)
            .await
            .map_err(SessionError::Store)?;
        Ok(live.kept())
    }

    /// Ends the session `handle` names, if it is one of `subject`'s ("sign out of this
    /// device" on an account page), and reports whether it did. A handle of another
    /// subject's session ends nothing.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; the session may then still exist.
    pub async fn end_session<D, S>(
        &self,
        store: &mut S,
        subject: &str,
        handle: &SessionHandle,
        now: UnixTime,
    ) -> Result<bool, SessionError<S::Error>>
    where
        D: Send + Sync,
        S: SessionStore<D> + ?Sized,
    {
        store
            .remove_owned(handle.lookup_key(), &SubjectKey::new(subject), now)
            .await
            .map_err(SessionError::Store)
    }

    /// Removes every entry that is dead at `now` from the store, and reports how many.
    /// Run it now and then for stores that don't expire entries on their own.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub async fn purge_expired<S>(
        &self,
        store: &mut S,
        now: UnixTime,
    ) -> Result<usize, SessionError<S::Error>>
    where
        S: Store + ?Sized,
    {
        store.purge_expired(now).await.map_err(SessionError::Store)
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
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self::new()
    }
}

/// A session moved to a new ID by [`SessionPolicy::rotate`].
#[derive(Debug)]
#[non_exhaustive]
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
    /// The subject already has as many live sessions as the policy's
    /// [subject limit](SessionPolicy::with_subject_limit) allows, and the limit refuses
    /// more.
    LimitReached,
    /// No live session has this ID.
    NotFound,
    /// The random number generator failed, so no ID could be made. Its own error is not
    /// kept.
    Random,
    /// The session was written by someone else since it was loaded, so this save was
    /// refused and changed nothing. Load it again, reapply the change, and save again.
    Stale,
    /// The store failed; see its [`kind`](StoreError::kind).
    Store(E),
}

impl<E> SessionError<E> {
    /// The HTTP status code to answer with: `401` for [`NotFound`](Self::NotFound) and
    /// [`Expired`](Self::Expired) (not logged in), `403` for
    /// [`LimitReached`](Self::LimitReached), `409` for [`Stale`](Self::Stale) (load, change
    /// and save again), `503` for [`Store`](Self::Store), `500` for
    /// [`Random`](Self::Random).
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::NotFound | Self::Expired => 401,
            Self::LimitReached => 403,
            Self::Stale => 409,
            Self::Store(_) => 503,
            Self::Random => 500,
        }
    }
}

impl<E> fmt::Display for SessionError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Expired => "session expired",
            Self::LimitReached => "too many sessions for this subject",
            Self::NotFound => "no such session",
            Self::Random => "random number generator failed",
            Self::Stale => "session changed since it was loaded",
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
