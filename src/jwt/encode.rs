//! Signing: claims in, compact JWS out.

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::Mac;
use serde::Serialize;

use crate::error::EncodeError;
use crate::jwt::header;
use crate::jwt::json;
use crate::jwt::key::SigningKey;

mod guard;

/// Signs `claims` with `key` and writes the compact token into `out`.
///
/// The header is `{"alg":"HS256","typ":"JWT"}`, plus `"kid"` when `key` is a
/// [`KeyRing`](crate::jwt::KeyRing). The claims are serialized with `serde-json-core`,
/// checked to be a JSON object that [`verify`](crate::jwt::verify) accepts (no duplicate
/// members, within the default nesting limit), and never leave `out`: nothing is allocated.
///
/// Size `out` with [`encoded_len`] once the claims' JSON length is known; a buffer as long
/// as the expected token plus a little slack works in practice.
///
/// # Errors
///
/// - [`EncodeError::BufferTooSmall`] if the token does not fit in `out`;
/// - [`EncodeError::Serialize`] if the claims do not serialize to a JSON object that
///   verification would accept, or hold a type the JSON serializer does not support (a
///   `char`, or an enum variant with unnamed fields);
/// - [`EncodeError::Key`] if `key` has no signing key.
pub fn sign<'o, C, K>(key: &K, claims: &C, out: &'o mut [u8]) -> Result<&'o str, EncodeError>
where
    C: Serialize + ?Sized,
    K: SigningKey + ?Sized,
{
    let (key, kid) = key.signing_key().map_err(|_| EncodeError::Key)?;

    // 1. The header, encoded at the front of `out`.
    let mut header_json = [0u8; header::MAX_SIGNED_HEADER_LEN];
    let header_len = header::write(kid, &mut header_json);
    let header_json = header_json.get(..header_len).unwrap_or_default();
    let header_b64_len = Base64UrlUnpadded::encoded_len(header_json);
    let payload_start = header_b64_len
        .checked_add(1)
        .ok_or(EncodeError::BufferTooSmall)?;
    {
        let dst = out
            .get_mut(..header_b64_len)
            .ok_or(EncodeError::BufferTooSmall)?;
        Base64UrlUnpadded::encode(header_json, dst).map_err(|_| EncodeError::BufferTooSmall)?;
        *out.get_mut(header_b64_len)
            .ok_or(EncodeError::BufferTooSmall)? = b'.';
    }

    // 2. The claims JSON, serialized after the header and then moved to the end of the room
    //    left for the payload, so it can be encoded forwards in place (see `encode_in_place`).
    let room_end = out
        .len()
        .checked_sub(SIGNATURE_PART_LEN)
        .ok_or(EncodeError::BufferTooSmall)?;
    let room = out
        .get_mut(payload_start..room_end)
        .ok_or(EncodeError::BufferTooSmall)?;
    // `serde-json-core` panics on a few types rather than failing: refuse them first.
    guard::check(claims).map_err(|_| EncodeError::Serialize)?;
    let json_len = serde_json_core::to_slice(claims, room).map_err(|e| match e {
        serde_json_core::ser::Error::BufferFull => EncodeError::BufferTooSmall,
        _ => EncodeError::Serialize,
    })?;
    let json = room
        .get_mut(..json_len)
        .ok_or(EncodeError::BufferTooSmall)?;
    let json_len = json::canonicalize(json, crate::jwt::Validation::DEFAULT_MAX_DEPTH)
        .map_err(|_| EncodeError::Serialize)?;
    let payload_b64_len = b64_len(json_len).ok_or(EncodeError::BufferTooSmall)?;
    if payload_b64_len > room.len() {
        return Err(EncodeError::BufferTooSmall);
    }
    let json_start = room.len().saturating_sub(json_len);
    room.copy_within(..json_len, json_start);
    encode_in_place(room, json_start, json_len)?;

    // 3. The MAC over `header.payload`, then `.signature`.
    let signing_input_len = payload_start.saturating_add(payload_b64_len);
    let signing_input = out
        .get(..signing_input_len)
        .ok_or(EncodeError::BufferTooSmall)?;
    let tag = key
        .mac()
        .chain_update(signing_input)
        .finalize()
        .into_bytes();
    let sig_start = signing_input_len.saturating_add(1);
    let token_len = sig_start.saturating_add(SIGNATURE_B64_LEN);
    *out.get_mut(signing_input_len)
        .ok_or(EncodeError::BufferTooSmall)? = b'.';
    let sig_dst = out
        .get_mut(sig_start..token_len)
        .ok_or(EncodeError::BufferTooSmall)?;
    Base64UrlUnpadded::encode(&tag, sig_dst).map_err(|_| EncodeError::BufferTooSmall)?;

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
    let (_, kid) = key.signing_key().map_err(|_| EncodeError::Key)?;
    let mut header_json = [0u8; header::MAX_SIGNED_HEADER_LEN];
    let header_len = header::write(kid, &mut header_json);
    b64_len(header_len)
        .and_then(|h| h.checked_add(1))
        .and_then(|n| n.checked_add(b64_len(claims_json_len)?))
        .and_then(|n| n.checked_add(SIGNATURE_PART_LEN))
        .ok_or(EncodeError::BufferTooSmall)
}

/// Signs `claims` into a new `String` (feature `alloc`).
///
/// # Errors
///
/// As [`sign`], except that the buffer is never too small.
#[cfg(feature = "alloc")]
pub fn sign_to_string<C, K>(key: &K, claims: &C) -> Result<alloc::string::String, EncodeError>
where
    C: Serialize + ?Sized,
    K: SigningKey + ?Sized,
{
    let mut capacity = 512usize;
    loop {
        let mut buf = alloc::vec![0u8; capacity];
        match sign(key, claims, &mut buf) {
            Ok(token) => return Ok(alloc::string::String::from(token)),
            Err(EncodeError::BufferTooSmall) if capacity < MAX_STRING_TOKEN_LEN => {
                capacity = capacity.saturating_mul(2);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Base64url-encodes `buf[src..src + len]` into `buf[..]`, front to back.
///
/// Input is read in chunks of 48 bytes, each copied out before its 64 output bytes are
/// written. Writing chunk `i` ends at `64(i + 1)` while the next unread byte is at
/// `src + 48(i + 1)`, so nothing unread is overwritten as long as
/// `16(i + 1) <= src` for every full chunk `i`, that is `src >= 16 * (len / 48)`. The caller
/// places the input at `src = buf.len() - len` with `buf.len() >= ceil(4 len / 3)`, so
/// `src >= ceil(len / 3) >= 16 * (len / 48)`. The final, partial chunk has nothing after it.
fn encode_in_place(buf: &mut [u8], src: usize, len: usize) -> Result<(), EncodeError> {
    const IN: usize = 48;
    const OUT: usize = 64;
    let mut chunk = [0u8; IN];
    let (mut read, mut write) = (0usize, 0usize);
    while read < len {
        let n = len.saturating_sub(read).min(IN);
        let from = src.saturating_add(read);
        let input = buf
            .get(from..from.saturating_add(n))
            .ok_or(EncodeError::BufferTooSmall)?;
        let chunk = chunk.get_mut(..n).ok_or(EncodeError::BufferTooSmall)?;
        chunk.copy_from_slice(input);
        let out_len = b64_len(n).ok_or(EncodeError::BufferTooSmall)?;
        debug_assert!(n < IN || out_len == OUT);
        let end = write.saturating_add(out_len);
        debug_assert!(end <= from.saturating_add(n) || read.saturating_add(n) == len);
        let dst = buf.get_mut(write..end).ok_or(EncodeError::BufferTooSmall)?;
        Base64UrlUnpadded::encode(chunk, dst).map_err(|_| EncodeError::BufferTooSmall)?;
        read = read.saturating_add(n);
        write = end;
    }
    Ok(())
}

/// Unpadded base64 length of `n` bytes: `ceil(4n / 3)`.
fn b64_len(n: usize) -> Option<usize> {
    let full = (n / 3).checked_mul(4)?;
    Some(full.saturating_add(match n % 3 {
        0 => 0,
        1 => 2,
        _ => 3,
    }))
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
}
