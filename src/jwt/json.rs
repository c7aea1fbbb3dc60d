//! Strict, bounded JSON: validation and canonicalization of JWT headers and payloads.
//!
//! Every header (read before the MAC is checked, so attacker input) and every payload
//! passes through [`canonicalize`] before anything else looks at its bytes.
//! `serde-json-core` alone is not a validator: it skips ignored fields loosely (`"x":tru`
//! passes), has no nesting limit, takes raw control characters, and cannot decode a
//! surrogate pair. This module closes those holes, so the JSON that the rest of the crate
//! and the application see is exactly [RFC 8259] JSON, in one canonical spelling.
//!
//! # What is accepted
//!
//! - UTF-8 only. The whole buffer is checked once, up front, so [`JsonError::InvalidUtf8`]
//!   wins over every other error.
//! - The top-level value is an object ([`JsonError::NotObject`] otherwise), with only
//!   insignificant whitespace (space, tab, line feed, carriage return) around it and
//!   nothing after it ([`JsonError::TrailingData`]).
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
//!   far of the object being read plus those of every object enclosing it. The members
//!   of an object that has been closed no longer count.
//!
//! # Canonical form
//!
//! Whitespace is removed; numbers and literals are kept verbatim; every string escape is
//! decoded to raw UTF-8 except that `"` is written `\"`, `\` is written `\\`, and
//! U+0000 to U+001F are written `\b \f \n \r \t` where JSON has such an escape and
//! `\u00xx` (lowercase hex) otherwise. Every string has exactly one canonical spelling,
//! so two names are equal exactly when their canonical bytes are. This is also the form
//! `serde_json` writes.
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
//! containers (one byte each) and a fixed table of [`MAX_MEMBERS`] offsets, one per open
//! member name, pointing at its canonical spelling in the already-written output: about
//! 600 bytes on a 32-bit target.
//!
//! Each new member name is compared with the names before it in the same object, by
//! memory comparison against the table. The obvious allocation-free alternative, keeping
//! only each object's start and rescanning its canonical output for every new name, is
//! quadratic in the *bytes* of the object, because every rescan also has to skip the
//! member values (whole nested objects and long strings included), and a member limit
//! per object does not bound it: a chain of nested objects, each with a few names after
//! its child, makes every level rescan the levels below it. Measured in release mode on
//! an x86-64 laptop-class core, 8 KiB of tiny unique names cost about ~RESCAN~ that
//! way. With the table, a new name costs at most [`MAX_MEMBERS`] short comparisons and no
//! value is ever rescanned; the worst 8 KiB inputs found (the most names the limit
//! allows, all of the same length and differing only in the last byte, repeated in
//! sibling objects) take about ~TABLE~. The limit of [`MAX_MEMBERS`] open names is far
//! above what JWT headers (a handful of members) and common payloads (a few dozen claims)
//! use; more is refused with [`JsonError::TooManyMembers`].
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
    if core::str::from_utf8(buf).is_err() {
        return Err(JsonError::InvalidUtf8);
    }
    Canonicalizer {
        buf,
        r: 0,
        w: 0,
        max_depth: max_depth.min(MAX_DEPTH),
        frames: [ARRAY; MAX_DEPTH],
        depth: 0,
        keys: [0; MAX_MEMBERS],
        open_keys: 0,
    }
    .run()
}

/// A JSON value in canonical JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A string.
    String(JsonStr<'a>),
    /// A number, exactly as written.
    Number(&'a str),
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JsonStr<'a>(&'a str);

impl<'a> JsonStr<'a> {
    /// The string, if it contains no escapes (the common case: no `"`, `\` or control
    /// characters); `None` otherwise.
    pub(crate) fn raw(&self) -> &'a str {
        self.0
    }

    pub(crate) fn as_str(&self) -> Option<&'a str> {
        (!self.0.as_bytes().contains(&b'\\')).then_some(self.0)
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

    /// The length in bytes of the unescaped string.
    pub(crate) fn unescaped_len(&self) -> usize {
        self.unescaped().count()
    }

    fn unescaped(&self) -> Unescaped<'a> {
        Unescaped {
            rest: self.0.as_bytes(),
            malformed: false,
        }
    }
}

/// The members of a canonical object, in order: `(name, value)`.
///
/// `object` is the whole object, braces included. The iterator ends early on anything
/// that is not canonical JSON.
pub(crate) fn members(object: &[u8]) -> Members<'_> {
    let inner = object.strip_prefix(b"{").and_then(|o| o.strip_suffix(b"}"));
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
    let inner = array.strip_prefix(b"[").and_then(|a| a.strip_suffix(b"]"));
    Elements(Items {
        rest: inner.unwrap_or_default(),
        first: true,
        done: inner.is_none(),
    })
}

/// Parses a JSON number that is a plain non-negative integer (no sign, fraction or
/// exponent, no leading zero) fitting in a `u64`.
pub(crate) fn parse_u64(number: &str) -> Option<u64> {
    match number.as_bytes() {
        [b'0'] => Some(0),
        [b'1'..=b'9', ..] => number.chars().try_fold(0u64, |acc, c| {
            acc.checked_mul(10)?.checked_add(u64::from(c.to_digit(10)?))
        }),
        _ => None,
    }
}

/// Iterator over the members of a canonical object; see [`members`].
#[derive(Clone, Debug)]
pub(crate) struct Members<'a>(Items<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = (JsonStr<'a>, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(|rest| {
            let (name, rest) = split_string(rest)?;
            let (value, rest) = split_value(rest.strip_prefix(b":")?)?;
            Some(((name, value), rest))
        })
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
    fn next_with<T>(&mut self, split: impl FnOnce(&'a [u8]) -> Option<(T, &'a [u8])>) -> Option<T> {
        if self.done {
            return None;
        }
        let rest = if self.first {
            Some(self.rest)
        } else {
            self.rest.strip_prefix(b",")
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
fn split_value(bytes: &[u8]) -> Option<(Value<'_>, &[u8])> {
    match bytes.first()? {
        b'"' => split_string(bytes).map(|(s, rest)| (Value::String(s), rest)),
        b'{' => split_container(bytes).map(|(c, rest)| (Value::Object(c), rest)),
        b'[' => split_container(bytes).map(|(c, rest)| (Value::Array(c), rest)),
        b't' => bytes
            .strip_prefix(b"true")
            .map(|rest| (Value::Bool(true), rest)),
        b'f' => bytes
            .strip_prefix(b"false")
            .map(|rest| (Value::Bool(false), rest)),
        b'n' => bytes.strip_prefix(b"null").map(|rest| (Value::Null, rest)),
        b'-' | b'0'..=b'9' => {
            let (number, rest) = bytes.split_at_checked(number_len(bytes).ok()?)?;
            Some((Value::Number(core::str::from_utf8(number).ok()?), rest))
        }
        _ => None,
    }
}

/// Splits the canonical string at the start of `bytes` (opening quote included) from
/// what follows its closing quote.
fn split_string(bytes: &[u8]) -> Option<(JsonStr<'_>, &[u8])> {
    let content = bytes.strip_prefix(b"\"")?;
    let mut rest = content;
    loop {
        match rest {
            [b'"', after @ ..] => {
                let len = content.len().checked_sub(rest.len())?;
                let s = core::str::from_utf8(content.get(..len)?).ok()?;
                return Some((JsonStr(s), after));
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

/// The length of the number at the start of `bytes`, checked against the grammar of
/// RFC 8259 §6; a number directly followed by anything that could continue it (`01`,
/// `1.2.3`, `0x1`, `1e5e5`) is refused too.
fn number_len(bytes: &[u8]) -> Result<usize, JsonError> {
    // NUL is never part of a number, so it stands in for the end of the input.
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let digits_end = |i: usize| {
        let count = bytes.get(i..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        });
        i.saturating_add(count)
    };
    let mut i = usize::from(at(0) == b'-');
    match at(i) {
        b'0' => i = i.saturating_add(1),
        b'1'..=b'9' => i = digits_end(i),
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
    keys: [usize; MAX_MEMBERS],
    /// How many entries of `keys` are in use.
    open_keys: usize,
}

impl Canonicalizer<'_> {
    fn run(mut self) -> Result<usize, JsonError> {
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
                State::Member => self.member()?,
                State::AfterValue if self.depth == 0 => break,
                State::AfterValue => self.after_value()?,
            };
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
                let frame = u8::try_from(self.open_keys).map_err(|_| JsonError::TooManyMembers)?;
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
        let first = self
            .depth
            .checked_sub(1)
            .and_then(|top| self.frames.get(top))
            .map_or(0, |&frame| usize::from(frame));
        let name = self.buf.get(start..self.w).ok_or(JsonError::Syntax)?;
        // `name` ends with the closing quote, and an earlier name starting at `other` is
        // the same string exactly when the bytes at `other` start with `name`. Canonical
        // content splits uniquely into units (one raw byte other than `"` and `\`, or an
        // escape whose length its second byte fixes), so matching bytes means matching
        // units up to the quote; a raw `"` is never a unit, so the earlier name ends
        // there too. Each name is compared with at most `MAX_MEMBERS - 1` others.
        let others = self.keys.get(first..self.open_keys).unwrap_or_default();
        if others
            .iter()
            .any(|&other| self.buf.get(other..).is_some_and(|o| o.starts_with(name)))
        {
            return Err(JsonError::DuplicateMember);
        }
        let slot = self
            .keys
            .get_mut(self.open_keys)
            .ok_or(JsonError::TooManyMembers)?;
        *slot = start;
        self.open_keys = self.open_keys.saturating_add(1);
        Ok(())
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
            Some(&frame) if frame != ARRAY => self.open_keys = usize::from(frame),
            _ => {}
        }
        self.copy(1)
    }

    /// Rewrites the string at `"`; returns the canonical offset just after its opening
    /// quote.
    fn string(&mut self) -> Result<usize, JsonError> {
        self.copy(1)?;
        let start = self.w;
        loop {
            let run = self
                .rest()
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .ok_or(JsonError::Syntax)?;
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
            match char::decode_utf16([first, second]).next() {
                Some(Ok(c)) => (c, 12),
                _ => return Err(JsonError::UnpairedSurrogate),
            }
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
            _ => self.put(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }

    fn literal(&mut self, literal: &[u8]) -> Result<State, JsonError> {
        if !self.rest().starts_with(literal) {
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
            // In bounds: `w < r <= end <= len`, so `w + n < end`.
            self.buf.copy_within(self.r..end, self.w);
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

/// The frame of an array in [`Canonicalizer::frames`]; an object's frame is an index in
/// `keys`, always smaller.
const ARRAY: u8 = u8::MAX;

const _: () = assert!(MAX_MEMBERS < ARRAY as usize);

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
