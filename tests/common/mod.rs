//! Helpers shared by the integration tests: hand-made tokens with valid MACs.
#![allow(dead_code, clippy::unwrap_used, clippy::arithmetic_side_effects)]

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub(crate) const SECRET: &[u8; 32] = b"tokenstile test secret, 32 bytes";

pub(crate) fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// The base64url HMAC-SHA-256 of `input` under `secret`.
pub(crate) fn mac_b64(secret: &[u8], input: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    b64(&mac.finalize().into_bytes())
}

/// A token with the given raw header and payload JSON and a valid HS256 MAC.
pub(crate) fn token(header: &str, payload: &str) -> String {
    token_with(SECRET, header, payload)
}

pub(crate) fn token_with(secret: &[u8], header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = mac_b64(secret, &input);
    format!("{input}.{sig}")
}

/// A token whose segments are given already encoded, with a valid MAC over them.
pub(crate) fn token_raw(header_b64: &str, payload_b64: &str) -> String {
    let input = format!("{header_b64}.{payload_b64}");
    let sig = mac_b64(SECRET, &input);
    format!("{input}.{sig}")
}

pub(crate) const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
