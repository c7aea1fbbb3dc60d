//! The values stores keep: session records and revocation watermarks.

use core::fmt;

use super::SubjectKey;
use crate::time::UnixTime;

/// One stored session: whom it belongs to, the application's data, and its deadlines.
///
/// The record carries its own deadlines so a store can expire it without knowing any
/// policy (for example with a server-side TTL at [`expires_at`](Self::expires_at)):
///
/// - the **idle deadline** moves forward with activity, but only when activity is
///   written back (see [`SessionPolicy`](crate::session::SessionPolicy)'s touch interval);
/// - the **absolute deadline** is fixed when the session is created and never moves, not
///   even when the ID is rotated.
///
/// The **version** counts the writes of the data: a new record ([`new`](Self::new)) is at
/// version 1, a store files it at the version it is given, and every
/// [`update`](crate::store::SessionStore::update) increments it, which succeeds only for
/// the version the caller read. Two requests that load the same
/// session and both save therefore can't silently overwrite each other: the second save
/// fails as stale ([`SessionError::Stale`](crate::session::SessionError::Stale)).
/// Touches and rotations leave the version as it is.
///
/// Only the data can be changed through the session lifecycle: the subject, the creation
/// time and the absolute deadline are fixed when the session is created, and
/// [`update`](crate::store::SessionStore::update) writes the data alone (with the
/// activity it records).
///
/// `D` is the application's data. It needs no allocator: a small struct of integers and
/// `heapless::String`s works. Stores clone or serialize it, so keep it small.
///
/// `Debug` prints the subject key and the times, never the data.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord<D> {
    subject: SubjectKey,
    data: D,
    created: UnixTime,
    last_seen: UnixTime,
    idle_deadline: UnixTime,
    absolute_deadline: UnixTime,
    version: u64,
}

impl<D> SessionRecord<D> {
    /// The record of a session created at `created`, at version 1, last seen then.
    #[must_use]
    pub const fn new(
        subject: SubjectKey,
        data: D,
        created: UnixTime,
        idle_deadline: UnixTime,
        absolute_deadline: UnixTime,
    ) -> Self {
        Self::from_parts(
            subject,
            data,
            created,
            created,
            idle_deadline,
            absolute_deadline,
            1,
        )
    }

    /// A record rebuilt from its parts, for stores that persist records field by field.
    ///
    /// Lifecycle code never trusts these values beyond the deadlines they state: loading a
    /// session also checks them against the current policy.
    #[must_use]
    pub const fn from_parts(
        subject: SubjectKey,
        data: D,
        created: UnixTime,
        last_seen: UnixTime,
        idle_deadline: UnixTime,
        absolute_deadline: UnixTime,
        version: u64,
    ) -> Self {
        Self {
            subject,
            data,
            created,
            last_seen,
            idle_deadline,
            absolute_deadline,
            version,
        }
    }

    /// The key of the subject this session belongs to.
    #[must_use]
    pub const fn subject(&self) -> &SubjectKey {
        &self.subject
    }

    /// Whether this session belongs to `subject` (compared through its [`SubjectKey`]).
    #[must_use]
    pub fn belongs_to(&self, subject: &str) -> bool {
        self.subject == SubjectKey::new(subject)
    }

    /// The application data.
    #[must_use]
    pub const fn data(&self) -> &D {
        &self.data
    }

    /// The application data, for changing it before saving the record back.
    #[must_use]
    pub const fn data_mut(&mut self) -> &mut D {
        &mut self.data
    }

    /// The application data, consuming the record.
    #[must_use]
    pub fn into_data(self) -> D {
        self.data
    }

    /// When the session was created.
    #[must_use]
    pub const fn created(&self) -> UnixTime {
        self.created
    }

    /// When activity was last written back to the store.
    #[must_use]
    pub const fn last_seen(&self) -> UnixTime {
        self.last_seen
    }

    /// The session ends at this time unless activity is written back before it.
    #[must_use]
    pub const fn idle_deadline(&self) -> UnixTime {
        self.idle_deadline
    }

    /// The session ends at this time whatever the activity.
    #[must_use]
    pub const fn absolute_deadline(&self) -> UnixTime {
        self.absolute_deadline
    }

    /// How many times the data has been written: 1 at creation, then one more per
    /// [`update`](crate::store::SessionStore::update).
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }

    /// Sets the version after a successful update, for lifecycle code that keeps its
    /// copy of the record in step with the store.
    pub(crate) fn set_version(&mut self, version: u64) {
        self.version = version;
    }

    /// The earlier of the two deadlines: the record is dead at and after this time.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.idle_deadline.min(self.absolute_deadline)
    }

    /// Whether the record is still alive at `now` (`now` is before
    /// [`expires_at`](Self::expires_at)).
    #[must_use]
    pub fn is_live(&self, now: UnixTime) -> bool {
        now < self.expires_at()
    }

    /// Records activity at `now` and moves the idle deadline to `idle_deadline`. Neither
    /// time ever moves backwards, so concurrent touches can be applied in any order.
    ///
    /// Stores implementing [`SessionStore::touch`](crate::store::SessionStore::touch) on
    /// a record they hold in memory call this.
    pub fn touch(&mut self, idle_deadline: UnixTime, now: UnixTime) {
        self.last_seen = self.last_seen.max(now);
        self.idle_deadline = self.idle_deadline.max(idle_deadline);
    }

    /// Stores an update of the data at `version` (see
    /// [`SessionStore::update`](crate::store::SessionStore::update)): the data is
    /// replaced, activity is recorded as by [`touch`](Self::touch), and the version becomes
    /// `version + 1`. Returns the new version, or `None`, changing nothing, if `version`
    /// is not the record's (a stale write) or the version can't be incremented.
    ///
    /// Stores that hold records in memory call this.
    pub fn apply_update(
        &mut self,
        version: u64,
        data: D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Option<u64> {
        if version != self.version {
            return None;
        }
        let next = self.version.checked_add(1)?;
        self.touch(idle_deadline, now);
        self.version = next;
        // The old data goes last: should its `Drop` panic, the record already holds the
        // new data at the new version, never the new data at the version read before.
        drop(core::mem::replace(&mut self.data, data));
        Some(next)
    }

    /// The same record with other data.
    #[must_use]
    pub fn map_data<E>(self, f: impl FnOnce(D) -> E) -> SessionRecord<E> {
        SessionRecord {
            subject: self.subject,
            data: f(self.data),
            created: self.created,
            last_seen: self.last_seen,
            idle_deadline: self.idle_deadline,
            absolute_deadline: self.absolute_deadline,
            version: self.version,
        }
    }
}

/// A record for the stores' unit tests: subject `"s"`, version 1, created at the epoch, both
/// deadlines at `expires`.
#[cfg(test)]
impl SessionRecord<u8> {
    pub(crate) fn expiring(expires: u64) -> Self {
        Self::new(
            SubjectKey::new("s"),
            1,
            UnixTime::EPOCH,
            UnixTime::from_secs(expires),
            UnixTime::from_secs(expires),
        )
    }
}

impl<D> fmt::Debug for SessionRecord<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("subject", &self.subject)
            .field("created", &self.created)
            .field("last_seen", &self.last_seen)
            .field("idle_deadline", &self.idle_deadline)
            .field("absolute_deadline", &self.absolute_deadline)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A per-subject JWT revocation watermark: every token of the subject issued at or before
/// [`cutoff`](Self::cutoff) is revoked, and a token without `iat` is revoked too.
///
/// The watermark itself is kept until [`expires_at`](Self::expires_at), chosen as the
/// moment no token issued at or before the cutoff can still be valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Watermark {
    cutoff: UnixTime,
    expires_at: UnixTime,
}

impl Watermark {
    /// A watermark revoking tokens issued at or before `cutoff`, kept until `expires_at`.
    #[must_use]
    pub const fn new(cutoff: UnixTime, expires_at: UnixTime) -> Self {
        Self { cutoff, expires_at }
    }

    /// Tokens issued at or before this time are revoked.
    #[must_use]
    pub const fn cutoff(&self) -> UnixTime {
        self.cutoff
    }

    /// When the watermark may be forgotten.
    #[must_use]
    pub const fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// The watermark that revokes everything either one revokes, for as long as either
    /// is kept: the later cutoff and the later expiry. Stores use this to raise a
    /// watermark, which never lowers one.
    #[must_use]
    pub fn merge(self, other: Self) -> Self {
        Self {
            cutoff: self.cutoff.max(other.cutoff),
            expires_at: self.expires_at.max(other.expires_at),
        }
    }

    /// Whether a token issued at `iat` is revoked. A token without `iat` is.
    #[must_use]
    pub fn revokes(&self, iat: Option<UnixTime>) -> bool {
        iat.is_none_or(|iat| iat <= self.cutoff)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    fn record() -> SessionRecord<u32> {
        SessionRecord::from_parts(
            SubjectKey::new("alice"),
            7,
            UnixTime::from_secs(100),
            UnixTime::from_secs(100),
            UnixTime::from_secs(200),
            UnixTime::from_secs(150),
            1,
        )
    }

    #[test]
    fn expires_at_the_earlier_deadline() {
        let r = record();
        assert_eq!(r.expires_at(), UnixTime::from_secs(150));
        assert!(r.is_live(UnixTime::from_secs(149)));
        assert!(!r.is_live(UnixTime::from_secs(150)));
    }

    #[test]
    fn touch_never_moves_backwards() {
        let mut r = record();
        r.touch(UnixTime::from_secs(300), UnixTime::from_secs(120));
        r.touch(UnixTime::from_secs(250), UnixTime::from_secs(110));
        assert_eq!(r.last_seen(), UnixTime::from_secs(120));
        assert_eq!(r.idle_deadline(), UnixTime::from_secs(300));
        assert_eq!(r.absolute_deadline(), UnixTime::from_secs(150));
    }

    #[test]
    fn belongs_to_compares_subjects() {
        assert!(record().belongs_to("alice"));
        assert!(!record().belongs_to("bob"));
    }

    #[test]
    fn update_needs_the_current_version() {
        let mut r = record();
        assert_eq!(
            r.apply_update(2, 8, UnixTime::from_secs(300), UnixTime::from_secs(120)),
            None
        );
        assert_eq!(*r.data(), 7);
        assert_eq!(
            r.apply_update(1, 8, UnixTime::from_secs(300), UnixTime::from_secs(120)),
            Some(2)
        );
        assert_eq!(
            (*r.data(), r.version(), r.last_seen()),
            (8, 2, UnixTime::from_secs(120))
        );
        assert_eq!(
            r.apply_update(1, 9, UnixTime::from_secs(300), UnixTime::from_secs(130)),
            None
        );
        assert_eq!(*r.data(), 8);
    }

    #[test]
    fn watermark_merges_upward_and_fails_closed() {
        let a = Watermark::new(UnixTime::from_secs(10), UnixTime::from_secs(100));
        let b = Watermark::new(UnixTime::from_secs(20), UnixTime::from_secs(50));
        let m = a.merge(b);
        assert_eq!(m.cutoff(), UnixTime::from_secs(20));
        assert_eq!(m.expires_at(), UnixTime::from_secs(100));
        assert!(m.revokes(None));
        assert!(m.revokes(Some(UnixTime::from_secs(20))));
        assert!(!m.revokes(Some(UnixTime::from_secs(21))));
    }

    #[test]
    fn debug_hides_data() {
        let text = format!("{:?}", record().map_data(|_| "secret"));
        assert!(!text.contains("secret"));
        assert!(text.contains("absolute_deadline"));
    }
}
