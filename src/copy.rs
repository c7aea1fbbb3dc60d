//! Copies of a few bytes whose length the compiler does not know: the last characters and
//! bytes of a base64url segment, the short strings of a claims set.
//!
//! `copy_from_slice` calls `memcpy` for such a length, which for a handful of bytes costs
//! more than the copy. On 64-bit targets these copy in overlapping words instead; elsewhere
//! they are `copy_from_slice`, the smaller code for a microcontroller.

/// Copies `src` into `dst`; `None`, with nothing copied, when their lengths differ. Up to
/// 16 bytes go as two overlapping words of 8 or 4 bytes or, below 4, byte by byte.
#[inline(always)]
#[must_use]
pub(crate) fn short(dst: &mut [u8], src: &[u8]) -> Option<()> {
    let n = src.len();
    if dst.len() != n {
        return None;
    }
    // Chained tests rather than a pair of `Option`s matched at once, which is tested as
    // two flags combined in a byte that `.ci/constant-time` cannot tell from a test of a
    // character: each test here is of the length alone.
    #[cfg(target_pointer_width = "64")]
    if n <= 16 {
        if let Some(a) = src.first_chunk::<8>()
            && let Some(b) = src.last_chunk::<8>()
        {
            overlapping(dst, *a, *b);
        } else if let Some(a) = src.first_chunk::<4>()
            && let Some(b) = src.last_chunk::<4>()
        {
            overlapping(dst, *a, *b);
        } else {
            // 1 to 3 bytes: the first, middle and last are all of them.
            for at in [0, n / 2, n.wrapping_sub(1)] {
                if let Some(&byte) = src.get(at)
                    && let Some(d) = dst.get_mut(at)
                {
                    *d = byte;
                }
            }
        }
        return Some(());
    }
    dst.copy_from_slice(src);
    Some(())
}

/// Writes `a` at the start of `dst` and `b` at its end, `dst` being `N` to `2N` bytes long,
/// so that the two cover it (nothing, where `dst` is shorter than `N`).
#[cfg(target_pointer_width = "64")]
#[inline(always)]
pub(crate) fn overlapping<const N: usize>(dst: &mut [u8], a: [u8; N], b: [u8; N]) {
    if let Some(d) = dst.first_chunk_mut() {
        *d = a;
    }
    if let Some(d) = dst.last_chunk_mut() {
        *d = b;
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::short;

    #[test]
    fn every_length_copies_exactly() {
        let src: [u8; 80] = core::array::from_fn(|i| u8::try_from(i).unwrap_or(0) ^ 0xa5);
        for n in 0..=80 {
            // The bytes around the destination must stay as they were.
            let mut buf = [0x5au8; 96];
            assert_eq!(short(&mut buf[8..8 + n], &src[..n]), Some(()), "{n}");
            assert_eq!(&buf[8..8 + n], &src[..n], "{n}");
            assert!(
                buf[..8].iter().chain(&buf[8 + n..]).all(|&b| b == 0x5a),
                "{n}"
            );
        }
    }

    #[test]
    fn other_lengths_copy_nothing() {
        let mut dst = [0u8; 4];
        assert_eq!(short(&mut dst, &[1, 2, 3]), None);
        assert_eq!(short(&mut dst, &[1, 2, 3, 4, 5]), None);
        assert_eq!(dst, [0; 4]);
    }
}
