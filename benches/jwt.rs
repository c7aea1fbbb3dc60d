//! Sign and verify, side by side in one run: tokenstile, the peer crates, and two floors.
//!
//! - `jsonwebtoken` 12 (`rust_crypto`), `jwt-simple` (`pure-rust`) and `jwt-compact` get the
//!   same claims, the same key and the same checks: signature, `alg` HS256, `exp` required
//!   and in the future, `iss` equal, `aud` containing `api`; the claims are then read into
//!   the caller's struct (owned strings where the crate requires `DeserializeOwned`,
//!   borrowed ones for tokenstile).
//! - Every verifier checks the same token bytes (signed by tokenstile; the header is
//!   `{"alg":"HS256","typ":"JWT"}`).
//! - `floor/hmac` is HMAC-SHA-256 over the token's signing input with a pre-keyed `hmac`
//!   state, cloned per call: what any HS256 implementation has to compute.
//! - `floor/sha256-blocks` is the raw SHA-256 compression function run as many times as
//!   that HMAC needs (the inner blocks of the signing input plus one outer block; the key
//!   pads are precomputed), with no padding, buffering or finalization.
//!
//! - `verify+revocation` and `session` put tokenstile's revocation check and opaque
//!   sessions (in a `MemoryStore` holding 10 and 10,000 entries) beside the same floors.
//!
//! `cargo bench --bench jwt` runs everything and ends with two tables: criterion's medians
//! divided by the floors of the same group, and paired ratios (see `paired`), in which each
//! round times the operation between the two floors so that both see the same load. `cargo bench --bench jwt -- --quick` is faster and
//! noisier. Other filters work as usual with criterion, but the table then only has the
//! entries that ran.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod fixture;
mod rng;
mod support;

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokenstile::UnixTime;
use tokenstile::jwt::{self, Hs256Key, RegisteredClaims, Validation};
use tokenstile::session::{SessionId, SessionPolicy};
use tokenstile::store::{MemoryStore, block_on};

use fixture::{AUDIENCE, AUDIENCES, Claims, ISSUER, SECRET, claims};
use rng::StandInRng;

/// The same claims, owned, for the crates that require `DeserializeOwned`.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct OwnedClaims {
    iss: String,
    sub: String,
    aud: String,
    iat: u64,
    exp: u64,
    jti: String,
    role: String,
}

/// The custom part of the claims for `jwt-simple` and `jwt-compact`, which model the
/// registered time claims themselves.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Custom {
    role: String,
}

/// `jwt-compact` has no issuer or audience fields: they are custom claims there.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct CompactCustom {
    iss: String,
    sub: String,
    aud: String,
    jti: String,
    role: String,
}

struct Fixture {
    now: u64,
    token: String,
}

impl Fixture {
    fn new() -> Self {
        // The peers read the system clock, so the token is valid now.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let key = Hs256Key::new_from_slice(SECRET).unwrap();
        let mut buf = [0u8; 512];
        let token = jwt::sign(&key, &claims(now), &mut buf).unwrap().to_owned();
        Self { now, token }
    }

    fn signing_input(&self) -> &[u8] {
        let dot = self.token.rfind('.').unwrap();
        &self.token.as_bytes()[..dot]
    }
}

fn main() {
    // The largest in-memory stores measured here are a few MiB, and an unoptimized build
    // (`cargo test --benches` runs each benchmark once) builds them on the stack before
    // boxing them: give it room.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run)
        .expect("spawn the benchmark thread")
        .join()
        .expect("the benchmarks panicked");
}

fn run() {
    let started = SystemTime::now();
    let fixture = Fixture::new();
    let mut c = Criterion::default().configure_from_args();
    sign(&mut c, &fixture);
    verify(&mut c, &fixture);
    revocation(&mut c, &fixture);
    sessions(&mut c, &fixture);
    c.final_summary();
    paired(&fixture);
    support::print(
        started,
        &[
            ("sign", "floor/hmac"),
            ("verify", "floor/hmac"),
            ("verify+revocation", "floor/hmac"),
            ("session", "floor/hmac"),
        ],
        &format!(
            "token: {} bytes, signing input {} bytes, {} SHA-256 blocks with precomputed pads",
            fixture.token.len(),
            fixture.signing_input().len(),
            hmac_blocks(fixture.signing_input().len())
        ),
    );
}

fn sign(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("sign");
    let now = f.now;

    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    group.bench_function("tokenstile", |b| {
        let mut buf = [0u8; 512];
        b.iter(|| {
            let token = jwt::sign(&key, black_box(&claims(now)), &mut buf).unwrap();
            black_box(token.len());
        });
    });

    let their_key = jsonwebtoken::EncodingKey::from_secret(SECRET).unwrap();
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            black_box(jsonwebtoken::encode(
                &header,
                black_box(&claims(now)),
                &their_key,
            ))
        });
    });

    let simple_key = jwt_simple::prelude::HS256Key::from_bytes(SECRET);
    group.bench_function("jwt-simple", |b| {
        use jwt_simple::prelude::*;
        b.iter(|| {
            let mut c = JWTClaims {
                issued_at: Some(UnixTimeStamp::from_secs(now)),
                expires_at: Some(UnixTimeStamp::from_secs(now + 3600)),
                invalid_before: None,
                issuer: Some(ISSUER.to_owned()),
                subject: Some("user-42".to_owned()),
                audiences: Some(Audiences::AsString(AUDIENCE.to_owned())),
                jwt_id: Some("c9f0f895fb".to_owned()),
                nonce: None,
                custom: Custom {
                    role: "editor".to_owned(),
                },
            };
            c = black_box(c);
            black_box(simple_key.authenticate(c).unwrap())
        });
    });

    let compact_key = jwt_compact::alg::Hs256Key::new(SECRET);
    group.bench_function("jwt-compact", |b| {
        use jwt_compact::AlgorithmExt;
        let header = jwt_compact::Header::empty().with_token_type("JWT");
        b.iter(|| {
            let mut claims = jwt_compact::Claims::new(compact_custom());
            claims.issued_at = Some(datetime(now));
            claims.expiration = Some(datetime(now + 3600));
            let claims = black_box(claims);
            black_box(
                jwt_compact::alg::Hs256
                    .token(&header, &claims, &compact_key)
                    .unwrap(),
            )
        });
    });

    floors(&mut group, f);
    group.finish();
}

fn verify(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("verify");
    let token = f.token.as_str();
    let now = UnixTime::from_secs(f.now);

    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(AUDIENCES);
    group.bench_function("tokenstile", |b| {
        let mut scratch = [0u8; 512];
        b.iter(|| {
            let v =
                jwt::verify::<Claims<'_>, _>(&key, black_box(token), &policy, now, &mut scratch)
                    .unwrap();
            black_box(v.claims.role.len());
        });
    });

    let their_key = jsonwebtoken::DecodingKey::from_secret(SECRET).unwrap();
    let mut their_policy = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    their_policy.set_issuer(&[ISSUER]);
    their_policy.set_audience(AUDIENCES);
    their_policy.set_required_spec_claims(&["exp"]);
    their_policy.leeway = 0;
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            let data =
                jsonwebtoken::decode::<OwnedClaims>(black_box(token), &their_key, &their_policy)
                    .unwrap();
            black_box(data.claims.role.len());
        });
    });

    let simple_key = jwt_simple::prelude::HS256Key::from_bytes(SECRET);
    let simple_options = jwt_simple::prelude::VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISSUER.to_owned()])),
        allowed_audiences: Some(HashSet::from([AUDIENCE.to_owned()])),
        time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(0)),
        artificial_time: Some(jwt_simple::prelude::UnixTimeStamp::from_secs(f.now)),
        ..Default::default()
    };
    group.bench_function("jwt-simple", |b| {
        use jwt_simple::prelude::MACLike;
        b.iter(|| {
            let claims = simple_key
                .verify_token::<Custom>(black_box(token), Some(simple_options.clone()))
                .unwrap();
            assert!(claims.expires_at.is_some());
            black_box(claims.custom.role.len());
        });
    });

    let compact_key = jwt_compact::alg::Hs256Key::new(SECRET);
    let options = jwt_compact::TimeOptions::new(chrono::Duration::zero(), move || datetime(f.now));
    group.bench_function("jwt-compact", |b| {
        use jwt_compact::{AlgorithmExt, UntrustedToken};
        let validator = jwt_compact::alg::Hs256.validator::<CompactCustom>(&compact_key);
        b.iter(|| {
            let untrusted = UntrustedToken::new(black_box(token)).unwrap();
            let checked = validator.validate(&untrusted).unwrap();
            let claims = checked.claims();
            claims.validate_expiration(&options).unwrap();
            assert_eq!(claims.custom.iss, ISSUER);
            assert_eq!(claims.custom.aud, AUDIENCE);
            black_box(claims.custom.role.len());
        });
    });

    floors(&mut group, f);
    group.finish();
}

/// Verification plus a revocation check: tokenstile's store lookups (by `jti`, and the
/// subject's watermark) against a `MemoryStore` holding 10,000 revoked tokens, and
/// `jsonwebtoken` followed by the obvious hand-made check, a `HashSet` of revoked `jti`s.
fn revocation(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("verify+revocation");
    let token = f.token.as_str();
    let now = UnixTime::from_secs(f.now);

    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(AUDIENCES);
    let mut store: Box<MemoryStore<u64, 2, 16384>> = Box::new(MemoryStore::new());
    let mut revoked = HashSet::new();
    for i in 0..10_000u32 {
        let jti = format!("revoked-{i}");
        let mut claims = RegisteredClaims::default();
        claims.iss = Some(ISSUER);
        claims.jti = Some(&jti);
        claims.exp = Some(now.saturating_add(3600));
        jwt::revoke_token(&mut *store, &claims, 0, now)
            .wait()
            .unwrap();
        revoked.insert(jti);
    }
    group.bench_function("tokenstile/10000-revoked", |b| {
        let mut scratch = [0u8; 512];
        b.iter(|| {
            let v = jwt::verify_not_revoked::<Claims<'_>, _, _>(
                &key,
                black_box(token),
                &policy,
                &mut *store,
                now,
                &mut scratch,
            )
            .wait()
            .unwrap();
            black_box(v.claims.role.len());
        });
    });

    let their_key = jsonwebtoken::DecodingKey::from_secret(SECRET).unwrap();
    let mut their_policy = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    their_policy.set_issuer(&[ISSUER]);
    their_policy.set_audience(AUDIENCES);
    their_policy.set_required_spec_claims(&["exp"]);
    their_policy.leeway = 0;
    group.bench_function("jsonwebtoken+HashSet/10000-revoked", |b| {
        b.iter(|| {
            let data =
                jsonwebtoken::decode::<OwnedClaims>(black_box(token), &their_key, &their_policy)
                    .unwrap();
            assert!(!revoked.contains(&data.claims.jti));
            black_box(data.claims.role.len());
        });
    });

    floors(&mut group, f);
    group.finish();
}

/// Opaque sessions in a `MemoryStore`: create (a new ID, its record, its cookie text) and
/// validate (parse the cookie value, look the session up, check its deadlines), in stores
/// holding 10 and 10,000 sessions; with tokenstile's JWT verify beside them.
fn sessions(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("session");
    let now = UnixTime::from_secs(f.now);
    let policy = SessionPolicy::new();
    let mut rng = StandInRng(0x9e37_79b9_7f4a_7c15);

    let mut small: Box<MemoryStore<u64, 16, 16>> = Box::new(MemoryStore::new());
    let mut large: Box<MemoryStore<u64, 16384, 16384>> = Box::new(MemoryStore::new());
    let mut cookie_small = String::new();
    let mut cookie_large = String::new();
    for i in 0..10_000u64 {
        let id = policy
            .create(&mut *large, &mut rng, "user-42", i, now)
            .wait()
            .unwrap();
        if i < 10 {
            let small_id = policy
                .create(&mut *small, &mut rng, "user-42", i, now)
                .wait()
                .unwrap();
            cookie_small = small_id.encode_string();
        }
        cookie_large = id.encode_string();
    }

    group.bench_function("create+destroy/10", |b| {
        b.iter(|| {
            let id = policy
                .create(&mut *small, &mut rng, "user-42", black_box(7), now)
                .wait()
                .unwrap();
            let mut text = [0u8; SessionId::ENCODED_LEN];
            black_box(id.encode(&mut text));
            policy.destroy(&mut *small, &id).wait().unwrap();
        });
    });
    group.bench_function("create+destroy/10000", |b| {
        b.iter(|| {
            let id = policy
                .create(&mut *large, &mut rng, "user-42", black_box(7), now)
                .wait()
                .unwrap();
            let mut text = [0u8; SessionId::ENCODED_LEN];
            black_box(id.encode(&mut text));
            policy.destroy(&mut *large, &id).wait().unwrap();
        });
    });
    group.bench_function("validate/10", |b| {
        b.iter(|| {
            let id = SessionId::parse(black_box(&cookie_small)).unwrap();
            let record = policy.load(&mut *small, &id, now).wait().unwrap();
            black_box(*record.data());
        });
    });
    group.bench_function("validate/10000", |b| {
        b.iter(|| {
            let id = SessionId::parse(black_box(&cookie_large)).unwrap();
            let record = policy.load(&mut *large, &id, now).wait().unwrap();
            black_box(*record.data());
        });
    });

    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let jwt_policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(AUDIENCES);
    let token = f.token.as_str();
    group.bench_function("jwt-verify (tokenstile)", |b| {
        let mut scratch = [0u8; 512];
        b.iter(|| {
            let v = jwt::verify::<Claims<'_>, _>(
                &key,
                black_box(token),
                &jwt_policy,
                now,
                &mut scratch,
            )
            .unwrap();
            black_box(v.claims.role.len());
        });
    });

    floors(&mut group, f);
    group.finish();
}

/// The two floors, measured in every group so that each group's ratios come from the same
/// stretch of the run.
fn floors(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    f: &Fixture,
) {
    let input = f.signing_input();
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
    group.bench_function("floor/hmac", |b| {
        b.iter(|| {
            let tag = keyed.clone().chain_update(black_box(input)).finalize();
            black_box(tag.into_bytes());
        });
    });

    let blocks = vec![[0x5au8; 64]; hmac_blocks(input.len())];
    group.bench_function(BenchmarkId::new("floor/sha256-blocks", blocks.len()), |b| {
        let mut state = [0u32; 8];
        b.iter(|| {
            sha2::block_api::compress256(&mut state, black_box(&blocks));
            black_box(state);
        });
    });
}

/// A named operation for [`paired`].
type Op<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// Paired ratios, printed after criterion's results: each of 301 rounds times a batch of
/// the operation between a batch of each floor, back to back (about 20 us each), and the
/// table gives the median of the per-round ratios with their interquartile range. On a
/// machine that other work shares, a ratio of two medians measured seconds apart moves with
/// the load; a paired ratio moves much less, because both sides of each round see the same.
fn paired(f: &Fixture) {
    const ROUNDS: usize = 301;
    let input = f.signing_input().to_vec();
    let blocks = vec![[0x5au8; 64]; hmac_blocks(input.len())];
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
    let mut state = [0u32; 8];
    let mut floor_blocks = move || {
        sha2::block_api::compress256(&mut state, black_box(&blocks));
        black_box(state);
    };
    let mut floor_hmac = move || {
        let tag = keyed.clone().chain_update(black_box(&input)).finalize();
        black_box(tag.into_bytes());
    };

    let now = f.now;
    let token = f.token.clone();
    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(AUDIENCES);
    let mut buf = [0u8; 512];
    let mut scratch = [0u8; 512];
    let their_signing_key = jsonwebtoken::EncodingKey::from_secret(SECRET).unwrap();
    let their_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let their_key = jsonwebtoken::DecodingKey::from_secret(SECRET).unwrap();
    let mut their_policy = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    their_policy.set_issuer(&[ISSUER]);
    their_policy.set_audience(AUDIENCES);
    their_policy.set_required_spec_claims(&["exp"]);
    their_policy.leeway = 0;

    let mut ops: Vec<Op<'_>> = vec![
        (
            "sign/tokenstile",
            Box::new(|| {
                let token = jwt::sign(&key, black_box(&claims(now)), &mut buf).unwrap();
                black_box(token.len());
            }),
        ),
        (
            "sign/jsonwebtoken",
            Box::new(|| {
                black_box(
                    jsonwebtoken::encode(
                        &their_header,
                        black_box(&claims(now)),
                        &their_signing_key,
                    )
                    .unwrap(),
                );
            }),
        ),
        (
            "verify/tokenstile",
            Box::new(|| {
                let v = jwt::verify::<Claims<'_>, _>(
                    &key,
                    black_box(token.as_str()),
                    &policy,
                    UnixTime::from_secs(now),
                    &mut scratch,
                )
                .unwrap();
                black_box(v.claims.role.len());
            }),
        ),
        (
            "verify/jsonwebtoken",
            Box::new(|| {
                let data = jsonwebtoken::decode::<OwnedClaims>(
                    black_box(token.as_str()),
                    &their_key,
                    &their_policy,
                )
                .unwrap();
                black_box(data.claims.role.len());
            }),
        ),
    ];

    /// Nanoseconds per call of `op`, over `n` calls.
    fn time(op: &mut dyn FnMut(), n: u32) -> f64 {
        let start = std::time::Instant::now();
        for _ in 0..n {
            op();
        }
        start.elapsed().as_nanos() as f64 / f64::from(n)
    }
    /// Calls of `op` that take about 20 us.
    fn batch(op: &mut dyn FnMut()) -> u32 {
        let per_call = time(op, 1000).max(1.0);
        ((20_000.0 / per_call) as u32).max(1)
    }
    fn quartiles(mut v: Vec<f64>) -> (f64, f64, f64) {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        (at(0.25), at(0.5), at(0.75))
    }

    let n_blocks = batch(&mut floor_blocks);
    let n_hmac = batch(&mut floor_hmac);
    println!();
    println!(
        "paired ratios (median of {ROUNDS} rounds, each timing the operation between the two floors; [interquartile range])"
    );
    println!("  {:<24} {:>28} {:>28}", "", "/sha256-floor", "/hmac");
    for (name, op) in &mut ops {
        let n = batch(op.as_mut());
        let (mut to_blocks, mut to_hmac) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let b = time(&mut floor_blocks, n_blocks);
            let t = time(op.as_mut(), n);
            let h = time(&mut floor_hmac, n_hmac);
            to_blocks.push(t / b);
            to_hmac.push(t / h);
        }
        let (b25, b50, b75) = quartiles(to_blocks);
        let (h25, h50, h75) = quartiles(to_hmac);
        println!(
            "  {name:<24} {b50:>8.2}x [{b25:.2}x-{b75:.2}x] {h50:>13.2}x [{h25:.2}x-{h75:.2}x]"
        );
    }
}

/// SHA-256 compressions for HMAC-SHA-256 of `len` bytes with precomputed pads: the inner
/// hash over the message plus padding (9 bytes at least), then one outer block.
fn hmac_blocks(len: usize) -> usize {
    (len + 9).div_ceil(64) + 1
}

fn compact_custom() -> CompactCustom {
    CompactCustom {
        iss: ISSUER.to_owned(),
        sub: "user-42".to_owned(),
        aud: AUDIENCE.to_owned(),
        jti: "c9f0f895fb".to_owned(),
        role: "editor".to_owned(),
    }
}

fn datetime(secs: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs as i64, 0).unwrap()
}

/// Drives a future over an in-memory store with [`block_on`], written after the call.
trait Wait: Future + Sized {
    fn wait(self) -> Self::Output {
        block_on(self)
    }
}

impl<F: Future> Wait for F {}
