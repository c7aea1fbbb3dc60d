//! The store's error type.

use core::fmt;

use tokenstile::store::{StoreError, StoreErrorKind};

/// Why a Redis store operation failed, classified by [`StoreError::kind`].
///
/// - [`StoreErrorKind::Backend`]: Redis could not be reached or answered with an error
///   (the [`redis::RedisError`] is the [`source`](core::error::Error::source));
/// - [`StoreErrorKind::Conflict`]: a live session is already filed under the key
///   (`create`, `rotate`);
/// - [`StoreErrorKind::Corrupt`]: a stored value isn't in this crate's format, holds data
///   that doesn't decode as the store's data type, or a key holds the wrong Redis type;
/// - [`StoreErrorKind::Other`]: the application data could not be serialized.
///
/// Neither the message nor the source ever contains stored values: a decoding failure
/// is reported without the decoder's message, which could quote session data.
pub struct Error {
    kind: StoreErrorKind,
    source: Option<redis::RedisError>,
}

impl Error {
    /// What kind of failure this is (also available through [`StoreError::kind`]).
    #[must_use]
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The Redis client's error, for a failure reported by the client or the server.
    #[must_use]
    pub fn redis_error(&self) -> Option<&redis::RedisError> {
        self.source.as_ref()
    }

    pub(crate) const fn new(kind: StoreErrorKind) -> Self {
        Self { kind, source: None }
    }

    pub(crate) const fn corrupt() -> Self {
        Self::new(StoreErrorKind::Corrupt)
    }

    pub(crate) const fn conflict() -> Self {
        Self::new(StoreErrorKind::Conflict)
    }

    /// A failure reported by the client or the server. A key holding another Redis type
    /// than the store wrote (`WRONGTYPE`) means the namespace holds foreign data:
    /// that is corruption, not an outage.
    pub(crate) fn redis(error: redis::RedisError) -> Self {
        let kind = if error.code() == Some("WRONGTYPE") {
            StoreErrorKind::Corrupt
        } else {
            StoreErrorKind::Backend
        };
        Self {
            kind,
            source: Some(error),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StoreErrorKind::Other => f.write_str("session data could not be serialized"),
            kind => write!(f, "redis {kind}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn core::error::Error + 'static))
    }
}

impl StoreError for Error {
    fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl From<Error> for StoreErrorKind {
    fn from(error: Error) -> Self {
        error.kind
    }
}
