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
/// - [`StoreErrorKind::Other`]: the application data could not be serialized, or
///   [`RedisStore::connect`](crate::RedisStore::connect) refused a server whose
///   settings are weaker than the application required ([`detail`](Self::detail) says
///   which).
///
/// Neither the message nor the source ever contains stored values: a decoding failure
/// is reported without the decoder's message, which could quote session data.
pub struct Error {
    kind: StoreErrorKind,
    source: Option<redis::RedisError>,
    detail: Option<String>,
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
        Self {
            kind,
            source: None,
            detail: None,
        }
    }

    /// A reply no script of this crate gives: another server speaking the protocol
    /// differently.
    pub(crate) fn protocol() -> Self {
        Self::new(StoreErrorKind::Backend).with_detail("unexpected reply".to_owned())
    }

    /// An error that says more than its kind; the detail never holds stored values.
    pub(crate) fn with_detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
    }

    /// What the error says beyond its kind, if anything: for example which server
    /// setting made [`RedisStore::connect`](crate::RedisStore::connect) refuse.
    #[must_use]
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
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
            detail: None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .field("detail", &self.detail)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.detail) {
            (StoreErrorKind::Other, None) => f.write_str("session data could not be serialized"),
            (kind, None) => write!(f, "redis {kind}"),
            (kind, Some(detail)) => write!(f, "redis {kind}: {detail}"),
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

impl From<redis::RedisError> for Error {
    /// A failure the Redis client reported, classified as the store classifies it.
    fn from(error: redis::RedisError) -> Self {
        Self::redis(error)
    }
}
