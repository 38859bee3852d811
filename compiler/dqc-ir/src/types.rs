//! Column and expression types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A concrete type, in the vocabulary shared by Glue, Athena and Spark.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Type {
    /// Unbounded string.
    String,
    /// String of at most `length` characters.
    Varchar {
        /// Maximum length in characters.
        length: u32,
    },
    /// Fixed-length string.
    Char {
        /// Length in characters.
        length: u32,
    },
    /// 8-bit integer.
    Tinyint,
    /// 16-bit integer.
    Smallint,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    Bigint,
    /// 32-bit float.
    Float,
    /// 64-bit float.
    Double,
    /// Exact decimal.
    Decimal {
        /// Total digits, 1..=38.
        precision: u32,
        /// Digits after the point, 0..=precision.
        scale: u32,
    },
    /// Boolean.
    Boolean,
    /// Calendar date.
    Date,
    /// Timestamp without time zone.
    Timestamp,
    /// An instant: a timestamp with time zone (`timestamp with time zone` in catalogs and
    /// engines), compared and shown in UTC.
    TimestampTz,
    /// Array of one element type.
    Array {
        /// Element type.
        element: Box<Type>,
    },
    /// Struct of named fields.
    Struct {
        /// Fields in order.
        fields: Vec<Field>,
    },
}

/// A struct field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Field type.
    #[serde(rename = "type")]
    pub ty: Type,
}

impl Type {
    /// Strings of any flavour.
    pub fn is_string(&self) -> bool {
        matches!(self, Type::String | Type::Varchar { .. } | Type::Char { .. })
    }

    /// Integers of any width.
    pub fn is_integer(&self) -> bool {
        matches!(self, Type::Tinyint | Type::Smallint | Type::Int | Type::Bigint)
    }

    /// Integers, decimals and floats.
    pub fn is_numeric(&self) -> bool {
        self.is_integer() || matches!(self, Type::Float | Type::Double | Type::Decimal { .. })
    }

    /// Dates and timestamps.
    pub fn is_temporal(&self) -> bool {
        matches!(self, Type::Date | Type::Timestamp | Type::TimestampTz)
    }

    /// Arrays and structs.
    pub fn is_complex(&self) -> bool {
        matches!(self, Type::Array { .. } | Type::Struct { .. })
    }

    /// The inclusive range of an integer type.
    pub fn integer_range(&self) -> Option<(i128, i128)> {
        match self {
            Type::Tinyint => Some((i8::MIN.into(), i8::MAX.into())),
            Type::Smallint => Some((i16::MIN.into(), i16::MAX.into())),
            Type::Int => Some((i32::MIN.into(), i32::MAX.into())),
            Type::Bigint => Some((i64::MIN.into(), i64::MAX.into())),
            _ => None,
        }
    }

    /// Values of the two types can be compared with `=` and `<`.
    pub fn comparable_with(&self, other: &Type) -> bool {
        (self.is_numeric() && other.is_numeric())
            || (self.is_string() && other.is_string())
            || (self.is_temporal() && other.is_temporal())
            || (*self == Type::Boolean && *other == Type::Boolean)
    }
}

impl std::fmt::Display for Type {
    /// The Glue/Athena DDL spelling.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Varchar { length } => write!(f, "varchar({length})"),
            Type::Char { length } => write!(f, "char({length})"),
            Type::Tinyint => f.write_str("tinyint"),
            Type::Smallint => f.write_str("smallint"),
            Type::Int => f.write_str("int"),
            Type::Bigint => f.write_str("bigint"),
            Type::Float => f.write_str("float"),
            Type::Double => f.write_str("double"),
            Type::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Type::Boolean => f.write_str("boolean"),
            Type::Date => f.write_str("date"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::TimestampTz => f.write_str("timestamptz"),
            Type::Array { element } => write!(f, "array<{element}>"),
            Type::Struct { fields } => {
                f.write_str("struct<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{}", field.name, field.ty)?;
                }
                f.write_str(">")
            }
        }
    }
}
