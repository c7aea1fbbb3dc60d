//! HS256 JSON Web Tokens ([RFC 7519]) in the JWS compact serialization ([RFC 7515]).
//!
//! - [`sign`] writes a token into a caller buffer; [`encoded_len`] sizes it. [`sign_with`]
//!   writes a [`Header`] with another `typ`, or none.
//! - [`verify`] checks a token against a reusable [`Validation`] policy at an explicit
//!   time, and returns the caller's claims type plus the [`RegisteredClaims`].
//! - [`Hs256Key`] is one key; [`KeyRing`] holds several for rotation, selected by `kid`.
//!
//! The algorithm is pinned: the library writes `"alg":"HS256"` and refuses every other
//! value, including `none` ([RFC 8725 §3.1]). The MAC is checked before the payload is
//! parsed, so the JSON parser only ever sees authenticated claims.
//!
//! [RFC 7519]: https://www.rfc-editor.org/rfc/rfc7519
//! [RFC 7515]: https://www.rfc-editor.org/rfc/rfc7515
//! [RFC 8725 §3.1]: https://www.rfc-editor.org/rfc/rfc8725#section-3.1

mod claims;
mod decode;
mod encode;
mod header;
mod json;
mod key;
mod revocation;
mod validation;

pub use claims::{Audience, RegisteredClaims};
pub use decode::{Verified, verify};
pub use encode::{encoded_len, encoded_len_with, sign, sign_with};
#[cfg(feature = "alloc")]
pub use encode::{sign_to_string, sign_with_to_string};
pub use header::Header;
pub use key::{Hs256Key, KeyId, KeyRing, SigningKey, VerifyingKeys};
pub use revocation::{
    RevocationError, check_not_revoked, revoke_subject, revoke_token, verify_not_revoked,
};
pub use validation::{ClaimSet, Validation};
