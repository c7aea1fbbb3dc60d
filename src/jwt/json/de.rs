//! A `serde` deserializer over canonical JSON: how [`verify`](crate::jwt::verify) hands the
//! caller's claims type the members of an authenticated payload.
//!
//! The payload has already passed [`canonicalize`](super::canonicalize) (or
//! [`read_flat`](super::read_flat), which takes only what that leaves unchanged, UTF-8
//! aside, and the caller then checks that), so this reader does not validate JSON again:
//! there is no whitespace to skip, every number matches the grammar, every string is UTF-8
//! with only the canonical escapes, no object repeats a name, and nesting is bounded. It
//! still never panics and never reads out of bounds on any input; on bytes that are not
//! canonical JSON it returns an error.
//!
//! Strings without escapes are borrowed from the payload. A string with escapes (only `"`,
//! `\` and control characters are escaped in canonical JSON) is unescaped into the spare
//! part of the caller's scratch buffer and borrowed from there, so a `&'s str` field reads
//! every string; the spare room needed is at most the payload's length.
//!
//! Most members of a token's top-level object need no rewriting (no whitespace, no escapes),
//! and the reader that validated the payload notes where those are ([`Outline`]): for them
//! the name and the value's extent are taken from there, so the ends of names, strings and
//! numbers are not looked for a second time. Anything else is read by scanning the
//! canonical text, with the same result (the `agrees_with_serde_json_core` tests read both
//! ways).
//!
//! This replaces `serde-json-core`'s deserializer on the verification path: that one is a
//! parser of raw JSON, so it re-checks whitespace, re-validates the UTF-8 of every string
//! and scans strings for escapes byte by byte, all settled by the payload's reader already.
//! `serde-json-core` stays as the reference this reader is tested against (the
//! `differential` tests below), on every canonical input both accept.

use core::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Visitor};

use super::{MAX_PLACES, Outline, Place, Value, parse_u64, split_string, split_value, string_run};
use crate::bytes;

/// Why the claims type could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeError {
    /// The JSON does not have the shape or the values the type wants.
    Claims,
    /// The spare scratch space cannot hold an unescaped string.
    BufferTooSmall,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Claims => "claims do not match the expected type",
            Self::BufferTooSmall => "scratch buffer too small",
        })
    }
}

impl de::StdError for DeError {}

impl de::Error for DeError {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        // The message would need an allocation to keep; the kind is what callers act on.
        Self::Claims
    }
}

/// Reads `T` from canonical JSON `text`, which must be one value and nothing after it.
/// Escaped strings are unescaped into `spare`. `outline` says where some of the top-level
/// members are, as the payload's reader noted them ([`Outline::EMPTY`] for none): those are
/// read from there instead of being scanned.
pub(crate) fn from_canonical<'s, T>(
    text: &'s str,
    outline: Outline,
    spare: &'s mut [u8],
) -> Result<T>
where
    T: de::Deserialize<'s>,
{
    let mut de = Deserializer {
        text,
        pos: 0,
        spare,
        outline,
        next_place: 0,
        value: None,
    };
    let value = T::deserialize(&mut de)?;
    if de.pos == text.len() {
        Ok(value)
    } else {
        Err(DeError::Claims)
    }
}

/// A canonical JSON integer in an `i64`: `None` for a fraction, an exponent, or a value
/// beyond `i64`.
fn parse_i64(n: &[u8]) -> Option<i64> {
    match bytes::strip_first(n, b'-') {
        Some(magnitude) => 0i64.checked_sub_unsigned(parse_u64(magnitude)?),
        None => i64::try_from(parse_u64(n)?).ok(),
    }
}

struct Deserializer<'s> {
    /// The canonical JSON, all of it.
    text: &'s str,
    /// Index in `text` of the next byte to read.
    pos: usize,
    /// Room for unescaped strings; each one is split off the front and borrowed for `'s`.
    spare: &'s mut [u8],
    /// Where some of the top-level members are.
    outline: Outline,
    /// The index in `outline` of the next place not yet used.
    next_place: usize,
    /// The place of the top-level member whose name was just read from `outline`: where
    /// its value starts and ends. Used only while the read position is at its start.
    value: Option<Place>,
}

type Result<T> = core::result::Result<T, DeError>;

impl<'s> Deserializer<'s> {
    fn rest(&self) -> &'s [u8] {
        let text: &'s str = self.text;
        text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos = self.pos.saturating_add(1);
        }
        found
    }

    /// Moves past `len` bytes that were just read from [`rest`](Self::rest).
    fn advance(&mut self, len: usize) {
        self.pos = self.pos.saturating_add(len).min(self.text.len());
    }

    /// The value at the read position, if its place is known: its start and end.
    fn placed_value(&mut self) -> Option<(usize, usize)> {
        // None where members are never placed (`MAX_PLACES` is 0), which the compiler can
        // then see: the code for placed values is left out there.
        if MAX_PLACES == 0 {
            return None;
        }
        let place = self.value.take()?;
        (usize::from(place.value) == self.pos).then(|| (self.pos, usize::from(place.end)))
    }

    /// The string at the read position, unescaped, borrowed for `'s`.
    fn string(&mut self) -> Result<&'s str> {
        // A placed value that is a string has no escapes: between its quotes.
        if let Some((start, end)) = self.placed_value()
            && self.peek() == Some(b'"')
        {
            let text: &'s str = self.text;
            let s = text
                .get(start.saturating_add(1)..end.saturating_sub(1))
                .ok_or(DeError::Claims)?;
            self.advance(end.saturating_sub(start));
            return Ok(s);
        }
        let rest = self.rest();
        let content = bytes::strip_first(rest, b'"').ok_or(DeError::Claims)?;
        // Most strings have no escape: find the end quote and borrow the text.
        let end = string_run(content).ok_or(DeError::Claims)?;
        if content.get(end) == Some(&b'"') {
            let start = self.pos.saturating_add(1);
            let text: &'s str = self.text;
            let s = text
                .get(start..start.saturating_add(end))
                .ok_or(DeError::Claims)?;
            self.advance(end.saturating_add(2));
            return Ok(s);
        }
        let (s, after) = split_string(rest).ok_or(DeError::Claims)?;
        self.advance(rest.len().saturating_sub(after.len()));
        s.unescape_to(&mut self.spare)
            .ok_or(DeError::BufferTooSmall)
    }

    /// The number at the read position, as written.
    fn number(&mut self) -> Result<&'s [u8]> {
        let rest = self.rest();
        match split_value(rest) {
            Some((Value::Number(n), after)) => {
                self.advance(rest.len().saturating_sub(after.len()));
                Ok(n)
            }
            _ => Err(DeError::Claims),
        }
    }

    fn unsigned(&mut self) -> Result<u64> {
        // A placed value is exactly its range: a plain integer or nothing.
        if let Some((start, end)) = self.placed_value() {
            let text: &'s str = self.text;
            let n = text
                .as_bytes()
                .get(start..end)
                .and_then(parse_u64)
                .ok_or(DeError::Claims)?;
            self.advance(end.saturating_sub(start));
            return Ok(n);
        }
        // Canonical numbers match the JSON grammar already: read the digits, and refuse a
        // fraction or an exponent after them.
        let rest = self.rest();
        let digits = rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        if matches!(rest.get(digits), Some(b'.' | b'e' | b'E')) {
            return Err(DeError::Claims);
        }
        let n = rest
            .get(..digits)
            .and_then(parse_u64)
            .ok_or(DeError::Claims)?;
        self.advance(digits);
        Ok(n)
    }

    fn signed(&mut self) -> Result<i64> {
        let n = self.number()?;
        parse_i64(n).ok_or(DeError::Claims)
    }

    /// The number at the read position as a float (`f32` or `f64`, each parsed directly,
    /// so neither is rounded twice). A number beyond the type's range is refused, not
    /// read as infinity.
    fn float<F: core::str::FromStr + Into<f64> + Copy>(&mut self) -> Result<F> {
        let n = self.number()?;
        core::str::from_utf8(n)
            .ok()
            .and_then(|n| n.parse::<F>().ok())
            .filter(|v| (*v).into().is_finite())
            .ok_or(DeError::Claims)
    }

    fn literal(&mut self, literal: &[u8]) -> bool {
        let found = bytes::starts_with(self.rest(), literal);
        if found {
            self.advance(literal.len());
        }
        found
    }

    /// Reads an array or an object: `open`, the items through `read`, then `close`, which
    /// must come next (the type must have read every item).
    fn container<T>(
        &mut self,
        open: u8,
        close: u8,
        read: impl FnOnce(Items<'_, 's>) -> Result<T>,
    ) -> Result<T> {
        if !self.eat(open) {
            return Err(DeError::Claims);
        }
        // Only the top-level object's members are placed.
        let top = self.pos == 1 && open == b'{';
        let value = read(Items {
            de: self,
            first: true,
            top,
        })?;
        if self.eat(close) {
            Ok(value)
        } else {
            Err(DeError::Claims)
        }
    }

    /// Moves past the value at the read position, whatever it is, without recursion.
    fn skip_value(&mut self) -> Result<()> {
        let rest = self.rest();
        let (_, after) = split_value(rest).ok_or(DeError::Claims)?;
        self.advance(rest.len().saturating_sub(after.len()));
        Ok(())
    }
}

macro_rules! unsigned {
    ($($method:ident => $visit:ident: $ty:ty,)*) => {$(
        fn $method<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
            let v = self.unsigned()?;
            visitor.$visit(<$ty>::try_from(v).map_err(|_| DeError::Claims)?)
        }
    )*};
}

macro_rules! signed {
    ($($method:ident => $visit:ident: $ty:ty,)*) => {$(
        fn $method<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
            let v = self.signed()?;
            visitor.$visit(<$ty>::try_from(v).map_err(|_| DeError::Claims)?)
        }
    )*};
}

impl<'s> de::Deserializer<'s> for &mut Deserializer<'s> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        match self.peek().ok_or(DeError::Claims)? {
            b'"' => visitor.visit_borrowed_str(self.string()?),
            b'{' => self.deserialize_map(visitor),
            b'[' => self.deserialize_seq(visitor),
            b't' | b'f' => self.deserialize_bool(visitor),
            b'n' => self.deserialize_unit(visitor),
            _ => {
                let Some((Value::Number(n), _)) = split_value(self.rest()) else {
                    return Err(DeError::Claims);
                };
                // An integer in 64 bits as one; anything else, integers beyond 64 bits
                // and `-0` (whose sign only a float keeps) included, as `f64`, as
                // `serde_json` reads them.
                if n.first() == Some(&b'-') {
                    if let Some(v) = parse_i64(n).filter(|&v| v != 0) {
                        self.advance(n.len());
                        return visitor.visit_i64(v);
                    }
                } else if let Some(v) = parse_u64(n) {
                    self.advance(n.len());
                    return visitor.visit_u64(v);
                }
                visitor.visit_f64(self.float()?)
            }
        }
    }

    fn deserialize_bool<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        if self.literal(b"true") {
            visitor.visit_bool(true)
        } else if self.literal(b"false") {
            visitor.visit_bool(false)
        } else {
            Err(DeError::Claims)
        }
    }

    unsigned! {
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    signed! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
    }

    fn deserialize_f32<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f32(self.float()?)
    }

    fn deserialize_f64<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_char<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.string()?)
    }

    fn deserialize_string<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    /// Bytes as `serde_json` reads them: an array of numbers (as `sign` writes bytes) to the
    /// visitor as a sequence, or a string's bytes as they are (JSON has no byte strings:
    /// an encoding such as base64 is the type's to decode).
    fn deserialize_bytes<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'[') => self.deserialize_seq(visitor),
            Some(b'"') => visitor.visit_borrowed_bytes(self.string()?.as_bytes()),
            _ => Err(DeError::Claims),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        if self.literal(b"null") {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        if self.literal(b"null") {
            visitor.visit_unit()
        } else {
            Err(DeError::Claims)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'s>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'s>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        self.container(b'[', b']', |items| visitor.visit_seq(items))
    }

    fn deserialize_tuple<V: Visitor<'s>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'s>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        self.container(b'{', b'}', |items| visitor.visit_map(items))
    }

    fn deserialize_struct<V: Visitor<'s>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'s>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek() {
            // A unit variant: its name.
            Some(b'"') => visitor.visit_enum(BorrowedStrDeserializer::new(self.string()?)),
            // Any other variant: an object with one member, named after the variant.
            Some(b'{') => {
                self.advance(1);
                let value = visitor.visit_enum(Variant { de: self })?;
                if self.eat(b'}') {
                    Ok(value)
                } else {
                    Err(DeError::Claims)
                }
            }
            _ => Err(DeError::Claims),
        }
    }

    fn deserialize_identifier<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }
}

/// The elements of an array or the members of an object, separated by commas.
struct Items<'a, 's> {
    de: &'a mut Deserializer<'s>,
    first: bool,
    /// These are the members of the top-level object.
    top: bool,
}

impl Items<'_, '_> {
    /// Whether another item follows (consuming its comma), or the container ends here.
    fn has_next(&mut self, close: u8) -> Result<bool> {
        if self.de.peek() == Some(close) {
            return Ok(false);
        }
        if !core::mem::take(&mut self.first) && !self.de.eat(b',') {
            return Err(DeError::Claims);
        }
        Ok(true)
    }
}

impl<'s> de::SeqAccess<'s> for Items<'_, 's> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'s>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.has_next(b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

impl<'s> de::MapAccess<'s> for Items<'_, 's> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'s>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.has_next(b'}')? {
            return Ok(None);
        }
        let de = &mut *self.de;
        if self.top
            && let Some(place) = de.outline.get(de.next_place)
            && usize::from(place.name) == de.pos.saturating_add(1)
        {
            // The name between its quotes, and the value's place for whatever reads it.
            let text: &'s str = de.text;
            let name = text
                .get(usize::from(place.name)..usize::from(place.value).saturating_sub(2))
                .ok_or(DeError::Claims)?;
            de.pos = usize::from(place.value);
            de.value = Some(place);
            de.next_place = de.next_place.saturating_add(1);
            return seed.deserialize(MapKey(name)).map(Some);
        }
        let name = self.de.string()?;
        if !self.de.eat(b':') {
            return Err(DeError::Claims);
        }
        seed.deserialize(MapKey(name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'s>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

/// A member name, read as a string, or as a number for a map keyed by one: JSON names are
/// always strings, and `"1"` is how a map with integer keys is written.
struct MapKey<'s>(&'s str);

/// A map key read as an integer, by JSON's grammar for one (no `+`, no leading zero),
/// so that two different names never become the same key.
macro_rules! key_number {
    ($($method:ident => $visit:ident: $ty:ty, $parse:ident;)*) => {$(
        fn $method<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
            let n = $parse(self.0.as_bytes()).and_then(|n| <$ty>::try_from(n).ok());
            visitor.$visit(n.ok_or(DeError::Claims)?)
        }
    )*};
}

impl<'s> de::Deserializer<'s> for MapKey<'s> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.0)
    }

    key_number! {
        deserialize_u8 => visit_u8: u8, parse_u64;
        deserialize_u16 => visit_u16: u16, parse_u64;
        deserialize_u32 => visit_u32: u32, parse_u64;
        deserialize_u64 => visit_u64: u64, parse_u64;
        deserialize_i8 => visit_i8: i8, parse_i64;
        deserialize_i16 => visit_i16: i16, parse_i64;
        deserialize_i32 => visit_i32: i32, parse_i64;
        deserialize_i64 => visit_i64: i64, parse_i64;
    }

    fn deserialize_option<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'s>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'s>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(BorrowedStrDeserializer::new(self.0))
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'s>>
        bool i128 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// The variant of an enum written as `{"Variant": value}`, after the `{`.
struct Variant<'a, 's> {
    de: &'a mut Deserializer<'s>,
}

impl<'s> de::EnumAccess<'s> for Variant<'_, 's> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'s>>(self, seed: T) -> Result<(T::Value, Self)> {
        let name = self.de.string()?;
        if !self.de.eat(b':') {
            return Err(DeError::Claims);
        }
        let variant = seed.deserialize(BorrowedStrDeserializer::new(name))?;
        Ok((variant, self))
    }
}

impl<'s> de::VariantAccess<'s> for Variant<'_, 's> {
    type Error = DeError;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(&mut *self.de)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'s>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'s>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(&mut *self.de, visitor)
    }

    fn struct_variant<V: Visitor<'s>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(&mut *self.de, visitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate alloc;

    use alloc::borrow::Cow;
    use alloc::collections::BTreeMap;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;
    use crate::jwt::json::{Captures, MAX_DEPTH, canonicalize, canonicalize_capturing};

    /// `json` canonicalized, then read as `T` with `spare` bytes of room: once with the
    /// outline of its top-level members, once without. `f` sees both results.
    fn read<T>(json: &str, spare: usize, f: impl Fn(Result<T>))
    where
        T: for<'s> Deserialize<'s>,
    {
        let (buf, outline) = canonical(json);
        let text = core::str::from_utf8(&buf).unwrap();
        for outline in [outline, Outline::EMPTY] {
            let mut spare = vec![0u8; spare];
            f(from_canonical::<T>(text, outline, &mut spare));
        }
    }

    /// `json` canonicalized, and the outline of its top-level members.
    fn canonical(json: &str) -> (Vec<u8>, Outline) {
        let mut buf = json.as_bytes().to_vec();
        let len = canonicalize(&mut buf, MAX_DEPTH).unwrap();
        buf.truncate(len);
        (buf.clone(), outline(&mut buf))
    }

    /// The outline of canonical JSON's top-level members. Canonicalizing is idempotent, and
    /// members are placed when nothing before them needed rewriting: canonical input has
    /// them all placed, up to the table's size.
    fn outline(canonical: &mut [u8]) -> Outline {
        let mut captures = Captures::new(|_| None);
        let len = canonicalize_capturing(canonical, MAX_DEPTH, &mut captures).unwrap();
        assert_eq!(len, canonical.len());
        captures.outline()
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum Kind {
        Unit,
        Newtype(u8),
        Tuple(u8, bool),
        Struct { x: i8 },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Borrowing<'a> {
        plain: &'a str,
        escaped: &'a str,
        #[serde(borrow)]
        cow: Cow<'a, str>,
    }

    #[test]
    fn borrows_plain_and_escaped_strings() {
        let json = r#"{"plain":"abc","escaped":"a\"b\\c\n\u0001\u00e9","cow":"x\ty"}"#;
        let mut buf = json.as_bytes().to_vec();
        let len = canonicalize(&mut buf, MAX_DEPTH).unwrap();
        let text = core::str::from_utf8(&buf[..len]).unwrap();
        let mut spare = [0u8; 64];
        let v: Borrowing<'_> = from_canonical(text, Outline::EMPTY, &mut spare).unwrap();
        assert_eq!(v.plain, "abc");
        assert_eq!(v.escaped, "a\"b\\c\n\u{1}\u{e9}");
        assert_eq!(v.cow, "x\ty");
        assert!(matches!(v.cow, Cow::Borrowed(_)));
    }

    #[test]
    fn escaped_strings_need_spare_room() {
        // "a\"b" unescapes to three bytes: two are not enough, three are.
        read::<String>(r#"{"s":"a\"b"}"#, 0, |r| assert!(r.is_err()));
        #[derive(Debug, Deserialize)]
        struct S<'a> {
            #[allow(dead_code)]
            s: &'a str,
        }
        let json = r#"{"s":"a\"b"}"#;
        for (room, ok) in [(2, false), (3, true)] {
            let mut buf = json.as_bytes().to_vec();
            let len = canonicalize(&mut buf, MAX_DEPTH).unwrap();
            let text = core::str::from_utf8(&buf[..len]).unwrap();
            let mut spare = vec![0u8; room];
            let r = from_canonical::<S<'_>>(text, Outline::EMPTY, &mut spare);
            if ok {
                assert_eq!(r.unwrap().s, "a\"b");
            } else {
                assert_eq!(r.unwrap_err(), DeError::BufferTooSmall);
            }
        }
    }

    #[test]
    fn reads_every_shape() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct All {
            b: bool,
            u: u8,
            i: i64,
            f: f64,
            c: char,
            o: Option<u32>,
            n: Option<u32>,
            unit: (),
            seq: Vec<u16>,
            tuple: (u8, String),
            map: BTreeMap<u32, bool>,
            kinds: Vec<Kind>,
        }
        let json = r#"{"b":true,"u":255,"i":-9223372036854775808,"f":-1.5e2,"c":"é",
            "o":7,"n":null,"unit":null,"seq":[1,2,65535],"tuple":[0,"t"],
            "map":{"1":true,"20":false},"ignored":{"deep":[[{"x":"\""}]]},
            "kinds":["Unit",{"Newtype":3},{"Tuple":[4,false]},{"Struct":{"x":-5}}]}"#;
        read::<All>(json, 64, |r| {
            let v = r.unwrap();
            assert!(v.b);
            assert_eq!(
                (v.u, v.i, v.c, v.o, v.n),
                (255, i64::MIN, 'é', Some(7), None)
            );
            assert!((v.f + 150.0).abs() < f64::EPSILON);
            assert_eq!(v.seq, vec![1, 2, 65535]);
            assert_eq!(v.tuple, (0, String::from("t")));
            assert_eq!(v.map.get(&20), Some(&false));
            assert_eq!(
                v.kinds,
                vec![
                    Kind::Unit,
                    Kind::Newtype(3),
                    Kind::Tuple(4, false),
                    Kind::Struct { x: -5 }
                ]
            );
        });
    }

    /// Bytes through `serialize_bytes` and `deserialize_byte_buf`, as `serde_bytes` has them.
    #[derive(Debug, PartialEq)]
    struct Bytes(Vec<u8>);

    impl<'de> Deserialize<'de> for Bytes {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
            struct Seen;
            impl<'de> Visitor<'de> for Seen {
                type Value = Bytes;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> core::result::Result<Bytes, E> {
                    Ok(Bytes(v.to_vec()))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> core::result::Result<Bytes, A::Error> {
                    let mut v = Vec::new();
                    while let Some(b) = seq.next_element()? {
                        v.push(b);
                    }
                    Ok(Bytes(v))
                }
            }
            d.deserialize_byte_buf(Seen)
        }
    }

    #[test]
    fn reads_bytes_as_serde_json_does() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct B {
            a: Bytes,
            s: Bytes,
        }
        let json = r#"{"a":[0,255,7],"s":"x\u00e9"}"#;
        let expected = B {
            a: Bytes(vec![0, 255, 7]),
            s: Bytes("x\u{e9}".as_bytes().to_vec()),
        };
        read::<B>(json, 64, |r| assert_eq!(r.unwrap(), expected));
        assert_eq!(serde_json::from_str::<B>(json).unwrap(), expected);
        read::<B>(r#"{"a":[256],"s":""}"#, 64, |r| assert!(r.is_err()));
        read::<B>(r#"{"a":1,"s":""}"#, 64, |r| assert!(r.is_err()));
    }

    #[test]
    fn refuses_what_does_not_fit_the_type() {
        fn refused<T: for<'s> Deserialize<'s>>(json: &str) {
            read::<T>(json, 64, |r| {
                assert_eq!(r.err(), Some(DeError::Claims), "{json}")
            });
        }
        #[derive(Deserialize)]
        struct U {
            #[allow(dead_code)]
            v: u8,
        }
        #[derive(Deserialize)]
        struct I {
            #[allow(dead_code)]
            v: i8,
        }
        refused::<U>(r#"{"v":256}"#);
        refused::<U>(r#"{"v":-1}"#);
        refused::<U>(r#"{"v":1.0}"#);
        refused::<U>(r#"{"v":1e2}"#);
        refused::<U>(r#"{"v":"1"}"#);
        refused::<U>(r#"{"v":null}"#);
        refused::<U>(r#"{"w":1}"#);
        refused::<I>(r#"{"v":-129}"#);
        refused::<I>(r#"{"v":99999999999999999999}"#);
        refused::<[u8; 2]>(r#"{"v":[1,2,3]}"#);
        refused::<Kind>(r#"{"v":"Other"}"#);
        // Beyond a float's range: not infinity.
        #[derive(Deserialize)]
        struct F64 {
            #[allow(dead_code)]
            v: f64,
        }
        #[derive(Deserialize)]
        struct F32 {
            #[allow(dead_code)]
            v: f32,
        }
        refused::<F64>(r#"{"v":1e400}"#);
        refused::<F64>(r#"{"v":-1e400}"#);
        refused::<F32>(r#"{"v":1e39}"#);
        read::<F32>(r#"{"v":3e38}"#, 64, |r| assert!(r.is_ok()));
        // Integer map keys by JSON's grammar: "01" and "+1" are not the key 1.
        refused::<BTreeMap<u32, u8>>(r#"{"1":1,"01":2}"#);
        refused::<BTreeMap<u32, u8>>(r#"{"+1":1}"#);
        refused::<BTreeMap<i32, u8>>(r#"{"-01":1}"#);
        read::<BTreeMap<i32, u8>>(r#"{"-1":1,"0":2,"10":3}"#, 64, |r| {
            assert_eq!(r.unwrap(), BTreeMap::from([(-1, 1), (0, 2), (10, 3)]));
        });
    }

    #[test]
    fn any_reads_numbers_like_serde_json() {
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(untagged)]
        enum N {
            U(u64),
            I(i64),
            F(f64),
        }
        #[derive(Debug, PartialEq, Deserialize)]
        struct S {
            n: Vec<N>,
        }
        let json =
            r#"{"n":[0,18446744073709551615,18446744073709551616,-1,-9223372036854775809,0.5,-0]}"#;
        let reference: S = serde_json::from_str(json).unwrap();
        read::<S>(json, 0, |r| {
            let n = r.unwrap().n;
            assert_eq!(
                n,
                vec![
                    N::U(0),
                    N::U(u64::MAX),
                    N::F(18_446_744_073_709_551_616.0),
                    N::I(-1),
                    N::F(-9_223_372_036_854_775_809.0),
                    N::F(0.5),
                    N::F(-0.0),
                ]
            );
            assert_eq!(n, reference.n);
            // `-0` keeps its sign, which only a float can.
            assert!(matches!(n.last(), Some(N::F(z)) if z.is_sign_negative()));
            assert!(matches!(reference.n.last(), Some(N::F(z)) if z.is_sign_negative()));
        });
    }

    #[test]
    fn never_panics_on_text_that_is_not_canonical() {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct S<'a> {
            a: Option<&'a str>,
            b: Option<Vec<u8>>,
        }
        for text in [
            "",
            "{",
            "}",
            r#"{"a""#,
            r#"{"a":"#,
            r#"{"a":"x"#,
            r#"{"a":"\q"}"#,
            r#"{"b":[1,"#,
            r#"{"a":"x",}"#,
            r#"{"a":"x"}x"#,
            r#"{"b":[1 2]}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            let mut spare = [0u8; 16];
            assert!(
                from_canonical::<S<'_>>(text, Outline::EMPTY, &mut spare).is_err(),
                "{text}"
            );
        }
    }

    /// The claims type of the differential test: every shape `serde-json-core` reads, as
    /// owned values so both sides can be compared.
    #[derive(Debug, PartialEq, Deserialize)]
    struct Differential {
        s: Option<heapless::String<16>>,
        u: Option<u32>,
        i: Option<i16>,
        b: Option<bool>,
        v: Option<heapless::Vec<u8, 4>>,
        nested: Option<Nested>,
        e: Option<Choice>,
        t: Option<(u8, bool)>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Nested {
        x: Option<u8>,
        s: Option<heapless::String<8>>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum Choice {
        A,
        B,
    }

    /// Any JSON value, with strings and numbers chosen to sit on the edges of the types of
    /// [`Differential`].
    fn any_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(String::from("null")),
            Just(String::from("true")),
            Just(String::from("false")),
            any::<i64>().prop_map(|n| format!("{n}")),
            (0u32..300).prop_map(|n| format!("{n}")),
            prop::sample::select(vec![
                "-0",
                "1.5",
                "2e3",
                "65536",
                "32768",
                "-32769",
                "18446744073709551616",
            ])
            .prop_map(String::from),
            string(),
        ];
        let names = prop::sample::select(vec!["x", "s", "A", "zz"]);
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|items| format!("[{}]", items.join(" , "))),
                prop::collection::btree_map(names.clone(), inner, 0..4).prop_map(|members| {
                    let members: Vec<String> = members
                        .iter()
                        .map(|(k, v)| format!("\"{k}\": {v}"))
                        .collect();
                    format!("{{ {} }}", members.join(","))
                }),
            ]
        })
    }

    fn string() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            r#""""#,
            r#""A""#,
            r#""B""#,
            r#""C""#,
            r#""abc""#,
            r#""a\"b""#,
            r#""\\""#,
            r#""\n\t""#,
            r#""\u00e9t\u00e9""#,
            r#""\ud83d\ude00""#,
            r#""é""#,
            r#""sixteen chars!!!""#,
            r#""seventeen chars!!""#,
            r#""\u0001""#,
            r#""\/""#,
            r#""\u0041""#,
        ])
        .prop_map(String::from)
    }

    /// A value for each field of [`Differential`], mostly of the field's type.
    fn differential_json() -> impl Strategy<Value = String> {
        let small = || (0u32..7).prop_map(|n| format!("{n}"));
        let typed = [
            ("s", string().boxed()),
            (
                "u",
                prop_oneof![small(), any::<u32>().prop_map(|n| format!("{n}"))].boxed(),
            ),
            ("i", any::<i16>().prop_map(|n| format!("{n}")).boxed()),
            ("b", any::<bool>().prop_map(|b| format!("{b}")).boxed()),
            (
                "v",
                prop::collection::vec(small(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(",")))
                    .boxed(),
            ),
            (
                "nested",
                (small(), string(), any_value())
                    .prop_map(|(x, s, zz)| format!(r#"{{"x":{x},"s":{s},"zz":{zz}}}"#))
                    .boxed(),
            ),
            (
                "e",
                prop::sample::select(vec![r#""A""#, r#""B""#, r#""C""#, "0"])
                    .prop_map(String::from)
                    .boxed(),
            ),
            (
                "t",
                (small(), any::<bool>())
                    .prop_map(|(n, b)| format!("[{n},{b}]"))
                    .boxed(),
            ),
            ("zz", any_value().boxed()),
        ];
        let fields: Vec<_> = typed
            .into_iter()
            .map(|(name, typed)| {
                // Absent, of the field's type (most often), or any value at all.
                prop_oneof![
                    1 => Just(None),
                    8 => typed.prop_map(Some),
                    1 => any_value().prop_map(Some),
                ]
                .prop_map(move |value| value.map(|v| format!(" \"{name}\" : {v} ")))
            })
            .collect();
        fields.prop_map(|members| {
            let members: Vec<String> = members.into_iter().flatten().collect();
            format!("{{{}}}", members.join(","))
        })
    }

    /// The differential below compares verdicts; this pins that a typical document of
    /// its generator is accepted by both sides, so that it compares values too.
    #[test]
    fn differential_type_is_read_by_both() {
        let json = r#"{"s":"a\"b\u00e9","u":7,"i":-3,"b":true,"v":[1,2],"e":"B","t":[1,false],
            "nested":{"x":2,"s":"\/","zz":[{"A":null}]},"zz":{"x":[1.5,"\ud83d\ude00"]}}"#;
        let mut buf = json.as_bytes().to_vec();
        let len = canonicalize(&mut buf, MAX_DEPTH).unwrap();
        buf.truncate(len);
        let mut spare = vec![0u8; len];
        let ours = from_canonical::<Differential>(
            core::str::from_utf8(&buf).unwrap(),
            Outline::EMPTY,
            &mut spare,
        );
        let mut unescape = vec![0u8; len];
        let (theirs, _) =
            serde_json_core::from_slice_escaped::<Differential>(&buf, &mut unescape).unwrap();
        assert_eq!(ours.unwrap(), theirs);
        assert_eq!(theirs.s.as_deref(), Some("a\"bé"));
        assert_eq!(theirs.e, Some(Choice::B));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// On canonical JSON, this deserializer and `serde-json-core`'s agree on what they
        /// accept and on what they read.
        #[test]
        fn agrees_with_serde_json_core(json in differential_json()) {
            let mut buf = json.into_bytes();
            let Ok(len) = canonicalize(&mut buf, MAX_DEPTH) else { return Ok(()) };
            buf.truncate(len);
            let outline = outline(&mut buf.clone());
            let text = core::str::from_utf8(&buf).unwrap();

            let mut spare = vec![0u8; buf.len()];
            let ours = from_canonical::<Differential>(text, outline, &mut spare);
            // The outline changes how members are found, never what is read.
            let mut spare_scanned = vec![0u8; buf.len()];
            let scanned = from_canonical::<Differential>(text, Outline::EMPTY, &mut spare_scanned);
            prop_assert_eq!(&ours, &scanned);
            let mut unescape = vec![0u8; buf.len()];
            let theirs = serde_json_core::from_slice_escaped::<Differential>(&buf, &mut unescape);
            match (&ours, &theirs) {
                (Ok(a), Ok((b, used))) => {
                    prop_assert_eq!(*used, buf.len());
                    prop_assert_eq!(a, b);
                }
                (Err(_), Err(_)) => {}
                _ => prop_assert!(false, "{}: ours {:?}, serde-json-core {:?}", text, ours, theirs),
            }
        }
    }
}
