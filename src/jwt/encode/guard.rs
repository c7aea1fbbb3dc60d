//! A dry run that finds the values `serde-json-core` 0.7 would panic on.
//!
//! Its serializer panics (`unreachable!()`) instead of returning an error for a `char` and
//! for an enum variant with unnamed fields. [`check`] walks a value with a serializer that
//! writes nothing and refuses exactly those two, so [`sign`](super::sign) can report
//! [`EncodeError::Serialize`](crate::EncodeError::Serialize) instead of panicking.

use core::fmt;

use serde::ser::{self, Serialize};

/// Whether `value` can be handed to `serde-json-core` without reaching a panic.
pub(super) fn check<T: Serialize + ?Sized>(value: &T) -> Result<(), Unsupported> {
    value.serialize(Guard)
}

/// The value holds a `char` or a tuple variant, or its `Serialize` impl failed.
#[derive(Debug)]
pub(super) struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("claims type not supported by the JSON serializer")
    }
}

impl core::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        Self
    }
}

/// Visits every part of a value and writes nothing.
struct Guard;

impl ser::Serializer for Guard {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, _: bool) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_i8(self, _: i8) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_i16(self, _: i16) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_i32(self, _: i32) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_i64(self, _: i64) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_u8(self, _: u8) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_u16(self, _: u16) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_u32(self, _: u32) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_u64(self, _: u64) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_f64(self, _: f64) -> Result<(), Unsupported> {
        Ok(())
    }

    /// Panics in `serde-json-core` 0.7.
    fn serialize_char(self, _: char) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_str(self, _: &str) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Unsupported> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Unsupported> {
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self, Unsupported> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Unsupported> {
        Ok(self)
    }

    /// Panics in `serde-json-core` 0.7.
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, Unsupported> {
        Ok(self)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Unsupported> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Unsupported> {
        Ok(self)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, _: &T) -> Result<(), Unsupported> {
        Ok(())
    }
}

impl ser::SerializeSeq for Guard {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(Guard)
    }

    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}

impl ser::SerializeTuple for Guard {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(Guard)
    }

    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Guard {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(Guard)
    }

    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}

impl ser::SerializeMap for Guard {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        key.serialize(Guard)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(Guard)
    }

    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}

impl ser::SerializeStruct for Guard {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(Guard)
    }

    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Guard {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(Guard)
    }

    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}
