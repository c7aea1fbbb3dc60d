//! Strict, bounded JSON: validation and canonicalization of JWT headers and payloads.
//!
//! Every header (read before the MAC is checked, so attacker input) and every payload is
//! validated before anything else looks at its bytes: by [`canonicalize`], or, on 64-bit
//! targets, for a payload that is already canonical and flat (an object of strings
//! without escapes, numbers and literals, which is how most tokens' claims are written)
//! by [`read_flat`], which takes only what [`canonicalize`] returns unchanged, apart from
//! UTF-8, which its caller checks (see [`flat`]).
//! `serde-json-core` alone is not a validator: it skips ignored fields loosely (`"x":tru`
//! passes), has no nesting limit, takes raw control characters, and cannot decode a
//! surrogate pair. This module closes those holes, so the JSON that the rest of the crate
//! and the application see is exactly [RFC 8259] JSON, in one canonical spelling.
//!
//! # What is accepted
//!
//! - UTF-8 only. The whole buffer is checked once, up front, so [`JsonError::InvalidUtf8`]
//!   wins over every other error.
//! - The top-level value is an object, with only insignificant whitespace (space, tab,
//!   line feed, carriage return) around it and nothing after it
//!   ([`JsonError::TrailingData`]). Input whose first byte after whitespace is not `{` is
//!   [`JsonError::NotObject`]; empty input is [`JsonError::Syntax`].
//! - The exact grammar of RFC 8259: numbers `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`,
//!   the literals `true`, `false` and `null`, no trailing commas, no comments, no single
//!   quotes. Raw U+0000 to U+001F inside a string is refused, as is any escape but
//!   `\" \\ \/ \b \f \n \r \t \uXXXX`, and any `\u` escape of half a surrogate pair that
//!   is not completed by its other half.
//! - Objects and arrays nest at most `max_depth` deep (at most [`MAX_DEPTH`]; the
//!   top-level object is depth 1).
//! - No object has two members with the same name, compared after unescaping, at every
//!   level (so `"exp"` and `"\u0065xp"` collide).
//! - At most [`MAX_MEMBERS`] member names are *open* at any moment: the members seen so
//!   far of every object not yet closed, that is of the object being read and of every
//!   object enclosing it ([`JsonError::TooManyMembers`]). See below for why.
//!
//! Apart from UTF-8, the error is that of the first problem in reading order.
//!
//! # Canonical form
//!
//! Whitespace is removed; numbers and literals are kept verbatim; every string escape is
//! decoded to raw UTF-8 except that `"` is written `\"`, `\` is written `\\`, and
//! U+0000 to U+001F are written `\b \f \n \r \t` where JSON has such an escape and
//! `\u00xx` (lowercase hex) otherwise. Every string has exactly one canonical spelling,
//! so two names are equal exactly when their canonical bytes are. Strings come out
//! exactly as `serde_json` writes them.
//!
//! The rewrite happens in place, in one pass. Each input token is read completely before
//! its output is written, and no token's output is longer than the token:
//!
//! | input token | bytes in | bytes out |
//! |---|---|---|
//! | whitespace | n | 0 |
//! | `{ } [ ] , :` and string quotes | 1 | 1 |
//! | number, literal, run of raw string bytes | n | n |
//! | `\" \\ \b \f \n \r \t` | 2 | 2 |
//! | `\/` | 2 | 1 |
//! | `\uXXXX` (not a surrogate) | 6 | 1 to 3 (UTF-8), 2 (`\"`, `\\`, `\n`, ...) or 6 (`\u00xx`) |
//! | `\uXXXX\uXXXX` (surrogate pair) | 12 | 4 |
//!
//! By induction over tokens the write index never passes the read index, and a token's
//! output, written from the write index, ends at or before the token's end. So the
//! rewrite only ever overwrites bytes that have already been read, and the canonical
//! length is at most the input length.
//!
//! # Bounded work and memory
//!
//! Nothing recurses. The parser's state is a fixed [`MAX_DEPTH`]-entry stack of open
//! containers (one byte each) and a fixed-capacity table of [`MAX_MEMBERS`] offsets, one
//! per open member name, pointing at its canonical spelling in the already-written
//! output: about 600 bytes on a 32-bit target. The table is a `heapless::Vec`: only the
//! entries pushed are read, so its 0.5 KiB (1 KiB on 64-bit targets) is not cleared
//! before each parse.
//!
//! Each new member name is compared with the names before it in the same object, found
//! through the table, by a plain memory comparison. The obvious allocation-free
//! alternative, keeping only each object's start and rescanning its canonical output for
//! every new name, is quadratic in the *bytes* of the object: each rescan also has to skip
//! the member values, whole nested objects and long strings included. A limit on members
//! per object would not bound it either, because a chain of nested objects, each with a
//! few names after its child, makes every level rescan all the levels below it. Measured
//! in release mode on one x86-64 server core, that scheme costs about 8 ms for 8 KiB of
//! tiny unique names in one object, 2 ms for a 61-level chain with 16 names after each
//! child, and 0.4 ms for a 6000-byte string followed by 127 names.
//!
//! With the table no value is ever rescanned, and a new name costs at most
//! `MAX_MEMBERS - 1` comparisons of a few bytes. The worst 8 KiB inputs found are arrays
//! of objects that each hold the most names the limit allows, all short and sharing a
//! prefix: about 0.12 ms on the same core. The same chain and long-string inputs take
//! 25 µs and 16 µs; a typical header 60 ns and a typical payload 0.3 µs. The limit of
//! [`MAX_MEMBERS`] open names is far above what JWT headers (a handful of members) and
//! common payloads (a few dozen claims) use; more is refused with
//! [`JsonError::TooManyMembers`].
//!
//! # Reading canonical JSON
//!
//! [`members`], [`elements`], [`JsonStr`] and [`parse_u64`] read the output of
//! [`canonicalize`] without allocating. They never panic and never loop forever on any
//! input; on input that is not canonical they stop (an iterator ends, a method returns
//! `None` or `false`).
//!
//! [RFC 8259]: https://www.rfc-editor.org/rfc/rfc8259

use crate::JsonError;
use crate::bytes;

mod de;
mod flat;

pub(crate) use de::{DeError, from_canonical};
pub(crate) use flat::read_flat;

/// Hard upper bound on nesting depth (the top-level object counts as depth 1).
pub(crate) const MAX_DEPTH: usize = 64;

/// Hard upper bound on the number of member names open at once: those of the object
/// being read plus those of every object enclosing it.
pub(crate) const MAX_MEMBERS: usize = 128;

/// Validate `buf` strictly as [RFC 8259] JSON whose top-level value is an object, and
/// rewrite it in place into canonical form (see the module docs).
///
/// Returns the canonical length, which is never more than `buf.len()`; the canonical
/// JSON is `buf[..len]`. On error the contents of `buf` are unspecified. `max_depth` is
/// clamped to [`MAX_DEPTH`].
///
/// [RFC 8259]: https://www.rfc-editor.org/rfc/rfc8259
pub(crate) fn canonicalize(buf: &mut [u8], max_depth: usize) -> Result<usize, JsonError> {
    // No `Captures` at all, rather than one that finds nothing: a header is read while
    // the payload's `Captures` is on the stack already.
    canonicalize_into(buf, max_depth, None)
}

/// [`canonicalize`], also noting where in the canonical output the values of the chosen
/// top-level members are (see [`Captures`]), so that they can be read without walking the
/// object again.
pub(crate) fn canonicalize_capturing(
    buf: &mut [u8],
    max_depth: usize,
    captures: &mut Captures,
) -> Result<usize, JsonError> {
    canonicalize_into(buf, max_depth, Some(captures))
}

/// [`canonicalize`], noting what `captures` asks for, if any.
// Never inlined, so that the reader's state is on the stack once at a time rather than in
// the frame of every caller.
#[inline(never)]
fn canonicalize_into(
    buf: &mut [u8],
    max_depth: usize,
    captures: Option<&mut Captures>,
) -> Result<usize, JsonError> {
    // An ASCII check first, which most tokens pass: cheaper than UTF-8 validation. Not
    // where `BYTE_LOOPS` says so: there `from_utf8`'s own ASCII check is the smaller code.
    let ascii = !BYTE_LOOPS && is_ascii(buf);
    if !ascii && core::str::from_utf8(buf).is_err() {
        return Err(JsonError::InvalidUtf8);
    }
    let mut canonicalizer = Canonicalizer {
        buf,
        r: 0,
        w: 0,
        max_depth: max_depth.min(MAX_DEPTH),
        // Only entries below `depth` are read, each written by `open` first. Zeros, not
        // `ARRAY`: a firmware clears memory with a routine it has anyway, where filling
        // with another byte links one more.
        frames: [0; MAX_DEPTH],
        depth: 0,
        keys: heapless::Vec::new(),
        top_names: NameFilter::default(),
        captures,
        capturing: None,
    };
    canonicalizer.run()
}

/// The most top-level members [`Captures`] reports.
pub(crate) const MAX_CAPTURES: usize = 8;

/// The most top-level members whose [`Place`] [`Captures`] keeps: none on 32-bit targets
/// other than wasm, which place no members (see [`Outline`]). The condition is the one
/// under which the canonicalizer's fast path, the flat reader and `Outline`'s methods for
/// places are built.
pub(crate) const MAX_PLACES: usize =
    if cfg!(any(target_pointer_width = "64", target_family = "wasm")) {
        16
    } else {
        0
    };

/// Where a top-level member that needed no rewriting is in the canonical output: its name
/// has no escapes, and its value is a string without escapes, a number or a literal.
///
/// The deserializer takes such a member's name and value from here rather than finding
/// their ends again. Offsets are `u16` to keep the table small (it lives on the stack of
/// every verification); a member beyond them is not placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    /// Offset of the name's first byte, just after its opening quote.
    pub(crate) name: u16,
    /// Offset of the value, just after the `:` (so the name ends two bytes before it).
    pub(crate) value: u16,
    /// Offset just past the value.
    pub(crate) end: u16,
}

/// The [`Place`]s of the first top-level members that needed no rewriting, in document
/// order; members that did, and those past the first [`MAX_PLACES`], are left out.
///
/// Only the canonicalizer's fast path and the flat reader place members, and 32-bit
/// targets other than wasm (microcontrollers, built for flash more than speed) have
/// neither: there an `Outline` has no room for a place ([`MAX_PLACES`] is 0),
/// [`get`](Self::get) is `None` at compile time, and the deserializer's code for places is
/// left out.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(
    not(any(target_pointer_width = "64", target_family = "wasm")),
    allow(dead_code)
)]
pub(crate) struct Outline {
    places: [Place; MAX_PLACES],
    len: usize,
}

impl Outline {
    /// No member placed.
    pub(crate) const EMPTY: Self = Self {
        places: [Place {
            name: 0,
            value: 0,
            end: 0,
        }; MAX_PLACES],
        len: 0,
    };

    /// The `i`-th place noted, if there is one.
    #[cfg(any(target_pointer_width = "64", target_family = "wasm"))]
    pub(crate) fn get(&self, i: usize) -> Option<Place> {
        self.places().get(i).copied()
    }

    /// None: microcontroller targets place no members.
    #[cfg(not(any(target_pointer_width = "64", target_family = "wasm")))]
    #[expect(
        clippy::unused_self,
        reason = "the same signature as on 64-bit targets"
    )]
    pub(crate) fn get(&self, _i: usize) -> Option<Place> {
        None
    }

    /// Notes where a member is, if there is room and its offsets fit; whether it did.
    /// The canonicalizer may leave one out, which only makes the deserializer find it the
    /// slow way; [`read_flat`] gives up instead, since it finds duplicate names among the
    /// places.
    #[cfg(any(target_pointer_width = "64", target_family = "wasm"))]
    fn place(&mut self, name: usize, value: usize, end: usize) -> bool {
        if let (Some(slot), Ok(name), Ok(value), Ok(end)) = (
            self.places.get_mut(self.len),
            u16::try_from(name),
            u16::try_from(value),
            u16::try_from(end),
        ) {
            *slot = Place { name, value, end };
            self.len = self.len.saturating_add(1);
            true
        } else {
            false
        }
    }

    /// The places noted, in document order.
    #[cfg(any(target_pointer_width = "64", target_family = "wasm"))]
    fn places(&self) -> &[Place] {
        self.places.get(..self.len).unwrap_or_default()
    }
}

/// Top-level members to find while reading a payload (by [`canonicalize_capturing`] or
/// [`read_flat`]), and where their values are:
/// ranges of the canonical output, in the order the members appear (each name at most
/// once, since names do not repeat). It also keeps the [`Outline`] of the top-level
/// members, found or not, that needed no rewriting.
///
/// Which names are looked for is a function from a canonical name to its index (at most
/// [`MAX_CAPTURES`] indices): a `match` on the names compiles to a few comparisons, where a
/// list of names would be searched.
#[derive(Clone)]
pub(crate) struct Captures {
    find: fn(&[u8]) -> Option<usize>,
    /// `(index of the name, start, end, placed)` of each value found, in document order;
    /// `placed` if the member needed no rewriting (see [`Place`]).
    found: heapless::Vec<(usize, usize, usize, bool), MAX_CAPTURES>,
    /// Where the first top-level members that needed no rewriting are.
    outline: Outline,
}

impl Captures {
    /// Looks for the members that `find` gives an index. Never inlined: the value is then
    /// written straight into the caller's variable, not built on the stack and copied.
    #[inline(never)]
    pub(crate) const fn new(find: fn(&[u8]) -> Option<usize>) -> Self {
        Self {
            find,
            found: heapless::Vec::new(),
            outline: Outline::EMPTY,
        }
    }

    /// The values found, in document order: the index of the name, the value's range in
    /// the canonical output, and whether the member needed no rewriting (so that a string
    /// value has no escapes; see [`Place`]).
    pub(crate) fn found(
        &self,
    ) -> impl Iterator<Item = (usize, core::ops::Range<usize>, bool)> + '_ {
        self.found
            .iter()
            .map(|&(i, start, end, placed)| (i, start..end, placed))
    }

    /// Where the first top-level members that needed no rewriting are.
    pub(crate) fn outline(&self) -> Outline {
        self.outline
    }

    /// Forgets every value found and every place, as if new.
    pub(crate) fn clear(&mut self) {
        self.found.clear();
        self.outline.len = 0;
    }

    /// Notes a value; an error if there is no room, which cannot happen while names are
    /// unique and `find` gives at most [`MAX_CAPTURES`] indices, but must never drop one.
    fn record(
        &mut self,
        name: usize,
        start: usize,
        end: usize,
        placed: bool,
    ) -> Result<(), JsonError> {
        self.found
            .push((name, start, end, placed))
            .map_err(|_| JsonError::TooManyMembers)
    }
}

/// A JSON value in canonical JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A string.
    String(JsonStr<'a>),
    /// A number, exactly as written.
    Number(&'a [u8]),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An array: its canonical bytes, brackets included (see [`elements`]).
    Array(&'a [u8]),
    /// An object: its canonical bytes, braces included (see [`members`]).
    Object(&'a [u8]),
}

/// A string in canonical JSON: the bytes between the quotes, still escaped.
///
/// Only escapes that canonical JSON uses occur (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`
/// and `\u00xx` for other control characters), each of which stands for one ASCII byte.
/// Two `JsonStr`s are equal exactly when the strings they stand for are.
///
/// The bytes are UTF-8 when they come from [`canonicalize`]d JSON, but the readers do not
/// check it string by string: names are compared as bytes, and only the few values that
/// are handed out as `&str` ([`raw`](Self::raw), [`unescape_into`](Self::unescape_into))
/// are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JsonStr<'a>(&'a [u8]);

impl<'a> JsonStr<'a> {
    /// The canonical text between the quotes, escapes and all; `None` if it is not UTF-8.
    pub(crate) fn raw(&self) -> Option<&'a str> {
        core::str::from_utf8(self.0).ok()
    }

    /// The string's bytes, if it contains no escapes (the common case: no `"`, `\` or
    /// control characters); `None` otherwise.
    pub(crate) fn plain(&self) -> Option<&'a [u8]> {
        (!self.has_escape()).then_some(self.0)
    }

    /// Whether a backslash occurs. A byte loop, not `<[u8]>::contains`: the strings are
    /// short, and `contains` would link `memchr` (172 B on a Cortex-M) for this alone.
    #[expect(clippy::manual_contains, reason = "`contains` links `memchr`")]
    fn has_escape(&self) -> bool {
        self.0.iter().any(|&byte| byte == b'\\')
    }

    /// The string, if it contains no escapes and is UTF-8; `None` otherwise.
    #[cfg(test)]
    pub(crate) fn as_str(&self) -> Option<&'a str> {
        self.plain()
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
    }

    /// Writes the unescaped string to the start of `out` and returns it; `None` if `out`
    /// is shorter than [`unescaped_len`](Self::unescaped_len).
    pub(crate) fn unescape_into<'b>(&self, out: &'b mut [u8]) -> Option<&'b str> {
        let mut unescaped = self.unescaped();
        let mut len = 0usize;
        for (slot, byte) in out.iter_mut().zip(unescaped.by_ref()) {
            *slot = byte;
            len = len.saturating_add(1);
        }
        // Everything must have been written, and nothing may have been malformed.
        if unescaped.next().is_some() || unescaped.malformed {
            return None;
        }
        let out: &'b [u8] = out;
        out.get(..len)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
    }

    /// Whether the unescaped string holds a NUL character (canonical JSON writes it
    /// `\u0000`).
    pub(crate) fn contains_nul(&self) -> bool {
        // Only `\u0000` stands for NUL, but `\\u0000` (a backslash, then `u0000`) holds
        // those bytes too: decode rather than search.
        self.has_escape() && self.unescaped().any(|b| b == 0)
    }

    /// Writes the unescaped string to the front of `spare`, which keeps what is left
    /// after it, and returns it; `None` if `spare` is too short (or the string is not
    /// canonical, which a canonicalized payload rules out).
    pub(crate) fn unescape_to<'s>(&self, spare: &mut &'s mut [u8]) -> Option<&'s str> {
        let (dst, tail) = core::mem::take(spare).split_at_mut_checked(self.unescaped_len())?;
        *spare = tail;
        self.unescape_into(dst)
    }

    /// The length in bytes of the unescaped string.
    pub(crate) fn unescaped_len(&self) -> usize {
        self.unescaped().count()
    }

    /// Whether the unescaped string equals `s` (for tests: a canonical string has one
    /// spelling, so the crate compares canonical bytes).
    #[cfg(test)]
    pub(crate) fn eq_str(&self, s: &str) -> bool {
        if let Some(raw) = self.plain() {
            return raw == s.as_bytes();
        }
        let mut unescaped = self.unescaped();
        unescaped.by_ref().eq(s.bytes()) && !unescaped.malformed
    }

    fn unescaped(&self) -> Unescaped<'a> {
        Unescaped {
            rest: self.0,
            malformed: false,
        }
    }
}

/// The members of a canonical object, in order: `(name, value)`.
///
/// `object` is the whole object, braces included. The iterator ends early on anything
/// that is not canonical JSON.
pub(crate) fn members(object: &[u8]) -> Members<'_> {
    let inner = bytes::strip_first(object, b'{').and_then(|o| bytes::strip_last(o, b'}'));
    Members(Items {
        rest: inner.unwrap_or_default(),
        first: true,
        done: inner.is_none(),
    })
}

/// The elements of a canonical array, in order.
///
/// `array` is the whole array, brackets included. The iterator ends early on anything
/// that is not canonical JSON.
pub(crate) fn elements(array: &[u8]) -> Elements<'_> {
    let inner = bytes::strip_first(array, b'[').and_then(|a| bytes::strip_last(a, b']'));
    Elements(Items {
        rest: inner.unwrap_or_default(),
        first: true,
        done: inner.is_none(),
    })
}

/// Whether the readers' searches go a byte at a time rather than a word at a time: on
/// 32-bit targets other than wasm, where the byte loops are the smaller code and a
/// microcontroller firmware's flash counts for more than a few hundred instructions per
/// token. That takes in the 32-bit hosted targets too (i686, ARMv7 Linux, x86-64's x32):
/// the same verdicts, somewhat more instructions. The i686 test run is what exercises
/// these paths on a host.
pub(crate) const BYTE_LOOPS: bool = cfg!(all(
    target_pointer_width = "32",
    not(target_arch = "wasm32")
));

/// The index of the first `"`, `\` or control character (U+0000 to U+001F) in `bytes`:
/// the end of a run of string content that needs no attention. Eight bytes at a time, or
/// one at a time where [`BYTE_LOOPS`] says so.
pub(crate) fn string_run(bytes: &[u8]) -> Option<usize> {
    if BYTE_LOOPS {
        return bytes
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
    }
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0usize;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let found = escape_lanes(u64::from_le_bytes(word));
        if found != 0 {
            let lane = usize::try_from(found.trailing_zeros() / 8).unwrap_or(0);
            return Some(at.saturating_add(lane));
        }
        at = at.saturating_add(8);
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at.saturating_add(i))
}

/// The high bit of the byte lanes of `v` (little-endian) that hold `"`, `\` or a control
/// character, exact for the lowest such lane (a borrow only ever reaches lanes above it):
/// zero exactly when no lane holds one.
pub(crate) const fn escape_lanes(v: u64) -> u64 {
    const LANES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each lane that is zero, under the same condition.
    const fn zero(v: u64) -> u64 {
        v.wrapping_sub(LANES) & !v & HIGH
    }
    // Lanes below 0x20: the same borrow trick against 0x20 instead of 1.
    let control = v.wrapping_sub(LANES.wrapping_mul(0x20)) & !v & HIGH;
    zero(v ^ LANES.wrapping_mul(b'"' as u64)) | zero(v ^ LANES.wrapping_mul(b'\\' as u64)) | control
}

/// Whether every byte of `bytes` is ASCII: eight bytes at a time, without stopping early
/// (which `<[u8]>::is_ascii` does at a cost, for the short inputs here).
pub(crate) fn is_ascii(bytes: &[u8]) -> bool {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut any = 0u64;
    for word in words {
        any |= u64::from_le_bytes(*word);
    }
    for &b in tail {
        any |= u64::from(b);
    }
    any & 0x8080_8080_8080_8080 == 0
}

/// One of 64 bits standing for a canonical member name (its content, without quotes), from
/// its length and its first, second and last bytes: names with different bits differ, so
/// a new name need be compared with the earlier ones of its object only when its bit is
/// already taken (for the few names of a claims set, seldom). Used by the readers and the
/// claims writer. Not constant time: names are not secrets.
#[cfg(target_pointer_width = "64")]
pub(crate) fn name_bit(name: &[u8]) -> u64 {
    let byte = |b: Option<&u8>| u32::from(b.copied().unwrap_or(0));
    let len = name.len() as u32;
    let mix = byte(name.first())
        .wrapping_add(byte(name.get(1)).wrapping_mul(5))
        .wrapping_add(byte(name.last()).wrapping_mul(11))
        .wrapping_add(len.wrapping_mul(3));
    1 << (mix & 63)
}

/// On other targets every name takes all the bits, so each name after an object's first is
/// compared with the earlier ones: a microcontroller's firmware keeps the smaller code
/// rather than saving a few hundred instructions per token.
#[cfg(not(target_pointer_width = "64"))]
pub(crate) const fn name_bit(_: &[u8]) -> u64 {
    u64::MAX
}

/// Parses a JSON number that is a plain non-negative integer (no sign, fraction or
/// exponent, no leading zero) fitting in a `u64`.
pub(crate) fn parse_u64(number: &[u8]) -> Option<u64> {
    match number {
        [b'0'] => Some(0),
        [b'1'..=b'9', ..] => {
            // Nineteen digits are below 10^19 < 2^64, so only a twentieth can overflow: the
            // common case goes without overflow checks.
            let (head, tail) = number.split_at(number.len().min(19));
            let mut n = 0u64;
            // Eight digits at a time on 64-bit targets (nine to sixteen digits, a date's
            // ten among them, as two steps side by side). Not on wasm, though it has
            // 64-bit arithmetic: there it measured no faster (`examples/wasm/bench.mjs`)
            // and took 202 B more module.
            #[cfg(target_pointer_width = "64")]
            let head = {
                // Nine to sixteen digits (a date has ten): the last eight, and the ones
                // before them as the low lanes of the first eight, shifted up so that the
                // lanes past them drop out. The two halves do not wait for each other.
                if let (Some(first), Some(last)) = (head.first_chunk::<8>(), head.last_chunk::<8>())
                    && let Some(high_len) =
                        head.len().checked_sub(8).filter(|k| (1..=8).contains(k))
                {
                    let low = eight_digits(*last)?;
                    let first = u64::from_le_bytes(*first);
                    if non_digit_lanes(first) != 0 {
                        return None;
                    }
                    let shift = 8u32.saturating_sub(high_len as u32).saturating_mul(8);
                    let high =
                        digit_lanes_value(first.wrapping_sub(DIGIT_ZEROS).wrapping_shl(shift));
                    n = high.wrapping_mul(100_000_000).wrapping_add(low);
                    &[]
                } else {
                    let mut head = head;
                    while let Some((chunk, rest)) = head.split_first_chunk::<8>() {
                        n = n
                            .wrapping_mul(100_000_000)
                            .wrapping_add(eight_digits(*chunk)?);
                        head = rest;
                    }
                    head
                }
            };
            for &c in head {
                let digit = c.wrapping_sub(b'0');
                if digit > 9 {
                    return None;
                }
                n = n.wrapping_mul(10).wrapping_add(u64::from(digit));
            }
            for &c in tail {
                let digit = c.wrapping_sub(b'0');
                if digit > 9 {
                    return None;
                }
                n = n.checked_mul(10)?.checked_add(u64::from(digit))?;
            }
            Some(n)
        }
        _ => None,
    }
}

/// Eight `b'0'` lanes.
#[cfg(any(test, target_pointer_width = "64"))]
const DIGIT_ZEROS: u64 = 0x0101_0101_0101_0101 * b'0' as u64;

/// The value of eight ASCII decimal digits, the first the most significant; `None` if a
/// byte is not a digit.
#[cfg(any(test, target_pointer_width = "64"))]
fn eight_digits(chunk: [u8; 8]) -> Option<u64> {
    let v = u64::from_le_bytes(chunk);
    if non_digit_lanes(v) != 0 {
        return None;
    }
    Some(digit_lanes_value(v.wrapping_sub(DIGIT_ZEROS)))
}

/// The number whose decimal digits are the byte lanes of `d` (each 0 to 9, the most
/// significant in the lowest lane), in one 64-bit word: the lanes combined pairwise into
/// 16-bit lanes, those into 32-bit lanes, then into one number.
#[cfg(any(test, target_pointer_width = "64"))]
const fn digit_lanes_value(d: u64) -> u64 {
    let d = d.wrapping_mul(10).wrapping_add(d >> 8) & 0x00ff_00ff_00ff_00ff;
    let d = d.wrapping_mul(100).wrapping_add(d >> 16) & 0x0000_ffff_0000_ffff;
    d.wrapping_mul(10_000).wrapping_add(d >> 32) & 0xffff_ffff
}

/// Iterator over the members of a canonical object; see [`members`].
#[derive(Clone, Debug)]
pub(crate) struct Members<'a>(Items<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = (JsonStr<'a>, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(|rest| {
            let (name, rest) = split_string(rest)?;
            let (value, rest) = split_value(bytes::strip_first(rest, b':')?)?;
            Some(((name, value), rest))
        })
    }
}

impl Members<'_> {
    /// Whether every member was read: the iterator ended at the closing brace, not at
    /// something it could not read. Check it where a skipped member would matter.
    pub(crate) fn finished(&self) -> bool {
        self.0.finished()
    }
}

/// Iterator over the elements of a canonical array; see [`elements`].
#[derive(Clone, Debug)]
pub(crate) struct Elements<'a>(Items<'a>);

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(split_value)
    }
}

/// The comma-separated items between the brackets of a container.
#[derive(Clone, Debug)]
struct Items<'a> {
    /// What is left between the brackets.
    rest: &'a [u8],
    /// No item has been read yet (so no comma is expected).
    first: bool,
    /// The end was reached, or something unexpected was found.
    done: bool,
}

impl<'a> Items<'a> {
    /// Whether iteration reached the closing bracket, rather than stopping early at
    /// something it could not read.
    fn finished(&self) -> bool {
        self.done && self.rest.is_empty()
    }

    fn next_with<T>(&mut self, split: impl FnOnce(&'a [u8]) -> Option<(T, &'a [u8])>) -> Option<T> {
        if self.done {
            return None;
        }
        let rest = if self.first {
            Some(self.rest)
        } else {
            bytes::strip_first(self.rest, b',')
        };
        // An empty `rest` is the end: fine after the last item, or in an empty container.
        match rest.filter(|r| !r.is_empty() || self.first).and_then(split) {
            Some((item, rest)) => {
                self.rest = rest;
                self.first = false;
                Some(item)
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

/// Decodes the escapes of canonical string content, one byte at a time.
struct Unescaped<'a> {
    rest: &'a [u8],
    /// Something canonical JSON does not contain was found; iteration stopped there.
    malformed: bool,
}

impl Iterator for Unescaped<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let decoded = match self.rest {
            [] => return None,
            [b'\\', ..] => decode_escape(self.rest),
            [b'"' | 0..=0x1f, ..] => None,
            [byte, rest @ ..] => Some((*byte, rest)),
        };
        if let Some((byte, rest)) = decoded {
            self.rest = rest;
            Some(byte)
        } else {
            self.malformed = true;
            self.rest = &[];
            None
        }
    }
}

/// Splits the canonical value at the start of `bytes` from what follows it.
pub(crate) fn split_value(bytes: &[u8]) -> Option<(Value<'_>, &[u8])> {
    match bytes.first()? {
        b'"' => split_string(bytes).map(|(s, rest)| (Value::String(s), rest)),
        b'{' => split_container(bytes).map(|(c, rest)| (Value::Object(c), rest)),
        b'[' => split_container(bytes).map(|(c, rest)| (Value::Array(c), rest)),
        b't' => bytes::strip_prefix(bytes, b"true").map(|rest| (Value::Bool(true), rest)),
        b'f' => bytes::strip_prefix(bytes, b"false").map(|rest| (Value::Bool(false), rest)),
        b'n' => bytes::strip_prefix(bytes, b"null").map(|rest| (Value::Null, rest)),
        b'-' | b'0'..=b'9' => {
            let (number, rest) = bytes.split_at_checked(number_len(bytes).ok()?)?;
            Some((Value::Number(number), rest))
        }
        _ => None,
    }
}

/// Splits the canonical string at the start of `bytes` (opening quote included) from
/// what follows its closing quote.
fn split_string(bytes: &[u8]) -> Option<(JsonStr<'_>, &[u8])> {
    let content = bytes::strip_first(bytes, b'"')?;
    let mut rest = content;
    loop {
        match rest {
            [b'"', after @ ..] => {
                let len = content.len().checked_sub(rest.len())?;
                return Some((JsonStr(content.get(..len)?), after));
            }
            [b'\\', ..] => rest = decode_escape(rest)?.1,
            [] | [0..=0x1f, ..] => return None,
            [_, after @ ..] => rest = after,
        }
    }
}

/// Splits the canonical object or array at the start of `bytes` from what follows it.
fn split_container(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    // The open containers, innermost in the lowest bit: 1 for an object, 0 for an array.
    let mut open = 0u64;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                open = (open << 1) | u64::from(b == b'{');
                depth = depth.saturating_add(1);
            }
            b'}' | b']' => {
                if depth == 0 || (open & 1 == 1) != (b == b'}') {
                    return None;
                }
                open >>= 1;
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return bytes.split_at_checked(i.saturating_add(1));
                }
            }
            _ => {}
        }
    }
    None
}

/// Decodes the canonical escape at the start of `bytes` (backslash included) into the
/// byte it stands for, and returns that and what follows the escape.
///
/// Exactly the escapes that [`canonicalize`] writes are accepted, so every string has
/// one spelling here too.
fn decode_escape(bytes: &[u8]) -> Option<(u8, &[u8])> {
    match bytes {
        [
            b'\\',
            b'u',
            b'0',
            b'0',
            hi @ (b'0' | b'1'),
            lo @ (b'0'..=b'9' | b'a'..=b'f'),
            rest @ ..,
        ] => {
            let byte = hex_value(*hi)?
                .checked_mul(16)?
                .checked_add(hex_value(*lo)?)?;
            // A control character with a short escape is never written as `\u00xx`.
            short_escape(byte).is_none().then_some((byte, rest))
        }
        [b'\\', letter, rest @ ..] => {
            let byte = match letter {
                b'"' => b'"',
                b'\\' => b'\\',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                _ => return None,
            };
            Some((byte, rest))
        }
        _ => None,
    }
}

/// The letter of the two-character escape for `byte`, if JSON has one.
fn short_escape(byte: u8) -> Option<u8> {
    match byte {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        _ => None,
    }
}

/// The value of one hexadecimal digit, either case.
fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

/// The value of four hexadecimal digits, either case.
fn hex4(digits: Option<&[u8]>) -> Result<u16, JsonError> {
    digits
        .filter(|d| d.len() == 4)
        .and_then(|d| {
            d.iter().try_fold(0u16, |acc, &digit| {
                acc.checked_mul(16)?
                    .checked_add(u16::from(hex_value(digit)?))
            })
        })
        .ok_or(JsonError::InvalidEscape)
}

/// The index of the first byte at or after `i` that is not an ASCII digit (`bytes.len()`
/// if there is none). Eight bytes at a time on 64-bit targets, where the nine digits after
/// a date's first take two words; a byte at a time elsewhere, in less code.
fn digits_end(bytes: &[u8], mut i: usize) -> usize {
    #[cfg(target_pointer_width = "64")]
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let lanes = non_digit_lanes(u64::from_le_bytes(*word));
        if lanes != 0 {
            let lane = usize::try_from(lanes.trailing_zeros() / 8).unwrap_or(0);
            return i.saturating_add(lane);
        }
        i = i.saturating_add(8);
    }
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i = i.saturating_add(1);
    }
    i
}

/// Non-zero high-nibble bits in the byte lanes of `v` (little-endian) that are not ASCII
/// digits, exact for the lowest such lane (a carry only ever reaches lanes above it):
/// zero exactly when all eight bytes are digits. A digit is a byte whose high nibble is 3
/// and stays 3 when 6 is added (`0x3a` and above become `0x4_`).
#[cfg(any(test, target_pointer_width = "64"))]
const fn non_digit_lanes(v: u64) -> u64 {
    const LANES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = LANES.wrapping_mul(0xf0);
    ((v & HIGH) ^ DIGIT_ZEROS) | ((v.wrapping_add(LANES.wrapping_mul(6)) & HIGH) ^ DIGIT_ZEROS)
}

/// The length of the number at the start of `bytes`, checked against the grammar of
/// RFC 8259 §6; a number directly followed by anything that could continue it (`01`,
/// `1.2.3`, `0x1`, `1e5e5`) is refused too.
fn number_len(bytes: &[u8]) -> Result<usize, JsonError> {
    // NUL is never part of a number, so it stands in for the end of the input.
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    // A closure, not direct calls: wasm's module came out 40 B larger with those.
    let digits_end = |i: usize| digits_end(bytes, i);
    let mut i = usize::from(at(0) == b'-');
    match at(i) {
        b'0' => i = i.saturating_add(1),
        b'1'..=b'9' => i = digits_end(i.saturating_add(1)),
        _ => return Err(JsonError::InvalidNumber),
    }
    if at(i) == b'.' {
        let start = i.saturating_add(1);
        i = digits_end(start);
        if i == start {
            return Err(JsonError::InvalidNumber);
        }
    }
    if matches!(at(i), b'e' | b'E') {
        let mut start = i.saturating_add(1);
        if matches!(at(start), b'+' | b'-') {
            start = start.saturating_add(1);
        }
        i = digits_end(start);
        if i == start {
            return Err(JsonError::InvalidNumber);
        }
    }
    if at(i).is_ascii_alphanumeric() || matches!(at(i), b'.' | b'+' | b'-') {
        return Err(JsonError::InvalidNumber);
    }
    Ok(i)
}

/// What the parser expects next.
#[derive(Clone, Copy)]
enum State {
    /// A value: in an array, after a member's `:`, or the top-level object.
    Value,
    /// A member name, after `{` or `,` in an object.
    Member,
    /// `,` or the end of the innermost container, or the end of the input at depth 0.
    AfterValue,
}

/// The in-place validating rewriter behind [`canonicalize`].
struct Canonicalizer<'b> {
    buf: &'b mut [u8],
    /// Index of the next byte to read.
    r: usize,
    /// Index of the next byte to write. Invariant: `w <= r` (see the module docs).
    w: usize,
    /// Clamped to `MAX_DEPTH`.
    max_depth: usize,
    /// The open containers, outermost first: [`ARRAY`] for an array, and for an object
    /// the index in `keys` of its first member name.
    frames: [u8; MAX_DEPTH],
    /// How many entries of `frames` are in use.
    depth: usize,
    /// The canonical offset (just after the opening quote) of each open member name.
    keys: heapless::Vec<usize, MAX_MEMBERS>,
    /// The [`name_bit`]s of the top-level object's member names so far.
    top_names: NameFilter,
    /// The top-level members being looked for, and where their values are.
    captures: Option<&'b mut Captures>,
    /// The looked-for member whose value is being read: its name's index in `captures`
    /// and the canonical offset where the value starts.
    capturing: Option<(usize, usize)>,
}

/// Moves `buf[from..end]` to start at `to`, where `to < from`, front to back.
///
/// Where [`BYTE_LOOPS`] says so, a byte at a time: the least code, and a load and a store a
/// byte whatever the gap. (Pieces as long as the gap, below, take a `memcpy` call each,
/// which for the one-byte gap a single space leaves is a call per byte: a header, read
/// before the MAC is checked, could make the canonicalizer spend that on every byte of
/// it.) Elsewhere, while the gap is short, eight bytes at a time, each word read whole
/// before it is written (the write reaches at most the bytes just read, never unread
/// ones); otherwise in pieces at most as long as the gap, so that a piece's source and its
/// destination never overlap: they are the two sides of one `split_at_mut`, and the copy
/// is a plain `copy_from_slice`. (`copy_within` would be a `memmove`, which on a
/// microcontroller is 1.5 KiB of code that nothing else in a verifying firmware needs.)
///
/// # Errors
///
/// [`JsonError::Syntax`] if a range is out of bounds, which the callers rule out.
fn move_back(buf: &mut [u8], mut to: usize, mut from: usize, end: usize) -> Result<(), JsonError> {
    /// The bytes moved at a time while the gap is short.
    const WORD: usize = 8;
    /// Below this gap, words; from it on, pieces as long as the gap.
    const WORDS_BELOW: usize = 64;
    let gap = from
        .checked_sub(to)
        .filter(|&gap| gap > 0)
        .ok_or(JsonError::Syntax)?;
    if BYTE_LOOPS {
        while from < end {
            let byte = *buf.get(from).ok_or(JsonError::Syntax)?;
            *buf.get_mut(to).ok_or(JsonError::Syntax)? = byte;
            from = from.saturating_add(1);
            to = to.saturating_add(1);
        }
        return Ok(());
    }
    while gap < WORDS_BELOW && end.saturating_sub(from) >= WORD {
        let word: [u8; WORD] = buf
            .get(from..)
            .and_then(|rest| rest.first_chunk())
            .copied()
            .ok_or(JsonError::Syntax)?;
        buf.get_mut(to..)
            .and_then(|rest| rest.first_chunk_mut::<WORD>())
            .ok_or(JsonError::Syntax)?
            .copy_from_slice(&word);
        from = from.saturating_add(WORD);
        to = to.saturating_add(WORD);
    }
    while from < end {
        let len = gap.min(end.saturating_sub(from));
        let (done, rest) = buf.split_at_mut_checked(from).ok_or(JsonError::Syntax)?;
        let src = rest.get(..len).ok_or(JsonError::Syntax)?;
        let dst = to
            .checked_add(len)
            .and_then(|stop| done.get_mut(to..stop))
            .ok_or(JsonError::Syntax)?;
        dst.copy_from_slice(src);
        from = from.saturating_add(len);
        to = to.saturating_add(len);
    }
    Ok(())
}

/// Whether the canonicalizer takes its fast path where it can: always, but in tests,
/// which also read every input without it, as microcontroller targets do.
#[cfg(all(any(target_pointer_width = "64", target_family = "wasm"), not(test)))]
const fn fast_path() -> bool {
    true
}

#[cfg(all(any(target_pointer_width = "64", target_family = "wasm"), test))]
fn fast_path() -> bool {
    tests::FAST_PATH.with(core::cell::Cell::get)
}

impl Canonicalizer<'_> {
    fn run(&mut self) -> Result<usize, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => {}
            Some(_) => return Err(JsonError::NotObject),
            None => return Err(JsonError::Syntax),
        }
        let mut state = State::Value;
        loop {
            state = match state {
                State::Value => self.value()?,
                // Input with nothing to rewrite so far takes the fast path, which hands
                // anything else back to the general one without having consumed it. On
                // 32-bit targets other than wasm (microcontrollers, built for flash more
                // than speed) the general path reads everything: the fast one and the
                // outline took 0.7 to 0.9 KiB of a Cortex-M4 firmware. In wasm they make
                // verifying about 10% faster, for 1.5 KB of module.
                #[cfg(any(target_pointer_width = "64", target_family = "wasm"))]
                State::Member if self.w == self.r && fast_path() => match self.members_fast()? {
                    State::Member => self.member()?,
                    state => state,
                },
                State::Member => self.member()?,
                State::AfterValue if self.depth == 0 => break,
                State::AfterValue => self.after_value()?,
            };
            // A value of the top-level object ends when its state says so at depth 1.
            if matches!(state, State::AfterValue)
                && self.depth == 1
                && let Some((name, start)) = self.capturing.take()
                && let Some(captures) = self.captures.as_deref_mut()
            {
                captures.record(name, start, self.w, false)?;
            }
        }
        self.skip_whitespace();
        if self.r < self.buf.len() {
            return Err(JsonError::TrailingData);
        }
        Ok(self.w)
    }

    fn value(&mut self) -> Result<State, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => {
                let frame = u8::try_from(self.keys.len()).map_err(|_| JsonError::TooManyMembers)?;
                self.open(frame)?;
                self.skip_whitespace();
                if self.peek() == Some(b'}') {
                    self.close()?;
                    Ok(State::AfterValue)
                } else {
                    Ok(State::Member)
                }
            }
            Some(b'[') => {
                self.open(ARRAY)?;
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.close()?;
                    Ok(State::AfterValue)
                } else {
                    Ok(State::Value)
                }
            }
            Some(b'"') => {
                self.string()?;
                Ok(State::AfterValue)
            }
            Some(b'-' | b'0'..=b'9') => {
                let len = number_len(self.rest())?;
                self.copy(len)?;
                Ok(State::AfterValue)
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'+' | b'.' | b'I' | b'N') => Err(JsonError::InvalidNumber),
            _ => Err(JsonError::Syntax),
        }
    }

    /// Reads members of the innermost object for as long as nothing needs rewriting (no
    /// whitespace, no escapes) and the values are strings, numbers or literals, checking
    /// each exactly as the general reader does. Returns the state to resume in at the
    /// first thing it leaves to the general reader, before consuming any of it. Called
    /// with nothing rewritten so far (`w == r`), which it keeps so.
    ///
    /// Nothing is written, so the input is read through a shared borrow and the position
    /// kept in a local, stored back once at the end.
    #[cfg(any(target_pointer_width = "64", target_family = "wasm"))]
    fn members_fast(&mut self) -> Result<State, JsonError> {
        let top = self.depth == 1;
        let first = self.first_key();
        let buf: &[u8] = self.buf;
        let mut at = self.r;
        let (state, at) = loop {
            // `"name":`, the name without escapes; `colon` is just past its closing quote.
            let Some(colon) = plain_string_end(buf, at) else {
                break (State::Member, at);
            };
            if buf.get(colon) != Some(&b':') {
                break (State::Member, at);
            }
            let start = at.saturating_add(1);
            let compare_from = if top {
                let name = buf.get(start..colon).unwrap_or_default();
                top_names_from(&mut self.top_names, name, first, self.keys.len())
            } else {
                first
            };
            add_name(&mut self.keys, compare_from, buf, start, colon)?;
            let value = colon.saturating_add(1);
            if top {
                let name = buf.get(start..colon.saturating_sub(1)).unwrap_or_default();
                if let Some(i) = self.captures.as_deref().and_then(|c| (c.find)(name)) {
                    self.capturing = Some((i, value));
                }
            }
            // The value: a plain string, a number or a literal.
            let rest = buf.get(value..).unwrap_or_default();
            let len = match rest.first() {
                Some(b'"') => match plain_string_end(buf, value) {
                    Some(end) => end.saturating_sub(value),
                    None => break (State::Value, value),
                },
                Some(b'-' | b'0'..=b'9') => number_len(rest)?,
                Some(b't') if bytes::starts_with(rest, b"true") => 4,
                Some(b'f') if bytes::starts_with(rest, b"false") => 5,
                Some(b'n') if bytes::starts_with(rest, b"null") => 4,
                _ => break (State::Value, value),
            };
            let end = value.saturating_add(len);
            if top && let Some(captures) = self.captures.as_deref_mut() {
                if let Some((name, start)) = self.capturing.take() {
                    captures.record(name, start, end, true)?;
                }
                // A member left out is read by scanning.
                let _ = captures.outline.place(start, value, end);
            }
            // `,` and the next member, or whatever else follows, for the general reader.
            if buf.get(end) != Some(&b',') {
                break (State::AfterValue, end);
            }
            at = end.saturating_add(1);
        };
        self.r = at;
        self.w = at;
        Ok(state)
    }

    fn member(&mut self) -> Result<State, JsonError> {
        self.skip_whitespace();
        if self.peek() != Some(b'"') {
            return Err(JsonError::Syntax);
        }
        let start = self.string()?;
        self.add_name(start)?;
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(JsonError::Syntax);
        }
        if self.depth == 1 {
            // The name without its closing quote, in canonical form.
            let end = self.w.saturating_sub(1);
            let name = self.buf.get(start..end).unwrap_or_default();
            if let Some(i) = self.captures.as_deref().and_then(|c| (c.find)(name)) {
                self.capturing = Some((i, self.w.saturating_add(1)));
            }
        }
        self.copy(1)?;
        Ok(State::Value)
    }

    fn after_value(&mut self) -> Result<State, JsonError> {
        self.skip_whitespace();
        let in_object = self
            .depth
            .checked_sub(1)
            .and_then(|top| self.frames.get(top))
            .is_some_and(|&frame| frame != ARRAY);
        match (self.peek(), in_object) {
            (Some(b','), true) => {
                self.copy(1)?;
                Ok(State::Member)
            }
            (Some(b','), false) => {
                self.copy(1)?;
                Ok(State::Value)
            }
            (Some(b'}'), true) | (Some(b']'), false) => {
                self.close()?;
                Ok(State::AfterValue)
            }
            _ => Err(JsonError::Syntax),
        }
    }

    /// Records the member name just written (`start` is just after its opening quote,
    /// the closing quote is the last byte written), refusing a duplicate in the same
    /// object.
    fn add_name(&mut self, start: usize) -> Result<(), JsonError> {
        let mut first = self.first_key();
        if self.depth == 1 {
            let name = self.buf.get(start..self.w).unwrap_or_default();
            first = top_names_from(&mut self.top_names, name, first, self.keys.len());
        }
        add_name(&mut self.keys, first, self.buf, start, self.w)
    }

    /// The index in `keys` of the innermost object's first member name.
    fn first_key(&self) -> usize {
        self.depth
            .checked_sub(1)
            .and_then(|top| self.frames.get(top))
            .map_or(0, |&frame| usize::from(frame))
    }

    /// Opens an object or array (at `{` or `[`).
    fn open(&mut self, frame: u8) -> Result<(), JsonError> {
        if self.depth >= self.max_depth {
            return Err(JsonError::Depth);
        }
        *self.frames.get_mut(self.depth).ok_or(JsonError::Depth)? = frame;
        self.depth = self.depth.saturating_add(1);
        self.copy(1)
    }

    /// Closes the innermost object or array (at `}` or `]`), forgetting its member names.
    fn close(&mut self) -> Result<(), JsonError> {
        self.depth = self.depth.checked_sub(1).ok_or(JsonError::Syntax)?;
        match self.frames.get(self.depth) {
            Some(&frame) if frame != ARRAY => self.keys.truncate(usize::from(frame)),
            _ => {}
        }
        self.copy(1)
    }

    /// Rewrites the string at `"`; returns the canonical offset just after its opening
    /// quote.
    fn string(&mut self) -> Result<usize, JsonError> {
        // The common case: nothing rewritten so far (so the output is the input), and a
        // string without escapes, which stays as it is. Not where `BYTE_LOOPS` says so,
        // for less code: the loop below takes such a string as well.
        if !BYTE_LOOPS
            && self.w == self.r
            && let Some(end) = plain_string_end(self.buf, self.r)
        {
            let content = self.r.saturating_add(1);
            self.r = end;
            self.w = end;
            return Ok(content);
        }
        self.copy(1)?;
        let start = self.w;
        loop {
            let run = string_run(self.rest()).ok_or(JsonError::Syntax)?;
            self.copy(run)?;
            match self.peek() {
                Some(b'"') => {
                    self.copy(1)?;
                    return Ok(start);
                }
                Some(b'\\') => self.escape()?,
                _ => return Err(JsonError::ControlCharacter),
            }
        }
    }

    /// Rewrites the escape at `\`.
    fn escape(&mut self) -> Result<(), JsonError> {
        match self.rest() {
            [b'\\', b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't', ..] => self.copy(2),
            [b'\\', b'/', ..] => {
                self.skip(2);
                self.put(b"/")
            }
            [b'\\', b'u', ..] => self.unicode_escape(),
            _ => Err(JsonError::InvalidEscape),
        }
    }

    /// Rewrites the `\uXXXX` escape at `\`, or the surrogate pair `\uXXXX\uXXXX`.
    fn unicode_escape(&mut self) -> Result<(), JsonError> {
        let rest = self.rest();
        let first = hex4(rest.get(2..6))?;
        let (c, len) = if (0xd800..=0xdbff).contains(&first) {
            let second = match rest.get(6..8) {
                Some(b"\\u") => hex4(rest.get(8..12))?,
                _ => return Err(JsonError::UnpairedSurrogate),
            };
            if !(0xdc00..=0xdfff).contains(&second) {
                return Err(JsonError::UnpairedSurrogate);
            }
            // UTF-16's pair: ten bits from each half above 0x10000 (a `char` always). By
            // hand rather than `char::decode_utf16`, whose iterator over the pair is a
            // function of its own on a microcontroller.
            let high = u32::from(first).wrapping_sub(0xd800);
            let low = u32::from(second).wrapping_sub(0xdc00);
            let c = char::from_u32((high << 10 | low).wrapping_add(0x1_0000))
                .ok_or(JsonError::UnpairedSurrogate)?;
            (c, 12)
        } else {
            // Fails exactly for a low surrogate without a high one before it.
            let c = char::from_u32(u32::from(first)).ok_or(JsonError::UnpairedSurrogate)?;
            (c, 6)
        };
        self.skip(len);
        self.put_char(c)
    }

    /// Writes `c` in canonical form.
    fn put_char(&mut self, c: char) -> Result<(), JsonError> {
        match u8::try_from(c) {
            Ok(byte) if byte < 0x20 || byte == b'"' || byte == b'\\' => {
                if let Some(letter) = short_escape(byte) {
                    self.put(&[b'\\', letter])
                } else {
                    let hi = if byte < 0x10 { b'0' } else { b'1' };
                    let lo = HEX_DIGITS
                        .get(usize::from(byte & 0x0f))
                        .copied()
                        .unwrap_or(b'0');
                    self.put(&[b'\\', b'u', b'0', b'0', hi, lo])
                }
            }
            _ => {
                let (bytes, len) = utf8(c);
                self.put(bytes.get(..len).unwrap_or_default())
            }
        }
    }

    fn literal(&mut self, literal: &[u8]) -> Result<State, JsonError> {
        if !bytes::starts_with(self.rest(), literal) {
            return Err(JsonError::Syntax);
        }
        self.copy(literal.len())?;
        Ok(State::AfterValue)
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.r = self.r.saturating_add(1);
        }
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.r).copied()
    }

    /// The unread input.
    fn rest(&self) -> &[u8] {
        self.buf.get(self.r..).unwrap_or_default()
    }

    /// Moves `n` bytes unchanged from the read to the write position.
    fn copy(&mut self, n: usize) -> Result<(), JsonError> {
        let end = self
            .r
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or(JsonError::Syntax)?;
        if self.w != self.r {
            move_back(self.buf, self.w, self.r, end)?;
        }
        self.r = end;
        self.w = self.w.saturating_add(n);
        Ok(())
    }

    /// Skips `n` bytes of input that [`put`](Self::put) replaces.
    fn skip(&mut self, n: usize) {
        self.r = self.r.saturating_add(n);
    }

    /// Writes `bytes`. They must replace input that has been read: enforced, so the
    /// rewrite never overwrites unread input even if the size table were wrong.
    fn put(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        let end = self
            .w
            .checked_add(bytes.len())
            .filter(|&end| end <= self.r)
            .ok_or(JsonError::Syntax)?;
        self.buf
            .get_mut(self.w..end)
            .ok_or(JsonError::Syntax)?
            .copy_from_slice(bytes);
        self.w = end;
        Ok(())
    }
}

/// Adds the name `buf[start..end]` (its content and closing quote) to the open names in
/// `keys`, refusing a duplicate among those of its object, `keys[first..]` (none if
/// `first` is `keys.len()`).
fn add_name(
    keys: &mut heapless::Vec<usize, MAX_MEMBERS>,
    first: usize,
    buf: &[u8],
    start: usize,
    end: usize,
) -> Result<(), JsonError> {
    let name = buf.get(start..end).ok_or(JsonError::Syntax)?;
    // `name` ends with the closing quote, and an earlier name starting at `other` is the
    // same string exactly when the bytes at `other` start with `name`. Canonical content
    // splits uniquely into units (one raw byte other than `"` and `\`, or an escape whose
    // length its second byte fixes), so matching bytes means matching units up to the
    // quote; a raw `"` is never a unit, so the earlier name ends there too. Each name is
    // compared with at most `MAX_MEMBERS - 1` others.
    let others = keys.get(first..).unwrap_or_default();
    if others.iter().any(|&other| {
        buf.get(other..)
            .is_some_and(|o| bytes::starts_with(o, name))
    }) {
        return Err(JsonError::DuplicateMember);
    }
    keys.push(start).map_err(|_| JsonError::TooManyMembers)?;
    Ok(())
}

/// What [`top_names_from`] keeps of an object's names: their [`name_bit`]s on 64-bit
/// targets, nothing elsewhere (a `u64` in the reader's state alone costs a Cortex-M4
/// firmware 220 B of code).
#[cfg(target_pointer_width = "64")]
type NameFilter = u64;
#[cfg(not(target_pointer_width = "64"))]
type NameFilter = ();

/// Where the names to compare a new top-level member name with start in `keys`: at
/// `first`, the object's first name, unless the name's [`name_bit`] is new in `seen` (the
/// bits of the object's names so far, which it joins), when there is nothing to compare
/// and the answer is `open`, the number of names in `keys`. `name` is the canonical name
/// with its closing quote.
///
/// Only on 64-bit targets; elsewhere every name is compared, in less code.
#[cfg(target_pointer_width = "64")]
fn top_names_from(seen: &mut NameFilter, name: &[u8], first: usize, open: usize) -> usize {
    let bit = name_bit(name.split_last().map_or(name, |(_, content)| content));
    let taken = *seen & bit != 0;
    *seen |= bit;
    if taken { first } else { open }
}

#[cfg(not(target_pointer_width = "64"))]
const fn top_names_from(_: &mut NameFilter, _: &[u8], first: usize, _: usize) -> usize {
    first
}

/// If a string without escapes starts at `buf[at]` (its opening quote), the index just
/// past its closing quote.
fn plain_string_end(buf: &[u8], at: usize) -> Option<usize> {
    if buf.get(at) != Some(&b'"') {
        return None;
    }
    let content = at.saturating_add(1);
    let run = string_run(buf.get(content..)?)?;
    let close = content.saturating_add(run);
    (buf.get(close) == Some(&b'"')).then_some(close.saturating_add(1))
}

/// The UTF-8 encoding of `c` in the first 1 to 4 bytes, and their number.
///
/// The same bytes as `char::encode_utf8` (checked for every `char` in the tests), in less
/// code on a Cortex-M.
fn utf8(c: char) -> ([u8; 4], usize) {
    let mut c = u32::from(c);
    let len = 1usize
        .wrapping_add(usize::from(c >= 0x80))
        .wrapping_add(usize::from(c >= 0x800))
        .wrapping_add(usize::from(c >= 0x1_0000));
    let mut bytes = [0u8; 4];
    // Continuation bytes from the last: the low six bits each, below a `10` tag.
    for byte in bytes.iter_mut().take(len).skip(1).rev() {
        *byte = 0x80 | (c as u8 & 0x3f);
        c >>= 6;
    }
    // The leading byte: the bits left (fewer than its tag leaves room for), below a tag
    // of as many ones as there are bytes, then a zero; no tag for one byte.
    let tag = [0x00, 0xc0, 0xe0, 0xf0]
        .get(len.wrapping_sub(1))
        .copied()
        .unwrap_or(0);
    if let Some(first) = bytes.first_mut() {
        *first = tag | c as u8;
    }
    (bytes, len)
}

/// The frame of an array in [`Canonicalizer::frames`]; an object's frame is an index in
/// `keys`, always smaller.
const ARRAY: u8 = u8::MAX;

const _: () = assert!(MAX_MEMBERS < ARRAY as usize);

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    extern crate alloc;

    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    std::thread_local! {
        /// Whether this thread's canonicalizer may take its fast path.
        pub(super) static FAST_PATH: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
    }

    /// `input` canonicalized, and, checked to be the same in every byte or error,
    /// canonicalized again by the general path alone (as microcontroller targets read it).
    fn canon_depth(input: &[u8], max_depth: usize) -> Result<String, JsonError> {
        let run = |fast: bool| {
            FAST_PATH.with(|f| f.set(fast));
            let mut buf = input.to_vec();
            let result = canonicalize(&mut buf, max_depth);
            FAST_PATH.with(|f| f.set(true));
            result.map(|len| {
                assert!(len <= input.len());
                buf.truncate(len);
                String::from_utf8(buf).unwrap()
            })
        };
        let out = run(true);
        assert_eq!(run(false), out, "the general path alone on {input:?}");
        out
    }

    fn canon(input: &[u8]) -> Result<String, JsonError> {
        canon_depth(input, MAX_DEPTH)
    }

    /// Input, canonical output.
    const CANONICAL: &[(&str, &str)] = &[
        ("{}", "{}"),
        (" \t\r\n{ \t\r\n} \t\r\n", "{}"),
        (
            r#" { "a" : 1 , "b" : [ true , false , null ] , "c" : { } , "d" : [ ] } "#,
            r#"{"a":1,"b":[true,false,null],"c":{},"d":[]}"#,
        ),
        ("{\"a\":\n[\n1\n,\n2\n]\n}", r#"{"a":[1,2]}"#),
        // Numbers are kept verbatim.
        (
            r#"{"n":[0,-0,1,-1,10,0.5,-0.0,1e5,1E5,1e+5,1e-5,1.25E-300,123456789012345678901234567890]}"#,
            r#"{"n":[0,-0,1,-1,10,0.5,-0.0,1e5,1E5,1e+5,1e-5,1.25E-300,123456789012345678901234567890]}"#,
        ),
        // Escapes that stay.
        (r#"{"s":"\"\\"}"#, r#"{"s":"\"\\"}"#),
        (r#"{"s":"\b\f\n\r\t"}"#, r#"{"s":"\b\f\n\r\t"}"#),
        // Escapes that are decoded.
        (r#"{"s":"\/"}"#, r#"{"s":"/"}"#),
        (r#"{"s":"\u0065"}"#, r#"{"s":"e"}"#),
        (r#"{"s":"\u00e9\u00E9"}"#, r#"{"s":"éé"}"#),
        (r#"{"s":"\u20ac"}"#, r#"{"s":"€"}"#),
        (r#"{"s":"\uffff"}"#, "{\"s\":\"\u{ffff}\"}"),
        (r#"{"s":"\u007f"}"#, "{\"s\":\"\x7f\"}"),
        (r#"{"s":"\ud83d\ude00"}"#, r#"{"s":"😀"}"#),
        (r#"{"s":"\uD83D\uDE00"}"#, r#"{"s":"😀"}"#),
        (r#"{"s":"\udbff\udfff"}"#, "{\"s\":\"\u{10ffff}\"}"),
        (r#"{"s":"\ud800\udc00"}"#, "{\"s\":\"\u{10000}\"}"),
        (r#"{"s":"\u0022\u005c\u005C"}"#, r#"{"s":"\"\\\\"}"#),
        // Control characters: a short escape where JSON has one, else `\u00xx` lowercase.
        (r#"{"s":"\u0000"}"#, r#"{"s":"\u0000"}"#),
        (
            r#"{"s":"\u001F\u001f\u0010\u000B"}"#,
            r#"{"s":"\u001f\u001f\u0010\u000b"}"#,
        ),
        (
            r#"{"s":"\u0008\u000c\u000A\u000d\u0009"}"#,
            r#"{"s":"\b\f\n\r\t"}"#,
        ),
        // Raw UTF-8 and DEL pass through.
        (
            "{\"s\":\"h\u{e9}llo \u{1f600} \x7f\"}",
            "{\"s\":\"h\u{e9}llo \u{1f600} \x7f\"}",
        ),
        // Names are canonicalized too.
        (r#"{ "\u0065xp" : 1, "a\/b" : 2 }"#, r#"{"exp":1,"a/b":2}"#),
        // Mixed runs and escapes.
        (
            r#"{"s":"ab\u0063d\/ef\"g\\h\ud83d\ude00i"}"#,
            r#"{"s":"abcd/ef\"g\\h😀i"}"#,
        ),
        (
            r#"{"a":{"b":{"c":[1,{"d":"\u0041"}]}}}"#,
            r#"{"a":{"b":{"c":[1,{"d":"A"}]}}}"#,
        ),
        // The same name in different objects is fine.
        (
            r#"{"a":{"a":1},"b":{"a":1},"c":[{"a":1},{"a":2}]}"#,
            r#"{"a":{"a":1},"b":{"a":1},"c":[{"a":1},{"a":2}]}"#,
        ),
        // A name seen inside a closed object is free again in the outer one.
        (r#"{"x":{"b":1},"b":2}"#, r#"{"x":{"b":1},"b":2}"#),
        // Names that are prefixes of each other.
        (
            r#"{"a":1,"ab":2,"abc":3,"":4,"b":5,"\"":6,"\"a":7,"\\":8,"\\\"":9}"#,
            r#"{"a":1,"ab":2,"abc":3,"":4,"b":5,"\"":6,"\"a":7,"\\":8,"\\\"":9}"#,
        ),
    ];

    /// Every high surrogate with low ones at both ends and in between, and every low one
    /// with high ones likewise, decode as `char::decode_utf16` decodes the pair; a high
    /// one followed by anything but a low one is refused.
    #[test]
    fn surrogate_pairs_decode_as_utf16_does() {
        let pair = |high: u16, low: u16| {
            let input = format!(r#"{{"s":"\u{high:04x}\u{low:04X}"}}"#);
            let expected = char::decode_utf16([high, low])
                .map(|c| c.map(|c| format!("{{\"s\":\"{c}\"}}")))
                .collect::<Result<String, _>>();
            match expected {
                Ok(expected) => assert_eq!(canon(input.as_bytes()), Ok(expected), "{input}"),
                Err(_) => assert_eq!(
                    canon(input.as_bytes()),
                    Err(JsonError::UnpairedSurrogate),
                    "{input}"
                ),
            }
        };
        for high in 0xd800..=0xdbff {
            for low in [0xdc00, 0xdd55, 0xdfff, 0xdbff, 0xe000, 0x0041] {
                pair(high, low);
            }
        }
        for low in 0xdc00..=0xdfff {
            for high in [0xd800, 0xd9aa, 0xdbff] {
                pair(high, low);
            }
        }
    }

    #[test]
    fn canonicalizes() {
        for (input, expected) in CANONICAL {
            assert_eq!(canon(input.as_bytes()).as_deref(), Ok(*expected), "{input}");
            // Canonical form is a fixed point.
            assert_eq!(
                canon(expected.as_bytes()).as_deref(),
                Ok(*expected),
                "{input}"
            );
            // And serde_json reads the same value from both.
            let a: serde_json::Value = serde_json::from_str(input).unwrap();
            let b: serde_json::Value = serde_json::from_str(expected).unwrap();
            assert_eq!(a, b, "{input}");
        }
    }

    /// Input, error.
    const REJECTED: &[(&[u8], JsonError)] = &[
        // ControlCharacter
        (b"{\"s\":\"\x00\"}", JsonError::ControlCharacter),
        (b"{\"s\":\"a\nb\"}", JsonError::ControlCharacter),
        (b"{\"s\":\"\t\"}", JsonError::ControlCharacter),
        (b"{\"s\":\"\x1f\"}", JsonError::ControlCharacter),
        (b"{\"\x01\":1}", JsonError::ControlCharacter),
        (b"{\"s\":\"\r", JsonError::ControlCharacter),
        // DuplicateMember
        (br#"{"a":1,"a":2}"#, JsonError::DuplicateMember),
        (br#"{"a":1,"b":2,"a":3}"#, JsonError::DuplicateMember),
        (br#"{"exp":1,"\u0065xp":2}"#, JsonError::DuplicateMember),
        (br#"{"\u0065xp":1,"exp":2}"#, JsonError::DuplicateMember),
        (br#"{"a/b":1,"a\/b":2}"#, JsonError::DuplicateMember),
        (br#"{"\"":1,"\u0022":2}"#, JsonError::DuplicateMember),
        (br#"{"\n":1,"\u000a":2}"#, JsonError::DuplicateMember),
        (br#"{"":1,"":2}"#, JsonError::DuplicateMember),
        (
            br#"{"\ud83d\ude00":1,"\u{1f600}":2}"#,
            JsonError::InvalidEscape,
        ),
        (
            "{\"\\ud83d\\ude00\":1,\"\u{1f600}\":2}".as_bytes(),
            JsonError::DuplicateMember,
        ),
        (br#"{"x":{"a":1,"a":2}}"#, JsonError::DuplicateMember),
        (
            br#"{"x":[{"a":1},{"b":1,"b":2}]}"#,
            JsonError::DuplicateMember,
        ),
        (br#"{"x":{"y":{"z":1}},"x":2}"#, JsonError::DuplicateMember),
        (br#"{"x":{"a":1},"a":1,"a":2}"#, JsonError::DuplicateMember),
        // InvalidEscape
        (br#"{"s":"\x"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\'"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\a"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\0"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\U0041"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\u12"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\u12G4"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\u+123"}"#, JsonError::InvalidEscape),
        (br#"{"s":"\u 123"}"#, JsonError::InvalidEscape),
        (br#"{"\q":1}"#, JsonError::InvalidEscape),
        (br#"{"s":"\ud83d\u12"}"#, JsonError::InvalidEscape),
        (b"{\"s\":\"\\", JsonError::InvalidEscape),
        (b"{\"s\":\"\\u00", JsonError::InvalidEscape),
        (b"{\"s\":\"\\\xc3\xa9\"}", JsonError::InvalidEscape),
        // InvalidNumber
        (br#"{"n":01}"#, JsonError::InvalidNumber),
        (br#"{"n":-01}"#, JsonError::InvalidNumber),
        (br#"{"n":00}"#, JsonError::InvalidNumber),
        (br#"{"n":+1}"#, JsonError::InvalidNumber),
        (br#"{"n":.5}"#, JsonError::InvalidNumber),
        (br#"{"n":-.5}"#, JsonError::InvalidNumber),
        (br#"{"n":1.}"#, JsonError::InvalidNumber),
        (br#"{"n":1.e5}"#, JsonError::InvalidNumber),
        (br#"{"n":1e}"#, JsonError::InvalidNumber),
        (br#"{"n":1e+}"#, JsonError::InvalidNumber),
        (br#"{"n":1E-}"#, JsonError::InvalidNumber),
        (br#"{"n":-}"#, JsonError::InvalidNumber),
        (br#"{"n":--1}"#, JsonError::InvalidNumber),
        (br#"{"n":NaN}"#, JsonError::InvalidNumber),
        (br#"{"n":Infinity}"#, JsonError::InvalidNumber),
        (br#"{"n":-Infinity}"#, JsonError::InvalidNumber),
        (br#"{"n":0x10}"#, JsonError::InvalidNumber),
        (br#"{"n":1.5.3}"#, JsonError::InvalidNumber),
        (br#"{"n":1e5e5}"#, JsonError::InvalidNumber),
        (br#"{"n":1f}"#, JsonError::InvalidNumber),
        (br#"{"n":[1,-]}"#, JsonError::InvalidNumber),
        (b"{\"n\":1", JsonError::Syntax),
        (b"{\"n\":1.", JsonError::InvalidNumber),
        (b"{\"n\":-", JsonError::InvalidNumber),
        // InvalidUtf8, wherever it is and whatever else is wrong.
        (b"{\"s\":\"\xff\"}", JsonError::InvalidUtf8),
        (b"{\"s\":\"\xc3\"}", JsonError::InvalidUtf8),
        (b"{\"s\":\"\xc0\x80\"}", JsonError::InvalidUtf8),
        (b"{\"s\":\"\xed\xa0\x80\"}", JsonError::InvalidUtf8),
        (b"{\"s\":\"\xf4\x90\x80\x80\"}", JsonError::InvalidUtf8),
        (b"{\"\x80\":1}", JsonError::InvalidUtf8),
        (b"{}\xff", JsonError::InvalidUtf8),
        (b"\xef\xbb\xbf{}", JsonError::NotObject),
        (b"[\xff", JsonError::InvalidUtf8),
        // NotObject
        (b"[]", JsonError::NotObject),
        (b" [{}]", JsonError::NotObject),
        (b"\"{}\"", JsonError::NotObject),
        (b"1", JsonError::NotObject),
        (b"true", JsonError::NotObject),
        (b"null", JsonError::NotObject),
        (b"}", JsonError::NotObject),
        (b"x{}", JsonError::NotObject),
        // Syntax
        (b"", JsonError::Syntax),
        (b" \t\r\n", JsonError::Syntax),
        (b"{", JsonError::Syntax),
        (b"{\"a\"", JsonError::Syntax),
        (b"{\"a\":", JsonError::Syntax),
        (b"{\"a", JsonError::Syntax),
        (b"{\"a\":\"b", JsonError::Syntax),
        (b"{\"a\":[1", JsonError::Syntax),
        (b"{\"a\":[1,", JsonError::Syntax),
        (b"{\"a\":1,", JsonError::Syntax),
        (br#"{"a"}"#, JsonError::Syntax),
        (br#"{"a":}"#, JsonError::Syntax),
        (br#"{"a"::1}"#, JsonError::Syntax),
        (br#"{"a" 1}"#, JsonError::Syntax),
        (br#"{"a":1,}"#, JsonError::Syntax),
        (br#"{"a":1,,"b":2}"#, JsonError::Syntax),
        (br#"{"a":1 "b":2}"#, JsonError::Syntax),
        (br#"{,}"#, JsonError::Syntax),
        (br#"{,"a":1}"#, JsonError::Syntax),
        (br#"{"a":[1,]}"#, JsonError::Syntax),
        (br#"{"a":[,1]}"#, JsonError::Syntax),
        (br#"{"a":[1 2]}"#, JsonError::Syntax),
        (br#"{"a":[1}"#, JsonError::Syntax),
        (br#"{"a":{]}"#, JsonError::Syntax),
        (br#"{"a":{"b":1]}"#, JsonError::Syntax),
        (br#"{"a":[1]]}"#, JsonError::Syntax),
        (br#"{'a':1}"#, JsonError::Syntax),
        (br#"{"a":'b'}"#, JsonError::Syntax),
        (br#"{a:1}"#, JsonError::Syntax),
        (br#"{1:1}"#, JsonError::Syntax),
        (br#"{"a":tru}"#, JsonError::Syntax),
        (br#"{"a":truex}"#, JsonError::Syntax),
        (br#"{"a":True}"#, JsonError::Syntax),
        (br#"{"a":nul}"#, JsonError::Syntax),
        (br#"{"a":nan}"#, JsonError::Syntax),
        (br#"{"a":undefined}"#, JsonError::Syntax),
        (br#"{"a":fals}"#, JsonError::Syntax),
        (br#"{/*c*/}"#, JsonError::Syntax),
        (b"{//c\n}", JsonError::Syntax),
        (b"{\"a\":1}\n//c", JsonError::TrailingData),
        (b"{\x0b}", JsonError::Syntax),
        (b"{\x0c}", JsonError::Syntax),
        (b"{\x00}", JsonError::Syntax),
        ("{\u{a0}}".as_bytes(), JsonError::Syntax),
        ("{\u{feff}}".as_bytes(), JsonError::Syntax),
        (b"{\"a\":1\x0b}", JsonError::Syntax),
        // TrailingData
        (b"{}x", JsonError::TrailingData),
        (b"{}{}", JsonError::TrailingData),
        (b"{} 1", JsonError::TrailingData),
        (b"{}\x00", JsonError::TrailingData),
        (b"{}}", JsonError::TrailingData),
        (b"{} \n,", JsonError::TrailingData),
        // UnpairedSurrogate
        (br#"{"s":"\ud83d"}"#, JsonError::UnpairedSurrogate),
        (br#"{"s":"\ud83dx"}"#, JsonError::UnpairedSurrogate),
        (br#"{"s":"\ud83d\n"}"#, JsonError::UnpairedSurrogate),
        (br#"{"s":"\ud83d\u0041"}"#, JsonError::UnpairedSurrogate),
        (
            br#"{"s":"\ud83d\ud83d\ude00"}"#,
            JsonError::UnpairedSurrogate,
        ),
        (br#"{"s":"\ude00"}"#, JsonError::UnpairedSurrogate),
        (br#"{"s":"\ude00\ud83d"}"#, JsonError::UnpairedSurrogate),
        (br#"{"s":"\uDFFF"}"#, JsonError::UnpairedSurrogate),
        (br#"{"\udbff":1}"#, JsonError::UnpairedSurrogate),
        (b"{\"s\":\"\\ud83d", JsonError::UnpairedSurrogate),
    ];

    #[test]
    fn rejects_with_the_specific_error() {
        for (input, expected) in REJECTED {
            assert_eq!(
                canon(input),
                Err(*expected),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn every_error_variant_is_covered() {
        let rejected = |e: JsonError| REJECTED.iter().any(|(_, r)| *r == e);
        for e in [
            JsonError::ControlCharacter,
            JsonError::DuplicateMember,
            JsonError::InvalidEscape,
            JsonError::InvalidNumber,
            JsonError::InvalidUtf8,
            JsonError::NotObject,
            JsonError::Syntax,
            JsonError::TrailingData,
            JsonError::UnpairedSurrogate,
        ] {
            assert!(rejected(e), "{e:?}");
        }
        // `Depth` and `TooManyMembers` have their own tests below.
        assert_eq!(canon_depth(b"{}", 0), Err(JsonError::Depth));
        assert_eq!(
            canon(members_json(0, MAX_MEMBERS + 1).as_bytes()),
            Err(JsonError::TooManyMembers)
        );
    }

    /// An object `depth` deep: `{"a":{"a":...{}...}}`, with arrays in between when
    /// `arrays`.
    fn nested(depth: usize, arrays: bool) -> String {
        let mut s = String::from("{");
        for i in 1..depth {
            if arrays && i % 2 == 1 {
                s.push_str("\"a\":[");
            } else if arrays {
                s.push('{');
            } else {
                s.push_str("\"a\":{");
            }
        }
        for i in (1..depth).rev() {
            s.push(if arrays && i % 2 == 1 { ']' } else { '}' });
        }
        s.push('}');
        s
    }

    #[test]
    fn depth_limit_is_exact() {
        for arrays in [false, true] {
            for limit in [1, 2, 3, 10, MAX_DEPTH] {
                let at = nested(limit, arrays);
                assert_eq!(canon_depth(at.as_bytes(), limit).as_deref(), Ok(&*at));
                let over = nested(limit + 1, arrays);
                assert_eq!(canon_depth(over.as_bytes(), limit), Err(JsonError::Depth));
            }
            // The limit is clamped to `MAX_DEPTH`.
            let over = nested(MAX_DEPTH + 1, arrays);
            assert_eq!(
                canon_depth(over.as_bytes(), usize::MAX),
                Err(JsonError::Depth)
            );
            assert_eq!(canon_depth(over.as_bytes(), 1000), Err(JsonError::Depth));
        }
        assert_eq!(canon_depth(b"{\"a\":[]}", 1), Err(JsonError::Depth));
        assert_eq!(canon_depth(b"{\"a\":1}", 1).as_deref(), Ok("{\"a\":1}"));
    }

    #[test]
    fn very_deep_input_fails_without_recursion() {
        let mut deep = b"{\"a\":".to_vec();
        deep.resize(deep.len() + 100_000, b'[');
        assert_eq!(canon(&deep), Err(JsonError::Depth));
        deep.resize(deep.len() + 100_000, b']');
        deep.push(b'}');
        assert_eq!(canon(&deep), Err(JsonError::Depth));
        let objects = "{\"a\":".repeat(100_000);
        assert_eq!(canon(objects.as_bytes()), Err(JsonError::Depth));
        assert_eq!(canon(&[b'['; 100_000]), Err(JsonError::NotObject));
    }

    /// `{"x":{...}}` nested `levels` deep around an object with `n` members.
    fn members_json(levels: usize, n: usize) -> String {
        let mut s = String::new();
        for _ in 0..levels {
            s.push_str("{\"x\":");
        }
        s.push('{');
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!("\"k{i}\":{i}"));
        }
        s.push('}');
        s.push_str(&"}".repeat(levels));
        s
    }

    #[test]
    fn member_limit_counts_open_names() {
        let full = members_json(0, MAX_MEMBERS);
        assert_eq!(canon(full.as_bytes()).as_deref(), Ok(&*full));
        let over = members_json(0, MAX_MEMBERS + 1);
        assert_eq!(canon(over.as_bytes()), Err(JsonError::TooManyMembers));
        // Each enclosing object holds one open name ("x").
        let nested_full = members_json(8, MAX_MEMBERS - 8);
        assert_eq!(canon(nested_full.as_bytes()).as_deref(), Ok(&*nested_full));
        let nested_over = members_json(8, MAX_MEMBERS - 7);
        assert_eq!(
            canon(nested_over.as_bytes()),
            Err(JsonError::TooManyMembers)
        );
        // Names of closed objects no longer count.
        let inner = members_json(0, MAX_MEMBERS - 3);
        let siblings = format!("{{\"a\":{inner},\"b\":{inner},\"c\":[{inner},{inner}]}}");
        assert_eq!(canon(siblings.as_bytes()).as_deref(), Ok(&*siblings));
        // A duplicate is still found in a full object.
        let dup = full.replace("}", ",\"k5\":0}");
        assert_eq!(canon(dup.as_bytes()), Err(JsonError::DuplicateMember));
    }

    #[test]
    fn rewrites_in_place_and_leaves_the_tail() {
        let mut buf = *br#"{ "a" : "\u0065\/" }"#;
        let len = canonicalize(&mut buf, MAX_DEPTH).unwrap();
        assert_eq!(&buf[..len], br#"{"a":"e/"}"#);
        // A surrogate pair shrinks from 12 bytes to 4.
        let mut buf = *br#"{"\ud83d\ude00":"\ud83d\ude00\ud83d\ude00"}"#;
        let len = canonicalize(&mut buf, MAX_DEPTH).unwrap();
        assert_eq!(&buf[..len], "{\"😀\":\"😀😀\"}".as_bytes());
    }

    fn member_list(object: &str) -> Vec<(JsonStr<'_>, Value<'_>)> {
        members(object.as_bytes()).collect()
    }

    fn s(content: &str) -> JsonStr<'_> {
        JsonStr(content.as_bytes())
    }

    #[test]
    fn members_reports_whether_it_read_everything() {
        let mut all = members(br#"{"a":1,"b":[2]}"#);
        assert_eq!(all.by_ref().count(), 2);
        assert!(all.finished());
        let mut empty = members(b"{}");
        assert_eq!(empty.by_ref().count(), 0);
        assert!(empty.finished());
        // Not canonical: whitespace after the first member stops the reader early.
        let mut cut = members(br#"{"a":1, "b":2}"#);
        assert_eq!(cut.by_ref().count(), 1);
        assert!(!cut.finished());
        let mut unfinished = members(br#"{"a":1,"b":2}"#);
        assert_eq!(unfinished.next().map(|(k, _)| k.raw()), Some(Some("a")));
        assert!(!unfinished.finished());
    }

    #[test]
    fn members_and_elements_read_canonical_json() {
        let json = r#"{"a":1,"b\n":"x\"y","c":[true,false,null,-1.5e3,"",{},[]],"d":{"e":{"f":[1]}},"g":null}"#;
        assert_eq!(canon(json.as_bytes()).as_deref(), Ok(json));
        let m = member_list(json);
        assert_eq!(m.len(), 5);
        assert_eq!(m[0], (s("a"), Value::Number(b"1")));
        assert_eq!(m[1], (s("b\\n"), Value::String(s("x\\\"y"))));
        assert_eq!(m[2].0, s("c"));
        assert_eq!(
            m[2].1,
            Value::Array(br#"[true,false,null,-1.5e3,"",{},[]]"#)
        );
        assert_eq!(m[3], (s("d"), Value::Object(br#"{"e":{"f":[1]}}"#)));
        assert_eq!(m[4], (s("g"), Value::Null));
        let Value::Array(array) = m[2].1 else {
            unreachable!()
        };
        let e: Vec<Value<'_>> = elements(array).collect();
        assert_eq!(
            e,
            [
                Value::Bool(true),
                Value::Bool(false),
                Value::Null,
                Value::Number(b"-1.5e3"),
                Value::String(s("")),
                Value::Object(b"{}"),
                Value::Array(b"[]"),
            ]
        );
        let Value::Object(d) = m[3].1 else {
            unreachable!()
        };
        let (name, value) = members(d).next().unwrap();
        assert!(name.eq_str("e"));
        assert_eq!(value, Value::Object(br#"{"f":[1]}"#));
        assert_eq!(members(b"{}").next(), None);
        assert_eq!(elements(b"[]").next(), None);
        // Brackets inside strings do not confuse the scanner.
        let tricky = r#"{"a":["]}\"[{",{"b":"}"}],"c":"\\"}"#;
        assert_eq!(canon(tricky.as_bytes()).as_deref(), Ok(tricky));
        let m = member_list(tricky);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].1, Value::Array(br#"["]}\"[{",{"b":"}"}]"#));
        assert_eq!(m[1], (s("c"), Value::String(s("\\\\"))));
    }

    #[test]
    fn iterators_stop_on_non_canonical_input() {
        let stops_after = |object: &str, n: usize| {
            let mut it = members(object.as_bytes());
            for _ in 0..n {
                assert!(it.next().is_some(), "{object}");
            }
            assert_eq!(it.next(), None, "{object}");
            // And stays stopped.
            assert_eq!(it.next(), None, "{object}");
        };
        stops_after("", 0);
        stops_after("{", 0);
        stops_after("}", 0);
        stops_after("[]", 0);
        stops_after("{,}", 0);
        stops_after("{\"a\":1,}", 1);
        stops_after("{\"a\":1 }", 1);
        stops_after("{ \"a\":1}", 0);
        stops_after("{\"a\" :1}", 0);
        stops_after("{\"a\":1,\"b\"}", 1);
        stops_after("{\"a\":1\"b\":2}", 1);
        stops_after("{\"a\":tru}", 0);
        stops_after("{\"a\":01}", 0);
        stops_after("{\"a\":[}", 0);
        stops_after("{\"a\":[1}]}", 0);
        stops_after("{\"a\":{]}", 0);
        stops_after("{\"a\":\"}", 0);
        stops_after("{\"a\":\"\\/\"}", 0);
        stops_after("{\"a\":\"\\u0041\"}", 0);
        stops_after("{\"a\":\"\\u000a\"}", 0);
        stops_after("{\"a\":\"\\u001F\"}", 0);
        stops_after("{\"a\":\"\n\"}", 0);
        stops_after("{\"a\":1}}", 1);
        stops_after("{\"a\":1,\"b\":x}", 1);
        let mut deep = String::from("{\"a\":");
        deep.push_str(&"[".repeat(MAX_DEPTH + 1));
        deep.push_str(&"]".repeat(MAX_DEPTH + 1));
        deep.push('}');
        stops_after(&deep, 0);
        assert_eq!(elements(b"[1,]").count(), 1);
        assert_eq!(elements(b"[,1]").count(), 0);
        assert_eq!(elements(b"[1 ]").count(), 1);
        assert_eq!(elements(b"{}").count(), 0);
        assert_eq!(elements(b"[1,2,3]").count(), 3);
        assert_eq!(elements(&[0xff]).count(), 0);
        // Content that is not UTF-8 (never in canonical output, which is checked as a
        // whole) is read as bytes, and never handed out as a `&str`.
        let Some(Value::String(bad)) = elements(b"[\"\xff\",1]").next() else {
            panic!("not read as a string")
        };
        assert_eq!((bad.as_str(), bad.raw()), (None, None));
        assert_eq!(bad.plain(), Some(&b"\xff"[..]));
    }

    #[test]
    fn json_str_unescapes() {
        let plain = s("hello é");
        assert_eq!(plain.as_str(), Some("hello é"));
        assert_eq!(plain.unescaped_len(), "hello é".len());
        assert!(plain.eq_str("hello é"));
        assert!(!plain.eq_str("hello"));

        let escaped = s(r#"a\"b\\c\b\f\n\r\t\u0000\u001f"#);
        let expected = "a\"b\\c\x08\x0c\n\r\t\x00\x1f";
        assert_eq!(escaped.as_str(), None);
        assert_eq!(escaped.unescaped_len(), expected.len());
        let mut out = [0u8; 32];
        assert_eq!(escaped.unescape_into(&mut out), Some(expected));
        let mut exact = vec![0u8; expected.len()];
        assert_eq!(escaped.unescape_into(&mut exact), Some(expected));
        let mut short = vec![0u8; expected.len() - 1];
        assert_eq!(escaped.unescape_into(&mut short), None);
        assert!(escaped.eq_str(expected));
        assert!(!escaped.eq_str(&expected[..expected.len() - 1]));
        assert!(!escaped.eq_str(&format!("{expected}x")));
        assert!(!escaped.eq_str(r#"a\"b\\c\b\f\n\r\t\u0000\u001f"#));

        let empty = s("");
        assert_eq!(empty.as_str(), Some(""));
        assert_eq!(empty.unescape_into(&mut []), Some(""));
        assert!(empty.eq_str(""));
        assert!(!empty.eq_str("a"));

        // Not canonical (only constructible here): never panics, never claims equality.
        for bad in [
            r"\", r"a\", r"\u00", r"\u0041", r"\u000a", r"\/", r"\x", r"\'",
        ] {
            let bad = s(bad);
            assert_eq!(bad.unescape_into(&mut [0; 16]), None, "{bad:?}");
            assert!(!bad.eq_str("A"), "{bad:?}");
            assert!(!bad.eq_str("\n"), "{bad:?}");
            assert!(!bad.eq_str("/"), "{bad:?}");
            let _ = bad.unescaped_len();
        }
    }

    #[test]
    fn utf8_agrees_with_encode_utf8() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let (bytes, len) = utf8(c);
            assert_eq!(
                &bytes[..len],
                c.encode_utf8(&mut [0; 4]).as_bytes(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn json_str_from_canonicalized_names() {
        let mut buf = *br#"{"\u0045xp":1,"K\"\u0001":2}"#;
        let len = canonicalize(&mut buf, MAX_DEPTH).unwrap();
        let m: Vec<_> = members(&buf[..len]).collect();
        assert!(m[0].0.eq_str("Exp"));
        assert!(!m[0].0.eq_str("exp"));
        assert!(m[1].0.eq_str("K\"\x01"));
    }

    #[test]
    fn parses_u64() {
        for (input, expected) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("1700000000", Some(1_700_000_000)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("99999999999999999999", None),
            ("", None),
            ("-0", None),
            ("-1", None),
            ("+1", None),
            ("01", None),
            ("00", None),
            ("1.0", None),
            ("1e3", None),
            ("1E3", None),
            (" 1", None),
            ("1 ", None),
            ("1a", None),
            ("١", None),
            ("9999999999999999999", Some(9_999_999_999_999_999_999)),
            ("10000000000000000000", Some(10_000_000_000_000_000_000)),
            ("100000000000000000000", None),
            ("1000000000000000000a", None),
            ("1000000000000000000/", None),
            // A bad byte inside an eight-digit step, first or second.
            ("1234567a90", None),
            ("12345678/2345678", None),
            ("1234567812345:78", None),
            ("12345678123456789", Some(12_345_678_123_456_789)),
        ] {
            assert_eq!(parse_u64(input.as_bytes()), expected, "{input}");
        }
    }

    /// Numbers of every length to 21 digits, with each other byte next to the digits at
    /// each place: refused, whichever word-at-a-time step (the last eight digits, the
    /// digits before them, or the byte loop) reads it; and whole numbers agree with `std`.
    #[test]
    fn parse_u64_checks_every_place_of_every_length() {
        for len in 1..=21 {
            // Every digit, zero included (not first: a leading zero is refused).
            let digits: String = (0..len)
                .map(|i| char::from(b'0' + ((i + 1) % 10) as u8))
                .collect();
            assert_eq!(
                parse_u64(digits.as_bytes()),
                digits.parse::<u64>().ok(),
                "{digits}"
            );
            for at in 0..len {
                for bad in [b'/', b':', b'a', b' ', b'.', 0, 0x80, 0xb9, 0xff] {
                    let mut number = digits.clone().into_bytes();
                    number[at] = bad;
                    assert_eq!(parse_u64(&number), None, "{number:?}");
                }
            }
        }
    }

    /// Every byte at every position of eight digits: only the ten digits are taken, and
    /// the value is that of the digits.
    #[test]
    fn eight_digits_refuses_every_other_byte_in_every_lane() {
        for at in 0..8 {
            for b in 0..=u8::MAX {
                let mut chunk = *b"12345678";
                chunk[at] = b;
                let expected = b.is_ascii_digit().then(|| {
                    core::str::from_utf8(&chunk)
                        .unwrap()
                        .parse::<u64>()
                        .unwrap()
                });
                assert_eq!(eight_digits(chunk), expected, "{chunk:?}");
            }
        }
    }

    /// Whether a byte is one a JSON string must escape.
    fn needs_escape(b: u8) -> bool {
        b == b'"' || b == b'\\' || b < 0x20
    }

    /// Every byte value in every lane, among fill bytes on both sides of each threshold
    /// (and ones that need an escape themselves): nonzero exactly when some byte needs an
    /// escape, and the lowest marked lane is the first such byte.
    #[test]
    fn escape_lanes_is_exact() {
        for fill in [
            0x00, 0x1f, 0x20, 0x21, b'"', 0x23, b'A', 0x5b, b'\\', 0x5d, 0x7f, 0x80, 0xa2, 0xdc,
            0xff,
        ] {
            for lane in 0..8 {
                for b in 0..=255u8 {
                    let mut bytes = [fill; 8];
                    bytes[lane] = b;
                    let found = escape_lanes(u64::from_le_bytes(bytes));
                    let first = bytes.iter().position(|&b| needs_escape(b));
                    assert_eq!(found != 0, first.is_some(), "{bytes:?}");
                    if let Some(first) = first {
                        assert_eq!(found.trailing_zeros() / 8, first as u32, "{bytes:?}");
                    }
                }
            }
        }
    }

    proptest! {
        /// Random words, most bytes drawn near the thresholds, as `escape_lanes_is_exact`.
        #[test]
        fn escape_lanes_agrees_with_a_byte_check(
            bytes in proptest::array::uniform8(prop_oneof![
                0x18u8..0x28, 0x58u8..0x60, 0x7cu8..0x84, any::<u8>(),
            ]),
        ) {
            let found = escape_lanes(u64::from_le_bytes(bytes));
            let first = bytes.iter().position(|&b| needs_escape(b));
            prop_assert_eq!(found != 0, first.is_some());
            if let Some(first) = first {
                prop_assert_eq!(found.trailing_zeros() / 8, first as u32);
            }
        }
    }

    proptest! {
        /// Against the standard library, with a non-ASCII byte anywhere or nowhere.
        #[test]
        fn is_ascii_agrees_with_std(mut bytes in proptest::collection::vec(0u8..0x80, 0..40),
                                    high in proptest::option::of((any::<usize>(), 0x80u8..))) {
            if let Some((at, b)) = high && !bytes.is_empty() {
                let len = bytes.len();
                bytes[at % len] = b;
            }
            prop_assert_eq!(is_ascii(&bytes), bytes.is_ascii());
        }

        /// Eight digits (half the cases), or eight bytes mostly digits and their
        /// neighbours in ASCII, against the standard library.
        #[test]
        fn eight_digits_agrees_with_std(
            chunk in prop_oneof![
                proptest::array::uniform8(b'0'..=b'9'),
                proptest::array::uniform8(prop_oneof![
                    4 => b'0'..=b'9',
                    1 => Just(b'/'),
                    1 => Just(b':'),
                    1 => Just(b'?'),
                    1 => any::<u8>(),
                ]),
            ]
        ) {
            let expected = core::str::from_utf8(&chunk)
                .ok()
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                .map(|s| s.parse::<u64>().unwrap());
            prop_assert_eq!(eight_digits(chunk), expected);
        }

        /// Digit strings of any length, against the standard library (which also takes
        /// leading zeros, refused here).
        #[test]
        fn parse_u64_agrees_with_std(digits in "[0-9]{1,24}") {
            let expected = if digits.len() > 1 && digits.starts_with('0') {
                None
            } else {
                digits.parse::<u64>().ok()
            };
            prop_assert_eq!(parse_u64(digits.as_bytes()), expected);
        }

        /// Top-level names from a small alphabet, many sharing a `name_bit`, each spelled
        /// plainly or with its first letter escaped and with or without whitespace before
        /// it (so read by the fast or the general path, then by the general one alone),
        /// some with a nested object of the same names as their value (whose names must
        /// neither join the top-level filter nor be compared with the top-level names):
        /// refused exactly when a name repeats in the same object, however the two are
        /// spelled and read.
        #[test]
        fn top_level_duplicates_are_found_whatever_the_filter_says(
            members in proptest::collection::vec(
                ("[abc]{1,3}", any::<bool>(), any::<bool>(), proptest::option::of(proptest::collection::vec("[abc]{1,3}", 0..4))),
                0..24,
            )
        ) {
            let mut json = String::from("{");
            let mut names = std::collections::HashSet::new();
            let mut repeated = false;
            for (i, (name, escaped, spaced, nested)) in members.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                if *spaced {
                    json.push(' ');
                }
                json.push('"');
                if *escaped {
                    json.push_str(&format!("\\u{:04x}", u32::from(name.as_bytes()[0])));
                    json.push_str(&name[1..]);
                } else {
                    json.push_str(name);
                }
                json.push_str("\":");
                match nested {
                    None => json.push('1'),
                    Some(inner) => {
                        let mut seen = std::collections::HashSet::new();
                        json.push('{');
                        for (j, inner) in inner.iter().enumerate() {
                            if j > 0 {
                                json.push(',');
                            }
                            json.push_str(&format!("\"{inner}\":2"));
                            repeated |= !seen.insert(inner.clone());
                        }
                        json.push('}');
                    }
                }
                repeated |= !names.insert(name.clone());
            }
            json.push('}');
            let result = canon(json.as_bytes());
            if repeated {
                prop_assert_eq!(result, Err(JsonError::DuplicateMember), "{}", json);
            } else {
                prop_assert!(result.is_ok(), "{}", json);
            }
        }
    }

    proptest! {
        /// `move_back` moves a range the way `copy_within` does, in words (gaps from one
        /// byte) and in pieces (gaps past the word limit), or a byte at a time where
        /// `BYTE_LOOPS` says so (the i686 run), of every length, and leaves the bytes
        /// after the destination alone.
        #[test]
        fn move_back_agrees_with_copy_within(
            buf in prop::collection::vec(any::<u8>(), 1..200),
            picks in (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        ) {
            let from = 1 + picks.0.index(buf.len());
            let to = picks.1.index(from);
            let end = from + picks.2.index(buf.len() - from + 1);
            let mut expected = buf.clone();
            expected.copy_within(from..end, to);
            let mut moved = buf;
            prop_assert_eq!(move_back(&mut moved, to, from, end), Ok(()));
            prop_assert_eq!(moved, expected);
        }
    }

    #[test]
    fn move_back_refuses_a_forward_or_out_of_bounds_move() {
        let mut buf = *b"abcdef";
        assert_eq!(move_back(&mut buf, 2, 2, 4), Err(JsonError::Syntax));
        assert_eq!(move_back(&mut buf, 3, 2, 4), Err(JsonError::Syntax));
        assert_eq!(move_back(&mut buf.clone(), 1, 2, 7), Err(JsonError::Syntax));
        assert_eq!(move_back(&mut buf, 0, 2, 2), Ok(()));
        assert_eq!(&buf, b"abcdef");
        assert_eq!(move_back(&mut buf, 1, 3, 6), Ok(()));
        assert_eq!(&buf, b"adefef");
    }

    /// Writes `v` as JSON in some legal but non-canonical spelling: whitespace around
    /// every token and strings escaped at random, picked by cycling through `style`.
    fn write_styled(v: &serde_json::Value, style: &[u8], out: &mut String) {
        let mut picks = style.iter().copied().chain(core::iter::once(0)).cycle();
        write_value(v, &mut picks, out);
    }

    fn write_ws(picks: &mut impl Iterator<Item = u8>, out: &mut String) {
        out.push_str(["", "", " ", "\n\t", "\r\n  "][usize::from(picks.next().unwrap() % 5)]);
    }

    fn write_value(v: &serde_json::Value, picks: &mut impl Iterator<Item = u8>, out: &mut String) {
        use serde_json::Value as J;
        write_ws(picks, out);
        match v {
            J::Null | J::Bool(_) | J::Number(_) => out.push_str(&v.to_string()),
            J::String(s) => write_string(s, picks, out),
            J::Array(a) => {
                out.push('[');
                for (i, e) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_value(e, picks, out);
                }
                write_ws(picks, out);
                out.push(']');
            }
            J::Object(m) => {
                out.push('{');
                for (i, (k, e)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_ws(picks, out);
                    write_string(k, picks, out);
                    write_ws(picks, out);
                    out.push(':');
                    write_value(e, picks, out);
                }
                write_ws(picks, out);
                out.push('}');
            }
        }
        write_ws(picks, out);
    }

    fn write_string(s: &str, picks: &mut impl Iterator<Item = u8>, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            let pick = picks.next().unwrap() % 4;
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' if pick == 1 => Some("\\/"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            let must_escape = c < ' ' || c == '"' || c == '\\';
            match (short, pick) {
                (Some(short), 0 | 1) => out.push_str(short),
                (None, 0 | 1) if !must_escape => out.push(c),
                _ => {
                    for unit in c.encode_utf16(&mut [0; 2]) {
                        if pick == 3 {
                            out.push_str(&format!("\\u{unit:04X}"));
                        } else {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                }
            }
        }
        out.push('"');
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value as J;
        let text = prop_oneof![
            any::<String>(),
            "[\\x00-\\x7f]{0,12}",
            "[\"\\\\/a\\x00-\\x1f\\u{7f}-\\u{10ffff}]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            any::<u64>().prop_map(J::from),
            any::<i64>().prop_map(J::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(J::from),
            text.clone().prop_map(J::String),
        ];
        leaf.prop_recursive(6, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(J::Array),
                prop::collection::btree_map(text.clone(), inner, 0..8)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        })
    }

    fn json_object() -> impl Strategy<Value = serde_json::Value> {
        prop::collection::btree_map(any::<String>(), json_value(), 0..10)
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
    }

    /// Walks every value of a canonical document with the readers.
    fn walk(value: Value<'_>, count: &mut usize) {
        *count += 1;
        match value {
            Value::Object(o) => {
                for (name, v) in members(o) {
                    let _ = name.unescaped_len();
                    walk(v, count);
                }
            }
            Value::Array(a) => elements(a).for_each(|v| walk(v, count)),
            Value::String(s) => {
                let mut out = vec![0; s.unescaped_len()];
                let unescaped = s.unescape_into(&mut out).unwrap().to_string();
                assert!(s.eq_str(&unescaped));
                assert_eq!(s.as_str().is_some(), !s.0.contains(&b'\\'));
            }
            Value::Number(n) => {
                if let Some(u) = parse_u64(n) {
                    assert_eq!(n, u.to_string().as_bytes());
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// Counts the values of a serde_json value the way `walk` does.
    fn value_count(v: &serde_json::Value) -> usize {
        1 + match v {
            serde_json::Value::Array(a) => a.iter().map(value_count).sum(),
            serde_json::Value::Object(m) => m.values().map(value_count).sum(),
            _ => 0,
        }
    }

    proptest! {
        #[test]
        fn any_spelling_canonicalizes_to_serde_json_output(
            v in json_object(),
            style in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let expected = serde_json::to_string(&v).unwrap();
            let mut spellings = vec![expected.clone(), serde_json::to_string_pretty(&v).unwrap()];
            let mut styled = String::new();
            write_styled(&v, &style, &mut styled);
            spellings.push(styled);
            for input in spellings {
                let out = canon(input.as_bytes());
                prop_assert_eq!(out.as_deref(), Ok(&*expected), "{}", input);
                let reparsed: serde_json::Value = serde_json::from_str(&expected).unwrap();
                prop_assert_eq!(&reparsed, &serde_json::from_str::<serde_json::Value>(&input).unwrap());
            }
            let mut count = 0;
            walk(Value::Object(expected.as_bytes()), &mut count);
            prop_assert_eq!(count, value_count(&v));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), depth in 0usize..80) {
            check_against_serde_json(&bytes, depth)?;
        }

        #[test]
        fn mutated_json_agrees_with_serde_json(
            v in json_object(),
            style in prop::collection::vec(any::<u8>(), 0..64),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(MUTATION_BYTES)),
                1..4,
            ),
        ) {
            let mut text = String::new();
            write_styled(&v, &style, &mut text);
            let mut bytes = text.into_bytes();
            apply_edits(&mut bytes, edits);
            check_against_serde_json(&bytes, MAX_DEPTH)?;
        }

        #[test]
        fn readers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
            let mut count = 0;
            for (name, value) in members(&bytes) {
                let _ = (name.as_str(), name.unescaped_len(), name.eq_str("a"));
                let _ = name.unescape_into(&mut [0; 8]);
                if let Value::Number(n) = value {
                    let _ = parse_u64(n);
                }
                count += 1;
            }
            prop_assert!(count <= bytes.len());
            prop_assert!(elements(&bytes).count() <= bytes.len());
            let _ = parse_u64(&bytes);
        }
    }

    /// Applies `edits` to `bytes` in turn, each `(where, kind, byte)`: kind 0 inserts the
    /// byte, 1 replaces the byte there, 2 removes it (past the end, 1 and 2 append).
    pub(super) fn apply_edits(bytes: &mut Vec<u8>, edits: Vec<(prop::sample::Index, u8, u8)>) {
        for (at, kind, byte) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 => bytes.insert(i, byte),
                1 if i < bytes.len() => bytes[i] = byte,
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => bytes.push(byte),
            }
        }
    }

    /// Bytes that make small edits to valid JSON interesting.
    const MUTATION_BYTES: &[u8] = b"{}[]\":,0123456789-+.eEtfn \t\n\\u/dDaA\x00\x1f\xc3\xa9";

    /// Whatever `bytes` are: no panic; if accepted, serde_json accepts them too, reads
    /// the same value from the canonical output, and the output is a fixed point that
    /// the readers walk completely.
    fn check_against_serde_json(bytes: &[u8], depth: usize) -> Result<(), TestCaseError> {
        let theirs = serde_json::from_slice::<serde_json::Value>(bytes);
        match canon_depth(bytes, depth) {
            Ok(out) => {
                let theirs = match theirs {
                    Ok(theirs) => theirs,
                    // RFC 8259 allows numbers beyond the range of `f64`; serde_json does not.
                    Err(e) if e.to_string().starts_with("number out of range") => return Ok(()),
                    Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
                };
                let canonical: serde_json::Value = serde_json::from_str(&out).unwrap();
                prop_assert_eq!(&canonical, &theirs);
                let again = canon(out.as_bytes());
                prop_assert_eq!(again.as_deref(), Ok(&*out));
                let mut count = 0;
                walk(Value::Object(out.as_bytes()), &mut count);
                prop_assert_eq!(count, value_count(&theirs));
            }
            Err(e) => {
                // serde_json keeps the last of duplicate members, and has other limits.
                if let Ok(serde_json::Value::Object(_)) = theirs {
                    prop_assert!(
                        matches!(
                            e,
                            JsonError::DuplicateMember
                                | JsonError::Depth
                                | JsonError::TooManyMembers
                        ),
                        "{:?} for {}",
                        e,
                        String::from_utf8_lossy(bytes)
                    );
                }
            }
        }
        Ok(())
    }
}
