//! The serde `Serializer` that writes block-style YAML straight into one `String`, with no
//! intermediate tree.
//!
//! Each value is written into a [`Slot`]: the top of the document, after `key:`, or after `- `.
//! Scalars finish their slot's line. A collection cannot know it is empty until it ends (struct
//! fields may be skipped, sequence lengths may be unknown), so it writes nothing when it starts:
//! its first element opens the block (a line break after `key:`, nothing after `- `, where the first
//! key or item shares the dash's line), and a collection that ends without one writes `[]` or `{}`
//! on its slot's line instead.
//!
//! Layout: two spaces a level; a map under a key is indented one level deeper than the key, a list
//! under a key sits flush with it (the common Kubernetes style), and a collection that is a list
//! item is one level deeper than the dash.
//!
//! Values map onto YAML as `serde_json::to_value` maps them onto JSON, so the output is what
//! writing that JSON tree as YAML gives: `None` and `()` are `null`, unit variants their name,
//! newtype, tuple and struct variants a one-key map, bytes a list of numbers, non-finite floats
//! `null`, and integers beyond 64 bits an error.

use std::fmt::Write;

use serde::ser::{self, Serialize};

use crate::Error;
use crate::key::KeyWriter;
use crate::quote::{push_indent, push_quoted};

/// Where the value being written sits.
#[derive(Clone, Copy)]
enum Slot {
    /// The top of the document.
    Document,
    /// After `key:` at the writer's depth.
    AfterKey,
    /// After `- ` at the writer's depth.
    AfterDash,
}

/// Writes one value into its slot.
pub(crate) struct ValueWriter<'a> {
    out: &'a mut String,
    slot: Slot,
    /// The depth of the key or dash the value follows; 0 for the document.
    depth: usize,
}

impl<'a> ValueWriter<'a> {
    /// A writer for a whole document.
    pub(crate) fn document(out: &'a mut String) -> Self {
        ValueWriter { out, slot: Slot::Document, depth: 0 }
    }

    /// Writes a scalar's text (given by `write`) and ends the line.
    fn scalar(self, write: impl FnOnce(&mut String)) -> Result<(), Error> {
        if let Slot::AfterKey = self.slot {
            self.out.push(' ');
        }
        write(self.out);
        self.out.push('\n');
        Ok(())
    }

    fn display(self, value: impl std::fmt::Display) -> Result<(), Error> {
        // Writing to a String cannot fail.
        self.scalar(|out| {
            let _ = write!(out, "{value}");
        })
    }

    /// A float as `serde_json` writes a `Number` (shortest round-trip form), `null` when it is not
    /// finite, as `serde_json::to_value` makes it.
    fn float(self, value: f64) -> Result<(), Error> {
        match serde_json::Number::from_f64(value) {
            Some(number) => self.display(number),
            None => self.scalar(|out| out.push_str("null")),
        }
    }

    fn sequence(self) -> Collection<'a> {
        let items = match self.slot {
            Slot::Document => 0,
            Slot::AfterKey => self.depth,
            Slot::AfterDash => self.depth + 1,
        };
        Collection { out: self.out, slot: self.slot, depth: items, empty: true, kind: Kind::Sequence }
    }

    fn map(self) -> Collection<'a> {
        let entries = match self.slot {
            Slot::Document => 0,
            Slot::AfterKey | Slot::AfterDash => self.depth + 1,
        };
        Collection { out: self.out, slot: self.slot, depth: entries, empty: true, kind: Kind::Map }
    }

    /// The one-key map of a variant holding data: writes `variant:` and hands back the map, now
    /// not empty, so its value can be written after the key.
    fn variant(self, variant: &'static str) -> ValueWriter<'a> {
        let mut map = self.map();
        map.open_entry();
        crate::quote::push_key(map.out, variant);
        map.out.push(':');
        ValueWriter { out: map.out, slot: Slot::AfterKey, depth: map.depth }
    }
}

/// Whether a collection is a sequence or a map: what it writes when it ends empty.
#[derive(Clone, Copy)]
enum Kind {
    Sequence,
    Map,
}

/// A sequence or map being written.
pub(crate) struct Collection<'a> {
    out: &'a mut String,
    /// The slot the collection itself sits in.
    slot: Slot,
    /// The depth of its items or keys.
    depth: usize,
    /// No element is written yet.
    empty: bool,
    kind: Kind,
}

impl Collection<'_> {
    /// Starts an element's line: the first element opens the block, later ones are indented.
    fn open_entry(&mut self) {
        if self.empty {
            self.empty = false;
            match self.slot {
                // The first key or item shares the dash's line.
                Slot::AfterDash => return,
                Slot::AfterKey => self.out.push('\n'),
                Slot::Document => {}
            }
        }
        push_indent(self.out, self.depth);
    }

    fn item<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.open_entry();
        self.out.push_str("- ");
        value.serialize(ValueWriter { out: self.out, slot: Slot::AfterDash, depth: self.depth })
    }

    fn key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.open_entry();
        key.serialize(KeyWriter { out: self.out })?;
        self.out.push(':');
        Ok(())
    }

    fn value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(ValueWriter { out: self.out, slot: Slot::AfterKey, depth: self.depth })
    }

    fn field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> Result<(), Error> {
        self.open_entry();
        crate::quote::push_key(self.out, name);
        self.out.push(':');
        self.value(value)
    }

    /// Ends the collection: one that stayed empty is written inline, on its slot's line.
    fn close(self) -> Result<(), Error> {
        if self.empty {
            if let Slot::AfterKey = self.slot {
                self.out.push(' ');
            }
            self.out.push_str(match self.kind {
                Kind::Sequence => "[]\n",
                Kind::Map => "{}\n",
            });
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for ValueWriter<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Collection<'a>;
    type SerializeTuple = Collection<'a>;
    type SerializeTupleStruct = Collection<'a>;
    type SerializeTupleVariant = Collection<'a>;
    type SerializeMap = Collection<'a>;
    type SerializeStruct = Collection<'a>;
    type SerializeStructVariant = Collection<'a>;

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.scalar(|out| out.push_str(if value { "true" } else { "false" }))
    }

    fn serialize_i8(self, value: i8) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_i16(self, value: i16) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_i32(self, value: i32) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_i64(self, value: i64) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_i128(self, value: i128) -> Result<(), Error> {
        // A JSON number without arbitrary precision holds 64 bits, signed or not.
        if i64::try_from(value).is_ok() || u64::try_from(value).is_ok() {
            self.display(value)
        } else {
            Err(Error::new("number out of range"))
        }
    }

    fn serialize_u8(self, value: u8) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_u16(self, value: u16) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_u32(self, value: u32) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_u64(self, value: u64) -> Result<(), Error> {
        self.display(value)
    }

    fn serialize_u128(self, value: u128) -> Result<(), Error> {
        if u64::try_from(value).is_ok() { self.display(value) } else { Err(Error::new("number out of range")) }
    }

    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        // `serde_json` widens an f32 before storing it as a number.
        self.float(f64::from(value))
    }

    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        self.float(value)
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.scalar(|out| push_quoted(out, value.encode_utf8(&mut [0; 4])))
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        self.scalar(|out| push_quoted(out, value))
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Error> {
        let mut list = self.sequence();
        for byte in value {
            list.item(byte)?;
        }
        list.close()
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(|out| out.push_str("null"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self.variant(variant))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Collection<'a>, Error> {
        Ok(self.sequence())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Collection<'a>, Error> {
        Ok(self.sequence())
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Collection<'a>, Error> {
        Ok(self.sequence())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Collection<'a>, Error> {
        Ok(self.variant(variant).sequence())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Collection<'a>, Error> {
        Ok(self.map())
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Collection<'a>, Error> {
        Ok(self.map())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Collection<'a>, Error> {
        Ok(self.variant(variant).map())
    }
}

/// The sequence-like serde traits, which differ only in name: every element is a list item.
macro_rules! list_like {
    ($($serializer:ident::$element:ident),*) => {$(
        impl ser::$serializer for Collection<'_> {
            type Ok = ();
            type Error = Error;

            fn $element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
                self.item(value)
            }

            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

list_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Collection<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStruct for Collection<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> Result<(), Error> {
        self.field(name, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Collection<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> Result<(), Error> {
        self.field(name, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}
