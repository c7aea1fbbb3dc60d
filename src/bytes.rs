//! Comparisons of short byte strings: member names, literals, `alg`, the issuer, subject
//! and audiences a policy expects, the prefixes of a header.
//!
//! They are loops of their own rather than `==`, `starts_with` or `strip_prefix` on slices,
//! which on a microcontroller call `memcmp` through a function of their own and compile a
//! copy of `strip_prefix` for each shape of prefix. For strings this short a loop that
//! stops at the first byte that differs costs no more, and the firmwares are smaller
//! without those functions (footprint/README.md says by how much).
//!
//! None of them is constant-time: each stops at the first byte that differs. They are for
//! public bytes only; a MAC, a session ID or a store key is compared with
//! [`ct::eq32`](crate::ct::eq32).

/// Whether `bytes` starts with `prefix`.
pub(crate) fn starts_with(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Whether `a` and `b` are the same bytes. On 64-bit targets `==`, which the compiler
/// expands inline for a length it knows (a hot comparison on a server: the header `sign`
/// writes); elsewhere the loop.
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    if cfg!(target_pointer_width = "64") {
        a == b
    } else {
        a.len() == b.len() && starts_with(a, b)
    }
}

/// `bytes` after `prefix`, if it starts with it.
pub(crate) fn strip_prefix<'a>(bytes: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    if starts_with(bytes, prefix) {
        bytes.get(prefix.len()..)
    } else {
        None
    }
}

/// `bytes` after its first byte, if that is `first`.
pub(crate) fn strip_first(bytes: &[u8], first: u8) -> Option<&[u8]> {
    match bytes {
        [b, rest @ ..] if *b == first => Some(rest),
        _ => None,
    }
}

/// `bytes` before its last byte, if that is `last`.
pub(crate) fn strip_last(bytes: &[u8], last: u8) -> Option<&[u8]> {
    match bytes {
        [rest @ .., b] if *b == last => Some(rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_the_slice_methods() {
        let samples: [&[u8]; 9] = [b"", b"a", b"ab", b"abc", b"b", b"ba", b"\"}", b"}", b"abd"];
        for &x in &samples {
            for &y in &samples {
                assert_eq!(starts_with(x, y), x.starts_with(y), "{x:?} {y:?}");
                assert_eq!(eq(x, y), x == y, "{x:?} {y:?}");
                assert_eq!(strip_prefix(x, y), x.strip_prefix(y), "{x:?} {y:?}");
            }
            for byte in [b'a', b'b', b'}', b'"'] {
                assert_eq!(
                    strip_first(x, byte),
                    x.strip_prefix(&[byte]),
                    "{x:?} {byte}"
                );
                assert_eq!(strip_last(x, byte), x.strip_suffix(&[byte]), "{x:?} {byte}");
            }
        }
    }
}
