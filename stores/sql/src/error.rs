//! The store's error type.

use core::fmt;

use tokenstile::store::{StoreError, StoreErrorKind};

/// Why a SQL store operation failed, classified by [`StoreError::kind`].
///
/// - [`StoreErrorKind::Backend`]: the database could not be reached or answered with an
///   error (the [`sqlx::Error`] is the [`source`](core::error::Error::source)); the
///   transaction, if any, was rolled back;
/// - [`StoreErrorKind::Conflict`]: a live session is already filed under the key
///   (`create`, `rotate`);
/// - [`StoreErrorKind::Corrupt`]: a stored row holds values this crate never writes, or
///   data that doesn't decode as the store's data type;
/// - [`StoreErrorKind::Other`]: the application data could not be serialized, or the
///   schema in the database is newer than this crate.
///
/// Neither the message nor the source contains session data: values are always bound
/// as parameters, never spliced into SQL, and a decoding failure is reported without
/// the decoder's message, which could quote the data.
pub struct Error {
    kind: StoreErrorKind,
    source: Option<sqlx::Error>,
}

impl Error {
    /// What kind of failure this is (also available through [`StoreError::kind`]).
    #[must_use]
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The database driver's error, for a failure reported by the driver or the server.
    #[must_use]
    pub fn sqlx_error(&self) -> Option<&sqlx::Error> {
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

    /// A failure reported by the driver or the server. A unique-key violation is a
    /// conflict (a key filed concurrently); a row that can't be decoded is corruption.
    pub(crate) fn sqlx(error: sqlx::Error) -> Self {
        let kind = match &error {
            sqlx::Error::Database(e) if e.is_unique_violation() => StoreErrorKind::Conflict,
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreErrorKind::Corrupt,
            _ => StoreErrorKind::Backend,
        };
        Self {
            kind,
            source: Some(error),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Self::sqlx(error)
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
        match (self.kind, &self.source) {
            (StoreErrorKind::Other, None) => {
                f.write_str("session data could not be serialized, or the schema is too new")
            }
            (kind, _) => write!(f, "sql {kind}"),
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
