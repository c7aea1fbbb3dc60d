//! Runs one store operation of BENCHMARKING.md a given number of times, for an instruction
//! count under callgrind (`benches/instructions.sh` runs it twice and prints the difference
//! per operation, which cancels start-up and set-up). A binary apart from `instructions`,
//! so that the sign and verify counts come from the same program as before these were
//! added (the code around an operation decides what the compiler inlines into it):
//!
//! - `session-10`, `session-10000`: validating a session (parse the cookie value, load the
//!   session) in a `MemoryStore` holding 10 or 10,000 sessions, each in turn, as the
//!   `session` benchmarks do with one;
//! - `session-unknown`: the same with cookies of sessions that do not exist (10,000 stored);
//! - `verify-revoked`: `verify_not_revoked` of the fixture token with 10,000 other tokens
//!   revoked, as the `verify+revocation` benchmark.
//!
//! ```sh
//! cargo run --release -p tokenstile-bench --bin instructions-store -- session-10000 1000
//! ```

#![allow(clippy::expect_used)] // a measuring tool: a failure is a bug to see at once

use core::hint::black_box;

mod fixture;
mod rng;

use fixture::{AUDIENCES, Claims, ISSUER, SECRET, claims};
use rng::StandInRng;
use tokenstile::UnixTime;
use tokenstile::jwt::{self, Hs256Key, RegisteredClaims, Validation};
use tokenstile::session::{SessionId, SessionPolicy};
use tokenstile::store::{MemoryStore, SessionStore, block_on};

/// A fixed clock, the same as the `instructions` binary's.
const NOW: u64 = 1_767_225_600;

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_default();
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    match op.as_str() {
        "session-10" => {
            let mut store: Box<MemoryStore<u64, 16, 16>> = Box::new(MemoryStore::new());
            validate_sessions(&mut *store, 10, false, count);
        }
        "session-10000" => {
            let mut store: Box<MemoryStore<u64, 16384, 16384>> = Box::new(MemoryStore::new());
            validate_sessions(&mut *store, 10_000, false, count);
        }
        "session-unknown" => {
            let mut store: Box<MemoryStore<u64, 16384, 16384>> = Box::new(MemoryStore::new());
            validate_sessions(&mut *store, 10_000, true, count);
        }
        "verify-revoked" => {
            let key = Hs256Key::new_from_slice(SECRET).expect("a 32-byte key");
            let mut buf = [0u8; 512];
            let token = jwt::sign(&key, &claims(NOW), &mut buf)
                .expect("the fixture signs")
                .to_owned();
            let policy = Validation::new()
                .with_issuer(ISSUER)
                .with_audiences(AUDIENCES);
            let now = UnixTime::from_secs(NOW);
            let mut store: Box<MemoryStore<u64, 2, 16384>> = Box::new(MemoryStore::new());
            for i in 0..10_000u32 {
                let jti = format!("revoked-{i}");
                let mut revoked = RegisteredClaims::default();
                revoked.iss = Some(ISSUER);
                revoked.jti = Some(&jti);
                revoked.exp = Some(now.saturating_add(3600));
                block_on(jwt::revoke_token(&mut *store, &revoked, 0, now)).expect("revokes");
            }
            let mut scratch = [0u8; 512];
            for _ in 0..count {
                let v = block_on(jwt::verify_not_revoked::<Claims<'_>, _, _>(
                    &key,
                    black_box(&token),
                    &policy,
                    &mut *store,
                    now,
                    &mut scratch,
                ))
                .expect("verifies, not revoked");
                black_box(v.claims.role.len());
            }
        }
        _ => {
            eprintln!(
                "usage: instructions-store session-10|session-10000|session-unknown|verify-revoked COUNT"
            );
            std::process::exit(2);
        }
    }
}

/// Creates `sessions` sessions in `store`, then validates `count` cookies, going round
/// them in order: the cookies of the stored sessions, or (`unknown`) as many cookies of
/// sessions that were never created, whose lookups find nothing.
fn validate_sessions<S: SessionStore<u64>>(
    store: &mut S,
    sessions: u64,
    unknown: bool,
    count: u32,
) {
    let policy = SessionPolicy::new();
    let now = UnixTime::from_secs(NOW);
    let mut rng = StandInRng(0x9e37_79b9_7f4a_7c15);
    let mut cookies: Vec<String> = (0..sessions)
        .map(|i| {
            block_on(policy.create(store, &mut rng, "user-42", i, now))
                .expect("fits")
                .encode_string()
        })
        .collect();
    if unknown {
        cookies = (0..sessions)
            .map(|_| {
                SessionId::generate(&mut rng)
                    .expect("an ID")
                    .encode_string()
            })
            .collect();
    }
    for cookie in cookies.iter().cycle().take(count as usize) {
        let id = SessionId::parse(black_box(cookie)).expect("well-formed");
        let found = block_on(policy.load(store, &id, now));
        assert_eq!(found.is_ok(), !unknown);
        black_box(found.map(|record| *record.data()).ok());
    }
}
