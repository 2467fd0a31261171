//! Run directories (`amlz search --out`) and `amlz plot`: the files, their content, refusals and
//! one-line errors.

mod common;

use amlz::plot::{Marks, SIZE, render};
use amlz::run_dir::{self, ProgressRecord, RunStatus};
use common::{amlz, assert_one_line_error, scratch, stdout_of, write};
use std::path::{Path, PathBuf};

/// The demo made small: 2 experiments of 2000 individuals, a report every 250.
fn small_config(dir: &Path) -> String {
    let demo = std::fs::read_to_string("examples/demo_linear.toml").unwrap();
    let small = demo
        .replace("population_size = 1000", "population_size = 50")
        .replace("progress_every = 10000", "progress_every = 250")
        .replace("max_individuals = 1000000", "max_individuals = 2000")
        .replace("max_experiments = 0", "max_experiments = 2")
        .replace("num_tasks = 100", "num_tasks = 5");
    write(dir, "small.toml", &small)
}

/// Runs the small search into `dir/out` and returns the run directory.
fn small_run(name: &str) -> PathBuf {
    let d = scratch(name);
    let cfg = small_config(&d);
    let out = d.join("out");
    let args = ["search", "--config", &cfg, "--seed", "3", "--threads", "1"];
    let run = amlz(&[&args[..], &["--quiet", "--out", out.to_str().unwrap()]].concat());
    stdout_of(&run);
    out
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn out_writes_config_progress_best_and_summary() {
    let out = small_run("files");
    let info = run_dir::read_info(&out).unwrap();
    assert_eq!(info.status, RunStatus::Finished);
    assert_eq!((info.seed, info.threads), (3, 1));
    // The config as run: the command line's seed and threads folded in.
    let text = std::fs::read_to_string(out.join("config.toml")).unwrap();
    let e = amlz::experiment::config::parse(&text, "config.toml", &out).unwrap();
    assert_eq!((e.seed, e.parallel.threads), (3, Some(1)));

    let rows: Vec<ProgressRecord> = run_dir::read_progress(&out).unwrap();
    assert_eq!(rows.len(), 16, "2 experiments × 2000 / 250 reports");
    for pair in rows.windows(2) {
        assert!(pair[1].run_individuals > pair[0].run_individuals);
        if pair[0].experiment == pair[1].experiment {
            assert!(pair[1].individuals > pair[0].individuals);
        }
    }
    assert_eq!(rows.last().unwrap().run_individuals, 4000);
    assert!(rows.iter().all(|r| r.fec_hit_rate.is_some()));
    assert!(rows.iter().any(|r| r.fec_hit_rate.unwrap() > 0.0));

    let summary = json(&out.join("summary.json"));
    let best = json(&out.join("best.json"));
    let best_txt = std::fs::read_to_string(out.join("best.txt")).unwrap();
    assert_eq!(best_txt, summary["algorithm"].as_str().unwrap());
    assert_eq!(best["final_fitness"], summary["final_fitness"]);
    assert_eq!(best["select_fitness"], summary["best_select_fitness"]);
    assert_eq!(
        best_txt,
        std::fs::read_to_string(out.join("best_algorithm.txt")).unwrap()
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "no temporary file is left: {names:?}"
    );

    // best.txt scores on T_final (as a task file, with the scoring seed) what the summary says.
    let final_tasks = "[[tasks]]\nkind = \"scalar_linear_regression\"\nfeatures_size = 4\n\
        num_train_examples = 1000\nnum_valid_examples = 100\nnum_tasks = 5\n\
        eval_type = \"rms_error\"\ndata_seeds = [1000000]\nparam_seeds = [2000000]\n";
    let tasks = write(out.parent().unwrap(), "final.toml", final_tasks);
    let scoring_seed = (3u64 ^ 0x00c0_ffee_5eed).to_string();
    let alg = out.join("best.txt").display().to_string();
    let eval = amlz(&[
        "eval",
        "--algorithm",
        &alg,
        "--tasks",
        &tasks,
        "--seed",
        &scoring_seed,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&eval)).unwrap();
    assert_eq!(v["fitness"], summary["final_fitness"]);
}

#[test]
fn a_used_or_foreign_directory_is_refused() {
    let out = small_run("refuse");
    let cfg = out.parent().unwrap().join("small.toml");
    let again = |dir: &Path| {
        amlz(&[
            "search",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ])
    };
    assert_one_line_error(
        &again(&out),
        &["holds a finished run", "new or empty directory"],
    );
    let foreign = out.parent().unwrap().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    assert_one_line_error(&again(&foreign), &["not an amlz run directory"]);
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1, "untouched");
    assert_one_line_error(&again(&cfg), &["is not a directory"]);
}

/// Reads a PNG's width and height, checking its signature and header chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn plot_writes_a_png_of_the_run() {
    let out = small_run("plot");
    let run = amlz(&["plot", out.to_str().unwrap()]);
    let printed = stdout_of(&run);
    let png = out.join("progress.png");
    assert_eq!(printed.trim(), png.display().to_string());
    assert_eq!(png_size(&std::fs::read(&png).unwrap()), SIZE);
    let elsewhere = out.parent().unwrap().join("elsewhere.png");
    let run = amlz(&[
        "plot",
        out.to_str().unwrap(),
        "--output",
        elsewhere.to_str().unwrap(),
    ]);
    stdout_of(&run);
    assert_eq!(png_size(&std::fs::read(&elsewhere).unwrap()), SIZE);
}

/// Pure red pixels: only the sufficient-fitness mark is drawn in that colour.
fn red_pixels(png: &[u8]) -> usize {
    let mut reader = png::Decoder::new(png).read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut rgb).unwrap();
    rgb.chunks(3).filter(|p| p == &[255, 0, 0]).count()
}

#[test]
fn the_sufficient_fitness_mark_is_drawn_only_when_reached() {
    let record = |experiment, individuals, run_individuals, best| ProgressRecord {
        experiment,
        individuals,
        run_individuals,
        elapsed_s: individuals as f64 / 1000.0,
        run_seconds: run_individuals as f64 / 1000.0,
        individuals_per_second: 1000.0,
        best,
        mean: best / 2.0,
        stdev: 0.1,
        fec_hit_rate: Some(0.5),
        compile_cache_hit_rate: None,
    };
    let records = [
        record(1, 1000, 1000, 0.2),
        record(1, 2000, 2000, 0.5),
        record(2, 1000, 3000, 0.6),
        record(2, 2000, 4000, 0.99),
    ];
    let mut marks = Marks {
        title: "test".into(),
        sufficient_fitness: Some(0.9),
        sufficient_at: None,
    };
    let plain = render(&records, &marks).unwrap();
    assert_eq!(png_size(&plain), SIZE);
    assert_eq!(red_pixels(&plain), 0);
    marks.sufficient_at = Some((4000, 4.0));
    let marked = render(&records, &marks).unwrap();
    assert!(red_pixels(&marked) > 500, "{}", red_pixels(&marked));
}

#[test]
fn plot_errors_are_one_line_with_exit_code_2() {
    let d = scratch("plot-errors");
    let missing = d.join("missing");
    let out = amlz(&["plot", missing.to_str().unwrap()]);
    assert_one_line_error(&out, &["missing", "no such directory"]);
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = amlz(&["plot", empty.to_str().unwrap()]);
    assert_one_line_error(&out, &["progress.jsonl", "cannot read"]);
    std::fs::write(empty.join("progress.jsonl"), "").unwrap();
    let out = amlz(&["plot", empty.to_str().unwrap()]);
    assert_one_line_error(&out, &["progress.jsonl", "no progress reports yet"]);
    let good = r#"{"experiment":1,"individuals":10,"run_individuals":10,"elapsed_s":0.1,"run_seconds":0.1,"individuals_per_second":100.0,"best":0.5,"mean":0.2,"stdev":0.1,"fec_hit_rate":null,"compile_cache_hit_rate":null}"#;
    std::fs::write(empty.join("progress.jsonl"), format!("{good}\nnot json\n")).unwrap();
    let out = amlz(&["plot", empty.to_str().unwrap()]);
    assert_one_line_error(&out, &["progress.jsonl:2:", "not a progress record"]);
    // A last line still being written is left out.
    std::fs::write(empty.join("progress.jsonl"), format!("{good}\n{{\"exper")).unwrap();
    stdout_of(&amlz(&["plot", empty.to_str().unwrap()]));
}

#[test]
fn a_run_that_cannot_start_leaves_no_run_directory() {
    let d = scratch("abandon");
    let demo = std::fs::read_to_string("examples/demo_linear.toml").unwrap();
    let (head, rest) = demo.split_at(demo.find("[[select_tasks]]").unwrap());
    let head = &head[..head.find("[[search_tasks]]").unwrap()];
    let missing = "[[search_tasks]]\nkind = \"csv\"\ntrain_file = \"missing.csv\"\nvalid_file = \"missing.csv\"\n";
    let cfg = write(&d, "bad.toml", &format!("{head}{missing}{rest}"));
    let out = d.join("out");
    let run = amlz(&["search", "--config", &cfg, "--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("missing.csv"));
    assert!(
        !out.exists(),
        "the directory it made is gone, so --out can be used again"
    );
}

/// Islands report the FEC and compiled-code hit rates over every island with their progress.
#[test]
fn two_islands_report_their_hit_rates() {
    let d = scratch("islands");
    let cfg = small_config(&d);
    let out = d.join("out");
    let args = ["search", "--config", &cfg, "--seed", "3", "--threads", "2"];
    stdout_of(&amlz(
        &[&args[..], &["--quiet", "--out", out.to_str().unwrap()]].concat(),
    ));
    let rows = run_dir::read_progress(&out).unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.fec_hit_rate.is_some_and(|h| h > 0.0)));
    assert!(rows.iter().all(|r| r.compile_cache_hit_rate.is_some()));
}
