//! What a store keeps for one session.

use core::fmt;

use crate::store::SubjectKey;
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
}

impl<D> SessionRecord<D> {
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
    ) -> Self {
        Self {
            subject,
            data,
            created,
            last_seen,
            idle_deadline,
            absolute_deadline,
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
        }
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
            .finish_non_exhaustive()
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
    fn debug_hides_data() {
        let text = format!("{:?}", record().map_data(|_| "secret"));
        assert!(!text.contains("secret"));
        assert!(text.contains("absolute_deadline"));
    }
}
