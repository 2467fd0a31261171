//! Multi-task lanes: the interpreter's and the JIT's side-by-side evaluation of several tasks
//! gives each task exactly what evaluating it alone gives (outcome, predictions, final memory,
//! random stream), whichever lanes stop early. Random programs are checked by `amlz verify` (tests/
//! jit_differential.rs); these are the hand-made programs on generated tasks, as a search meets
//! them.

use amlz::exec::interp::{self, LaneMemory, Memory, Program};
use amlz::exec::jit::{self, JitExecutor, PackedRows};
use amlz::exec::{Limits, Outcome, Trace};
use amlz::task::generate::{
    Sizes, TaskSettings, scalar_2layer_nn_regression, scalar_linear_regression,
};
use amlz::task::{EvalType, Task};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{Algorithm, Layout, Rng, handmade};
use amlz_jit::JitConfig;

fn tasks(nn: bool, settings: &TaskSettings, count: u64) -> Vec<Task> {
    let sizes = Sizes {
        features: 4,
        num_train: 60,
        num_valid: 30,
    };
    (0..count)
        .map(|i| match nn {
            true => scalar_2layer_nn_regression(sizes, settings, 1000 + i, 2000 + i),
            false => scalar_linear_regression(sizes, settings, 1000 + i, 2000 + i),
        })
        .collect()
}

fn assert_lanes_match(algorithm: &Algorithm, tasks: &[Task], limits: &Limits) -> Vec<Outcome> {
    let layout = Layout::new(4, algorithm.min_counts()).unwrap();
    let program = Program::new(algorithm, layout).unwrap();
    let refs: Vec<&Task> = tasks.iter().collect();
    let mut rngs: Vec<Rng> = (0..tasks.len() as u64).map(Rng::new).collect();
    let mut out = vec![Outcome::default(); tasks.len()];
    let mut traces = vec![Trace::default(); tasks.len()];
    let mut lanes = LaneMemory::default();
    interp::evaluate_lanes(
        &program,
        &refs,
        &mut lanes,
        &mut rngs,
        limits,
        &mut out,
        &mut traces,
    );
    for (lane, task) in tasks.iter().enumerate() {
        let mut memory = Memory::new(&layout);
        let mut rng = Rng::new(lane as u64);
        let mut trace = Trace::default();
        let alone = interp::evaluate(&program, task, &mut memory, &mut rng, limits, &mut trace);
        assert_eq!(out[lane], alone, "lane {lane}: outcome");
        assert_eq!(traces[lane], trace, "lane {lane}: predictions");
        assert_eq!(rngs[lane], rng, "lane {lane}: random stream");
        let same_memory = lanes
            .lane(&layout, lane)
            .iter()
            .zip(memory.values())
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same_memory, "lane {lane}: final memory");
    }
    for width in [2, 3, 8] {
        assert_native_lanes_match(algorithm, tasks, limits, width, &out);
    }
    out
}

/// The JIT's multi-lane code, `width` lanes per call, against the interpreter on each task
/// alone (the dead-code-eliminated program, which the JIT runs); `expected` holds the
/// outcomes.
fn assert_native_lanes_match(
    algorithm: &Algorithm,
    tasks: &[Task],
    limits: &Limits,
    width: usize,
    expected: &[Outcome],
) {
    let layout = Layout::new(4, algorithm.min_counts()).unwrap();
    let live = eliminate_dead_code(algorithm);
    let program = Program::new(&live, layout).unwrap();
    let mut executor = JitExecutor::new(JitConfig::default());
    let native = executor
        .prepare_lanes(algorithm, layout, tasks[0].eval_type, width)
        .unwrap();
    let code = native.lanes().expect("multi-lane code");
    assert_eq!(code.code().lanes(), width);
    let refs: Vec<&Task> = tasks.iter().collect();
    let packed: Vec<PackedRows> = tasks.iter().map(|_| PackedRows::default()).collect();
    let rows: Vec<&PackedRows> = packed.iter().collect();
    let mut rngs: Vec<Rng> = (0..tasks.len() as u64).map(Rng::new).collect();
    let mut out = vec![Outcome::default(); tasks.len()];
    let mut traces = vec![Trace::default(); tasks.len()];
    let mut memories = Vec::new();
    jit::evaluate_lanes(
        &native,
        &refs,
        &rows,
        &mut memories,
        &mut rngs,
        limits,
        &mut out,
        &mut traces,
    );
    assert_eq!(out, expected, "{width} native lanes: outcomes");
    for (lane, task) in tasks.iter().enumerate() {
        let mut memory = Memory::new(&layout);
        let mut rng = Rng::new(lane as u64);
        let mut trace = Trace::default();
        let alone = interp::evaluate(&program, task, &mut memory, &mut rng, limits, &mut trace);
        let at = format!("{width} native lanes, lane {lane}");
        assert_eq!(out[lane], alone, "{at}: outcome");
        assert_eq!(traces[lane], trace, "{at}: predictions");
        assert_eq!(rngs[lane], rng, "{at}: random stream");
        let same_memory = memories[lane]
            .values()
            .iter()
            .zip(memory.values())
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same_memory, "{at}: final memory");
    }
}

#[test]
fn hand_made_programs_in_lanes_match_each_task_alone() {
    let settings = TaskSettings {
        num_train_epochs: 3,
        ..TaskSettings::default()
    };
    for nn in [false, true] {
        let tasks = tasks(nn, &settings, 10);
        for algorithm in [handmade::linear(0.01), handmade::neural_net()] {
            for limits in [Limits::FULL, Limits::prefix(10, 10), Limits::UNTRAINED] {
                assert_lanes_match(&algorithm, &tasks, &limits);
            }
        }
    }
}

#[test]
fn lanes_that_stop_early_leave_the_others_running() {
    // Error bounds from tight to loose: lanes stop training at different examples and epochs,
    // or not at all.
    let settings = TaskSettings {
        num_train_epochs: 2,
        ..TaskSettings::default()
    };
    let mut tasks = tasks(false, &settings, 16);
    for (i, task) in tasks.iter_mut().enumerate() {
        task.max_abs_error = 0.5 + i as f64;
    }
    let out = assert_lanes_match(&handmade::linear(0.01), &tasks, &Limits::FULL);
    let stopped = out.iter().filter(|o| o.train_steps < 120).count();
    assert!(
        stopped > 0 && stopped < out.len(),
        "some lanes stop early, some run to the end: {out:?}"
    );
}

#[test]
fn accuracy_lanes_match_each_task_alone() {
    let settings = TaskSettings {
        eval_type: EvalType::Accuracy,
        num_train_epochs: 2,
        ..TaskSettings::default()
    };
    let tasks = tasks(false, &settings, 5);
    assert_lanes_match(&handmade::linear(0.05), &tasks, &Limits::FULL);
}
