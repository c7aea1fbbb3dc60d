//! Sign and verify, side by side in one run: tokenstile, the peer crates, and two floors.
//!
//! - `jsonwebtoken` 12 (`rust_crypto`), `jwt-simple` (`pure-rust`), `jwt-compact` and `jwt`
//!   0.16 get the same claims, the same key and the same checks: signature, `alg` HS256,
//!   `exp` required and in the future, `iss` equal, `aud` containing `api`; the claims are
//!   then read into the caller's struct (owned strings where the crate requires
//!   `DeserializeOwned`, borrowed ones for tokenstile).
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
mod peers;
mod rng;
mod support;

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokenstile::UnixTime;
use tokenstile::jwt::{self, Hs256Key, RegisteredClaims, Validation};
use tokenstile::session::{SessionId, SessionPolicy};
use tokenstile::store::{MemoryStore, block_on};

use fixture::{AUDIENCES, Claims, ISSUER, SECRET, claims};
use peers::Peers;
use rng::StandInRng;

struct Fixture {
    now: u64,
    token: String,
    peers: Peers,
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
        Self {
            now,
            token,
            peers: Peers::new(now),
        }
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

    let peers = &f.peers;
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| black_box(peers.sign_jsonwebtoken()));
    });
    group.bench_function("jwt-simple", |b| {
        b.iter(|| black_box(peers.sign_jwt_simple()));
    });
    group.bench_function("jwt-compact", |b| {
        b.iter(|| black_box(peers.sign_jwt_compact()));
    });
    group.bench_function("jwt", |b| {
        b.iter(|| black_box(peers.sign_jwt_crate()));
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

    let peers = &f.peers;
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| black_box(peers.verify_jsonwebtoken(black_box(token)).role.len()));
    });
    group.bench_function("jwt-simple", |b| {
        b.iter(|| black_box(peers.verify_jwt_simple(black_box(token))));
    });
    group.bench_function("jwt-compact", |b| {
        b.iter(|| black_box(peers.verify_jwt_compact(black_box(token))));
    });
    group.bench_function("jwt", |b| {
        b.iter(|| black_box(peers.verify_jwt_crate(black_box(token))));
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

    let peers = &f.peers;
    group.bench_function("jsonwebtoken+HashSet/10000-revoked", |b| {
        b.iter(|| {
            let claims = peers.verify_jsonwebtoken(black_box(token));
            assert!(!revoked.contains(&claims.jti));
            black_box(claims.role.len());
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
    let peers = &f.peers;

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
                black_box(peers.sign_jsonwebtoken());
            }),
        ),
        (
            "sign/jwt",
            Box::new(|| {
                black_box(peers.sign_jwt_crate());
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
                let claims = peers.verify_jsonwebtoken(black_box(token.as_str()));
                black_box(claims.role.len());
            }),
        ),
        (
            "verify/jwt",
            Box::new(|| {
                black_box(peers.verify_jwt_crate(black_box(token.as_str())));
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

/// Drives a future over an in-memory store with [`block_on`], written after the call.
trait Wait: Future + Sized {
    fn wait(self) -> Self::Output {
        block_on(self)
    }
}

impl<F: Future> Wait for F {}
