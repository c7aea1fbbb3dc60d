//! A `serde` serializer that writes claims directly as canonical JSON.
//!
//! What it writes is exactly what [`verify`](crate::jwt::verify) accepts and reads back,
//! by construction, so signing never re-reads its own output:
//!
//! - the top-level value is an object;
//! - strings are escaped only for `"`, `\` and control characters, `\b \f \n \r \t` where
//!   JSON has a short escape and `\u00xx` (lowercase) otherwise: the canonical spelling of
//!   `jwt::json`, and exactly what `serde_json` writes;
//! - no object has two members with the same name: each name is compared, as written,
//!   with the names before it in the same object, found through a table of their offsets
//!   (at most [`MAX_MEMBERS`] open at once, as verification allows), on 64-bit targets
//!   only when its bit in a filter of the object's names is taken (see `json::name_bit`);
//! - objects and arrays nest at most [`Validation::DEFAULT_MAX_DEPTH`] deep;
//! - numbers follow the JSON grammar: integers in decimal, finite floats as Rust prints
//!   them (`{}`, or `{:e}` far from 1) with `.0` added to a whole number so that it
//!   reads back as a float, non-finite floats as `null`;
//! - map keys are strings (or unit variants, written as their name); any other key, a
//!   `char` and a tuple variant are refused, as `serde-json-core` (which panics on some of
//!   them) never signed them either.
//!
//! It replaces `serde-json-core`'s serializer, the dry run that guarded it against its
//! panics, and the canonicalizing pass over its output; `serde-json-core` followed by that
//! pass stays in the unit tests as the reference it must agree with.
//!
//! [`Validation::DEFAULT_MAX_DEPTH`]: crate::jwt::Validation::DEFAULT_MAX_DEPTH

use core::fmt::{self, Write as _};

use serde::ser::{self, Serialize};

use crate::bytes;
#[cfg(target_pointer_width = "64")]
use crate::copy;
use crate::error::Claim;
use crate::jwt::decode::{check_registered, registered_claim, registered_index};
use crate::jwt::json::{self, MAX_MEMBERS};
use crate::jwt::validation::Validation;

/// Why the claims could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WriteError {
    /// `out` is too small.
    Full,
    /// Not a JSON object that verification accepts, or a type that is not written.
    Unsupported,
    /// A registered claim of a type or value that verification refuses.
    Registered(Claim),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "output buffer too small",
            Self::Unsupported => "claims are not a JSON object that verification accepts",
            Self::Registered(_) => "a registered claim that verification refuses",
        })
    }
}

impl core::error::Error for WriteError {}

impl ser::Error for WriteError {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        Self::Unsupported
    }
}

/// Writes `claims` as canonical JSON at the start of `out`; returns its length.
pub(super) fn write<C: Serialize + ?Sized>(
    claims: &C,
    out: &mut [u8],
) -> Result<usize, WriteError> {
    let mut writer = Writer {
        out,
        len: 0,
        depth: 0,
        names: heapless::Vec::new(),
        registered: None,
        failed: None,
    };
    claims.serialize(&mut writer)?;
    if let Some(error) = writer.failed {
        return Err(error);
    }
    // Only an object is a claims set.
    match writer.out.first() {
        Some(b'{') if writer.len > 0 => Ok(writer.len),
        _ => Err(WriteError::Unsupported),
    }
}

/// The output and the state that keeps it canonical.
struct Writer<'o> {
    out: &'o mut [u8],
    len: usize,
    /// Objects and arrays open.
    depth: usize,
    /// Where each open member name starts (just after its opening quote), for the objects
    /// being written, outermost first. A `heapless::Vec`, so that only the entries written
    /// are ever touched: nothing is cleared before each signing.
    names: heapless::Vec<u32, MAX_MEMBERS>,
    /// The top-level member being written is this registered claim (its index in
    /// `registered_index`), whose value must have the type verification reads it as. A
    /// string or an integer is checked as it is written; any other value after.
    registered: Option<usize>,
    /// An error an object or array (or a `Display` impl's writer) passed to the claims'
    /// `Serialize` impl, the last if several. What it was writing is cut short, so an impl
    /// that ignores the error and goes on writes no JSON: [`write()`] fails with this error
    /// whatever the impl returns.
    failed: Option<WriteError>,
}

type Result<T = (), E = WriteError> = core::result::Result<T, E>;

impl<'o> Writer<'o> {
    fn push(&mut self, byte: u8) -> Result {
        *self.out.get_mut(self.len).ok_or(WriteError::Full)? = byte;
        self.len = self.len.wrapping_add(1);
        Ok(())
    }

    /// Two bytes at once: a comma and a quote, or a quote and a colon.
    fn push2(&mut self, bytes: [u8; 2]) -> Result {
        *self
            .out
            .get_mut(self.len..)
            .and_then(<[u8]>::first_chunk_mut)
            .ok_or(WriteError::Full)? = bytes;
        self.len = self.len.wrapping_add(2);
        Ok(())
    }

    fn extend(&mut self, bytes: &[u8]) -> Result {
        let end = self.len.checked_add(bytes.len()).ok_or(WriteError::Full)?;
        self.out
            .get_mut(self.len..end)
            .ok_or(WriteError::Full)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Opens an object or array (`open` is `{` or `[`).
    fn open(&mut self, open: u8) -> Result {
        if self.depth >= Validation::DEFAULT_MAX_DEPTH {
            return Err(WriteError::Unsupported);
        }
        self.depth = self.depth.wrapping_add(1);
        self.push(open)
    }

    fn close(&mut self, close: u8) -> Result {
        self.depth = self.depth.saturating_sub(1);
        self.push(close)
    }

    /// The content of a string, escaped canonically (without the quotes). On 64-bit
    /// targets a short string that needs no escape, as names and most values are, is
    /// copied inline by [`plain_short`](Self::plain_short) without a call; other targets
    /// keep the smaller code.
    #[cfg_attr(target_pointer_width = "64", inline(always))]
    fn escaped(&mut self, s: &str) -> Result {
        #[cfg(target_pointer_width = "64")]
        if self.plain_short(s.as_bytes()) {
            return Ok(());
        }
        self.escaped_any(s)
    }

    /// The content of any string, escaped canonically (without the quotes).
    fn escaped_any(&mut self, s: &str) -> Result {
        let bytes = s.as_bytes();
        // Most strings need no escape at all: one copy. Not looked for first where
        // `BYTE_LOOPS` says so: the loop below copies such a string whole as well.
        if !json::BYTE_LOOPS && json::string_run(bytes).is_none() {
            return self.extend(bytes);
        }
        let mut from = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                0x08 => b'b',
                0x0c => b'f',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0..=0x1f => 0,
                _ => continue,
            };
            self.extend(bytes.get(from..i).unwrap_or_default())?;
            if short == 0 {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
                self.extend(&[b'\\', b'u', b'0', b'0', hi, lo])?;
            } else {
                self.extend(&[b'\\', short])?;
            }
            from = i.wrapping_add(1);
        }
        self.extend(bytes.get(from..).unwrap_or_default())
    }

    /// Copies a string of at most 32 bytes that needs no escape, in a few word operations
    /// rather than a byte loop and a call to `memcpy`: two overlapping 16-byte blocks for 16
    /// to 32 bytes, two 8-byte words for 8 to 15, two 4-byte ones for 4 to 7, and the
    /// first, middle and last byte for fewer, which between them hold every byte. The
    /// words are checked for bytes that need an escape and written as they were loaded
    /// ([`copy::overlapping`]; fewer than 4 bytes through [`copy::short`]). `false`, with
    /// nothing written, for a longer string, one that needs an escape, or too little room:
    /// the general path then decides.
    #[cfg(target_pointer_width = "64")]
    #[inline(always)]
    fn plain_short(&mut self, bytes: &[u8]) -> bool {
        // `A` in the lanes a short string leaves empty: a byte that needs no escape.
        const FILL: u64 = 0x4141_4141_4141_4141;
        let n = bytes.len();
        let Some(dst) = self.out.get_mut(self.len..).and_then(|o| o.get_mut(..n)) else {
            return false;
        };
        if let (Some(a), Some(b)) = (bytes.first_chunk::<16>(), bytes.last_chunk::<16>()) {
            let word = |w: &[u8; 16], i: usize| {
                let half = w.as_chunks::<8>().0.get(i).copied().unwrap_or_default();
                u64::from_le_bytes(half)
            };
            let (a0, a1, b0, b1) = (word(a, 0), word(a, 1), word(b, 0), word(b, 1));
            let escapes = json::escape_lanes(a0)
                | json::escape_lanes(a1)
                | json::escape_lanes(b0)
                | json::escape_lanes(b1);
            if n > 32 || escapes != 0 {
                return false;
            }
            copy::overlapping(dst, *a, *b);
        } else if let (Some(a), Some(b)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            let (a, b) = (u64::from_le_bytes(*a), u64::from_le_bytes(*b));
            if json::escape_lanes(a) | json::escape_lanes(b) != 0 {
                return false;
            }
            copy::overlapping(dst, a.to_le_bytes(), b.to_le_bytes());
        } else if let (Some(a), Some(b)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
            let (a, b) = (u32::from_le_bytes(*a), u32::from_le_bytes(*b));
            if json::escape_lanes(u64::from(a) | (u64::from(b) << 32)) != 0 {
                return false;
            }
            copy::overlapping(dst, a.to_le_bytes(), b.to_le_bytes());
        } else if let (Some(&a), Some(&b), Some(&c)) =
            (bytes.first(), bytes.get(n / 2), bytes.last())
        {
            let word = (FILL << 24) | u64::from(a) | (u64::from(b) << 8) | (u64::from(c) << 16);
            if json::escape_lanes(word) != 0 || copy::short(dst, bytes).is_none() {
                return false;
            }
        }
        self.len = self.len.wrapping_add(n);
        true
    }

    /// The registered claim whose value is being written, if this value is it (a member
    /// of the top-level object); `None` from then on.
    fn registered_value(&mut self) -> Option<Claim> {
        if self.depth != 1 {
            return None;
        }
        self.registered.take().map(registered_claim)
    }

    #[cfg_attr(target_pointer_width = "64", inline(always))]
    fn string(&mut self, s: &str) -> Result {
        match self.registered_value() {
            None | Some(Claim::Iss | Claim::Sub | Claim::Jti | Claim::Sid | Claim::Aud) => {}
            Some(claim) => return Err(WriteError::Registered(claim)),
        }
        self.push(b'"')?;
        self.escaped(s)?;
        self.push(b'"')
    }

    #[cfg_attr(target_pointer_width = "64", inline(always))]
    fn unsigned(&mut self, v: u64) -> Result {
        match self.registered_value() {
            None => {}
            Some(Claim::Exp | Claim::Nbf | Claim::Iat) if i64::try_from(v).is_ok() => {}
            Some(claim) => return Err(WriteError::Registered(claim)),
        }
        self.digits(v)
    }

    fn digits(&mut self, mut v: u64) -> Result {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at = at.wrapping_sub(1);
            let (quotient, digit) = div10(v);
            if let Some(d) = digits.get_mut(at) {
                *d = b'0'.wrapping_add(digit);
            }
            v = quotient;
            if v == 0 || at == 0 {
                break;
            }
        }
        self.extend(digits.get(at..).unwrap_or_default())
    }

    fn signed(&mut self, v: i64) -> Result {
        match self.registered_value() {
            None => {}
            Some(Claim::Exp | Claim::Nbf | Claim::Iat) if v >= 0 => {}
            Some(claim) => return Err(WriteError::Registered(claim)),
        }
        if v < 0 {
            self.push(b'-')?;
        }
        self.digits(v.unsigned_abs())
    }

    fn float(&mut self, v: f64) -> Result {
        if !v.is_finite() {
            return self.extend(b"null");
        }
        let magnitude = v.abs();
        let before = self.len;
        let written = if magnitude == 0.0 || (1e-5..1e16).contains(&magnitude) {
            write!(self, "{v}")
        } else {
            write!(self, "{v:e}")
        };
        if written.is_err() {
            // `fmt::Write` can only fail for lack of room.
            self.len = before;
            return Err(WriteError::Full);
        }
        // A float stays a float when read back: `1.0` is not written as the integer `1`
        // (a reader that keeps JSON's types apart, such as `serde_json::Value` or an
        // untagged enum, would see another type than was signed).
        let text = self.out.get(before..self.len).unwrap_or_default();
        if !text.iter().any(|&b| matches!(b, b'.' | b'e' | b'E')) {
            self.extend(b".0")?;
        }
        Ok(())
    }

    /// Starts a member: a comma unless it is the first, then the name, checked against the
    /// names before it in the same object, then the colon. Returns where the name's
    /// canonical text (between the quotes) is in the output.
    ///
    /// `seen` has the [`json::name_bit`] of every earlier name of the object set: a name whose bit
    /// is clear is new, and only one whose bit is set is compared with the others.
    #[cfg_attr(target_pointer_width = "64", inline(always))]
    fn name(
        &mut self,
        first: bool,
        names_base: usize,
        seen: &mut u64,
        key: Key<'_>,
    ) -> Result<core::ops::Range<usize>> {
        if first {
            self.push(b'"')?;
        } else {
            self.push2(*b",\"")?;
        }
        let start = self.len;
        match key {
            Key::Str(s) => self.escaped(s)?,
            Key::Value(key) => key.serialize(KeyWriter(self))?,
        }
        let end = self.len;
        let name = self.out.get(start..end).unwrap_or_default();
        let bit = json::name_bit(name);
        // Where `BYTE_LOOPS` says so, every name takes every bit (see `name_bit`): said
        // here at compile time, so that the filter's code is left out there.
        let earlier = if !json::BYTE_LOOPS && *seen & bit == 0 {
            &[]
        } else {
            self.names.get(names_base..).unwrap_or_default()
        };
        *seen |= bit;
        for &other in earlier {
            let other = usize::try_from(other).unwrap_or(usize::MAX);
            let other_end = other.saturating_add(name.len());
            // Both names are complete canonical strings, so an earlier name that begins with
            // this one's bytes and then closes is the same name.
            // The closing quote first: names of other lengths stop there.
            if self.out.get(other_end) == Some(&b'"')
                && self
                    .out
                    .get(other..)
                    .is_some_and(|o| bytes::starts_with(o, name))
            {
                return Err(WriteError::Unsupported);
            }
        }
        // A full table first (an object with more names than verification allows open
        // at once), then an offset beyond `u32`: the order the errors have always had.
        if self.names.is_full() {
            return Err(WriteError::Unsupported);
        }
        let offset = u32::try_from(start).map_err(|_| WriteError::Full)?;
        self.names
            .push(offset)
            .map_err(|_| WriteError::Unsupported)?;
        self.push2(*b"\":")?;
        Ok(start..end)
    }

    fn object<'w>(&'w mut self) -> Result<Compound<'w, 'o>> {
        self.open(b'{')?;
        let names_base = self.names.len();
        Ok(Compound {
            w: self,
            first: true,
            names_base,
            seen: 0,
            variant: None,
            value_due: false,
        })
    }

    fn array<'w>(&'w mut self) -> Result<Compound<'w, 'o>> {
        self.open(b'[')?;
        let names_base = self.names.len();
        Ok(Compound {
            w: self,
            first: true,
            names_base,
            seen: 0,
            variant: None,
            value_due: false,
        })
    }

    /// `{"variant":` before the value of a newtype or struct variant.
    fn variant(&mut self, variant: &str) -> Result<usize> {
        self.open(b'{')?;
        let names_base = self.names.len();
        let name = self.name(true, names_base, &mut 0, Key::Str(variant))?;
        self.note_registered(name);
        Ok(names_base)
    }

    /// After a member's name (its canonical text at `name`): if the member is one of the
    /// top-level object, a claim of the claims set, notes whether it is a registered one,
    /// whose value must have the type verification reads it as. (Members of nested objects
    /// leave it alone: it belongs to the top-level member whose value they are part of.)
    #[inline]
    fn note_registered(&mut self, name: core::ops::Range<usize>) {
        if self.depth == 1 {
            self.registered = self.out.get(name).and_then(registered_index);
        }
    }

    /// Checks the value written from `start` on, if it is a registered claim's and was not
    /// checked as it was written (strings and integers are). Not generic, so that every
    /// value type shares it.
    fn check_value(&mut self, start: usize) -> Result {
        if self.depth == 1
            && let Some(index) = self.registered.take()
        {
            let written = self.out.get(start..self.len).unwrap_or_default();
            check_registered(index, written).map_err(WriteError::Registered)?;
        }
        Ok(())
    }
}

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.extend(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

/// A member name: a field name, or a map key to be serialized.
enum Key<'k> {
    Str(&'k str),
    Value(&'k dyn KeySerialize),
}

/// Object-safe `Serialize` for map keys.
trait KeySerialize {
    fn serialize(&self, w: KeyWriter<'_, '_>) -> Result;
}

impl<T: Serialize + ?Sized> KeySerialize for T {
    fn serialize(&self, w: KeyWriter<'_, '_>) -> Result {
        Serialize::serialize(self, w)
    }
}

/// The members of an object or the elements of an array being written.
struct Compound<'w, 'o> {
    w: &'w mut Writer<'o>,
    first: bool,
    /// Where this object's names start in the table.
    names_base: usize,
    /// The [`json::name_bit`]s of the names written in this object.
    seen: u64,
    /// A struct variant, `{"variant":{...}}`: the names base of the outer object, which
    /// needs a closing brace of its own.
    variant: Option<usize>,
    /// A map's key was written and its value not yet. `serde` calls a map's key and value
    /// in turn; an impl that does not would write a name without a value, or the reverse.
    value_due: bool,
}

impl Compound<'_, '_> {
    /// Runs one of the calls a `Serialize` impl makes on an object or array, and keeps
    /// its error for [`write()`]. (An `end` that fails leaves the impl nothing to
    /// return but an error.)
    fn guarded(&mut self, call: impl FnOnce(&mut Self) -> Result) -> Result {
        let result = call(self);
        if let Err(error) = result {
            self.w.failed = Some(error);
        }
        result
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        if !self.first {
            self.w.push(b',')?;
        }
        self.first = false;
        value.serialize(&mut *self.w)
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: Key<'_>, value: &T) -> Result {
        self.key(key)?;
        self.value(value)
    }

    #[cfg_attr(target_pointer_width = "64", inline(always))]
    fn key(&mut self, key: Key<'_>) -> Result {
        let name = self
            .w
            .name(self.first, self.names_base, &mut self.seen, key)?;
        self.first = false;
        self.w.note_registered(name);
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        let start = self.w.len;
        value.serialize(&mut *self.w)?;
        self.w.check_value(start)
    }

    fn end_object(self) -> Result {
        self.w
            .names
            .truncate(self.variant.unwrap_or(self.names_base));
        self.w.close(b'}')?;
        if self.variant.is_some() {
            self.w.close(b'}')?;
        }
        Ok(())
    }
}

impl<'w, 'o> ser::Serializer for &'w mut Writer<'o> {
    type Ok = ();
    type Error = WriteError;
    type SerializeSeq = Compound<'w, 'o>;
    type SerializeTuple = Compound<'w, 'o>;
    type SerializeTupleStruct = Compound<'w, 'o>;
    type SerializeTupleVariant = ser::Impossible<(), WriteError>;
    type SerializeMap = Compound<'w, 'o>;
    type SerializeStruct = Compound<'w, 'o>;
    type SerializeStructVariant = Compound<'w, 'o>;

    fn serialize_bool(self, v: bool) -> Result {
        self.extend(if v { b"true" } else { b"false" })
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.signed(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.signed(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.signed(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.signed(v)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.unsigned(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.unsigned(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.unsigned(v.into())
    }

    #[cfg_attr(target_pointer_width = "64", inline(always))]
    fn serialize_u64(self, v: u64) -> Result {
        self.unsigned(v)
    }

    fn serialize_f32(self, v: f32) -> Result {
        self.float(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result {
        self.float(v)
    }

    /// Refused, as `serde-json-core` (which panics on it) never signed it, and cannot read
    /// it back.
    fn serialize_char(self, _: char) -> Result {
        Err(WriteError::Unsupported)
    }

    #[cfg_attr(target_pointer_width = "64", inline(always))]
    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }

    /// An array of numbers, as `serde_json` writes bytes.
    fn serialize_bytes(self, v: &[u8]) -> Result {
        let mut seq = self.array()?;
        for b in v {
            seq.element(b)?;
        }
        seq.w.close(b']')
    }

    fn serialize_none(self) -> Result {
        self.extend(b"null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.extend(b"null")
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.extend(b"null")
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        let names_base = self.variant(variant)?;
        let start = self.len;
        value.serialize(&mut *self)?;
        self.check_value(start)?;
        self.names.truncate(names_base);
        self.close(b'}')
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w, 'o>> {
        self.array()
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'w, 'o>> {
        self.array()
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'w, 'o>> {
        self.array()
    }

    /// Refused, as `serde-json-core` (which panics on it) never signed it.
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(WriteError::Unsupported)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w, 'o>> {
        self.object()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'w, 'o>> {
        self.object()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'o>> {
        let outer_base = self.variant(variant)?;
        // An object is no registered claim's value.
        if self.depth == 1
            && let Some(index) = self.registered.take()
        {
            return Err(WriteError::Registered(registered_claim(index)));
        }
        self.open(b'{')?;
        let names_base = self.names.len();
        Ok(Compound {
            w: self,
            first: true,
            names_base,
            seen: 0,
            variant: Some(outer_base),
            value_due: false,
        })
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result {
        self.push(b'"')?;
        let before = self.len;
        // A `Display` impl may ignore an error and go on: the text would lack a part.
        if write!(Escaping(self), "{value}").is_err() || self.failed.is_some() {
            self.len = before;
            return Err(WriteError::Full);
        }
        self.push(b'"')
    }
}

/// Escapes what a `Display` impl writes.
struct Escaping<'w, 'o>(&'w mut Writer<'o>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.escaped(s).map_err(|error| {
            self.0.failed = Some(error);
            fmt::Error
        })
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.guarded(|c| c.element(value))
    }

    fn end(self) -> Result {
        self.w.close(b']')
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.guarded(|c| c.element(value))
    }

    fn end(self) -> Result {
        self.w.close(b']')
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.guarded(|c| c.element(value))
    }

    fn end(self) -> Result {
        self.w.close(b']')
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.guarded(|c| {
            if core::mem::replace(&mut c.value_due, true) {
                return Err(WriteError::Unsupported);
            }
            c.key(Key::Value(&key))
        })
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.guarded(|c| {
            if !core::mem::replace(&mut c.value_due, false) {
                return Err(WriteError::Unsupported);
            }
            c.value(value)
        })
    }

    fn end(self) -> Result {
        if self.value_due {
            return Err(WriteError::Unsupported);
        }
        self.end_object()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result {
        self.guarded(|c| c.member(Key::Str(name), value))
    }

    fn end(self) -> Result {
        self.end_object()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result {
        self.guarded(|c| c.member(Key::Str(name), value))
    }

    fn end(self) -> Result {
        self.end_object()
    }
}

/// Writes a map key's text between the quotes: a string, or a unit variant's name.
struct KeyWriter<'w, 'o>(&'w mut Writer<'o>);

impl ser::Serializer for KeyWriter<'_, '_> {
    type Ok = ();
    type Error = WriteError;
    type SerializeSeq = ser::Impossible<(), WriteError>;
    type SerializeTuple = ser::Impossible<(), WriteError>;
    type SerializeTupleStruct = ser::Impossible<(), WriteError>;
    type SerializeTupleVariant = ser::Impossible<(), WriteError>;
    type SerializeMap = ser::Impossible<(), WriteError>;
    type SerializeStruct = ser::Impossible<(), WriteError>;
    type SerializeStructVariant = ser::Impossible<(), WriteError>;

    fn serialize_str(self, v: &str) -> Result {
        self.0.escaped(v)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.0.escaped(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result {
        let before = self.0.len;
        if write!(Escaping(&mut *self.0), "{value}").is_err() {
            self.0.len = before;
            return Err(WriteError::Full);
        }
        Ok(())
    }

    fn serialize_bool(self, _: bool) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_i8(self, _: i8) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_i16(self, _: i16) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_i32(self, _: i32) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_i64(self, _: i64) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_u8(self, _: u8) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_u16(self, _: u16) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_u32(self, _: u32) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_u64(self, _: u64) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_f32(self, _: f32) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_f64(self, _: f64) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_char(self, _: char) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_none(self) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_unit(self) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(WriteError::Unsupported)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(WriteError::Unsupported)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(WriteError::Unsupported)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(WriteError::Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(WriteError::Unsupported)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(WriteError::Unsupported)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(WriteError::Unsupported)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(WriteError::Unsupported)
    }
}

/// `v / 10` and `v % 10`.
fn div10(v: u64) -> (u64, u8) {
    #[cfg(target_pointer_width = "32")]
    return div10_narrow(v);
    // `v % 10` is below 10.
    #[cfg(not(target_pointer_width = "32"))]
    return (v / 10, (v % 10) as u8);
}

/// `v / 10` and `v % 10` on a 32-bit target, without 64-bit division.
///
/// A 32-bit target divides 64-bit numbers in a library routine of almost 1 KiB (on a
/// Cortex-M4, `__aeabi_uldivmod`) that nothing else in the crate needs. Values that fit
/// 32 bits (timestamps until 2106) take one 32-bit division; larger ones a long division
/// in 16-bit digits, where each step divides a remainder below 10 followed by 16 bits,
/// which fits 32 bits.
#[cfg(any(test, target_pointer_width = "32"))]
fn div10_narrow(v: u64) -> (u64, u8) {
    if let Ok(small) = u32::try_from(v) {
        // `small % 10` is below 10.
        return (u64::from(small / 10), (small % 10) as u8);
    }
    // The 16-bit digits from the 32-bit halves (shifts by constants: a variable 64-bit
    // shift is one more library routine).
    let (high, low) = ((v >> 32) as u32, v as u32);
    let mut quotient = 0u64;
    let mut remainder = 0u32;
    // Through a reference: an array by value is an iterator of its own on a microcontroller.
    for &digit in &[high >> 16, high & 0xffff, low >> 16, low & 0xffff] {
        // Below `10 << 16`: no overflow.
        let part = (remainder << 16) | digit;
        quotient = (quotient << 16) | u64::from(part / 10);
        remainder = part % 10;
    }
    // `remainder` is below 10.
    (quotient, remainder as u8)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
mod tests {
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;
    use crate::jwt::json;

    fn ours<T: Serialize + ?Sized>(value: &T) -> Result<String, WriteError> {
        let mut out = vec![0u8; 1 << 16];
        let len = write(value, &mut out)?;
        out.truncate(len);
        Ok(String::from_utf8(out).unwrap())
    }

    /// The path this writer replaced: `serde-json-core`, then the canonicalizer.
    fn reference<T: Serialize + ?Sized>(value: &T) -> Option<String> {
        let mut out = vec![0u8; 1 << 16];
        let len = serde_json_core::to_slice(value, &mut out).ok()?;
        let len = json::canonicalize(&mut out[..len], Validation::DEFAULT_MAX_DEPTH).ok()?;
        out.truncate(len);
        Some(String::from_utf8(out).unwrap())
    }

    #[derive(Serialize)]
    enum Role {
        Admin,
        Scoped { tenant: u32, name: &'static str },
        Named(&'static str),
    }

    #[derive(Serialize)]
    struct Claims<'a> {
        sub: &'a str,
        exp: u64,
        n: i64,
        ok: bool,
        none: Option<u8>,
        tags: &'a [&'a str],
        role: Role,
        roles: [Role; 2],
        nested: BTreeMap<&'a str, (u8, i8)>,
    }

    #[test]
    fn agrees_with_serde_json_core_then_canonicalize() {
        let mut nested = BTreeMap::new();
        nested.insert("a\"b", (1u8, -1i8));
        nested.insert("\u{1}\n", (255, i8::MIN));
        for sub in [
            "",
            "alice",
            "a\"b\\c",
            "\u{0}\u{8}\u{c}\n\r\t\u{1f}\u{7f}",
            "é ✓ 😀",
            "/",
        ] {
            let claims = Claims {
                sub,
                exp: i64::MAX.unsigned_abs(),
                n: i64::MIN,
                ok: true,
                none: None,
                tags: &[sub, "x"],
                role: Role::Scoped {
                    tenant: 7,
                    name: "t",
                },
                roles: [Role::Admin, Role::Named(sub)],
                nested: nested.clone(),
            };
            let expected = reference(&claims).unwrap();
            assert_eq!(ours(&claims).unwrap(), expected);
            // And it is already canonical: the canonicalizer leaves it as it is.
            let mut again = expected.clone().into_bytes();
            let len = json::canonicalize(&mut again, Validation::DEFAULT_MAX_DEPTH).unwrap();
            assert_eq!(&again[..len], expected.as_bytes());
        }
    }

    #[test]
    fn refuses_what_verification_would_refuse() {
        #[derive(Serialize)]
        struct Twice {
            a: u8,
            #[serde(rename = "a")]
            b: u8,
        }
        assert_eq!(ours(&Twice { a: 1, b: 2 }), Err(WriteError::Unsupported));
        // Duplicates are per object: the same name in sibling and nested objects is fine.
        #[derive(Serialize)]
        struct Inner {
            a: u8,
        }
        #[derive(Serialize)]
        struct Outer {
            a: Inner,
            b: Inner,
        }
        let fine = Outer {
            a: Inner { a: 1 },
            b: Inner { a: 2 },
        };
        assert_eq!(ours(&fine).unwrap(), r#"{"a":{"a":1},"b":{"a":2}}"#);
        // Not an object.
        assert_eq!(ours(&[1u8]), Err(WriteError::Unsupported));
        assert_eq!(ours("x"), Err(WriteError::Unsupported));
        assert_eq!(ours(&Role::Admin), Err(WriteError::Unsupported));
        assert_eq!(ours(&()), Err(WriteError::Unsupported));
        // Keys that are not strings.
        let mut map = BTreeMap::new();
        map.insert(1u8, 2u8);
        assert_eq!(ours(&map), Err(WriteError::Unsupported));
        // Too deep: 16 levels are the default limit of verification.
        let mut deep: Vec<String> = Vec::new();
        let mut v = serde_json::json!(1);
        for _ in 0..15 {
            v = serde_json::json!([v]);
        }
        let ok = serde_json::json!({ "a": v.clone() });
        assert!(ours(&ok).is_ok(), "16 levels");
        let too_deep = serde_json::json!({ "a": [v] });
        assert_eq!(ours(&too_deep), Err(WriteError::Unsupported));
        deep.clear();
        // More open names than verification reads.
        let wide: BTreeMap<String, u8> = (0..MAX_MEMBERS + 1)
            .map(|i| (alloc::format!("k{i}"), 0))
            .collect();
        assert_eq!(ours(&wide), Err(WriteError::Unsupported));
        let wide: BTreeMap<String, u8> = (0..MAX_MEMBERS)
            .map(|i| (alloc::format!("k{i}"), 0))
            .collect();
        assert!(ours(&wide).is_ok());
    }

    /// An externally tagged enum as the claims set writes its variant's name as the
    /// top-level member: a registered name there is checked as a field's would be.
    #[test]
    fn registered_claims_named_by_a_variant_are_checked() {
        #[derive(Serialize)]
        enum Claims {
            #[serde(rename = "exp")]
            ExpText(&'static str),
            #[serde(rename = "exp")]
            ExpNumber(u64),
            #[serde(rename = "exp")]
            ExpList(Vec<u64>),
            #[serde(rename = "sub")]
            SubObject {
                a: u8,
            },
            #[serde(rename = "aud")]
            Aud(Vec<&'static str>),
            Custom {
                exp: &'static str,
            },
        }
        let exp = Err(WriteError::Registered(Claim::Exp));
        assert_eq!(ours(&Claims::ExpText("soon")), exp);
        assert_eq!(ours(&Claims::ExpNumber(u64::MAX)), exp);
        assert_eq!(ours(&Claims::ExpList(vec![1])), exp);
        assert_eq!(ours(&Claims::ExpNumber(7)).unwrap(), r#"{"exp":7}"#);
        assert_eq!(
            ours(&Claims::SubObject { a: 1 }),
            Err(WriteError::Registered(Claim::Sub))
        );
        assert_eq!(
            ours(&Claims::Aud(vec!["a", "b"])).unwrap(),
            r#"{"aud":["a","b"]}"#
        );
        // A registered name one level down is a custom claim's business.
        assert_eq!(
            ours(&Claims::Custom { exp: "soon" }).unwrap(),
            r#"{"Custom":{"exp":"soon"}}"#
        );
    }

    /// `Serialize` impls that break `serde`'s contract for maps: each would have written
    /// something that is not JSON.
    #[test]
    fn a_map_out_of_order_is_refused() {
        #[derive(Clone, Copy)]
        enum Misuse {
            KeyWithoutValue,
            TwoKeys,
            ValueWithoutKey,
        }
        impl Serialize for Misuse {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                match self {
                    Self::KeyWithoutValue => map.serialize_key("a")?,
                    Self::TwoKeys => {
                        map.serialize_key("a")?;
                        map.serialize_key("b")?;
                        map.serialize_value(&1)?;
                    }
                    Self::ValueWithoutKey => map.serialize_value(&1)?,
                }
                map.end()
            }
        }
        for misuse in [
            Misuse::KeyWithoutValue,
            Misuse::TwoKeys,
            Misuse::ValueWithoutKey,
        ] {
            assert_eq!(ours(&misuse), Err(WriteError::Unsupported));
        }
    }

    /// A `Serialize` impl that ignores an error and goes on gets no text, but the error:
    /// what failed may have been written in part.
    #[test]
    fn an_error_ignored_by_the_impl_still_fails_the_claims() {
        #[derive(Clone, Copy, Debug)]
        enum Ignored {
            /// `sub` must be a string: its name is written, its value refused.
            RegisteredType,
            /// The second `a` is refused after its comma and quote.
            RepeatedName,
            /// A map key that is no string.
            KeyType,
            /// A string too long for the buffer, in a struct.
            Full,
            /// A `Display` impl that ignores its writer's error.
            Display,
        }
        struct Text(bool);
        impl fmt::Display for Text {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.0 {
                    let _ = f.write_str(&"x".repeat(600));
                }
                f.write_str("y")
            }
        }
        struct Shown(bool);
        impl Serialize for Shown {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&Text(self.0))
            }
        }
        impl Serialize for Ignored {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ser::{SerializeMap, SerializeStruct};
                if let Self::Full | Self::Display = self {
                    let mut st = s.serialize_struct("C", 2)?;
                    if let Self::Full = self {
                        let _ = st.serialize_field("a", &"z".repeat(600));
                    } else {
                        let _ = st.serialize_field("a", &Shown(true));
                    }
                    st.serialize_field("b", &1)?;
                    return st.end();
                }
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("exp", &1_800_000_000u64)?;
                let _ = match self {
                    Self::RegisteredType => map.serialize_entry("sub", &5u32),
                    Self::RepeatedName => map
                        .serialize_entry("a", &1)
                        .and_then(|()| map.serialize_entry("a", &2)),
                    _ => map.serialize_entry(&true, &1),
                };
                let _ = map.serialize_entry("x", &1u8);
                map.end()
            }
        }
        for (ignored, error) in [
            (Ignored::RegisteredType, WriteError::Registered(Claim::Sub)),
            (Ignored::RepeatedName, WriteError::Unsupported),
            (Ignored::KeyType, WriteError::Unsupported),
            (Ignored::Full, WriteError::Full),
            (Ignored::Display, WriteError::Full),
        ] {
            let mut out = vec![0u8; 512];
            assert_eq!(write(&ignored, &mut out), Err(error), "{ignored:?}");
        }
        // Without the error, the same `Display` impl is written.
        #[derive(Serialize)]
        struct One {
            a: Shown,
        }
        assert_eq!(ours(&One { a: Shown(false) }).unwrap(), r#"{"a":"y"}"#);
    }

    #[test]
    fn a_small_buffer_is_full_never_a_truncated_object() {
        let claims = serde_json::json!({ "sub": "alice", "exp": 1, "f": 1.5 });
        let text = ours(&claims).unwrap();
        for len in 0..text.len() {
            let mut out = vec![0u8; len];
            assert_eq!(write(&claims, &mut out), Err(WriteError::Full), "{len}");
        }
    }

    #[test]
    fn floats_and_bytes_and_display() {
        struct Shown;
        impl fmt::Display for Shown {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a\"b")
            }
        }
        impl Serialize for Shown {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        #[derive(Serialize)]
        struct F {
            a: f64,
            b: f64,
            c: f64,
            d: f32,
            e: f64,
            #[serde(with = "serde_bytes_like")]
            bytes: [u8; 2],
            shown: Shown,
        }
        mod serde_bytes_like {
            pub(super) fn serialize<S: serde::Serializer>(
                v: &[u8; 2],
                s: S,
            ) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(v)
            }
        }
        let f = F {
            a: 0.5,
            b: f64::NAN,
            c: 1e300,
            d: -2.0,
            e: -0.0,
            bytes: [0, 255],
            shown: Shown,
        };
        let text = ours(&f).unwrap();
        assert_eq!(
            text,
            r#"{"a":0.5,"b":null,"c":1e300,"d":-2.0,"e":-0.0,"bytes":[0,255],"shown":"a\"b"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["c"], serde_json::json!(1e300));
        // Whole floats read back as floats, as `serde_json` writes them.
        assert!(back["d"].is_f64() && back["e"].is_f64(), "{text}");
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value as J;
        let text = prop_oneof![
            any::<String>(),
            "[\"\\\\/a\\x00-\\x1f\\u{7f}-\\u{10ffff}]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            any::<u64>().prop_map(J::from),
            any::<i64>().prop_map(J::from),
            text.clone().prop_map(J::String),
        ];
        leaf.prop_recursive(5, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
                prop::collection::btree_map(text.clone(), inner, 0..6)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The 32-bit targets' division by ten agrees with the 64-bit one, on every
        /// magnitude (the bits of `v` are cut at a random length).
        #[test]
        fn div10_narrow_agrees_with_u64_division(v in any::<u64>(), bits in 0u32..=64) {
            let v = v.checked_shr(64 - bits).unwrap_or(0);
            prop_assert_eq!(div10_narrow(v), (v / 10, (v % 10) as u8));
            prop_assert_eq!(div10(v), (v / 10, (v % 10) as u8));
        }
    }

    #[test]
    fn div10_narrow_at_the_edges() {
        for v in [
            0,
            9,
            10,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(div10_narrow(v), (v / 10, (v % 10) as u8), "{v}");
        }
    }

    /// Names and strings of every length up to past the 32 bytes that a short string can
    /// be, plain or with one byte that needs an escape at each place: what `serde_json`
    /// writes, in the top-level object and in a nested one.
    #[test]
    fn strings_of_every_length_and_escape_place() {
        for len in 0..=40 {
            let plain: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let mut texts = vec![plain.clone()];
            for at in 0..len {
                for escape in ['"', '\\', '\n', '\u{1}', '\u{1f}', 'é'] {
                    let mut text: Vec<char> = plain.chars().collect();
                    text[at] = escape;
                    texts.push(text.into_iter().collect());
                }
            }
            for text in texts {
                let object = serde_json::json!({ text.clone(): text, "n": { text.clone(): 1 } });
                let expected = serde_json::to_string(&object).unwrap();
                assert_eq!(ours(&object).unwrap(), expected);
            }
        }
    }

    /// `plain_short` itself, for every length to past its 32 bytes, with a byte that needs
    /// an escape at each place or none, and with room for the string or one byte less: it
    /// copies exactly the strings it may, writes nothing otherwise, and moves on by the
    /// string's length.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn plain_short_copies_exactly_what_it_may() {
        for n in 0..=40usize {
            let plain: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let mut inputs = vec![(plain.clone(), true)];
            for at in 0..n {
                for b in [b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0xc3] {
                    let mut bytes = plain.clone();
                    bytes[at] = b;
                    inputs.push((bytes, b >= 0x20 && b != b'"' && b != b'\\'));
                }
            }
            for (bytes, plain) in inputs {
                for room in [n.saturating_sub(1), n, n + 3] {
                    let mut out = vec![0xeeu8; 2 + room];
                    let mut writer = Writer {
                        out: &mut out[..2 + room],
                        len: 2,
                        depth: 0,
                        names: heapless::Vec::new(),
                        registered: None,
                        failed: None,
                    };
                    let copied = writer.plain_short(&bytes);
                    let len = writer.len;
                    let expected = plain && n <= 32 && room >= n;
                    assert_eq!(copied, expected, "{bytes:?} in {room}");
                    if copied {
                        assert_eq!(len, 2 + n);
                        assert_eq!(&out[2..2 + n], &bytes[..]);
                    } else {
                        assert_eq!(len, 2);
                    }
                    let rest = if copied { 2 + n } else { 2 };
                    assert!(out[..2].iter().chain(&out[rest..]).all(|&b| b == 0xee));
                }
            }
        }
    }

    /// A name repeated after a nested object, or inside the object of a struct variant, is
    /// refused like any other; the same name in the nested object is not a repeat.
    #[test]
    fn a_repeat_after_or_inside_a_nested_object_is_refused() {
        #[derive(Serialize)]
        struct Inner {
            x: u8,
            a: u8,
        }
        #[derive(Serialize)]
        struct After {
            a: Inner,
            #[serde(rename = "a")]
            again: u8,
        }
        let after = After {
            a: Inner { x: 1, a: 2 },
            again: 3,
        };
        assert_eq!(ours(&after), Err(WriteError::Unsupported));
        #[derive(Serialize)]
        enum Variant {
            V {
                a: u8,
                b: Inner,
                #[serde(rename = "b")]
                c: u8,
            },
        }
        let variant = Variant::V {
            a: 1,
            b: Inner { x: 1, a: 2 },
            c: 3,
        };
        assert_eq!(ours(&variant), Err(WriteError::Unsupported));
        #[derive(Serialize)]
        struct Fine {
            a: Inner,
            x: u8,
        }
        let fine = Fine {
            a: Inner { x: 1, a: 2 },
            x: 3,
        };
        assert_eq!(ours(&fine).unwrap(), r#"{"a":{"x":1,"a":2},"x":3}"#);
    }

    /// A map's members, written in the order given, repeated names included.
    struct Members(Vec<String>);

    impl Serialize for Members {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for name in &self.0 {
                map.serialize_entry(name, &0u8)?;
            }
            map.end()
        }
    }

    proptest! {
        /// Names from a few characters, so that many repeat and many more share a
        /// `name_bit` without being the same: only a repeated name is refused, wherever it
        /// is and whatever came before it.
        #[test]
        fn only_a_repeated_name_is_refused(
            names in prop::collection::vec("[ab\"\\\\\u{1}é]{0,4}", 0..40),
        ) {
            let repeated = names.iter().enumerate().any(|(i, n)| names[..i].contains(n));
            let written = ours(&Members(names.clone()));
            if repeated {
                prop_assert_eq!(written, Err(WriteError::Unsupported));
            } else {
                let expected: serde_json::Map<String, serde_json::Value> =
                    names.into_iter().map(|n| (n, serde_json::json!(0))).collect();
                // `serde_json`'s map sorts its names: compare the values read back.
                let text = written.unwrap();
                let read: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&text).unwrap();
                prop_assert_eq!(read, expected);
            }
        }

        /// Byte for byte what `serde_json` writes (no floats here: those are spelled
        /// differently, and compared as values below), and what the replaced path wrote.
        #[test]
        fn agrees_with_serde_json(
            members in prop::collection::btree_map(any::<String>(), json_value(), 0..8),
        ) {
            let object = serde_json::Value::Object(members.into_iter().collect());
            let expected = serde_json::to_string(&object).unwrap();
            prop_assert_eq!(ours(&object).unwrap(), expected.clone());
            prop_assert_eq!(reference(&object), Some(expected));
        }

        #[test]
        fn floats_read_back_as_the_same_value(
            values in prop::collection::vec(any::<f64>(), 0..8),
            small in prop::collection::vec(any::<f32>(), 0..4),
        ) {
            #[derive(Serialize)]
            struct Floats { values: Vec<f64>, small: Vec<f32> }
            let text = ours(&Floats { values: values.clone(), small: small.clone() }).unwrap();
            // Valid JSON...
            prop_assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{}", text);
            // ...whose numbers read back exactly (with Rust's parser: `serde_json` without
            // its `float_roundtrip` feature is off by an ulp on some inputs).
            let array = |name: &str| -> Vec<String> {
                let start = text.find(&alloc::format!("\"{name}\":[")).unwrap() + name.len() + 4;
                let end = start + text[start..].find(']').unwrap();
                text[start..end].split(',').filter(|s| !s.is_empty()).map(String::from).collect()
            };
            let read = array("values");
            prop_assert_eq!(read.len(), values.len());
            for (text, v) in read.iter().zip(&values) {
                if v.is_finite() {
                    prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{}", text);
                } else {
                    prop_assert_eq!(text.as_str(), "null");
                }
            }
            let read = array("small");
            prop_assert_eq!(read.len(), small.len());
            for (text, v) in read.iter().zip(&small) {
                if v.is_finite() {
                    prop_assert_eq!(text.parse::<f64>().unwrap(), f64::from(*v), "{}", text);
                }
            }
        }
    }
}
