//! Error types, split by the phase that produces them.
//!
//! - [`KeyError`]: building a key or a key ring (a caller mistake, not attacker input).
//! - [`EncodeError`]: writing a token.
//! - [`DecodeError`]: a token that is malformed or whose header is refused, found *before*
//!   the MAC is checked.
//! - [`VerifyError`]: the MAC does not match, or the authenticated claims fail the policy.
//! - [`JsonError`]: what exactly was wrong with a header or payload that is not strict JSON.
//!
//! [`Error`] is the union of all of them, with a `From` impl for each.
//!
//! All errors are `Copy`, carry no strings and need no allocator. A failed signature check
//! is a single variant with no detail ([`VerifyError::Signature`]).

use core::fmt;

/// A registered JWT claim ([RFC 7519 §4.1]).
///
/// [RFC 7519 §4.1]: https://www.rfc-editor.org/rfc/rfc7519#section-4.1
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `aud`: audience.
    Aud,
    /// `exp`: expiration time.
    Exp,
    /// `iat`: issued at.
    Iat,
    /// `iss`: issuer.
    Iss,
    /// `jti`: JWT ID.
    Jti,
    /// `nbf`: not before.
    Nbf,
    /// `sid`: session ID.
    Sid,
    /// `sub`: subject.
    Sub,
}

impl Claim {
    /// The claim's name as it appears in JSON.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aud => "aud",
            Self::Exp => "exp",
            Self::Iat => "iat",
            Self::Iss => "iss",
            Self::Jti => "jti",
            Self::Nbf => "nbf",
            Self::Sid => "sid",
            Self::Sub => "sub",
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key or key ring could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is the ring's current key and cannot be removed.
    CurrentKey,
    /// The key ring already holds a key with this `kid`.
    DuplicateKeyId,
    /// A `kid` is empty, too long, or holds characters that need JSON escaping.
    InvalidKeyId,
    /// The key ring has no free slot.
    RingFull,
    /// The secret is shorter than 32 bytes, the HS256 minimum of RFC 7518 §3.2.
    TooShort,
    /// The key ring has no key with the requested `kid`.
    UnknownKeyId,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CurrentKey => "cannot remove the current key",
            Self::DuplicateKeyId => "duplicate key ID",
            Self::InvalidKeyId => "invalid key ID",
            Self::RingFull => "key ring is full",
            Self::TooShort => "HS256 key shorter than 32 bytes",
            Self::UnknownKeyId => "unknown key ID",
        })
    }
}

impl core::error::Error for KeyError {}

/// A token could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small for the token.
    BufferTooSmall,
    /// The header asked for cannot be written: a `typ` that is empty, too long, or holds
    /// characters that need escaping.
    Header,
    /// The signing key is unavailable (a key ring with no current key).
    Key,
    /// The claims could not be serialized to a JSON object that verification accepts.
    Serialize,
    /// A registered claim has a JSON type or value that verification refuses (a
    /// `NumericDate` that is not an integer from 0 to `i64::MAX`, a string claim that is not
    /// a string, an `aud` that is neither a string nor an array of strings without NUL):
    /// such a token could never be verified, so it is not signed.
    InvalidClaim(Claim),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BufferTooSmall => "output buffer too small",
            Self::Header => "header cannot be written",
            Self::Key => "no signing key",
            Self::Serialize => "claims could not be serialized",
            Self::InvalidClaim(claim) => {
                return write!(f, "invalid `{}` claim", claim.name());
            }
        })
    }
}

impl core::error::Error for EncodeError {}

/// JSON that is not strict [RFC 8259] JSON, or exceeds a limit.
///
/// [RFC 8259]: https://www.rfc-editor.org/rfc/rfc8259
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// A raw control character (U+0000 to U+001F) inside a string.
    ControlCharacter,
    /// Objects and arrays nest deeper than the limit.
    Depth,
    /// An object has two members with the same name (compared after unescaping).
    DuplicateMember,
    /// A `\` escape that JSON does not define, or a malformed `\u` escape.
    InvalidEscape,
    /// A number that does not follow the JSON grammar.
    InvalidNumber,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// The top-level value is not an object.
    NotObject,
    /// Any other violation of the JSON grammar, including truncated input.
    Syntax,
    /// Too many object members are open at once: those of an object plus those of the
    /// objects enclosing it.
    TooManyMembers,
    /// Non-whitespace after the top-level value.
    TrailingData,
    /// A `\u` escape for half of a surrogate pair without its other half.
    UnpairedSurrogate,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ControlCharacter => "raw control character in JSON string",
            Self::Depth => "JSON nested too deeply",
            Self::DuplicateMember => "duplicate JSON member name",
            Self::InvalidEscape => "invalid JSON escape",
            Self::InvalidNumber => "invalid JSON number",
            Self::InvalidUtf8 => "invalid UTF-8 in JSON",
            Self::NotObject => "JSON value is not an object",
            Self::Syntax => "invalid JSON syntax",
            Self::TooManyMembers => "too many JSON object members",
            Self::TrailingData => "trailing data after JSON value",
            Self::UnpairedSurrogate => "unpaired UTF-16 surrogate in JSON escape",
        })
    }
}

impl core::error::Error for JsonError {}

/// A token is malformed or its header is refused. Found before the MAC is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// `alg` is missing, not a string, or anything but exactly `"HS256"`.
    Algorithm,
    /// A segment is not canonical unpadded base64url.
    Base64,
    /// The scratch buffer is too small for the decoded header or payload.
    BufferTooSmall,
    /// The header has a `crit` member; no extensions are understood.
    Critical,
    /// The header has an `enc` member (a JWE, not a JWS).
    Encrypted,
    /// The header is not a strict JSON object.
    Header(JsonError),
    /// A member of the header has the wrong JSON type.
    HeaderMember,
    /// The key ring needs a `kid` and the header has none.
    KeyIdMissing,
    /// The header's `kid` names no configured key.
    KeyIdUnknown,
    /// The token does not have exactly three `.`-separated segments.
    Segments,
    /// The signature segment is not 43 characters long, the unpadded base64url of a
    /// 32-byte HMAC-SHA-256 tag.
    SignatureLength,
    /// The token is longer than the configured maximum.
    TooLong,
    /// `typ` does not match the policy.
    Type,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Algorithm => f.write_str("unsupported or missing algorithm"),
            Self::Base64 => f.write_str("invalid base64url encoding"),
            Self::BufferTooSmall => f.write_str("scratch buffer too small"),
            Self::Critical => f.write_str("critical header extension not supported"),
            Self::Encrypted => f.write_str("encrypted tokens are not supported"),
            Self::Header(e) => write!(f, "invalid header: {e}"),
            Self::HeaderMember => f.write_str("header member of the wrong type"),
            Self::KeyIdMissing => f.write_str("missing key ID"),
            Self::KeyIdUnknown => f.write_str("unknown key ID"),
            Self::Segments => f.write_str("token must have three segments"),
            Self::SignatureLength => f.write_str("signature segment of the wrong length"),
            Self::TooLong => f.write_str("token too long"),
            Self::Type => f.write_str("unexpected token type"),
        }
    }
}

impl core::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Header(e) => Some(e),
            _ => None,
        }
    }
}

/// The MAC does not match, or the authenticated claims fail the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// `aud` does not name an expected audience, or is present when none is expected.
    Audience,
    /// The scratch buffer is too small for the payload.
    BufferTooSmall,
    /// The payload is valid JSON but does not deserialize into the caller's claims type.
    Claims,
    /// `now` is at or after `exp` (plus leeway).
    Expired,
    /// `iat` is later than `now` (plus leeway).
    IssuedInFuture,
    /// `iss` is not the expected issuer.
    Issuer,
    /// A registered claim has the wrong JSON type or is out of range.
    InvalidClaim(Claim),
    /// A required claim is absent.
    MissingClaim(Claim),
    /// `now` is before `nbf` (minus leeway).
    NotYetValid,
    /// The payload is not a strict JSON object.
    Payload(JsonError),
    /// The token has been revoked.
    Revoked,
    /// The MAC does not match. Deliberately carries no detail.
    Signature,
    /// `sub` is not the expected subject.
    Subject,
    /// `iat` is older than the maximum age allows.
    TooOld,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Audience => f.write_str("audience not accepted"),
            Self::BufferTooSmall => f.write_str("scratch buffer too small"),
            Self::Claims => f.write_str("claims do not match the expected type"),
            Self::Expired => f.write_str("token expired"),
            Self::IssuedInFuture => f.write_str("token issued in the future"),
            Self::Issuer => f.write_str("issuer not accepted"),
            Self::InvalidClaim(c) => write!(f, "invalid `{c}` claim"),
            Self::MissingClaim(c) => write!(f, "missing `{c}` claim"),
            Self::NotYetValid => f.write_str("token not yet valid"),
            Self::Payload(e) => write!(f, "invalid payload: {e}"),
            Self::Revoked => f.write_str("token revoked"),
            Self::Signature => f.write_str("MAC tag mismatch"),
            Self::Subject => f.write_str("subject not accepted"),
            Self::TooOld => f.write_str("token too old"),
        }
    }
}

impl core::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Payload(e) => Some(e),
            _ => None,
        }
    }
}

/// Any tokenstile JWT error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// See [`DecodeError`].
    Decode(DecodeError),
    /// See [`EncodeError`].
    Encode(EncodeError),
    /// See [`KeyError`].
    Key(KeyError),
    /// See [`VerifyError`].
    Verify(VerifyError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::Encode(e) => e.fmt(f),
            Self::Key(e) => e.fmt(f),
            Self::Verify(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::Encode(e) => Some(e),
            Self::Key(e) => Some(e),
            Self::Verify(e) => Some(e),
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        Self::Verify(e)
    }
}

impl Error {
    /// Whether the token should be answered as "not authenticated" rather than "bad
    /// request": true for every error caused by the token, false for caller mistakes
    /// (a weak key, a buffer too small). A buffer too small is the caller's mistake only
    /// as long as [`Validation::max_token_len`](crate::jwt::Validation::max_token_len)
    /// is at most its length: set it so, and a token too long for the buffer is
    /// [`DecodeError::TooLong`], which is rejected.
    #[must_use]
    pub const fn is_token_rejected(&self) -> bool {
        !matches!(
            self,
            Self::Key(_)
                | Self::Encode(_)
                | Self::Decode(DecodeError::BufferTooSmall)
                | Self::Verify(VerifyError::BufferTooSmall)
        )
    }
}
