use super::*;

/// The config files of `examples/` (the others there are task files).
const EXAMPLES: [(&str, &str); 2] = [
    (
        "examples/demo_linear.toml",
        include_str!("../../../examples/demo_linear.toml"),
    ),
    (
        "examples/nonlinear_nn.toml",
        include_str!("../../../examples/nonlinear_nn.toml"),
    ),
];

/// Values substituted for each key's value to make variants, valid and not.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "5",
    "11",
    "1001",
    "10001",
    "4294967296",
    "0.5",
    "1.5",
    "-0.5",
    "nan",
    "true",
    "\"x\"",
    "\"random\"",
    "\"no_op\"",
    "\"linear\"",
    "\"neural_net\"",
    "\"damaged_neural_net\"",
    "\"mean\"",
    "\"csv\"",
    "\"unit_test_ones\"",
    "[]",
    "[1, 2, 3]",
    "[\"SCALAR_SUM\"]",
    "[\"MATRIX_SUM\", \"SCALAR_SUM\", \"SCALAR_SUM\"]",
    "[\"SCALAR_SUMM\"]",
    "[\"identity\", \"insert_instruction\"]",
    "[\"alter_paramm\"]",
    "{ init = 5, min = 6, max = 4 }",
    "{ init = 3, min = 1, max = 5 }",
    "{ init = 0, min = 1, max = 5 }",
    "{ init = 1, min = 1, max = 10001 }",
    "{ init = 1, min = 1 }",
    "{ init = 1, min = 1, max = 1, step = 2 }",
];

/// Single-line edits of `text`: `(line, replacement)` for each line deleted, each value replaced
/// by each of [`VALUES`], an unknown key added after each line.
fn edits(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        out.push((i, String::new()));
        out.push((i, format!("{line}\nunknown_key = 1")));
        if let Some((key, _)) = line.split_once('=')
            && !line.trim_start().starts_with(['#', '['])
        {
            out.extend(VALUES.iter().map(|v| (i, format!("{key}= {v}"))));
        }
    }
    out
}

/// `text` with `edits` applied.
fn apply(text: &str, edits: &[&(usize, String)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (i, replacement) in edits {
        lines[*i] = replacement.clone();
    }
    lines.join("\n") + "\n"
}

/// The message with `SOURCE:LINE:` turned into `SOURCE:`.
fn without_line(message: &str, source: &str) -> String {
    let Some(rest) = message.strip_prefix(source) else {
        return message.to_string();
    };
    let rest = match rest.strip_prefix(':') {
        Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => {
            r.trim_start_matches(|c: char| c.is_ascii_digit())
        }
        _ => rest,
    };
    format!("{source}{rest}")
}

/// Compares the new parser with the old on `text`; returns a description of a difference.
fn compare(text: &str) -> Option<String> {
    let (new, old) = (
        parse(text, "f", Path::new("b")),
        legacy::parse(text, "f", Path::new("b")),
    );
    match (&new, &old) {
        (Ok(n), Ok(o)) if format!("{n:?}") == format!("{o:?}") => None,
        (Err(n), Err(o)) if without_line(&n.message, "f") == without_line(&o.message, "f") => None,
        // The old parser ignored unknown keys in a size table; the new rejects them.
        (Err(n), Ok(_)) if n.message.contains("unknown field `step`") => None,
        (Err(n), Err(o)) if o.message.contains("untagged enum RawSize") => {
            println!("untagged: {} -> {}", o.message, n.message);
            None
        }
        _ => Some(format!("new {new:?}\nold {old:?}")),
    }
}

#[test]
fn the_new_parser_agrees_with_the_old_on_examples_and_their_variants() {
    let (mut ok, mut err, mut lines) = (0, 0, 0);
    let mut texts: Vec<String> = EXAMPLES.iter().map(|(_, t)| t.to_string()).collect();
    for (_, t) in EXAMPLES {
        let edits = edits(t);
        texts.extend(edits.iter().map(|e| apply(t, &[e])));
        // Pairs of edits, to see that the first problem reported is the same.
        for k in 0..3000usize {
            let (a, b) = (
                &edits[(k * 7919) % edits.len()],
                &edits[(k * 104_729) % edits.len()],
            );
            if a.0 != b.0 {
                texts.push(apply(t, &[a, b]));
            }
        }
    }
    for text in &texts {
        if let Some(diff) = compare(text) {
            panic!("{diff}\nfor\n{text}");
        }
        match (
            parse(text, "f", Path::new("b")),
            legacy::parse(text, "f", Path::new("b")),
        ) {
            (Ok(_), _) => ok += 1,
            (Err(n), Err(o)) => {
                err += 1;
                if n.message != o.message {
                    lines += 1;
                    println!("line: {} | {}", o.message, n.message);
                }
            }
            (Err(_), Ok(_)) => err += 1,
        }
    }
    println!("{ok} valid, {err} invalid, {lines} with another line");
    assert!(ok > 100 && err > 1000, "{ok} valid, {err} invalid");
}
