//! The payload most tokens carry, read without the canonicalizer: one object whose members
//! are strings without escapes, numbers and literals, with no whitespace anywhere. That is
//! how `sign`, and most other libraries, write claims.
//!
//! Such a payload is canonical JSON as it stands, so [`canonicalize`](super::canonicalize)
//! would leave it as it is; all there is to do is to check that it is exactly that shape,
//! note where its members are ([`Outline`](super::Outline)) and find the chosen ones
//! ([`Captures`]). [`read_flat`] does that in one loop over the bytes, with no container
//! stack, no table of open names and no rewriting, and it only reads the buffer. Anything
//! else, including every error, it leaves to the canonicalizer, which then decides as it
//! always has: a payload this reader takes is one the canonicalizer takes unchanged, with
//! the same captures and outline, unless it is not UTF-8, which the caller's conversion to
//! `str` then reports exactly as the canonicalizer does first of all (the
//! `agrees_with_the_canonicalizer` tests and the `flat_differential` fuzz target check
//! this). So which of the two read a payload never changes a verdict.
//!
//! Only on 64-bit targets, where servers run and verification's time counts. Elsewhere
//! [`read_flat`] takes nothing, and every payload goes to the canonicalizer: a
//! microcontroller's firmware keeps the smaller code (this reader is about 0.5 KiB on a
//! Cortex-M4).

use super::Captures;
#[cfg(target_pointer_width = "64")]
use super::{MAX_PLACES, digits_end, name_bit, number_len, plain_string_end};

/// Returns `true` only if `buf` is a flat object that
/// [`canonicalize_capturing`](super::canonicalize_capturing) would return unchanged (but
/// see UTF-8 below), having filled `captures` as that would (the values found and the
/// place of every member). Otherwise returns `false`, and `captures` must be
/// [cleared](Captures::clear) before it is used again: it may hold what was read before
/// the reader gave up.
///
/// The buffer's UTF-8 is not checked: the canonicalizer checks it before anything else, so
/// a payload taken here that is not UTF-8 is [`JsonError::InvalidUtf8`](crate::JsonError)
/// for both, and the caller, which needs the payload as a `str` anyway, finds that out.
///
/// Refused here but taken by the canonicalizer: whitespace, escapes, arrays and objects as
/// values, more than [`MAX_PLACES`] members, and offsets beyond `u16`.
#[cfg(target_pointer_width = "64")]
pub(crate) fn read_flat(buf: &[u8], max_depth: usize, captures: &mut Captures) -> bool {
    read(buf, max_depth, captures).is_some()
}

/// On targets other than 64-bit ones, no payload is taken here (see the module docs).
#[cfg(not(target_pointer_width = "64"))]
pub(crate) const fn read_flat(_: &[u8], _: usize, _: &mut Captures) -> bool {
    false
}

/// [`read_flat`], with `?` for every way of not being a flat object.
#[cfg(target_pointer_width = "64")]
fn read(buf: &[u8], max_depth: usize, captures: &mut Captures) -> Option<()> {
    // The object itself is one level of nesting.
    if max_depth == 0 || buf.first() != Some(&b'{') {
        return None;
    }
    if buf.get(1) == Some(&b'}') {
        return (buf.len() == 2).then_some(());
    }
    // The `name_bit`s of the names so far: a new name is compared with the earlier ones
    // only when its bit is taken.
    let mut seen = 0u64;
    let mut at = 1usize;
    loop {
        // `"name":`, the name without escapes; `colon` is just past its closing quote.
        let colon = plain_string_end(buf, at)?;
        if buf.get(colon) != Some(&b':') {
            return None;
        }
        let start = at.saturating_add(1);
        let name = buf.get(start..colon.saturating_sub(1))?;
        let bit = name_bit(name);
        if seen & bit != 0 && repeats(buf, captures, name) {
            return None;
        }
        seen |= bit;
        // The value: a string without escapes, a number or a literal.
        let value = colon.saturating_add(1);
        let rest = buf.get(value..)?;
        let len = match rest.first()? {
            b'"' => plain_string_end(buf, value)?.saturating_sub(value),
            // An integer, as dates are: where its digits end is where the grammar's
            // number ends when a `,` or the `}` follows (nothing could continue it).
            b'1'..=b'9' => match digits_end(buf, value.saturating_add(1)) {
                end if matches!(buf.get(end), Some(b',' | b'}')) => end.saturating_sub(value),
                _ => number_len(rest).ok()?,
            },
            b'-' | b'0' => number_len(rest).ok()?,
            b't' if rest.starts_with(b"true") => 4,
            b'f' if rest.starts_with(b"false") => 5,
            b'n' if rest.starts_with(b"null") => 4,
            _ => return None,
        };
        let end = value.saturating_add(len);
        if let Some(i) = (captures.find)(name) {
            captures.record(i, value, end, true).ok()?;
        }
        // Every member placed: duplicates are looked for among the placed names only.
        if !captures.outline.place(start, value, end) {
            return None;
        }
        match buf.get(end) {
            Some(b',') => at = end.saturating_add(1),
            Some(b'}') => return (end.saturating_add(1) == buf.len()).then_some(()),
            _ => return None,
        }
    }
}

/// Whether an earlier member, all of which are placed, has the name `name`. Names without
/// escapes are equal exactly when their bytes are.
#[cfg(target_pointer_width = "64")]
fn repeats(buf: &[u8], captures: &Captures, name: &[u8]) -> bool {
    captures.outline.places().iter().any(|place| {
        let earlier = usize::from(place.name)..usize::from(place.value).saturating_sub(2);
        buf.get(earlier) == Some(name)
    })
}

// The outline holds every member of a payload read here, so it bounds their number.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(MAX_PLACES <= super::MAX_MEMBERS);

#[cfg(all(test, target_pointer_width = "64"))]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    extern crate alloc;

    use alloc::string::String;
    use alloc::vec::Vec;
    use core::ops::Range;

    use proptest::prelude::*;

    use super::super::tests::apply_edits;
    use super::super::{MAX_DEPTH, canonicalize_capturing};
    use super::*;
    use crate::JsonError;
    use crate::jwt::decode::registered_index;

    type Found = Vec<(usize, Range<usize>, bool)>;

    fn found(captures: &Captures) -> Found {
        captures.found().collect()
    }

    /// Reads `bytes` both ways and checks that a payload the flat reader takes is one the
    /// canonicalizer takes unchanged, with the same captures and outline. Also that every
    /// payload of the flat shape is taken, so that the common case never goes the slow
    /// way unnoticed. Returns whether the flat reader took it.
    fn agrees(bytes: &[u8], max_depth: usize) -> Result<bool, TestCaseError> {
        let mut flat = Captures::new(registered_index);
        let taken = read_flat(bytes, max_depth, &mut flat);
        let mut buf = bytes.to_vec();
        let mut canonical = Captures::new(registered_index);
        let result = canonicalize_capturing(&mut buf, max_depth, &mut canonical);
        if taken {
            if result == Err(JsonError::InvalidUtf8) {
                prop_assert!(core::str::from_utf8(bytes).is_err());
                return Ok(true);
            }
            prop_assert_eq!(result, Ok(bytes.len()), "{:?}", shown(bytes));
            prop_assert_eq!(&buf, bytes);
            prop_assert_eq!(found(&flat), found(&canonical));
            prop_assert_eq!(flat.outline.places(), canonical.outline.places());
        } else {
            // The flat shape, as far as bytes tell it: canonical and unchanged, no escape,
            // no container but the object, at most as many `:` as places, and offsets that
            // a place holds.
            let flat_shape = result == Ok(bytes.len())
                && bytes.len() <= usize::from(u16::MAX)
                && buf == bytes
                && !bytes.contains(&b'\\')
                && !bytes.contains(&b'[')
                && bytes.iter().filter(|&&b| b == b'{').count() == 1
                && bytes.iter().filter(|&&b| b == b':').count() <= MAX_PLACES;
            prop_assert!(!flat_shape, "not taken: {:?}", shown(bytes));
        }
        Ok(taken)
    }

    /// The start of `bytes`, for a message.
    fn shown(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes.get(..200).unwrap_or(bytes)).into_owned()
    }

    fn check(json: &str) -> bool {
        agrees(json.as_bytes(), MAX_DEPTH).unwrap()
    }

    #[test]
    fn takes_flat_canonical_objects() {
        for json in [
            "{}",
            r#"{"iss":"https://auth.example","sub":"user-42","aud":"api","iat":1700000000,"exp":1700003600,"jti":"c9f0f895fb","role":"editor"}"#,
            r#"{"a":1,"b":-0.5e+3,"c":0,"d":true,"e":false,"f":null,"g":"","h":"é"}"#,
            r#"{"a":-0,"b":1e5,"c":1E-5,"é":"ü","exp":0}"#,
            r#"{"":1,"exp":18446744073709551616,"nbf":1.5,"iss":7,"aud":"x"}"#,
            r#"{"a":1,"ab":2,"ba":3,"b":4,"aa":5}"#,
        ] {
            assert!(check(json), "{json}");
        }
        // Sixteen members, each placed.
        let mut json = String::from("{");
        for i in 0..MAX_PLACES {
            json.push_str(&alloc::format!("\"m{i}\":{i},"));
        }
        json.pop();
        json.push('}');
        assert!(check(&json));
    }

    #[test]
    fn leaves_everything_else_to_the_canonicalizer() {
        for json in [
            "",
            "{",
            "[]",
            " {}",
            "{} ",
            "{}x",
            r#"{ "a":1}"#,
            r#"{"a" :1}"#,
            r#"{"a": 1}"#,
            r#"{"a":1 }"#,
            r#"{"a":1,}"#,
            r#"{"a":1}x"#,
            r#"{"a":1} "#,
            r#"{"a"x1}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a":1,,"b":2}"#,
            r#"{"a":1"b":2}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"exp":1,"iat":2,"exp":3}"#,
            r#"{"a\u0041":1}"#,
            r#"{"a":"b\"c"}"#,
            r#"{"a":"b\/c"}"#,
            "{\"a\":\"b\u{1}\"}",
            r#"{"a":[]}"#,
            r#"{"a":{}}"#,
            r#"{"aud":["api"]}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e}"#,
            r#"{"a":-}"#,
            r#"{"a":+1}"#,
            r#"{"a":1x}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex}"#,
            r#"{"a":nul}"#,
            r#"{"a":"b}"#,
            r#"{"a"}"#,
            r#"{a:1}"#,
            r#"{""#,
            r#"{"a":""#,
            r#"{"a":1}}"#,
            r#"{"a":1,"#,
        ] {
            assert!(!check(json), "{json}");
        }
        // Seventeen members: more than the outline places. Duplicates are looked for among
        // the placed names, so a member that cannot be placed must not be taken: here the
        // seventeenth and eighteenth repeat a name.
        let mut json = String::from("{");
        for i in 0..MAX_PLACES {
            json.push_str(&alloc::format!("\"m{i}\":{i},"));
        }
        assert!(!check(&alloc::format!("{json}\"x\":1}}")));
        assert!(!check(&alloc::format!("{json}\"x\":1,\"x\":2}}")));
        // The same past the offsets a place holds.
        let long = "x".repeat(usize::from(u16::MAX));
        assert!(!check(&alloc::format!(r#"{{"a":"{long}","x":1}}"#)));
        assert!(!check(&alloc::format!(r#"{{"a":"{long}","x":1,"x":2}}"#)));
        assert!(check(&alloc::format!(
            r#"{{"a":"{}","x":1}}"#,
            &long[..65_000]
        )));
        // No nesting allowed at all.
        assert!(!agrees(br#"{"a":1}"#, 0).unwrap());
        assert!(agrees(br#"{"a":1}"#, 1).unwrap());
    }

    #[test]
    fn bytes_that_are_not_utf8_get_the_canonicalizers_verdict() {
        // Taken here, and refused by the canonicalizer for its UTF-8 before anything else,
        // which is what `verify` reports when the payload is not a `str`.
        assert!(agrees(b"{\"a\":\"\xff\"}", MAX_DEPTH).unwrap());
        assert!(!agrees(b"{\"a\":\xff}", MAX_DEPTH).unwrap());
    }

    /// Names that collide, registered ones included, and odd ones.
    const NAMES: &[&str] = &[
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "a", "b", "role", "", "é",
        "a\\u0041", "x\\\"y",
    ];

    /// Values of every kind, and near misses.
    const VALUES: &[&str] = &[
        "\"api\"",
        "\"\"",
        "\"é\"",
        "\"a\\\"b\"",
        "\"a\u{1}\"",
        "1700000000",
        "0",
        "-1",
        "1.5",
        "-0.5e+3",
        "1E3",
        "01",
        "1.",
        "-",
        "18446744073709551616",
        "true",
        "false",
        "null",
        "tru",
        "nul",
        "[]",
        "[\"api\"]",
        "{}",
        "{\"a\":1}",
        "\"unterminated",
        "-0",
        "1e5",
        "1700000000x",
        "\"}",
    ];

    /// Between members: mostly a bare comma.
    const SEPARATORS: &[&str] = &[",", ",", ",", ",", ",", ",", ", ", " ,", ",,", " ", ":", ""];

    /// Bytes that make small edits interesting.
    const EDITS: &[u8] = b"{}[]\":,0123456789-+.eEtfn \t\\u\x00\x1f\xc3\xff";

    fn object(members: &[(usize, usize, usize)], close: bool) -> Vec<u8> {
        let mut json = String::from("{");
        for (i, &(name, value, separator)) in members.iter().enumerate() {
            if i > 0 {
                json.push_str(SEPARATORS[separator % SEPARATORS.len()]);
            }
            json.push('"');
            json.push_str(NAMES[name % NAMES.len()]);
            json.push_str("\":");
            json.push_str(VALUES[value % VALUES.len()]);
        }
        if close {
            json.push('}');
        }
        json.into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn agrees_with_the_canonicalizer(
            members in prop::collection::vec((0usize..64, 0usize..64, 0usize..64), 0..20),
            close in prop::bool::weighted(0.95),
            depth in prop_oneof![Just(MAX_DEPTH), 0usize..3],
        ) {
            agrees(&object(&members, close), depth)?;
        }

        #[test]
        fn agrees_with_the_canonicalizer_after_edits(
            members in prop::collection::vec((0usize..64, 0usize..64, 0usize..64), 0..12),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(EDITS)),
                1..4,
            ),
        ) {
            let mut bytes = object(&members, true);
            apply_edits(&mut bytes, edits);
            agrees(&bytes, MAX_DEPTH)?;
        }

        #[test]
        fn agrees_with_the_canonicalizer_on_any_bytes(
            bytes in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            agrees(&bytes, MAX_DEPTH)?;
            // And behind the start of a member, so that the loop gets to read them.
            agrees(&[br#"{""#.as_slice(), &bytes].concat(), MAX_DEPTH)?;
        }
    }
}
