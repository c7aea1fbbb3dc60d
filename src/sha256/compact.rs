//! SHA-256's compression function (FIPS 180-4 §6.2.2) with its 64 rounds in a loop, for
//! bare-metal 32-bit targets (see [`compress`](super::compress) for when it is used).
//!
//! Built on every target, and called elsewhere only in fuzzing builds or when a build asks
//! for it (`--cfg tokenstile_sha256="compact"`): the unit tests below and, under
//! `cfg(fuzzing)`, every fuzz target run it on the host.

use zeroize::Zeroize;

use super::BLOCK;

/// The round constants (FIPS 180-4 §4.2.2).
#[rustfmt::skip]
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Runs the compression function over each block in turn, as `sha2`'s `compress256` does.
/// The message schedule is kept as a window of 16 words: from the sixteenth round on, each
/// round's new word replaces the one sixteen rounds back, which no later round reads. The
/// window and the working variables are wiped at the end, since blocks of a key pass
/// through.
pub(crate) fn compress(state: &mut [u32; 8], blocks: &[[u8; BLOCK]]) {
    let mut w = [0u32; 16];
    let mut v = [0u32; 8];
    for block in blocks {
        for (word, bytes) in w.iter_mut().zip(block.as_chunks::<4>().0) {
            *word = u32::from_be_bytes(*bytes);
        }
        v = *state;
        for t in 0..K.len() {
            let word = if t < 16 {
                at(&w, t)
            } else {
                let w15 = at(&w, t.wrapping_add(1));
                let w2 = at(&w, t.wrapping_add(14));
                let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
                let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
                let next = at(&w, t)
                    .wrapping_add(s0)
                    .wrapping_add(at(&w, t.wrapping_add(9)))
                    .wrapping_add(s1);
                if let Some(slot) = w.get_mut(t & 15) {
                    *slot = next;
                }
                next
            };
            let k = K.get(t).copied().unwrap_or_default();
            round(&mut v, word.wrapping_add(k));
        }
        // By reference: an iterator by value would hold a copy of `v` that is never wiped.
        for (s, v) in state.iter_mut().zip(&v) {
            *s = s.wrapping_add(*v);
        }
    }
    w.zeroize();
    v.zeroize();
}

/// One round on the working variables `a` to `h`, given the round's schedule word plus its
/// constant.
#[inline(always)]
fn round(v: &mut [u32; 8], wk: u32) {
    let [a, b, c, d, e, f, g, h] = *v;
    let sigma1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let ch = (e & f) ^ (!e & g);
    let t1 = h.wrapping_add(sigma1).wrapping_add(ch).wrapping_add(wk);
    let sigma0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let maj = (a & b) ^ (a & c) ^ (b & c);
    let t2 = sigma0.wrapping_add(maj);
    *v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
}

/// The schedule word at `i` modulo 16 (always in bounds: the check compiles away).
#[inline(always)]
fn at(w: &[u32; 16], i: usize) -> u32 {
    w.get(i & 15).copied().unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::sha256::IV;

    /// FIPS 180-4's examples (from NIST's example values): "abc" in one block, and the
    /// 56-byte message that pads into two.
    #[test]
    fn nist_examples() {
        let mut one = [[0u8; BLOCK]; 1];
        one[0][..3].copy_from_slice(b"abc");
        one[0][3] = 0x80;
        one[0][63] = 24;
        let mut state = IV;
        compress(&mut state, &one);
        assert_eq!(
            state,
            [
                0xba78_16bf,
                0x8f01_cfea,
                0x4141_40de,
                0x5dae_2223,
                0xb003_61a3,
                0x9617_7a9c,
                0xb410_ff61,
                0xf200_15ad
            ]
        );

        let msg = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        let mut two = [[0u8; BLOCK]; 2];
        two[0][..56].copy_from_slice(msg);
        two[0][56] = 0x80;
        two[1][62] = 0x01;
        two[1][63] = 0xc0;
        let mut state = IV;
        compress(&mut state, &two);
        assert_eq!(
            state,
            [
                0x248d_6a61,
                0xd206_38b8,
                0xe5c0_2693,
                0x0c3e_6039,
                0xa33c_e459,
                0x64ff_2167,
                0xf6ec_edd4,
                0x19db_06c1
            ]
        );
    }

    proptest! {
        /// The same state as `sha2`'s compression function from any state, over any number
        /// of blocks.
        #[test]
        fn agrees_with_sha2(
            state in any::<[u32; 8]>(),
            bytes in prop::collection::vec(any::<u8>(), 0..4 * BLOCK),
        ) {
            let (blocks, _) = bytes.as_chunks::<BLOCK>();
            let mut ours = state;
            compress(&mut ours, blocks);
            let mut theirs = state;
            sha2::block_api::compress256(&mut theirs, blocks);
            prop_assert_eq!(ours, theirs);
        }
    }
}
