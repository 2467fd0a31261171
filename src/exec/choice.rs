//! Which executor runs an evaluation, decided in one place: the user's [`ExecutorChoice`] makes an
//! [`Executor`], which prepares each algorithm (decoded for the interpreter, compiled where it
//! decides to) and runs each evaluation in the interpreter or natively. Every executor gives the
//! same results bit for bit, so the decision changes only the time taken.
//!
//! - `interp`: everything in the interpreter.
//! - `jit`: everything compiled, on the calling thread (which waits for Cranelift); where code
//!   generation fails, the interpreter (counted).
//! - `auto`: the JIT where it pays on this machine ([`BreakEven`]). A search, which meets the same
//!   structures again and again, compiles hot structures on a background thread ([`Tiering`])
//!   and never waits for them; a one-off evaluation (select, final, `amlz eval`) compiles now if
//!   its own work passes the break-even. Either way an evaluation too short to gain (an FEC
//!   fingerprint) stays in the interpreter.

use super::break_even::{BreakEven, InterpMode};
use super::cost::example_cost_ns;
use super::interp::{self, LaneMemory, Memory, Program};
use super::jit::{self, ConstantBuffers, JitExecutor, JitProgram, PackedRows};
use super::tiering::{CodeKey, CompileService, Tiering};
use super::{LaneObserver, Limits, Observer, OneLane, Outcome};
use crate::task::{EvalType, Task};
use amlz_ir::{AddressError, Algorithm, Layout, Rng};
use amlz_jit::JitConfig;
use std::sync::Arc;

/// The executor an evaluation runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ExecutorChoice {
    /// The interpreter: the reference executor, no compile latency.
    Interp,
    /// Compile Predict and Learn with Cranelift (falls back to the interpreter, counted, if code
    /// generation fails).
    Jit,
    /// The JIT where the expected work passes the measured break-even, else the interpreter.
    #[default]
    Auto,
}

impl ExecutorChoice {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ExecutorChoice::Interp => "interp",
            ExecutorChoice::Jit => "jit",
            ExecutorChoice::Auto => "auto",
        }
    }
}

/// How a prepared algorithm will be used, which `auto` weighs against the cost of compiling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Use {
    /// Evaluated once, running at most this many examples in all (every task it is prepared
    /// for, every epoch, validations included).
    Once(f64),
    /// A search's candidate, whose structure may recur: one full evaluation of it on one task
    /// runs at most this many examples.
    Search(f64),
}

/// An algorithm prepared by an [`Executor`] for tasks of one layout and eval type.
#[derive(Debug)]
pub struct Prepared {
    layout: Layout,
    eval_type: EvalType,
    /// The decoding the interpreter runs (absent when `native` carries its own).
    program: Option<Program>,
    /// Compiled code, where the executor has it.
    native: Option<JitProgram>,
    /// The structure's key, where `auto` tracks how hot it is.
    key: Option<CodeKey>,
    /// The cost model's estimate of one example, in nanoseconds.
    cost_ns: f64,
}

impl Prepared {
    /// The memory layout it was prepared for.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The eval type it was prepared for.
    pub fn eval_type(&self) -> EvalType {
        self.eval_type
    }

    /// Whether it serves `task` (the task's feature size and eval type).
    pub fn fits(&self, task: &Task) -> bool {
        self.layout.features() == task.features && self.eval_type == task.eval_type
    }

    /// Whether compiled code is at hand.
    pub fn is_compiled(&self) -> bool {
        self.native.is_some()
    }

    /// Its decoding, key and constant buffers, to be reused by [`Executor::prepare_reusing`].
    fn into_parts(self) -> (Option<Program>, Option<CodeKey>, ConstantBuffers) {
        match (self.program, self.native) {
            (None, Some(native)) => {
                let (program, buffers) = native.into_parts();
                (Some(program), self.key, buffers)
            }
            (program, _) => (program, self.key, ConstantBuffers::default()),
        }
    }

    /// The decoding the interpreter runs.
    fn interpreted(&self) -> &Program {
        match (&self.program, &self.native) {
            (Some(p), _) => p,
            (None, Some(n)) => n.program(),
            (None, None) => unreachable!("prepare fills one of the two"),
        }
    }
}

/// Counters of an [`Executor`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecutorStats {
    /// Evaluations that ran compiled code.
    pub native_evaluations: u64,
    /// Evaluations that ran in the interpreter's multi-task lanes.
    pub lane_evaluations: u64,
    /// Structures compiled.
    pub compiled: u64,
    /// Structures whose compilation failed: they ran in the interpreter (the fallback).
    pub jit_failures: u64,
    /// Wall nanoseconds spent compiling (on the calling thread or the compile thread).
    pub compile_ns: u64,
}

/// The executor chosen for a run's evaluations, and what it keeps between them (compilers,
/// compiled code, hotness).
pub struct Executor {
    tier: Tier,
    native_evaluations: u64,
    lane_evaluations: u64,
    /// The lanes' memories of native multi-lane evaluations.
    native_memories: Vec<Memory>,
}

enum Tier {
    Interp,
    Jit(Box<JitExecutor>),
    Auto {
        break_even: BreakEven,
        /// For searches; started on first use.
        tiering: Option<Box<Tiering>>,
        /// The compile service searches share, if any (else the tier starts its own).
        service: Option<Arc<CompileService>>,
        /// For one-off evaluations; set up on first use.
        jit: Option<Box<JitExecutor>>,
    },
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("choice", &self.choice())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Most examples an evaluation of `task` under `limits` runs.
fn call_examples(task: &Task, limits: &Limits) -> f64 {
    let epochs = task.num_epochs().min(limits.max_epochs);
    (epochs * (task.num_train().min(limits.max_train) + task.num_valid().min(limits.max_valid)))
        as f64
}

/// Most examples a full evaluation of `task` runs (train over every epoch, plus validations).
pub fn full_examples(task: &Task) -> f64 {
    call_examples(task, &Limits::FULL)
}

impl Executor {
    /// The executor `choice` names (`auto` measures this machine's break-even on first use in
    /// the process).
    pub fn new(choice: ExecutorChoice) -> Executor {
        Executor::with_service(choice, None)
    }

    /// The executor `choice` names; for `auto`, searches compile through `service` (shared with
    /// other executors) when given, else through a compile thread of their own.
    pub fn with_service(choice: ExecutorChoice, service: Option<Arc<CompileService>>) -> Executor {
        let tier = match choice {
            ExecutorChoice::Interp => Tier::Interp,
            ExecutorChoice::Jit => Tier::Jit(Box::new(JitExecutor::new(JitConfig::default()))),
            ExecutorChoice::Auto => Tier::Auto {
                break_even: BreakEven::get(),
                tiering: None,
                service,
                jit: None,
            },
        };
        Executor {
            tier,
            native_evaluations: 0,
            lane_evaluations: 0,
            native_memories: Vec::new(),
        }
    }

    /// Which executor this is.
    pub fn choice(&self) -> ExecutorChoice {
        match self.tier {
            Tier::Interp => ExecutorChoice::Interp,
            Tier::Jit(_) => ExecutorChoice::Jit,
            Tier::Auto { .. } => ExecutorChoice::Auto,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> ExecutorStats {
        let mut s = ExecutorStats {
            native_evaluations: self.native_evaluations,
            lane_evaluations: self.lane_evaluations,
            ..ExecutorStats::default()
        };
        let mut add_jit = |jit: &JitExecutor| {
            let j = jit.stats();
            s.compiled += j.compiler.compiled;
            s.jit_failures += j.fallbacks;
            s.compile_ns += j.compiler.compile_ns;
        };
        match &self.tier {
            Tier::Interp => {}
            Tier::Jit(jit) => add_jit(jit),
            Tier::Auto { tiering, jit, .. } => {
                if let Some(jit) = jit {
                    add_jit(jit);
                }
                if let Some(t) = tiering {
                    let t = t.stats();
                    s.compiled += t.compiled;
                    s.jit_failures += t.failed;
                    s.compile_ns += t.compile_ns;
                }
            }
        }
        s
    }

    /// Prepares `live`, a dead-code-eliminated algorithm, for tasks of `layout` scored by
    /// `eval_type`, used as `usage` says: decoded for the interpreter, and compiled where this
    /// executor decides (a code-generation failure is no error: the interpreter then runs it).
    ///
    /// # Errors
    /// If an address of `live` does not fit `layout`.
    pub fn prepare(
        &mut self,
        live: &Algorithm,
        layout: Layout,
        eval_type: EvalType,
        usage: Use,
    ) -> Result<Prepared, AddressError> {
        self.prepare_reusing(None, live, layout, eval_type, usage)
    }

    /// [`Executor::prepare`], reusing the buffers of `old` (a candidate prepared before, now done
    /// with) for the decoding and the structure's key, so that a search, which prepares every
    /// candidate that FEC does not answer, allocates nothing for them.
    ///
    /// # Errors
    /// As [`Executor::prepare`].
    pub fn prepare_reusing(
        &mut self,
        old: Option<Prepared>,
        live: &Algorithm,
        layout: Layout,
        eval_type: EvalType,
        usage: Use,
    ) -> Result<Prepared, AddressError> {
        let (old_program, old_key, buffers) = old.map_or(
            (None, None, ConstantBuffers::default()),
            Prepared::into_parts,
        );
        let decode = |old: Option<Program>| match old {
            Some(mut program) => program.renew(live, layout).map(|()| program),
            None => Program::new(live, layout),
        };
        let mut prepared = Prepared {
            layout,
            eval_type,
            program: None,
            native: None,
            key: None,
            cost_ns: example_cost_ns(live, layout.features()),
        };
        let compile_now = |jit: &mut JitExecutor, prepared: &mut Prepared| {
            // The prepared program carries its own decoding for Setup and fallbacks.
            let p = jit.prepare(live, layout, eval_type)?;
            if p.is_compiled() {
                prepared.native = Some(p);
            } else {
                prepared.program = Some(p.program().clone());
            }
            Ok(())
        };
        match &mut self.tier {
            Tier::Interp => prepared.program = Some(decode(old_program)?),
            Tier::Jit(jit) => compile_now(jit, &mut prepared)?,
            Tier::Auto {
                break_even,
                tiering,
                service,
                jit,
            } => match usage {
                Use::Once(examples) if break_even.worth_compiling(prepared.cost_ns, examples) => {
                    let jit =
                        jit.get_or_insert_with(|| Box::new(JitExecutor::new(JitConfig::default())));
                    compile_now(jit, &mut prepared)?;
                }
                // A structure is worth a key only if some evaluation of it could run faster
                // natively.
                Use::Search(full)
                    if break_even.saved_ns(prepared.cost_ns, full, InterpMode::Alone, false)
                        > 0.0 =>
                {
                    let program = decode(old_program)?;
                    let tiering = tiering.get_or_insert_with(|| {
                        Box::new(match service {
                            Some(s) => Tiering::shared(*break_even, s.clone()),
                            None => Tiering::new(*break_even),
                        })
                    });
                    let key = match old_key {
                        Some(mut key) => {
                            key.renew(live, layout, eval_type);
                            key
                        }
                        None => CodeKey::new(live, layout, eval_type),
                    };
                    match tiering.native(&key, live, program, buffers) {
                        Ok(native) => prepared.native = Some(native),
                        Err(program) => prepared.program = Some(program),
                    }
                    prepared.key = Some(key);
                }
                Use::Once(_) | Use::Search(_) => {
                    prepared.program = Some(decode(old_program)?);
                }
            },
        }
        Ok(prepared)
    }

    /// Evaluates `prepared` on `task` (whose JIT rows `rows` holds) within `limits`: natively
    /// where compiled code is at hand and, for `auto`, the evaluation is long enough to gain from
    /// it; else in the interpreter. Same contract as [`interp::evaluate`].
    ///
    /// # Panics
    /// If `prepared` was prepared for another feature size than the task's.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate<O: Observer>(
        &mut self,
        prepared: &Prepared,
        task: &Task,
        rows: &PackedRows,
        memory: &mut Memory,
        rng: &mut Rng,
        limits: &Limits,
        observer: &mut O,
    ) -> Outcome {
        match self.native(prepared, task, limits, InterpMode::Alone) {
            Some(native) => {
                self.native_evaluations += 1;
                jit::evaluate(native, task, rows, memory, rng, limits, observer)
            }
            // Either only a decoding is at hand, or the call is too short to gain from the
            // native code, whose decoding the interpreter then runs.
            None => interp::evaluate(prepared.interpreted(), task, memory, rng, limits, observer),
        }
    }

    /// The compiled code an evaluation of `prepared` on `task` within `limits` runs: none where
    /// none is at hand or, for `auto`, where the evaluation is too short to gain from it over
    /// the interpreter running it as `mode` says.
    fn native<'p>(
        &self,
        prepared: &'p Prepared,
        task: &Task,
        limits: &Limits,
        mode: InterpMode,
    ) -> Option<&'p JitProgram> {
        prepared.native.as_ref().filter(|_| match &self.tier {
            Tier::Auto { break_even, .. } => {
                let examples = call_examples(task, limits);
                let native_lanes = prepared
                    .native
                    .as_ref()
                    .is_some_and(|n| n.lanes().is_some());
                break_even.saved_ns(prepared.cost_ns, examples, mode, native_lanes) > 0.0
            }
            Tier::Interp | Tier::Jit(_) => true,
        })
    }

    /// Evaluates `prepared` on each of `tasks` (at most [`crate::exec::epochs::MAX_LANES`], of
    /// one shape: [`crate::exec::epochs::same_shape`]), `rows[lane]` holding task `lane`'s JIT
    /// rows: `out[lane]` is what [`Executor::evaluate`] returns for `tasks[lane]` with random
    /// stream `rngs[lane]`, `observer` watching each lane. Where the interpreter runs them, they
    /// run side by side in its multi-task lanes; compiled code runs them side by side where it
    /// has multi-lane code (`auto`'s, for structures that call no helper), else one at a time.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_lanes<O: LaneObserver>(
        &mut self,
        prepared: &Prepared,
        tasks: &[&Task],
        rows: &[&PackedRows],
        memory: &mut Memory,
        lanes: &mut LaneMemory,
        rngs: &mut [Rng],
        limits: &Limits,
        out: &mut [Outcome],
        observer: &mut O,
    ) {
        let Some(first) = tasks.first() else {
            return;
        };
        if tasks.len() > 1 {
            match self.native(prepared, first, limits, InterpMode::Lanes) {
                None => {
                    self.lane_evaluations += tasks.len() as u64;
                    let program = prepared.interpreted();
                    interp::evaluate_lanes(program, tasks, lanes, rngs, limits, out, observer);
                    return;
                }
                Some(native) if native.lanes().is_some() => {
                    self.native_evaluations += tasks.len() as u64;
                    let memories = &mut self.native_memories;
                    jit::evaluate_lanes(native, tasks, rows, memories, rngs, limits, out, observer);
                    return;
                }
                Some(_) => {}
            }
        }
        for (lane, task) in tasks.iter().enumerate() {
            out[lane] = self.evaluate(
                prepared,
                task,
                rows[lane],
                memory,
                &mut rngs[lane],
                limits,
                &mut OneLane {
                    lanes: &mut *observer,
                    lane,
                },
            );
        }
    }

    /// Tells the executor that the interpreter just ran evaluations of `prepared` (prepared from
    /// `live`) as `mode` says, of `examples` examples each: `auto` counts what compiled code
    /// would have saved and compiles the structure in the background once that passes the
    /// compile cost.
    pub fn record(
        &mut self,
        live: &Algorithm,
        prepared: &Prepared,
        examples: impl IntoIterator<Item = f64>,
        mode: InterpMode,
    ) {
        if let (
            Tier::Auto {
                tiering: Some(t), ..
            },
            None,
            Some(key),
        ) = (&mut self.tier, &prepared.native, &prepared.key)
        {
            t.record(key, live, prepared.cost_ns, examples, mode);
        }
    }
}
