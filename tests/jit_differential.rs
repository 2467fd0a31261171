//! Differential tests of the JIT executor against the interpreter: the hand-made algorithms on
//! generated tasks, and a small `amlz verify` run over random algorithms of all 65 ops.

use amlz::exec::interp::{self, Memory, Program};
use amlz::exec::jit::{self as jit_executor, JitExecutor, PackedRows};
use amlz::exec::{Limits, Trace};
use amlz::task::{EvalType, Task};
mod common;

use amlz::verify::{self, VerifyConfig};
use amlz_ir::{Algorithm, Layout, MemoryCounts, Rng, handmade};
use amlz_jit::JitConfig;

fn task(features: usize, n: usize, eval_type: EvalType, seed: u64) -> Task {
    common::linear_task(features, n, eval_type, 100.0, seed)
}

fn assert_same(algorithm: &Algorithm, counts: MemoryCounts, task: &Task) {
    assert!(compare(algorithm, counts, task).0 > 0.0);
}

/// Runs both executors and asserts equal fitness, train steps, predictions, memory and random
/// stream; returns the fitness and the train steps.
fn compare(algorithm: &Algorithm, counts: MemoryCounts, task: &Task) -> (f64, u64) {
    let layout = Layout::new(task.features, counts).unwrap();
    let program = Program::new(algorithm, layout).unwrap();
    let mut executor = JitExecutor::new(JitConfig::default());
    let jit = executor.prepare(algorithm, layout, task.eval_type).unwrap();
    assert!(jit.is_compiled(), "{:?}", jit.fallback_reason());
    let mut mem_i = Memory::default();
    let mut mem_j = Memory::default();
    let (mut ti, mut tj) = (Trace::default(), Trace::default());
    let (mut ri, mut rj) = (Rng::new(9), Rng::new(9));
    let oi = interp::evaluate(&program, task, &mut mem_i, &mut ri, &Limits::FULL, &mut ti);
    let oj = jit_executor::evaluate(
        &jit,
        task,
        &PackedRows::default(),
        &mut mem_j,
        &mut rj,
        &Limits::FULL,
        &mut tj,
    );
    assert_eq!(oi.fitness.to_bits(), oj.fitness.to_bits());
    assert_eq!(oi.train_steps, oj.train_steps);
    let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&ti.train), bits(&tj.train));
    assert_eq!(bits(&ti.valid), bits(&tj.valid));
    assert_eq!(bits(mem_i.values()), bits(mem_j.values()));
    assert_eq!(ri, rj);
    (oi.fitness, oi.train_steps as u64)
}

#[test]
fn early_stop_bounds_match_the_interpreter() {
    let counts = MemoryCounts {
        scalars: 5,
        vectors: 3,
        matrices: 0,
    };
    let mut t = task(4, 200, EvalType::RmsError, 5);
    // A learning rate that diverges to inf and then NaN within the first examples.
    let diverging = handmade::linear(30.0);
    let mut steps = Vec::new();
    for bound in [f64::NAN, f64::INFINITY, 1e300, 100.0, 2.0, 0.5, 1e-9] {
        t.max_abs_error = bound;
        steps.push(compare(&diverging, counts, &t).1);
        compare(&handmade::linear(0.01), counts, &t);
    }
    // The bounds do stop training at different examples (the comparison is not vacuous), and
    // a NaN bound stops only at a NaN error, as an infinite one does.
    assert!(steps.windows(2).any(|w| w[0] != w[1]), "{steps:?}");
    assert_eq!(steps[0], steps[1]);
}

#[test]
fn hand_made_algorithms_match_the_interpreter() {
    let lin_counts = MemoryCounts {
        scalars: 5,
        vectors: 3,
        matrices: 0,
    };
    let nn_counts = MemoryCounts {
        scalars: 5,
        vectors: 9,
        matrices: 2,
    };
    for f in [1, 2, 3, 4, 7, 16, 32] {
        for eval_type in [EvalType::RmsError, EvalType::Accuracy] {
            let t = task(f, 100, eval_type, 42 + f as u64);
            assert_same(&handmade::linear(0.01), lin_counts, &t);
            assert_same(&handmade::neural_net(), nn_counts, &t);
        }
    }
}

#[test]
fn a_program_prepared_for_another_eval_type_falls_back_and_is_counted() {
    let t = task(4, 100, EvalType::Accuracy, 3);
    let counts = MemoryCounts {
        scalars: 5,
        vectors: 3,
        matrices: 0,
    };
    let layout = Layout::new(4, counts).unwrap();
    let algorithm = handmade::linear(0.01);
    let mut executor = JitExecutor::new(JitConfig::default());
    let jit = executor
        .prepare(&algorithm, layout, EvalType::RmsError)
        .unwrap();
    let before = jit_executor::fallback_evaluations();
    let mut memory = Memory::default();
    let o = jit_executor::evaluate(
        &jit,
        &t,
        &PackedRows::default(),
        &mut memory,
        &mut Rng::new(1),
        &Limits::FULL,
        &mut Trace::default(),
    );
    assert!(jit_executor::fallback_evaluations() > before);
    let program = Program::new(&algorithm, layout).unwrap();
    let i = interp::evaluate(
        &program,
        &t,
        &mut memory,
        &mut Rng::new(1),
        &Limits::FULL,
        &mut Trace::default(),
    );
    assert_eq!(o, i);
}

#[test]
fn prefixes_and_untrained_limits_match() {
    let t = task(8, 60, EvalType::RmsError, 5);
    let counts = MemoryCounts {
        scalars: 5,
        vectors: 9,
        matrices: 2,
    };
    let layout = Layout::new(8, counts).unwrap();
    let algorithm = handmade::neural_net();
    let program = Program::new(&algorithm, layout).unwrap();
    let mut executor = JitExecutor::new(JitConfig::default());
    let jit = executor.prepare(&algorithm, layout, t.eval_type).unwrap();
    for limits in [
        Limits::prefix(10, 10),
        Limits::UNTRAINED,
        Limits::prefix(0, 0),
        Limits::FULL,
    ] {
        let rows = PackedRows::default();
        let mut mi = Memory::default();
        let mut mj = Memory::default();
        let (mut ti, mut tj) = (Trace::default(), Trace::default());
        let oi = interp::evaluate(&program, &t, &mut mi, &mut Rng::new(4), &limits, &mut ti);
        let oj =
            jit_executor::evaluate(&jit, &t, &rows, &mut mj, &mut Rng::new(4), &limits, &mut tj);
        assert_eq!((oi, ti), (oj, tj), "{limits:?}");
        assert_eq!(mi.values(), mj.values(), "{limits:?}");
    }
}

#[test]
fn random_algorithms_match_the_interpreter() {
    let config = VerifyConfig {
        programs: if cfg!(debug_assertions) { 2000 } else { 10000 },
        seed: 7,
        features: vec![1, 2, 3, 4, 8, 16, 32],
        ir_verifier: true,
        ..VerifyConfig::default()
    };
    assert_verifies(&config);
}

/// Code without matrices at F ≤ 4 keeps vectors as scalar values (no `f64x2` chunks): a
/// separate lowering path, checked here on its own.
#[test]
fn random_scalar_vector_algorithms_match_the_interpreter() {
    let ops = amlz_ir::ALL_OPS
        .iter()
        .copied()
        .filter(|op| {
            let info = op.info();
            *op != amlz_ir::Op::NoOp
                && ![info.in1, info.in2, info.out].contains(&Some(amlz_ir::Bank::Matrix))
        })
        .collect();
    let config = VerifyConfig {
        programs: if cfg!(debug_assertions) { 1000 } else { 5000 },
        seed: 8,
        features: vec![1, 2, 3, 4],
        ops,
        ir_verifier: true,
        ..VerifyConfig::default()
    };
    assert_verifies(&config);
}

/// Runs `verify` with `config` and asserts no mismatch and no fallback, printing any failure.
fn assert_verifies(config: &VerifyConfig) {
    let report = verify::run(config, |_| {});
    for f in &report.failures {
        eprintln!("{}", f.report);
    }
    eprintln!("{}", report.summary());
    assert_eq!(report.mismatches, 0, "{}", report.summary());
    assert_eq!(report.fallbacks, 0, "{}", report.summary());
}
