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

/// The `{:#?}` of the examples' [`Experiment`]s as the parser before the split into per-table
/// functions gave them (plus the defaults of `threads` and `[parallel]`, added since) (each parsed with its path as the source and `examples` as the base).
const GOLDEN: [&str; 2] = [
    include_str!("testdata/nonlinear_nn.debug"),
    include_str!("testdata/builtin_demo.debug"),
];

/// Asserts that `experiment` prints as `golden`, showing the first line that differs.
fn assert_golden(experiment: &Experiment, golden: &str, name: &str) {
    let now = format!("{experiment:#?}\n");
    if let Some((i, (a, b))) = now
        .lines()
        .zip(golden.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!(
            "{name} parses differently at line {}: {a:?}, was {b:?}",
            i + 1
        );
    }
    assert_eq!(now.lines().count(), golden.lines().count(), "{name}");
}

#[test]
fn the_examples_and_the_demo_parse_as_before() {
    let (path, text) = EXAMPLES[1];
    let nonlinear = parse(text, path, Path::new("examples")).unwrap();
    assert_golden(&nonlinear, GOLDEN[0], path);
    assert_golden(&demo(), GOLDEN[1], DEMO_CONFIG_NAME);
    let (path, text) = EXAMPLES[0];
    let linear = parse(text, DEMO_CONFIG_NAME, Path::new(".")).unwrap();
    assert_golden(&linear, GOLDEN[1], path);
}

#[test]
fn edited_examples_parse_or_fail_in_one_line_without_panicking() {
    let (mut ok, mut err) = (0, 0);
    for (_, t) in EXAMPLES {
        let edits = edits(t);
        let singles = edits.iter().map(|e| apply(t, &[e]));
        let pairs = (0..3000usize).map(|k| {
            let a = &edits[(k * 7919) % edits.len()];
            let b = &edits[(k * 104_729) % edits.len()];
            apply(t, &[a, b])
        });
        for text in singles.chain(pairs) {
            match parse(&text, "f.toml", Path::new(".")) {
                Ok(_) => ok += 1,
                Err(e) => {
                    err += 1;
                    assert!(e.message.starts_with("f.toml"), "{}", e.message);
                    assert_eq!(e.message.lines().count(), 1, "{}", e.message);
                }
            }
        }
    }
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

/// The demo with `extra` appended (top-level keys go first, before any table).
fn demo_with(top: &str, extra: &str) -> Result<Experiment, ConfigError> {
    parse(
        &format!("{top}\n{DEMO_CONFIG}\n{extra}"),
        "t.toml",
        Path::new("."),
    )
}

#[test]
fn threads_and_parallel_are_read_and_checked() {
    let e = demo_with(
        "threads = 3",
        "[parallel]\nmode = \"experiments\"\nmigration_every = 50\nmigration_size = 7",
    )
    .unwrap();
    assert_eq!(
        e.parallel,
        ParallelSettings {
            threads: Some(3),
            mode: ParallelMode::Experiments,
            migration_every: 50,
            migration_size: Some(7),
        }
    );
    let err = |top: &str, extra: &str| demo_with(top, extra).unwrap_err().message;
    assert_eq!(
        err("threads = 0", ""),
        "t.toml:1: threads: 0 is not allowed (allowed: 1 to 4096)"
    );
    let lines = DEMO_CONFIG.lines().count();
    assert_eq!(
        err("", "[parallel]\nmode = \"rings\""),
        format!(
            "t.toml:{}: parallel.mode: unknown value \"rings\" (allowed: islands, experiments)",
            lines + 4
        )
    );
    assert_eq!(
        err("", "[parallel]\nmigration_every = 0"),
        format!(
            "t.toml:{}: parallel.migration_every: 0 is not allowed (allowed: 1 or more)",
            lines + 4
        )
    );
    assert!(err("", "[parallel]\nmigration_size = 1001").contains(
        "parallel.migration_size: 1001 is not allowed (allowed: 0 to search.population_size, 1000)"
    ));
    assert!(err("", "[parallel]\nislands = 2").contains("unknown field `islands`"));
}

#[test]
fn the_hurdle_is_read_and_checked() {
    let e = demo_with("", "[hurdle]\ntrain_examples = 20\npercentile = 50").unwrap();
    assert_eq!(
        e.hurdle,
        Some(HurdleSettings {
            train_examples: 20,
            percentile: 50.0,
            window: 1000,
        })
    );
    assert_eq!(demo().hurdle, None, "off unless the table is there");
    let err = |extra: &str| demo_with("", extra).unwrap_err().message;
    let line = DEMO_CONFIG.lines().count() + 4;
    assert_eq!(
        err("[hurdle]\npercentile = 0"),
        format!(
            "t.toml:{line}: hurdle.percentile: 0 is not allowed (allowed: more than 0, at most 100)"
        )
    );
    assert_eq!(
        err("[hurdle]\nwindow = 0"),
        format!("t.toml:{line}: hurdle.window: 0 is not allowed (allowed: 1 or more)")
    );
    assert!(err("[hurdle]\nepochs = 2").contains("unknown field `epochs`"));
}
