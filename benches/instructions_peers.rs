//! Runs one peer crate's sign or verify of BENCHMARKING.md's fixture token a given number
//! of times, for an instruction count under callgrind (`benches/instructions.sh` runs it
//! twice and prints the difference per token, which cancels start-up and set-up). The
//! peers are set up as in the benchmarks (`peers.rs`); a binary apart from
//! `instructions`, so that tokenstile's counts come from a program with none of the
//! peers' code in it.
//!
//! Operations: `sign-jsonwebtoken`, `sign-jwt-simple`, `sign-jwt-compact`, `sign-jwt-crate`
//! (`jwt` 0.16), `verify-jsonwebtoken`, `verify-jwt-simple`, `verify-jwt-compact`,
//! `verify-jwt-crate`.
//!
//! ```sh
//! cargo run --release -p tokenstile-bench --bin instructions-peers -- verify-jsonwebtoken 1000
//! ```

#![allow(clippy::expect_used)] // a measuring tool: a failure is a bug to see at once

use core::hint::black_box;

mod fixture;
mod peers;

use fixture::{SECRET, claims};
use peers::Peers;
use tokenstile::jwt::{self, Hs256Key};

/// The time the tokens are issued at, fixed so that every run signs and verifies the same
/// bytes: 2100-01-01, since `jsonwebtoken` checks `exp` against the system clock (the other
/// three take this one). Ten digits, as the other programs' clock.
const NOW: u64 = 4_102_444_800;

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_default();
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let now = NOW;
    let peers = Peers::new(now);
    let key = Hs256Key::new_from_slice(SECRET).expect("a 32-byte key");
    let mut buf = [0u8; 512];
    let token = jwt::sign(&key, &claims(now), &mut buf)
        .expect("the fixture signs")
        .to_owned();
    let run: &dyn Fn() -> usize = match op.as_str() {
        "sign-jsonwebtoken" => &|| peers.sign_jsonwebtoken().len(),
        "sign-jwt-simple" => &|| peers.sign_jwt_simple().len(),
        "sign-jwt-compact" => &|| peers.sign_jwt_compact().len(),
        "sign-jwt-crate" => &|| peers.sign_jwt_crate().len(),
        "verify-jsonwebtoken" => &|| peers.verify_jsonwebtoken(black_box(&token)).role.len(),
        "verify-jwt-simple" => &|| peers.verify_jwt_simple(black_box(&token)),
        "verify-jwt-compact" => &|| peers.verify_jwt_compact(black_box(&token)),
        "verify-jwt-crate" => &|| peers.verify_jwt_crate(black_box(&token)),
        _ => {
            eprintln!(
                "usage: instructions-peers sign-|verify-jsonwebtoken|jwt-simple|jwt-compact|jwt-crate COUNT"
            );
            std::process::exit(2);
        }
    };
    for _ in 0..count {
        black_box(run());
    }
}
