//! Verification: compact JWS in, authenticated and validated claims out.

use serde::Deserialize;

use crate::b64;
use crate::bytes;
use crate::error::{Claim, DecodeError, Error, VerifyError};
use crate::jwt::claims::{Audience, RegisteredClaims};
use crate::jwt::encode::SIGNATURE_B64_LEN;
use crate::jwt::header;
use crate::jwt::json::{self, JsonStr, Value};
use crate::jwt::key::{Hs256Key, VerifyingKeys};
use crate::jwt::validation::Validation;
use crate::time::UnixTime;

/// A token whose MAC matched and whose claims passed the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified<'s, T> {
    /// The caller's claims type, deserialized from the authenticated payload.
    pub claims: T,
    /// The registered claims, already checked against the policy.
    pub registered: RegisteredClaims<'s>,
}

/// Verifies a compact HS256 token and returns its claims.
///
/// The steps, each failing closed:
///
/// 1. the token is at most [`Validation::max_token_len`] bytes and has exactly three
///    `.`-separated segments;
/// 2. each segment is canonical unpadded base64url (no padding, whitespace, `+` or `/`,
///    and no non-zero unused bits);
/// 3. the header is a strict JSON object with `alg` exactly `"HS256"`, no `crit`, no `enc`,
///    an accepted `typ`, and a `kid` that `keys` knows;
/// 4. the signature segment is 43 characters (32 bytes), and the MAC is compared with it
///    in constant time over the `header.payload` bytes as received;
/// 5. **only then** is the payload read: it must be a strict JSON object (no duplicate
///    members even after unescaping, nesting within [`Validation::max_depth`]);
/// 6. the registered claims must have the right JSON types (a `NumericDate` is an integer
///    from 0 to `i64::MAX`) and pass the policy at `now`;
/// 7. the payload is deserialized into `T`, whose borrowed strings point into `scratch`.
///
/// `scratch` holds the decoded header, then the payload, then copies of the registered
/// string claims that need them (escaped strings, the elements of an `aud` array) and the
/// unescaped copies of `T`'s escaped strings. A buffer as long as the token is enough when no string in the
/// payload is escaped and `aud` is not an array; three times the token's length is always
/// enough. A buffer too small is [`DecodeError::BufferTooSmall`] or
/// [`VerifyError::BufferTooSmall`], never a wrong answer.
///
/// `T` borrows its strings from `scratch`: a `&'s str` field reads any string without
/// copying it, from the canonical payload when the string has no escapes, otherwise from a
/// copy unescaped into the spare space after the payload.
///
/// # Errors
///
/// [`Error::Decode`] for a malformed token or refused header, [`Error::Verify`] for a bad
/// MAC, a malformed payload or a claim that fails the policy.
pub fn verify<'s, T, K>(
    keys: &K,
    token: &str,
    policy: &Validation<'_>,
    now: UnixTime,
    scratch: &'s mut [u8],
) -> Result<Verified<'s, T>, Error>
where
    T: Deserialize<'s>,
    K: VerifyingKeys + ?Sized,
{
    if token.len() > policy.max_token_len {
        return Err(DecodeError::TooLong.into());
    }
    let segments = Segments::split(token)?;
    // Until the payload has decoded, every error defers to a stray `.` (see `Segments`).
    let (key, tag, payload_len) =
        authenticate_inputs(keys, &segments, policy, scratch).map_err(|e| segments.settle(e))?;
    let Segments {
        header: header_b64,
        payload: payload_b64,
        ..
    } = segments;
    let token = token.as_bytes();

    let signing_input_len = header_b64
        .len()
        .saturating_add(1)
        .saturating_add(payload_b64.len());
    let signing_input = token.get(..signing_input_len).unwrap_or_default();
    if !key.verify_tag(signing_input, &tag) {
        return Err(VerifyError::Signature.into());
    }

    // Authenticated from here on. One pass validates the payload and notes where the
    // registered claims' values are: for a flat object already in canonical form (the
    // common case) a reader of that shape alone, otherwise the canonicalizer, which also
    // rewrites the payload in canonical form. Both give the same verdicts (see
    // `json::read_flat`).
    let (payload, rest) = scratch.split_at_mut(payload_len.min(scratch.len()));
    // Built here rather than copied from a constant, which would put its mostly zero
    // bytes in flash.
    let mut captures = json::Captures::new(registered_index);
    let payload: &'s [u8] = if json::read_flat(payload, policy.max_depth, &mut captures) {
        payload
    } else {
        captures.clear();
        let canonical_len = json::canonicalize_capturing(payload, policy.max_depth, &mut captures)
            .map_err(VerifyError::Payload)?;
        let payload: &'s [u8] = payload;
        payload.get(..canonical_len).unwrap_or_default()
    };

    // The canonical payload is UTF-8 if the input was (the canonicalizer checks that first,
    // and the rewrite keeps it so; the flat reader leaves it to this check, which gives the
    // canonicalizer's verdict). On ASCII words for most payloads. From here on strings are
    // cut out of `text` at quotes, never validated again.
    let text = core::str::from_utf8(payload)
        .map_err(|_| VerifyError::Payload(crate::JsonError::InvalidUtf8))?;

    let mut rest = rest;
    let registered = registered_claims(text, &captures, &mut rest)?;
    policy.check(&registered, now)?;

    let claims =
        json::from_canonical::<T>(text, captures.outline(), rest).map_err(|e| match e {
            json::DeError::BufferTooSmall => VerifyError::BufferTooSmall,
            json::DeError::Claims => VerifyError::Claims,
        })?;
    Ok(Verified { claims, registered })
}

/// The steps before the MAC check: the header and its key, the signature's 32 bytes, and
/// the payload decoded into the front of `scratch` (its length is returned).
fn authenticate_inputs<'k, K>(
    keys: &'k K,
    segments: &Segments<'_>,
    policy: &Validation<'_>,
    scratch: &mut [u8],
) -> Result<(&'k Hs256Key, [u8; 32], usize), Error>
where
    K: VerifyingKeys + ?Sized,
{
    // The header, decoded into the scratch buffer, which the payload reuses afterwards.
    let key = if policy.typ.is_none() && bytes::eq(segments.header, header::SIGNED_WITHOUT_KID_B64)
    {
        // The header `sign` writes for a bare key, still encoded: no decoding needed.
        keys.verifying_key(None)?
    } else {
        let decoded = decode_b64(segments.header, scratch).map_err(Error::Decode)?;
        // Headers exactly as `sign` writes them pass every check below; recognizing them
        // byte for byte skips the JSON reader on the common path.
        let kid = match header::recognize_signed(decoded, policy.typ) {
            Some(kid) => kid,
            None => {
                let canonical_len =
                    json::canonicalize(decoded, policy.max_depth).map_err(DecodeError::Header)?;
                let canonical = decoded.get(..canonical_len).unwrap_or_default();
                header::check(canonical, policy.typ)?.kid
            }
        };
        keys.verifying_key(kid)?
    };

    // The signature segment: exactly 43 characters, 32 bytes once decoded. Any other
    // length is a malformed token, not a MAC that failed to match.
    let mut tag = [0u8; 32];
    if segments.signature.len() != SIGNATURE_B64_LEN {
        return Err(DecodeError::SignatureLength.into());
    }
    b64::decode(segments.signature, &mut tag).map_err(|_| DecodeError::Base64)?;

    // The payload is decoded before the MAC check only so that its encoding is judged the
    // same way whatever the MAC; it is not parsed until the MAC matches.
    let payload_len = decode_b64(segments.payload, scratch)
        .map_err(Error::Decode)?
        .len();
    Ok((key, tag, payload_len))
}

/// The three segments of a compact token, still encoded.
///
/// Splitting looks for the first `.` and, where a well-formed token has its second one
/// (just before the 43-character signature), checks that one byte; a `.` anywhere else in
/// the payload or the signature is found only if decoding them fails, since `.` is not a
/// base64url character. [`settle`](Self::settle) then turns that failure, or any earlier
/// one, into [`DecodeError::Segments`], so the verdict is that of an exact split, while
/// a token that decodes is never scanned for dots twice.
struct Segments<'t> {
    header: &'t [u8],
    payload: &'t [u8],
    signature: &'t [u8],
    /// The payload and signature were cut at the expected place, not searched for dots.
    unsearched: bool,
}

impl<'t> Segments<'t> {
    fn split(token: &'t str) -> Result<Self, DecodeError> {
        let token = token.as_bytes();
        let dot = first_dot(token).ok_or(DecodeError::Segments)?;
        let (header, rest) = token.split_at_checked(dot).ok_or(DecodeError::Segments)?;
        let rest = rest.get(1..).unwrap_or_default();
        // `payload.signature`, the signature the length `sign` writes.
        if let Some(cut) = rest.len().checked_sub(SIGNATURE_B64_LEN + 1)
            && rest.get(cut) == Some(&b'.')
        {
            return Ok(Self {
                header,
                payload: rest.get(..cut).unwrap_or_default(),
                signature: rest.get(cut.saturating_add(1)..).unwrap_or_default(),
                unsearched: true,
            });
        }
        let dot = first_dot(rest).ok_or(DecodeError::Segments)?;
        let (payload, signature) = rest.split_at_checked(dot).ok_or(DecodeError::Segments)?;
        let signature = signature.get(1..).unwrap_or_default();
        if first_dot(signature).is_some() {
            return Err(DecodeError::Segments);
        }
        Ok(Self {
            header,
            payload,
            signature,
            unsearched: false,
        })
    }

    /// The verdict for a token that failed before its payload decoded: `error`, unless a
    /// `.` that splitting did not look for makes it a token of more than three segments.
    fn settle(&self, error: Error) -> Error {
        if self.unsearched
            && (first_dot(self.payload).is_some() || first_dot(self.signature).is_some())
        {
            DecodeError::Segments.into()
        } else {
            error
        }
    }
}

/// The index of the first `.` in `bytes`: a machine word at a time, or a byte at a time
/// where [`json::BYTE_LOOPS`] says so.
fn first_dot(bytes: &[u8]) -> Option<usize> {
    if json::BYTE_LOOPS {
        return bytes.iter().position(|&b| b == b'.');
    }
    const WIDTH: usize = size_of::<usize>();
    const LANES: usize = usize::MAX / 0xff;
    const HIGH: usize = LANES.wrapping_mul(0x80);
    let (words, tail) = bytes.as_chunks::<WIDTH>();
    for (i, word) in words.iter().enumerate() {
        // A lane is zero where the byte is `.`; the lowest such lane is found exactly (a
        // borrow only ever reaches lanes above it).
        let v = usize::from_le_bytes(*word) ^ LANES.wrapping_mul(usize::from(b'.'));
        let found = v.wrapping_sub(LANES) & !v & HIGH;
        if found != 0 {
            let lane = usize::try_from(found.trailing_zeros() / 8).unwrap_or(0);
            return Some(i.wrapping_mul(WIDTH).saturating_add(lane));
        }
    }
    let at = words.len().wrapping_mul(WIDTH);
    tail.iter()
        .position(|&b| b == b'.')
        .map(|i| at.saturating_add(i))
}

/// Decodes one base64url segment into the front of `scratch`.
fn decode_b64<'b>(segment: &[u8], scratch: &'b mut [u8]) -> Result<&'b mut [u8], DecodeError> {
    // Unpadded base64: 4 characters per 3 bytes; a final group of 2 or 3 characters holds
    // 1 or 2 bytes, and a final group of 1 character is never valid.
    let len = b64::decoded_len(segment.len()).ok_or(DecodeError::Base64)?;
    let dst = scratch.get_mut(..len).ok_or(DecodeError::BufferTooSmall)?;
    b64::decode(segment, dst).map_err(|_| DecodeError::Base64)?;
    Ok(dst)
}

/// How many registered claims there are: indices `0..REGISTERED_CLAIMS` (see
/// [`registered_claim`]).
const REGISTERED_CLAIMS: usize = 8;

/// The index of a registered claim's name, in the order [`registered_claims`] matches
/// them; `None` for any other name. Canonical names have one spelling, so comparing bytes
/// is comparing names.
///
/// A `match`, which compiles to a few comparisons of the length and the bytes, except
/// where [`json::BYTE_LOOPS`] says so: there a search through [`registered_claim`]'s
/// names, the smaller code (the writer and the readers each had the `match` inlined).
pub(super) fn registered_index(name: &[u8]) -> Option<usize> {
    if json::BYTE_LOOPS {
        return (0..REGISTERED_CLAIMS)
            .position(|i| bytes::eq(registered_claim(i).name().as_bytes(), name));
    }
    match name {
        b"iss" => Some(0),
        b"sub" => Some(1),
        b"jti" => Some(2),
        b"sid" => Some(3),
        b"exp" => Some(4),
        b"nbf" => Some(5),
        b"iat" => Some(6),
        b"aud" => Some(7),
        _ => None,
    }
}

/// The registered claim at `index` (see [`registered_index`]).
pub(super) const fn registered_claim(index: usize) -> Claim {
    match index {
        0 => Claim::Iss,
        1 => Claim::Sub,
        2 => Claim::Jti,
        3 => Claim::Sid,
        4 => Claim::Exp,
        5 => Claim::Nbf,
        6 => Claim::Iat,
        _ => Claim::Aud,
    }
}

/// Checks that `raw`, the canonical JSON of one value, has the type and range that
/// [`registered_claims`] requires of the registered claim at `index` (see
/// [`registered_index`]): what `sign` checks before it signs, so that it never writes a
/// token that verification refuses for a claim's type.
pub(super) fn check_registered(index: usize, raw: &[u8]) -> Result<(), Claim> {
    let claim = registered_claim(index);
    // `raw` is one complete value as the claims writer wrote it, so its first byte tells
    // its type; only a date's digits and the elements of an `aud` array (which may not
    // hold NUL, see `audience_claim`) need a closer look.
    let ok = match claim {
        Claim::Exp | Claim::Nbf | Claim::Iat => time_claim(Value::Number(raw), claim).is_ok(),
        Claim::Iss | Claim::Sub | Claim::Jti | Claim::Sid => raw.first() == Some(&b'"'),
        _ => match raw.first() {
            Some(b'"') => true,
            Some(b'[') => json::elements(raw)
                .all(|element| matches!(element, Value::String(s) if !s.contains_nul())),
            _ => false,
        },
    };
    if ok { Ok(()) } else { Err(claim) }
}

/// Types the registered claims found by the payload's reader, in the order they appear in the
/// payload, unescaping strings into `spare` when they need it. A claim of the wrong JSON
/// type is an error, never absent.
fn registered_claims<'s>(
    text: &'s str,
    captures: &json::Captures,
    spare: &mut &'s mut [u8],
) -> Result<RegisteredClaims<'s>, VerifyError> {
    const SYNTAX: VerifyError = VerifyError::Payload(crate::JsonError::Syntax);
    let mut claims = RegisteredClaims::default();
    for (name, range, placed) in captures.found() {
        let raw = text.get(range).ok_or(SYNTAX)?;
        // The common cases straight from the canonical text: a string without escapes,
        // and a number. A placed string has none; any other is looked at.
        let plain = match raw.as_bytes() {
            [b'"', .., b'"'] => raw.get(1..raw.len().saturating_sub(1)),
            _ => None,
        }
        .filter(|content| placed || json::string_run(content.as_bytes()).is_none());
        let value = || {
            json::split_value(raw.as_bytes())
                .filter(|(_, after)| after.is_empty())
                .map(|(value, _)| value)
                .ok_or(SYNTAX)
        };
        let string = |claim, spare: &mut &'s mut [u8]| match plain {
            Some(content) => Ok(content),
            None => string_claim(value()?, claim, spare),
        };
        // A number's range is exactly the number; any other value is not one.
        let time = |claim| time_claim(Value::Number(raw.as_bytes()), claim);
        match registered_claim(name) {
            claim @ Claim::Iss => claims.iss = Some(string(claim, spare)?),
            claim @ Claim::Sub => claims.sub = Some(string(claim, spare)?),
            claim @ Claim::Jti => claims.jti = Some(string(claim, spare)?),
            claim @ Claim::Sid => claims.sid = Some(string(claim, spare)?),
            claim @ Claim::Exp => claims.exp = Some(time(claim)?),
            claim @ Claim::Nbf => claims.nbf = Some(time(claim)?),
            claim @ Claim::Iat => claims.iat = Some(time(claim)?),
            Claim::Aud => {
                claims.aud = Some(match plain {
                    Some(content) => Audience::One(content),
                    None => audience_claim(value()?, spare)?,
                });
            }
        }
    }
    Ok(claims)
}

fn string_claim<'s>(
    value: Value<'s>,
    claim: Claim,
    spare: &mut &'s mut [u8],
) -> Result<&'s str, VerifyError> {
    match value {
        Value::String(s) => unescape(s, spare),
        _ => Err(VerifyError::InvalidClaim(claim)),
    }
}

/// A `NumericDate`: only integers from 0 to `i64::MAX` are accepted. Fractions, exponents
/// and negative values are refused rather than rounded, and so are values beyond `i64`,
/// which most other implementations hold dates in and would read differently (as an
/// error, a wrapped negative time or a rounded float).
fn time_claim(value: Value<'_>, claim: Claim) -> Result<UnixTime, VerifyError> {
    const MAX: u64 = i64::MAX.unsigned_abs();
    match value {
        Value::Number(n) => json::parse_u64(n)
            .filter(|&secs| secs <= MAX)
            .map(UnixTime::from_secs)
            .ok_or(VerifyError::InvalidClaim(claim)),
        _ => Err(VerifyError::InvalidClaim(claim)),
    }
}

fn audience_claim<'s>(
    value: Value<'s>,
    spare: &mut &'s mut [u8],
) -> Result<Audience<'s>, VerifyError> {
    const INVALID: VerifyError = VerifyError::InvalidClaim(Claim::Aud);
    match value {
        Value::String(s) => Ok(Audience::One(unescape(s, spare)?)),
        Value::Array(array) => {
            // Each element is written to `spare` followed by a NUL; an element holding NUL
            // is refused, so the terminators are unambiguous.
            let mut len = 0usize;
            for element in json::elements(array) {
                let Value::String(s) = element else {
                    return Err(INVALID);
                };
                len = len
                    .checked_add(s.unescaped_len())
                    .and_then(|n| n.checked_add(1))
                    .ok_or(VerifyError::BufferTooSmall)?;
            }
            let (joined, tail) = core::mem::take(spare)
                .split_at_mut_checked(len)
                .ok_or(VerifyError::BufferTooSmall)?;
            *spare = tail;
            let mut at = 0usize;
            for element in json::elements(array) {
                let Value::String(s) = element else {
                    return Err(INVALID);
                };
                let dst = joined.get_mut(at..).ok_or(INVALID)?;
                let text = s.unescape_into(dst).ok_or(INVALID)?;
                // A byte loop rather than `str::contains`, which would link `memchr`.
                if text.bytes().any(|b| b == 0) {
                    return Err(INVALID);
                }
                at = at.saturating_add(text.len());
                *joined.get_mut(at).ok_or(INVALID)? = 0;
                at = at.saturating_add(1);
            }
            let joined: &'s [u8] = joined;
            let joined = core::str::from_utf8(joined).map_err(|_| INVALID)?;
            Ok(Audience::Many(joined))
        }
        _ => Err(INVALID),
    }
}

/// The unescaped text of a canonical string: borrowed from the payload when it has no
/// escapes, otherwise written into the front of `spare`.
fn unescape<'s>(s: JsonStr<'s>, spare: &mut &'s mut [u8]) -> Result<&'s str, VerifyError> {
    if let Some(plain) = s.plain() {
        // The payload was checked to be UTF-8 as a whole, so this cannot fail; the check
        // is on the few strings handed out, not on every string read.
        return core::str::from_utf8(plain)
            .map_err(|_| VerifyError::Payload(crate::JsonError::InvalidUtf8));
    }
    s.unescape_to(spare).ok_or(VerifyError::BufferTooSmall)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate alloc;

    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::{REGISTERED_CLAIMS, first_dot, registered_claim, registered_index};

    /// Each registered name has its index in the table, whichever form `registered_index`
    /// takes on the target (the i686 tests run the table's), and that index names the same
    /// claim; near misses have none.
    #[test]
    fn registered_names_and_indices_agree() {
        let names = [
            b"iss", b"sub", b"jti", b"sid", b"exp", b"nbf", b"iat", b"aud",
        ];
        assert_eq!(names.len(), REGISTERED_CLAIMS);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(registered_index(name.as_slice()), Some(i));
            assert_eq!(registered_claim(i).name().as_bytes(), name.as_slice());
        }
        for other in [
            b"".as_slice(),
            b"is",
            b"isss",
            b"Iss",
            b"iss\0",
            b"ss",
            b"au",
            b"audience",
            b"exq",
            b"role",
        ] {
            assert_eq!(registered_index(other), None, "{other:?}");
        }
    }

    proptest! {
        /// Against a byte-at-a-time search, on bytes drawn mostly from around `.` (0x2e)
        /// and its high-bit twin, where a word-at-a-time test could be fooled by a borrow.
        #[test]
        fn first_dot_agrees_with_position(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'.'), Just(0x2f_u8), Just(0x2d_u8), Just(0xae_u8), Just(0_u8), any::<u8>()],
                0..40,
            )
        ) {
            let bytes: Vec<u8> = bytes;
            prop_assert_eq!(first_dot(&bytes), bytes.iter().position(|&b| b == b'.'));
        }
    }
}
