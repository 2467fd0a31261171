//! The benchmark suite (`amlz bench`): its report's shape, in the library and on the command line.

mod common;

use amlz::bench::{SuiteSettings, run_suite};
use common::{amlz, assert_one_line_error, stdout_of};
use serde_json::Value;

/// Asserts `v` is a suite report: the three keys, per-example rows of every program at F=4 and
/// F=16 with positive interpreter times, and six searches with positive, finite ind/s.
fn assert_report_shape(v: &Value) {
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    let rows = v["per_example_ns"].as_array().unwrap();
    for program in ["linear", "nn", "random"] {
        for features in [4, 16] {
            let row = |executor: &str| {
                rows.iter().find(|r| {
                    r["program"] == program
                        && r["features"] == features
                        && r["executor"] == executor
                })
            };
            let interp = row("interp").unwrap_or_else(|| panic!("{program} F={features}"));
            assert!(interp["ns"].as_f64().unwrap() > 0.0, "{interp}");
            let lanes = row("lanes").unwrap_or_else(|| panic!("{program} F={features} lanes"));
            assert!(lanes["ns"].as_f64().unwrap() > 0.0, "{lanes}");
            // The JIT's row is there; its time is a number, or null where the JIT cannot run.
            let jit = row("jit").unwrap();
            assert!(
                jit["ns"].is_null() || jit["ns"].as_f64().unwrap() > 0.0,
                "{jit}"
            );
        }
    }
    let compile = &v["compile_latency_us"];
    assert!(compile["median"].is_null() || compile["median"].as_f64().unwrap() > 0.0);
    assert_eq!(compile["per_program"].as_array().unwrap().len(), 6);
    let search = v["search"].as_array().unwrap();
    assert_eq!(search.len(), 6);
    for config in ["demo", "nonlinear"] {
        for executor in ["interp", "jit", "auto"] {
            let s = search
                .iter()
                .find(|s| s["config"] == config && s["executor"] == executor)
                .unwrap_or_else(|| panic!("{config} {executor}"));
            let ips = s["individuals_per_second"].as_f64().unwrap();
            assert!(ips.is_finite() && ips > 0.0, "{s}");
        }
    }
}

#[test]
fn a_tiny_suite_reports_every_figure() {
    let settings = SuiteSettings {
        seconds: 0.1,
        repeats: 1,
        tasks: 2,
        train_examples: 50,
        valid_examples: 10,
        random_programs: 2,
    };
    let report = run_suite(&settings).unwrap();
    assert_report_shape(&serde_json::to_value(&report).unwrap());
    for s in &report.search {
        // Each search evolved within its time (the clock, which also covers building the
        // search's tasks, is checked between individuals) and says for how long.
        assert!(s.seconds > 0.0 && s.seconds <= s.wall_seconds, "{s:?}");
        assert!(s.wall_seconds < 10.0, "{s:?}");
    }
    let table = report.to_table();
    for piece in ["ns per example", "compile µs", "individuals/s", "nonlinear"] {
        assert!(table.contains(piece), "{piece:?} not in\n{table}");
    }
}

#[test]
fn bench_json_prints_one_object() {
    let out = amlz(&["bench", "--json", "--seconds", "0.2"]);
    let text = stdout_of(&out);
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");
    let v: Value = serde_json::from_str(&text).expect("stdout is one JSON object");
    assert_report_shape(&v);
}

#[test]
fn bench_rejects_bad_seconds() {
    for bad in ["-1", "0", "nan", "inf"] {
        let out = amlz(&["bench", "--seconds", bad]);
        assert_one_line_error(&out, &["--seconds", "positive"]);
    }
}

#[test]
fn bench_subcommands_still_parse() {
    // `costs` and `break-even` stay subcommands; the suite's flags do not go with them.
    let out = amlz(&["bench", "costs", "--help"]);
    assert!(out.status.success());
    let out = amlz(&["bench", "--json", "break-even"]);
    assert!(!out.status.success());
}
