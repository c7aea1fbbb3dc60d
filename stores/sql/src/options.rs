//! What a store can be configured with: the table prefix, the purge batch size, and how
//! long a call waits for a connection to a database server.

use core::fmt;
use core::num::NonZeroU32;
use core::time::Duration;

/// The prefix of the store's table and index names, validated.
///
/// Table names can't be bound as parameters, so they are part of the SQL text: a prefix
/// is therefore restricted to at most 32 lowercase ASCII letters, digits and
/// underscores, not starting with a digit. The empty prefix is allowed. The default is
/// `tokenstile_`, giving tables `tokenstile_sessions`, `tokenstile_revocations`, ...
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TablePrefix(String);

impl TablePrefix {
    /// The longest prefix accepted.
    pub const MAX_LEN: usize = 32;

    /// Validates `prefix`.
    ///
    /// # Errors
    ///
    /// [`InvalidTablePrefix`] if it is longer than [`MAX_LEN`](Self::MAX_LEN), holds
    /// anything but `a-z`, `0-9` and `_`, or starts with a digit.
    pub fn new(prefix: &str) -> Result<Self, InvalidTablePrefix> {
        let valid = prefix.len() <= Self::MAX_LEN
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !prefix.bytes().next().is_some_and(|b| b.is_ascii_digit());
        if valid {
            Ok(Self(prefix.to_owned()))
        } else {
            Err(InvalidTablePrefix)
        }
    }

    /// The prefix.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TablePrefix {
    fn default() -> Self {
        Self("tokenstile_".to_owned())
    }
}

/// A table prefix was refused: see [`TablePrefix::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InvalidTablePrefix;

impl fmt::Display for InvalidTablePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a table prefix must be at most 32 of a-z, 0-9 and _, not starting with a digit",
        )
    }
}

impl core::error::Error for InvalidTablePrefix {}

/// How a store names its tables, purges them, and waits for a connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    prefix: TablePrefix,
    purge_batch: NonZeroU32,
    acquire_timeout: Duration,
}

impl Options {
    /// The default purge batch: 1000 rows per statement.
    pub const DEFAULT_PURGE_BATCH: NonZeroU32 = match NonZeroU32::new(1000) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    };

    /// The default wait for a connection to a database server: 3 seconds.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

    /// The defaults: prefix `tokenstile_`, purge batches of 1000 rows, a 3-second wait for
    /// a connection.
    #[must_use]
    pub fn new() -> Self {
        Self {
            prefix: TablePrefix::default(),
            purge_batch: Self::DEFAULT_PURGE_BATCH,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
        }
    }

    /// The same options with another table prefix.
    #[must_use]
    pub fn with_table_prefix(mut self, prefix: TablePrefix) -> Self {
        self.prefix = prefix;
        self
    }

    /// The same options with another purge batch size: [`purge_expired`] deletes at most
    /// this many rows per statement, so it never holds locks on more rows at once.
    ///
    /// [`purge_expired`]: tokenstile::store::Store::purge_expired
    #[must_use]
    pub fn with_purge_batch(mut self, rows: NonZeroU32) -> Self {
        self.purge_batch = rows;
        self
    }

    /// The same options with another wait for a connection, used by the pools that
    /// `connect` and `connect_with` of `PostgresStore` and `MySqlStore` (and so
    /// `AnyStore::connect`) build: how long a call waits for a connection of the pool
    /// (every one busy, or the server down and each attempt to connect refused) before it
    /// fails with [`StoreErrorKind::Backend`]. sqlx's own default, 30 seconds, would
    /// hold every request of an application that long while its database is down. SQLite
    /// has no server to wait for: its pools keep sqlx's default, as do pools given to
    /// `from_pool`.
    ///
    /// [`StoreErrorKind::Backend`]: tokenstile::store::StoreErrorKind::Backend
    #[must_use]
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The table prefix.
    #[must_use]
    pub fn table_prefix(&self) -> &TablePrefix {
        &self.prefix
    }

    /// The purge batch size.
    #[must_use]
    pub fn purge_batch(&self) -> NonZeroU32 {
        self.purge_batch
    }

    /// The wait for a connection to a database server, as the pools that `connect` and
    /// `connect_with` build use it (not the pools of SQLite or of `from_pool`, which keep
    /// their own).
    #[must_use]
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_validated() {
        for ok in [
            "",
            "tokenstile_",
            "app1_",
            "_x",
            "abcdefghijklmnopqrstuvwxyz012345",
        ] {
            assert_eq!(TablePrefix::new(ok).map(|p| p.0), Ok(ok.to_owned()));
        }
        for bad in [
            "App_",
            "1app",
            "a-b",
            "a b",
            "a;drop table x;--",
            "a\"b",
            "a`b",
            "é",
            "abcdefghijklmnopqrstuvwxyz0123456",
        ] {
            assert_eq!(TablePrefix::new(bad), Err(InvalidTablePrefix), "{bad:?}");
        }
    }
}
