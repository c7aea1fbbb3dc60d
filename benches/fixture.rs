//! The token every benchmark signs and verifies, shared by the benchmarks (`jwt.rs`), the
//! instruction counters (`instructions.rs`, `instructions_store.rs`,
//! `instructions_peers.rs`) and the constant-time check's program (`constant_time.rs`).

#![allow(clippy::arithmetic_side_effects)] // `now + 3600` on a clock far from the end of time

use serde::{Deserialize, Serialize};

pub(crate) const SECRET: &[u8; 32] = b"a 32-byte secret for benchmarks!";
pub(crate) const ISSUER: &str = "https://auth.example";
pub(crate) const AUDIENCE: &str = "api";
pub(crate) const AUDIENCES: &[&str] = &[AUDIENCE];

/// The claims every library signs: the registered ones plus one custom claim.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Claims<'a> {
    pub(crate) iss: &'a str,
    pub(crate) sub: &'a str,
    pub(crate) aud: &'a str,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) jti: &'a str,
    pub(crate) role: &'a str,
}

/// The fixture's claims, issued at `now`.
pub(crate) fn claims(now: u64) -> Claims<'static> {
    Claims {
        iss: ISSUER,
        sub: "user-42",
        aud: AUDIENCE,
        iat: now,
        exp: now + 3600,
        jti: "c9f0f895fb",
        role: "editor",
    }
}
