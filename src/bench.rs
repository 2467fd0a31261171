//! `amlz bench`: a fixed, seeded benchmark suite, the coarse view of this machine's speed that
//! scripts compare between commits (criterion benches stay the fine-grained view).
//!
//! The suite measures three things, each the same programs, tasks and seeds on every run:
//! - **Per-example time** ([`SuiteReport::per_example_ns`]): nanoseconds per example (train
//!   examples started plus validation examples) of one evaluation, for each executor, of the
//!   hand-made linear regressor, the hand-made 2-layer network and a fixed set of seeded random
//!   programs, at F = 4 and F = 16, each on [`SuiteSettings::tasks`] tasks. Each executor's row
//!   comes from one timing function (see `EXECUTORS`): adding an executor is adding one.
//! - **Compile latency** ([`SuiteReport::compile_latency_us`]): wall microseconds to compile the
//!   live Predict and Learn of each of those programs, bypassing the code cache.
//! - **Search throughput** ([`SuiteReport::search`]): individuals per second of evolution of the
//!   built-in demo and `examples/nonlinear_nn.toml`, run by each [`ExecutorChoice`] on one thread
//!   for [`SuiteSettings::seconds`] seconds.
//!
//! The JSON of a [`SuiteReport`] is a public interface: its three top-level keys and the
//! `config`, `executor` and `individuals_per_second` of each `search` entry do not change.

use crate::exec::epochs::MAX_LANES;
use crate::exec::interp::{self, LaneMemory, Memory, Program};
use crate::exec::jit::{self, JitExecutor, PackedRows};
use crate::exec::{BreakEven, ExecutorChoice, Limits, NoObserver, Observer, Outcome};
use crate::experiment::config::{self, Experiment};
use crate::experiment::{ConfigError, RunError, RunOptions, Summary};
use crate::task::Task;
use crate::task::generate::{
    Sizes, TaskSettings, scalar_2layer_nn_regression, scalar_linear_regression,
};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::random::random_instruction_from;
use amlz_ir::{ALL_OPS, AddressError, Algorithm, Instruction, Layout, LayoutError};
use amlz_ir::{MemoryCounts, Op, Rng, handmade};
use amlz_jit::JitConfig;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// The nonlinear config the search figures run (the file is embedded so that the suite does not
/// depend on the working directory).
const NONLINEAR_CONFIG: &str = include_str!("../examples/nonlinear_nn.toml");

/// Where [`NONLINEAR_CONFIG`] comes from, for messages.
const NONLINEAR_CONFIG_NAME: &str = "examples/nonlinear_nn.toml";

/// The seed of every search of the suite.
pub const SEARCH_SEED: u64 = 1;

/// The seed the random programs are drawn from.
pub const RANDOM_PROGRAM_SEED: u64 = 20_261_203;

/// The feature sizes of the per-example and compile figures.
pub const FEATURES: [usize; 2] = [4, 16];

/// Memory of the random programs: room for every op, matrices included.
const RANDOM_COUNTS: MemoryCounts = MemoryCounts {
    scalars: 6,
    vectors: 4,
    matrices: 2,
};

/// How many instructions the random programs' Setup, Predict and Learn have.
const RANDOM_SIZES: (usize, usize, usize) = (6, 10, 10);

/// Draws per random program kept, at most (a draw is kept when it trains through every task).
const RANDOM_DRAWS_PER_PROGRAM: usize = 1000;

/// How much the suite measures. [`SuiteSettings::default`] is what `amlz bench` runs; tests use
/// smaller settings so that the whole suite takes a fraction of a second.
#[derive(Clone, Debug, PartialEq)]
pub struct SuiteSettings {
    /// Wall-clock seconds each search runs (the CLI's `--seconds`).
    pub seconds: f64,
    /// Timed repetitions of each per-example measurement and compiles of each program; the
    /// median is reported.
    pub repeats: usize,
    /// Tasks per per-example case (one algorithm evaluated on each, as a search does).
    pub tasks: usize,
    /// Train examples per task of the per-example cases.
    pub train_examples: usize,
    /// Validation examples per task of the per-example cases.
    pub valid_examples: usize,
    /// Random programs per feature size.
    pub random_programs: usize,
}

impl Default for SuiteSettings {
    /// Searches of 5 s; 5 repeats; 10 tasks of 1000 train and 100 validation examples (the
    /// shape of T_select); 8 random programs.
    fn default() -> Self {
        SuiteSettings {
            seconds: 5.0,
            repeats: 5,
            tasks: 10,
            train_examples: 1000,
            valid_examples: 100,
            random_programs: 8,
        }
    }
}

impl SuiteSettings {
    /// Checks the settings: positive, finite seconds and at least one of every count.
    ///
    /// # Errors
    /// [`BenchError::Seconds`] or [`BenchError::Zero`] naming the setting.
    pub fn check(&self) -> Result<(), BenchError> {
        if !(self.seconds.is_finite() && self.seconds > 0.0) {
            return Err(BenchError::Seconds(self.seconds));
        }
        let counts = [
            ("repeats", self.repeats),
            ("tasks", self.tasks),
            ("train_examples", self.train_examples),
            ("valid_examples", self.valid_examples),
            ("random_programs", self.random_programs),
        ];
        match counts.iter().find(|(_, n)| *n == 0) {
            Some((name, _)) => Err(BenchError::Zero(name)),
            None => Ok(()),
        }
    }
}

/// Why the suite could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The seconds per search are not a positive, finite number.
    #[error("seconds must be a positive, finite number, not {0}")]
    Seconds(f64),
    /// A count of the settings is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// A config of the search figures did not parse (a bug: they are built in).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A search failed.
    #[error("search of {config} with {executor}: {source}")]
    Run {
        /// The config's name in the report.
        config: &'static str,
        /// The executor's name.
        executor: &'static str,
        /// What went wrong (boxed: a run's errors are large).
        source: Box<RunError>,
    },
    /// A program's memory makes no layout (a bug: the programs are built in).
    #[error("{0}")]
    Layout(#[from] LayoutError),
    /// A program's addresses do not fit its memory (a bug: the programs are built in).
    #[error("{0}")]
    Address(#[from] AddressError),
}

/// Which programs a per-example or compile figure is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgramKind {
    /// `handmade::linear(0.01)` on linear regression tasks.
    Linear,
    /// The hand-made 2-layer network on 2-layer network tasks (learning rate 0.001 at F = 16,
    /// where 0.01 diverges, as in `benches/interpreter.rs`).
    Nn,
    /// [`SuiteSettings::random_programs`] seeded random programs over every op that draws no
    /// random numbers, on linear regression tasks; each trains through every task.
    Random,
}

impl ProgramKind {
    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            ProgramKind::Linear => "linear",
            ProgramKind::Nn => "nn",
            ProgramKind::Random => "random",
        }
    }
}

/// One executor's time per example on one case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PerExample {
    /// The programs.
    pub program: ProgramKind,
    /// F.
    pub features: usize,
    /// The executor (`interp`, `jit`).
    pub executor: String,
    /// Median nanoseconds per example: the evaluation time over train examples started plus
    /// validation examples (for random programs: summed over the programs). `null` when the
    /// executor cannot run here (the JIT could not compile).
    pub ns: Option<f64>,
}

/// The compile latency of one case's programs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompileFigure {
    /// The programs.
    pub program: ProgramKind,
    /// F.
    pub features: usize,
    /// Median wall microseconds per compile of Predict and Learn over every compile of the
    /// case's programs; `null` when nothing compiled (no JIT here).
    pub us: Option<f64>,
}

/// Compile latency, cache bypassed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompileLatency {
    /// Median wall microseconds over every compile of every case; `null` without a JIT.
    pub median: Option<f64>,
    /// Per case.
    pub per_program: Vec<CompileFigure>,
}

/// One search's throughput.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchFigure {
    /// The config: `demo` or `nonlinear`.
    pub config: String,
    /// The executor: `interp`, `jit` or `auto`.
    pub executor: String,
    /// Individuals over seconds of evolution (select and final evaluations, and the setup
    /// between experiments, left out).
    pub individuals_per_second: f64,
    /// Individuals evaluated.
    pub individuals: u64,
    /// Seconds of evolution, over all experiments: a little under [`SuiteSettings::seconds`],
    /// whose clock also covers building the search's tasks.
    pub seconds: f64,
    /// Experiments run.
    pub experiments: u64,
    /// Wall-clock seconds of the whole search, final evaluation included.
    pub wall_seconds: f64,
}

/// What the suite measured. Its JSON (`amlz bench --json`) is a public interface.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SuiteReport {
    /// Per program, F and executor.
    pub per_example_ns: Vec<PerExample>,
    /// Compile latency.
    pub compile_latency_us: CompileLatency,
    /// Per config and executor.
    pub search: Vec<SearchFigure>,
}

/// Runs the suite with no progress report.
///
/// # Errors
/// Bad settings, or a search that failed.
pub fn run_suite(settings: &SuiteSettings) -> Result<SuiteReport, BenchError> {
    run_suite_with(settings, |_| {})
}

/// Runs the suite, telling `progress` what it starts (one short line each).
///
/// # Errors
/// Bad settings, or a search that failed.
pub fn run_suite_with(
    settings: &SuiteSettings,
    mut progress: impl FnMut(&str),
) -> Result<SuiteReport, BenchError> {
    settings.check()?;
    let (per_example_ns, compile_latency_us) = program_figures(settings, &mut progress)?;
    let search = search_figures(settings.seconds, &mut progress)?;
    Ok(SuiteReport {
        per_example_ns,
        compile_latency_us,
        search,
    })
}

/// The per-example rows (each executor of `EXECUTORS` on each case) and the compile latency of
/// every case's programs.
fn program_figures(
    settings: &SuiteSettings,
    progress: &mut impl FnMut(&str),
) -> Result<(Vec<PerExample>, CompileLatency), BenchError> {
    let mut bench = Bench {
        settings,
        jit: JitExecutor::new(JitConfig::default()),
    };
    let mut per_example_ns = Vec::new();
    let mut per_program = Vec::new();
    let mut samples = Vec::new();
    for features in FEATURES {
        for program in [ProgramKind::Linear, ProgramKind::Nn, ProgramKind::Random] {
            progress(&format!("per example: {} F={features}", program.name()));
            let case = Case::new(program, features, settings)?;
            for (executor, time) in EXECUTORS {
                per_example_ns.push(PerExample {
                    program,
                    features,
                    executor: executor.to_string(),
                    ns: time(&case, &mut bench),
                });
            }
            let us = bench.compile_us(&case);
            per_program.push(CompileFigure {
                program,
                features,
                us: median(&us),
            });
            samples.extend(us);
        }
    }
    let compile = CompileLatency {
        median: median(&samples),
        per_program,
    };
    Ok((per_example_ns, compile))
}

// ---------------------------------------------------------------------------------------------
// Per-example cases.

/// What the timing functions share: the settings and one JIT (its compiler and code memory).
struct Bench<'a> {
    settings: &'a SuiteSettings,
    jit: JitExecutor,
}

/// One program of a case: dead code eliminated (what searches run), with its layout and the
/// examples one pass over the case's tasks runs.
struct CaseProgram {
    live: Algorithm,
    layout: Layout,
    examples: u64,
}

/// The programs and tasks of one row of the per-example table.
struct Case {
    programs: Vec<CaseProgram>,
    tasks: Vec<Task>,
}

/// A timing function: median nanoseconds per example of one executor on a case, `None` where the
/// executor cannot run it.
type Timer = fn(&Case, &mut Bench<'_>) -> Option<f64>;

/// The executors of the per-example table, in its column order.
const EXECUTORS: [(&str, Timer); 4] = [
    ("interp", time_interp),
    ("lanes", time_lanes),
    ("jit", time_jit),
    ("jit-lanes", time_jit_lanes),
];

/// No early stop on size: a case measures what an example costs, whatever the values.
const CASE_TASK_SETTINGS: TaskSettings = TaskSettings {
    eval_type: crate::task::EvalType::RmsError,
    max_abs_error: f64::MAX,
    num_train_epochs: 1,
};

impl Case {
    /// The case of `program` at `features`.
    fn new(program: ProgramKind, features: usize, s: &SuiteSettings) -> Result<Case, BenchError> {
        let sizes = Sizes {
            features,
            num_train: s.train_examples,
            num_valid: s.valid_examples,
        };
        let make = match program {
            ProgramKind::Nn => scalar_2layer_nn_regression,
            ProgramKind::Linear | ProgramKind::Random => scalar_linear_regression,
        };
        let tasks: Vec<Task> = (0..s.tasks as u64)
            .map(|i| make(sizes, &CASE_TASK_SETTINGS, 1000 + i, 2000 + i))
            .collect();
        let algorithms = match program {
            ProgramKind::Linear => vec![(handmade::linear(0.01), None)],
            ProgramKind::Nn if features == 4 => vec![(handmade::neural_net(), None)],
            ProgramKind::Nn => vec![(handmade::neural_net_with(0.001, 0.1), None)],
            ProgramKind::Random => random_programs(features, s.random_programs, &tasks)
                .into_iter()
                .map(|a| (a, Some(RANDOM_COUNTS)))
                .collect(),
        };
        let programs = algorithms
            .into_iter()
            .map(|(a, counts)| {
                let layout = Layout::new(features, counts.unwrap_or_else(|| a.min_counts()))?;
                let live = eliminate_dead_code(&a);
                let program = Program::new(&live, layout)?;
                let examples = tasks
                    .iter()
                    .enumerate()
                    .map(|(i, t)| count_examples(&program, t, i))
                    .sum();
                Ok(CaseProgram {
                    live,
                    layout,
                    examples,
                })
            })
            .collect::<Result<_, BenchError>>()?;
        Ok(Case { programs, tasks })
    }
}

/// Counts the examples an evaluation runs: train examples started and validation examples.
#[derive(Default)]
struct Counter(u64);

impl Observer for Counter {
    fn train(&mut self, _label: f64, _prediction: f64) {
        self.0 += 1;
    }
    fn valid(&mut self, _label: f64, _prediction: f64) {
        self.0 += 1;
    }
}

/// The random stream of the evaluation on task number `i` (the same on every repetition).
fn task_rng(i: usize) -> Rng {
    Rng::new(7 + i as u64)
}

/// The examples one interpreter evaluation of `program` on `task`, task number `i` of its case,
/// runs.
fn count_examples(program: &Program, task: &Task, i: usize) -> u64 {
    let mut memory = Memory::new(&program.layout());
    let mut counter = Counter::default();
    interp::evaluate(
        program,
        task,
        &mut memory,
        &mut task_rng(i),
        &Limits::FULL,
        &mut counter,
    );
    counter.0
}

/// `count` random programs over every op but the random ones, drawn from [`RANDOM_PROGRAM_SEED`] and `features`, each
/// with live Predict code and training through every task without a NaN or infinite error (so
/// that its time covers whole tasks). Fewer if too few draws qualify.
fn random_programs(features: usize, count: usize, tasks: &[Task]) -> Vec<Algorithm> {
    let mut rng = Rng::new(RANDOM_PROGRAM_SEED ^ features as u64);
    let Ok(layout) = Layout::new(features, RANDOM_COUNTS) else {
        return Vec::new();
    };
    let mut kept = Vec::with_capacity(count);
    for _ in 0..count * RANDOM_DRAWS_PER_PROGRAM {
        if kept.len() == count {
            break;
        }
        let algorithm = random_algorithm(&mut rng);
        if trains_through(&algorithm, layout, tasks) {
            kept.push(algorithm);
        }
    }
    kept
}

/// One random algorithm of [`RANDOM_SIZES`] in [`RANDOM_COUNTS`] over every op that draws no
/// random numbers. (Random ops stay live whatever their result, as they advance the stream, and
/// fill whole matrices through the same kernel in both executors: with them the random row
/// measured mostly the random generator.)
fn random_algorithm(rng: &mut Rng) -> Algorithm {
    let ops: Vec<Op> = ALL_OPS.iter().copied().filter(|o| !o.is_random()).collect();
    let mut list = |len: usize| -> Vec<Instruction> {
        (0..len)
            .map(|_| random_instruction_from(&ops, &RANDOM_COUNTS, rng))
            .collect()
    };
    let (setup, predict, learn) = RANDOM_SIZES;
    Algorithm {
        setup: list(setup),
        predict: list(predict),
        learn: list(learn),
    }
}

/// Whether `algorithm`'s live Predict is not empty and it trains through every example of every
/// task.
fn trains_through(algorithm: &Algorithm, layout: Layout, tasks: &[Task]) -> bool {
    let live = eliminate_dead_code(algorithm);
    let Ok(program) = Program::new(&live, layout) else {
        return false;
    };
    let mut memory = Memory::new(&layout);
    !live.predict.is_empty()
        && tasks.iter().enumerate().all(|(i, task)| {
            let outcome = interpret(&program, task, i, &mut memory);
            outcome.train_steps == (task.num_train() * task.num_epochs()) as u64
        })
}

/// One interpreter evaluation of `program` on `task`, task number `i` of its case.
fn interpret(program: &Program, task: &Task, i: usize, memory: &mut Memory) -> Outcome {
    let rng = &mut task_rng(i);
    interp::evaluate(program, task, memory, rng, &Limits::FULL, &mut NoObserver)
}

/// The median of `values` (`None` when empty).
fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// Median nanoseconds of `pass` over `repeats` timed runs after one untimed warm-up.
fn time_pass(repeats: usize, mut pass: impl FnMut()) -> f64 {
    pass();
    let times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            pass();
            t.elapsed().as_nanos() as f64
        })
        .collect();
    median(&times).unwrap_or(0.0)
}

/// Nanoseconds per example of a case from each program's median pass time; `None` for a case
/// with no example (no random program qualified).
fn per_example(case: &Case, pass_ns: impl Iterator<Item = f64>) -> Option<f64> {
    let examples: u64 = case.programs.iter().map(|p| p.examples).sum();
    (examples > 0).then(|| pass_ns.sum::<f64>() / examples as f64)
}

/// The interpreter's row: `interp::evaluate` of each program on every task.
fn time_interp(case: &Case, bench: &mut Bench<'_>) -> Option<f64> {
    let mut times = Vec::with_capacity(case.programs.len());
    for p in &case.programs {
        let program = Program::new(&p.live, p.layout).ok()?;
        let mut memory = Memory::new(&p.layout);
        times.push(time_pass(bench.settings.repeats, || {
            for (i, task) in case.tasks.iter().enumerate() {
                interpret(&program, task, i, &mut memory);
            }
        }));
    }
    per_example(case, times.into_iter())
}

/// The multi-task row: `interp::evaluate_lanes` of each program on the case's tasks side by
/// side (at most [`MAX_LANES`] at a time, as a search groups them).
fn time_lanes(case: &Case, bench: &mut Bench<'_>) -> Option<f64> {
    let mut times = Vec::with_capacity(case.programs.len());
    let tasks: Vec<&Task> = case.tasks.iter().collect();
    let mut memory = LaneMemory::default();
    let mut out = [Outcome::default(); MAX_LANES];
    for p in &case.programs {
        let program = Program::new(&p.live, p.layout).ok()?;
        times.push(time_pass(bench.settings.repeats, || {
            for (g, group) in tasks.chunks(MAX_LANES).enumerate() {
                let first = g * MAX_LANES;
                let mut rngs: Vec<Rng> = (0..group.len()).map(|l| task_rng(first + l)).collect();
                let out = &mut out[..group.len()];
                let limits = &Limits::FULL;
                interp::evaluate_lanes(
                    &program,
                    group,
                    &mut memory,
                    &mut rngs,
                    limits,
                    out,
                    &mut NoObserver,
                );
            }
        }));
    }
    per_example(case, times.into_iter())
}

/// The JIT's row: `jit::evaluate` of each program, compiled, on every task (rows packed before
/// timing, as a search keeps them); `None` if a program does not compile.
fn time_jit(case: &Case, bench: &mut Bench<'_>) -> Option<f64> {
    let rows: Vec<PackedRows> = case.tasks.iter().map(|_| PackedRows::default()).collect();
    let mut times = Vec::with_capacity(case.programs.len());
    for p in &case.programs {
        let eval_type = case.tasks.first()?.eval_type;
        let prepared = bench.jit.prepare(&p.live, p.layout, eval_type).ok()?;
        if !prepared.is_compiled() {
            return None;
        }
        let mut memory = Memory::new(&p.layout);
        times.push(time_pass(bench.settings.repeats, || {
            for (i, (task, rows)) in case.tasks.iter().zip(&rows).enumerate() {
                jit::evaluate(
                    &prepared,
                    task,
                    rows,
                    &mut memory,
                    &mut task_rng(i),
                    &Limits::FULL,
                    &mut NoObserver,
                );
            }
        }));
    }
    per_example(case, times.into_iter())
}

/// The JIT's multi-lane row: `jit::evaluate_lanes` of each program, compiled for
/// [`jit::NATIVE_LANES`] lanes, on the case's tasks side by side (at most [`MAX_LANES`] per
/// call, as a search groups them); `None` if a program does not compile.
fn time_jit_lanes(case: &Case, bench: &mut Bench<'_>) -> Option<f64> {
    let packed: Vec<PackedRows> = case.tasks.iter().map(|_| PackedRows::default()).collect();
    let rows: Vec<&PackedRows> = packed.iter().collect();
    let tasks: Vec<&Task> = case.tasks.iter().collect();
    let mut memories = Vec::new();
    let mut out = [Outcome::default(); MAX_LANES];
    let mut times = Vec::with_capacity(case.programs.len());
    for p in &case.programs {
        let eval_type = case.tasks.first()?.eval_type;
        let prepared = bench
            .jit
            .prepare_lanes(&p.live, p.layout, eval_type, jit::NATIVE_LANES)
            .ok()?;
        prepared.lanes()?;
        times.push(time_pass(bench.settings.repeats, || {
            for (g, group) in tasks.chunks(MAX_LANES).enumerate() {
                let first = g * MAX_LANES;
                let mut rngs: Vec<Rng> = (0..group.len()).map(|l| task_rng(first + l)).collect();
                let rows = &rows[first..first + group.len()];
                jit::evaluate_lanes(
                    &prepared,
                    group,
                    rows,
                    &mut memories,
                    &mut rngs,
                    &Limits::FULL,
                    &mut out[..group.len()],
                    &mut NoObserver,
                );
            }
        }));
    }
    per_example(case, times.into_iter())
}

impl Bench<'_> {
    /// Wall microseconds of each of `repeats` uncached compiles of each program of `case`, after
    /// one untimed compile (none without a JIT, or for a program that fails to compile).
    fn compile_us(&mut self, case: &Case) -> Vec<f64> {
        let repeats = self.settings.repeats;
        let Some(compiler) = self.jit.compiler_mut() else {
            return Vec::new();
        };
        let Some(task) = case.tasks.first() else {
            return Vec::new();
        };
        let scoring = jit::scoring(task.eval_type);
        let mut us = Vec::new();
        for p in &case.programs {
            // One untimed compile first: the first compiles of a process pay for growing code
            // memory and warming caches.
            let _ = compiler.compile_uncached(&p.live, p.layout, scoring);
            for _ in 0..repeats {
                let t = Instant::now();
                if compiler
                    .compile_uncached(&p.live, p.layout, scoring)
                    .is_ok()
                {
                    us.push(t.elapsed().as_nanos() as f64 / 1e3);
                }
            }
        }
        us
    }
}

// ---------------------------------------------------------------------------------------------
// Search figures.

/// A config of the search figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchConfig {
    /// The built-in demo (`examples/demo_linear.toml`): linear regression, FEC on.
    Demo,
    /// `examples/nonlinear_nn.toml`: the 2-layer network's Setup evolved, FEC off.
    Nonlinear,
}

/// The configs of the search figures, in report order.
pub const SEARCH_CONFIGS: [SearchConfig; 2] = [SearchConfig::Demo, SearchConfig::Nonlinear];

/// The executors of the search figures, in report order.
pub const SEARCH_EXECUTORS: [ExecutorChoice; 3] = [
    ExecutorChoice::Interp,
    ExecutorChoice::Jit,
    ExecutorChoice::Auto,
];

impl SearchConfig {
    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            SearchConfig::Demo => "demo",
            SearchConfig::Nonlinear => "nonlinear",
        }
    }

    /// The config set up to search for the whole time: no sufficient fitness and no experiment
    /// limit (an experiment that meets its own limits, such as the nonlinear config's train
    /// steps, is followed by another), no time limit of its own, no progress lines.
    ///
    /// # Errors
    /// If the embedded config does not parse (a bug).
    pub fn experiment(self) -> Result<Experiment, BenchError> {
        let mut e = match self {
            SearchConfig::Demo => config::demo(),
            SearchConfig::Nonlinear => {
                config::parse(NONLINEAR_CONFIG, NONLINEAR_CONFIG_NAME, Path::new("."))?
            }
        };
        e.sufficient_fitness = None;
        e.max_experiments = 0;
        e.max_seconds = None;
        e.progress_every = 0;
        Ok(e)
    }
}

/// Every config × executor search, `seconds` each.
fn search_figures(
    seconds: f64,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<SearchFigure>, BenchError> {
    // `auto` measures its break-even once per process: before the clock, not in the first search.
    BreakEven::get();
    let mut figures = Vec::new();
    for config in SEARCH_CONFIGS {
        let experiment = config.experiment()?;
        let config = config.name();
        for executor in SEARCH_EXECUTORS {
            progress(&format!(
                "search: {config} with {} for {seconds} s",
                executor.name()
            ));
            let options = RunOptions {
                seed: Some(SEARCH_SEED),
                max_seconds: Some(seconds),
                executor,
                threads: Some(1),
                ..RunOptions::default()
            };
            let summary =
                crate::experiment::run(&experiment, &options, |_| {}).map_err(|source| {
                    BenchError::Run {
                        config,
                        executor: executor.name(),
                        source: Box::new(source),
                    }
                })?;
            figures.push(search_figure(config, executor, &summary));
        }
    }
    Ok(figures)
}

/// A search's figure from its summary: individuals over the seconds of evolution.
fn search_figure(config: &str, executor: ExecutorChoice, summary: &Summary) -> SearchFigure {
    let records = &summary.per_experiment;
    let individuals: u64 = records.iter().map(|r| r.individuals).sum();
    let seconds: f64 = records.iter().map(|r| r.seconds).sum();
    SearchFigure {
        config: config.to_string(),
        executor: executor.name().to_string(),
        individuals_per_second: individuals as f64 / seconds.max(1e-9),
        individuals,
        seconds,
        experiments: summary.experiments,
        wall_seconds: summary.seconds,
    }
}

// ---------------------------------------------------------------------------------------------
// The readable report.

impl SuiteReport {
    /// The report as tables for people: per-example ns (a column per executor and the JIT's
    /// speed-up), compile latency, search throughput.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        self.per_example_table(&mut out);
        self.compile_table(&mut out);
        self.search_table(&mut out);
        out
    }

    /// The executors of the per-example rows, in order of appearance.
    fn executors(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for row in &self.per_example_ns {
            if !names.contains(&row.executor.as_str()) {
                names.push(&row.executor);
            }
        }
        names
    }

    /// The (program, F) cases of the per-example rows, in order of appearance.
    fn cases(&self) -> Vec<(ProgramKind, usize)> {
        let mut cases = Vec::new();
        for row in &self.per_example_ns {
            if !cases.contains(&(row.program, row.features)) {
                cases.push((row.program, row.features));
            }
        }
        cases
    }

    /// The per-example ns of `program` at `features` by `executor`.
    fn ns(&self, program: ProgramKind, features: usize, executor: &str) -> Option<f64> {
        self.per_example_ns
            .iter()
            .find(|r| r.program == program && r.features == features && r.executor == executor)
            .and_then(|r| r.ns)
    }

    fn per_example_table(&self, out: &mut String) {
        let executors = self.executors();
        let _ = write!(out, "ns per example   {:>4}", "F");
        for e in &executors {
            let _ = write!(out, " {e:>10}");
        }
        let _ = writeln!(
            out,
            " {:>13} {:>13} {:>13}",
            "lanes speed-up", "jit speed-up", "jit-lanes s-u"
        );
        for (program, features) in self.cases() {
            let _ = write!(out, "{:<16} {features:>4}", program.name());
            for e in &executors {
                let _ = write!(out, " {:>10}", fixed(self.ns(program, features, e), 1));
            }
            let speedup = |executor: &str| {
                self.ns(program, features, "interp")
                    .zip(self.ns(program, features, executor))
                    .map(|(i, j)| i / j.max(1e-9))
            };
            let (lanes, jit) = (speedup("lanes"), speedup("jit"));
            let _ = writeln!(
                out,
                " {:>13}x {:>12}x {:>12}x",
                fixed(lanes, 2),
                fixed(jit, 2),
                fixed(speedup("jit-lanes"), 2)
            );
        }
        let _ = writeln!(out);
    }

    fn compile_table(&self, out: &mut String) {
        let c = &self.compile_latency_us;
        let _ = writeln!(out, "compile µs       {:>4} {:>10}", "F", "median");
        for p in &c.per_program {
            let _ = writeln!(
                out,
                "{:<16} {:>4} {:>10}",
                p.program.name(),
                p.features,
                fixed(p.us, 0)
            );
        }
        let _ = writeln!(out, "{:<21} {:>10}", "all", fixed(c.median, 0));
        let _ = writeln!(out);
    }

    fn search_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "individuals/s    {:>8} {:>12} {:>12} {:>8} {:>12}",
            "executor", "ind/s", "individuals", "seconds", "experiments"
        );
        for s in &self.search {
            let _ = writeln!(
                out,
                "{:<16} {:>8} {:>12.0} {:>12} {:>8.2} {:>12}",
                s.config,
                s.executor,
                s.individuals_per_second,
                s.individuals,
                s.seconds,
                s.experiments
            );
        }
    }
}

/// `value` with `decimals` decimals, `-` when absent.
fn fixed(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let ok = SuiteSettings::default();
        assert!(ok.check().is_ok());
        for seconds in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let s = SuiteSettings {
                seconds,
                ..ok.clone()
            };
            assert!(
                matches!(s.check(), Err(BenchError::Seconds(_))),
                "{seconds}"
            );
        }
        let s = SuiteSettings {
            repeats: 0,
            ..ok.clone()
        };
        assert!(matches!(s.check(), Err(BenchError::Zero("repeats"))));
    }

    #[test]
    fn random_programs_are_fixed_and_train_through() {
        let s = SuiteSettings {
            tasks: 2,
            train_examples: 20,
            valid_examples: 5,
            random_programs: 3,
            ..SuiteSettings::default()
        };
        let a = Case::new(ProgramKind::Random, 4, &s).unwrap();
        let b = Case::new(ProgramKind::Random, 4, &s).unwrap();
        assert_eq!(a.programs.len(), 3);
        for (x, y) in a.programs.iter().zip(&b.programs) {
            assert_eq!(x.live, y.live);
            // Every train and validation example of both tasks.
            assert_eq!(x.examples, 2 * 25);
        }
    }

    #[test]
    fn the_configs_search_for_the_whole_time() {
        for config in SEARCH_CONFIGS {
            let e = config.experiment().unwrap();
            assert_eq!(e.sufficient_fitness, None);
            assert_eq!(e.max_experiments, 0);
        }
        let nonlinear = SearchConfig::Nonlinear.experiment().unwrap();
        assert_eq!(nonlinear.source, NONLINEAR_CONFIG_NAME);
    }
}
