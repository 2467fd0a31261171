//! The per-thread compiler: Cranelift contexts, code generations and the compile cache.
//!
//! Shape of cranelift-jit-demo: one [`Compiler`] per worker thread owns the
//! `FunctionBuilderContext` and the `codegen::Context`, reused across compilations. Compiled code
//! is defined in the `JITModule` of the current *generation* ([`crate::module`]), which links its
//! calls to helpers and makes it executable. Every [`CompiledCode`] holds an `Arc` of its
//! generation, and a generation frees its module's memory when the last reference goes. A
//! generation takes at most [`JitConfig::functions_per_module`] functions, and the cache drops
//! entries of generations older than [`JitConfig::cached_generations`], so code memory stays
//! bounded over a long search.

use crate::abi::{LanesArgs, LoopArgs};
use crate::lower::{self, HelperImports};
use crate::module::{Generation, LIVE_GENERATIONS};
use crate::{JitError, Scoring};
use amlz_ir::analysis::{
    LiveStructure, StructuralInstruction, constant_data, constant_data_into, constant_slots,
    live_structure,
};
use amlz_ir::{Algorithm, Bank, Layout, Rng};
use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cranelift's optimisation level for generated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    /// No e-graph optimisation: fastest compiles (the lowering already emits lean code).
    None,
    /// Cranelift's `speed`: GVN, LICM, constant folding; slower compiles.
    Speed,
}

/// Which of Cranelift's register allocators compiles a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegAlloc {
    /// regalloc2's backtracking allocator: keeps values in registers, 1.5–3× the compile time.
    Backtracking,
    /// regalloc2's single-pass allocator: fastest compiles, but every value live across a block
    /// boundary goes through the stack, so loops run markedly slower.
    SinglePass,
    /// Backtracking for functions of at most this many Cranelift IR instructions (small
    /// programs, where it is cheap and pays most), single-pass above (large programs, where it
    /// is expensive and matrix helpers dominate the run time anyway).
    Adaptive(usize),
}

/// The default IR-size limit of [`RegAlloc::Adaptive`].
pub const ADAPTIVE_LIMIT: usize = 250;

/// How the compiler generates code and manages code memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitConfig {
    /// Optimisation level.
    pub opt_level: OptLevel,
    /// Register allocator policy.
    pub regalloc: RegAlloc,
    /// Run Cranelift's IR verifier on every function (on in tests, off in release: it adds
    /// 20–60% to compile time).
    pub verifier: bool,
    /// Functions per code generation (one `cranelift-jit` module) before a fresh generation is
    /// started: one function per compiled structure.
    pub functions_per_module: usize,
    /// Most compiled structures kept in the cache (least recently used dropped first).
    pub cache_capacity: usize,
    /// The cache keeps entries of only this many most recent generations, so that at most this
    /// many generations are kept alive by the cache.
    pub cached_generations: usize,
}

impl Default for JitConfig {
    /// No e-graph optimisation (the lowering already emits lean code), adaptive register
    /// allocation, the verifier in debug builds only, generations of 1000 functions, a cache of 4096
    /// structures over at most 4 generations.
    fn default() -> Self {
        JitConfig {
            opt_level: OptLevel::None,
            regalloc: RegAlloc::Adaptive(ADAPTIVE_LIMIT),
            verifier: cfg!(debug_assertions),
            functions_per_module: 1000,
            cache_capacity: 4096,
            cached_generations: 4,
        }
    }
}

/// Counters of one compiler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompilerStats {
    /// Structures compiled (cache misses that succeeded).
    pub compiled: u64,
    /// Requests served from the cache.
    pub cache_hits: u64,
    /// Compilations that failed (Cranelift error, unsupported case, panic).
    pub failures: u64,
    /// Code generations started.
    pub modules: u64,
    /// Wall nanoseconds spent generating code (successes and failures; cache hits cost none).
    pub compile_ns: u64,
}

/// How many code generations are alive in the whole process (their code memory not yet freed).
pub fn live_generations() -> usize {
    LIVE_GENERATIONS.load(Ordering::Relaxed)
}

type LoopFn = unsafe extern "C" fn(*mut LoopArgs);

/// Compiled train and validation loops for one live structure, layout and scoring. Shared
/// (`Arc`) by every algorithm with that structure; keeps its code generation alive.
pub struct CompiledCode {
    run: LoopFn,
    layout: Layout,
    scoring: Scoring,
    /// How many lanes the code runs side by side (1: one task per call, [`LoopArgs`]; more:
    /// [`LanesArgs`]).
    lanes: usize,
    /// Whether the code calls helpers (libm, random draws, matrix kernels).
    calls_helpers: bool,
    constants: usize,
    /// Whether Predict (`[0]`) and Learn (`[1]`) write `s0` and `v0`: then memory holds what
    /// they wrote when they ran last, and the caller must not restore the inputs.
    writes_inputs: [InputWrites; 2],
    _generation: Arc<Generation>,
}

impl std::fmt::Debug for CompiledCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledCode")
            .field("layout", &self.layout)
            .field("scoring", &self.scoring)
            .field("constants", &self.constants)
            .field("generation", &self._generation.index)
            .finish()
    }
}

/// Which of the loop's inputs a component function writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct InputWrites {
    s0: bool,
    v0: bool,
}

impl InputWrites {
    /// What `code` writes (straight-line code: a write in it happens whenever it runs).
    fn of(code: &[StructuralInstruction]) -> InputWrites {
        let writes = |bank| {
            code.iter()
                .any(|i| i.op.info().out == Some(bank) && i.out == 0)
        };
        InputWrites {
            s0: writes(Bank::Scalar),
            v0: writes(Bank::Vector),
        }
    }
}

impl CompiledCode {
    /// The memory layout the code was compiled for.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The scoring the code was compiled for.
    pub fn scoring(&self) -> Scoring {
        self.scoring
    }

    /// How many lanes the code runs side by side (1 for code of [`Compiler::compile`]).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Whether the code calls the Rust helpers (libm, random draws, matrix kernels, the
    /// ACCURACY sigmoid). Every call makes the vector registers' values go to the stack and back,
    /// once per lane in multi-lane code, which then loses to one task at a time; code without
    /// calls is where multi-lane code pays (docs/PERFORMANCE.md).
    pub fn calls_helpers(&self) -> bool {
        self.calls_helpers
    }
}

/// Where compiled loops read their examples from.
///
/// The examples come as rows in the order a pass visits them, each row F features and then the
/// label (see [`pack_rows`]), so that the loop finds an example's row from its step alone: no
/// visiting order to read and no separate label array to index, which makes every compiled
/// function ~5% cheaper to compile (the linear regressor at F=4) and each step two loads
/// shorter. A task packs its rows once per epoch order and reuses them for every evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Examples<'a> {
    /// At least `count` rows of `F + 1` values: F features, then the label.
    pub rows: &'a [f64],
    /// How many examples to visit (the first `count` rows).
    pub count: usize,
    /// Train stops, and validation fails, when a prediction's absolute error exceeds this.
    pub max_abs_error: f64,
}

/// The mutable state compiled loops work on.
#[derive(Debug)]
pub struct State<'a> {
    /// The evaluation's memory, in the layout the code was compiled for.
    pub memory: &'a mut [f64],
    /// At least F² scratch values.
    pub scratch: &'a mut [f64],
    /// The evaluation's random stream.
    pub rng: &'a mut Rng,
}

/// How a train loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainEnd {
    /// Train steps (Predict+Learn pairs) completed.
    pub steps: usize,
    /// Whether training stopped early (a prediction's error was NaN or too large); then the
    /// prediction of example `steps` was made and its Learn did not run.
    pub stopped: bool,
}

impl TrainEnd {
    /// How many predictions were written (and should be reported to an observer).
    pub fn predictions(&self) -> usize {
        self.steps + self.stopped as usize
    }
}

/// How a validation loop ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidationEnd {
    /// Predictions made (including the failing one).
    pub predictions: usize,
    /// Whether validation failed (RMS: an error NaN or too large; ACCURACY: a sigmoid outside
    /// `[0, 1]`): the fitness is then 0.
    pub failed: bool,
    /// RMS_ERROR: the summed squared error (meaningful when not failed).
    pub loss: f64,
    /// ACCURACY: examples classified wrong (meaningful when not failed).
    pub wrong: usize,
}

/// The rows of [`Examples`]: for each index of `order` (every example in stored order when
/// `None`), its F `features` followed by its label.
///
/// # Panics
/// If `features` does not hold F values per label, or `order` names an example that does not
/// exist.
pub fn pack_rows(features: &[f64], labels: &[f64], f: usize, order: Option<&[u32]>) -> Vec<f64> {
    assert_eq!(features.len(), labels.len() * f, "F features per label");
    let mut rows = Vec::with_capacity(order.map_or(labels.len(), <[u32]>::len) * (f + 1));
    let mut push = |i: usize| {
        rows.extend_from_slice(&features[i * f..(i + 1) * f]);
        rows.push(labels[i]);
    };
    match order {
        Some(order) => order.iter().for_each(|&i| push(i as usize)),
        None => (0..labels.len()).for_each(push),
    }
    rows
}

/// Most lanes one compiled function runs side by side ([`Compiler::compile_lanes`]).
pub const MAX_LANES: usize = 8;

/// One lane of a multi-lane call ([`CompiledAlgorithm::train_lanes`]): a task's state and
/// examples, as a single-task call takes them.
#[derive(Debug)]
pub struct Lane<'a> {
    /// The lane's memory, in the layout the code was compiled for.
    pub memory: &'a mut [f64],
    /// The lane's random stream.
    pub rng: &'a mut Rng,
    /// The lane's examples (every lane of a call visits the same number).
    pub examples: Examples<'a>,
    /// Where the lane's predictions go (at least `examples.count` values).
    pub predictions: &'a mut [f64],
}

/// Where the lanes of a multi-lane call work once they have stopped (and lanes that do not
/// run): a memory, a random stream and predictions nobody reads. Reused across calls; grown to
/// fit, never shrunk.
#[derive(Debug)]
pub struct LaneSinks {
    memory: Vec<f64>,
    predictions: Vec<f64>,
    rng: Rng,
}

impl Default for LaneSinks {
    fn default() -> Self {
        LaneSinks {
            memory: Vec::new(),
            predictions: Vec::new(),
            rng: Rng::new(0),
        }
    }
}

impl LaneSinks {
    /// Makes room for a layout of `memory` values and `count` predictions.
    fn fit(&mut self, memory: usize, count: usize) {
        if self.memory.len() < memory {
            self.memory.resize(memory, 0.0);
        }
        if self.predictions.len() < count {
            self.predictions.resize(count, 0.0);
        }
    }
}

/// An algorithm ready to run natively: shared compiled code plus this algorithm's constants.
#[derive(Clone, Debug)]
pub struct CompiledAlgorithm {
    code: Arc<CompiledCode>,
    constants: Vec<f64>,
}

impl CompiledAlgorithm {
    /// Pairs compiled `code` with the constants of `live`, a dead-code-eliminated algorithm of
    /// the live structure the code was compiled for (the caller keys code by structure, as
    /// [`Compiler::compile`] does): lets code compiled on one thread serve other algorithms of
    /// its structure on another.
    ///
    /// # Errors
    /// If `live` has another number of constants than the code reads (then it cannot be of the
    /// code's structure).
    pub fn new(code: Arc<CompiledCode>, live: &Algorithm) -> Result<CompiledAlgorithm, JitError> {
        CompiledAlgorithm::with_buffer(code, live, Vec::new())
    }

    /// [`CompiledAlgorithm::new`] keeping the constants in `buffer` (its allocation reused:
    /// from [`CompiledAlgorithm::into_buffer`] of an earlier candidate).
    ///
    /// # Errors
    /// As for [`CompiledAlgorithm::new`].
    pub fn with_buffer(
        code: Arc<CompiledCode>,
        live: &Algorithm,
        buffer: Vec<f64>,
    ) -> Result<CompiledAlgorithm, JitError> {
        let mut constants = buffer;
        constant_data_into(live, &mut constants);
        if code.constants != constants.len() {
            return Err(JitError::Unsupported(format!(
                "the code reads {} constants, the algorithm has {}",
                code.constants,
                constants.len()
            )));
        }
        Ok(CompiledAlgorithm { code, constants })
    }

    /// Gives back the constants' buffer, for [`CompiledAlgorithm::with_buffer`].
    pub fn into_buffer(self) -> Vec<f64> {
        self.constants
    }

    /// The compiled code (shared with every algorithm of the same structure).
    pub fn code(&self) -> &Arc<CompiledCode> {
        &self.code
    }

    /// This algorithm's constants, in the order the code reads them.
    pub fn constants(&self) -> &[f64] {
        &self.constants
    }

    fn args(&self, state: &mut State<'_>, ex: &Examples<'_>, predictions: &mut [f64]) -> LoopArgs {
        let f = self.code.layout.features();
        assert!(state.scratch.len() >= f * f, "scratch smaller than F²");
        self.lane_args(
            state.memory,
            state.rng,
            ex,
            predictions,
            state.scratch.as_mut_ptr(),
        )
    }

    /// The arguments of one lane (or of a single-task call), after checking that its buffers
    /// fit the code.
    fn lane_args(
        &self,
        memory: &mut [f64],
        rng: &mut Rng,
        ex: &Examples<'_>,
        predictions: &mut [f64],
        scratch: *mut f64,
    ) -> LoopArgs {
        let layout = self.code.layout;
        let f = layout.features();
        assert_eq!(
            memory.len(),
            layout.len(),
            "memory sized for another layout"
        );
        assert!(predictions.len() >= ex.count, "prediction buffer too small");
        assert!(
            ex.count <= ex.rows.len() / (f + 1),
            "count beyond the examples"
        );
        LoopArgs {
            memory: memory.as_mut_ptr(),
            constants: self.constants.as_ptr(),
            rng: rng as *mut Rng,
            scratch,
            rows: ex.rows.as_ptr(),
            predictions: predictions.as_mut_ptr(),
            count: ex.count as u64,
            mode: 0,
            // The loop tests `!(|e| <= max)`, which is `|e|.is_nan() || |e| > max` for every
            // max but NaN; with a NaN max the interpreter stops only on a NaN error, as it does
            // with an infinite one.
            max_abs_error: if ex.max_abs_error.is_nan() {
                f64::INFINITY
            } else {
                ex.max_abs_error
            },
            loss: 0.0,
            wrong: 0,
            steps: ex.count as u64,
        }
    }

    /// Runs the train loop of SEMANTICS.md §4 over `ex`: per example `v0 = x; s0 = 0`, Predict,
    /// (ACCURACY) `s1 = sigmoid(s1)`, the prediction written to `predictions[k]`, the early-stop
    /// check, `s0 = y`, Learn.
    ///
    /// # Panics
    /// If the memory, scratch, examples or prediction buffer do not fit the code's layout or
    /// `ex.count` (checked before any native code runs).
    pub fn train(
        &self,
        state: &mut State<'_>,
        ex: &Examples<'_>,
        predictions: &mut [f64],
    ) -> TrainEnd {
        let mut args = self.args(state, ex, predictions);
        if ex.count == 0 {
            return TrainEnd {
                steps: 0,
                stopped: false,
            };
        }
        let (k, stopped, row) = self.run_loop(ex, &mut args);
        // The loop leaves s0 and v0 to us: the last example's features, and its label if its
        // Learn ran (else 0, set before its Predict), unless that function overwrote them.
        let f = self.code.layout.features();
        let (s0, last) = if stopped {
            (0.0, self.code.writes_inputs[0])
        } else {
            (row[f], self.code.writes_inputs[1])
        };
        self.restore(state.memory, row, s0, last);
        TrainEnd { steps: k, stopped }
    }

    /// Runs the native loop in `args.mode` over `ex` (`ex.count > 0`, `args` from
    /// [`Self::args`]): returns the examples completed, whether the loop stopped early, and the
    /// row of the last example it visited.
    fn run_loop<'r>(&self, ex: &Examples<'r>, args: &mut LoopArgs) -> (usize, bool, &'r [f64]) {
        // SAFETY: `args` points into buffers `args()` checked to hold what the code accesses: the
        // layout's memory, F² scratch, `count` rows of examples, `count` predictions, and the
        // constants the code was compiled to read (checked at construction).
        unsafe { (self.code.run)(args) };
        let k = args.steps as usize;
        let (stopped, row) = self.last_row(ex, k);
        (k, stopped, row)
    }

    /// Whether a loop over `ex` that ended at step `k` stopped early, and the row of the last
    /// example it visited (`ex.count > 0`).
    fn last_row<'r>(&self, ex: &Examples<'r>, k: usize) -> (bool, &'r [f64]) {
        let stopped = k < ex.count;
        let last = if stopped { k } else { k - 1 };
        let width = self.code.layout.features() + 1;
        (stopped, &ex.rows[last * width..(last + 1) * width])
    }

    /// Runs the validation loop over `ex`: per example `v0 = x; s0 = 0`, Predict, the
    /// prediction written to `predictions[k]`, then the RMS or ACCURACY bookkeeping of
    /// SEMANTICS.md §4, stopping at the first failing example.
    ///
    /// # Panics
    /// As [`CompiledAlgorithm::train`].
    pub fn validate(
        &self,
        state: &mut State<'_>,
        ex: &Examples<'_>,
        predictions: &mut [f64],
    ) -> ValidationEnd {
        let mut args = self.args(state, ex, predictions);
        if ex.count == 0 {
            return ValidationEnd {
                predictions: 0,
                failed: false,
                loss: 0.0,
                wrong: 0,
            };
        }
        args.mode = 1;
        let (k, failed, row) = self.run_loop(ex, &mut args);
        self.restore(state.memory, row, 0.0, self.code.writes_inputs[0]);
        ValidationEnd {
            predictions: if failed { k + 1 } else { k },
            failed,
            loss: args.loss,
            wrong: args.wrong as usize,
        }
    }

    /// Runs the train loop over the lanes of `lanes` side by side, as
    /// [`CompiledAlgorithm::train`] runs it for each alone: `out[j]` is lane `j`'s end (left as
    /// it is where `lanes[j]` is `None`: that lane does not run), and each lane's memory, random
    /// stream and predictions are exactly what its own call would leave. The code must have
    /// been compiled for at least `lanes.len()` lanes; the missing ones run on the sinks.
    ///
    /// # Panics
    /// If there are more lanes than the code has, the lanes visit different numbers of
    /// examples, `out` does not hold one end per lane, or a lane's buffers do not fit (as
    /// [`CompiledAlgorithm::train`]); all checked before any native code runs.
    pub fn train_lanes(
        &self,
        lanes: &mut [Option<Lane<'_>>],
        scratch: &mut [f64],
        sinks: &mut LaneSinks,
        out: &mut [TrainEnd],
    ) {
        assert_eq!(out.len(), lanes.len(), "one end per lane");
        let Some(args) = self.lanes_args(lanes, scratch, sinks, 0) else {
            return;
        };
        let f = self.code.layout.features();
        for (j, lane) in lanes.iter_mut().enumerate() {
            let Some(lane) = lane else { continue };
            let k = args[j].steps as usize;
            let (stopped, row) = self.last_row(&lane.examples, k);
            let (s0, written) = if stopped {
                (0.0, self.code.writes_inputs[0])
            } else {
                (row[f], self.code.writes_inputs[1])
            };
            self.restore(lane.memory, row, s0, written);
            out[j] = TrainEnd { steps: k, stopped };
        }
    }

    /// Runs the validation loop over the lanes of `lanes` side by side, as
    /// [`CompiledAlgorithm::validate`] runs it for each alone (see
    /// [`CompiledAlgorithm::train_lanes`]).
    ///
    /// # Panics
    /// As [`CompiledAlgorithm::train_lanes`].
    pub fn validate_lanes(
        &self,
        lanes: &mut [Option<Lane<'_>>],
        scratch: &mut [f64],
        sinks: &mut LaneSinks,
        out: &mut [ValidationEnd],
    ) {
        assert_eq!(out.len(), lanes.len(), "one end per lane");
        let Some(args) = self.lanes_args(lanes, scratch, sinks, 1) else {
            return;
        };
        for (j, lane) in lanes.iter_mut().enumerate() {
            let Some(lane) = lane else { continue };
            let a = &args[j];
            let k = a.steps as usize;
            let (failed, row) = self.last_row(&lane.examples, k);
            self.restore(lane.memory, row, 0.0, self.code.writes_inputs[0]);
            out[j] = ValidationEnd {
                predictions: if failed { k + 1 } else { k },
                failed,
                loss: a.loss,
                wrong: a.wrong as usize,
            };
        }
    }

    /// Checks `lanes` against the code, fills the arguments of a multi-lane call in `mode`
    /// (0 train, 1 validation) and makes the call; `None` (no call) where no lane runs or the
    /// lanes visit no example, which leaves every lane as it is.
    fn lanes_args(
        &self,
        lanes: &mut [Option<Lane<'_>>],
        scratch: &mut [f64],
        sinks: &mut LaneSinks,
        mode: u64,
    ) -> Option<[LoopArgs; MAX_LANES]> {
        let layout = self.code.layout;
        let f = layout.features();
        assert!(
            lanes.len() <= self.code.lanes && self.code.lanes > 1,
            "{} lanes for code of {} lanes",
            lanes.len(),
            self.code.lanes
        );
        let mut counts = lanes.iter().flatten().map(|l| l.examples.count);
        let count = counts.next()?;
        assert!(
            counts.all(|c| c == count),
            "lanes visit different numbers of examples"
        );
        assert!(scratch.len() >= f * f, "scratch smaller than F²");
        if count == 0 {
            return None;
        }
        sinks.fit(layout.len(), count);
        let mut call = [LoopArgs::IDLE; MAX_LANES];
        let sc = scratch.as_mut_ptr();
        let mut running = 0;
        for (j, slot) in call.iter_mut().take(self.code.lanes).enumerate() {
            *slot = match lanes.get_mut(j) {
                Some(Some(l)) => {
                    running += 1;
                    let ex = l.examples;
                    self.lane_args(l.memory, l.rng, &ex, l.predictions, sc)
                }
                _ => LoopArgs {
                    memory: sinks.memory.as_mut_ptr(),
                    constants: self.constants.as_ptr(),
                    rng: &mut sinks.rng,
                    scratch: sc,
                    predictions: sinks.predictions.as_mut_ptr(),
                    count: count as u64,
                    max_abs_error: f64::INFINITY,
                    steps: count as u64,
                    ..LoopArgs::IDLE
                },
            };
            slot.mode = mode;
        }
        // A lane on the sinks reads the rows of a running one.
        let rows = call[..self.code.lanes]
            .iter()
            .find(|a| !a.rows.is_null())
            .map(|a| a.rows)?;
        for a in call[..self.code.lanes].iter_mut() {
            if a.rows.is_null() {
                a.rows = rows;
            }
        }
        let mut head = LanesArgs {
            running: running as u64,
            sink_memory: sinks.memory.as_mut_ptr(),
            sink_rng: &mut sinks.rng,
            sink_predictions: sinks.predictions.as_mut_ptr(),
            lanes: call.as_mut_ptr(),
        };
        // SAFETY: the code was compiled for `self.code.lanes` lanes, and the first that many
        // lane arguments point into buffers `lane_args` checked to hold what the code accesses
        // (memory, scratch, `count` rows and predictions, the constants) or into the sinks,
        // which `fit` sized for the layout and `count`.
        unsafe { (self.code.run)((&raw mut head).cast::<LoopArgs>()) };
        Some(call)
    }

    /// Writes `s0` and `v0` as the interpreter leaves them after visiting the example of `row`
    /// last: as the loop set them before the last function, unless it wrote them (`written`),
    /// in which case memory already holds what it wrote.
    fn restore(&self, memory: &mut [f64], row: &[f64], s0: f64, written: InputWrites) {
        let layout = self.code.layout;
        let f = layout.features();
        if !written.s0 {
            memory[0] = s0;
        }
        if !written.v0 {
            let v0 = layout.vector_base();
            memory[v0..v0 + f].copy_from_slice(&row[..f]);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    layout: Layout,
    scoring: Scoring,
    lanes: usize,
    structure: LiveStructure,
}

struct CacheEntry {
    code: Arc<CompiledCode>,
    last_use: u64,
}

/// A JIT compiler for one thread: compiles algorithms to native train/validation loops, caches
/// the code by live structure and recycles code generations.
pub struct Compiler {
    /// The ISA with the single-pass register allocator.
    isa: OwnedTargetIsa,
    /// The same ISA with the backtracking register allocator.
    isa_backtracking: OwnedTargetIsa,
    /// How many of this compiler's generations are alive (not yet freed).
    live: Arc<AtomicUsize>,
    config: JitConfig,
    fctx: FunctionBuilderContext,
    ctx: Context,
    generation: Arc<Generation>,
    functions_in_generation: usize,
    next_generation: u64,
    cache: HashMap<CacheKey, CacheEntry>,
    tick: u64,
    stats: CompilerStats,
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .field("cached", &self.cache.len())
            .finish()
    }
}

/// The host ISA with `config`'s settings and the register allocator `regalloc`.
fn host_isa(config: &JitConfig, regalloc: &str) -> Result<OwnedTargetIsa, JitError> {
    let mut flags = settings::builder();
    let opt_level = match config.opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
    };
    let verifier = if config.verifier { "true" } else { "false" };
    for (k, v) in [
        ("opt_level", opt_level),
        ("regalloc_algorithm", regalloc),
        ("enable_verifier", verifier),
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        // Nothing unwinds through compiled code (helpers are `extern "C"` and cannot unwind,
        // and no unwind tables are registered), so none is generated.
        ("unwind_info", "false"),
    ] {
        flags
            .set(k, v)
            .map_err(|e| JitError::Setup(format!("setting {k}={v}: {e}")))?;
    }
    let isa_builder = cranelift_native::builder()
        .map_err(|e| JitError::Setup(format!("host machine not supported: {e}")))?;
    isa_builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| JitError::Setup(e.to_string()))
}

impl Compiler {
    /// A compiler for the host machine with `config`.
    ///
    /// Where Cranelift has no back end for the host (or its code memory cannot be reserved),
    /// this is a [`JitError::Setup`] and the caller runs the interpreter.
    pub fn new(config: JitConfig) -> Result<Compiler, JitError> {
        let isa = host_isa(&config, "single_pass")?;
        let isa_backtracking = host_isa(&config, "backtracking")?;
        let live = Arc::new(AtomicUsize::new(0));
        let generation = Arc::new(Generation::new(&isa, 0, &live)?);
        Ok(Compiler {
            isa,
            isa_backtracking,
            live,
            config,
            fctx: FunctionBuilderContext::new(),
            ctx: Context::new(),
            generation,
            functions_in_generation: 0,
            next_generation: 1,
            cache: HashMap::new(),
            tick: 0,
            stats: CompilerStats {
                modules: 1,
                ..CompilerStats::default()
            },
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JitConfig {
        &self.config
    }

    /// The counters so far.
    pub fn stats(&self) -> CompilerStats {
        self.stats
    }

    /// How many of this compiler's code generations are alive: the current one plus those still
    /// referenced by cached or outstanding compiled code. Bounded by
    /// [`JitConfig::cached_generations`] + 1 when no compiled code is held elsewhere.
    pub fn live_modules(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// How many structures the cache holds.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// Drops every cached structure (their code is freed once no algorithm uses it).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// Compiles `algorithm`'s Predict and Learn for `layout` and `scoring`, or reuses cached code
    /// of the same live structure. Pass the algorithm as it will run — normally the output of
    /// `amlz_ir::analysis::eliminate_dead_code`, so that equivalent algorithms share code. Setup
    /// is not compiled (it runs once, interpreted).
    ///
    /// Any Cranelift error, unsupported case or panic inside code generation is returned as a
    /// [`JitError`]; the compiler stays usable.
    pub fn compile(
        &mut self,
        algorithm: &Algorithm,
        layout: Layout,
        scoring: Scoring,
    ) -> Result<CompiledAlgorithm, JitError> {
        self.compile_lanes(algorithm, layout, scoring, 1)
    }

    /// As [`Compiler::compile`], for `lanes` lanes (1 to [`MAX_LANES`]): code that runs up to
    /// that many tasks side by side ([`CompiledAlgorithm::train_lanes`]); one lane is the code
    /// of [`Compiler::compile`]. Cached apart from code of other lane counts.
    ///
    /// # Errors
    /// As [`Compiler::compile`]; a lane count outside `1..=MAX_LANES` is unsupported.
    pub fn compile_lanes(
        &mut self,
        algorithm: &Algorithm,
        layout: Layout,
        scoring: Scoring,
        lanes: usize,
    ) -> Result<CompiledAlgorithm, JitError> {
        if !(1..=MAX_LANES).contains(&lanes) {
            return Err(JitError::Unsupported(format!(
                "{lanes} lanes (1 to {MAX_LANES} can be compiled)"
            )));
        }
        let structure = live_structure(algorithm, layout.features());
        let constants = constant_data(algorithm);
        let key = CacheKey {
            layout,
            scoring,
            lanes,
            structure,
        };
        self.tick += 1;
        let code = if let Some(entry) = self.cache.get_mut(&key) {
            entry.last_use = self.tick;
            self.stats.cache_hits += 1;
            entry.code.clone()
        } else {
            let code = self.compile_code(&key.structure, layout, scoring, lanes)?;
            self.insert(key, code.clone());
            code
        };
        if code.constants != constants.len() {
            return Err(JitError::Unsupported(format!(
                "the code reads {} constants, the algorithm has {}",
                code.constants,
                constants.len()
            )));
        }
        Ok(CompiledAlgorithm { code, constants })
    }

    /// Compiles without looking at or filling the cache (for measuring compile latency).
    pub fn compile_uncached(
        &mut self,
        algorithm: &Algorithm,
        layout: Layout,
        scoring: Scoring,
    ) -> Result<CompiledAlgorithm, JitError> {
        let structure = live_structure(algorithm, layout.features());
        let code = self.compile_code(&structure, layout, scoring, 1)?;
        Ok(CompiledAlgorithm {
            code,
            constants: constant_data(algorithm),
        })
    }

    /// The Cranelift IR of the loop function for `algorithm` (for debugging and tests; nothing
    /// is compiled or cached).
    pub fn clif(
        &mut self,
        algorithm: &Algorithm,
        layout: Layout,
        scoring: Scoring,
    ) -> Result<String, JitError> {
        let structure = live_structure(algorithm, layout.features());
        lower::check(&structure, &layout)?;
        let built = self.build_function(&structure, layout, scoring, 1);
        let text = self.ctx.func.display().to_string();
        self.ctx.clear();
        if built.is_err() {
            self.fctx = FunctionBuilderContext::new();
        }
        built.map(|()| text)
    }

    fn insert(&mut self, key: CacheKey, code: Arc<CompiledCode>) {
        self.cache.insert(
            key,
            CacheEntry {
                code,
                last_use: self.tick,
            },
        );
        let capacity = self.config.cache_capacity.max(1);
        if self.cache.len() > capacity {
            // Drop the least recently used tenth (amortised O(1) per insertion).
            let mut ticks: Vec<u64> = self.cache.values().map(|e| e.last_use).collect();
            let drop = (capacity / 10).max(1).min(ticks.len() - 1);
            let (_, &mut threshold, _) = ticks.select_nth_unstable(drop);
            self.cache.retain(|_, e| e.last_use >= threshold);
        }
    }

    /// Starts a fresh generation; the cache forgets generations older than the configured window.
    /// If the fresh generation cannot be made, the current one stays.
    fn rotate(&mut self) -> Result<(), JitError> {
        self.generation = Arc::new(Generation::new(
            &self.isa,
            self.next_generation,
            &self.live,
        )?);
        self.next_generation += 1;
        self.stats.modules += 1;
        self.functions_in_generation = 0;
        let keep = self.config.cached_generations.max(1) as u64;
        let oldest = self.generation.index.saturating_sub(keep - 1);
        self.cache.retain(|_, e| e._generation_index() >= oldest);
        Ok(())
    }

    fn compile_code(
        &mut self,
        structure: &LiveStructure,
        layout: Layout,
        scoring: Scoring,
        lanes: usize,
    ) -> Result<Arc<CompiledCode>, JitError> {
        let start = std::time::Instant::now();
        let result = self.generate(structure, layout, scoring, lanes);
        self.stats.compile_ns += start.elapsed().as_nanos() as u64;
        result
    }

    fn generate(
        &mut self,
        structure: &LiveStructure,
        layout: Layout,
        scoring: Scoring,
        lanes: usize,
    ) -> Result<Arc<CompiledCode>, JitError> {
        if self.functions_in_generation + 1 > self.config.functions_per_module.max(1)
            && let Err(e) = self.rotate()
        {
            self.stats.failures += 1;
            return Err(e);
        }
        if let Err(e) = lower::check(structure, &layout) {
            self.stats.failures += 1;
            return Err(e);
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.compile_function(structure, layout, scoring, lanes)
        }));
        let result = match result {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".to_string());
                // The contexts may be half-way through a function: start afresh.
                self.fctx = FunctionBuilderContext::new();
                self.ctx = Context::new();
                // A fresh generation, in case the panic left the module half-way through a
                // definition; if none can be made, the current one is still consistent enough
                // to free.
                let _ = self.rotate();
                Err(JitError::Panic(msg))
            }
        };
        match &result {
            Ok(_) => self.stats.compiled += 1,
            Err(_) => {
                self.stats.failures += 1;
                // Leave the contexts clean for the next function.
                self.ctx.clear();
                self.fctx = FunctionBuilderContext::new();
            }
        }
        result
    }

    /// Builds the loop function of `structure` into `self.ctx.func`.
    fn build_function(
        &mut self,
        structure: &LiveStructure,
        layout: Layout,
        scoring: Scoring,
        lanes: usize,
    ) -> Result<(), JitError> {
        let ptr = self.isa.pointer_type();
        let call_conv = self.isa.default_call_conv();
        self.ctx.clear();
        self.ctx.func.name = UserFuncName::user(0, 0);
        self.ctx.func.signature = lower::loop_signature(ptr, call_conv);
        lower::build(
            &mut self.ctx.func,
            &mut self.fctx,
            HelperImports::new(layout.features(), call_conv, ptr),
            self.isa.frontend_config(),
            layout,
            structure,
            scoring,
            self.config.regalloc != RegAlloc::SinglePass,
            lanes,
        )
    }

    /// Builds, compiles and installs the loop function of `structure` in the current
    /// generation.
    fn compile_function(
        &mut self,
        structure: &LiveStructure,
        layout: Layout,
        scoring: Scoring,
        lanes: usize,
    ) -> Result<Arc<CompiledCode>, JitError> {
        self.build_function(structure, layout, scoring, lanes)?;
        let calls_helpers = !self.ctx.func.dfg.ext_funcs.is_empty();
        let backtracking = match self.config.regalloc {
            RegAlloc::Backtracking => true,
            RegAlloc::SinglePass => false,
            // The limit is per lane: multi-lane code is the single-lane body once per lane.
            RegAlloc::Adaptive(limit) => self.ctx.func.dfg.num_insts() <= limit * lanes,
        };
        let isa = if backtracking {
            &*self.isa_backtracking
        } else {
            &*self.isa
        };
        // Cranelift's whole pipeline. Its mid-end passes at `opt_level = none` (unreachable-code
        // elimination, constant-phi removal, alias resolution) find nothing to do on what the
        // lowering builds, but calling the back end directly to skip them saved under 3% of a
        // compile's instructions: not worth pinning Cranelift's register allocator.
        self.ctx
            .compile(isa, &mut ControlPlane::default())
            .map_err(|e| JitError::Codegen(format!("{:?}", e.inner)))?;
        let code = self
            .ctx
            .take_compiled_code()
            .ok_or_else(|| JitError::Codegen("Cranelift returned no code".into()))?;
        let alignment = u64::from(code.buffer.alignment);
        let run = match self.generation.install(&self.ctx.func, &code, alignment) {
            // The generation's code memory is full: start a fresh one.
            Err(JitError::Module(_)) if self.functions_in_generation > 0 => {
                self.rotate()?;
                self.generation.install(&self.ctx.func, &code, alignment)?
            }
            r => r?,
        };
        let generation = self.generation.clone();
        self.ctx.clear();
        self.functions_in_generation += 1;
        let constants = structure
            .predict
            .iter()
            .chain(&structure.learn)
            .map(|i| constant_slots(i.op))
            .sum();
        // SAFETY: the function was built with `loop_signature`, i.e. `(ptr)` in the
        // platform's C calling convention, and installed whole (relocations resolved).
        let run = unsafe { std::mem::transmute::<*const u8, LoopFn>(run) };
        Ok(Arc::new(CompiledCode {
            run,
            layout,
            scoring,
            lanes,
            calls_helpers,
            constants,
            writes_inputs: [
                InputWrites::of(&structure.predict),
                InputWrites::of(&structure.learn),
            ],
            _generation: generation,
        }))
    }
}

impl CacheEntry {
    fn _generation_index(&self) -> u64 {
        self.code._generation.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::{Instruction, MemoryCounts, Op, handmade};

    fn layout(f: usize) -> Layout {
        Layout::new(
            f,
            MemoryCounts {
                scalars: 6,
                vectors: 4,
                matrices: 2,
            },
        )
        .unwrap()
    }

    fn config() -> JitConfig {
        JitConfig {
            verifier: true,
            ..JitConfig::default()
        }
    }

    #[test]
    fn a_reused_buffer_holds_the_new_candidates_constants() {
        let with_rate = |rate: f64| {
            let mut a = handmade::linear(0.01);
            a.learn.insert(0, Instruction::constant(2, rate));
            a
        };
        let mut c = Compiler::new(config()).unwrap();
        let first = c
            .compile(&with_rate(0.25), layout(4), Scoring::Rms)
            .unwrap();
        assert_eq!(first.constants(), &[0.25]);
        let code = first.code().clone();
        let buffer = first.into_buffer();
        let at = buffer.as_ptr();
        let second =
            CompiledAlgorithm::with_buffer(code.clone(), &with_rate(0.75), buffer).unwrap();
        assert_eq!(second.constants(), &[0.75]);
        assert_eq!(second.constants().as_ptr(), at, "the allocation is reused");
        let mut other = with_rate(0.75);
        other.learn.insert(0, Instruction::constant(3, 0.5));
        let refused = CompiledAlgorithm::with_buffer(code, &other, second.into_buffer());
        assert!(
            refused.is_err(),
            "two constants cannot pair with code reading one"
        );
    }

    #[test]
    fn same_structure_shares_code_with_its_own_constants() {
        let mut c = Compiler::new(config()).unwrap();
        let a = c
            .compile(&handmade::linear(0.01), layout(4), Scoring::Rms)
            .unwrap();
        let b = c
            .compile(&handmade::linear(0.5), layout(4), Scoring::Rms)
            .unwrap();
        assert!(Arc::ptr_eq(a.code(), b.code()));
        assert_eq!(
            a.constants(),
            &[] as &[f64],
            "Setup's constant is not compiled"
        );
        assert_eq!(c.stats().compiled, 1);
        assert_eq!(c.stats().cache_hits, 1);
        let d = c
            .compile(&handmade::linear(0.01), layout(4), Scoring::Accuracy)
            .unwrap();
        assert!(
            !Arc::ptr_eq(a.code(), d.code()),
            "scoring is part of the key"
        );
        let e = c
            .compile(&handmade::linear(0.01), layout(8), Scoring::Rms)
            .unwrap();
        assert!(
            !Arc::ptr_eq(a.code(), e.code()),
            "layout is part of the key"
        );
    }

    #[test]
    fn runs_a_train_and_a_validation_loop() {
        // Predict: s1 = s2 + c; Learn: s2 = s0 (so each prediction is the last label + c).
        let alg = Algorithm {
            setup: vec![],
            predict: vec![
                Instruction::constant(3, 0.5),
                Instruction::new(Op::ScalarSum, 2, 3, 1),
            ],
            learn: vec![Instruction::new(Op::ScalarSum, 0, 4, 2)],
        };
        let mut c = Compiler::new(config()).unwrap();
        let l = layout(2);
        let code = c.compile(&alg, l, Scoring::Rms).unwrap();
        assert_eq!(code.constants(), &[0.5]);
        let mut memory = vec![0.0; l.len()];
        let mut scratch = vec![0.0; 4];
        let mut rng = Rng::new(1);
        let mut state = State {
            memory: &mut memory,
            scratch: &mut scratch,
            rng: &mut rng,
        };
        let features = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let labels = [10.0, 20.0, 30.0];
        let shuffled = pack_rows(&features, &labels, 2, Some(&[2, 0, 1]));
        assert_eq!(
            shuffled,
            [5.0, 6.0, 30.0, 1.0, 2.0, 10.0, 3.0, 4.0, 20.0],
            "rows in visiting order, each F features and the label"
        );
        let ex = Examples {
            rows: &shuffled,
            count: 3,
            max_abs_error: 100.0,
        };
        let mut preds = [0.0; 3];
        let end = code.train(&mut state, &ex, &mut preds);
        assert_eq!(
            end,
            TrainEnd {
                steps: 3,
                stopped: false
            }
        );
        assert_eq!(preds, [0.5, 30.5, 10.5]);
        assert_eq!(&memory[..4], &[20.0, 10.5, 20.0, 0.5]);
        assert_eq!(&memory[6..8], &[3.0, 4.0], "v0 holds the last example");
        let mut state = State {
            memory: &mut memory,
            scratch: &mut scratch,
            rng: &mut rng,
        };
        let stored = pack_rows(&features, &labels, 2, None);
        let ex = Examples {
            rows: &stored,
            max_abs_error: 10.0,
            ..ex
        };
        let end = code.validate(&mut state, &ex, &mut preds);
        // e = 10 - 20.5 breaks the bound of 10 at the first example.
        assert!(end.failed);
        assert_eq!(end.predictions, 1);
        assert_eq!(memory[0], 0.0);
    }

    #[test]
    fn errors_are_reported_not_raised() {
        let mut c = Compiler::new(config()).unwrap();
        let mut alg = handmade::linear(0.01);
        alg.learn.push(Instruction::new(Op::ScalarSum, 1, 1, 9));
        let r = c.compile(&alg, layout(4), Scoring::Rms);
        assert!(matches!(r, Err(JitError::Unsupported(_))), "{r:?}");
        assert_eq!(c.stats().failures, 1);
        // Still usable.
        assert!(
            c.compile(&handmade::linear(0.01), layout(4), Scoring::Rms)
                .is_ok()
        );
    }

    #[test]
    fn modules_are_recycled() {
        let mut c = Compiler::new(JitConfig {
            functions_per_module: 3,
            cache_capacity: 4,
            cached_generations: 2,
            ..config()
        })
        .unwrap();
        for i in 0..40u16 {
            // Distinct structures: a different output address each time.
            let mut alg = handmade::linear(0.01);
            alg.learn
                .push(Instruction::new(Op::ScalarSum, 1, 1, 3 + i % 3));
            alg.learn
                .push(Instruction::new(Op::VectorSum, 1, 1, 2 + (i / 3) % 2));
            alg.learn
                .push(Instruction::new(Op::ScalarProduct, 1, 1, 4 + (i / 6) % 2));
            alg.learn
                .push(Instruction::new(Op::ScalarDiff, 1, 1, 3 + (i / 12) % 3));
            let f = [2, 4][(i as usize / 36) % 2];
            drop(c.compile(&alg, layout(f), Scoring::Rms).unwrap());
            assert!(c.cached() <= 4);
            assert!(c.live_modules() <= 3, "{} modules alive", c.live_modules());
        }
        assert!(c.stats().modules > 5);
        c.clear_cache();
        assert_eq!(c.live_modules(), 1, "only the current module remains");
    }

    #[test]
    fn packed_rows_follow_the_order_and_refuse_a_missing_example() {
        let features = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let labels = [10.0, 20.0];
        assert_eq!(
            pack_rows(&features[..4], &labels, 2, Some(&[1, 1, 0])),
            [3.0, 4.0, 20.0, 3.0, 4.0, 20.0, 1.0, 2.0, 10.0]
        );
        assert!(pack_rows(&[], &[], 3, None).is_empty());
        let missing = catch_unwind(|| pack_rows(&features[..4], &labels, 2, Some(&[0, 2])));
        assert!(missing.is_err(), "example 2 of 2 does not exist");
        let ragged = catch_unwind(|| pack_rows(&features[..5], &labels, 2, None));
        assert!(ragged.is_err(), "5 features for 2 labels of F=2");
    }

    #[test]
    #[should_panic(expected = "count beyond the examples")]
    fn a_train_pass_refuses_a_count_beyond_the_rows() {
        let alg = handmade::linear(0.01);
        let mut c = Compiler::new(config()).unwrap();
        let l = layout(2);
        let code = c.compile(&alg, l, Scoring::Rms).unwrap();
        let mut memory = vec![0.0; l.len()];
        let mut scratch = vec![0.0; 4];
        let mut rng = Rng::new(1);
        let mut state = State {
            memory: &mut memory,
            scratch: &mut scratch,
            rng: &mut rng,
        };
        // Two rows of F + 1 = 3 values and a half: the half row is not an example.
        let ex = Examples {
            rows: &[1.0, 2.0, 1.0, 3.0, 4.0, 2.0, 5.0],
            count: 3,
            max_abs_error: 100.0,
        };
        code.train(&mut state, &ex, &mut [0.0; 3]);
    }

    #[test]
    fn compiled_code_is_shareable_across_threads() {
        fn check<T: Send + Sync>() {}
        check::<CompiledAlgorithm>();
        check::<Arc<CompiledCode>>();
        fn send<T: Send>() {}
        send::<Compiler>();
    }
}
