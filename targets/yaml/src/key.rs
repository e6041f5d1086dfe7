//! The serde `Serializer` for map keys: writes the key's text (plain or quoted, see
//! [`push_key`]) straight into the output.
//!
//! Keys are accepted as `serde_json::to_value` accepts them, since the output must stay what
//! writing that JSON tree as YAML gives: strings and characters as they are, integers, booleans and
//! finite floats as their JSON text (so the key `1` is the string `"1"`), unit variants by name,
//! newtype structs by their content. Anything else is an error, never a panic.

use serde::ser::{self, Impossible, Serialize};

use crate::Error;
use crate::quote::push_key;

/// Writes one map key.
pub(crate) struct KeyWriter<'a> {
    pub(crate) out: &'a mut String,
}

impl KeyWriter<'_> {
    fn text(self, text: &str) -> Result<(), Error> {
        push_key(self.out, text);
        Ok(())
    }

    /// A float key as `serde_json` writes it (shortest round-trip form of its own width).
    fn float(self, value: impl Serialize, finite: bool) -> Result<(), Error> {
        if !finite {
            return Err(Error::new("float key must be finite (got NaN or +/-inf)"));
        }
        let text = serde_json::to_string(&value).map_err(|e| Error::new(e.to_string()))?;
        self.text(&text)
    }
}

fn not_a_string() -> Error {
    Error::new("key must be a string")
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.text(if value { "true" } else { "false" })
    }

    fn serialize_i8(self, value: i8) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_i16(self, value: i16) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_i32(self, value: i32) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_i64(self, value: i64) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_i128(self, value: i128) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_u8(self, value: u8) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_u16(self, value: u16) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_u32(self, value: u32) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_u64(self, value: u64) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_u128(self, value: u128) -> Result<(), Error> {
        self.text(&value.to_string())
    }

    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        self.float(value, value.is_finite())
    }

    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        self.float(value, value.is_finite())
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.text(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        self.text(value)
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<(), Error> {
        Err(not_a_string())
    }

    fn serialize_none(self) -> Result<(), Error> {
        Err(not_a_string())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), Error> {
        Err(not_a_string())
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_a_string())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(not_a_string())
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(not_a_string())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_string())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_string())
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_string())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_string())
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_string())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_string())
    }
}
