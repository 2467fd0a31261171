//! The JIT executor: SEMANTICS.md §4 with Predict and Learn compiled to native code
//! (crate `amlz-jit`), bit-exact with [`super::interp::evaluate`].
//!
//! [`JitExecutor::prepare`] eliminates dead code, decodes the algorithm for the interpreter (which
//! runs Setup, and everything when compilation fails) and compiles its live Predict and Learn,
//! reusing cached code of the same live structure. [`evaluate`] then zeroes the memory, runs Setup
//! in the interpreter, and per epoch calls the native train loop and the native validation loop;
//! only the epoch loop, the fitness formulas and the observer calls stay in Rust.
//!
//! When code generation fails (a Cranelift error, an unsupported case, a panic inside Cranelift)
//! the prepared program keeps the error, every evaluation of it runs in the interpreter, and the
//! fallback is counted ([`JitStats::fallbacks`], [`fallback_evaluations`]): never fatal.

use super::epochs::{self, TrainPass, run_epochs, validation_fitness};
use super::interp::{self, Memory, Program};
use super::{LaneObserver, Limits, Observer, OneLane, Outcome};
use crate::task::{EvalType, Task};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{AddressError, Algorithm, ComponentFunction, Layout, Rng};
use amlz_jit::{
    CompiledAlgorithm, Compiler, CompilerStats, Examples, JitConfig, JitError, Lane, LaneSinks,
    Scoring, State, TrainEnd, ValidationEnd,
};
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Evaluations (in this process) that ran in the interpreter because their program had no
/// compiled code.
static FALLBACK_EVALUATIONS: AtomicU64 = AtomicU64::new(0);

/// How many evaluations in this process fell back to the interpreter for lack of compiled code.
pub fn fallback_evaluations() -> u64 {
    FALLBACK_EVALUATIONS.load(Ordering::Relaxed)
}

/// Counters of one executor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Programs prepared.
    pub prepared: u64,
    /// Programs whose code generation failed: they run in the interpreter.
    pub fallbacks: u64,
    /// The compiler's own counters (compiles, cache hits, failures, code generations).
    pub compiler: CompilerStats,
}

/// The scoring compiled code implements for an eval type.
pub fn scoring(eval_type: EvalType) -> Scoring {
    match eval_type {
        EvalType::RmsError => Scoring::Rms,
        EvalType::Accuracy => Scoring::Accuracy,
    }
}

/// An algorithm prepared for the JIT executor: dead code eliminated, decoded for the
/// interpreter, and (unless code generation failed) compiled.
#[derive(Clone, Debug)]
pub struct JitProgram {
    program: Program,
    compiled: Result<CompiledAlgorithm, JitError>,
    /// Code for several tasks side by side ([`evaluate_lanes`]), where it was asked for and
    /// could be generated.
    lanes: Option<CompiledAlgorithm>,
    eval_type: EvalType,
}

/// The buffers of a [`JitProgram`]'s constants, passed on from one candidate to the next so
/// that pairing code with a candidate's constants allocates nothing.
#[derive(Debug, Default)]
pub struct ConstantBuffers {
    /// For the single-task code's constants.
    pub single: Vec<f64>,
    /// For the multi-lane code's constants.
    pub lanes: Vec<f64>,
}

impl JitProgram {
    /// A prepared program from its parts: `program`, the dead-code-eliminated algorithm decoded
    /// for the interpreter (Setup runs from it), and `compiled`, native code for that same
    /// algorithm scored by `eval_type` (for code compiled elsewhere, e.g. on a background thread).
    pub fn from_parts(
        program: Program,
        compiled: CompiledAlgorithm,
        eval_type: EvalType,
    ) -> JitProgram {
        JitProgram {
            program,
            compiled: Ok(compiled),
            lanes: None,
            eval_type,
        }
    }

    /// The same program with multi-lane code `lanes` (compiled for the same algorithm and eval
    /// type), or without any.
    pub fn with_lanes(self, lanes: Option<CompiledAlgorithm>) -> JitProgram {
        JitProgram { lanes, ..self }
    }

    /// Its decoding and the buffers of its constants (single-task code, multi-lane code; empty
    /// where it has none), given back for reuse by the next candidate (see
    /// [`crate::exec::Executor::prepare_reusing`]).
    pub fn into_parts(self) -> (Program, ConstantBuffers) {
        let buffers = ConstantBuffers {
            single: self
                .compiled
                .map_or_else(|_| Vec::new(), CompiledAlgorithm::into_buffer),
            lanes: self
                .lanes
                .map_or_else(Vec::new, CompiledAlgorithm::into_buffer),
        };
        (self.program, buffers)
    }

    /// The dead-code-eliminated algorithm decoded for the interpreter (Setup runs from it).
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The memory layout.
    pub fn layout(&self) -> Layout {
        self.program.layout()
    }

    /// The eval type the code was compiled for.
    pub fn eval_type(&self) -> EvalType {
        self.eval_type
    }

    /// Whether evaluations run compiled code (else the interpreter).
    pub fn is_compiled(&self) -> bool {
        self.compiled.is_ok()
    }

    /// Why the program has no compiled code, if it has none.
    pub fn fallback_reason(&self) -> Option<&JitError> {
        self.compiled.as_ref().err()
    }

    /// The compiled code, if any.
    pub fn compiled(&self) -> Option<&CompiledAlgorithm> {
        self.compiled.as_ref().ok()
    }

    /// The compiled code for several tasks side by side, if any.
    pub fn lanes(&self) -> Option<&CompiledAlgorithm> {
        self.lanes.as_ref()
    }
}

/// Prepares algorithms for native evaluation: one per worker thread (it owns a JIT
/// [`Compiler`], its code memory and its code cache).
#[derive(Debug)]
pub struct JitExecutor {
    compiler: Result<Compiler, JitError>,
    stats: JitStats,
}

impl JitExecutor {
    /// An executor compiling with `config`. If the JIT cannot be set up on this machine, every
    /// program it prepares falls back to the interpreter (see [`JitExecutor::setup_error`]).
    pub fn new(config: JitConfig) -> JitExecutor {
        JitExecutor {
            compiler: Compiler::new(config),
            stats: JitStats::default(),
        }
    }

    /// Why the JIT could not be set up, if it could not.
    pub fn setup_error(&self) -> Option<&JitError> {
        self.compiler.as_ref().err()
    }

    /// The counters so far.
    pub fn stats(&self) -> JitStats {
        let mut s = self.stats;
        if let Ok(c) = &self.compiler {
            s.compiler = c.stats();
        }
        s
    }

    /// The compiler (for cache control and statistics), if set up.
    pub fn compiler_mut(&mut self) -> Option<&mut Compiler> {
        self.compiler.as_mut().ok()
    }

    /// Prepares `algorithm` for tasks of `layout`'s feature size scored by `eval_type`: checks
    /// its addresses, eliminates dead code, decodes it for the interpreter and compiles its live
    /// Predict and Learn (or reuses cached code). A code-generation failure is not an error
    /// here: the program then runs in the interpreter and the fallback is counted.
    ///
    /// # Errors
    /// If an address of the algorithm does not fit `layout` (as [`Program::new`]).
    pub fn prepare(
        &mut self,
        algorithm: &Algorithm,
        layout: Layout,
        eval_type: EvalType,
    ) -> Result<JitProgram, AddressError> {
        self.prepare_lanes(algorithm, layout, eval_type, 1)
    }

    /// As [`JitExecutor::prepare`], and where `lanes` > 1 also code that runs that many tasks
    /// side by side ([`evaluate_lanes`]; capped at [`amlz_jit::MAX_LANES`]). Where only the
    /// multi-lane code fails to generate, groups of tasks run one task at a time.
    ///
    /// # Errors
    /// As [`JitExecutor::prepare`].
    pub fn prepare_lanes(
        &mut self,
        algorithm: &Algorithm,
        layout: Layout,
        eval_type: EvalType,
        lanes: usize,
    ) -> Result<JitProgram, AddressError> {
        algorithm.check_addresses(&layout.counts())?;
        let live = eliminate_dead_code(algorithm);
        let program = Program::new(&live, layout)?;
        let scoring = scoring(eval_type);
        let (compiled, multi) = match &mut self.compiler {
            Ok(c) => {
                let compiled = c.compile(&live, layout, scoring);
                let lanes = lanes.min(amlz_jit::MAX_LANES);
                let multi = (compiled.is_ok() && lanes > 1)
                    .then(|| c.compile_lanes(&live, layout, scoring, lanes).ok())
                    .flatten();
                (compiled, multi)
            }
            Err(e) => (Err(e.clone()), None),
        };
        self.stats.prepared += 1;
        if compiled.is_err() {
            self.stats.fallbacks += 1;
        }
        Ok(JitProgram {
            program,
            compiled,
            lanes: multi,
            eval_type,
        })
    }
}

/// A task's examples packed as the JIT's loops read them: the train rows of every epoch's
/// visiting order and the validation rows ([`amlz_jit::pack_rows`]), about (F + 1)/F times the
/// task's data per epoch. Packed from the task on first use and kept for every later evaluation
/// on it: whoever holds a task collection for many evaluations holds one of these per task
/// (packing on every evaluation was measured to cost more than short evaluations).
#[derive(Default)]
pub struct PackedRows(OnceLock<Packed>);

struct Packed {
    /// The shape of the task packed, to catch rows handed in with another task.
    shape: (usize, usize, usize, usize),
    train: Vec<Vec<f64>>,
    valid: Vec<f64>,
}

/// What [`PackedRows`] checks a task against: F, train and validation counts, epochs.
fn shape(task: &Task) -> (usize, usize, usize, usize) {
    (
        task.features,
        task.num_train(),
        task.num_valid(),
        task.num_epochs(),
    )
}

impl PackedRows {
    fn get(&self, task: &Task) -> &Packed {
        let packed = self.0.get_or_init(|| {
            let f = task.features;
            let pack = amlz_jit::pack_rows;
            Packed {
                shape: shape(task),
                train: (0..task.num_epochs())
                    .map(|e| {
                        pack(
                            &task.train_features,
                            &task.train_labels,
                            f,
                            task.epoch_order(e),
                        )
                    })
                    .collect(),
                valid: pack(&task.valid_features, &task.valid_labels, f, None),
            }
        });
        assert_eq!(packed.shape, shape(task), "rows packed from another task");
        packed
    }

    /// The train examples of `task` as rows of F features and the label, in the visiting order
    /// of `epoch` (see [`amlz_jit::Examples`]).
    ///
    /// # Panics
    /// If these rows were packed from a task of another shape.
    pub fn train<'a>(&'a self, task: &Task, epoch: usize) -> &'a [f64] {
        &self.get(task).train[epoch]
    }

    /// The validation examples of `task` as rows of F features and the label, in stored order.
    ///
    /// # Panics
    /// If these rows were packed from a task of another shape.
    pub fn valid<'a>(&'a self, task: &Task) -> &'a [f64] {
        &self.get(task).valid
    }
}

impl std::fmt::Debug for PackedRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "PackedRows(packed)"
        } else {
            "PackedRows"
        })
    }
}

/// Per-thread buffers an evaluation borrows: scratch for aliased matrix products and the
/// predictions a native loop writes for the observer.
#[derive(Default)]
struct Buffers {
    scratch: Vec<f64>,
    predictions: Vec<f64>,
}

thread_local! {
    static BUFFERS: Cell<Buffers> = Cell::new(Buffers::default());
}

/// Evaluates `program` on `task` (SEMANTICS.md §4) with compiled Predict and Learn, reading the
/// examples from `rows` (packed from `task` on first use: hand the same [`PackedRows`] to every
/// evaluation on the task). Zeroed memory, Setup in the interpreter, then per epoch the native train loop (early stop included)
/// and the native validation loop; returns the best epoch's fitness. Same contract as
/// [`interp::evaluate`] — same fitness, train steps, observer calls, final memory and random
/// stream — for the dead-code-eliminated algorithm.
///
/// Runs in the interpreter (counted in [`fallback_evaluations`]) when the program has no
/// compiled code or was compiled for another eval type than the task's.
///
/// # Panics
/// If the task's feature size differs from the program's layout.
pub fn evaluate<O: Observer>(
    program: &JitProgram,
    task: &Task,
    rows: &PackedRows,
    memory: &mut Memory,
    rng: &mut Rng,
    limits: &Limits,
    observer: &mut O,
) -> Outcome {
    let layout = program.layout();
    assert_eq!(
        layout.features(),
        task.features,
        "program prepared for another feature size"
    );
    let compiled = match &program.compiled {
        Ok(c) if program.eval_type == task.eval_type => c,
        _ => {
            FALLBACK_EVALUATIONS.fetch_add(1, Ordering::Relaxed);
            return interp::evaluate(&program.program, task, memory, rng, limits, observer);
        }
    };
    memory.reset(&layout);
    interp::run_component(&program.program, ComponentFunction::Setup, memory, rng);

    let f = layout.features();
    let need = task
        .num_train()
        .min(limits.max_train)
        .max(task.num_valid().min(limits.max_valid));
    let mut bufs = BUFFERS.take();
    if bufs.scratch.len() < f * f {
        bufs.scratch.resize(f * f, 0.0);
    }
    if bufs.predictions.len() < need {
        bufs.predictions.resize(need, 0.0);
    }
    let mut passes = Passes {
        compiled,
        task,
        rows,
        state: State {
            memory: memory.values_mut(),
            scratch: &mut bufs.scratch,
            rng,
        },
        predictions: &mut bufs.predictions,
        observer,
    };
    let outcome = run_epochs(task, limits, &mut passes);
    BUFFERS.set(bufs);
    outcome
}

/// The lane count of the multi-lane code searches compile: tasks run in groups of this many.
pub const NATIVE_LANES: usize = 4;

/// Per-thread buffers of native multi-task evaluations: scratch, each lane's predictions and
/// the sinks of stopped lanes.
#[derive(Default)]
struct LaneBuffers {
    scratch: Vec<f64>,
    predictions: Vec<Vec<f64>>,
    sinks: LaneSinks,
}

thread_local! {
    static LANE_BUFFERS: Cell<LaneBuffers> = Cell::new(LaneBuffers::default());
}

/// Evaluates `program` on each of `tasks` (of one shape, [`epochs::same_shape`]) with its
/// multi-lane code, `rows[lane]` holding task `lane`'s rows: `out[lane]`, `memories[lane]`,
/// `rngs[lane]` and the predictions `observer` sees for the lane are exactly what [`evaluate`]
/// gives for `tasks[lane]` alone. The tasks run in groups of the code's lane count, each
/// group's examples side by side; every lane stops on its own.
///
/// Runs each task alone with [`evaluate`] where the program has no multi-lane code or was
/// compiled for another eval type.
///
/// # Panics
/// If `rows`, `rngs` or `out` do not hold one per task, the tasks differ in shape, or their
/// feature size differs from the program's layout.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_lanes<O: LaneObserver>(
    program: &JitProgram,
    tasks: &[&Task],
    rows: &[&PackedRows],
    memories: &mut Vec<Memory>,
    rngs: &mut [Rng],
    limits: &Limits,
    out: &mut [Outcome],
    observer: &mut O,
) {
    let n = tasks.len();
    assert!(
        rows.len() == n && rngs.len() == n && out.len() == n,
        "one row set, random stream and outcome per task"
    );
    if memories.len() < n {
        memories.resize_with(n, Memory::default);
    }
    let code = match &program.lanes {
        Some(c) if tasks.iter().all(|t| t.eval_type == program.eval_type) => c,
        _ => {
            for lane in 0..n {
                let watch = &mut OneLane {
                    lanes: &mut *observer,
                    lane,
                };
                let (memory, rng) = (&mut memories[lane], &mut rngs[lane]);
                out[lane] = evaluate(program, tasks[lane], rows[lane], memory, rng, limits, watch);
            }
            return;
        }
    };
    let mut bufs = LANE_BUFFERS.take();
    let width = code.code().lanes();
    for start in (0..n).step_by(width) {
        let group = start..(start + width).min(n);
        for lane in group.clone() {
            setup(program, tasks[lane], &mut memories[lane], &mut rngs[lane]);
        }
        bufs.fit(&program.layout(), width, tasks[start], limits);
        let mut passes = LanePassesNative {
            code,
            tasks: &tasks[group.clone()],
            rows: &rows[group.clone()],
            memories: &mut memories[group.clone()],
            rngs: &mut rngs[group.clone()],
            bufs: &mut bufs,
            observer: &mut *observer,
            first: start,
        };
        epochs::run_epochs_lanes(&tasks[group.clone()], limits, &mut passes, &mut out[group]);
    }
    LANE_BUFFERS.set(bufs);
}

/// Zeroes `memory` and runs `program`'s Setup on it in the interpreter, for `task`.
///
/// # Panics
/// If the task's feature size differs from the program's layout.
fn setup(program: &JitProgram, task: &Task, memory: &mut Memory, rng: &mut Rng) {
    let layout = program.layout();
    assert_eq!(
        task.features,
        layout.features(),
        "program prepared for another feature size"
    );
    memory.reset(&layout);
    interp::run_component(&program.program, ComponentFunction::Setup, memory, rng);
}

impl LaneBuffers {
    /// Makes room for `width` lanes of `layout` evaluating tasks of `task`'s shape within
    /// `limits`.
    fn fit(&mut self, layout: &Layout, width: usize, task: &Task, limits: &Limits) {
        let f = layout.features();
        if self.scratch.len() < f * f {
            self.scratch.resize(f * f, 0.0);
        }
        let need = task
            .num_train()
            .min(limits.max_train)
            .max(task.num_valid().min(limits.max_valid));
        if self.predictions.len() < width {
            self.predictions.resize_with(width, Vec::new);
        }
        for p in &mut self.predictions {
            if p.len() < need {
                p.resize(need, 0.0);
            }
        }
    }
}

/// The multi-lane native loops' passes over one group of tasks (at most the code's lanes).
struct LanePassesNative<'a, O> {
    code: &'a CompiledAlgorithm,
    tasks: &'a [&'a Task],
    rows: &'a [&'a PackedRows],
    memories: &'a mut [Memory],
    rngs: &'a mut [Rng],
    bufs: &'a mut LaneBuffers,
    observer: &'a mut O,
    /// The index of the group's first lane among all the evaluation's lanes (for the observer).
    first: usize,
}

impl<'a, O: LaneObserver> LanePassesNative<'a, O> {
    /// Calls `call` with the code, the lanes of a call (`Some` for each running lane, over
    /// `examples(lane)`), the scratch and the sinks.
    fn call(
        &mut self,
        running: &[bool],
        examples: impl Fn(usize) -> Examples<'a>,
        call: impl FnOnce(&CompiledAlgorithm, &mut [Option<Lane<'_>>], &mut [f64], &mut LaneSinks),
    ) {
        let LaneBuffers {
            scratch,
            sinks,
            predictions,
        } = &mut *self.bufs;
        let mut lanes: [Option<Lane<'_>>; amlz_jit::MAX_LANES] = Default::default();
        let parts = self
            .memories
            .iter_mut()
            .zip(self.rngs.iter_mut())
            .zip(predictions.iter_mut());
        for (j, ((memory, rng), preds)) in parts.enumerate() {
            if running[j] {
                lanes[j] = Some(Lane {
                    memory: memory.values_mut(),
                    rng,
                    examples: examples(j),
                    predictions: preds,
                });
            }
        }
        call(self.code, &mut lanes[..self.tasks.len()], scratch, sinks);
    }
}

impl<O: LaneObserver> epochs::LanePasses for LanePassesNative<'_, O> {
    fn train(&mut self, epoch: usize, count: usize, running: &[bool], passes: &mut [TrainPass]) {
        let n = self.tasks.len();
        let (tasks, rows) = (self.tasks, self.rows);
        let mut ends = [TrainEnd {
            steps: 0,
            stopped: false,
        }; amlz_jit::MAX_LANES];
        let examples = |j: usize| Examples {
            rows: rows[j].train(tasks[j], epoch),
            count,
            max_abs_error: tasks[j].max_abs_error,
        };
        self.call(running, examples, |code, lanes, scratch, sinks| {
            code.train_lanes(lanes, scratch, sinks, &mut ends[..n]);
        });
        for j in (0..n).filter(|&j| running[j]) {
            let task = tasks[j];
            let rows = rows[j].train(task, epoch);
            let labels = rows.iter().skip(task.features).step_by(task.features + 1);
            let preds = &self.bufs.predictions[j][..ends[j].predictions()];
            for (&p, &label) in preds.iter().zip(labels) {
                self.observer.train(self.first + j, label, p);
            }
            passes[j] = TrainPass {
                steps: ends[j].steps as u64,
                stopped: ends[j].stopped,
            };
        }
    }

    fn validate(&mut self, count: usize, running: &[bool], fitness: &mut [f64]) {
        let n = self.tasks.len();
        let (tasks, rows) = (self.tasks, self.rows);
        let none = ValidationEnd {
            predictions: 0,
            failed: false,
            loss: 0.0,
            wrong: 0,
        };
        let mut ends = [none; amlz_jit::MAX_LANES];
        let examples = |j: usize| Examples {
            rows: rows[j].valid(tasks[j]),
            count,
            max_abs_error: tasks[j].max_abs_error,
        };
        self.call(running, examples, |code, lanes, scratch, sinks| {
            code.validate_lanes(lanes, scratch, sinks, &mut ends[..n]);
        });
        for j in (0..n).filter(|&j| running[j]) {
            let task = tasks[j];
            let end = ends[j];
            let preds = &self.bufs.predictions[j][..end.predictions];
            for (&p, &label) in preds.iter().zip(&task.valid_labels) {
                self.observer.valid(self.first + j, label, p);
            }
            fitness[j] = validation_fitness(task.eval_type, end.failed, end.loss, end.wrong, count);
        }
    }
}

/// The native loops' passes over a task's examples; predictions come back in a buffer and are
/// handed to the observer after each pass.
struct Passes<'a, O> {
    compiled: &'a CompiledAlgorithm,
    task: &'a Task,
    rows: &'a PackedRows,
    state: State<'a>,
    predictions: &'a mut [f64],
    observer: &'a mut O,
}

impl<O: Observer> epochs::Passes for Passes<'_, O> {
    fn train(&mut self, epoch: usize, count: usize) -> TrainPass {
        let task = self.task;
        let rows = self.rows.train(task, epoch);
        let ex = Examples {
            rows,
            count,
            max_abs_error: task.max_abs_error,
        };
        let end = self.compiled.train(&mut self.state, &ex, self.predictions);
        let labels = rows.iter().skip(task.features).step_by(task.features + 1);
        for (&p, &label) in self.predictions[..end.predictions()].iter().zip(labels) {
            self.observer.train(label, p);
        }
        TrainPass {
            steps: end.steps as u64,
            stopped: end.stopped,
        }
    }

    fn validate(&mut self, count: usize) -> f64 {
        let task = self.task;
        let ex = Examples {
            rows: self.rows.valid(task),
            count,
            max_abs_error: task.max_abs_error,
        };
        let end = self
            .compiled
            .validate(&mut self.state, &ex, self.predictions);
        let preds = &self.predictions[..end.predictions];
        for (&p, &label) in preds.iter().zip(&task.valid_labels) {
            self.observer.valid(label, p);
        }
        validation_fitness(task.eval_type, end.failed, end.loss, end.wrong, count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::generate::{Sizes, TaskSettings, scalar_linear_regression};

    fn task() -> Task {
        let sizes = Sizes {
            features: 3,
            num_train: 20,
            num_valid: 5,
        };
        let settings = TaskSettings {
            eval_type: EvalType::RmsError,
            max_abs_error: crate::task::DEFAULT_MAX_ABS_ERROR,
            num_train_epochs: 3,
        };
        scalar_linear_regression(sizes, &settings, 1, 2)
    }

    #[test]
    fn packed_rows_visit_each_epochs_order_with_the_labels() {
        let t = task();
        let packed = PackedRows::default();
        for epoch in 0..t.num_epochs() {
            let rows = packed.train(&t, epoch);
            assert_eq!(rows.len(), t.num_train() * 4);
            for (k, row) in rows.chunks(4).enumerate() {
                let i = t.epoch_order(epoch).map_or(k, |o| o[k] as usize);
                assert_eq!(&row[..3], t.train_example(i), "epoch {epoch} step {k}");
                assert_eq!(row[3], t.train_labels[i]);
            }
        }
        assert_ne!(
            packed.train(&t, 1),
            packed.train(&t, 0),
            "epoch 1 is shuffled"
        );
        let valid: Vec<f64> = (0..t.num_valid())
            .flat_map(|i| [t.valid_example(i), &[t.valid_labels[i]]].concat())
            .collect();
        assert_eq!(packed.valid(&t), valid);
    }

    #[test]
    #[should_panic(expected = "rows packed from another task")]
    fn rows_packed_from_another_task_are_refused() {
        let t = task();
        let packed = PackedRows::default();
        packed.valid(&t);
        let mut other = t.clone();
        other.train_labels.pop();
        packed.valid(&other);
    }
}
