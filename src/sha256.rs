//! SHA-256 on a compression function ([`compress`]): the padding and finalization that
//! HMAC and the store keys need, without the `Digest` API's block buffer and generic
//! finalization (on a microcontroller, several hundred bytes of code for what `finish` does
//! here).
//!
//! Everything that held input is wiped when it is no longer needed: keys and session
//! secrets pass through here.

use zeroize::Zeroize;

mod compact;

/// Whether [`compress`] is the crate's own: on bare-metal 32-bit targets other than wasm
/// (the microcontrollers) unless the firmware asks for `sha2`'s, on any target whose build
/// asks for it (`--cfg tokenstile_sha256="compact"`: a microcontroller with an operating
/// system's target, such as ESP-IDF's), and in fuzzing builds. Asked for both ways, the
/// compact one wins: the smaller code is what a build that names it wants.
const COMPACT: bool = cfg!(any(
    fuzzing,
    tokenstile_sha256 = "compact",
    all(
        target_pointer_width = "32",
        target_os = "none",
        not(target_arch = "wasm32"),
        not(tokenstile_sha256 = "sha2")
    )
));

// Guards `COMPACT`'s definition: a build that names the compact function gets it on every
// target (were the term above ever narrowed, such a build would fail to compile rather than
// quietly hash with `sha2`'s). CI runs the unit tests on x86-64 with that setting.
const _: () = assert!(COMPACT || !cfg!(tokenstile_sha256 = "compact"));

/// SHA-256's compression function over whole blocks. On bare-metal 32-bit targets other
/// than wasm (the microcontrollers), the crate's own with the rounds in a loop, which takes
/// about 0.4 KiB of flash where `sha2`'s unrolled rounds take about 7 KiB; elsewhere
/// `sha2`'s, for speed (with SHA extensions where the CPU has them). A firmware that would
/// rather have `sha2`'s (for speed) adds `--cfg tokenstile_sha256="sha2"` to the rustflags
/// that hold its linker script (docs/targets.md, "Writing a firmware"), and one built for
/// an operating system's target that would rather have the compact one adds
/// `--cfg tokenstile_sha256="compact"`. Fuzzing builds take
/// the compact one everywhere, so that every fuzz target runs it (and the MAC differential
/// checks it against the `hmac` crate over `sha2`). The choice is a constant: the other
/// function is never called, and the optimizer leaves it out.
#[inline(always)]
pub(crate) fn compress(state: &mut [u32; 8], blocks: &[[u8; BLOCK]]) {
    if COMPACT {
        compact::compress(state, blocks);
    } else {
        sha2::block_api::compress256(state, blocks);
    }
}

/// The SHA-256 initial hash value (FIPS 180-4 §5.3.3).
pub(crate) const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The SHA-256 block size, and the size of an HMAC key block.
pub(crate) const BLOCK: usize = 64;

/// The blocks [`finish`] pads in, aligned so that a firmware clears them with the word
/// routine it links anyway (`__aeabi_memclr4` on Arm) rather than one more for bytes.
#[repr(C, align(4))]
pub(crate) struct Padding(pub(crate) [u8; 2 * BLOCK]);

impl Padding {
    /// Zeros, as [`finish`] needs them. Inlined: out of line, the result's alignment is
    /// lost and the clearing is done bytewise again.
    #[inline(always)]
    pub(crate) const fn new() -> Self {
        Self([0; 2 * BLOCK])
    }
}

/// The SHA-256 state after `msg` and the padding, continuing from `state`, which has
/// taken `before` bytes (whole blocks) already: from [`IV`] and 0, the hash of `msg`; from
/// a key's inner state and [`BLOCK`], the inner hash of HMAC.
///
/// `last` must be zeros; it ends holding the rest of the message (the bytes after its last
/// whole block), `0x80`, zeros and the bit length of everything hashed, in one block or
/// two, for a caller hashing a secret to wipe.
pub(crate) fn finish(mut state: [u32; 8], before: u64, msg: &[u8], last: &mut Padding) -> [u32; 8] {
    let (blocks, rest) = msg.as_chunks::<BLOCK>();
    compress(&mut state, blocks);
    let flat = &mut last.0;
    for (dst, src) in flat.iter_mut().zip(rest) {
        *dst = *src;
    }
    if let Some(marker) = flat.get_mut(rest.len()) {
        *marker = 0x80;
    }
    let used: usize = if rest.len() < BLOCK - 8 { 1 } else { 2 };
    // SHA-256 lengths are modulo 2^64 bits.
    let bits = (msg.len() as u64).wrapping_add(before).wrapping_mul(8);
    let end = used.wrapping_mul(BLOCK);
    if let Some(len) = flat.get_mut(end.wrapping_sub(8)..end) {
        len.copy_from_slice(&bits.to_be_bytes());
    }
    let (padded, _) = last.0.as_chunks::<BLOCK>();
    compress(&mut state, padded.get(..used).unwrap_or_default());
    state
}

/// The digest bytes of a final state.
pub(crate) fn to_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (dst, word) in out.as_chunks_mut::<4>().0.iter_mut().zip(state) {
        *dst = word.to_be_bytes();
    }
    out
}

/// SHA-256 over input given in parts. Wiped when dropped.
///
/// In declaration order (`repr(C)`), so that `pending` is 4-byte but not 8-byte aligned on
/// 32-bit targets: a firmware then clears it with the word routine it links anyway
/// (`__aeabi_memclr4` on Arm) rather than one more for 8-byte alignment.
#[repr(C)]
pub(crate) struct Sha256 {
    state: [u32; 8],
    filled: usize,
    /// The input after the whole blocks hashed: fewer than [`BLOCK`] bytes, in
    /// `pending[..filled]`.
    pending: [u8; BLOCK],
    /// How many bytes the state has taken, in whole blocks.
    hashed: u64,
}

impl Sha256 {
    /// Nothing hashed yet.
    pub(crate) const fn new() -> Self {
        Self {
            state: IV,
            filled: 0,
            pending: [0; BLOCK],
            hashed: 0,
        }
    }

    /// Hashes `data` after everything before it.
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let free = self.pending.get_mut(self.filled..).unwrap_or_default();
            let take = free.len().min(data.len());
            let (now, later) = data.split_at(take);
            free.get_mut(..take)
                .unwrap_or_default()
                .copy_from_slice(now);
            self.filled = self.filled.saturating_add(take);
            data = later;
            if self.filled < BLOCK {
                return;
            }
            compress(&mut self.state, core::slice::from_ref(&self.pending));
            self.hashed = self.hashed.wrapping_add(BLOCK as u64);
            self.filled = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        // Most parts are short: no call for no block.
        if !blocks.is_empty() {
            compress(&mut self.state, blocks);
        }
        let whole = data.len().saturating_sub(rest.len());
        self.hashed = self.hashed.wrapping_add(whole as u64);
        self.pending
            .get_mut(..rest.len())
            .unwrap_or_default()
            .copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The digest of everything hashed.
    pub(crate) fn finalize(self) -> [u8; 32] {
        let mut last = Padding::new();
        let pending = self.pending.get(..self.filled).unwrap_or_default();
        let mut state = finish(self.state, self.hashed, pending, &mut last);
        let out = to_bytes(&state);
        last.0.zeroize();
        state.zeroize();
        out
    }
}

impl Drop for Sha256 {
    fn drop(&mut self) {
        self.state.zeroize();
        self.pending.zeroize();
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    extern crate alloc;

    use alloc::vec::Vec;

    use proptest::prelude::*;
    use sha2::Digest;

    use super::*;

    proptest! {
        /// `finish` from the initial state is SHA-256, for every length across the one- and
        /// two-block padding cases, and leaves its padding in `last`.
        #[test]
        fn finish_from_the_iv_is_sha256(msg in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut last = Padding::new();
            let state = finish(IV, 0, &msg, &mut last);
            let expected: [u8; 32] = sha2::Sha256::digest(&msg).into();
            prop_assert_eq!(to_bytes(&state), expected);
            let rest = msg.len() % BLOCK;
            prop_assert_eq!(&last.0[..rest], &msg[msg.len() - rest..]);
            prop_assert_eq!(last.0[rest], 0x80);
        }

        /// The streaming hasher agrees with `sha2` however the input is cut into parts:
        /// empty ones, ones that fill a partial block exactly, ones spanning blocks.
        #[test]
        fn parts_agree_with_sha2(
            msg in prop::collection::vec(any::<u8>(), 0..400),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(msg.len() + 1)).collect();
            cuts.push(0);
            cuts.push(msg.len());
            cuts.sort_unstable();
            let mut ours = Sha256::new();
            let mut theirs = sha2::Sha256::new();
            for pair in cuts.windows(2) {
                ours.update(&msg[pair[0]..pair[1]]);
                theirs.update(&msg[pair[0]..pair[1]]);
            }
            let expected: [u8; 32] = theirs.finalize().into();
            prop_assert_eq!(ours.finalize(), expected);
        }
    }

    #[test]
    fn block_boundaries() {
        for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let expected: [u8; 32] = sha2::Sha256::digest(&msg).into();
            let mut ours = Sha256::new();
            for byte in &msg {
                ours.update(core::slice::from_ref(byte));
            }
            assert_eq!(ours.finalize(), expected, "{len}");
        }
    }
}
