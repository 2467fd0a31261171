//! Per-example speed of the JIT executor against the interpreter on the dead-code-eliminated
//! algorithm (the tier it replaces): the hand-made linear regressor and neural net at F=4 and
//! F=16, and random programs. Each measurement is one whole evaluation (Setup, 1000 train
//! examples, 100 validation examples); the throughput is per example (train + validation).
//!
//! `linear_F4/rust_by_hand` is the linear regressor's evaluation written by hand in Rust (the
//! same IEEE operations in the same order, no interpreter or JIT machinery) and compiled by
//! rustc: a reference for the quality of the JIT's code. Its speed is bounded by the latency of
//! the chain of dependent floating-point operations from one example's weights to the next;
//! LLVM vectorises it into `f64x2` with lane shuffles on that chain, which the JIT's scalar
//! vectors at F ≤ 4 avoid.
//!
//! Run with `cargo bench --bench jit`.

use amlz::exec::interp::{self, Memory, Program};
use amlz::exec::jit::{self as jit_executor, JitExecutor, JitProgram, PackedRows};
use amlz::exec::{Limits, NoObserver};
use amlz::task::{EvalType, Task};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::random::random_instruction_from;
use amlz_ir::{ALL_OPS, Algorithm, Layout, MemoryCounts, Op, Rng, handmade};
use amlz_jit::JitConfig;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const TRAIN: usize = 1000;
const VALID: usize = 100;

/// A linear-regression task with N(0,1) features (labels scaled down so that random programs
/// rarely stop early).
fn task(features: usize, seed: u64) -> Task {
    let mut rng = Rng::new(seed);
    let w: Vec<f64> = (0..features).map(|_| rng.gaussian(0.0, 1.0)).collect();
    let mut make = |n: usize| {
        let mut xs = Vec::with_capacity(n * features);
        let mut ys = Vec::with_capacity(n);
        for _ in 0..n {
            let x: Vec<f64> = (0..features).map(|_| rng.gaussian(0.0, 1.0)).collect();
            ys.push(x.iter().zip(&w).map(|(a, b)| a * b).sum());
            xs.extend(x);
        }
        (xs, ys)
    };
    let (train_features, train_labels) = make(TRAIN);
    let (valid_features, valid_labels) = make(VALID);
    Task {
        features,
        train_features,
        train_labels,
        valid_features,
        valid_labels,
        eval_type: EvalType::RmsError,
        max_abs_error: 100.0,
        epoch_orders: Vec::new(),
        param_seed: seed,
        data_seed: seed,
        name: format!("bench F={features}"),
    }
}

struct Prepared {
    interp: Program,
    jit: JitProgram,
}

fn prepare(executor: &mut JitExecutor, algorithm: &Algorithm, layout: Layout) -> Prepared {
    let interp = Program::new(&eliminate_dead_code(algorithm), layout).expect("valid addresses");
    let jit = executor
        .prepare(algorithm, layout, EvalType::RmsError)
        .expect("valid addresses");
    assert!(jit.is_compiled(), "{:?}", jit.fallback_reason());
    Prepared { interp, jit }
}

/// The summed fitness of `programs` on `task` (whose JIT rows `rows` holds), run by the JIT
/// (`native`) or the interpreter.
fn evaluate_all(
    programs: &[Prepared],
    task: &Task,
    rows: &PackedRows,
    memory: &mut Memory,
    native: bool,
) -> f64 {
    let mut sum = 0.0;
    for p in programs {
        let (mut rng, full, obs) = (Rng::new(1), &Limits::FULL, &mut NoObserver);
        sum += if native {
            jit_executor::evaluate(&p.jit, task, rows, memory, &mut rng, full, obs).fitness
        } else {
            interp::evaluate(&p.interp, task, memory, &mut rng, full, obs).fitness
        };
    }
    sum
}

/// The linear regressor's train loop and validation (RMS_ERROR) by hand, with learning rate
/// `lr`: `s1 = dot(v0, v1)`; Learn `s3 = s0 - s1; s4 = s3 * s2; v2 = s4 * v0; v1 = v1 + v2`.
/// Returns the final weights and the summed squared validation error (before the fitness
/// transform, which is the same per-evaluation constant work in every executor).
fn linear_native_f4(task: &Task, lr: f64) -> ([f64; 4], f64) {
    let (mut w0, mut w1, mut w2, mut w3) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (x, &y) in task.train_features.chunks_exact(4).zip(&task.train_labels) {
        let s1 = x[0] * w0 + x[1] * w1 + x[2] * w2 + x[3] * w3;
        let e = y - s1;
        if e.abs().is_nan() || e.abs() > task.max_abs_error {
            break;
        }
        let s4 = e * lr;
        w0 += s4 * x[0];
        w1 += s4 * x[1];
        w2 += s4 * x[2];
        w3 += s4 * x[3];
    }
    let mut loss = 0.0;
    for (x, &y) in task.valid_features.chunks_exact(4).zip(&task.valid_labels) {
        let e = y - (x[0] * w0 + x[1] * w1 + x[2] * w2 + x[3] * w3);
        loss += e * e;
    }
    ([w0, w1, w2, w3], loss)
}

/// Adds `linear_F4/rust_by_hand` beside the executors (see the module doc), after checking
/// that it computes the interpreter's weights bit for bit.
fn bench_rust_by_hand(c: &mut Criterion, lin: &Prepared, task: &Task) {
    let mut memory = Memory::default();
    let mut rng = Rng::new(1);
    interp::evaluate(
        &lin.interp,
        task,
        &mut memory,
        &mut rng,
        &Limits::FULL,
        &mut NoObserver,
    );
    let layout = lin.interp.layout();
    let lr = memory.values()[layout.offset(amlz_ir::Bank::Scalar, 2)];
    let v1 = layout.offset(amlz_ir::Bank::Vector, 1);
    let (w, _) = linear_native_f4(task, lr);
    let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&w), bits(&memory.values()[v1..v1 + 4]));
    let mut group = c.benchmark_group("linear_F4");
    group.throughput(Throughput::Elements((TRAIN + VALID) as u64));
    group.bench_function("rust_by_hand", |b| {
        b.iter(|| black_box(linear_native_f4(black_box(task), black_box(lr))))
    });
    group.finish();
}

fn bench_pair(c: &mut Criterion, name: &str, programs: &[Prepared], task: &Task) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(
        ((TRAIN + VALID) * programs.len()) as u64,
    ));
    let mut memory = Memory::default();
    let rows = PackedRows::default();
    // Same results first: the bench measures equal work.
    assert_eq!(
        evaluate_all(programs, task, &rows, &mut memory, false).to_bits(),
        evaluate_all(programs, task, &rows, &mut memory, true).to_bits()
    );
    group.bench_function("interpreter_dce", |b| {
        b.iter(|| {
            black_box(evaluate_all(
                programs,
                black_box(task),
                &rows,
                &mut memory,
                false,
            ))
        })
    });
    group.bench_function("jit", |b| {
        b.iter(|| {
            black_box(evaluate_all(
                programs,
                black_box(task),
                &rows,
                &mut memory,
                true,
            ))
        })
    });
    group.finish();
}

/// `count` random programs of `k` Setup, `k` Predict and `k` Learn instructions over all ops
/// (or all but the random ones; S=8, V=6, M=3) that train on `task` without stopping early.
fn random_programs(
    executor: &mut JitExecutor,
    task: &Task,
    count: usize,
    k: usize,
    with_random_ops: bool,
) -> Vec<Prepared> {
    let counts = MemoryCounts {
        scalars: 8,
        vectors: 6,
        matrices: 3,
    };
    let layout = Layout::new(task.features, counts).unwrap();
    let ops: Vec<Op> = ALL_OPS
        .iter()
        .copied()
        .filter(|&o| o != Op::NoOp && (with_random_ops || !o.is_random()))
        .collect();
    let mut rng = Rng::new(2024);
    let mut memory = Memory::default();
    let mut out = Vec::new();
    while out.len() < count {
        let algorithm = Algorithm {
            setup: (0..k)
                .map(|_| random_instruction_from(&ops, &counts, &mut rng))
                .collect(),
            predict: (0..k)
                .map(|_| random_instruction_from(&ops, &counts, &mut rng))
                .collect(),
            learn: (0..k)
                .map(|_| random_instruction_from(&ops, &counts, &mut rng))
                .collect(),
        };
        let program = Program::new(&algorithm, layout).unwrap();
        let mut r = Rng::new(1);
        let o = interp::evaluate(
            &program,
            task,
            &mut memory,
            &mut r,
            &Limits::FULL,
            &mut NoObserver,
        );
        if o.train_steps as usize == TRAIN {
            out.push(prepare(executor, &algorithm, layout));
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let mut executor = JitExecutor::new(JitConfig::default());
    for f in [4, 16] {
        let t = task(f, 7);
        let lin_layout = Layout::new(
            f,
            MemoryCounts {
                scalars: 5,
                vectors: 3,
                matrices: 0,
            },
        )
        .unwrap();
        let nn_layout = Layout::new(
            f,
            MemoryCounts {
                scalars: 5,
                vectors: 9,
                matrices: 2,
            },
        )
        .unwrap();
        let lin = [prepare(&mut executor, &handmade::linear(0.01), lin_layout)];
        bench_pair(c, &format!("linear_F{f}"), &lin, &t);
        if f == 4 {
            bench_rust_by_hand(c, &lin[0], &t);
        }
        let nn = [prepare(&mut executor, &handmade::neural_net(), nn_layout)];
        bench_pair(c, &format!("neural_net_F{f}"), &nn, &t);
        // Random programs over all ops: dominated by Gaussian fills (a logarithm and a cosine
        // per draw, the same calls in both executors).
        let random = random_programs(&mut executor, &t, 20, 10, true);
        bench_pair(c, &format!("random_K10_F{f}"), &random, &t);
        // The same without the six random ops.
        let random = random_programs(&mut executor, &t, 20, 10, false);
        bench_pair(c, &format!("random_K10_norandom_F{f}"), &random, &t);
    }
}

criterion_group! {
    name = jit;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(jit);
