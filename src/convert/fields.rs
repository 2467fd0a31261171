//! Typed access to the fields of one parsed message, checked against the field names of the
//! original's message type: unknown names, repeated singular fields, scalars where messages are
//! expected (and the reverse) and values of the wrong type are errors naming the line.

use super::ConvertError;
use super::textproto::{Field, Message, Scalar, ScalarKind, Value};

/// An enum value as written: a name or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EnumValue {
    /// `RMS_ERROR`.
    Name(String),
    /// `1`.
    Number(i64),
}

impl std::fmt::Display for EnumValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnumValue::Name(n) => f.write_str(n),
            EnumValue::Number(n) => write!(f, "{n}"),
        }
    }
}

/// The fields of one message of the original's type `ty`, in the text of file `file`.
pub(super) struct Fields<'a> {
    msg: &'a Message,
    ty: &'static str,
    file: &'a str,
}

impl<'a> Fields<'a> {
    /// Checks that every field of `msg` is one of `known` (the fields of `ty`).
    pub fn new(
        msg: &'a Message,
        ty: &'static str,
        known: &[&str],
        file: &'a str,
    ) -> Result<Fields<'a>, ConvertError> {
        if let Some(f) = msg
            .fields
            .iter()
            .find(|f| !known.contains(&f.name.as_str()))
        {
            let known = if known.is_empty() {
                "it has none".to_string()
            } else {
                format!("known fields: {}", known.join(", "))
            };
            return Err(ConvertError::UnknownField {
                file: file.to_string(),
                line: f.line,
                field: f.name.clone(),
                message_type: ty,
                known,
            });
        }
        Ok(Fields { msg, ty, file })
    }

    /// The file the message is in.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// An error about field `field` on `line`.
    pub fn error(&self, line: usize, field: &str, problem: impl Into<String>) -> ConvertError {
        ConvertError::Value {
            file: self.file.to_string(),
            line,
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    /// The error of a required field that is absent.
    pub fn missing(&self, field: &str, why: &str) -> ConvertError {
        ConvertError::Missing {
            file: self.file.to_string(),
            line: self.msg.line,
            field: field.to_string(),
            message_type: self.ty,
            why: why.to_string(),
        }
    }

    /// Whether `name` is given at all.
    pub fn has(&self, name: &str) -> bool {
        self.msg.fields.iter().any(|f| f.name == name)
    }

    /// The line of the first occurrence of `name`, else the message's.
    pub fn line_of(&self, name: &str) -> usize {
        self.occurrences(name)
            .next()
            .map_or(self.msg.line, |f| f.line)
    }

    fn occurrences(&self, name: &'a str) -> impl Iterator<Item = &'a Field> + 'a {
        self.msg.fields.iter().filter(move |f| f.name == name)
    }

    /// The one value of a singular field, if given.
    fn single(&self, name: &'a str) -> Result<Option<(&'a Value, usize)>, ConvertError> {
        let mut found = self.occurrences(name);
        let Some(first) = found.next() else {
            return Ok(None);
        };
        if let Some(again) = found.next() {
            return Err(self.error(
                again.line,
                name,
                format!(
                    "given twice (also on line {}); it is not a repeated field",
                    first.line
                ),
            ));
        }
        if let Value::List(_) = first.value {
            return Err(self.error(first.line, name, "not a repeated field: give one value"));
        }
        Ok(Some((&first.value, first.line)))
    }

    /// The one scalar of a singular scalar field, if given.
    fn single_scalar(&self, name: &'a str) -> Result<Option<&'a Scalar>, ConvertError> {
        match self.single(name)? {
            None => Ok(None),
            Some((Value::Scalar(s), _)) => Ok(Some(s)),
            Some((_, line)) => Err(self.error(line, name, "expects a value, not a message")),
        }
    }

    /// Every value of a repeated field, lists flattened, in text order.
    fn repeated(&self, name: &'a str) -> Vec<(&'a Value, usize)> {
        let mut out = Vec::new();
        for f in self.occurrences(name) {
            match &f.value {
                Value::List(items) => {
                    for item in items {
                        let line = match item {
                            Value::Scalar(s) => s.line,
                            Value::Message(m) => m.line,
                            Value::List(_) => f.line,
                        };
                        out.push((item, line));
                    }
                }
                other => out.push((other, f.line)),
            }
        }
        out
    }

    /// A singular message field, if given.
    pub fn message(&self, name: &'a str) -> Result<Option<Nested<'a>>, ConvertError> {
        match self.single(name)? {
            None => Ok(None),
            Some((Value::Message(m), line)) => Ok(Some(Nested { msg: m, line })),
            Some((_, line)) => Err(self.error(
                line,
                name,
                format!("is a message: write `{name} {{ ... }}`"),
            )),
        }
    }

    /// Every message of a repeated message field.
    pub fn messages(&self, name: &'a str) -> Result<Vec<Nested<'a>>, ConvertError> {
        self.repeated(name)
            .into_iter()
            .map(|(v, line)| match v {
                Value::Message(m) => Ok(Nested { msg: m, line }),
                _ => Err(self.error(
                    line,
                    name,
                    format!("is a message: write `{name} {{ ... }}`"),
                )),
            })
            .collect()
    }

    /// Every scalar of a repeated scalar field.
    fn scalars(&self, name: &'a str) -> Result<Vec<&'a Scalar>, ConvertError> {
        self.repeated(name)
            .into_iter()
            .map(|(v, line)| match v {
                Value::Scalar(s) => Ok(s),
                _ => Err(self.error(line, name, "expects values, not messages")),
            })
            .collect()
    }

    /// A singular integer field within `min..=max`.
    pub fn int(&self, name: &'a str, min: i64, max: i64) -> Result<Option<i64>, ConvertError> {
        self.single_scalar(name)?
            .map(|s| self.int_value(name, s, min, max))
            .transpose()
    }

    /// Every value of a repeated integer field, each within `min..=max`.
    pub fn ints(&self, name: &'a str, min: i64, max: i64) -> Result<Vec<i64>, ConvertError> {
        self.scalars(name)?
            .into_iter()
            .map(|s| self.int_value(name, s, min, max))
            .collect()
    }

    fn int_value(&self, name: &str, s: &Scalar, min: i64, max: i64) -> Result<i64, ConvertError> {
        let v = (s.kind == ScalarKind::Number)
            .then(|| parse_int(&s.text))
            .flatten()
            .ok_or_else(|| {
                self.error(
                    s.line,
                    name,
                    format!("expects an integer, found `{}`", s.text),
                )
            })?;
        if v < min || v > max {
            return Err(self.error(
                s.line,
                name,
                format!("{v} is out of range (allowed: {min} to {max})"),
            ));
        }
        Ok(v)
    }

    /// A singular floating-point field.
    pub fn double(&self, name: &'a str) -> Result<Option<f64>, ConvertError> {
        self.single_scalar(name)?
            .map(|s| self.double_value(name, s))
            .transpose()
    }

    /// Every value of a repeated floating-point field.
    pub fn doubles(&self, name: &'a str) -> Result<Vec<f64>, ConvertError> {
        self.scalars(name)?
            .into_iter()
            .map(|s| self.double_value(name, s))
            .collect()
    }

    fn double_value(&self, name: &str, s: &Scalar) -> Result<f64, ConvertError> {
        parse_double(s).ok_or_else(|| {
            self.error(
                s.line,
                name,
                format!("expects a number, found `{}`", s.text),
            )
        })
    }

    /// A singular string field.
    pub fn string(&self, name: &'a str) -> Result<Option<String>, ConvertError> {
        let Some(s) = self.single_scalar(name)? else {
            return Ok(None);
        };
        if s.kind != ScalarKind::String {
            return Err(self.error(
                s.line,
                name,
                format!("expects a quoted string, found `{}`", s.text),
            ));
        }
        Ok(Some(s.text.clone()))
    }

    /// A singular enum field: its value and line.
    pub fn enum_value(&self, name: &'a str) -> Result<Option<(EnumValue, usize)>, ConvertError> {
        self.single_scalar(name)?
            .map(|s| Ok((self.enum_of(name, s)?, s.line)))
            .transpose()
    }

    /// Every value of a repeated enum field, with its line.
    pub fn enum_values(&self, name: &'a str) -> Result<Vec<(EnumValue, usize)>, ConvertError> {
        self.scalars(name)?
            .into_iter()
            .map(|s| Ok((self.enum_of(name, s)?, s.line)))
            .collect()
    }

    fn enum_of(&self, name: &str, s: &Scalar) -> Result<EnumValue, ConvertError> {
        match s.kind {
            ScalarKind::Identifier if !s.text.starts_with('-') => {
                Ok(EnumValue::Name(s.text.clone()))
            }
            ScalarKind::Number => parse_int(&s.text).map(EnumValue::Number).ok_or_else(|| {
                self.error(
                    s.line,
                    name,
                    format!("expects an enum value, found `{}`", s.text),
                )
            }),
            _ => Err(self.error(
                s.line,
                name,
                format!("expects an enum value, found `{}`", s.text),
            )),
        }
    }
}

/// A nested message and the line it starts on, not yet checked against its type.
pub(super) struct Nested<'a> {
    msg: &'a Message,
    /// The line of the field holding the message.
    pub line: usize,
}

impl<'a> Nested<'a> {
    /// Checks the nested message against type `ty` with fields `known`.
    pub fn typed(
        &self,
        ty: &'static str,
        known: &[&str],
        file: &'a str,
    ) -> Result<Fields<'a>, ConvertError> {
        Fields::new(self.msg, ty, known, file)
    }
}

/// An integer as the text format writes it: decimal, `0x` hex or `0` octal, with a `-`.
fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<u64>().ok()?
    };
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// A floating-point value: a number (an `f` suffix allowed), or `inf`, `infinity`, `nan` in any
/// case, with a `-`.
fn parse_double(s: &Scalar) -> Option<f64> {
    let (negative, body) = match s.text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.text.as_str()),
    };
    let v = match s.kind {
        ScalarKind::Identifier => match body.to_ascii_lowercase().as_str() {
            "inf" | "infinity" | "inff" | "infinityf" => f64::INFINITY,
            "nan" | "nanf" => f64::NAN,
            _ => return None,
        },
        ScalarKind::Number => {
            if let Some(i) = parse_int(body) {
                i as f64
            } else {
                let trimmed = body.strip_suffix(['f', 'F']).unwrap_or(body);
                let ok = trimmed
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
                if !ok {
                    return None;
                }
                trimmed.parse::<f64>().ok()?
            }
        }
        ScalarKind::String => return None,
    };
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Scalar {
        Scalar {
            kind: ScalarKind::Number,
            text: text.into(),
            line: 1,
        }
    }

    #[test]
    fn integers_and_doubles_read_as_the_text_format_writes_them() {
        assert_eq!(parse_int("100"), Some(100));
        assert_eq!(parse_int("-0x1F"), Some(-31));
        assert_eq!(parse_int("010"), Some(8));
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_double(&num("1e-3")), Some(1e-3));
        assert_eq!(parse_double(&num("-2.5f")), Some(-2.5));
        assert_eq!(parse_double(&num("7")), Some(7.0));
        assert_eq!(parse_double(&num(".5")), Some(0.5));
        let inf = Scalar {
            kind: ScalarKind::Identifier,
            text: "-Infinity".into(),
            line: 1,
        };
        assert_eq!(parse_double(&inf), Some(f64::NEG_INFINITY));
    }
}
