//! Unpadded base64url ([RFC 4648 §5]), many characters at a time, in constant time.
//!
//! The one codec of the crate: JWT segments, session IDs, refresh tokens and session
//! handles. Token bytes are secret-adjacent (a payload may carry personal data, and the
//! signature is compared against a secret MAC), and session IDs are secrets, so neither
//! direction looks anything up in a table or branches on a character: every character is
//! classified and converted with the same additions, masks and shifts, eight in a 64-bit
//! word or four in a 32-bit word (SWAR, "SIMD within a register"), and when decoding on a
//! 64-bit target with 128-bit vectors, sixteen in byte lanes. A segment's only
//! data-dependent outcome is the final accept or refuse; `.ci/constant-time` checks the
//! assembly for branches on a character at every optimization level.
//!
//! Decoding is as strict as `base64ct`'s `Base64UrlUnpadded`, which stays in the test suite
//! and in the `base64_differential` fuzz target as the reference: no padding, no
//! whitespace, no `+` or `/`, no final group of one character, and no non-zero unused bits
//! in the last character. On x86-64, decoding the benchmark token's payload and signature
//! takes about 7 instructions per character (13 in 64-bit words) and encoding them about
//! 6 (`bash benches/instructions.sh --profile`), where `base64ct`, which decodes one
//! character at a time, took about 30.
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

// The codec in the widest lanes the target computes in. On a 64-bit target with 128-bit
// vectors (SSE2 on x86-64, NEON on AArch64), decoding in sixteen byte lanes, which the
// compiler turns into vector instructions; otherwise a 64-bit word, eight characters at
// a time, on 64-bit targets and on wasm (whose pointers are 32-bit but whose integers go
// to 64 bits in one instruction); and on other 32-bit targets, where a 64-bit operation
// takes two instructions or more, four characters per 32-bit word. All three are built
// and tested on every target.
#[cfg(all(
    target_pointer_width = "64",
    any(target_feature = "sse2", target_feature = "neon")
))]
use bytes16::Lanes as Native;
#[cfg(not(any(target_pointer_width = "64", target_family = "wasm")))]
use lanes32::Lanes as Native;
#[cfg(any(
    all(
        target_pointer_width = "64",
        not(any(target_feature = "sse2", target_feature = "neon"))
    ),
    all(target_pointer_width = "32", target_family = "wasm")
))]
use lanes64::Lanes as Native;

/// Decodes `src` into `dst`, which must be exactly [`decoded_len`] bytes long.
///
/// Runs in time that depends only on the lengths; `dst` is fully written even when the
/// input is refused (with unspecified bytes).
pub(crate) fn decode(src: &[u8], dst: &mut [u8]) -> Result<(), Invalid> {
    decode_with::<Native, { Native::CHARS }, { Native::BYTES }>(src, dst)
}

/// Encodes `src` into `dst`, which must be exactly [`encoded_len`] bytes long.
pub(crate) fn encode(src: &[u8], dst: &mut [u8]) -> Result<(), Invalid> {
    encode_with::<Native, { Native::CHARS }, { Native::BYTES }>(src, dst)
}

/// Encodes `buf[..len]` in place into `buf[..encoded_len(len)]`.
pub(crate) fn encode_in_place(buf: &mut [u8], len: usize) -> Result<(), Invalid> {
    encode_in_place_with::<Native, { Native::CHARS }, { Native::BYTES }>(buf, len)
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

/// A codec's step: `CHARS` characters decoded into `BYTES` bytes at once, or the other
/// way, every lane the same operations. `CHARS` is a whole number of groups of four
/// characters, three bytes each (checked when a driver is instantiated).
trait Block<const CHARS: usize, const BYTES: usize> {
    /// What decoding keeps, across blocks, of the characters it refused.
    type Refusals: Default;

    /// Decodes one block; a character outside the alphabet is noted in `refusals`.
    fn decode(chars: &[u8; CHARS], refusals: &mut Self::Refusals) -> [u8; BYTES];

    /// Whether any character decoded into `refusals` was outside the alphabet.
    fn refused(refusals: &Self::Refusals) -> bool;

    /// Encodes one block.
    fn encode(bytes: &[u8; BYTES]) -> [u8; CHARS];

    /// Encodes the block at the start of `window`, which may hold bytes after it: a codec
    /// that loads whole words may read them (and ignore them) instead of assembling its
    /// words byte by byte. `None` if `window` is shorter than a block.
    fn encode_window(window: &[u8]) -> Option<[u8; CHARS]> {
        window.first_chunk().map(Self::encode)
    }
}

/// [`decode`] with the codec `L`.
fn decode_with<L, const CHARS: usize, const BYTES: usize>(
    src: &[u8],
    dst: &mut [u8],
) -> Result<(), Invalid>
where
    L: Block<CHARS, BYTES>,
{
    const { assert!(CHARS > 0 && CHARS.is_multiple_of(4) && CHARS / 4 * 3 == BYTES) };
    if decoded_len(src.len()) != Some(dst.len()) {
        return Err(Invalid);
    }
    let (blocks, tail) = src.as_chunks::<CHARS>();
    let (full, last) = dst
        .split_at_mut_checked(blocks.len().wrapping_mul(BYTES))
        .ok_or(Invalid)?;
    let mut refusals = L::Refusals::default();
    for (block, out) in blocks.iter().zip(full.as_chunks_mut::<BYTES>().0) {
        *out = L::decode(block, &mut refusals);
    }
    // The last characters, fewer than a block, padded with `A` (zero bits).
    let mut padded = [b'A'; CHARS];
    crate::copy::short(padded.get_mut(..tail.len()).ok_or(Invalid)?, tail).ok_or(Invalid)?;
    let bytes = L::decode(&padded, &mut refusals);
    let (used, unused) = bytes.split_at_checked(last.len()).ok_or(Invalid)?;
    crate::copy::short(last, used).ok_or(Invalid)?;
    // Canonical: the bits of the last character that no byte uses are zero, so the byte
    // after the last one written holds nothing.
    let unused_bits = unused.first().copied().unwrap_or(0);
    if L::refused(&refusals) | (unused_bits != 0) {
        Err(Invalid)
    } else {
        Ok(())
    }
}

/// [`encode`] with the codec `L`.
fn encode_with<L, const CHARS: usize, const BYTES: usize>(
    src: &[u8],
    dst: &mut [u8],
) -> Result<(), Invalid>
where
    L: Block<CHARS, BYTES>,
{
    const { assert!(CHARS > 0 && CHARS.is_multiple_of(4) && CHARS / 4 * 3 == BYTES) };
    if encoded_len(src.len()) != Some(dst.len()) {
        return Err(Invalid);
    }
    let (blocks, tail) = src.as_chunks::<BYTES>();
    let (full, last) = dst
        .split_at_mut_checked(blocks.len().wrapping_mul(CHARS))
        .ok_or(Invalid)?;
    for (block, out) in blocks.iter().zip(full.as_chunks_mut::<CHARS>().0) {
        *out = L::encode(block);
    }
    let mut padded = [0u8; BYTES];
    crate::copy::short(padded.get_mut(..tail.len()).ok_or(Invalid)?, tail).ok_or(Invalid)?;
    let chars = L::encode(&padded);
    crate::copy::short(last, chars.get(..last.len()).ok_or(Invalid)?).ok_or(Invalid)?;
    Ok(())
}

/// [`encode_in_place`] with the codec `L`: encodes `buf[..len]` in place into
/// `buf[..encoded_len(len)]`, back to front.
///
/// Block `i` of `BYTES` input bytes is read from `BYTES * i..` and written to
/// `CHARS * i..`. Going from the last block to the first, the bytes of every block not yet
/// encoded, `..BYTES * i`, lie before `CHARS * i`, so a write never reaches input that is
/// still needed; each block is read out whole before its characters are written, since
/// they may cover its own bytes. The last, partial block goes first.
fn encode_in_place_with<L, const CHARS: usize, const BYTES: usize>(
    buf: &mut [u8],
    len: usize,
) -> Result<(), Invalid>
where
    L: Block<CHARS, BYTES>,
{
    const { assert!(CHARS > 0 && CHARS.is_multiple_of(4) && CHARS / 4 * 3 == BYTES) };
    let out_len = encoded_len(len).ok_or(Invalid)?;
    if len > buf.len() || out_len > buf.len() {
        return Err(Invalid);
    }
    let full = len.checked_div(BYTES).ok_or(Invalid)?;
    let done = full.wrapping_mul(BYTES);
    let mut padded = [0u8; BYTES];
    let tail = buf.get(done..len).ok_or(Invalid)?;
    crate::copy::short(padded.get_mut(..tail.len()).ok_or(Invalid)?, tail).ok_or(Invalid)?;
    let chars = L::encode(&padded);
    let at = full.wrapping_mul(CHARS);
    let out = buf.get_mut(at..out_len).ok_or(Invalid)?;
    crate::copy::short(out, chars.get(..out.len()).ok_or(Invalid)?).ok_or(Invalid)?;

    let mut block = full;
    while block > 0 {
        block = block.wrapping_sub(1);
        // The block and what follows it in `buf` (the next block's first bytes, not yet
        // overwritten, or for the last full block the tail and what follows `len`),
        // which the codec may read along and ignores.
        let chars = buf
            .get(block.wrapping_mul(BYTES)..)
            .and_then(L::encode_window)
            .ok_or(Invalid)?;
        *buf.get_mut(block.wrapping_mul(CHARS)..)
            .and_then(<[u8]>::first_chunk_mut)
            .ok_or(Invalid)? = chars;
    }
    Ok(())
}

/// The codec in one word type: `$chars` characters (one per byte lane) stand for `$bytes`
/// bytes, in groups of four characters and three bytes.
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
            use super::Block;

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

            /// Sextets, one in the low six bits of each byte lane (higher bits ignored),
            /// packed into 24 bits of each 32-bit lane, the first character's highest:
            /// the sextets of pairs into 12 bits, then pairs of those into 24.
            pub(super) const fn pack(sextets: Word) -> Word {
                let pairs = ((sextets & $pair_mask) << 6) | ((sextets >> 8) & $pair_mask);
                ((pairs & $quad_mask) << 12) | ((pairs >> 16) & $quad_mask)
            }

            /// The inverse of [`pack`]: 24 bits in each 32-bit lane into a sextet in each
            /// byte lane.
            pub(super) const fn unpack(groups: Word) -> Word {
                let pairs = ((groups >> 12) & $twelve) | ((groups & $twelve) << 16);
                ((pairs >> 6) & $six) | ((pairs & $six) << 8)
            }

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
                // sextet is the low six bits of the sum, which `pack` keeps.
                let step =
                    |mask: Word, from: u8, to: u8| (mask >> 7).wrapping_mul(Word::from(from ^ to));
                let [dash, digit, upper, under, lower] = super::DECODE_OFFSETS;
                let offsets = splat(dash)
                    ^ step(ge48, dash, digit)
                    ^ step(ge65, digit, upper)
                    ^ step(ge95, upper, under)
                    ^ step(ge97, under, lower);
                (to_bytes(pack(v.wrapping_add(offsets))), invalid)
            }

            /// Encodes `BYTES` bytes into `CHARS` base64url characters (little-endian
            /// lanes).
            pub(super) fn encode_word(bytes: [u8; BYTES]) -> [u8; CHARS] {
                characters::<false>(unpack(from_bytes(bytes))).to_le_bytes()
            }

            /// The base64url characters of `sextets` (one in the low six bits of each
            /// byte lane, higher bits clear).
            ///
            /// The offset from sextet to character (mod 256) is a step function of the
            /// sextet, with steps at 26 (`a`), 52 (`0`), 62 (`-`) and 63 (`_`); each step
            /// flips bits of it, as in `decode_word`. `WHOLE_LANES` chooses how a step
            /// reaches the lanes at or above it: by multiplying the lane's 0 or 1 by the
            /// bits it flips (`false`: one instruction on a scalar unit), or through a
            /// mask of whole lanes (`true`: for vector units, which lack a 64-bit
            /// multiplication), where `(m << 1) - (m >> 7)` turns each high bit of `m`
            /// into `0xff` in its lane: a high bit `2^(8k+7)` becomes
            /// `2^(8k+8) - 2^(8k)`, which is `0xff` in lane `k` (for the top lane, modulo
            /// 2^64), and these never overlap.
            pub(super) fn characters<const WHOLE_LANES: bool>(sextets: Word) -> Word {
                let [upper, lower, digit, dash, under] = super::ENCODE_OFFSETS;
                let step = |at: u8, from: u8, to: u8| {
                    let m = at_least(sextets, at);
                    if WHOLE_LANES {
                        (m << 1).wrapping_sub(m >> 7) & splat(from ^ to)
                    } else {
                        (m >> 7).wrapping_mul(Word::from(from ^ to))
                    }
                };
                let offset = splat(upper)
                    ^ step(26, upper, lower)
                    ^ step(52, lower, digit)
                    ^ step(62, digit, dash)
                    ^ step(63, dash, under);
                add_lanes(sextets, offset)
            }

            /// The codec in this word.
            pub(crate) struct Lanes;

            impl Lanes {
                pub(crate) const CHARS: usize = CHARS;
                pub(crate) const BYTES: usize = BYTES;
            }

            impl Block<CHARS, BYTES> for Lanes {
                /// The high bit of each lane whose character was refused, in any word.
                type Refusals = Word;

                fn decode(chars: &[u8; CHARS], refusals: &mut Word) -> [u8; BYTES] {
                    let (bytes, refused) = decode_word(Word::from_le_bytes(*chars));
                    *refusals |= refused;
                    bytes
                }

                fn refused(refusals: &Word) -> bool {
                    *refusals != 0
                }

                fn encode(bytes: &[u8; BYTES]) -> [u8; CHARS] {
                    encode_word(*bytes)
                }
            }
        }
    };
}

/// What decoding adds to a character, modulo 64, in each of the alphabet's ranges: `-`,
/// `0`-`9`, `A`-`Z`, `_` and `a`-`z`, in ASCII order.
const DECODE_OFFSETS: [u8; 5] = {
    const fn offset(sextet: u8, from: u8) -> u8 {
        sextet.wrapping_sub(from) & 0x3f
    }
    [
        offset(62, b'-'),
        offset(52, b'0'),
        offset(0, b'A'),
        offset(63, b'_'),
        offset(26, b'a'),
    ]
};

/// What encoding adds to a sextet, modulo 256, in each of its ranges: 0-25 (`A`-`Z`),
/// 26-51 (`a`-`z`), 52-61 (`0`-`9`), 62 (`-`) and 63 (`_`).
const ENCODE_OFFSETS: [u8; 5] = [
    b'A',
    b'a'.wrapping_sub(26),
    b'0'.wrapping_sub(52),
    b'-'.wrapping_sub(62),
    b'_'.wrapping_sub(63),
];

lanes! {
    /// Eight characters per 64-bit word.
    #[cfg_attr(
        not(any(
            all(
                target_pointer_width = "64",
                not(any(target_feature = "sse2", target_feature = "neon"))
            ),
            all(target_pointer_width = "32", target_family = "wasm")
        )),
        allow(dead_code)
    )]
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
    #[cfg_attr(
        any(target_pointer_width = "64", target_family = "wasm"),
        allow(dead_code)
    )]
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

/// Decoding sixteen characters at a time, one per byte lane of an array, for 64-bit
/// targets with 128-bit vectors.
///
/// Each lane is a byte of its own, so it is classified by range rather than by the word
/// codecs' parity of ten thresholds: for each of the alphabet's five ranges, `c - lo`
/// (wrapping) less `hi - lo` (saturating) is zero exactly inside it, and that test makes
/// the range's mask; the masks' union is the verdict, and each selects its range's
/// offset (the same offsets as the word codecs), with no table. A loop over the sixteen
/// lanes is what the compiler makes vector instructions of, a few per range: on x86-64
/// an addition, then the zero test of the saturating difference as a minimum and an
/// equality (`pminub`, `pcmpeqb`; one equality for `-` and `_`), on AArch64 an addition
/// and an unsigned comparison (`cmhi`; `cmeq`), then ANDs and ORs. On x86-64 the loop
/// over a block has 44 instructions on vector registers, where the thresholds took 55
/// (89 in all, against 100). Packing the sextets into bytes
/// runs on the two 64-bit halves with the 64-bit codec's shifts and masks; only the last
/// step, gathering three bytes out of each four, would need a byte shuffle, which x86-64's
/// baseline lacks (SSSE3's `pshufb`).
///
/// Not `core::arch` intrinsics: they are `#[target_feature]` functions, and calling one is
/// an operation the compiler does not check (SSE2 in x86-64's baseline or not), which
/// the crate's `forbid` attribute rules out. Byte-lane code
/// is branch-free only as long as the compiler keeps the masks as data: where it does not
/// vectorize (lower optimization levels), it may turn a mask ANDed with a constant into a
/// branch on the character. Decoding compiles to conditional moves there
/// (`.ci/constant-time` checks the assembly at every optimization level); encoding did not,
/// so it runs on two 64-bit words with [`lanes64`]'s arithmetic, whose masks each span a
/// whole word of eight characters, never one character's byte of its own. The two words
/// are what the compiler puts side by side in one vector, so this codec loads each half
/// with one byte swap and forms the offset's steps with masks of whole lanes of those
/// words rather than multiplications (see [`lanes64::characters`]), where the word codec,
/// for scalar units, multiplies; `.ci/constant-time` reads the result too.
#[cfg_attr(
    not(all(
        target_pointer_width = "64",
        any(target_feature = "sse2", target_feature = "neon")
    )),
    allow(dead_code)
)]
pub(crate) mod bytes16 {
    use super::{Block, DECODE_OFFSETS, lanes64};

    const CHARS: usize = 16;
    const BYTES: usize = 12;

    /// The twelve bytes of two packed 64-bit words, each two groups of 24 bits
    /// (see [`lanes64::pack`]), in order: the bytes as one big-endian 96-bit number are
    /// `g0 g1 g2 g3`.
    fn to_bytes(low: u64, high: u64) -> [u8; BYTES] {
        const GROUP: u64 = 0xff_ffff;
        let first = ((low & GROUP) << 40) | ((low >> 32) << 16) | ((high & GROUP) >> 8);
        // Truncating keeps the last byte of `g2` and all of `g3`.
        let last = ((high as u32) << 24) | ((high >> 32) as u32);
        let [a, b, c, d, e, f, g, h] = first.to_be_bytes();
        let [i, j, k, l] = last.to_be_bytes();
        [a, b, c, d, e, f, g, h, i, j, k, l]
    }

    /// The characters of twelve bytes, given as two big-endian numbers whose top 48 bits
    /// are six bytes each (the low 16 bits are ignored).
    #[inline(always)]
    fn encode_halves(first: u64, second: u64) -> [u8; CHARS] {
        // The first three bytes of each six as a 24-bit group into the low 32-bit lane,
        // the next three into the high one, first byte highest: `lanes64`'s groups.
        let word = |v: u64| {
            let groups = (v >> 40) | ((v << 16) & 0x00ff_ffff_0000_0000);
            lanes64::characters::<true>(lanes64::unpack(groups)).to_le_bytes()
        };
        let [c0, c1, c2, c3, c4, c5, c6, c7] = word(first);
        let [c8, c9, c10, c11, c12, c13, c14, c15] = word(second);
        [
            c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15,
        ]
    }

    /// The codec: decoding in sixteen byte lanes, encoding in two 64-bit words.
    pub(crate) struct Lanes;

    impl Lanes {
        pub(crate) const CHARS: usize = CHARS;
        pub(crate) const BYTES: usize = BYTES;
    }

    impl Block<CHARS, BYTES> for Lanes {
        /// The high bit of each lane is set if a character in that lane, in any block,
        /// was refused.
        type Refusals = [u8; CHARS];

        #[inline(always)]
        fn decode(chars: &[u8; CHARS], refusals: &mut [u8; CHARS]) -> [u8; BYTES] {
            let [dash, digit, upper, under, lower] = DECODE_OFFSETS;
            let mut sums = [0u8; CHARS];
            for ((sum, &c), refused) in sums.iter_mut().zip(chars).zip(refusals.iter_mut()) {
                // Each of the five ranges as a mask: `c - lo`, wrapping, is at most
                // `hi - lo` exactly inside the range, and saturating subtraction of that
                // bound leaves zero exactly then.
                let range = |lo: u8, hi: u8| {
                    u8::from(c.wrapping_sub(lo).saturating_sub(hi.wrapping_sub(lo)) == 0)
                        .wrapping_neg()
                };
                let (is_dash, is_digit, is_upper, is_under, is_lower) = (
                    range(b'-', b'-'),
                    range(b'0', b'9'),
                    range(b'A', b'Z'),
                    range(b'_', b'_'),
                    range(b'a', b'z'),
                );
                let valid = is_dash | is_digit | is_upper | is_under | is_lower;
                // The verdict only: no bit of the character is kept.
                *refused |= !valid & 0x80;
                let offset = (is_dash & dash)
                    | (is_digit & digit)
                    | (is_upper & upper)
                    | (is_under & under)
                    | (is_lower & lower);
                *sum = c.wrapping_add(offset);
            }
            let sums = u128::from_le_bytes(sums);
            // Truncation splits the lanes into their two halves.
            to_bytes(
                lanes64::pack(sums as u64),
                lanes64::pack((sums >> 64) as u64),
            )
        }

        fn refused(refusals: &[u8; CHARS]) -> bool {
            refusals.iter().fold(0, |all, r| all | r) != 0
        }

        /// Two of [`lanes64`]'s words, written for the vector unit: each six bytes are
        /// read as one big-endian number (a byte swap, where the word codec assembles
        /// its groups byte by byte), and each step of the offset is a mask of whole
        /// lanes (see [`lanes64::characters`]).
        #[inline(always)]
        fn encode(bytes: &[u8; BYTES]) -> [u8; CHARS] {
            let [a, b, c, d, e, f, g, h, i, j, k, l] = *bytes;
            encode_halves(
                u64::from_be_bytes([a, b, c, d, e, f, 0, 0]),
                u64::from_be_bytes([g, h, i, j, k, l, 0, 0]),
            )
        }

        /// With two bytes after the block, each half is one eight-byte load.
        #[inline(always)]
        fn encode_window(window: &[u8]) -> Option<[u8; CHARS]> {
            let first = window.first_chunk::<8>();
            let second = window.get(6..).and_then(<[u8]>::first_chunk::<8>);
            match (first, second) {
                (Some(first), Some(second)) => Some(encode_halves(
                    u64::from_be_bytes(*first),
                    u64::from_be_bytes(*second),
                )),
                _ => window.first_chunk().map(Self::encode),
            }
        }
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

    /// One of the codecs, all tested on every target.
    struct Codec {
        name: &'static str,
        decode: fn(&[u8], &mut [u8]) -> Result<(), Invalid>,
        encode: fn(&[u8], &mut [u8]) -> Result<(), Invalid>,
        encode_in_place: fn(&mut [u8], usize) -> Result<(), Invalid>,
    }

    macro_rules! codec {
        ($name:literal, $lanes:ty) => {
            Codec {
                name: $name,
                decode: decode_with::<$lanes, { <$lanes>::CHARS }, { <$lanes>::BYTES }>,
                encode: encode_with::<$lanes, { <$lanes>::CHARS }, { <$lanes>::BYTES }>,
                encode_in_place: encode_in_place_with::<
                    $lanes,
                    { <$lanes>::CHARS },
                    { <$lanes>::BYTES },
                >,
            }
        };
    }

    const CODECS: [Codec; 3] = [
        codec!("16 byte lanes", bytes16::Lanes),
        codec!("64-bit lanes", lanes64::Lanes),
        codec!("32-bit lanes", lanes32::Lanes),
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
        // Every pair of bytes, between runs of `A`: as a whole segment; as the last two
        // characters of a 4-, 8- and 16-character block (the last lanes of each codec's
        // block) and of a second 16-character block; in lanes 9 to 12 of a 16-character
        // block (its second half's first groups); across the boundary of two blocks of
        // each codec; and at the end of a final partial block.
        let shapes = [
            (0, 0),
            (2, 0),
            (6, 0),
            (14, 0),
            (30, 0),
            (3, 1),
            (7, 1),
            (15, 1),
            (9, 5),
            (11, 3),
            (5, 0),
            (13, 0),
            (18, 0),
        ];
        for codec in &CODECS {
            for a in 0..=255u8 {
                for b in 0..=255u8 {
                    for (before, after) in shapes {
                        let mut s = vec![b'A'; before];
                        s.extend([a, b]);
                        s.extend(core::iter::repeat_n(b'A', after));
                        assert_eq!(ours(codec, &s), reference(&s), "{}: {s:?}", codec.name);
                    }
                }
            }
        }
    }

    #[test]
    fn every_byte_in_every_position_encodes() {
        // Every byte value at each position of two 12-byte blocks (whole blocks of each
        // codec: 3, 6 or 12 bytes), among zeros or among `0xff`s, so that every sextet
        // reaches every character lane of every codec, beside both extremes; in place,
        // with other bytes after them.
        for codec in &CODECS {
            for background in [0x00u8, 0xff] {
                for at in 0..24 {
                    for byte in 0..=255u8 {
                        let mut bytes = [background; 24];
                        bytes[at] = byte;
                        let expected = Base64UrlUnpadded::encode_string(&bytes);
                        let mut out = [0u8; 32];
                        (codec.encode)(&bytes, &mut out).unwrap();
                        assert_eq!(&out[..], expected.as_bytes(), "{}: {bytes:?}", codec.name);
                        // What follows the bytes is not zero: a codec that reads past a
                        // block must ignore it.
                        let mut buf = [0xa5u8; 32];
                        buf[..24].copy_from_slice(&bytes);
                        (codec.encode_in_place)(&mut buf, 24).unwrap();
                        assert_eq!(&buf[..], expected.as_bytes(), "{}: {bytes:?}", codec.name);
                    }
                }
            }
        }
    }

    #[test]
    fn a_window_encodes_its_first_block_whatever_follows() {
        // Every window length around the 12-byte block and the 14 bytes of two whole
        // words, including those the in-place encoder never passes.
        let bytes: Vec<u8> = (0..20u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let sixteen = Base64UrlUnpadded::encode_string(&bytes[..12]);
        let eight = Base64UrlUnpadded::encode_string(&bytes[..6]);
        for n in 0..=bytes.len() {
            let window = &bytes[..n];
            assert_eq!(
                bytes16::Lanes::encode_window(window).map(|c| c.to_vec()),
                (n >= 12).then(|| sixteen.as_bytes().to_vec()),
                "{n}"
            );
            assert_eq!(
                lanes64::Lanes::encode_window(window).map(|c| c.to_vec()),
                (n >= 6).then(|| eight.as_bytes().to_vec()),
                "{n}"
            );
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
