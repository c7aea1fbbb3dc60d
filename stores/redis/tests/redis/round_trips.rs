//! How many round trips a checked JWT costs, counted by the server: `INFO stats` counts the
//! reads of requests and the writes of replies on client connections, `INFO commandstats`
//! the commands.

use std::collections::HashMap;

use redis::Commands as _;
use serde::Serialize;
use tokenstile::jwt::{self, Hs256Key, RevocationError, Validation};
use tokenstile::store::{RevocationCheck, RevocationStore, StoreErrorKind};
use tokenstile::{Error as TokenError, UnixTime, VerifyError};

use crate::server::RedisServer;
use crate::support::{hex, key, now, store};

/// The server's counters, from one `INFO stats commandstats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Reads of client requests (`total_reads_processed`).
    pub(crate) reads: u64,
    /// Writes of replies to clients (`total_writes_processed`).
    pub(crate) writes: u64,
    /// Commands run (`total_commands_processed`).
    pub(crate) commands: u64,
    /// `GET` and `MGET` calls.
    pub(crate) gets: u64,
    pub(crate) mgets: u64,
}

impl Counters {
    pub(crate) fn read(connection: &mut redis::Connection) -> Self {
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .arg("commandstats")
            .query(connection)
            .unwrap();
        let fields: HashMap<&str, &str> = info
            .lines()
            .filter_map(|line| line.trim().split_once(':'))
            .collect();
        let number = |name: &str| -> u64 { fields.get(name).map_or(0, |v| v.parse().unwrap()) };
        let calls = |name: &str| -> u64 {
            fields.get(name).map_or(0, |v| {
                v.split(',')
                    .find_map(|f| f.strip_prefix("calls="))
                    .unwrap()
                    .parse()
                    .unwrap()
            })
        };
        Self {
            reads: number("total_reads_processed"),
            writes: number("total_writes_processed"),
            commands: number("total_commands_processed"),
            gets: calls("cmdstat_get"),
            mgets: calls("cmdstat_mget"),
        }
    }

    fn minus(self, earlier: Self) -> Self {
        Self {
            reads: self.reads - earlier.reads,
            writes: self.writes - earlier.writes,
            commands: self.commands - earlier.commands,
            gets: self.gets - earlier.gets,
            mgets: self.mgets - earlier.mgets,
        }
    }
}

/// Counts what the server does during `work`, less what reading the counters costs
/// (measured with nothing in between).
pub(crate) struct Meter {
    connection: redis::Connection,
    idle: Counters,
}

impl Meter {
    pub(crate) fn new(mut connection: redis::Connection) -> Self {
        let first = Counters::read(&mut connection);
        let idle = Counters::read(&mut connection).minus(first);
        // The counters' own request and reply: one read and one write, one command.
        assert_eq!(
            (idle.reads, idle.writes, idle.commands),
            (1, 1, 1),
            "{idle:?}"
        );
        Self { connection, idle }
    }

    pub(crate) fn start(&mut self) -> Counters {
        Counters::read(&mut self.connection)
    }

    pub(crate) fn since(&mut self, start: Counters) -> Counters {
        let delta = Counters::read(&mut self.connection).minus(start);
        Counters {
            reads: delta.reads - self.idle.reads,
            writes: delta.writes - self.idle.writes,
            commands: delta.commands - self.idle.commands,
            ..delta
        }
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    sid: &'a str,
    jti: &'a str,
    iat: u64,
    exp: u64,
}

#[tokio::test]
async fn a_checked_jwt_costs_one_round_trip() {
    let server = RedisServer::start();
    let mut store = store(&server).await;
    let mut meter = Meter::new(server.connection());
    let secret = Hs256Key::new_from_slice(&[7; 32]).unwrap();
    let policy = Validation::new();
    let now = now();
    let claims = Claims {
        iss: "https://issuer.example",
        sub: "ann",
        sid: "family-1",
        jti: "token-1",
        iat: now.as_secs(),
        exp: now.as_secs() + 900,
    };
    let mut buf = [0u8; 512];
    let token = jwt::sign(&secret, &claims, &mut buf).unwrap().to_owned();
    let mut scratch = [0u8; 512];
    let mut check = async |store: &mut tokenstile_redis::RedisStore, now: UnixTime| {
        jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
            &secret,
            &token,
            &policy,
            store,
            now,
            &mut scratch,
        )
        .await
        .map(|_| ())
    };

    // Nothing revoked: the jti, the sid and the watermark in one pipeline.
    let start = meter.start();
    check(&mut store, now).await.unwrap();
    let cost = meter.since(start);
    assert_eq!((cost.reads, cost.writes), (1, 1), "{cost:?}");
    assert_eq!(
        (cost.commands, cost.gets, cost.mgets),
        (3, 3, 0),
        "{cost:?}"
    );

    // The single calls, for comparison: three round trips.
    let (a, b, m) = (key(), key(), key());
    let start = meter.start();
    assert!(!store.is_revoked(&a, now).await.unwrap());
    assert!(!store.is_revoked(&b, now).await.unwrap());
    assert_eq!(store.watermark(&m, now).await.unwrap(), None);
    let cost = meter.since(start);
    assert_eq!((cost.reads, cost.writes, cost.gets), (3, 3, 3), "{cost:?}");

    // Revoked by its watermark, then by its jti: still one round trip, and refused.
    let verified = jwt::verify::<serde::de::IgnoredAny, _>(&secret, &token, &policy, now, &mut buf)
        .unwrap()
        .registered;
    let (iss, sub) = (verified.iss, verified.sub.unwrap());
    jwt::revoke_subject(&mut store, iss, sub, now, now.saturating_add(900), now)
        .await
        .unwrap();
    let start = meter.start();
    let refused = check(&mut store, now).await;
    let cost = meter.since(start);
    assert!(matches!(
        refused,
        Err(RevocationError::Token(TokenError::Verify(
            VerifyError::Revoked
        )))
    ));
    assert_eq!((cost.reads, cost.writes, cost.gets), (1, 1, 3), "{cost:?}");

    jwt::revoke_token(&mut store, &verified, policy.leeway, now)
        .await
        .unwrap();
    let start = meter.start();
    let refused = check(&mut store, now).await;
    let cost = meter.since(start);
    assert!(matches!(
        refused,
        Err(RevocationError::Token(TokenError::Verify(
            VerifyError::Revoked
        )))
    ));
    assert_eq!((cost.reads, cost.writes, cost.gets), (1, 1, 3), "{cost:?}");
}

#[tokio::test]
async fn a_revocation_key_of_another_type_fails_the_check_as_it_fails_is_revoked() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = store(&server).await;
    let now = now();
    let (token, family, mark) = (key(), key(), key());
    store
        .revoke(&token, now.saturating_add(60), now)
        .await
        .unwrap();
    let name = format!("tokenstile:revoked:{}", hex(family.as_bytes()));
    let _: () = raw.hset(&name, "foreign", "data").unwrap();
    let wm = format!("tokenstile:watermark:{}", hex(mark.as_bytes()));
    let _: () = raw.rpush(&wm, "foreign").unwrap();

    // Judged in order, as by the single calls: a revoked entry before the foreign one
    // answers; the foreign one, reached, is `Corrupt` as `is_revoked` reports it.
    assert_eq!(
        store
            .check_revoked(&[token, family], Some(&mark), now)
            .await
            .unwrap(),
        RevocationCheck::Revoked(0)
    );
    for (n, (entries, watermark)) in [
        (&[family, token][..], None),
        (&[][..], Some(&mark)),
        (&[key()][..], Some(&mark)),
    ]
    .into_iter()
    .enumerate()
    {
        let err = store
            .check_revoked(entries, watermark, now)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Corrupt, "case {n}");
    }
    assert_eq!(
        store.is_revoked(&family, now).await.unwrap_err().kind(),
        StoreErrorKind::Corrupt
    );
    assert_eq!(
        store.watermark(&mark, now).await.unwrap_err().kind(),
        StoreErrorKind::Corrupt
    );
}
