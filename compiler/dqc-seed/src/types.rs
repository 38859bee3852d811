//! Column type strings in JSON: the Glue/Athena spelling (`decimal(12,2)`,
//! `array<struct<a:int>>`), read into contract-language type text and written from IR types.

use dqc_ir::Type;
use dqc_syntax::quote_ident;

/// What kind of literal a column's values are written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Integers, decimals and floats.
    Number,
    /// Strings of any flavour.
    Text,
    /// Booleans.
    Boolean,
    /// Dates.
    Date,
    /// Timestamps.
    Timestamp,
    /// Arrays, structs and unknown types: literals are written as the JSON value suggests.
    Other,
}

/// A column type read from JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnType {
    /// The type in contract-language syntax.
    pub text: String,
    /// How literals for the column are written.
    pub class: Class,
}

/// Reads a Glue/Athena type string. Unknown type names pass through (the checker reports
/// them); the error is for text that cannot be written as a contract type at all.
pub(crate) fn parse_type(input: &str) -> Result<ColumnType, String> {
    // Catalogs and engines spell an instant `timestamp with time zone` (with a precision or not).
    let lower = input.trim().to_ascii_lowercase();
    if let Some(base) = lower.strip_suffix("with time zone").map(str::trim_end) {
        let precise = base.strip_prefix("timestamp(").and_then(|p| p.strip_suffix(')'));
        if base == "timestamp" || precise.is_some_and(|p| p.trim().parse::<u8>().is_ok()) {
            return Ok(ColumnType { text: "timestamptz".to_string(), class: Class::Timestamp });
        }
    }
    let mut p = TypeParser { s: input.as_bytes(), pos: 0 };
    let (text, class) = p.ty()?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(format!("unexpected `{}` after the type", p.rest()));
    }
    Ok(ColumnType { text, class })
}

fn class_of(name: &str) -> Class {
    match name {
        "string" | "varchar" | "char" => Class::Text,
        "tinyint" | "smallint" | "int" | "integer" | "bigint" | "float" | "real" | "double" | "decimal" => {
            Class::Number
        }
        "boolean" => Class::Boolean,
        "date" => Class::Date,
        "timestamp" | "timestamptz" => Class::Timestamp,
        _ => Class::Other,
    }
}

struct TypeParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl TypeParser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn rest(&self) -> String {
        String::from_utf8_lossy(self.s.get(self.pos..).unwrap_or_default()).into_owned()
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}`", char::from(c)))
        }
    }

    /// A run of `[A-Za-z0-9_]`.
    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            self.pos += 1;
        }
        String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default()).into_owned()
    }

    fn ty(&mut self) -> Result<(String, Class), String> {
        let name = self.word().to_ascii_lowercase();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return Err(if name.is_empty() {
                "expected a type name".to_string()
            } else {
                format!("`{name}` is not a type name")
            });
        }
        match name.as_str() {
            "array" => {
                self.expect(b'<')?;
                let (element, _) = self.ty()?;
                self.expect(b'>')?;
                Ok((format!("array<{element}>"), Class::Other))
            }
            "struct" => self.struct_fields(),
            _ if self.peek() == Some(b'<') => Err(format!("the contract language has no `{name}` type")),
            _ if self.eat(b'(') => {
                let mut params = vec![self.word()];
                while self.eat(b',') {
                    params.push(self.word());
                }
                self.expect(b')')?;
                if params.len() > 2 || params.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
                    return Err(format!("`{name}` parameters must be one or two whole numbers"));
                }
                Ok((format!("{name}({})", params.join(", ")), class_of(&name)))
            }
            _ => Ok((name.clone(), class_of(&name))),
        }
    }

    fn struct_fields(&mut self) -> Result<(String, Class), String> {
        self.expect(b'<')?;
        let mut fields = Vec::new();
        loop {
            let name = self.field_name()?;
            self.eat(b':');
            let (ty, _) = self.ty()?;
            fields.push(format!("{}: {ty}", quote_ident(&name)));
            if self.eat(b'>') {
                return Ok((format!("struct<{}>", fields.join(", ")), Class::Other));
            }
            self.expect(b',')?;
        }
    }

    /// A struct field name: bare, or quoted with backticks or double quotes (doubled inside).
    fn field_name(&mut self) -> Result<String, String> {
        let Some(quote @ (b'`' | b'"')) = self.peek() else {
            let name = self.word();
            return if name.is_empty() { Err("expected a struct field name".to_string()) } else { Ok(name) };
        };
        self.pos += 1;
        let mut name = Vec::new();
        loop {
            match self.s.get(self.pos).copied() {
                Some(c) if c == quote && self.s.get(self.pos + 1) == Some(&quote) => {
                    name.push(quote);
                    self.pos += 2;
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    name.push(c);
                    self.pos += 1;
                }
                None => return Err("unterminated struct field name".to_string()),
            }
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        if name.is_empty() {
            return Err("empty struct field name".to_string());
        }
        Ok(name)
    }
}

/// The Glue spelling of a type, with struct field names that are not plain words in
/// backticks so they read back unchanged.
pub(crate) fn glue_type(t: &Type) -> String {
    match t {
        Type::Array { element } => format!("array<{}>", glue_type(element)),
        Type::Struct { fields } => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| {
                    let plain = !f.name.is_empty() && f.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    let name = if plain { f.name.clone() } else { format!("`{}`", f.name.replace('`', "``")) };
                    format!("{name}:{}", glue_type(&f.ty))
                })
                .collect();
            format!("struct<{}>", fields.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (String, Class) {
        let t = parse_type(text).unwrap();
        (t.text, t.class)
    }

    #[test]
    fn reads_glue_spellings() {
        assert_eq!(read("STRING"), ("string".to_string(), Class::Text));
        assert_eq!(read("decimal(12,2)"), ("decimal(12, 2)".to_string(), Class::Number));
        assert_eq!(read(" varchar( 20 ) "), ("varchar(20)".to_string(), Class::Text));
        assert_eq!(read("integer"), ("integer".to_string(), Class::Number));
        assert_eq!(read("timestamp"), ("timestamp".to_string(), Class::Timestamp));
        assert_eq!(read("timestamptz"), ("timestamptz".to_string(), Class::Timestamp));
        assert_eq!(read("timestamp(3) with time zone"), ("timestamptz".to_string(), Class::Timestamp));
        assert_eq!(read("TIMESTAMP WITH TIME ZONE"), ("timestamptz".to_string(), Class::Timestamp));
        assert_eq!(
            read("array<struct<city:string,`zip code`:int>>"),
            ("array<struct<city: string, \"zip code\": int>>".to_string(), Class::Other)
        );
        assert_eq!(read("geometry"), ("geometry".to_string(), Class::Other));
    }

    #[test]
    fn rejects_what_the_language_cannot_write() {
        assert!(parse_type("map<string,int>").unwrap_err().contains("no `map` type"));
        assert!(parse_type("varchar(abc)").is_err());
        assert!(parse_type("decimal(1,2,3)").is_err());
        assert!(parse_type("").is_err());
        assert!(parse_type("character varying").is_err());
        assert!(parse_type("struct<a:int").is_err());
    }

    #[test]
    fn glue_spelling_reads_back() {
        let t = Type::Struct {
            fields: vec![
                dqc_ir::Field { name: "a`b c".into(), ty: Type::Int },
                dqc_ir::Field { name: "d".into(), ty: Type::Decimal { precision: 5, scale: 1 } },
            ],
        };
        assert_eq!(glue_type(&t), "struct<`a``b c`:int,d:decimal(5,1)>");
        assert_eq!(read(&glue_type(&t)).0, "struct<\"a`b c\": int, d: decimal(5, 1)>");
    }
}
