//! HS256 JSON Web Tokens ([RFC 7519]) in the JWS compact serialization ([RFC 7515]).
//!
//! [RFC 7519]: https://www.rfc-editor.org/rfc/rfc7519
//! [RFC 7515]: https://www.rfc-editor.org/rfc/rfc7515

mod claims;
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "not yet called by header and claims parsing")
)]
mod json;

pub use claims::{Audience, RegisteredClaims};
