//! Unpadded base64url ([RFC 4648 §5]), a machine word at a time, in constant time.
//!
//! The one codec of the crate: JWT segments, session IDs, refresh tokens and session
//! handles. Token bytes are secret-adjacent (a payload may carry personal data, and the
//! signature is compared against a secret MAC), and session IDs are secrets, so neither
//! direction looks anything up in a table or
//! branches on a character: each 64-bit word holds eight characters (or the six bytes they
//! stand for; four characters and three bytes in a 32-bit word on 32-bit targets), and
//! every lane is classified and converted with the same additions, masks
//! and shifts (SWAR, "SIMD within a register"). A segment's only data-dependent outcome is
//! the final accept or refuse.
//!
//! Decoding is as strict as `base64ct`'s `Base64UrlUnpadded`, which stays in the test suite
//! and in the `base64_differential` fuzz target as the reference: no padding, no
//! whitespace, no `+` or `/`, no final group of one character, and no non-zero unused bits
//! in the last character. Decoding a token's payload and signature takes about 11
//! instructions per character on x86-64 (`bash benches/instructions.sh --profile`), where
//! `base64ct`, which decodes one character at a time, took about 30.
//!
//! [RFC 4648 §5]: https://www.rfc-editor.org/rfc/rfc4648#section-5

/// The segment is not canonical unpadded base64url, or the output length is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Invalid;

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

// The codec in the machine's word: eight characters per 64-bit word, four per 32-bit word
// (where a 64-bit operation takes two instructions or more). Both are built and tested on
// every target; the one for the target's pointer width is used.
#[cfg(not(target_pointer_width = "64"))]
pub(crate) use lanes32::{decode, encode, encode_in_place};
#[cfg(target_pointer_width = "64")]
pub(crate) use lanes64::{decode, encode, encode_in_place};

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

/// The codec over one word type: `$chars` characters (one per byte lane) stand for
/// `$bytes` bytes, in groups of four characters and three bytes.
macro_rules! lanes {
    (
        $(#[$meta:meta])*
        mod $name:ident: $word:ty, $chars:literal chars, $bytes:literal bytes;
        pack: $pair_mask:literal, $quad_mask:literal;
        unpack: $twelve:literal, $six:literal;
        fn to_bytes($q:ident) $to_bytes:block
        fn from_bytes($b:ident) $from_bytes:block
    ) => {
        $(#[$meta])*
        pub(crate) mod $name {
            use super::Invalid;

            type Word = $word;
            const CHARS: usize = $chars;
            const BYTES: usize = $bytes;

            /// One byte in every lane.
            const LANES: Word = Word::MAX / 0xff;
            /// The high bit of every lane.
            const HIGH: Word = LANES.wrapping_mul(0x80);
            /// The low seven bits of every lane.
            const LOW7: Word = LANES.wrapping_mul(0x7f);

            /// `c` in every lane.
            const fn splat(c: u8) -> Word {
                LANES.wrapping_mul(c as Word)
            }

            /// The high bit of each lane whose byte is at least `c` (`1 <= c <= 128`);
            /// every byte must be below 128.
            const fn at_least(v: Word, c: u8) -> Word {
                v.wrapping_add(splat(128u8.wrapping_sub(c))) & HIGH
            }

            /// Lane-wise `a + b` modulo 256, with no carry between lanes.
            const fn add_lanes(a: Word, b: Word) -> Word {
                ((a & LOW7).wrapping_add(b & LOW7)) ^ ((a ^ b) & HIGH)
            }

            /// The packed groups (24 bits in each 32-bit lane, first character highest) as
            /// bytes, in order.
            fn to_bytes($q: Word) -> [u8; BYTES] $to_bytes

            /// Bytes, in groups of three, into 24 bits of each 32-bit lane.
            fn from_bytes($b: [u8; BYTES]) -> Word $from_bytes

            /// Decodes `CHARS` base64url characters (little-endian lanes) into `BYTES`
            /// bytes; the second value is non-zero if any character is outside the
            /// alphabet.
            fn decode_word(v: Word) -> ([u8; BYTES], Word) {
                // Classification assumes bytes below 128; others are refused by
                // `non_ascii`.
                let non_ascii = v & HIGH;
                // The alphabet in ASCII order: `-` 45, `0`-`9` 48-57, `A`-`Z` 65-90, `_`
                // 95, `a`-`z` 97-122. Ten thresholds bound its five ranges.
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
                // The thresholds rise, so a byte passes a leading run of them: an odd
                // number exactly inside one of the five ranges.
                let valid = ge45 ^ ge46 ^ ge48 ^ ge58 ^ ge65 ^ ge91 ^ ge95 ^ ge96 ^ ge97 ^ ge123;
                let invalid = non_ascii | (!valid & HIGH);
                // The sextet is the character plus an offset (mod 64) that is constant
                // over each range, so over the valid characters it is a step function of
                // the character with steps at `0`, `A`, `_` and `a`. Each step flips bits
                // of the offset: `(m >> 7) * d` puts `d` in the lanes of mask `m`, with no
                // carry since `d < 64`. A character below 128 plus an offset below 64
                // stays below 256, so one addition adds every lane without a carry into
                // the next (a byte of 128 or more may carry, but it is refused); the
                // sextet is the low six bits of the sum, which the packing masks keep.
                const fn offset(to: u8, from: u8) -> u8 {
                    to.wrapping_sub(from) & 0x3f
                }
                let dash = offset(62, b'-');
                let digit = offset(52, b'0');
                let upper = offset(0, b'A');
                let under = offset(63, b'_');
                let lower = offset(26, b'a');
                let step =
                    |mask: Word, from: u8, to: u8| (mask >> 7).wrapping_mul(Word::from(from ^ to));
                let offsets = splat(dash)
                    ^ step(ge48, dash, digit)
                    ^ step(ge65, digit, upper)
                    ^ step(ge95, upper, under)
                    ^ step(ge97, under, lower);
                let sums = v.wrapping_add(offsets);
                // Pack: the sextets of pairs into 12 bits, then pairs of those into 24.
                let pairs = ((sums & $pair_mask) << 6) | ((sums >> 8) & $pair_mask);
                let quads = ((pairs & $quad_mask) << 12) | ((pairs >> 16) & $quad_mask);
                (to_bytes(quads), invalid)
            }

            /// Encodes `BYTES` bytes into `CHARS` base64url characters (little-endian
            /// lanes).
            fn encode_word(bytes: [u8; BYTES]) -> [u8; CHARS] {
                let quads = from_bytes(bytes);
                let pairs = ((quads >> 12) & $twelve) | ((quads & $twelve) << 16);
                let sextets = ((pairs >> 6) & $six) | ((pairs & $six) << 8);
                // The offset from sextet to character (mod 256) is a step function of the
                // sextet, with steps at 26 (`a`), 52 (`0`), 62 (`-`) and 63 (`_`); each
                // step flips bits of it, as in `decode_word`.
                let upper = b'A';
                let lower = b'a'.wrapping_sub(26);
                let digit = b'0'.wrapping_sub(52);
                let dash = b'-'.wrapping_sub(62);
                let under = b'_'.wrapping_sub(63);
                let step = |at: u8, from: u8, to: u8| {
                    (at_least(sextets, at) >> 7).wrapping_mul(Word::from(from ^ to))
                };
                let offset = splat(upper)
                    ^ step(26, upper, lower)
                    ^ step(52, lower, digit)
                    ^ step(62, digit, dash)
                    ^ step(63, dash, under);
                add_lanes(sextets, offset).to_le_bytes()
            }

            /// Decodes `src` into `dst`, which must be exactly
            /// [`decoded_len`](super::decoded_len) bytes long.
            ///
            /// Runs in time that depends only on the lengths; `dst` is fully written even
            /// when the input is refused (with unspecified bytes).
            pub(crate) fn decode(src: &[u8], dst: &mut [u8]) -> Result<(), Invalid> {
                if super::decoded_len(src.len()) != Some(dst.len()) {
                    return Err(Invalid);
                }
                let (words, tail) = src.as_chunks::<CHARS>();
                let (full, last) = dst
                    .split_at_mut_checked(words.len().wrapping_mul(BYTES))
                    .ok_or(Invalid)?;
                let mut invalid: Word = 0;
                for (word, out) in words.iter().zip(full.as_chunks_mut::<BYTES>().0) {
                    let (bytes, bad) = decode_word(Word::from_le_bytes(*word));
                    *out = bytes;
                    invalid |= bad;
                }
                // The last characters, fewer than a word, padded with `A` (zero bits).
                let mut padded = [b'A'; CHARS];
                for (p, c) in padded.iter_mut().zip(tail) {
                    *p = *c;
                }
                let (bytes, bad) = decode_word(Word::from_le_bytes(padded));
                invalid |= bad;
                let (used, unused) = bytes.split_at_checked(last.len()).ok_or(Invalid)?;
                last.copy_from_slice(used);
                // Canonical: the bits of the last character that no byte uses are zero,
                // so the byte after the last one written holds nothing.
                invalid |= Word::from(unused.first().copied().unwrap_or(0));
                if invalid == 0 { Ok(()) } else { Err(Invalid) }
            }

            /// Encodes `src` into `dst`, which must be exactly
            /// [`encoded_len`](super::encoded_len) bytes long.
            pub(crate) fn encode(src: &[u8], dst: &mut [u8]) -> Result<(), Invalid> {
                if super::encoded_len(src.len()) != Some(dst.len()) {
                    return Err(Invalid);
                }
                let (groups, tail) = src.as_chunks::<BYTES>();
                let (full, last) = dst
                    .split_at_mut_checked(groups.len().wrapping_mul(CHARS))
                    .ok_or(Invalid)?;
                for (group, out) in groups.iter().zip(full.as_chunks_mut::<CHARS>().0) {
                    *out = encode_word(*group);
                }
                let mut padded = [0u8; BYTES];
                for (p, b) in padded.iter_mut().zip(tail) {
                    *p = *b;
                }
                let chars = encode_word(padded);
                last.copy_from_slice(chars.get(..last.len()).ok_or(Invalid)?);
                Ok(())
            }

            /// Encodes `buf[..len]` in place into `buf[..encoded_len(len)]`, back to
            /// front.
            ///
            /// Group `i` of `BYTES` input bytes is read from `BYTES * i..` and written to
            /// `CHARS * i..`. Going from the last group to the first, the bytes of every
            /// group not yet encoded, `..BYTES * i`, lie before `CHARS * i`, so a write
            /// never reaches input that is still needed. Groups are taken `GROUPS` at a
            /// time, each block copied out before its characters are written over it; the
            /// last, partial group first.
            pub(crate) fn encode_in_place(buf: &mut [u8], len: usize) -> Result<(), Invalid> {
                const GROUPS: usize = 48 / BYTES;
                let out_len = super::encoded_len(len).ok_or(Invalid)?;
                if len > buf.len() || out_len > buf.len() {
                    return Err(Invalid);
                }
                let full = len / BYTES;
                let done = full.wrapping_mul(BYTES);
                let mut padded = [0u8; BYTES];
                for (p, b) in padded.iter_mut().zip(buf.get(done..len).ok_or(Invalid)?) {
                    *p = *b;
                }
                let chars = encode_word(padded);
                let at = full.wrapping_mul(CHARS);
                let out = buf.get_mut(at..out_len).ok_or(Invalid)?;
                out.copy_from_slice(chars.get(..out.len()).ok_or(Invalid)?);

                let mut end = full;
                let mut block = [0u8; BYTES * GROUPS];
                while end > 0 {
                    let start = end.saturating_sub(GROUPS);
                    let input = buf
                        .get(start.wrapping_mul(BYTES)..end.wrapping_mul(BYTES))
                        .ok_or(Invalid)?;
                    let copy = block.get_mut(..input.len()).ok_or(Invalid)?;
                    copy.copy_from_slice(input);
                    let out = buf
                        .get_mut(start.wrapping_mul(CHARS)..end.wrapping_mul(CHARS))
                        .ok_or(Invalid)?;
                    encode(copy, out)?;
                    end = start;
                }
                Ok(())
            }
        }
    };
}

lanes! {
    /// Eight characters per 64-bit word.
    #[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
    mod lanes64: u64, 8 chars, 6 bytes;
    pack: 0x003f_003f_003f_003f, 0x0000_ffff_0000_ffff;
    unpack: 0x0000_0fff_0000_0fff, 0x003f_003f_003f_003f;
    fn to_bytes(quads) {
        let [b2, b1, b0, _, b5, b4, b3, _] = quads.to_le_bytes();
        [b0, b1, b2, b3, b4, b5]
    }
    fn from_bytes(bytes) {
        let [b0, b1, b2, b3, b4, b5] = bytes;
        Word::from_le_bytes([b2, b1, b0, 0, b5, b4, b3, 0])
    }
}

lanes! {
    /// Four characters per 32-bit word.
    #[cfg_attr(target_pointer_width = "64", allow(dead_code))]
    mod lanes32: u32, 4 chars, 3 bytes;
    pack: 0x003f_003f, 0x0000_ffff;
    unpack: 0x0000_0fff, 0x003f_003f;
    fn to_bytes(quads) {
        let [b2, b1, b0, _] = quads.to_le_bytes();
        [b0, b1, b2]
    }
    fn from_bytes(bytes) {
        let [b0, b1, b2] = bytes;
        Word::from_le_bytes([b2, b1, b0, 0])
    }
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

    /// One of the two word sizes, both tested on every target.
    struct Codec {
        name: &'static str,
        decode: fn(&[u8], &mut [u8]) -> Result<(), Invalid>,
        encode: fn(&[u8], &mut [u8]) -> Result<(), Invalid>,
        encode_in_place: fn(&mut [u8], usize) -> Result<(), Invalid>,
    }

    const CODECS: [Codec; 2] = [
        Codec {
            name: "64-bit lanes",
            decode: lanes64::decode,
            encode: lanes64::encode,
            encode_in_place: lanes64::encode_in_place,
        },
        Codec {
            name: "32-bit lanes",
            decode: lanes32::decode,
            encode: lanes32::encode,
            encode_in_place: lanes32::encode_in_place,
        },
    ];

    /// The reference verdict and bytes.
    fn reference(src: &[u8]) -> Option<Vec<u8>> {
        Base64UrlUnpadded::decode_vec(core::str::from_utf8(src).ok()?).ok()
    }

    fn ours(codec: &Codec, src: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; decoded_len(src.len())?];
        (codec.decode)(src, &mut out).ok().map(|()| out)
    }

    #[test]
    fn every_single_character_and_pair() {
        for codec in &CODECS {
            for a in 0..=255u8 {
                for b in 0..=255u8 {
                    let s = [a, b];
                    assert_eq!(ours(codec, &s), reference(&s), "{}: {s:?}", codec.name);
                    let s = [b'A', b'A', b'A', b'A', b'A', b'A', a, b];
                    assert_eq!(ours(codec, &s), reference(&s), "{}: {s:?}", codec.name);
                    let s = [b'A', b'A', b'A', b'A', b'A', a, b];
                    assert_eq!(ours(codec, &s), reference(&s), "{}: {s:?}", codec.name);
                }
            }
        }
    }

    #[test]
    fn unused_bits_are_refused() {
        for codec in &CODECS {
            let ours = |s: &[u8]| ours(codec, s);
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
    }

    #[test]
    fn wrong_output_length_is_refused() {
        for codec in &CODECS {
            assert_eq!((codec.decode)(b"QUFB", &mut [0; 2]), Err(Invalid));
            assert_eq!((codec.decode)(b"QUFB", &mut [0; 4]), Err(Invalid));
            assert_eq!((codec.encode)(b"AAA", &mut [0; 3]), Err(Invalid));
        }
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
            for codec in &CODECS {
                prop_assert_eq!(ours(codec, &src), reference(&src), "{}", codec.name);
            }
        }

        #[test]
        fn encoding_agrees_with_base64ct(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            let expected = Base64UrlUnpadded::encode_string(&bytes);
            for codec in &CODECS {
                let mut out = vec![0u8; encoded_len(bytes.len()).unwrap()];
                (codec.encode)(&bytes, &mut out).unwrap();
                prop_assert_eq!(&out[..], expected.as_bytes(), "{}", codec.name);
                prop_assert_eq!(ours(codec, &out), Some(bytes.clone()));

                // In place, in a buffer just long enough, as signing does.
                let mut buf = vec![0u8; expected.len()];
                buf[..bytes.len()].copy_from_slice(&bytes);
                (codec.encode_in_place)(&mut buf, bytes.len()).unwrap();
                prop_assert_eq!(&buf[..], expected.as_bytes(), "{}", codec.name);
                if !expected.is_empty() {
                    let mut short = vec![0u8; expected.len() - 1];
                    let n = bytes.len().min(short.len());
                    short[..n].copy_from_slice(&bytes[..n]);
                    prop_assert_eq!((codec.encode_in_place)(&mut short, bytes.len()), Err(Invalid));
                }
            }
        }
    }
}
