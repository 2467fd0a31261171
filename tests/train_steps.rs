//! `max_train_steps` means what it means in the original AutoML-Zero: every train example started
//! counts (fingerprints, the example that triggers an early stop, the initial population), and the
//! limit is checked once the initial population is evaluated and after each sweep of P children.

use amlz::experiment::{self, RunOptions};

/// A search whose every candidate behaves the same, so its train steps can be counted by hand:
/// the only op is VECTOR_SUM, which writes no scalar, so every prediction (s1) is 0 and every
/// fingerprint is equal (one FEC miss, then hits); on `unit_test_increment` (example `k` has
/// label `k`) with `max_abs_error = 2.5` the error first exceeds the bound at example 3, so a
/// full evaluation starts 4 train examples and stops early, while the fingerprint's 3 train
/// examples end before that.
fn config(population: usize, stop: &str) -> experiment::Experiment {
    let text = format!(
        r#"
seed = 7

[memory]
scalars = 2
vectors = 2
matrices = 1

[ops]
setup = ["VECTOR_SUM"]
predict = ["VECTOR_SUM"]
learn = ["VECTOR_SUM"]

[sizes]
setup = 1
predict = 1
learn = 1

[search]
population_size = {population}
tournament_size = 2
initial_population = "random"
mutate_prob = 1.0
mutations = ["randomize_instruction"]
progress_every = 0
{stop}

[fec]
num_train_examples = 3
num_valid_examples = 2

[experiments]
max_experiments = 1

[[search_tasks]]
kind = "unit_test_increment"
features_size = 2
num_train_examples = 20
num_valid_examples = 5
num_tasks = 1
max_abs_error = 2.5
eval_type = "rms_error"

[[select_tasks]]
kind = "unit_test_zeros"
features_size = 2
num_train_examples = 5
num_valid_examples = 5
num_tasks = 1
eval_type = "rms_error"

[[final_tasks]]
kind = "unit_test_zeros"
features_size = 2
num_train_examples = 5
num_valid_examples = 5
num_tasks = 1
eval_type = "rms_error"
"#
    );
    experiment::config::parse(&text, "train_steps", std::path::Path::new(".")).unwrap()
}

/// What the original counts for `population` candidates followed by sweeps of `population`
/// children until the count reaches `max_train_steps`: (individuals, train steps).
fn original_count(population: u64, max_train_steps: u64) -> (u64, u64) {
    const FINGERPRINT: u64 = 3; // the fingerprint's train prefix, no early stop within it
    const FULL: u64 = 4; // examples 0, 1, 2 and the one whose error (3 > 2.5) stops training
    // The first candidate misses the FEC cache; every later one hits it.
    let mut individuals = population;
    let mut steps = FINGERPRINT + FULL + (population - 1) * FINGERPRINT;
    while steps < max_train_steps {
        individuals += population;
        steps += population * FINGERPRINT;
    }
    (individuals, steps)
}

#[test]
fn the_hand_counted_setting_counts_as_assumed() {
    // Without a train-step limit: 10 candidates, one full evaluation.
    let s = experiment::run(
        &config(4, "max_individuals = 10"),
        &RunOptions {
            threads: Some(1),
            ..RunOptions::default()
        },
        |_| {},
    )
    .unwrap();
    assert_eq!(s.individuals, 10);
    assert_eq!(s.train_steps, 3 + 4 + 9 * 3);
    assert!((s.fec_hit_rate - 0.9).abs() < 1e-12, "{}", s.fec_hit_rate);
}

#[test]
fn max_train_steps_stops_where_the_original_stops() {
    for (population, max) in [(4, 41), (4, 40), (4, 1), (3, 100), (5, 23)] {
        let (individuals, steps) = original_count(population, max);
        let s = experiment::run(
            &config(
                population as usize,
                &format!("max_train_steps = {max}\nmax_individuals = 1000"),
            ),
            &RunOptions {
                threads: Some(1),
                ..RunOptions::default()
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(
            (s.individuals, s.train_steps),
            (individuals, steps),
            "P = {population}, max_train_steps = {max}"
        );
        assert_eq!(s.per_experiment[0].stop_reason, "trainsteps");
    }
    // Hand-checked: P = 4 makes 16 steps (3 + 4 + 3 × 3), then 12 per sweep: 28, 40, 52.
    assert_eq!(original_count(4, 41), (16, 52));
    assert_eq!(original_count(4, 40), (12, 40));
    assert_eq!(original_count(4, 1), (4, 16));
}
