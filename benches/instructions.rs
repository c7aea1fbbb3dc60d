//! Runs one operation on BENCHMARKING.md's fixture token a given number of times, for an
//! instruction count under callgrind (`benches/instructions.sh` runs it twice and prints
//! the difference per operation, which cancels start-up and set-up).
//!
//! ```sh
//! cargo run --release -p tokenstile-bench --bin instructions -- verify 1000
//! ```

#![allow(clippy::expect_used)] // a measuring tool: a failure is a bug to see at once

use core::hint::black_box;

mod fixture;

use fixture::{AUDIENCES, Claims, ISSUER, SECRET, claims};
use tokenstile::UnixTime;
use tokenstile::jwt::{self, Hs256Key, Validation};

/// A fixed clock, so that every run signs the same bytes.
const NOW: u64 = 1_767_225_600;

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_default();
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let key = Hs256Key::new_from_slice(SECRET).expect("a 32-byte key");
    let mut buf = [0u8; 512];
    let token = jwt::sign(&key, &claims(NOW), &mut buf)
        .expect("the fixture signs")
        .to_owned();
    match op.as_str() {
        "sign" => {
            let claims = claims(NOW);
            for _ in 0..count {
                let token = jwt::sign(&key, black_box(&claims), &mut buf).expect("signs");
                black_box(token.len());
            }
        }
        "verify" => {
            let policy = Validation::new()
                .with_issuer(ISSUER)
                .with_audiences(AUDIENCES);
            let now = UnixTime::from_secs(NOW);
            let mut scratch = [0u8; 512];
            for _ in 0..count {
                let v = jwt::verify::<Claims<'_>, _>(
                    &key,
                    black_box(&token),
                    &policy,
                    now,
                    &mut scratch,
                )
                .expect("verifies");
                black_box(v.claims.role.len());
            }
        }
        _ => {
            eprintln!("usage: instructions sign|verify COUNT");
            std::process::exit(2);
        }
    }
}
