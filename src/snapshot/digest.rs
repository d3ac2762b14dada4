//! A checksum of any serialisable value: FNV-1a (64-bit) over a self-delimiting encoding of
//! its serde data model, so that it does not depend on the format the value is stored in, nor
//! on the Rust version (unlike the standard library's hasher).

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Serializer};

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// The checksum of `value`, or why it could not be serialised.
pub(crate) fn digest<T: Serialize + ?Sized>(value: &T) -> Result<u64, DigestError> {
    let mut d = Digest(OFFSET);
    value.serialize(&mut d)?;
    Ok(d.0)
}

pub(crate) struct Digest(u64);

impl Digest {
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    fn tag(&mut self, tag: u8) {
        self.bytes(&[tag]);
    }

    fn len(&mut self, n: usize) {
        self.bytes(&(n as u64).to_le_bytes());
    }

    fn text(&mut self, s: &str) {
        self.len(s.len());
        self.bytes(s.as_bytes());
    }
}

/// A value that refused to serialise.
#[derive(Debug)]
pub(crate) struct DigestError(String);

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DigestError {}

impl ser::Error for DigestError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DigestError(msg.to_string())
    }
}

// Tags of the data model, so that no two values encode alike.
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const CHAR: u8 = 4;
const STR: u8 = 5;
const BYTES: u8 = 6;
const NONE: u8 = 7;
const SOME: u8 = 8;
const UNIT: u8 = 9;
const VARIANT: u8 = 10;
const SEQ: u8 = 11;
const MAP: u8 = 12;
const STRUCT: u8 = 13;
const ITEM: u8 = 14;
const END: u8 = 15;

macro_rules! ints {
    ($($name:ident: $t:ty),*) => {
        $(fn $name(self, v: $t) -> Result<(), DigestError> {
            self.tag(INT);
            self.bytes(&i128::from(v).to_le_bytes());
            Ok(())
        })*
    };
}

impl Serializer for &mut Digest {
    type Ok = ();
    type Error = DigestError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<(), DigestError> {
        self.tag(BOOL);
        self.bytes(&[u8::from(v)]);
        Ok(())
    }

    ints!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
          serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_i128(self, v: i128) -> Result<(), DigestError> {
        self.tag(INT);
        self.bytes(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), DigestError> {
        self.tag(INT);
        // The same bytes as an i128 of the same value up to i128::MAX. Only a u128 above
        // that could share bytes with a negative i128, and one place of a schema never holds
        // both types.
        self.bytes(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), DigestError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), DigestError> {
        self.tag(FLOAT);
        self.bytes(&v.to_bits().to_le_bytes());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), DigestError> {
        self.tag(CHAR);
        self.bytes(&u32::from(v).to_le_bytes());
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), DigestError> {
        self.tag(STR);
        self.text(v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), DigestError> {
        self.tag(BYTES);
        self.len(v.len());
        self.bytes(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), DigestError> {
        self.tag(NONE);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), DigestError> {
        self.tag(SOME);
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), DigestError> {
        self.tag(UNIT);
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), DigestError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), DigestError> {
        self.tag(VARIANT);
        self.text(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), DigestError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), DigestError> {
        self.tag(VARIANT);
        self.text(variant);
        value.serialize(self)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, DigestError> {
        self.tag(SEQ);
        Ok(self)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self, DigestError> {
        self.tag(SEQ);
        Ok(self)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, DigestError> {
        self.tag(SEQ);
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, DigestError> {
        self.tag(VARIANT);
        self.text(variant);
        self.tag(SEQ);
        Ok(self)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self, DigestError> {
        self.tag(MAP);
        Ok(self)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, DigestError> {
        self.tag(STRUCT);
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, DigestError> {
        self.tag(VARIANT);
        self.text(variant);
        self.tag(STRUCT);
        Ok(self)
    }
}

impl Digest {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DigestError> {
        self.tag(ITEM);
        value.serialize(self)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), DigestError> {
        self.tag(ITEM);
        self.text(key);
        value.serialize(self)
    }

    fn end(&mut self) -> Result<(), DigestError> {
        self.tag(END);
        Ok(())
    }
}

macro_rules! compound {
    ($($tr:ident :: $method:ident),*) => {
        $(impl ser::$tr for &mut Digest {
            type Ok = ();
            type Error = DigestError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DigestError> {
                self.item(value)
            }
            fn end(self) -> Result<(), DigestError> {
                Digest::end(self)
            }
        })*
    };
}

compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Digest {
    type Ok = ();
    type Error = DigestError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), DigestError> {
        self.item(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DigestError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), DigestError> {
        Digest::end(self)
    }
}

macro_rules! structs {
    ($($tr:ident),*) => {
        $(impl ser::$tr for &mut Digest {
            type Ok = ();
            type Error = DigestError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), DigestError> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), DigestError> {
                Digest::end(self)
            }
        })*
    };
}

structs!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_agree_and_different_ones_do_not() {
        let a = (1u32, "x", Some(2.5f64), vec![1u8, 2]);
        assert_eq!(digest(&a).unwrap(), digest(&a).unwrap());
        // The same number in another integer type is the same value of the data model.
        assert_eq!(digest(&1u8).unwrap(), digest(&1i64).unwrap());
        let others = [
            digest(&(2u32, "x", Some(2.5f64), vec![1u8, 2])).unwrap(),
            digest(&(1u32, "y", Some(2.5f64), vec![1u8, 2])).unwrap(),
            digest(&(1u32, "x", None::<f64>, vec![1u8, 2])).unwrap(),
            digest(&(1u32, "x", Some(2.5f64), vec![1u8, 2, 0])).unwrap(),
            digest(&(1u32, "x", Some(-2.5f64), vec![1u8, 2])).unwrap(),
        ];
        for o in others {
            assert_ne!(o, digest(&a).unwrap());
        }
        // Sequence boundaries count: [[1], [2]] is not [[1, 2]] nor [[], [1, 2]].
        let nested = |v: Vec<Vec<u8>>| digest(&v).unwrap();
        assert_ne!(nested(vec![vec![1], vec![2]]), nested(vec![vec![1, 2]]));
        assert_ne!(nested(vec![vec![1, 2]]), nested(vec![vec![], vec![1, 2]]));
        // A fixed algorithm: this value must never change, or old snapshots stop verifying.
        // FNV-1a of the bytes 05 (a string), 07 00 00 00 00 00 00 00 (its length), "accrual",
        // computed separately.
        assert_eq!(digest(&"accrual").unwrap(), 0x760c_612e_7106_202c);
    }
}
