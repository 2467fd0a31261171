//! Programs that write `s0` (the label) or `v0` (the features) run as the original runs them
//! (SEMANTICS.md §1, §4): the write holds for the rest of that component function, and the loop
//! sets `v0 = x` and `s0` (0 before Predict, the label before Learn) again before the next one.
//! Both executors are checked against values worked out by hand.

use amlz::eval::{Limits, Trace};
use amlz::interp::{self, Memory, Program};
use amlz::jit_executor::{self, JitExecutor};
use amlz::task::Task;
use amlz::task::generate::{Example, TaskSettings, fixed};
use amlz_ir::{Algorithm, Bank, Layout, Rng, parse_algorithm};
use amlz_jit::JitConfig;

/// Predict doubles the features in `v0` before using them; Learn reads the label from `s0`, then
/// overwrites `s0` with the scaled error and uses it.
const PROGRAM: &str = "\
def Setup():
  s2 = 0.5
def Predict():
  v0 = v0 + v0
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s0 = s3 * s2
  v2 = s0 * v0
  v1 = v1 + v2
";

fn example(features: &[f64], label: f64) -> Example {
    Example {
        features: features.to_vec(),
        label,
    }
}

/// Train (1, 0) → 1 and (0, 1) → 2; validate (1, 1) → 2.
fn task() -> Task {
    let train = [example(&[1.0, 0.0], 1.0), example(&[0.0, 1.0], 2.0)];
    let valid = [example(&[1.0, 1.0], 2.0)];
    fixed(&train, &valid, &TaskSettings::default(), 7).unwrap()
}

/// What both executors must compute, by hand:
/// - example 1: Predict sees v0 = (2, 0), s1 = 0. Learn sees v0 = (1, 0) and s0 = 1:
///   s3 = 1, s0 = 0.5, v2 = (0.5, 0), v1 = (0.5, 0).
/// - example 2: Predict sees v0 = (0, 2), s1 = 0. Learn sees v0 = (0, 1) and s0 = 2:
///   s3 = 2, s0 = 1, v2 = (0, 1), v1 = (0.5, 1).
/// - validation: Predict sees v0 = (2, 2), s1 = 3; error 2 - 3 = -1, RMS 1, fitness
///   1 - (2/π) atan(1) = 0.5. Memory is left as the last Predict wrote it: v0 = (2, 2), s0 = 0.
fn check(memory: &Memory, layout: &Layout, fitness: f64, trace: &Trace, executor: &str) {
    assert_eq!(fitness, 0.5, "{executor}: fitness");
    assert_eq!(trace.train, [0.0, 0.0], "{executor}: train predictions");
    assert_eq!(trace.valid, [3.0], "{executor}: validation predictions");
    let m = memory.values();
    let scalar = |a: usize| m[layout.offset(Bank::Scalar, a)];
    let vector = |a: usize| {
        let o = layout.offset(Bank::Vector, a);
        [m[o], m[o + 1]]
    };
    assert_eq!(
        [scalar(0), scalar(1), scalar(2), scalar(3)],
        [0.0, 3.0, 0.5, 2.0],
        "{executor}: s0..s3"
    );
    assert_eq!(vector(0), [2.0, 2.0], "{executor}: v0");
    assert_eq!(vector(1), [0.5, 1.0], "{executor}: v1");
    assert_eq!(vector(2), [0.0, 1.0], "{executor}: v2");
}

fn algorithm() -> (Algorithm, Layout) {
    let algorithm = parse_algorithm(PROGRAM).unwrap();
    let layout = Layout::new(2, algorithm.min_counts()).unwrap();
    (algorithm, layout)
}

#[test]
fn the_interpreter_runs_writes_to_the_label_and_the_features() {
    let (algorithm, layout) = algorithm();
    let program = Program::new(&algorithm, layout).unwrap();
    let mut memory = Memory::new(&layout);
    let mut trace = Trace::default();
    let task = task();
    let out = interp::evaluate(
        &program,
        &task,
        &mut memory,
        &mut Rng::new(1),
        &Limits::FULL,
        &mut trace,
    );
    assert_eq!(out.train_steps, 2);
    check(&memory, &layout, out.fitness, &trace, "interpreter");
}

#[test]
fn compiled_code_runs_writes_to_the_label_and_the_features() {
    let (algorithm, layout) = algorithm();
    let task = task();
    let mut jit = JitExecutor::new(JitConfig::default());
    let prepared = jit.prepare(&algorithm, layout, task.eval_type).unwrap();
    if jit.setup_error().is_none() {
        assert!(prepared.is_compiled(), "{:?}", prepared.fallback_reason());
    }
    let mut memory = Memory::new(&layout);
    let mut trace = Trace::default();
    let out = jit_executor::evaluate(
        &prepared,
        &task,
        &mut memory,
        &mut Rng::new(1),
        &Limits::FULL,
        &mut trace,
    );
    check(&memory, &layout, out.fitness, &trace, "JIT");
}
