//! What the host and the device share: the HMAC secret and a token the host signed.
//!
//! The root crate's `tests/firmware_token.rs` compiles this file too. It signs the same
//! claims with the `jsonwebtoken` crate, an implementation independent of tokenstile, and
//! fails if [`HOST_TOKEN`] is not byte for byte what that produces, so the constant below
//! can't drift from what its comments claim. It also prints a fresh token to paste here
//! when the claims change.
//!
//! # Why `exp` is in the year 2100
//!
//! The device checks the token against the current time, which it asks the host for over
//! semihosting (a real board reads its RTC, or time from the network). A token embedded
//! in the firmware therefore has to stay valid on every day anyone runs the example, so
//! its `exp` is 2100-01-01T00:00:00Z. That is still inside the 32-bit seconds counter that
//! semihosting returns (it wraps in 2106). The same test fails once fewer than 20 years
//! remain, long before the example would start refusing its own token. Production tokens
//! live minutes, not decades; the expiry path is exercised on the device by verifying the
//! same token at `exp`.

/// The HMAC secret both sides know.
///
/// A demo value: a real device is provisioned with its own random secret, kept in
/// protected storage and never in source code.
pub(crate) const SHARED_SECRET: &[u8; 40] = b"tokenstile firmware demo secret (public)";

/// Who issues the host token (`iss`).
pub(crate) const ISSUER: &str = "https://fleet.example";
/// Who the host token is for (`aud`).
pub(crate) const AUDIENCE: &str = "firmware";
/// The device it names (`sub`).
pub(crate) const DEVICE_ID: &str = "device-0042";
/// The permission it grants (custom claim `scope`).
pub(crate) const SCOPE: &str = "telemetry:write";
/// When it was issued (`iat`): 2026-01-01T00:00:00Z.
pub(crate) const HOST_TOKEN_IAT: u64 = 1_767_225_600;
/// When it expires (`exp`): 2100-01-01T00:00:00Z; see the module docs.
pub(crate) const HOST_TOKEN_EXP: u64 = 4_102_444_800;

/// The claims above, signed by the host with [`SHARED_SECRET`].
pub(crate) const HOST_TOKEN: &str = concat!(
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.",
    "eyJpc3MiOiJodHRwczovL2ZsZWV0LmV4YW1wbGUiLCJzdWIiOiJkZXZpY2UtMDA0MiIsImF1ZCI6ImZpcm13YXJlIiwic2NvcGUiOiJ0ZWxlbWV0cnk6d3JpdGUiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6NDEwMjQ0NDgwMH0",
    ".5thwzjjxNTV5hrLsvBONo1bMvmyeR7FwTWPkDQSMC9M"
);
