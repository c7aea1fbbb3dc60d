//! Unpadded base64url ([RFC 4648 §5]), eight characters at a time, in constant time.
//!
//! The one codec of the crate: JWT segments, session IDs, refresh tokens and session
//! handles. Token bytes are secret-adjacent (a payload may carry personal data, and the
//! signature is compared against a secret MAC), and session IDs are secrets, so neither
//! direction looks anything up in a table or
//! branches on a character: each 64-bit word holds eight characters (or the six bytes they
//! stand for), and every lane is classified and converted with the same additions, masks
//! and shifts (SWAR, "SIMD within a register"). A segment's only data-dependent outcome is
//! the final accept or refuse.
//!
//! Decoding is as strict as `base64ct`'s `Base64UrlUnpadded`, which stays in the test suite
//! and in the `base64_differential` fuzz target as the reference: no padding, no
//! whitespace, no `+` or `/`, no final group of one character, and no non-zero unused bits
//! in the last character. On a token it takes about 17 instructions per character on
//! x86-64, against about 30 for `base64ct`, which decodes one character at a time.
//!
//! [RFC 4648 §5]: https://www.rfc-editor.org/rfc/rfc4648#section-5

/// The segment is not canonical unpadded base64url, or the output length is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Invalid;

/// One byte in every lane.
const LANES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every lane.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// The low seven bits of every lane.
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// `c` in every lane.
const fn splat(c: u8) -> u64 {
    LANES.wrapping_mul(c as u64)
}

/// The high bit of each lane whose byte is at least `c` (`1 <= c <= 128`); every byte must
/// be below 128.
const fn at_least(v: u64, c: u8) -> u64 {
    v.wrapping_add(splat(128u8.wrapping_sub(c))) & HIGH
}

/// Lane-wise `a + b` modulo 256, with no carry between lanes.
const fn add_lanes(a: u64, b: u64) -> u64 {
    ((a & LOW7).wrapping_add(b & LOW7)) ^ ((a ^ b) & HIGH)
}

/// Decodes eight base64url characters (little-endian lanes) into six bytes; the second
/// value is non-zero if any character is outside the alphabet.
fn decode_word(v: u64) -> ([u8; 6], u64) {
    // Classification assumes bytes below 128; others are refused by `non_ascii`.
    let non_ascii = v & HIGH;
    // The alphabet in ASCII order: `-` 45, `0`-`9` 48-57, `A`-`Z` 65-90, `_` 95, `a`-`z`
    // 97-122. Ten thresholds bound its five ranges.
    let (ge45, ge46, ge48, ge58) = (
        at_least(v, b'-'),
        at_least(v, b'-' + 1),
        at_least(v, b'0'),
        at_least(v, b'9' + 1),
    );
    let (ge65, ge91, ge95, ge96) = (
        at_least(v, b'A'),
        at_least(v, b'Z' + 1),
        at_least(v, b'_'),
        at_least(v, b'_' + 1),
    );
    let (ge97, ge123) = (at_least(v, b'a'), at_least(v, b'z' + 1));
    let valid = (ge45 & !ge46) | (ge48 & !ge58) | (ge65 & !ge91) | (ge95 & !ge96) | (ge97 & !ge123);
    let invalid = non_ascii | (!valid & HIGH);
    // The sextet is the character plus an offset (mod 256) that is constant over each
    // range, so over the valid characters it is a step function of the character with
    // steps at `0`, `A`, `_` and `a`. Each step flips bits of the offset: `(m >> 7) * d`
    // puts `d` in the lanes of mask `m`, with no carry since `d < 256`.
    const fn offset(to: u8, from: u8) -> u8 {
        to.wrapping_sub(from)
    }
    let dash = offset(62, b'-');
    let digit = offset(52, b'0');
    let upper = offset(0, b'A');
    let under = offset(63, b'_');
    let lower = offset(26, b'a');
    let step = |mask: u64, from: u8, to: u8| (mask >> 7).wrapping_mul(u64::from(from ^ to));
    let offsets = splat(dash)
        ^ step(ge48, dash, digit)
        ^ step(ge65, digit, upper)
        ^ step(ge95, upper, under)
        ^ step(ge97, under, lower);
    let sextets = add_lanes(v, offsets);
    // Pack: pairs of sextets into 12 bits, then pairs of those into 24.
    let pairs = ((sextets & 0x00ff_00ff_00ff_00ff) << 6) | ((sextets >> 8) & 0x00ff_00ff_00ff_00ff);
    let quads = ((pairs & 0x0000_ffff_0000_ffff) << 12) | ((pairs >> 16) & 0x0000_ffff_0000_ffff);
    let [b2, b1, b0, _, b5, b4, b3, _] = quads.to_le_bytes();
    ([b0, b1, b2, b3, b4, b5], invalid)
}

/// Encodes six bytes into eight base64url characters (little-endian lanes).
fn encode_word(bytes: [u8; 6]) -> [u8; 8] {
    let [b0, b1, b2, b3, b4, b5] = bytes;
    let quads = u64::from_le_bytes([b2, b1, b0, 0, b5, b4, b3, 0]);
    let pairs = ((quads >> 12) & 0x0000_0fff_0000_0fff) | ((quads & 0x0000_0fff_0000_0fff) << 16);
    let sextets = ((pairs >> 6) & 0x003f_003f_003f_003f) | ((pairs & 0x003f_003f_003f_003f) << 8);
    // The offset from sextet to character (mod 256) is a step function of the sextet, with
    // steps at 26 (`a`), 52 (`0`), 62 (`-`) and 63 (`_`); each step flips bits of it, as
    // in `decode_word`.
    let upper = b'A';
    let lower = b'a'.wrapping_sub(26);
    let digit = b'0'.wrapping_sub(52);
    let dash = b'-'.wrapping_sub(62);
    let under = b'_'.wrapping_sub(63);
    let step =
        |at: u8, from: u8, to: u8| (at_least(sextets, at) >> 7).wrapping_mul(u64::from(from ^ to));
    let offset = splat(upper)
        ^ step(26, upper, lower)
        ^ step(52, lower, digit)
        ^ step(62, digit, dash)
        ^ step(63, dash, under);
    add_lanes(sextets, offset).to_le_bytes()
}

/// The decoded length of `n` characters of unpadded base64; `None` when `n % 4 == 1`,
/// which no input length produces.
pub(crate) const fn decoded_len(n: usize) -> Option<usize> {
    match n % 4 {
        1 => None,
        r => Some((n / 4).wrapping_mul(3).wrapping_add(r.saturating_sub(1))),
    }
}

/// The unpadded base64 length of `n` bytes, `ceil(4n / 3)`; `None` on overflow.
pub(crate) const fn encoded_len(n: usize) -> Option<usize> {
    let Some(full) = (n / 3).checked_mul(4) else {
        return None;
    };
    full.checked_add(match n % 3 {
        0 => 0,
        1 => 2,
        _ => 3,
    })
}

/// Decodes `src` into `dst`, which must be exactly [`decoded_len`] bytes long.
///
/// Runs in time that depends only on the lengths; `dst` is fully written even when the
/// input is refused (with unspecified bytes).
pub(crate) fn decode(src: &[u8], dst: &mut [u8]) -> Result<(), Invalid> {
    if decoded_len(src.len()) != Some(dst.len()) {
        return Err(Invalid);
    }
    let (words, tail) = src.as_chunks::<8>();
    let (full, last) = dst
        .split_at_mut_checked(words.len().wrapping_mul(6))
        .ok_or(Invalid)?;
    let mut invalid = 0u64;
    for (word, out) in words.iter().zip(full.as_chunks_mut::<6>().0) {
        let (bytes, bad) = decode_word(u64::from_le_bytes(*word));
        *out = bytes;
        invalid |= bad;
    }
    // The last 0 to 7 characters, padded with `A` (zero bits).
    let mut padded = [b'A'; 8];
    for (p, c) in padded.iter_mut().zip(tail) {
        *p = *c;
    }
    let (bytes, bad) = decode_word(u64::from_le_bytes(padded));
    invalid |= bad;
    let (used, unused) = bytes.split_at_checked(last.len()).ok_or(Invalid)?;
    last.copy_from_slice(used);
    // Canonical: the bits of the last character that no byte uses are zero, so the byte
    // after the last one written holds nothing.
    invalid |= u64::from(unused.first().copied().unwrap_or(0));
    if invalid == 0 { Ok(()) } else { Err(Invalid) }
}

/// Encodes `src` into `dst`, which must be exactly [`encoded_len`] bytes long.
pub(crate) fn encode(src: &[u8], dst: &mut [u8]) -> Result<(), Invalid> {
    if encoded_len(src.len()) != Some(dst.len()) {
        return Err(Invalid);
    }
    let (groups, tail) = src.as_chunks::<6>();
    let (full, last) = dst
        .split_at_mut_checked(groups.len().wrapping_mul(8))
        .ok_or(Invalid)?;
    for (group, out) in groups.iter().zip(full.as_chunks_mut::<8>().0) {
        *out = encode_word(*group);
    }
    let mut padded = [0u8; 6];
    for (p, b) in padded.iter_mut().zip(tail) {
        *p = *b;
    }
    let chars = encode_word(padded);
    last.copy_from_slice(chars.get(..last.len()).ok_or(Invalid)?);
    Ok(())
}

/// Encodes `src` into `out`, which must be exactly [`encoded_len`] bytes long, and returns
/// the text; the empty string if the length is wrong, which no caller's fixed-size
/// buffer allows.
pub(crate) fn encode_str<'o>(src: &[u8], out: &'o mut [u8]) -> &'o str {
    if encode(src, out).is_err() {
        return "";
    }
    let out: &'o [u8] = out;
    core::str::from_utf8(out).unwrap_or_default()
}

/// Encodes `buf[..len]` in place into `buf[..encoded_len(len)]`, back to front.
///
/// Group `i` of six input bytes is read from `6i..6i + 6` and written to `8i..8i + 8`.
/// Going from the last group to the first, the bytes of every group not yet encoded,
/// `..6i`, lie before `8i`, so a write never reaches input that is still needed. Groups are
/// taken eight at a time, each block copied out (48 bytes) before its characters are
/// written over it; the last, partial group first.
pub(crate) fn encode_in_place(buf: &mut [u8], len: usize) -> Result<(), Invalid> {
    const GROUPS: usize = 8;
    let out_len = encoded_len(len).ok_or(Invalid)?;
    if len > buf.len() || out_len > buf.len() {
        return Err(Invalid);
    }
    let full = len / 6;
    let done = full.wrapping_mul(6);
    let mut padded = [0u8; 6];
    for (p, b) in padded.iter_mut().zip(buf.get(done..len).ok_or(Invalid)?) {
        *p = *b;
    }
    let chars = encode_word(padded);
    let at = full.wrapping_mul(8);
    let out = buf.get_mut(at..out_len).ok_or(Invalid)?;
    out.copy_from_slice(chars.get(..out.len()).ok_or(Invalid)?);

    let mut end = full;
    let mut block = [0u8; 6 * GROUPS];
    while end > 0 {
        let start = end.saturating_sub(GROUPS);
        let input = buf
            .get(start.wrapping_mul(6)..end.wrapping_mul(6))
            .ok_or(Invalid)?;
        let copy = block.get_mut(..input.len()).ok_or(Invalid)?;
        copy.copy_from_slice(input);
        let out = buf
            .get_mut(start.wrapping_mul(8)..end.wrapping_mul(8))
            .ok_or(Invalid)?;
        encode(copy, out)?;
        end = start;
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use base64ct::{Base64UrlUnpadded, Encoding};
    use proptest::prelude::*;

    use super::*;

    /// The reference verdict and bytes.
    fn reference(src: &[u8]) -> Option<Vec<u8>> {
        Base64UrlUnpadded::decode_vec(core::str::from_utf8(src).ok()?).ok()
    }

    fn ours(src: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; decoded_len(src.len())?];
        decode(src, &mut out).ok().map(|()| out)
    }

    #[test]
    fn every_single_character_and_pair() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let s = [a, b];
                assert_eq!(ours(&s), reference(&s), "{s:?}");
                let s = [b'A', b'A', b'A', b'A', b'A', b'A', a, b];
                assert_eq!(ours(&s), reference(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn unused_bits_are_refused() {
        // "QQ" is "A"; "QR" has a non-zero unused bit.
        assert_eq!(ours(b"QQ"), Some(b"A".to_vec()));
        assert_eq!(ours(b"QR"), None);
        assert_eq!(ours(b"QUE"), Some(b"AA".to_vec()));
        assert_eq!(ours(b"QUF"), None);
        assert_eq!(ours(b"Q"), None);
        assert_eq!(ours(b""), Some(Vec::new()));
        assert_eq!(ours(b"QUFB="), None);
        assert_eq!(ours(b"QU+B"), None);
        assert_eq!(ours(b"QU/B"), None);
    }

    #[test]
    fn wrong_output_length_is_refused() {
        assert_eq!(decode(b"QUFB", &mut [0; 2]), Err(Invalid));
        assert_eq!(decode(b"QUFB", &mut [0; 4]), Err(Invalid));
        assert_eq!(encode(b"AAA", &mut [0; 3]), Err(Invalid));
    }

    proptest! {
        #[test]
        fn decoding_agrees_with_base64ct(
            src in prop::collection::vec(
                prop_oneof![
                    8 => prop::sample::select(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec()),
                    1 => any::<u8>(),
                ],
                0..80,
            )
        ) {
            prop_assert_eq!(ours(&src), reference(&src));
        }

        #[test]
        fn encoding_agrees_with_base64ct(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            let expected = Base64UrlUnpadded::encode_string(&bytes);
            let mut out = vec![0u8; encoded_len(bytes.len()).unwrap()];
            encode(&bytes, &mut out).unwrap();
            prop_assert_eq!(&out[..], expected.as_bytes());
            prop_assert_eq!(ours(&out), Some(bytes.clone()));

            // In place, in a buffer just long enough, as signing does.
            let mut buf = vec![0u8; expected.len()];
            buf[..bytes.len()].copy_from_slice(&bytes);
            encode_in_place(&mut buf, bytes.len()).unwrap();
            prop_assert_eq!(&buf[..], expected.as_bytes());
            if !expected.is_empty() {
                let mut short = vec![0u8; expected.len() - 1];
                let n = bytes.len().min(short.len());
                short[..n].copy_from_slice(&bytes[..n]);
                prop_assert_eq!(encode_in_place(&mut short, bytes.len()), Err(Invalid));
            }
        }
    }
}
