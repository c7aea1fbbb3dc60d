//! Time as an explicit value.
//!
//! Nothing in tokenstile reads a clock on its own: every check that depends on time takes a
//! [`UnixTime`] argument. [`Clock`] is a one-method convenience for the layers above, and
//! [`SystemClock`] (feature `std`) reads the operating system's wall clock.

use core::fmt;

/// A point in time as whole seconds since the Unix epoch (1970-01-01T00:00:00Z).
///
/// This is the unit of the JWT `NumericDate` ([RFC 7519 §2]) restricted to whole,
/// non-negative seconds. Arithmetic on it saturates and never wraps.
///
/// [RFC 7519 §2]: https://www.rfc-editor.org/rfc/rfc7519#section-2
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The Unix epoch itself.
    pub const EPOCH: Self = Self(0);

    /// A time `secs` seconds after the epoch.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// `self + secs`, saturating at the largest representable time.
    #[must_use]
    pub const fn saturating_add(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// `self - secs`, saturating at the epoch.
    #[must_use]
    pub const fn saturating_sub(self, secs: u64) -> Self {
        Self(self.0.saturating_sub(secs))
    }

    /// Seconds from `earlier` to `self`, or 0 if `earlier` is later.
    #[must_use]
    pub const fn secs_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u64> for UnixTime {
    fn from(secs: u64) -> Self {
        Self(secs)
    }
}

/// A source of the current time.
///
/// Any `Fn() -> UnixTime` is a clock, so tests can use a stopped one:
///
/// ```
/// use tokenstile::{Clock, UnixTime};
/// let stopped = || UnixTime::from_secs(1_700_000_000);
/// assert_eq!(stopped.now(), UnixTime::from_secs(1_700_000_000));
/// ```
pub trait Clock {
    /// The current time.
    fn now(&self) -> UnixTime;
}

impl<F: Fn() -> UnixTime> Clock for F {
    fn now(&self) -> UnixTime {
        self()
    }
}

/// The operating system's wall clock (feature `std`).
///
/// A clock set before 1970 reads as the epoch, which makes every token with an `exp` look
/// fresh to `nbf`/`iat` checks but never extends a lifetime past `exp`.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(feature = "std")]
impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        UnixTime(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let max = UnixTime::from_secs(u64::MAX);
        assert_eq!(max.saturating_add(1), max);
        assert_eq!(UnixTime::EPOCH.saturating_sub(1), UnixTime::EPOCH);
        assert_eq!(UnixTime::from_secs(5).secs_since(UnixTime::from_secs(7)), 0);
        assert_eq!(UnixTime::from_secs(7).secs_since(UnixTime::from_secs(5)), 2);
    }

    #[cfg(feature = "std")]
    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > UnixTime::from_secs(1_577_836_800));
    }
}
