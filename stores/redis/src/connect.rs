//! Connecting: timeouts, reconnection, and the persistence check.

use core::fmt;
use core::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use tokenstile::store::StoreErrorKind;

use crate::error::Error;
use crate::store::RedisStore;

/// How much of what Redis acknowledged must survive a crash.
///
/// Redis acknowledges a write once it is in memory; whether it is also on disk depends
/// on the server's persistence settings. A logout, a "log out everywhere" or a JWT
/// revocation that Redis acknowledged and then lost in a crash comes back to life when
/// Redis restarts from disk: the ended session or the revoked token works again.
///
/// Both levels need the append-only file (`appendonly yes`) and `maxmemory-policy
/// noeviction`: with RDB snapshots alone (Redis's default), a crash loses everything
/// since the last snapshot, and an evicting policy may drop a revocation or an index at
/// any time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Durability {
    /// `appendfsync everysec` (or `always`): each acknowledged write has been handed to
    /// the operating system before the reply, so it survives a crash or `SIGKILL` of
    /// redis-server; a power loss or kernel crash may lose about the last second (two
    /// when the disk stalls).
    EverySecond,
    /// `appendfsync always`: each acknowledged write is on disk before the reply, so it
    /// survives a crash of redis-server and of the machine.
    EveryWrite,
}

/// What [`RedisStore::connect`] does when the server's settings are weaker than the
/// application requires. There is no default: the application chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnWeakServer {
    /// Refuse to connect, with an error naming the setting.
    Refuse(Durability),
    /// Connect, and log a warning (with the `log` crate) naming the setting.
    Warn(Durability),
    /// Connect without reading the settings at all (for servers that refuse `CONFIG`,
    /// or caches whose loss the application accepts).
    Accept,
}

/// How [`RedisStore::connect`] connects.
#[derive(Clone, Debug)]
pub struct Options {
    prefix: String,
    on_weak_server: OnWeakServer,
    connection_timeout: Duration,
    response_timeout: Duration,
    reconnect_attempts: usize,
    max_reconnect_delay: Duration,
}

impl Options {
    /// Options with the given persistence policy and these defaults: prefix
    /// [`DEFAULT_PREFIX`](crate::DEFAULT_PREFIX), connection timeout 1 s, response
    /// timeout 2 s, 3 connection attempts per reconnection at most 1 s apart.
    #[must_use]
    pub fn new(on_weak_server: OnWeakServer) -> Self {
        Self {
            prefix: crate::DEFAULT_PREFIX.to_owned(),
            on_weak_server,
            connection_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(2),
            reconnect_attempts: 3,
            max_reconnect_delay: Duration::from_secs(1),
        }
    }

    /// Keys start with `prefix` (see [`RedisStore::with_prefix`]).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Each attempt to open a connection gives up after `timeout`.
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Each store call gives up after `timeout` without a reply, with a
    /// [`StoreErrorKind::Backend`] error. A call that timed out may still have been
    /// carried out by Redis: read again before retrying a write.
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Opening a connection (at first, and after each drop) is tried `attempts` times,
    /// with exponential backoff capped at `max_delay`, before calls fail with
    /// [`StoreErrorKind::Backend`]. The next call tries again.
    #[must_use]
    pub fn reconnect(mut self, attempts: usize, max_delay: Duration) -> Self {
        self.reconnect_attempts = attempts;
        self.max_reconnect_delay = max_delay;
        self
    }
}

/// A Redis server's persistence and eviction settings, as `CONFIG GET` reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    appendonly: String,
    appendfsync: String,
    maxmemory_policy: String,
}

impl ServerSettings {
    pub(crate) async fn read(connection: &mut (impl ConnectionLike + Send)) -> Result<Self, Error> {
        Ok(Self {
            appendonly: config_get(connection, "appendonly").await?,
            appendfsync: config_get(connection, "appendfsync").await?,
            maxmemory_policy: config_get(connection, "maxmemory-policy").await?,
        })
    }

    /// Settings as given, for tests and for servers read some other way.
    #[must_use]
    pub fn new(appendonly: &str, appendfsync: &str, maxmemory_policy: &str) -> Self {
        Self {
            appendonly: appendonly.to_owned(),
            appendfsync: appendfsync.to_owned(),
            maxmemory_policy: maxmemory_policy.to_owned(),
        }
    }

    /// `appendonly`: `yes` or `no`.
    #[must_use]
    pub fn appendonly(&self) -> &str {
        &self.appendonly
    }

    /// `appendfsync`: `always`, `everysec` or `no`.
    #[must_use]
    pub fn appendfsync(&self) -> &str {
        &self.appendfsync
    }

    /// `maxmemory-policy`; only `noeviction` never drops an entry on its own.
    #[must_use]
    pub fn maxmemory_policy(&self) -> &str {
        &self.maxmemory_policy
    }

    /// The durability these settings give, or `None` if acknowledged writes may be lost
    /// in a crash (no append-only file, `appendfsync no`) or evicted.
    #[must_use]
    pub fn durability(&self) -> Option<Durability> {
        if self.appendonly != "yes" || self.maxmemory_policy != "noeviction" {
            return None;
        }
        self.fsync_durability()
    }

    /// The durability `appendfsync` alone would give.
    fn fsync_durability(&self) -> Option<Durability> {
        match self.appendfsync.as_str() {
            "always" => Some(Durability::EveryWrite),
            "everysec" => Some(Durability::EverySecond),
            _ => None,
        }
    }

    /// Why these settings don't give `required`, or `None` if they do.
    #[must_use]
    pub fn shortfall(&self, required: Durability) -> Option<String> {
        if self.durability() >= Some(required) {
            return None;
        }
        let need_fsync = match required {
            Durability::EveryWrite => "always",
            Durability::EverySecond => "everysec or always",
        };
        let mut reasons = Vec::new();
        if self.appendonly != "yes" {
            reasons.push(format!("appendonly is {} (need yes)", self.appendonly));
        }
        if self.fsync_durability() < Some(required) {
            reasons.push(format!(
                "appendfsync is {} (need {need_fsync})",
                self.appendfsync
            ));
        }
        if self.maxmemory_policy != "noeviction" {
            reasons.push(format!(
                "maxmemory-policy is {} (need noeviction)",
                self.maxmemory_policy
            ));
        }
        Some(reasons.join(", "))
    }
}

impl fmt::Display for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "appendonly {}, appendfsync {}, maxmemory-policy {}",
            self.appendonly, self.appendfsync, self.maxmemory_policy
        )
    }
}

async fn config_get(
    connection: &mut (impl ConnectionLike + Send),
    name: &str,
) -> Result<String, Error> {
    let mut cmd = redis::cmd("CONFIG");
    cmd.arg("GET").arg(name);
    // A map, whether the server answers in RESP2 (name, value) or RESP3 (a map).
    let mut reply: std::collections::HashMap<String, String> =
        cmd.query_async(connection).await.map_err(Error::redis)?;
    reply.remove(name).ok_or_else(|| {
        Error::new(StoreErrorKind::Backend).with_detail(format!("CONFIG GET {name} gave no value"))
    })
}

impl RedisStore<ConnectionManager> {
    /// Connects to the Redis that `client` names, on a [`ConnectionManager`] (which
    /// reconnects on its own after a restart or a dropped connection), with the timeouts
    /// of `options`, and checks the server's persistence as `options` says.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), tokenstile_redis::Error> {
    /// use tokenstile_redis::{Durability, OnWeakServer, Options, RedisStore};
    ///
    /// let client = redis::Client::open("redis://127.0.0.1/").map_err(tokenstile_redis::Error::from)?;
    /// let options = Options::new(OnWeakServer::Refuse(Durability::EveryWrite)).prefix("app:");
    /// let store = RedisStore::connect(client, options).await?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Backend`] if Redis can't be reached within the connection
    /// attempts, or (with [`OnWeakServer::Refuse`]) refuses `CONFIG GET`;
    /// [`StoreErrorKind::Other`] if [`OnWeakServer::Refuse`] finds the settings weaker
    /// than required ([`Error::detail`] names them).
    pub async fn connect(client: redis::Client, options: Options) -> Result<Self, Error> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(options.reconnect_attempts)
            .set_max_delay(options.max_reconnect_delay);
        let manager = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(Error::redis)?;
        let mut store = Self::with_prefix(manager, options.prefix);
        let (required, refuse) = match options.on_weak_server {
            OnWeakServer::Accept => return Ok(store),
            OnWeakServer::Refuse(required) => (required, true),
            OnWeakServer::Warn(required) => (required, false),
        };
        let settings = match ServerSettings::read(&mut store.connection_mut().clone()).await {
            Ok(settings) => settings,
            Err(error) if refuse => return Err(error),
            Err(error) => {
                log::warn!(
                    "tokenstile-redis: could not read the server's persistence settings \
                     ({error}); logouts and revocations may not survive a Redis crash"
                );
                return Ok(store);
            }
        };
        if let Some(shortfall) = settings.shortfall(required) {
            if refuse {
                return Err(Error::new(StoreErrorKind::Other).with_detail(format!(
                    "server persistence is weaker than required ({required:?}): {shortfall}"
                )));
            }
            log::warn!(
                "tokenstile-redis: server persistence is weaker than required \
                 ({required:?}): {shortfall}; acknowledged logouts and revocations may \
                 be lost in a crash"
            );
        }
        store.set_settings(settings);
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortfall_names_only_the_settings_that_fall_short() {
        let no_aof = ServerSettings::new("no", "everysec", "noeviction");
        assert_eq!(
            no_aof.shortfall(Durability::EverySecond).as_deref(),
            Some("appendonly is no (need yes)")
        );
        let everysec = ServerSettings::new("yes", "everysec", "noeviction");
        assert_eq!(everysec.shortfall(Durability::EverySecond), None);
        assert_eq!(
            everysec.shortfall(Durability::EveryWrite).as_deref(),
            Some("appendfsync is everysec (need always)")
        );
        let weak = ServerSettings::new("yes", "no", "allkeys-lru");
        assert_eq!(
            weak.shortfall(Durability::EverySecond).as_deref(),
            Some(
                "appendfsync is no (need everysec or always), \
                 maxmemory-policy is allkeys-lru (need noeviction)"
            )
        );
        let always = ServerSettings::new("yes", "always", "noeviction");
        assert_eq!(always.shortfall(Durability::EveryWrite), None);
    }
}
