//! Checkpoints and resume (SEMANTICS.md §9.7), through the library: a search interrupted by
//! Ctrl-C (the interrupt flag) after a few checkpoints and resumed from the last one, read back
//! from its JSON, reaches exactly the summary of the run that was never stopped — for one
//! thread, for islands on two threads, and for parallel experiments.

mod common;

use amlz::experiment::checkpoint::Checkpoint;
use amlz::experiment::config::ParallelMode;
use amlz::experiment::{self, Event, Experiment, RunOptions, Summary};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn small_demo(mode: ParallelMode) -> Experiment {
    let mut e = experiment::config::load("tests/data/small_demo.toml".as_ref()).unwrap();
    e.parallel.mode = mode;
    e.parallel.migration_every = 1000;
    e.sufficient_fitness = None;
    e
}

fn options(threads: usize, seed: u64) -> RunOptions {
    RunOptions {
        seed: Some(seed),
        threads: Some(threads),
        ..RunOptions::default()
    }
}

/// Runs `e` (from `resume`, if any) with a checkpoint as often as the search allows, raises
/// `flag` once `after` checkpoints were taken, and returns the summary and the last checkpoint,
/// read back from its JSON.
fn run_interrupted(
    e: &Experiment,
    opts: RunOptions,
    resume: Option<Checkpoint>,
    flag: &'static AtomicBool,
    after: usize,
) -> (Summary, Option<Checkpoint>) {
    let (summary, _, last) = run_checkpointed(e, opts, resume, flag, after);
    (summary, last)
}

/// Where a checkpoint stands: experiments drawn, then individuals of the one in progress.
fn position(c: &Checkpoint) -> (u64, u64) {
    let individuals = c.experiment.as_ref().map_or(0, |x| {
        x.islands.iter().map(|i| i.evolution.individuals).sum()
    });
    (c.run.index, individuals)
}

/// [`run_interrupted`], also returning the first checkpoint.
fn run_checkpointed(
    e: &Experiment,
    mut opts: RunOptions,
    resume: Option<Checkpoint>,
    flag: &'static AtomicBool,
    after: usize,
) -> (Summary, Option<Checkpoint>, Option<Checkpoint>) {
    flag.store(false, Ordering::SeqCst);
    opts.interrupt = Some(flag);
    opts.checkpoint_every = Some(Duration::ZERO);
    opts.resume = resume;
    let mut taken = 0;
    let mut first = None;
    let mut last = None;
    let summary = experiment::run(e, &opts, |event| {
        if let Event::Checkpoint(view) = event {
            let read_back = Checkpoint::from_json(&view.to_json()).unwrap();
            first.get_or_insert_with(|| read_back.clone());
            last = Some(read_back);
            taken += 1;
            if taken == after {
                flag.store(true, Ordering::SeqCst);
            }
        }
    })
    .unwrap();
    (summary, first, last)
}

/// Runs `e` uninterrupted, then interrupted twice (after `after.0` and `after.1` checkpoints)
/// and resumed each time, and compares.
fn assert_resumes_exactly(
    e: &Experiment,
    threads: usize,
    seed: u64,
    after: (usize, usize),
    flag: &'static AtomicBool,
) {
    let whole = experiment::run(e, &options(threads, seed), |_| {}).unwrap();
    let (first, checkpoint) = run_interrupted(e, options(threads, seed), None, flag, after.0);
    assert_eq!(
        first.per_experiment.last().unwrap().stop_reason,
        "interrupted",
        "the first run was cut short"
    );
    let (second, checkpoint) =
        run_interrupted(e, options(threads, seed), checkpoint, flag, after.1);
    assert_eq!(
        second.per_experiment.last().unwrap().stop_reason,
        "interrupted"
    );
    let from = position(checkpoint.as_ref().unwrap());
    assert!(from > (0, 0), "the checkpoint holds work done");
    let (resumed, next, _) =
        run_checkpointed(e, options(threads, seed), checkpoint, flag, usize::MAX);
    assert!(
        position(&next.unwrap()) > from,
        "the resumed run went on from the checkpoint"
    );
    assert_eq!(
        common::without_timings(resumed),
        common::without_timings(whole)
    );
}

#[test]
fn one_thread_resumes_where_it_was_interrupted() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    assert_resumes_exactly(&small_demo(ParallelMode::Islands), 1, 5, (3, 4), &FLAG);
}

/// The hurdle's window of early fitnesses is in the checkpoint: the bar after resuming is the one
/// the whole run had.
#[test]
fn islands_with_a_hurdle_resume_exactly() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    let mut e = small_demo(ParallelMode::Islands);
    e.hurdle = Some(amlz::search::HurdleSettings {
        train_examples: 10,
        percentile: 75.0,
        window: 100,
    });
    assert_resumes_exactly(&e, 2, 5, (3, 4), &FLAG);
}

#[test]
fn two_islands_resume_at_a_round_s_end() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    assert_resumes_exactly(&small_demo(ParallelMode::Islands), 2, 5, (3, 4), &FLAG);
}

#[test]
fn parallel_experiments_resume_at_a_batch_boundary() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    let mut e = small_demo(ParallelMode::Experiments);
    e.max_experiments = 12;
    // Checkpoints come after each batch of two: the runs stop in the third batch and the fifth.
    assert_resumes_exactly(&e, 2, 5, (2, 2), &FLAG);
}

#[test]
fn a_checkpoint_of_another_seed_or_a_finished_run_is_refused() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    let e = small_demo(ParallelMode::Islands);
    let (_, checkpoint) = run_interrupted(&e, options(1, 5), None, &FLAG, 2);
    let other_seed = RunOptions {
        resume: checkpoint,
        ..options(1, 6)
    };
    let err = experiment::run(&e, &other_seed, |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot resume: the checkpoint is of seed 5, not 6"
    );
    let (_, last) = run_interrupted(&e, options(1, 5), None, &FLAG, usize::MAX);
    let finished = RunOptions {
        resume: last,
        ..options(1, 5)
    };
    let err = experiment::run(&e, &finished, |_| {}).unwrap_err();
    assert!(err.to_string().contains("the run had finished"), "{err}");
    assert_eq!(
        Checkpoint::from_json(b"{\"format\": 9}")
            .unwrap_err()
            .to_string(),
        "checkpoint format 9, this amlz reads format 2"
    );
}
