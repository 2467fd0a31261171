//! Differential fuzzing of the JIT against the interpreter (`amlz verify`).
//!
//! Each case is a random algorithm over the chosen ops (random ops included) with a random
//! feature size, random memory counts and random data — special values included, so that
//! programs produce NaN and infinities and training stops early — run on random tasks (RMS_ERROR
//! and ACCURACY, huge values, 1–3 epochs with shuffles, prefix limits) by both executors. The JIT
//! runs the dead-code-eliminated algorithm, so it is compared with the interpreter running that
//! same algorithm: final memory, every train and validation prediction, fitness, train steps and
//! the random stream's final state must agree bit for bit. Separately the interpreter on the full
//! algorithm must give the same predictions, fitness, steps and random stream as on the DCE'd
//! one (a check of dead-code elimination).
//!
//! On a mismatch the case is shrunk — instructions removed and the task cut down while the
//! mismatch persists — and reported with the minimal algorithm in the readable format and both
//! executors' results.
//!
//! Case `i` depends only on the seed and `i`, never on threads, so a failure is reproducible
//! with `--seed S` and its program number.

use crate::exec::interp::{self, Memory, Program};
use crate::exec::jit::{self as jit_executor, JitExecutor, JitProgram, PackedRows};
use crate::exec::{Limits, Outcome, Trace};
use crate::task::{EvalType, Task};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::random::{alter_data, random_instruction_from};
use amlz_ir::{
    ALL_OPS, Algorithm, ComponentFunction, DataKind, Instruction, Layout, MemoryCounts, Op, Rng,
    print_algorithm,
};
use amlz_jit::{JitConfig, OptLevel, RegAlloc};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What to fuzz.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    /// How many random algorithms to check.
    pub programs: u64,
    /// The seed of the whole run; case `i` is fixed by `(seed, i)`.
    pub seed: u64,
    /// Feature sizes to draw from (each in `1..=64`).
    pub features: Vec<usize>,
    /// Ops random algorithms are made of (matrix ops are left out of cases with no matrices).
    pub ops: Vec<Op>,
    /// Most train examples per task (validation: half as many, at least one).
    pub examples: usize,
    /// Worker threads.
    pub threads: usize,
    /// Run Cranelift's IR verifier on every function.
    pub ir_verifier: bool,
    /// Treat NaNs with different payloads as equal (the bit patterns of NaN results depend on
    /// operand order inside commutative IEEE operations, which neither executor pins down).
    pub nan_equal: bool,
    /// Shrink and report at most this many failing cases (all mismatches are counted).
    pub max_reports: usize,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            programs: 1000,
            seed: 1,
            features: vec![2, 4, 8, 16, 32],
            ops: ALL_OPS.to_vec(),
            examples: 24,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ir_verifier: cfg!(debug_assertions),
            nan_equal: true,
            max_reports: 3,
        }
    }
}

/// One random test case: an algorithm, its memory, and the tasks it runs on.
#[derive(Clone, Debug)]
pub struct Case {
    /// The program number within the run.
    pub index: u64,
    /// The algorithm (not dead-code eliminated).
    pub algorithm: Algorithm,
    /// Memory counts.
    pub counts: MemoryCounts,
    /// Feature size.
    pub features: usize,
    /// The runs: a task, the limits to evaluate it with and the seed of the evaluation's random
    /// stream.
    pub runs: Vec<Run>,
}

/// One evaluation of a case's algorithm.
#[derive(Clone, Debug)]
pub struct Run {
    /// The task.
    pub task: Task,
    /// The limits.
    pub limits: Limits,
    /// Seed of the evaluation's random stream.
    pub rng_seed: u64,
}

/// What one executor produced on one run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Fitness and train steps.
    pub outcome: Outcome,
    /// Every prediction.
    pub trace: Trace,
    /// The final memory.
    pub memory: Vec<f64>,
    /// The random stream's final state.
    pub rng: Rng,
}

/// A mismatch found, shrunk and described.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The program number (reproduce with the same seed).
    pub index: u64,
    /// The shrunk case (one run).
    pub case: Case,
    /// The description: what differs, the minimal algorithm and both results.
    pub report: String,
}

/// The result of a verify run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Algorithms checked.
    pub programs: u64,
    /// Algorithms on which the executors disagreed.
    pub mismatches: u64,
    /// Algorithms whose code generation failed (run in the interpreter instead).
    pub fallbacks: u64,
    /// The first failing cases, shrunk.
    pub failures: Vec<Failure>,
}

impl Report {
    /// The one-line summary printed last: `verify: N programs, M mismatches, K fallbacks`.
    pub fn summary(&self) -> String {
        format!(
            "verify: {} programs, {} mismatches, {} fallbacks",
            self.programs, self.mismatches, self.fallbacks
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Random cases.

fn case_seed(seed: u64, index: u64) -> u64 {
    let mut x = seed ^ 0x7e57_ca5e_0000_0000;
    x = x.wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    Rng::new(x).next_u64()
}

const SPECIAL_F64: [f64; 10] = [
    0.0,
    -0.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    1e300,
    -1e300,
    5e-324,
    1e-310,
    -123.5,
];

const SPECIAL_F32: [f32; 9] = [
    0.0,
    -0.0,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    3e38,
    -3e38,
    1e-45,
    7.0,
];

const SPECIAL_INDEX: [f32; 7] = [0.0, 0.999_999_94, 1.0, 1.5, -0.5, f32::NAN, 0.5];

/// Gives a data instruction special values now and then (NaN, infinities, ±0, huge and tiny
/// numbers, out-of-range indices, reversed or non-finite distribution parameters).
fn perturb_data(instr: &mut Instruction, rng: &mut Rng) {
    let kind = instr.op.info().data;
    if kind == DataKind::None || !rng.bernoulli(0.15) {
        return;
    }
    let pick_f32 = |rng: &mut Rng| SPECIAL_F32[rng.below(SPECIAL_F32.len())];
    match kind {
        DataKind::None => {}
        DataKind::Constant => instr.activation = SPECIAL_F64[rng.below(SPECIAL_F64.len())],
        DataKind::VectorConstant => {
            if rng.bernoulli(0.5) {
                instr.data[0] = SPECIAL_INDEX[rng.below(SPECIAL_INDEX.len())];
            } else {
                instr.data[1] = pick_f32(rng);
            }
        }
        DataKind::MatrixConstant => {
            let k = rng.below(3);
            instr.data[k] = if k < 2 {
                SPECIAL_INDEX[rng.below(SPECIAL_INDEX.len())]
            } else {
                pick_f32(rng)
            };
        }
        DataKind::Uniform | DataKind::Gaussian => {
            let k = rng.below(2);
            instr.data[k] = pick_f32(rng);
        }
    }
}

/// Now and then points a scalar or vector output at `s0` or `v0`. Random generation never writes
/// the label or the features, but hand-written and imported programs may (SEMANTICS.md §1), and
/// the executors must agree on them too.
fn perturb_output(instr: &mut Instruction, rng: &mut Rng) {
    let writes_fixed_bank = matches!(
        instr.op.info().out,
        Some(amlz_ir::Bank::Scalar | amlz_ir::Bank::Vector)
    );
    if writes_fixed_bank && rng.bernoulli(0.1) {
        instr.out = 0;
    }
}

fn random_list(len: usize, ops: &[Op], counts: &MemoryCounts, rng: &mut Rng) -> Vec<Instruction> {
    (0..len)
        .map(|_| {
            let mut i = random_instruction_from(ops, counts, rng);
            perturb_data(&mut i, rng);
            perturb_output(&mut i, rng);
            i
        })
        .collect()
}

/// One random value of a feature or label: mostly N(0,1), sometimes huge, sometimes special.
fn random_value(rng: &mut Rng, scale: f64) -> f64 {
    let u = rng.uniform01();
    if u < 0.01 {
        SPECIAL_F64[rng.below(SPECIAL_F64.len())]
    } else if u < 0.03 {
        0.0
    } else {
        rng.gaussian(0.0, 1.0) * scale
    }
}

fn random_task(features: usize, max_examples: usize, rng: &mut Rng) -> Task {
    let eval_type = if rng.bernoulli(0.5) {
        EvalType::RmsError
    } else {
        EvalType::Accuracy
    };
    let small = |rng: &mut Rng, max: usize| -> usize {
        // Biased towards few examples, sometimes none.
        if rng.bernoulli(0.05) {
            0
        } else {
            1 + rng.below(max.max(1))
        }
    };
    let num_train = small(rng, max_examples);
    let num_valid = small(rng, (max_examples / 2).max(1));
    // A per-task scale: most tasks are tame, some make every prediction huge.
    let scale = match rng.below(10) {
        0 => 1e3,
        1 => 1e150,
        2 => 1e-3,
        _ => 1.0,
    };
    let weights: Vec<f64> = (0..features).map(|_| rng.gaussian(0.0, 1.0)).collect();
    let make = |n: usize, rng: &mut Rng| -> (Vec<f64>, Vec<f64>) {
        let mut xs = Vec::with_capacity(n * features);
        let mut ys = Vec::with_capacity(n);
        for _ in 0..n {
            let x: Vec<f64> = (0..features).map(|_| random_value(rng, scale)).collect();
            let y = match eval_type {
                EvalType::RmsError => {
                    if rng.bernoulli(0.9) {
                        x.iter().zip(&weights).map(|(a, b)| a * b).sum()
                    } else {
                        random_value(rng, scale)
                    }
                }
                EvalType::Accuracy => {
                    if rng.bernoulli(0.95) {
                        rng.below(2) as f64
                    } else {
                        random_value(rng, 1.0)
                    }
                }
            };
            xs.extend(x);
            ys.push(y);
        }
        (xs, ys)
    };
    let (train_features, train_labels) = make(num_train, rng);
    let (valid_features, valid_labels) = make(num_valid, rng);
    let epochs = 1 + rng.below(3);
    let epoch_orders = (1..epochs)
        .map(|_| {
            let mut o: Vec<u32> = (0..num_train as u32).collect();
            rng.shuffle(&mut o);
            o
        })
        .collect();
    let max_abs_error = match rng.below(12) {
        0 => 1e300,
        1 => f64::INFINITY,
        2 => 0.5,
        3 => 1e6,
        _ => crate::task::DEFAULT_MAX_ABS_ERROR,
    };
    Task {
        features,
        train_features,
        train_labels,
        valid_features,
        valid_labels,
        eval_type,
        max_abs_error,
        epoch_orders,
        param_seed: 0,
        data_seed: 0,
        name: format!("verify F={features} {eval_type:?}"),
    }
}

/// The random case number `index` of a run seeded by `seed`.
pub fn random_case(config: &VerifyConfig, index: u64) -> Case {
    let mut rng = Rng::new(case_seed(config.seed, index));
    let features = config.features[rng.below(config.features.len())];
    let mut counts = MemoryCounts {
        scalars: 2 + rng.below(7),
        vectors: 1 + rng.below(6),
        matrices: rng.below(4),
    };
    let uses_matrices = |ops: &[Op]| ops.iter().all(|o| o.uses_matrices());
    if counts.matrices == 0 && uses_matrices(&config.ops) {
        counts.matrices = 1;
    }
    // Outputs need an address above the fixed roles.
    if counts.vectors < 2
        && config
            .ops
            .iter()
            .any(|o| o.info().out == Some(amlz_ir::Bank::Vector))
    {
        counts.vectors = 2 + rng.below(2);
    }
    let ops: Vec<Op> = config
        .ops
        .iter()
        .copied()
        .filter(|o| counts.matrices > 0 || !o.uses_matrices())
        .filter(|o| counts.vectors > 1 || o.info().out != Some(amlz_ir::Bank::Vector))
        .collect();
    let ops = if ops.is_empty() { vec![Op::NoOp] } else { ops };
    let setup_len = rng.below(7);
    let predict_len = rng.below(9);
    let learn_len = rng.below(11);
    let algorithm = Algorithm {
        setup: random_list(setup_len, &ops, &counts, &mut rng),
        predict: random_list(predict_len, &ops, &counts, &mut rng),
        learn: random_list(learn_len, &ops, &counts, &mut rng),
    };
    let num_runs = 1 + rng.below(2);
    let runs = (0..num_runs)
        .map(|_| {
            let task = random_task(features, config.examples, &mut rng);
            let limits = match rng.below(10) {
                0 => Limits::prefix(1 + rng.below(5), 1 + rng.below(5)),
                1 => Limits::UNTRAINED,
                _ => Limits::FULL,
            };
            Run {
                task,
                limits,
                rng_seed: rng.next_u64(),
            }
        })
        .collect();
    Case {
        index,
        algorithm,
        counts,
        features,
        runs,
    }
}

// ---------------------------------------------------------------------------------------------
// Running and comparing.

fn same(a: f64, b: f64, nan_equal: bool) -> bool {
    a.to_bits() == b.to_bits() || (nan_equal && a.is_nan() && b.is_nan())
}

fn first_difference(a: &[f64], b: &[f64], nan_equal: bool) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} values vs {}", a.len(), b.len()));
    }
    a.iter()
        .zip(b)
        .position(|(x, y)| !same(*x, *y, nan_equal))
        .map(|i| {
            format!(
                "index {i}: {:?} ({:#018x}) vs {:?} ({:#018x})",
                a[i],
                a[i].to_bits(),
                b[i],
                b[i].to_bits()
            )
        })
}

fn run_interp(program: &Program, run: &Run, memory: &mut Memory) -> RunResult {
    run_with(run, memory, |task, memory, rng, limits, trace| {
        interp::evaluate(program, task, memory, rng, limits, trace)
    })
}

fn run_jit(program: &jit_executor::JitProgram, run: &Run, memory: &mut Memory) -> RunResult {
    run_with(run, memory, |task, memory, rng, limits, trace| {
        jit_executor::evaluate(
            program,
            task,
            &PackedRows::default(),
            memory,
            rng,
            limits,
            trace,
        )
    })
}

/// Runs one executor's `evaluate` on `run` with a trace, and collects what it left.
fn run_with(
    run: &Run,
    memory: &mut Memory,
    evaluate: impl FnOnce(&Task, &mut Memory, &mut Rng, &Limits, &mut Trace) -> Outcome,
) -> RunResult {
    let mut rng = Rng::new(run.rng_seed);
    let mut trace = Trace::default();
    let outcome = evaluate(&run.task, memory, &mut rng, &run.limits, &mut trace);
    RunResult {
        outcome,
        trace,
        memory: memory.values().to_vec(),
        rng,
    }
}

/// The differences between two results, empty when they agree. `memory` says whether the final
/// memories must agree too.
fn compare(a: &RunResult, b: &RunResult, memory: bool, nan_equal: bool) -> Vec<String> {
    let mut d = Vec::new();
    if !same(a.outcome.fitness, b.outcome.fitness, nan_equal) {
        d.push(format!(
            "fitness {:?} vs {:?}",
            a.outcome.fitness, b.outcome.fitness
        ));
    }
    if a.outcome.train_steps != b.outcome.train_steps {
        d.push(format!(
            "train steps {} vs {}",
            a.outcome.train_steps, b.outcome.train_steps
        ));
    }
    if let Some(x) = first_difference(&a.trace.train, &b.trace.train, nan_equal) {
        d.push(format!("train predictions differ at {x}"));
    }
    if let Some(x) = first_difference(&a.trace.valid, &b.trace.valid, nan_equal) {
        d.push(format!("validation predictions differ at {x}"));
    }
    if memory && let Some(x) = first_difference(&a.memory, &b.memory, nan_equal) {
        d.push(format!("final memory differs at {x}"));
    }
    if a.rng != b.rng {
        d.push("random streams end in different states".to_string());
    }
    d
}

/// Which comparison failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// JIT vs interpreter on the DCE'd algorithm.
    Jit,
    /// Interpreter on the full vs the DCE'd algorithm.
    Dce,
    /// The interpreter's multi-task lanes vs one task at a time (DCE'd algorithm).
    Lanes,
    /// The JIT's multi-lane code vs the interpreter on one task at a time (DCE'd algorithm).
    NativeLanes,
}

struct Checked {
    kind: Kind,
    differences: Vec<String>,
    left: RunResult,
    right: RunResult,
    fallback: bool,
}

/// Runs one run of `algorithm` all three ways; returns the first failing comparison, if any,
/// and whether the JIT fell back.
fn check_run(
    algorithm: &Algorithm,
    counts: MemoryCounts,
    run: &Run,
    executor: &mut JitExecutor,
    memory: &mut Memory,
    nan_equal: bool,
) -> Result<Option<Checked>, String> {
    let layout = Layout::new(run.task.features, counts).map_err(|e| e.to_string())?;
    let full = Program::new(algorithm, layout).map_err(|e| e.to_string())?;
    let live = eliminate_dead_code(algorithm);
    let dce = Program::new(&live, layout).map_err(|e| e.to_string())?;
    // Multi-lane code of fewer lanes than the check runs, so that one call has a lane on the
    // sinks from the start.
    let jit = executor
        .prepare_lanes(algorithm, layout, run.task.eval_type, CHECK_LANES - 1)
        .map_err(|e| e.to_string())?;
    let fallback = !jit.is_compiled();
    let r_dce = run_interp(&dce, run, memory);
    let r_jit = run_jit(&jit, run, memory);
    let d = compare(&r_dce, &r_jit, true, nan_equal);
    if !d.is_empty() {
        return Ok(Some(Checked {
            kind: Kind::Jit,
            differences: d,
            left: r_dce,
            right: r_jit,
            fallback,
        }));
    }
    let r_full = run_interp(&full, run, memory);
    let d = compare(&r_full, &r_dce, false, nan_equal);
    if !d.is_empty() {
        return Ok(Some(Checked {
            kind: Kind::Dce,
            differences: d,
            left: r_full,
            right: r_dce,
            fallback,
        }));
    }
    if let Some(checked) = check_lanes(&dce, &jit, run, memory, nan_equal, fallback) {
        return Ok(Some(checked));
    }
    Ok(fallback.then_some(Checked {
        kind: Kind::Jit,
        differences: Vec::new(),
        left: r_dce,
        right: r_jit,
        fallback,
    }))
}

/// Lanes beside a run's task in the multi-task check.
const CHECK_LANES: usize = 3;

/// A task of `task`'s shape with other data (examples in reverse order, labels scaled by
/// `1 + lane`) and, for odd lanes, half the error bound: so that lanes stop at other examples.
fn lane_variant(task: &Task, lane: usize) -> Task {
    let mut t = task.clone();
    let f = task.features;
    let reverse = |x: &[f64]| -> Vec<f64> { x.chunks(f.max(1)).rev().flatten().copied().collect() };
    t.train_features = reverse(&task.train_features);
    t.valid_features = reverse(&task.valid_features);
    let scale = 1.0 + lane as f64;
    t.train_labels = task.train_labels.iter().rev().map(|y| y * scale).collect();
    t.valid_labels = task.valid_labels.iter().rev().map(|y| y * scale).collect();
    if lane % 2 == 1 {
        t.max_abs_error = task.max_abs_error / 2.0;
    }
    t
}

/// Runs `run`'s task and [`CHECK_LANES`] - 1 variants of it side by side in the interpreter's
/// lanes and in the JIT's multi-lane code (where `jit` has it) and compares each lane's outcome,
/// predictions, final memory and random stream with the task run alone in the interpreter; the
/// first lane that differs, if any.
fn check_lanes(
    program: &Program,
    jit: &JitProgram,
    run: &Run,
    memory: &mut Memory,
    nan_equal: bool,
    fallback: bool,
) -> Option<Checked> {
    let tasks: Vec<Task> = (0..CHECK_LANES)
        .map(|lane| match lane {
            0 => run.task.clone(),
            _ => lane_variant(&run.task, lane),
        })
        .collect();
    let seeds: Vec<u64> = (0..CHECK_LANES as u64).map(|l| run.rng_seed ^ l).collect();
    let singles: Vec<RunResult> = tasks
        .iter()
        .zip(&seeds)
        .map(|(task, &rng_seed)| {
            let alone = Run {
                task: task.clone(),
                limits: run.limits,
                rng_seed,
            };
            run_interp(program, &alone, memory)
        })
        .collect();
    let interp_lanes = interp_lanes(program, &tasks, &seeds, &run.limits);
    if let Some(c) = first_lane_difference(&singles, interp_lanes, Kind::Lanes, nan_equal) {
        return Some(Checked { fallback, ..c });
    }
    let native = native_lanes(jit, &tasks, &seeds, &run.limits)?;
    first_lane_difference(&singles, native, Kind::NativeLanes, nan_equal)
        .map(|c| Checked { fallback, ..c })
}

/// Each of `tasks` run side by side in the interpreter's lanes, with random streams `seeds`.
fn interp_lanes(
    program: &Program,
    tasks: &[Task],
    seeds: &[u64],
    limits: &Limits,
) -> Vec<RunResult> {
    let n = tasks.len();
    let mut rngs: Vec<Rng> = seeds.iter().map(|&s| Rng::new(s)).collect();
    let mut out = vec![Outcome::default(); n];
    let mut lane_memory = interp::LaneMemory::default();
    let refs: Vec<&Task> = tasks.iter().collect();
    let mut traces = vec![Trace::default(); n];
    interp::evaluate_lanes(
        program,
        &refs,
        &mut lane_memory,
        &mut rngs,
        limits,
        &mut out,
        &mut traces,
    );
    (0..n)
        .map(|lane| RunResult {
            outcome: out[lane],
            trace: std::mem::take(&mut traces[lane]),
            memory: lane_memory.lane(&program.layout(), lane).to_vec(),
            rng: rngs[lane].clone(),
        })
        .collect()
}

/// Each of `tasks` run side by side in `jit`'s multi-lane code, with random streams `seeds`;
/// `None` where it has none.
fn native_lanes(
    jit: &JitProgram,
    tasks: &[Task],
    seeds: &[u64],
    limits: &Limits,
) -> Option<Vec<RunResult>> {
    jit.lanes()?;
    let n = tasks.len();
    let mut rngs: Vec<Rng> = seeds.iter().map(|&s| Rng::new(s)).collect();
    let mut out = vec![Outcome::default(); n];
    let refs: Vec<&Task> = tasks.iter().collect();
    let packed: Vec<PackedRows> = tasks.iter().map(|_| PackedRows::default()).collect();
    let rows: Vec<&PackedRows> = packed.iter().collect();
    let mut memories = Vec::new();
    let mut traces = vec![Trace::default(); n];
    jit_executor::evaluate_lanes(
        jit,
        &refs,
        &rows,
        &mut memories,
        &mut rngs,
        limits,
        &mut out,
        &mut traces,
    );
    Some(
        (0..n)
            .map(|lane| RunResult {
                outcome: out[lane],
                trace: std::mem::take(&mut traces[lane]),
                memory: memories[lane].values().to_vec(),
                rng: rngs[lane].clone(),
            })
            .collect(),
    )
}

/// The first lane whose result differs from its task run alone, as a mismatch of `kind`.
fn first_lane_difference(
    singles: &[RunResult],
    lanes: Vec<RunResult>,
    kind: Kind,
    nan_equal: bool,
) -> Option<Checked> {
    for (lane, (single, result)) in singles.iter().zip(lanes).enumerate() {
        let differences: Vec<String> = compare(single, &result, true, nan_equal)
            .into_iter()
            .map(|d| format!("lane {lane}: {d}"))
            .collect();
        if !differences.is_empty() {
            return Some(Checked {
                kind,
                differences,
                left: single.clone(),
                right: result,
                fallback: false,
            });
        }
    }
    None
}

/// Whether `algorithm` on `run` still shows a mismatch of `kind`.
fn still_fails(
    algorithm: &Algorithm,
    counts: MemoryCounts,
    run: &Run,
    kind: Kind,
    executor: &mut JitExecutor,
    memory: &mut Memory,
    nan_equal: bool,
) -> bool {
    matches!(
        check_run(algorithm, counts, run, executor, memory, nan_equal),
        Ok(Some(c)) if c.kind == kind && !c.differences.is_empty()
    )
}

fn truncated_task(task: &Task, num_train: usize, num_valid: usize, epochs: usize) -> Task {
    let f = task.features;
    let n = num_train.min(task.num_train());
    let nv = num_valid.min(task.num_valid());
    let mut t = task.clone();
    t.train_features = task.train_features[..n * f].to_vec();
    t.train_labels = task.train_labels[..n].to_vec();
    t.epoch_orders = task
        .epoch_orders
        .iter()
        .take(epochs.saturating_sub(1))
        .map(|o| o.iter().copied().filter(|&i| (i as usize) < n).collect())
        .collect();
    t.valid_features = task.valid_features[..nv * f].to_vec();
    t.valid_labels = task.valid_labels[..nv].to_vec();
    t
}

/// Shrinks a failing case: removes instructions and cuts the task while the mismatch of `kind`
/// persists.
fn shrink(
    mut algorithm: Algorithm,
    counts: MemoryCounts,
    mut run: Run,
    kind: Kind,
    executor: &mut JitExecutor,
    memory: &mut Memory,
    nan_equal: bool,
) -> (Algorithm, Run) {
    // Removing dead code first is the biggest single step (only for JIT mismatches: DCE
    // mismatches need the dead code).
    if kind == Kind::Jit {
        let live = eliminate_dead_code(&algorithm);
        if still_fails(&live, counts, &run, kind, executor, memory, nan_equal) {
            algorithm = live;
        }
    }
    loop {
        let mut progress = false;
        for f in ComponentFunction::ALL {
            let mut i = 0;
            while i < algorithm.function(f).len() {
                let mut candidate = algorithm.clone();
                candidate.function_mut(f).remove(i);
                if still_fails(&candidate, counts, &run, kind, executor, memory, nan_equal) {
                    algorithm = candidate;
                    progress = true;
                } else {
                    i += 1;
                }
            }
        }
        // Fewer epochs, fewer train and validation examples, no limits.
        let t = &run.task;
        let mut shapes = vec![
            (t.num_train(), t.num_valid(), 1),
            (t.num_train() / 2, t.num_valid(), t.num_epochs()),
            (t.num_train(), t.num_valid() / 2, t.num_epochs()),
            (
                t.num_train().saturating_sub(1),
                t.num_valid(),
                t.num_epochs(),
            ),
            (
                t.num_train(),
                t.num_valid().saturating_sub(1),
                t.num_epochs(),
            ),
        ];
        shapes.retain(|&(n, v, e)| (n, v, e) != (t.num_train(), t.num_valid(), t.num_epochs()));
        for (n, v, e) in shapes {
            let candidate = Run {
                task: truncated_task(&run.task, n, v, e),
                ..run.clone()
            };
            if still_fails(
                &algorithm, counts, &candidate, kind, executor, memory, nan_equal,
            ) {
                run = candidate;
                progress = true;
                break;
            }
        }
        if run.limits != Limits::FULL {
            let candidate = Run {
                limits: Limits::FULL,
                ..run.clone()
            };
            if still_fails(
                &algorithm, counts, &candidate, kind, executor, memory, nan_equal,
            ) {
                run = candidate;
                progress = true;
            }
        }
        if !progress {
            return (algorithm, run);
        }
    }
}

fn describe_result(name: &str, r: &RunResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  {name}: fitness {:?}, {} train steps, {} train and {} validation predictions",
        r.outcome.fitness,
        r.outcome.train_steps,
        r.trace.train.len(),
        r.trace.valid.len()
    );
    let _ = writeln!(s, "    train predictions: {:?}", r.trace.train);
    let _ = writeln!(s, "    validation predictions: {:?}", r.trace.valid);
    let _ = writeln!(s, "    final memory: {:?}", r.memory);
    s
}

fn report_failure(case: &Case, run: &Run, checked: &Checked) -> String {
    let (what, left, right) = match checked.kind {
        Kind::Jit => (
            "JIT vs interpreter (both on the dead-code-eliminated algorithm)",
            "interpreter",
            "jit",
        ),
        Kind::Dce => (
            "interpreter on the full vs the dead-code-eliminated algorithm",
            "full",
            "dce",
        ),
        Kind::Lanes => (
            "interpreter lanes (the task beside variants of it) vs one task at a time",
            "alone",
            "lanes",
        ),
        Kind::NativeLanes => (
            "JIT multi-lane code (the task beside variants of it) vs the interpreter on one task at a time",
            "alone",
            "native lanes",
        ),
    };
    let t = &run.task;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "mismatch in program {}: {what}\n  F={}, S={}, V={}, M={}; task {:?}, {} train, {} valid, {} epochs, max_abs_error {:?}, limits {:?}, rng seed {}",
        case.index,
        case.features,
        case.counts.scalars,
        case.counts.vectors,
        case.counts.matrices,
        t.eval_type,
        t.num_train(),
        t.num_valid(),
        t.num_epochs(),
        t.max_abs_error,
        run.limits,
        run.rng_seed
    );
    for d in &checked.differences {
        let _ = writeln!(s, "  {d}");
    }
    let _ = writeln!(s, "minimal algorithm:");
    for line in print_algorithm(&case.algorithm).lines() {
        let _ = writeln!(s, "  {line}");
    }
    if checked.kind == Kind::Jit {
        let _ = writeln!(s, "  (its live part: {} instructions)", {
            let l = eliminate_dead_code(&case.algorithm);
            l.setup.len() + l.predict.len() + l.learn.len()
        });
    }
    let _ = writeln!(s, "  train features: {:?}", t.train_features);
    let _ = writeln!(s, "  train labels: {:?}", t.train_labels);
    let _ = writeln!(s, "  valid features: {:?}", t.valid_features);
    let _ = writeln!(s, "  valid labels: {:?}", t.valid_labels);
    s.push_str(&describe_result(left, &checked.left));
    s.push_str(&describe_result(right, &checked.right));
    s
}

/// The JIT configurations programs are checked with: mostly the production one (no e-graph
/// optimisation, adaptive register allocation), every fourth program Cranelift's optimising
/// settings with the single-pass allocator throughout, so that all code paths are checked.
fn jit_configs(ir_verifier: bool) -> [JitConfig; 2] {
    let base = JitConfig {
        verifier: ir_verifier,
        ..JitConfig::default()
    };
    [
        base,
        JitConfig {
            opt_level: OptLevel::Speed,
            regalloc: RegAlloc::SinglePass,
            ..base
        },
    ]
}

/// A mismatch found by one worker, before shrinking.
struct Found {
    case: Case,
    run: usize,
    kind: Kind,
    config: usize,
}

/// Checks one case; returns (mismatch, fallback).
fn check_case(
    case: &Case,
    executor: &mut JitExecutor,
    memory: &mut Memory,
    nan_equal: bool,
) -> (Option<(usize, Kind)>, bool) {
    let mut fallback = false;
    for (r, run) in case.runs.iter().enumerate() {
        match check_run(
            &case.algorithm,
            case.counts,
            run,
            executor,
            memory,
            nan_equal,
        ) {
            Ok(None) => {}
            Ok(Some(c)) => {
                fallback |= c.fallback;
                if !c.differences.is_empty() {
                    return (Some((r, c.kind)), fallback);
                }
            }
            // A generator bug (an address out of range): report it as a mismatch.
            Err(_) => return (Some((r, Kind::Jit)), fallback),
        }
    }
    (None, fallback)
}

/// A variant of `algorithm` with its data changed as ALTER_PARAM does: same live structure in
/// most cases, so the JIT serves it from the cache with other constants.
fn with_altered_constants(algorithm: &Algorithm, rng: &mut Rng) -> Algorithm {
    let mut a = algorithm.clone();
    for f in ComponentFunction::ALL {
        for i in a.function_mut(f).iter_mut() {
            if i.op.info().data.is_data_setting() && rng.bernoulli(0.7) {
                alter_data(i, rng);
            }
        }
    }
    a
}

/// Runs the differential fuzzing described in the module documentation. `progress` is called
/// now and then with the number of programs checked so far.
pub fn run(config: &VerifyConfig, mut progress: impl FnMut(u64) + Send) -> Report {
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let mismatches = AtomicU64::new(0);
    let fallbacks = AtomicU64::new(0);
    let found: Mutex<Vec<Found>> = Mutex::new(Vec::new());
    let threads = config.threads.max(1);
    let progress_lock = Mutex::new(&mut progress);
    let configs = jit_configs(config.ir_verifier);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut executors = configs.map(JitExecutor::new);
                let mut memory = Memory::default();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= config.programs {
                        break;
                    }
                    let case = random_case(config, index);
                    let which = usize::from(index % 4 == 3);
                    let executor = &mut executors[which];
                    let (mut bad, mut fell_back) =
                        check_case(&case, executor, &mut memory, config.nan_equal);
                    if bad.is_none() {
                        // The same structure with other constants (usually a cache hit).
                        let mut rng = Rng::new(case_seed(config.seed, index) ^ 0xa17e);
                        let variant = Case {
                            algorithm: with_altered_constants(&case.algorithm, &mut rng),
                            ..case.clone()
                        };
                        let (b, f) = check_case(&variant, executor, &mut memory, config.nan_equal);
                        fell_back |= f;
                        if let Some((r, kind)) = b {
                            bad = Some((r, kind));
                            let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                            found.push(Found {
                                case: variant,
                                run: r,
                                kind,
                                config: which,
                            });
                        }
                    } else if let Some((r, kind)) = bad {
                        let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                        found.push(Found {
                            case,
                            run: r,
                            kind,
                            config: which,
                        });
                    }
                    if bad.is_some() {
                        mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    if fell_back {
                        fallbacks.fetch_add(1, Ordering::Relaxed);
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(1000)
                        && let Ok(mut p) = progress_lock.lock()
                    {
                        (*p)(n);
                    }
                }
            });
        }
    });
    let mut found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    found.sort_by_key(|f| f.case.index);
    let mut failures = Vec::new();
    for f in found.into_iter().take(config.max_reports) {
        let mut executor = JitExecutor::new(configs[f.config]);
        let mut memory = Memory::default();
        let run = f.case.runs[f.run].clone();
        let (algorithm, run) = shrink(
            f.case.algorithm.clone(),
            f.case.counts,
            run,
            f.kind,
            &mut executor,
            &mut memory,
            config.nan_equal,
        );
        let case = Case {
            algorithm,
            runs: vec![run.clone()],
            ..f.case.clone()
        };
        let report = match check_run(
            &case.algorithm,
            case.counts,
            &run,
            &mut executor,
            &mut memory,
            config.nan_equal,
        ) {
            Ok(Some(c)) if !c.differences.is_empty() => report_failure(&case, &run, &c),
            Ok(_) => format!(
                "program {}: mismatch did not reproduce after shrinking",
                f.case.index
            ),
            Err(e) => format!("program {}: the case could not be run: {e}", f.case.index),
        };
        failures.push(Failure {
            index: f.case.index,
            case,
            report,
        });
    }
    Report {
        programs: config.programs,
        mismatches: mismatches.into_inner(),
        fallbacks: fallbacks.into_inner(),
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible_and_valid() {
        let config = VerifyConfig::default();
        for i in 0..200 {
            let a = random_case(&config, i);
            let b = random_case(&config, i);
            assert_eq!(a.algorithm, b.algorithm);
            assert_eq!(a.runs.len(), b.runs.len());
            assert!(a.algorithm.check_addresses(&a.counts).is_ok(), "case {i}");
            for r in &a.runs {
                assert_eq!(r.task.train_features.len(), r.task.num_train() * a.features);
                for o in &r.task.epoch_orders {
                    assert_eq!(o.len(), r.task.num_train());
                }
            }
        }
    }

    #[test]
    fn cases_include_writes_to_the_label_and_the_features() {
        use amlz_ir::Bank;
        let config = VerifyConfig::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..300 {
            let a = random_case(&config, i).algorithm;
            for (f, list) in [(1, &a.predict), (2, &a.learn)] {
                for instr in list.iter() {
                    if let Some((bank @ (Bank::Scalar | Bank::Vector), 0)) = instr.output() {
                        seen.insert((f, bank));
                    }
                }
            }
        }
        let all = [
            (1, Bank::Scalar),
            (1, Bank::Vector),
            (2, Bank::Scalar),
            (2, Bank::Vector),
        ];
        for want in all {
            assert!(seen.contains(&want), "no case writes {want:?}");
        }
    }

    #[test]
    fn truncation_keeps_orders_permutations() {
        let config = VerifyConfig::default();
        let case = random_case(&config, 5);
        let t = &case.runs[0].task;
        let s = truncated_task(t, t.num_train() / 2, 1, 3);
        for o in &s.epoch_orders {
            let mut v = o.clone();
            v.sort_unstable();
            assert_eq!(v, (0..s.num_train() as u32).collect::<Vec<_>>());
        }
    }
}
