//! A reader of the protobuf text format, enough for the original's specs: fields `name: value`,
//! messages `name { ... }` (or `name: { ... }`, `name < ... >`), lists `name: [a, b]` (of values
//! or of messages), identifiers (enum values, `true`), numbers (decimal, hex, octal, floats with
//! an exponent or an `f` suffix, `inf`, `nan`, a leading `-`), strings in single or double quotes
//! with C escapes (adjacent strings join), `#` comments, and `,` or `;` after any field.
//!
//! It knows no schema: [`parse`] gives a tree of [`Message`]s, each field with its line, and the
//! spec mapping (`super::spec`) checks names and types against the original's messages.

use thiserror::Error;

/// A syntax error: where and what.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{column}: {message}")]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// A message: its fields in text order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    /// The line of the opening brace (1 for the top level).
    pub line: usize,
    /// The fields, in text order; a repeated field appears once per occurrence.
    pub fields: Vec<Field>,
}

/// One occurrence of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// The line of the name.
    pub line: usize,
    /// Its value.
    pub value: Value,
}

/// A field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `name: scalar`.
    Scalar(Scalar),
    /// `name { ... }`.
    Message(Message),
    /// `name: [ ... ]`: scalars or messages (possibly none).
    List(Vec<Value>),
}

/// A scalar value as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// What kind of token it is.
    pub kind: ScalarKind,
    /// The token's text: an identifier or number as written (with its `-`), a string's decoded
    /// bytes.
    pub text: String,
    /// The line it is on.
    pub line: usize,
}

/// The kinds of scalar token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// An identifier: an enum value, `true`/`false`, `inf`, `nan` (possibly after `-`).
    Identifier,
    /// A number.
    Number,
    /// A string (single or double quoted; adjacent strings joined).
    String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number(String),
    Str(String),
    Sym(char),
    Eof,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    column: usize,
}

/// A token and where it starts.
struct Token {
    tok: Tok,
    line: usize,
    column: usize,
}

impl Lexer {
    fn new(text: &str) -> Lexer {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
            column: 1,
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn error(&self, line: usize, column: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line,
            column,
            message: message.into(),
        }
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek_char() {
            if c == '#' {
                while let Some(c) = self.peek_char() {
                    if c == '\n' {
                        break;
                    }
                    self.bump();
                }
            } else if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn next(&mut self) -> Result<Token, SyntaxError> {
        self.skip_blank();
        let (line, column) = (self.line, self.column);
        let Some(c) = self.peek_char() else {
            return Ok(Token {
                tok: Tok::Eof,
                line,
                column,
            });
        };
        let tok = if c.is_ascii_alphabetic() || c == '_' {
            let mut s = String::new();
            while let Some(c) = self.peek_char() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    s.push(c);
                    self.bump();
                } else {
                    break;
                }
            }
            Tok::Ident(s)
        } else if c.is_ascii_digit() || (c == '.' && self.next_is_digit()) {
            let mut s = String::new();
            while let Some(c) = self.peek_char() {
                let exponent_sign = matches!(c, '+' | '-')
                    && matches!(s.chars().last(), Some('e' | 'E'))
                    && !s.starts_with("0x")
                    && !s.starts_with("0X");
                if c.is_ascii_alphanumeric() || c == '.' || exponent_sign {
                    s.push(c);
                    self.bump();
                } else {
                    break;
                }
            }
            Tok::Number(s)
        } else if c == '"' || c == '\'' {
            Tok::Str(self.string(c)?)
        } else if "{}<>[]:,;-".contains(c) {
            self.bump();
            Tok::Sym(c)
        } else {
            return Err(self.error(line, column, format!("unexpected character `{c}`")));
        };
        Ok(Token { tok, line, column })
    }

    fn next_is_digit(&self) -> bool {
        self.chars
            .get(self.pos + 1)
            .is_some_and(|c| c.is_ascii_digit())
    }

    /// A quoted string with C escapes, from its opening `quote`.
    fn string(&mut self, quote: char) -> Result<String, SyntaxError> {
        let (line, column) = (self.line, self.column);
        self.bump();
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.error(line, column, "string not closed"));
            };
            match c {
                '\n' => return Err(self.error(line, column, "string not closed on its line")),
                c if c == quote => break,
                '\\' => {
                    let Some(e) = self.bump() else {
                        return Err(self.error(line, column, "string not closed"));
                    };
                    match e {
                        'n' => bytes.push(b'\n'),
                        't' => bytes.push(b'\t'),
                        'r' => bytes.push(b'\r'),
                        'a' => bytes.push(7),
                        'b' => bytes.push(8),
                        'f' => bytes.push(12),
                        'v' => bytes.push(11),
                        '\\' | '\'' | '"' | '?' => bytes.push(e as u8),
                        'x' => {
                            let mut v = 0u32;
                            let mut n = 0;
                            while n < 2 && self.peek_char().is_some_and(|c| c.is_ascii_hexdigit()) {
                                v = v * 16 + self.bump().unwrap().to_digit(16).unwrap();
                                n += 1;
                            }
                            if n == 0 {
                                return Err(self.error(self.line, self.column, "bad \\x escape"));
                            }
                            bytes.push(v as u8);
                        }
                        '0'..='7' => {
                            let mut v = e.to_digit(8).unwrap();
                            let mut n = 1;
                            while n < 3
                                && self.peek_char().is_some_and(|c| ('0'..='7').contains(&c))
                            {
                                v = v * 8 + self.bump().unwrap().to_digit(8).unwrap();
                                n += 1;
                            }
                            bytes.push(v as u8);
                        }
                        other => {
                            return Err(self.error(
                                self.line,
                                self.column,
                                format!("unknown escape `\\{other}`"),
                            ));
                        }
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// A parser over the token stream with one token of look-ahead.
struct Parser {
    lexer: Lexer,
    look: Token,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Number(s) => format!("the number `{s}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Sym(c) => format!("`{c}`"),
        Tok::Eof => "the end of the text".into(),
    }
}

impl Parser {
    fn new(text: &str) -> Result<Parser, SyntaxError> {
        let mut lexer = Lexer::new(text);
        let look = lexer.next()?;
        Ok(Parser { lexer, look })
    }

    fn advance(&mut self) -> Result<Token, SyntaxError> {
        let next = self.lexer.next()?;
        Ok(std::mem::replace(&mut self.look, next))
    }

    fn error_here(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.look.line,
            column: self.look.column,
            message: message.into(),
        }
    }

    fn is_sym(&self, c: char) -> bool {
        self.look.tok == Tok::Sym(c)
    }

    /// Fields up to `end` (a closing `}` or `>`, or the end of the text).
    fn fields(&mut self, end: Option<char>, line: usize) -> Result<Message, SyntaxError> {
        let mut message = Message {
            line,
            fields: Vec::new(),
        };
        loop {
            match (&self.look.tok, end) {
                (Tok::Eof, None) => return Ok(message),
                (Tok::Eof, Some(c)) => {
                    return Err(self.error_here(format!(
                        "`{c}` missing: the message opened on line {line} is not closed"
                    )));
                }
                (Tok::Sym(c), Some(e)) if *c == e => {
                    self.advance()?;
                    return Ok(message);
                }
                _ => {}
            }
            message.fields.push(self.field()?);
            if self.is_sym(',') || self.is_sym(';') {
                self.advance()?;
            }
        }
    }

    fn field(&mut self) -> Result<Field, SyntaxError> {
        let name_token = self.advance()?;
        let name = match name_token.tok {
            Tok::Ident(s) => s,
            Tok::Sym('[') => {
                return Err(SyntaxError {
                    line: name_token.line,
                    column: name_token.column,
                    message: "extensions and Any fields (`[...]` names) are not supported".into(),
                });
            }
            other => {
                return Err(SyntaxError {
                    line: name_token.line,
                    column: name_token.column,
                    message: format!("expected a field name, found {}", describe(&other)),
                });
            }
        };
        let line = name_token.line;
        let value = if self.is_sym(':') {
            self.advance()?;
            if self.is_sym('{') || self.is_sym('<') {
                Value::Message(self.message()?)
            } else if self.is_sym('[') {
                self.list()?
            } else {
                Value::Scalar(self.scalar()?)
            }
        } else if self.is_sym('{') || self.is_sym('<') {
            Value::Message(self.message()?)
        } else {
            return Err(self.error_here(format!(
                "expected `:` or `{{` after the field name `{name}`, found {}",
                describe(&self.look.tok)
            )));
        };
        Ok(Field { name, line, value })
    }

    /// `{ fields }` or `< fields >`.
    fn message(&mut self) -> Result<Message, SyntaxError> {
        let open = self.advance()?;
        let end = if open.tok == Tok::Sym('{') { '}' } else { '>' };
        self.fields(Some(end), open.line)
    }

    /// `[ item, item, ... ]`.
    fn list(&mut self) -> Result<Value, SyntaxError> {
        self.advance()?;
        let mut items = Vec::new();
        if self.is_sym(']') {
            self.advance()?;
            return Ok(Value::List(items));
        }
        loop {
            if self.is_sym('{') || self.is_sym('<') {
                items.push(Value::Message(self.message()?));
            } else {
                items.push(Value::Scalar(self.scalar()?));
            }
            if self.is_sym(',') {
                self.advance()?;
            } else if self.is_sym(']') {
                self.advance()?;
                return Ok(Value::List(items));
            } else {
                return Err(self.error_here(format!(
                    "expected `,` or `]` in the list, found {}",
                    describe(&self.look.tok)
                )));
            }
        }
    }

    fn scalar(&mut self) -> Result<Scalar, SyntaxError> {
        let token = self.advance()?;
        let line = token.line;
        match token.tok {
            Tok::Ident(s) => Ok(Scalar {
                kind: ScalarKind::Identifier,
                text: s,
                line,
            }),
            Tok::Number(s) => Ok(Scalar {
                kind: ScalarKind::Number,
                text: s,
                line,
            }),
            Tok::Str(mut s) => {
                while let Tok::Str(more) = &self.look.tok {
                    s.push_str(more);
                    self.advance()?;
                }
                Ok(Scalar {
                    kind: ScalarKind::String,
                    text: s,
                    line,
                })
            }
            Tok::Sym('-') => {
                let next = self.advance()?;
                match next.tok {
                    Tok::Number(s) => Ok(Scalar {
                        kind: ScalarKind::Number,
                        text: format!("-{s}"),
                        line,
                    }),
                    Tok::Ident(s) => Ok(Scalar {
                        kind: ScalarKind::Identifier,
                        text: format!("-{s}"),
                        line,
                    }),
                    other => Err(SyntaxError {
                        line: next.line,
                        column: next.column,
                        message: format!("expected a number after `-`, found {}", describe(&other)),
                    }),
                }
            }
            other => Err(SyntaxError {
                line,
                column: token.column,
                message: format!("expected a value, found {}", describe(&other)),
            }),
        }
    }
}

/// Parses a whole text (the fields of one top-level message).
pub fn parse(text: &str) -> Result<Message, SyntaxError> {
    let mut parser = Parser::new(text)?;
    parser.fields(None, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(v: &Value) -> &str {
        match v {
            Value::Scalar(s) => &s.text,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn reads_every_form_of_field() {
        let m = parse(
            "# a comment\n a: 1 b {c: -2.5e-3} d: { e: FOO } f < g: 'x\\'y' \"z\" >\n\
             h: [1, 2,3] i: [{j: true}, {j: 0x1F}] k: [] l: -inf; m: .5f,\n",
        )
        .unwrap();
        let names: Vec<&str> = m.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "d", "f", "h", "i", "k", "l", "m"]);
        assert_eq!(scalar(&m.fields[0].value), "1");
        let Value::Message(b) = &m.fields[1].value else {
            panic!()
        };
        assert_eq!(scalar(&b.fields[0].value), "-2.5e-3");
        let Value::Message(f) = &m.fields[3].value else {
            panic!()
        };
        assert_eq!(scalar(&f.fields[0].value), "x'yz");
        let Value::List(h) = &m.fields[4].value else {
            panic!()
        };
        assert_eq!(h.len(), 3);
        let Value::List(i) = &m.fields[5].value else {
            panic!()
        };
        assert!(matches!(&i[1], Value::Message(x) if scalar(&x.fields[0].value) == "0x1F"));
        assert_eq!(m.fields[6].value, Value::List(vec![]));
        assert_eq!(scalar(&m.fields[7].value), "-inf");
        assert_eq!(scalar(&m.fields[8].value), ".5f");
        assert_eq!(m.fields[4].line, 3);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("a {\n  b: 1\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("line 1 is not closed"), "{e}");
        let e = parse("a: 1\nb 2\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse("a: [1 2]").unwrap_err();
        assert!(e.message.contains("`,` or `]`"), "{e}");
        let e = parse("a: 'open\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("a: @").unwrap_err();
        assert!(e.message.contains("`@`"), "{e}");
    }
}
