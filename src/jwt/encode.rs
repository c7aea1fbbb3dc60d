//! Signing: claims in, compact JWS out.

use serde::Serialize;

use crate::b64;
use crate::error::EncodeError;
use crate::jwt::header::{self, Header};
use crate::jwt::key::SigningKey;

mod writer;

/// Signs `claims` with `key` and writes the compact token into `out`.
///
/// The header is `{"alg":"HS256","typ":"JWT"}`, plus `"kid"` when `key` is a
/// [`KeyRing`](crate::jwt::KeyRing); [`sign_with`] writes another `typ` or none. The claims
/// are written straight into `out` as the canonical JSON that [`verify`](crate::jwt::verify)
/// reads, by a serializer that refuses, as it writes, anything verification would not
/// accept: a value that is not an object, duplicate member names, nesting deeper than
/// [`Validation::DEFAULT_MAX_DEPTH`](crate::jwt::Validation::DEFAULT_MAX_DEPTH), more than
/// 128 member names open at once. Nothing is allocated.
///
/// Size `out` with [`encoded_len`] once the claims' JSON length is known; a buffer as long
/// as the expected token plus a little slack works in practice.
///
/// # Errors
///
/// - [`EncodeError::BufferTooSmall`] if the token does not fit in `out`;
/// - [`EncodeError::Serialize`] if the claims do not serialize to a JSON object that
///   verification would accept, or hold a value that is not written (a `char`, an enum
///   variant with unnamed fields, a map key that is not a string), or their `Serialize`
///   impl fails;
/// - [`EncodeError::InvalidClaim`] if a registered claim of the claims set has a type or
///   value that [`verify`](crate::jwt::verify) refuses: a `NumericDate` (`exp`, `nbf`,
///   `iat`) that is not an integer from 0 to `i64::MAX` (an `Option` written as `null`
///   included: skip it with `#[serde(skip_serializing_if = "Option::is_none")]`), an
///   `iss`, `sub`, `jti` or `sid` that is not a string, an `aud` that is neither a string
///   nor an array of strings without NUL. Such a token could never be verified;
/// - [`EncodeError::Key`] if `key` has no signing key.
pub fn sign<'o, C, K>(key: &K, claims: &C, out: &'o mut [u8]) -> Result<&'o str, EncodeError>
where
    C: Serialize + ?Sized,
    K: SigningKey + ?Sized,
{
    sign_with(key, &Header::new(), claims, out)
}

/// Signs `claims` as [`sign`] does, with the header's `typ` chosen by `header`.
///
/// ```
/// use tokenstile::jwt::{self, Header, Hs256Key, Validation};
/// use tokenstile::UnixTime;
///
/// #[derive(serde::Serialize)]
/// struct Access<'a> { sub: &'a str, exp: u64 }
///
/// let key = Hs256Key::new_from_slice(&[7u8; 32])?;
/// let mut out = [0u8; 256];
/// let token = jwt::sign_with(&key, &Header::new().with_typ("at+jwt"),
///                            &Access { sub: "alice", exp: 2_000_000_000 }, &mut out)?;
///
/// // Only a policy that asks for `at+jwt` accepts it.
/// let now = UnixTime::from_secs(1_900_000_000);
/// let mut scratch = [0u8; 256];
/// let policy = Validation::new().with_typ("at+jwt");
/// assert!(jwt::verify::<serde::de::IgnoredAny, _>(&key, token, &policy, now, &mut scratch).is_ok());
/// assert!(jwt::verify::<serde::de::IgnoredAny, _>(&key, token, &Validation::new(), now, &mut scratch).is_err());
/// # Ok::<(), tokenstile::Error>(())
/// ```
///
/// # Errors
///
/// As [`sign`], and [`EncodeError::Header`] if `header.typ` is empty, longer than
/// [`Header::MAX_TYP_LEN`], or holds a byte outside printable ASCII, `"` or `\`.
pub fn sign_with<'o, C, K>(
    key: &K,
    header: &Header<'_>,
    claims: &C,
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError>
where
    C: Serialize + ?Sized,
    K: SigningKey + ?Sized,
{
    let (key, kid) = key.signing_key().map_err(|_| EncodeError::Key)?;

    // 1. The header, encoded at the front of `out`: the one for a bare key and the default
    //    `typ` is a constant.
    let header_b64_len = if kid.is_none() && header.typ == Header::new().typ {
        let encoded = header::SIGNED_WITHOUT_KID_B64;
        out.get_mut(..encoded.len())
            .ok_or(EncodeError::BufferTooSmall)?
            .copy_from_slice(encoded);
        encoded.len()
    } else {
        let mut header_json = [0u8; header::MAX_SIGNED_HEADER_LEN];
        let header_len = header::write(header, kid, &mut header_json).ok_or(EncodeError::Header)?;
        let header_json = header_json.get(..header_len).unwrap_or_default();
        let header_b64_len = b64::encoded_len(header_len).ok_or(EncodeError::BufferTooSmall)?;
        let dst = out
            .get_mut(..header_b64_len)
            .ok_or(EncodeError::BufferTooSmall)?;
        b64::encode(header_json, dst).map_err(|_| EncodeError::BufferTooSmall)?;
        header_b64_len
    };
    *out.get_mut(header_b64_len)
        .ok_or(EncodeError::BufferTooSmall)? = b'.';
    let payload_start = header_b64_len
        .checked_add(1)
        .ok_or(EncodeError::BufferTooSmall)?;

    // 2. The claims JSON, written after the header and encoded there in place, back to
    //    front (see `b64::encode_in_place`).
    let room_end = out
        .len()
        .checked_sub(SIGNATURE_PART_LEN)
        .ok_or(EncodeError::BufferTooSmall)?;
    let room = out
        .get_mut(payload_start..room_end)
        .ok_or(EncodeError::BufferTooSmall)?;
    // Written canonical and checked as it is written (see `writer`), so never re-read.
    let json_len = writer::write(claims, room).map_err(|e| match e {
        writer::WriteError::Full => EncodeError::BufferTooSmall,
        writer::WriteError::Unsupported => EncodeError::Serialize,
        writer::WriteError::Registered(claim) => EncodeError::InvalidClaim(claim),
    })?;
    let payload_b64_len = b64::encoded_len(json_len).ok_or(EncodeError::BufferTooSmall)?;
    if payload_b64_len > room.len() {
        return Err(EncodeError::BufferTooSmall);
    }
    b64::encode_in_place(room, json_len).map_err(|_| EncodeError::BufferTooSmall)?;

    // 3. The MAC over `header.payload`, then `.signature`.
    let signing_input_len = payload_start.saturating_add(payload_b64_len);
    let signing_input = out
        .get(..signing_input_len)
        .ok_or(EncodeError::BufferTooSmall)?;
    let tag = key.tag(signing_input);
    let sig_start = signing_input_len.saturating_add(1);
    let token_len = sig_start.saturating_add(SIGNATURE_B64_LEN);
    *out.get_mut(signing_input_len)
        .ok_or(EncodeError::BufferTooSmall)? = b'.';
    let sig_dst = out
        .get_mut(sig_start..token_len)
        .ok_or(EncodeError::BufferTooSmall)?;
    b64::encode(&tag, sig_dst).map_err(|_| EncodeError::BufferTooSmall)?;

    let token = out.get(..token_len).ok_or(EncodeError::BufferTooSmall)?;
    // Every byte written is base64url or `.`.
    core::str::from_utf8(token).map_err(|_| EncodeError::Serialize)
}

/// The length of the token that [`sign`] writes for claims whose JSON is `claims_json_len`
/// bytes long, signed with `key`.
///
/// # Errors
///
/// [`EncodeError::Key`] if `key` has no signing key.
pub fn encoded_len<K: SigningKey + ?Sized>(
    key: &K,
    claims_json_len: usize,
) -> Result<usize, EncodeError> {
    encoded_len_with(key, &Header::new(), claims_json_len)
}

/// The length of the token that [`sign_with`] writes with `header` for claims whose JSON
/// is `claims_json_len` bytes long, signed with `key`.
///
/// # Errors
///
/// [`EncodeError::Key`] if `key` has no signing key, [`EncodeError::Header`] if `header`
/// would be refused by [`sign_with`].
pub fn encoded_len_with<K: SigningKey + ?Sized>(
    key: &K,
    header: &Header<'_>,
    claims_json_len: usize,
) -> Result<usize, EncodeError> {
    let (_, kid) = key.signing_key().map_err(|_| EncodeError::Key)?;
    let mut header_json = [0u8; header::MAX_SIGNED_HEADER_LEN];
    let header_len = header::write(header, kid, &mut header_json).ok_or(EncodeError::Header)?;
    b64::encoded_len(header_len)
        .and_then(|h| h.checked_add(1))
        .and_then(|n| n.checked_add(b64::encoded_len(claims_json_len)?))
        .and_then(|n| n.checked_add(SIGNATURE_PART_LEN))
        .ok_or(EncodeError::BufferTooSmall)
}

/// Signs `claims` into a new `String` (feature `alloc`).
///
/// # Errors
///
/// As [`sign`]; [`EncodeError::BufferTooSmall`] only for a token longer than 16 MiB,
/// where it stops growing its buffer.
#[cfg(feature = "alloc")]
pub fn sign_to_string<C, K>(key: &K, claims: &C) -> Result<alloc::string::String, EncodeError>
where
    C: Serialize + ?Sized,
    K: SigningKey + ?Sized,
{
    sign_with_to_string(key, &Header::new(), claims)
}

/// Signs `claims` into a new `String`, with the header's `typ` chosen by `header`, as
/// [`sign_with`] does (feature `alloc`).
///
/// # Errors
///
/// As [`sign_with`]; [`EncodeError::BufferTooSmall`] only for a token longer than 16 MiB,
/// where it stops growing its buffer.
#[cfg(feature = "alloc")]
pub fn sign_with_to_string<C, K>(
    key: &K,
    header: &Header<'_>,
    claims: &C,
) -> Result<alloc::string::String, EncodeError>
where
    C: Serialize + ?Sized,
    K: SigningKey + ?Sized,
{
    let mut capacity = 512usize;
    loop {
        let mut buf = alloc::vec![0u8; capacity];
        match sign_with(key, header, claims, &mut buf) {
            Ok(token) => return Ok(alloc::string::String::from(token)),
            Err(EncodeError::BufferTooSmall) if capacity < MAX_STRING_TOKEN_LEN => {
                capacity = capacity.saturating_mul(2);
            }
            Err(e) => return Err(e),
        }
    }
}

/// `.` plus 43 characters of signature.
const SIGNATURE_PART_LEN: usize = 1 + SIGNATURE_B64_LEN;
/// 32 bytes of HMAC-SHA-256 in unpadded base64url.
pub(crate) const SIGNATURE_B64_LEN: usize = 43;
/// [`sign_to_string`] gives up beyond this size.
#[cfg(feature = "alloc")]
const MAX_STRING_TOKEN_LEN: usize = 1 << 24;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde::Serialize;

    use super::*;
    use crate::jwt::Hs256Key;

    fn sign_claims<C: Serialize>(claims: &C) -> Result<usize, EncodeError> {
        let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
        let mut out = [0u8; 512];
        sign(&key, claims, &mut out).map(str::len)
    }

    #[derive(Serialize)]
    enum Role {
        Admin,
        Scoped { tenant: u32 },
        Named(&'static str),
        Pair(u8, u8),
    }

    #[derive(Serialize)]
    struct WithRole {
        exp: u64,
        role: Role,
    }

    #[test]
    fn types_the_serializer_would_panic_on_are_refused() {
        #[derive(Serialize)]
        struct WithChar {
            exp: u64,
            initial: char,
        }
        assert_eq!(
            sign_claims(&WithChar {
                exp: 1,
                initial: 'a'
            }),
            Err(EncodeError::Serialize)
        );
        let pair = WithRole {
            exp: 1,
            role: Role::Pair(1, 2),
        };
        assert_eq!(sign_claims(&pair), Err(EncodeError::Serialize));
        let nested = [Some([WithRole {
            exp: 1,
            role: Role::Pair(1, 2),
        }])];
        assert_eq!(sign_claims(&(nested,)), Err(EncodeError::Serialize));
    }

    #[test]
    fn other_enum_shapes_are_signed() {
        for role in [Role::Admin, Role::Scoped { tenant: 7 }, Role::Named("x")] {
            assert!(sign_claims(&WithRole { exp: 1, role }).is_ok());
        }
    }

    #[test]
    fn claims_that_are_not_a_json_object_are_refused() {
        assert_eq!(sign_claims(&[1u8, 2]), Err(EncodeError::Serialize));
        assert_eq!(sign_claims(&"exp"), Err(EncodeError::Serialize));
        // A map whose keys are not strings is not JSON.
        let mut map = heapless::LinearMap::<u8, u8, 2>::new();
        map.insert(1, 2).unwrap();
        assert_eq!(sign_claims(&map), Err(EncodeError::Serialize));
    }

    #[test]
    fn registered_claims_of_a_type_verify_refuses_are_not_signed() {
        use crate::error::Claim;
        use serde_json::json;
        let refused = [
            (json!({"exp": 9_223_372_036_854_775_808u64}), Claim::Exp),
            (json!({"exp": "1"}), Claim::Exp),
            (json!({"nbf": 1.5}), Claim::Nbf),
            (json!({"iat": -1}), Claim::Iat),
            (json!({"exp": null}), Claim::Exp),
            (json!({"iss": 1}), Claim::Iss),
            (json!({"sub": ["a"]}), Claim::Sub),
            (json!({"jti": {"a": 1}}), Claim::Jti),
            (json!({"jti": {"a": "x"}}), Claim::Jti),
            (json!({"sub": {"a": {"b": "x"}}}), Claim::Sub),
            (json!({"aud": [["a"]]}), Claim::Aud),
            (json!({"aud": {"x": "a"}}), Claim::Aud),
            (json!({"iat": [1]}), Claim::Iat),
            (json!({"sid": true}), Claim::Sid),
            (json!({"aud": 1}), Claim::Aud),
            (json!({"aud": ["a", 1]}), Claim::Aud),
            (json!({"aud": ["a", "\u{0}"]}), Claim::Aud),
        ];
        for (claims, claim) in refused {
            assert_eq!(
                sign_claims(&claims),
                Err(EncodeError::InvalidClaim(claim)),
                "{claims}"
            );
        }
        let accepted = [
            json!({"exp": 9_223_372_036_854_775_807u64, "nbf": 0, "iat": 1}),
            json!({"iss": "i", "sub": "", "jti": "j", "sid": "s\"q"}),
            json!({"aud": "a"}),
            // One audience may hold NUL (verification reads it whole); an element of an
            // array may not (verification joins them with NUL).
            json!({"aud": "a\u{0}b"}),
            json!({"aud": []}),
            json!({"aud": ["a", "b\n"]}),
            // A backslash followed by `u0000` is not NUL.
            json!({"aud": "\\u0000"}),
            json!({"aud": ["x", "\\u0000"]}),
            // Only the claims set's own members are registered claims.
            json!({"nested": {"exp": "later", "aud": 1}}),
            json!({"sub": "a", "exp": 1, "x": [{"iat": null}]}),
        ];
        for claims in accepted {
            assert!(sign_claims(&claims).is_ok(), "{claims}");
        }
    }
}
