//! What store calls report when they fail.

use core::convert::Infallible;
use core::fmt;

/// A store error, classified.
pub trait StoreError: core::error::Error + Send + Sync + 'static {
    /// What kind of failure this is.
    fn kind(&self) -> StoreErrorKind;
}

/// What kind of failure a [`StoreError`] is.
///
/// It is also a `StoreError` itself, for stores whose failures need no more detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend failed or could not be reached. Retrying may help.
    Backend,
    /// The store is full of live entries; nothing was dropped to make room.
    Capacity,
    /// A live entry is already filed under the key: a session ID collision, or a rotation
    /// onto an ID in use. Nothing was overwritten.
    Conflict,
    /// A stored entry could not be decoded. Nothing was changed.
    Corrupt,
    /// Anything else.
    Other,
}

impl fmt::Display for StoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Backend => "store backend failure",
            Self::Capacity => "store is full",
            Self::Conflict => "store entry already exists",
            Self::Corrupt => "stored entry is corrupt",
            Self::Other => "store failure",
        })
    }
}

impl core::error::Error for StoreErrorKind {}

impl StoreError for StoreErrorKind {
    fn kind(&self) -> StoreErrorKind {
        *self
    }
}

impl StoreError for Infallible {
    fn kind(&self) -> StoreErrorKind {
        match *self {}
    }
}
