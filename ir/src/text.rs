//! The readable format (SEMANTICS.md §3), both ways.
//!
//! Printing fills in each op's readable form from the op table; parsing matches a line against
//! every form, white space ignored. Floats are printed in Rust's shortest round-trip notation, so
//! `parse(print(a)) == a` bit for bit (NaN payloads excepted: every NaN reads back as the canonical
//! one).

use crate::algorithm::{Algorithm, ComponentFunction};
use crate::instruction::Instruction;
use crate::layout::MAX_ADDRESSES;
use crate::op::{ALL_OPS, Bank, Op, OpInfo};
use std::fmt::Write as _;
use std::sync::OnceLock;
use thiserror::Error;

/// A line of an algorithm file that could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// Where each instruction of a parsed algorithm stood in its file: `lines[f][i]` is the 1-based
/// line of instruction `i` of component function `f` (Setup, Predict, Learn).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceLines {
    /// Line numbers per component function.
    pub lines: [Vec<usize>; 3],
}

impl SourceLines {
    /// The line of instruction `index` of `function`, if it came from a file.
    pub fn line(&self, function: ComponentFunction, index: usize) -> Option<usize> {
        self.lines[function as usize].get(index).copied()
    }
}

fn write_form(out: &mut String, instr: &Instruction) {
    let form = instr.op.info().form;
    let mut rest = form;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("forms close their braces");
        let info = instr.op.info();
        let addr = |b: Option<Bank>, a: u16| {
            format!("{}{}", b.expect("form names a used field").letter(), a)
        };
        match &rest[start + 1..end] {
            "O" => out.push_str(&addr(info.out, instr.out)),
            "A" => out.push_str(&addr(info.in1, instr.in1)),
            "B" => out.push_str(&addr(info.in2, instr.in2)),
            "c" => write!(out, "{:?}", instr.activation).unwrap(),
            "d0" => write!(out, "{:?}", instr.data[0]).unwrap(),
            "d1" => write!(out, "{:?}", instr.data[1]).unwrap(),
            "d2" => write!(out, "{:?}", instr.data[2]).unwrap(),
            other => unreachable!("unknown placeholder {other}"),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
}

/// One instruction in its readable form, e.g. `s1 = dot(v0, v1)`.
pub fn print_instruction(instr: &Instruction) -> String {
    let mut s = String::new();
    write_form(&mut s, instr);
    s
}

/// A whole algorithm in the readable format: three `def Name():` headers, each followed by its
/// instructions indented by two spaces.
pub fn print_algorithm(algorithm: &Algorithm) -> String {
    let mut s = String::new();
    for function in ComponentFunction::ALL {
        writeln!(s, "def {}():", function.name()).unwrap();
        for instr in algorithm.function(function) {
            s.push_str("  ");
            write_form(&mut s, instr);
            s.push('\n');
        }
    }
    s
}

/// A piece of a readable form, white space removed.
#[derive(Debug)]
enum Piece {
    Literal(String),
    Address(Field),
    Number(Field),
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Out,
    In1,
    In2,
    Activation,
    Data(usize),
}

fn pieces_of(info: &OpInfo) -> Vec<Piece> {
    let form: String = info.form.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pieces = Vec::new();
    let mut rest = form.as_str();
    while let Some(start) = rest.find('{') {
        if start > 0 {
            pieces.push(Piece::Literal(rest[..start].to_string()));
        }
        let end = start + rest[start..].find('}').expect("forms close their braces");
        pieces.push(match &rest[start + 1..end] {
            "O" => Piece::Address(Field::Out),
            "A" => Piece::Address(Field::In1),
            "B" => Piece::Address(Field::In2),
            "c" => Piece::Number(Field::Activation),
            "d0" => Piece::Number(Field::Data(0)),
            "d1" => Piece::Number(Field::Data(1)),
            "d2" => Piece::Number(Field::Data(2)),
            other => unreachable!("unknown placeholder {other}"),
        });
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest.to_string()));
    }
    pieces
}

fn all_pieces() -> &'static Vec<(Op, Vec<Piece>)> {
    static PIECES: OnceLock<Vec<(Op, Vec<Piece>)>> = OnceLock::new();
    PIECES.get_or_init(|| {
        ALL_OPS
            .iter()
            .map(|&op| (op, pieces_of(op.info())))
            .collect()
    })
}

/// The outcome of matching a line against one op's form.
enum Match {
    /// The line has this op's shape and banks.
    Yes(Instruction),
    /// The line has this op's shape but other banks.
    WrongBanks,
    /// The line has another shape.
    No,
}

fn is_number_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-' | b'_')
}

fn match_form(op: Op, pieces: &[Piece], line: &str) -> Result<Match, String> {
    let info = op.info();
    let bytes = line.as_bytes();
    let mut pos = 0;
    let mut instr = Instruction {
        op,
        ..Instruction::NO_OP
    };
    let mut banks_fit = true;
    for piece in pieces {
        match piece {
            Piece::Literal(lit) => {
                if !line[pos..].starts_with(lit.as_str()) {
                    return Ok(Match::No);
                }
                pos += lit.len();
            }
            Piece::Address(field) => {
                let Some(bank) = bytes.get(pos).and_then(|&c| Bank::from_letter(c as char)) else {
                    return Ok(Match::No);
                };
                let digits = bytes[pos + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if digits == 0 {
                    return Ok(Match::No);
                }
                let text = &line[pos + 1..pos + 1 + digits];
                pos += 1 + digits;
                let (want, slot) = match field {
                    Field::Out => (info.out, &mut instr.out),
                    Field::In1 => (info.in1, &mut instr.in1),
                    Field::In2 => (info.in2, &mut instr.in2),
                    _ => unreachable!(),
                };
                banks_fit &= want == Some(bank);
                let addr: usize = text.parse().unwrap_or(usize::MAX);
                if addr >= MAX_ADDRESSES {
                    return Err(format!(
                        "address {}{text} is out of range (addresses go up to {}{})",
                        bank.letter(),
                        bank.letter(),
                        MAX_ADDRESSES - 1
                    ));
                }
                *slot = addr as u16;
            }
            Piece::Number(field) => {
                let len = bytes[pos..]
                    .iter()
                    .take_while(|&&c| is_number_char(c))
                    .count();
                let text = &line[pos..pos + len];
                pos += len;
                match field {
                    Field::Activation => match text.parse::<f64>() {
                        Ok(v) => instr.activation = v,
                        Err(_) => return Ok(Match::No),
                    },
                    Field::Data(k) => match text.parse::<f32>() {
                        Ok(v) => instr.data[*k] = v,
                        Err(_) => return Ok(Match::No),
                    },
                    _ => unreachable!(),
                }
            }
        }
    }
    if pos != line.len() {
        return Ok(Match::No);
    }
    Ok(if banks_fit {
        Match::Yes(instr)
    } else {
        Match::WrongBanks
    })
}

/// Reads one instruction in its readable form. The error says what was expected.
pub fn parse_instruction(text: &str) -> Result<Instruction, String> {
    let line: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut shape_matches = Vec::new();
    for (op, pieces) in all_pieces() {
        match match_form(*op, pieces, &line)? {
            Match::Yes(instr) => return Ok(instr),
            Match::WrongBanks => shape_matches.push(*op),
            Match::No => {}
        }
    }
    let text = text.trim();
    if !shape_matches.is_empty() {
        let forms: Vec<String> = shape_matches.iter().map(|op| bank_form(*op)).collect();
        return Err(format!(
            "operand banks of `{text}` fit no op; this form takes {}",
            forms.join(" or ")
        ));
    }
    if let Some(name) = called_function(&line)
        && !known_function_names().contains(&name)
    {
        return Err(format!(
            "unknown op `{name}` in `{text}` (known functions: {})",
            known_function_names().join(", ")
        ));
    }
    Err(format!(
        "cannot read `{text}`: expected an instruction in the readable format, e.g. `s3 = s1 + s2`, \
         `s1 = dot(v0, v1)`, `v2 = gaussian(0.0, 0.1, n_features)`"
    ))
}

/// An op's form with its banks filled in, e.g. `vO = sA * vB`.
fn bank_form(op: Op) -> String {
    let info = op.info();
    let letter = |b: Option<Bank>| b.map(|b| b.letter()).unwrap_or('?');
    info.form
        .replace("{O}", &format!("{}O", letter(info.out)))
        .replace("{A}", &format!("{}A", letter(info.in1)))
        .replace("{B}", &format!("{}B", letter(info.in2)))
}

/// The name before the first `(` of the right-hand side, if the line calls a function.
fn called_function(line: &str) -> Option<&str> {
    let rhs = line.split_once('=').map(|(_, r)| r).unwrap_or(line);
    let open = rhs.find('(')?;
    let name = &rhs[..open];
    (!name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
        .then_some(name)
}

fn known_function_names() -> &'static Vec<&'static str> {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = Vec::new();
        for info in crate::op::OP_TABLE.iter() {
            let rhs = info
                .form
                .split_once(" = ")
                .map(|(_, r)| r)
                .unwrap_or(info.form);
            if let Some(open) = rhs.find('(') {
                let name = &rhs[..open];
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    })
}

/// Reads an algorithm in the readable format.
pub fn parse_algorithm(text: &str) -> Result<Algorithm, ParseError> {
    parse_algorithm_with_lines(text).map(|(a, _)| a)
}

/// Reads an algorithm and the line of each instruction (for error messages about addresses
/// found later, when the memory is known).
///
/// Blank lines and `#` comments are skipped. Each of `def Setup():`, `def Predict():` and
/// `def Learn():` may appear once, in any order; a missing one is empty.
pub fn parse_algorithm_with_lines(text: &str) -> Result<(Algorithm, SourceLines), ParseError> {
    let mut algorithm = Algorithm::default();
    let mut lines = SourceLines::default();
    let mut current: Option<ComponentFunction> = None;
    let mut seen = [false; 3];
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let err = |message: String| ParseError {
            line: line_no,
            message,
        };
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        if let Some(header) = content.strip_prefix("def ") {
            let name = header
                .trim()
                .trim_end_matches(':')
                .trim()
                .trim_end_matches("()")
                .trim();
            let function = ComponentFunction::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    err(format!(
                        "unknown function `{name}` (expected Setup, Predict or Learn)"
                    ))
                })?;
            if !header.trim_end().ends_with("():") {
                return Err(err(format!("expected `def {name}():`, found `{content}`")));
            }
            if seen[function as usize] {
                return Err(err(format!("`def {name}():` appears a second time")));
            }
            seen[function as usize] = true;
            current = Some(function);
            continue;
        }
        let Some(function) = current else {
            return Err(err(format!(
                "expected `def Setup():`, `def Predict():` or `def Learn():` before the first \
                 instruction, found `{content}`"
            )));
        };
        let instr = parse_instruction(content).map_err(err)?;
        algorithm.function_mut(function).push(instr);
        lines.lines[function as usize].push(line_no);
    }
    if seen == [false; 3] {
        return Err(ParseError {
            line: text.lines().count().max(1),
            message:
                "no `def Setup():`, `def Predict():` or `def Learn():` found: not an algorithm file"
                    .into(),
        });
    }
    Ok((algorithm, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handmade;
    use crate::layout::MemoryCounts;
    use crate::random::random_instruction;
    use crate::rng::Rng;

    #[test]
    fn prints_the_linear_regressor_as_in_the_semantics() {
        let expected = "def Setup():\n  s2 = 0.001\ndef Predict():\n  s1 = dot(v0, v1)\n\
                        def Learn():\n  s3 = s0 - s1\n  s4 = s3 * s2\n  v2 = s4 * v0\n  v1 = v1 + v2\n";
        assert_eq!(print_algorithm(&handmade::linear(0.001)), expected);
    }

    #[test]
    fn prints_the_neural_net_setup_and_heaviside() {
        let text = print_algorithm(&handmade::neural_net());
        assert!(
            text.contains("  v2 = gaussian(0.0, 0.1, n_features)\n"),
            "{text}"
        );
        assert!(
            text.contains("  m0 = gaussian(0.0, 0.1, (n_features, n_features))\n"),
            "{text}"
        );
        assert!(text.contains("  v8 = heaviside(v3, 1.0)\n"), "{text}");
        assert!(text.contains("  v3 = dot(m0, v0)\n"), "{text}");
    }

    #[test]
    fn every_op_round_trips_bit_for_bit() {
        let counts = MemoryCounts {
            scalars: 20,
            vectors: 20,
            matrices: 20,
        };
        let mut rng = Rng::new(1);
        for _ in 0..200 {
            for op in ALL_OPS {
                let mut instr = random_instruction(op, &counts, &mut rng);
                if rng.below(4) == 0 {
                    // Extreme values must survive too.
                    match op.info().data {
                        crate::op::DataKind::None => {}
                        crate::op::DataKind::Constant => instr.activation *= 1e300,
                        _ => instr.data[1] = [f32::INFINITY, -0.0, 1e-45, -3.4e38][rng.below(4)],
                    }
                }
                let text = print_instruction(&instr);
                let back = parse_instruction(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(back, instr, "{text}");
            }
        }
    }

    #[test]
    fn whole_algorithms_round_trip() {
        for a in [
            handmade::linear(0.01),
            handmade::neural_net(),
            handmade::damaged_neural_net(),
        ] {
            let text = print_algorithm(&a);
            assert_eq!(parse_algorithm(&text).unwrap(), a);
        }
    }

    #[test]
    fn parses_loose_spacing_comments_and_reports_lines() {
        let text = "# a comment\ndef Setup():\n\n  s2=0.5   # rate\ndef Predict():\n s1 = dot( v0 , v1 )\n";
        let (a, lines) = parse_algorithm_with_lines(text).unwrap();
        assert_eq!(a.setup, vec![Instruction::constant(2, 0.5)]);
        assert_eq!(
            a.predict,
            vec![Instruction::new(Op::VectorInnerProduct, 0, 1, 1)]
        );
        assert!(a.learn.is_empty());
        assert_eq!(lines.line(ComponentFunction::Predict, 0), Some(6));
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let e = parse_algorithm("def Setup():\n  s1 = foo(s2)\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unknown op `foo`"), "{}", e.message);

        let e = parse_algorithm("def Setup():\n  s1 = v1 + s2\n").unwrap_err();
        assert!(e.message.contains("fit no op"), "{}", e.message);
        assert!(e.message.contains("sO = sA + sB"), "{}", e.message);

        let e = parse_algorithm("def Learn():\n  s1 = s1000 + s2\n").unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);

        let e = parse_algorithm("def Learn():\n  s1 = s1000 + s2\n").unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);

        let e = parse_algorithm("  s1 = s2 + s3\n").unwrap_err();
        assert!(
            e.message.contains("before the first instruction"),
            "{}",
            e.message
        );

        let e = parse_algorithm("def Train():\n").unwrap_err();
        assert!(
            e.message.contains("unknown function `Train`"),
            "{}",
            e.message
        );

        let e = parse_algorithm("def Setup():\ndef Setup():\n").unwrap_err();
        assert_eq!(e.line, 2);

        let e = parse_algorithm("hello\n").unwrap_err();
        assert_eq!(e.line, 1);

        let e = parse_algorithm("").unwrap_err();
        assert!(e.message.contains("not an algorithm file"));
    }
}
