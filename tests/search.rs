//! The search end to end, through the library: reproducibility and that it finds what it should.

mod common;

use amlz::experiment::{self, RunOptions};
use common::without_timings;

fn small_demo(extra: &[(&str, &str)]) -> experiment::Experiment {
    let mut text = std::fs::read_to_string("examples/demo_linear.toml").unwrap();
    for (from, to) in [
        ("population_size = 1000", "population_size = 100"),
        ("max_individuals = 1000000", "max_individuals = 20000"),
        ("max_experiments = 0", "max_experiments = 2"),
        ("num_tasks = 100", "num_tasks = 10"),
    ]
    .iter()
    .chain(extra)
    {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    experiment::config::parse(&text, "test", std::path::Path::new(".")).unwrap()
}

#[test]
fn same_seed_same_result() {
    let e = small_demo(&[]);
    let opts = RunOptions {
        seed: Some(11),
        ..RunOptions::default()
    };
    let a = without_timings(experiment::run(&e, &opts, |_| {}).unwrap());
    let b = without_timings(experiment::run(&e, &opts, |_| {}).unwrap());
    assert_eq!(a, b);
    assert_eq!(a.individuals, 40_000);
    assert!(
        a.fec_hit_rate > 0.1,
        "FEC finds repeats: {}",
        a.fec_hit_rate
    );
    let c = without_timings(
        experiment::run(
            &e,
            &RunOptions {
                seed: Some(12),
                ..opts
            },
            |_| {},
        )
        .unwrap(),
    );
    assert_ne!(a.algorithm, c.algorithm, "another seed, another search");
}

#[test]
fn a_linear_initial_population_is_kept_and_scored_on_select_and_final_tasks() {
    let e = small_demo(&[
        (
            "initial_population = \"random\"",
            "initial_population = \"linear\"",
        ),
        ("scalars = 4", "scalars = 5"),
        ("sufficient_fitness = 0.9999", "sufficient_fitness = 0.99"),
    ]);
    let s = experiment::run(
        &e,
        &RunOptions {
            seed: Some(5),
            ..RunOptions::default()
        },
        |_| {},
    )
    .unwrap();
    // Starting from SGD with learning rate 0.01 (fitness about 0.6 on 100-example tasks), the
    // search raises the learning rate until the select tasks are solved.
    assert!(s.best_select_fitness > 0.99, "{s:?}");
    assert!(s.best_search_fitness > 0.99, "{s:?}");
    assert!(s.final_fitness > 0.9, "{s:?}");
    assert!(s.seconds_to_sufficient.is_some());
    assert_eq!(s.experiments as usize, s.per_experiment.len());
}

#[test]
fn a_config_that_cannot_hold_the_initial_population_is_rejected() {
    let text = std::fs::read_to_string("examples/demo_linear.toml")
        .unwrap()
        .replace(
            "initial_population = \"random\"",
            "initial_population = \"neural_net\"",
        );
    let err = experiment::config::parse(&text, "demo", std::path::Path::new(".")).unwrap_err();
    assert!(
        err.message.contains("search.initial_population"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("at least 5 scalars, 9 vectors, 2 matrices"),
        "{}",
        err.message
    );
}

/// The summary of `e` searched with `seed` on `threads` (`None`: every core) by `executor`.
fn search_on(
    e: &experiment::Experiment,
    seed: u64,
    threads: Option<usize>,
    executor: amlz::exec::ExecutorChoice,
) -> experiment::Summary {
    let opts = RunOptions {
        seed: Some(seed),
        threads,
        executor,
        ..RunOptions::default()
    };
    experiment::run(e, &opts, |_| {}).unwrap()
}

/// The whole summary agrees across executors: the search's evaluations and the select and final
/// evaluations, which run on the chosen executor too.
#[test]
fn every_executor_finds_the_same_algorithms() {
    use amlz::exec::ExecutorChoice;
    let e = small_demo(&[("max_individuals = 20000", "max_individuals = 5000")]);
    let run = |executor| without_timings(search_on(&e, 21, None, executor));
    let interp = run(ExecutorChoice::Interp);
    assert_eq!(interp, run(ExecutorChoice::Jit), "forced JIT");
    assert_eq!(interp, run(ExecutorChoice::Auto), "auto");
}

/// The summary counts evaluations by tier: the interpreter runs the demo's ten tasks of one shape
/// in lanes, every one of them; the forced JIT runs every one natively.
#[test]
fn the_summary_counts_evaluations_by_tier() {
    use amlz::exec::ExecutorChoice;
    let e = small_demo(&[("max_individuals = 20000", "max_individuals = 3000")]);
    let run = |executor| search_on(&e, 4, Some(1), executor).per_experiment[0].clone();
    let interp = run(ExecutorChoice::Interp);
    assert!(interp.task_evaluations > 0);
    assert_eq!(interp.lane_evaluations, interp.task_evaluations);
    assert_eq!(interp.native_evaluations, 0);
    assert_eq!((interp.jit_compiled, interp.jit_compile_seconds), (0, 0.0));
    let jit = run(ExecutorChoice::Jit);
    assert_eq!(jit.task_evaluations, interp.task_evaluations);
    assert_eq!(
        jit.native_evaluations + jit.lane_evaluations,
        jit.task_evaluations
    );
    assert!(jit.compile_cache_hit_rate > 0.9, "{jit:?}");
    assert!(
        jit.jit_compiled > 0 && jit.jit_compile_seconds > 0.0,
        "{jit:?}"
    );
}

/// The structural shortcut (a candidate whose key, live Predict and Learn and Setup's effect, was
/// fingerprinted before is not run again) changes no result, and it does fire.
#[test]
fn the_structural_shortcut_changes_nothing_but_the_work() {
    let e = small_demo(&[]);
    let run = |no_shortcut| {
        let opts = RunOptions {
            seed: Some(13),
            threads: Some(1),
            no_shortcut,
            ..RunOptions::default()
        };
        experiment::run(&e, &opts, |_| {}).unwrap()
    };
    let hits = |s: &amlz::experiment::Summary| -> u64 {
        s.per_experiment
            .iter()
            .flat_map(|r| &r.per_island)
            .map(|i| i.shortcut_hits)
            .sum()
    };
    let (on, off) = (run(false), run(true));
    assert!(hits(&on) > 1000, "the shortcut fires: {}", hits(&on));
    assert_eq!(hits(&off), 0);
    assert_eq!(without_timings(on), without_timings(off));
}

/// With a hurdle, the search is still reproducible and the same on every executor; the hurdle
/// stops some candidates but not all, and without the table it stops none.
#[test]
fn a_hurdle_stops_weak_candidates_reproducibly() {
    use amlz::exec::ExecutorChoice;
    let plain = small_demo(&[("max_individuals = 20000", "max_individuals = 5000")]);
    let mut hurdled = plain.clone();
    hurdled.hurdle = Some(amlz::search::HurdleSettings {
        train_examples: 10,
        percentile: 75.0,
        window: 100,
    });
    let run = |e: &experiment::Experiment, executor| {
        let opts = RunOptions {
            seed: Some(23),
            executor,
            ..RunOptions::default()
        };
        without_timings(experiment::run(e, &opts, |_| {}).unwrap())
    };
    let stops = |s: &amlz::experiment::Summary| -> u64 {
        s.per_experiment.iter().map(|r| r.hurdle_stops).sum()
    };
    let a = run(&hurdled, ExecutorChoice::Interp);
    assert!(
        stops(&a) > 100 && stops(&a) < a.individuals / 2,
        "{} of {}",
        stops(&a),
        a.individuals
    );
    assert_eq!(a, run(&hurdled, ExecutorChoice::Interp), "reproducible");
    assert_eq!(a, run(&hurdled, ExecutorChoice::Jit), "the same on the JIT");
    assert_eq!(stops(&run(&plain, ExecutorChoice::Interp)), 0);
}
