//! Parallel search (islands and parallel experiments): one thread is exactly the single-threaded
//! search of before (compared with a summary the code before threads wrote), and a thread count
//! and seed give the same summary every time.

mod common;

use amlz::experiment::config::ParallelMode;
use amlz::experiment::{self, Experiment, RunOptions};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The summary the single-threaded search wrote for `tests/data/small_demo.toml`, seed 5, before
/// threads existed (`amlz search --config tests/data/small_demo.toml --seed 5 --summary-json`).
const BEFORE: &str = include_str!("data/small_demo_seed5_before.json");

fn small_demo(mode: ParallelMode, migration_every: u64) -> Experiment {
    let mut e = experiment::config::load("tests/data/small_demo.toml".as_ref()).unwrap();
    e.parallel.mode = mode;
    e.parallel.migration_every = migration_every;
    e
}

/// The summary as JSON without what depends on timing (or on when background compiles finish)
/// and without the fields the code before threads did not write.
fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    let o = v.as_object_mut().unwrap();
    for k in ["seconds", "individuals_per_second", "seconds_to_sufficient"] {
        o.remove(k);
    }
    for k in ["threads", "ranks", "mode", "migrations"] {
        o.remove(k);
    }
    for r in o["per_experiment"].as_array_mut().unwrap() {
        let r = r.as_object_mut().unwrap();
        for k in [
            "seconds",
            "individuals_per_second",
            "jit_compiled",
            "jit_fallbacks",
            "native_evaluations",
            "lane_evaluations",
            "task_evaluations",
            "compile_cache_hit_rate",
            "jit_compile_seconds",
            "migrations",
            "hurdle_stops",
            "per_island",
        ] {
            r.remove(k);
        }
    }
    v
}

fn run(e: &Experiment, threads: usize, seed: u64) -> Value {
    let opts = RunOptions {
        seed: Some(seed),
        threads: Some(threads),
        ..RunOptions::default()
    };
    // Through the text, as the summary file is read: serde_json's float parsing is not
    // round-trip exact, so both sides of a comparison must be parsed the same way.
    let text = serde_json::to_string(&experiment::run(e, &opts, |_| {}).unwrap()).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn one_thread_is_the_search_of_before_in_both_modes() {
    let before = comparable(&serde_json::from_str(BEFORE).unwrap());
    for mode in [ParallelMode::Islands, ParallelMode::Experiments] {
        let s = run(&small_demo(mode, 1000), 1, 5);
        assert_eq!(s["threads"], 1);
        assert_eq!(s["ranks"], 1);
        assert_eq!(s["migrations"], 0);
        assert_eq!(comparable(&s), before, "{mode:?}");
    }
}

#[test]
fn parallel_experiments_give_the_sequential_result() {
    let before = comparable(&serde_json::from_str(BEFORE).unwrap());
    let s = run(&small_demo(ParallelMode::Experiments, 1000), 2, 5);
    assert_eq!(s["threads"], 2);
    assert_eq!(comparable(&s), before);
}

#[test]
fn islands_are_reproducible_and_migrate() {
    let e = small_demo(ParallelMode::Islands, 1000);
    let a = run(&e, 2, 5);
    let b = run(&e, 2, 5);
    assert_eq!(comparable(&a), comparable(&b));
    let experiments = a["experiments"].as_u64().unwrap();
    assert_eq!(
        a["individuals"],
        20_000 * experiments,
        "max_individuals counts over islands"
    );
    // 10,000 per island, a round every 1,000: round k's emigrants arrive at the end of round
    // k + 1, so rounds 1..=8 migrate (round 9's would arrive as the islands stop, and the last
    // round sends none).
    assert_eq!(a["migrations"], 8 * experiments);
    let islands = a["per_experiment"][0]["per_island"].as_array().unwrap();
    assert_eq!(islands.len(), 2);
    assert!(islands.iter().all(|i| i["individuals"] == 10_000));
    assert_ne!(
        comparable(&a)["algorithm"],
        comparable(&serde_json::from_str(BEFORE).unwrap())["algorithm"],
        "two islands are another search"
    );
}

#[test]
fn an_odd_individual_budget_is_split_over_islands() {
    let mut e = small_demo(ParallelMode::Islands, 700);
    e.max_individuals = Some(2_001);
    e.max_experiments = 1;
    let s = run(&e, 2, 9);
    assert_eq!(s["individuals"], 2_001);
    let islands = s["per_experiment"][0]["per_island"].as_array().unwrap();
    assert_eq!(islands[0]["individuals"], 1_001);
    assert_eq!(islands[1]["individuals"], 1_000);
}

#[test]
fn train_steps_count_over_islands() {
    let mut e = small_demo(ParallelMode::Islands, 500);
    e.max_individuals = None;
    e.max_train_steps = Some(300_000);
    e.max_experiments = 1;
    let a = run(&e, 2, 4);
    assert_eq!(a["per_experiment"][0]["stop_reason"], "trainsteps");
    let steps = a["train_steps"].as_u64().unwrap();
    assert!(steps >= 300_000, "{steps}");
    assert_eq!(comparable(&a), comparable(&run(&e, 2, 4)));
}

/// Ctrl-C reaches every island: a two-island search that cannot succeed, interrupted after a
/// second, ends within seconds and still writes its summary, whose last experiment stopped as
/// `interrupted`.
#[test]
fn ctrl_c_stops_every_island_and_keeps_the_results() {
    let dir = common::scratch("interrupt");
    let demo = std::fs::read_to_string("examples/demo_linear.toml").unwrap();
    let unreachable = demo.replace("sufficient_fitness = 0.9999", "sufficient_fitness = 1.0");
    assert_ne!(demo, unreachable);
    let config = common::write(&dir, "never_done.toml", &unreachable);
    let summary = dir.join("summary.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_amlz"))
        .args([
            "search",
            "--config",
            &config,
            "--threads",
            "2",
            "--seed",
            "3",
        ])
        .args(["--executor", "interp", "--max-seconds", "300", "--quiet"])
        .arg("--summary-json")
        .arg(&summary)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("the search did not stop within 30 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let experiments = s["per_experiment"].as_array().unwrap();
    assert_eq!(experiments.last().unwrap()["stop_reason"], "interrupted");
    assert_eq!(s["threads"], 2);
}
