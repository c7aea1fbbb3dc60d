//! The main example: sign a token, verify it, and watch tampered and expired tokens fail.
//!
//! Run with `cargo run --example quickstart`. It exits non-zero if any step does not
//! behave as printed.

#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::{Clock, Error, SystemClock, UnixTime, VerifyError};

#[derive(Serialize, Deserialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    exp: u64,
    role: &'a str,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nall steps behaved as expected");
            ExitCode::SUCCESS
        }
        Err(step) => {
            eprintln!("\nFAILED: {step}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let key = Hs256Key::new_from_slice(b"quickstart secret: use 32+ random bytes")
        .map_err(|e| format!("key: {e}"))?;
    let now = SystemClock.now();
    let policy = Validation::new().with_issuer("quickstart");

    println!("== JWT: sign and verify ==");
    let claims = Claims {
        iss: "quickstart",
        sub: "alice",
        exp: now.as_secs() + 900,
        role: "admin",
    };
    let mut buf = [0u8; 512];
    let token = jwt::sign(&key, &claims, &mut buf).map_err(|e| format!("sign: {e}"))?;
    println!("signed token: {token}");

    let mut scratch = [0u8; 512];
    let verified = jwt::verify::<Claims, _>(&key, token, &policy, now, &mut scratch)
        .map_err(|e| format!("verify: {e}"))?;
    println!(
        "verified: sub={} role={}",
        verified.claims.sub, verified.claims.role
    );

    println!("\n== refused tokens ==");
    let mut tampered = token.to_owned();
    let at = tampered.find('.').map_or(0, |i| i + 3);
    tampered.replace_range(
        at..at + 1,
        if &tampered[at..at + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    expect_refused(
        "tampered payload",
        &key,
        &tampered,
        &policy,
        now,
        VerifyError::Signature.into(),
    )?;
    let later = UnixTime::from_secs(now.as_secs() + 900);
    expect_refused(
        "expired (15 minutes later)",
        &key,
        token,
        &policy,
        later,
        VerifyError::Expired.into(),
    )?;
    let other_issuer = Validation::new().with_issuer("someone-else");
    expect_refused(
        "wrong issuer",
        &key,
        token,
        &other_issuer,
        now,
        VerifyError::Issuer.into(),
    )?;
    Ok(())
}

fn expect_refused(
    what: &str,
    key: &Hs256Key,
    token: &str,
    policy: &Validation<'_>,
    now: UnixTime,
    expected: Error,
) -> Result<(), String> {
    let mut scratch = [0u8; 512];
    match jwt::verify::<Claims, _>(key, token, policy, now, &mut scratch) {
        Err(e) if e == expected => {
            println!("{what}: refused ({e})");
            Ok(())
        }
        Err(e) => Err(format!("{what}: refused with `{e}`, expected `{expected}`")),
        Ok(_) => Err(format!("{what}: was accepted")),
    }
}
