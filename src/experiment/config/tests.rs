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

/// The error of the demo config with `from` replaced by `to`.
fn demo_error(from: &str, to: &str) -> (String, String) {
    assert!(DEMO_CONFIG.contains(from), "{from}");
    let text = DEMO_CONFIG.replacen(from, to, 1);
    match parse(&text, "c.toml", Path::new(".")) {
        Ok(_) => panic!("no error for {to}"),
        Err(e) => (e.message, text),
    }
}

/// `c.toml:N: ` where line N is the first to contain `marker`.
fn at_line_of(text: &str, marker: &str) -> String {
    let i = text.lines().position(|l| l.contains(marker)).expect(marker);
    format!("c.toml:{}: ", i + 1)
}

#[test]
fn an_error_in_a_task_table_names_the_line_of_its_key_or_header() {
    let second = "[[search_tasks]]  # second\nkind = \"unit_test_ones\"\nfeatures_size = 2\n\
                  num_train_examples = 5\nnum_valid_examples = 5\nnum_tasks = 2\n\
                  data_seeds = [\n  1,\n  2,\n  3,\n]\n\n[[select_tasks]]";
    let (e, text) = demo_error("[[select_tasks]]", second);
    let expected = format!(
        "{}[[search_tasks]] #2: `data_seeds` has 3 seeds but `num_tasks` is 2",
        at_line_of(&text, "data_seeds = [")
    );
    assert!(e.starts_with(&expected), "{e}");

    let missing = second.replace("features_size = 2\n", "");
    let (e, text) = demo_error("[[select_tasks]]", &missing);
    let expected = format!(
        "{}[[search_tasks]] #2: missing `features_size`",
        at_line_of(&text, "# second")
    );
    assert!(e.starts_with(&expected), "{e}");

    let (e, text) = demo_error("num_tasks = 10", "num_tasks = 10\nnum_train_epochs = 0");
    let expected = format!(
        "{}[[search_tasks]] #1: `num_train_epochs` must be at least 1",
        at_line_of(&text, "num_train_epochs")
    );
    assert_eq!(e, expected.trim_end());
}

#[test]
fn a_size_error_names_the_line_of_the_bound_at_fault() {
    let (e, text) = demo_error(
        "setup = 10",
        "setup = {\n  init = 5,\n  min = 6,\n  max = 4,\n}",
    );
    let expected = at_line_of(&text, "min = 6").to_string()
        + "sizes.setup: min size 6 is larger than max size 4";
    assert_eq!(e, expected);

    let (e, text) = demo_error(
        "predict = 2\n",
        "predict.init = 2\npredict.min = 1\npredict.max = 20000\n",
    );
    let expected = at_line_of(&text, "predict.max").to_string()
        + "sizes.predict: max size 20000 is not allowed (allowed: 0 to 10000)";
    assert_eq!(e, expected);

    let (e, text) = demo_error("learn = 8", "learn = { init = 9, min = 1, max = 8 }");
    assert!(e.starts_with(&at_line_of(&text, "learn = {")), "{e}");
    assert!(e.ends_with("init size 9 is outside min..max (1..8)"), "{e}");

    let (e, text) = demo_error(
        "learn = 8",
        "learn = { init = 1, min = 1, max = 8, mx = 9 }",
    );
    assert!(e.starts_with(&at_line_of(&text, "mx = 9")), "{e}");
    assert!(e.contains("unknown field `mx`"), "{e}");
}

#[test]
fn an_op_list_over_several_lines_names_the_line_of_the_op() {
    let setup =
        "setup = [\n  \"SCALAR_CONST_SET\",\n  \"VECTOR_INNER_PRODUCT\",\n  \"SCALAR_DIFFF\",\n]";
    let (e, text) = demo_error(
        "setup = [\"SCALAR_CONST_SET\", \"VECTOR_INNER_PRODUCT\", \"SCALAR_DIFF\", \"SCALAR_PRODUCT\", \"SCALAR_VECTOR_PRODUCT\", \"VECTOR_SUM\"]",
        setup,
    );
    assert!(
        e.starts_with(
            &(at_line_of(&text, "SCALAR_DIFFF").to_string()
                + "ops.setup: unknown op \"SCALAR_DIFFF\" (allowed: ")
        ),
        "{e}"
    );

    let text = DEMO_CONFIG
        .replacen("matrices = 1", "matrices = 0", 1)
        .replacen(
            "learn = [\"SCALAR_CONST_SET\",",
            "learn = [\n\"SCALAR_CONST_SET\",\n\"MATRIX_SUM\",",
            1,
        );
    let e = parse(&text, "c.toml", Path::new(".")).unwrap_err().message;
    let expected = at_line_of(&text, "\"MATRIX_SUM\"").to_string()
        + "ops.learn: MATRIX_SUM needs matrices but memory.matrices is 0";
    assert_eq!(e, expected);

    let (e, text) = demo_error("mutations = [", "mutations = [\n\"identity\",\n\"swap\",");
    assert!(
        e.starts_with(
            &(at_line_of(&text, "\"swap\"").to_string()
                + "search.mutations: unknown mutation \"swap\"")
        ),
        "{e}"
    );
}

#[test]
fn lines_are_found_after_commented_headers_and_left_out_for_defaults() {
    // `[memory]  # S, V, M ...`: a comment after the header (the old text scan missed these).
    let (e, text) = demo_error("scalars = 4", "scalars = 1");
    assert!(
        e.starts_with(
            &(at_line_of(&text, "scalars = 1").to_string()
                + "memory.scalars: 1 is not allowed (allowed: 2 to ")
        ),
        "{e}"
    );
    // The default tournament size (10) exceeds P: no line to point at.
    let text = DEMO_CONFIG
        .replacen("tournament_size = 10\n", "", 1)
        .replacen("population_size = 1000", "population_size = 5", 1);
    let e = parse(&text, "c.toml", Path::new(".")).unwrap_err().message;
    assert_eq!(
        e,
        "c.toml: search.tournament_size: 10 is not allowed (allowed: 1 to population_size = 5)"
    );
    // An unknown key, in a table and in a task table, by name and line.
    let (e, text) = demo_error("mutate_prob = 0.9", "mutate_prob = 0.9\nmutate_rate = 0.1");
    assert!(
        e.starts_with(
            &(at_line_of(&text, "mutate_rate").to_string() + "unknown field `mutate_rate`")
        ),
        "{e}"
    );
    let (e, text) = demo_error("num_tasks = 10", "num_tasks = 10\nnum_task = 1");
    assert!(
        e.starts_with(
            &(at_line_of(&text, "num_task = 1").to_string() + "unknown field `num_task`")
        ),
        "{e}"
    );
}
