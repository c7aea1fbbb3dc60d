//! A `serde` deserializer over canonical JSON: how [`verify`](crate::jwt::verify) hands the
//! caller's claims type the members of an authenticated payload.
//!
//! The payload has already passed [`canonicalize`](super::canonicalize), so this reader
//! does not validate JSON again: there is no whitespace to skip, every number matches the
//! grammar, every string is UTF-8 with only the canonical escapes, no object repeats a
//! name, and nesting is bounded. It still never panics and never reads out of bounds on
//! any input; on bytes that are not canonical JSON it returns an error.
//!
//! Strings without escapes are borrowed from the payload. A string with escapes (only `"`,
//! `\` and control characters are escaped in canonical JSON) is unescaped into the spare
//! part of the caller's scratch buffer and borrowed from there, so a `&'s str` field reads
//! every string; the spare room needed is at most the payload's length.
//!
//! This replaces `serde-json-core`'s deserializer on the verification path: that one is a
//! parser of raw JSON, so it re-checks whitespace, re-validates the UTF-8 of every string
//! and scans strings for escapes byte by byte, all settled by the canonicalizer already.
//! `serde-json-core` stays as the reference this reader is tested against (the
//! `differential` tests below), on every canonical input both accept.

use core::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Visitor};

use super::{JsonStr, Value, parse_u64, split_string, split_value, string_run};

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
/// Escaped strings are unescaped into `spare`.
pub(crate) fn from_canonical<'s, T>(text: &'s str, spare: &'s mut [u8]) -> Result<T>
where
    T: de::Deserialize<'s>,
{
    let mut de = Deserializer {
        text,
        pos: 0,
        spare,
    };
    let value = T::deserialize(&mut de)?;
    if de.pos == text.len() {
        Ok(value)
    } else {
        Err(DeError::Claims)
    }
}

struct Deserializer<'s> {
    /// The canonical JSON, all of it.
    text: &'s str,
    /// Index in `text` of the next byte to read.
    pos: usize,
    /// Room for unescaped strings; each one is split off the front and borrowed for `'s`.
    spare: &'s mut [u8],
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

    /// The string at the read position, unescaped, borrowed for `'s`.
    fn string(&mut self) -> Result<&'s str> {
        let rest = self.rest();
        let content = rest.strip_prefix(b"\"").ok_or(DeError::Claims)?;
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
        self.unescape(s)
    }

    fn unescape(&mut self, s: JsonStr<'s>) -> Result<&'s str> {
        let (dst, tail) = core::mem::take(&mut self.spare)
            .split_at_mut_checked(s.unescaped_len())
            .ok_or(DeError::BufferTooSmall)?;
        self.spare = tail;
        s.unescape_into(dst).ok_or(DeError::Claims)
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
        let n = self.number()?;
        parse_u64(n).ok_or(DeError::Claims)
    }

    fn signed(&mut self) -> Result<i64> {
        let n = self.number()?;
        match n.strip_prefix(b"-") {
            Some(magnitude) => {
                let magnitude = parse_u64(magnitude).ok_or(DeError::Claims)?;
                0i64.checked_sub_unsigned(magnitude).ok_or(DeError::Claims)
            }
            None => parse_u64(n)
                .and_then(|v| i64::try_from(v).ok())
                .ok_or(DeError::Claims),
        }
    }

    fn float(&mut self) -> Result<f64> {
        let n = self.number()?;
        core::str::from_utf8(n)
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or(DeError::Claims)
    }

    fn literal(&mut self, literal: &[u8]) -> bool {
        let found = self.rest().starts_with(literal);
        if found {
            self.advance(literal.len());
        }
        found
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
                let integer = !n.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
                let negative = n.first() == Some(&b'-');
                // Integers beyond 64 bits are read as `f64`, as `serde_json` reads them.
                let fits = if negative {
                    n.get(1..)
                        .and_then(parse_u64)
                        .is_some_and(|m| m <= i64::MIN.unsigned_abs())
                } else {
                    parse_u64(n).is_some()
                };
                match (integer && fits, negative) {
                    (true, true) => visitor.visit_i64(self.signed()?),
                    (true, false) => visitor.visit_u64(self.unsigned()?),
                    (false, _) => visitor.visit_f64(self.float()?),
                }
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
        let n = self.number()?;
        let v: f32 = core::str::from_utf8(n)
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or(DeError::Claims)?;
        visitor.visit_f32(v)
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

    fn deserialize_bytes<V: Visitor<'s>>(self, _visitor: V) -> Result<V::Value> {
        // JSON has no bytes; which text encoding to read them from is the type's choice.
        Err(DeError::Claims)
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
        if !self.eat(b'[') {
            return Err(DeError::Claims);
        }
        let value = visitor.visit_seq(Items {
            de: self,
            first: true,
        })?;
        // The type must have read every element.
        if self.eat(b']') {
            Ok(value)
        } else {
            Err(DeError::Claims)
        }
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
        if !self.eat(b'{') {
            return Err(DeError::Claims);
        }
        let value = visitor.visit_map(Items {
            de: self,
            first: true,
        })?;
        // The type must have read every member.
        if self.eat(b'}') {
            Ok(value)
        } else {
            Err(DeError::Claims)
        }
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

macro_rules! key_number {
    ($($method:ident => $visit:ident: $ty:ty,)*) => {$(
        fn $method<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
            visitor.$visit(self.0.parse::<$ty>().map_err(|_| DeError::Claims)?)
        }
    )*};
}

impl<'s> de::Deserializer<'s> for MapKey<'s> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'s>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.0)
    }

    key_number! {
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
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
