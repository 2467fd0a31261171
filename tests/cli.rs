//! The command line as a user meets it: outputs, and one-line errors with exit codes on bad input.

mod common;

use common::{amlz, assert_one_line_error, scratch, write};

#[test]
fn eval_prints_fitness_and_json() {
    let out = amlz(&[
        "eval",
        "--algorithm",
        "examples/linear.txt",
        "--tasks",
        "examples/linear_tasks.toml",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert!(v["fitness"].as_f64().unwrap() > 0.999);
    assert_eq!(v["per_task"].as_array().unwrap().len(), 10);

    let out = amlz(&[
        "eval",
        "--algorithm",
        "examples/neural_net.txt",
        "--tasks",
        "examples/csv_task.toml",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fitness"), "{text}");
}

#[test]
fn eval_rejects_bad_algorithm_files() {
    let d = scratch("alg");
    let tasks = "examples/linear_tasks.toml";
    // (file, contents, pieces of the error after the file's path)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "malformed.txt",
            "def Setup():\n  s2 = 0.1\ndef Predict()\n  s1 = dot(v0, v1)\n",
            &[":3:", "def Predict():"],
        ),
        (
            "unknown_op.txt",
            "def Setup():\n  s2 = 0.1\ndef Predict():\n  s1 = softmax(v0)\n",
            &[":4:", "unknown op `softmax`"],
        ),
        (
            "range.txt",
            "def Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  v1 = v1 + v5000\n",
            &[":4:", "v5000", "out of range"],
        ),
        ("binary.txt", "\u{0}\u{1}garbage\n", &[":1:"]),
    ];
    for (name, contents, pieces) in cases {
        let f = write(&d, name, contents);
        let expected: Vec<&str> = std::iter::once(f.as_str())
            .chain(pieces.iter().copied())
            .collect();
        assert_one_line_error(
            &amlz(&["eval", "--algorithm", &f, "--tasks", tasks]),
            &expected,
        );
    }

    let missing = d.join("nope.txt").display().to_string();
    assert_one_line_error(
        &amlz(&["eval", "--algorithm", &missing, "--tasks", tasks]),
        &[&missing, "cannot read"],
    );
}

#[test]
fn eval_rejects_bad_task_files() {
    let d = scratch("tasks");
    let alg = "examples/linear.txt";
    let f = write(
        &d,
        "missing.toml",
        "[[tasks]]\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 10\n",
    );
    assert_one_line_error(
        &amlz(&["eval", "--algorithm", alg, "--tasks", &f]),
        &[&f, "kind"],
    );

    let f = write(&d, "kind.toml", "[[tasks]]\nkind = \"quadratic\"\n");
    assert_one_line_error(
        &amlz(&["eval", "--algorithm", alg, "--tasks", &f]),
        &[&f, ":2", "quadratic", "scalar_linear_regression"],
    );

    write(&d, "train.csv", "a,b,label\n1,2,3\n4,5\n");
    write(&d, "valid.csv", "a,b,label\n1,2,3\n");
    let f = write(
        &d,
        "csv.toml",
        "[[tasks]]\nkind = \"csv\"\ntrain_file = \"train.csv\"\nvalid_file = \"valid.csv\"\neval_type = \"rms_error\"\n",
    );
    assert_one_line_error(
        &amlz(&["eval", "--algorithm", alg, "--tasks", &f]),
        &["train.csv:3", "2 fields", "3"],
    );
}

#[test]
fn search_config_errors_name_the_key_and_allowed_values() {
    let d = scratch("cfg");
    let demo = std::fs::read_to_string("examples/demo_linear.toml").unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "\"VECTOR_SUM\"]\npredict",
            "\"VECTOR_SUMM\"]\npredict",
            &["ops.setup", "VECTOR_SUMM", "SCALAR_SUM"],
        ),
        (
            "scalars = 4",
            "scalars = 1",
            &["memory.scalars", "allowed: 2 to"],
        ),
        ("setup = 10", "setup = -3", &["sizes.setup", "-3"]),
        (
            "setup = 10",
            "setup = { init = 5, min = 6, max = 4 }",
            &["sizes.setup", "min size 6 is larger than max size 4"],
        ),
        (
            "features_size = 4\nnum_train_examples = 100",
            "features_size = 65\nnum_train_examples = 100",
            &["65", "features_size"],
        ),
        (
            "initial_population = \"random\"",
            "initial_population = \"lucky\"",
            &["search.initial_population", "no_op, random"],
        ),
    ];
    for (i, (from, to, pieces)) in cases.iter().enumerate() {
        assert!(demo.contains(from), "{from}");
        let f = write(&d, &format!("bad{i}.toml"), &demo.replacen(from, to, 1));
        let out = amlz(&["search", "--config", &f, "--max-seconds", "5"]);
        assert_one_line_error(&out, pieces);
    }
    // An empty op list for a function that random algorithms must fill.
    let f = write(&d, "empty_ops.toml", &demo.replacen("predict = [\"SCALAR_CONST_SET\", \"VECTOR_INNER_PRODUCT\", \"SCALAR_DIFF\", \"SCALAR_PRODUCT\", \"SCALAR_VECTOR_PRODUCT\", \"VECTOR_SUM\"]", "predict = []", 1));
    assert_one_line_error(
        &amlz(&["search", "--config", &f]),
        &["ops.predict", "empty"],
    );
}

#[test]
fn search_config_errors_name_the_line_of_the_value() {
    let d = scratch("cfg-lines");
    let demo = std::fs::read_to_string("examples/demo_linear.toml").unwrap();
    // (from, to, the line's marker in the new text, pieces after "FILE:LINE: ")
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "num_tasks = 10\n",
            "num_tasks = 10\n\n[[search_tasks]]\nkind = \"unit_test_ones\"\nfeatures_size = 65\nnum_train_examples = 5\nnum_valid_examples = 5\n",
            "features_size = 65",
            &["[[search_tasks]] #2", "features_size", "65"],
        ),
        (
            "setup = 10",
            "setup = {\n  init = 5,\n  min = 6,\n  max = 4,\n}",
            "min = 6",
            &["sizes.setup", "min size 6 is larger than max size 4"],
        ),
        (
            "learn = [\"SCALAR_CONST_SET\", ",
            "learn = [\n  \"SCALAR_CONST_SET\",\n  \"VECTOR_NORMM\",\n  ",
            "VECTOR_NORMM",
            &["ops.learn", "unknown op \"VECTOR_NORMM\"", "SCALAR_SUM"],
        ),
        (
            "scalars = 4",
            "scalars = 1",
            "scalars = 1",
            &["memory.scalars", "allowed: 2 to"],
        ),
        (
            "progress_every = 10000",
            "progress_every = 10000\nprogress = 1",
            "progress = 1",
            &["unknown field `progress`"],
        ),
    ];
    for (i, (from, to, marker, pieces)) in cases.iter().enumerate() {
        assert!(demo.contains(from), "{from}");
        let text = demo.replacen(from, to, 1);
        let line = 1 + text.lines().position(|l| l.contains(marker)).unwrap();
        let f = write(&d, &format!("bad{i}.toml"), &text);
        let at = format!("{f}:{line}: ");
        let expected: Vec<&str> = std::iter::once(at.as_str())
            .chain(pieces.iter().copied())
            .collect();
        let out = amlz(&["search", "--config", &f, "--max-seconds", "5"]);
        assert_one_line_error(&out, &expected);
    }
}

#[test]
fn search_writes_summary_and_a_reloadable_algorithm() {
    let d = scratch("search");
    let demo = std::fs::read_to_string("examples/demo_linear.toml").unwrap();
    let small = demo
        .replace("population_size = 1000", "population_size = 50")
        .replace("max_individuals = 1000000", "max_individuals = 3000")
        .replace("max_experiments = 0", "max_experiments = 2")
        .replace("num_tasks = 100", "num_tasks = 5");
    let cfg = write(&d, "small.toml", &small);
    let summary = d.join("summary.json").display().to_string();
    let out_dir = d.join("out").display().to_string();
    let out = amlz(&[
        "search",
        "--config",
        &cfg,
        "--seed",
        "3",
        "--summary-json",
        &summary,
        "--out",
        &out_dir,
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    for key in [
        "seed",
        "experiments",
        "individuals",
        "train_steps",
        "seconds",
        "individuals_per_second",
        "fec_hit_rate",
        "best_search_fitness",
        "best_select_fitness",
        "final_fitness",
        "seconds_to_sufficient",
        "algorithm",
    ] {
        assert!(v.get(key).is_some(), "summary lacks {key}");
    }
    assert_eq!(v["seed"], 3);
    assert_eq!(v["experiments"], 2);
    assert_eq!(v["individuals"], 6000);
    let alg = format!("{out_dir}/best_algorithm.txt");
    let out = amlz(&[
        "eval",
        "--algorithm",
        &alg,
        "--tasks",
        "examples/linear_tasks.toml",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert!(v["fitness"].as_f64().is_some());
}

#[test]
fn eval_gives_the_same_output_on_every_executor() {
    for (alg, tasks) in [
        ("examples/linear.txt", "examples/linear_tasks.toml"),
        ("examples/neural_net.txt", "examples/nn_tasks.toml"),
        ("examples/neural_net.txt", "examples/csv_task.toml"),
    ] {
        let outputs: Vec<Vec<u8>> = ["interp", "jit", "auto"]
            .iter()
            .map(|e| {
                let out = amlz(&[
                    "eval",
                    "--algorithm",
                    alg,
                    "--tasks",
                    tasks,
                    "--json",
                    "--executor",
                    e,
                ]);
                assert!(
                    out.status.success(),
                    "{e}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            })
            .collect();
        assert_eq!(
            outputs[0], outputs[1],
            "{alg} on {tasks}: jit differs from interp"
        );
        assert_eq!(
            outputs[0], outputs[2],
            "{alg} on {tasks}: auto differs from interp"
        );
    }
}
