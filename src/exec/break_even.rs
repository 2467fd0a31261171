//! This machine's break-even between the executors, by which `auto` decides what to compile.
//!
//! The break-even weighs what compiling costs (Cranelift's latency for a typical program) against
//! what it saves (the interpreter time of the evaluation times the fraction the JIT removes). Both
//! are measured once per process, the first time `auto` needs them, in a fraction of a second:
//! the hand-made linear regressor and network (F = 4) are compiled a few times and run by both
//! executors on a small task, and by the interpreter's multi-task lanes on copies of it (what
//! the JIT saves is less where the interpreter would run lanes).

use super::cost::example_cost_ns;
use super::epochs::MAX_LANES;
use super::interp::{self, LaneMemory, Memory, Program};
use super::jit::{self, JitExecutor, PackedRows};
use super::{Limits, NoObserver, Outcome};
use crate::task::generate::{
    Sizes, TaskSettings, scalar_2layer_nn_regression, scalar_linear_regression,
};
use amlz_ir::{Layout, Rng, handmade};
use amlz_jit::JitConfig;
use std::sync::OnceLock;
use std::time::Instant;

/// How the interpreter would run an evaluation, which sets what compiled code saves over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpMode {
    /// One task alone.
    Alone,
    /// In multi-task lanes, beside other tasks.
    Lanes,
}

/// Lanes side by side in the measurement of [`BreakEven::lanes_speedup`]: about a search's
/// task count (the demo's is 10).
pub const LANES_MEASURED: usize = 8;

/// This machine's break-even between the executors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakEven {
    /// Median wall-clock nanoseconds to compile a small program's Predict and Learn.
    pub compile_ns: f64,
    /// Interpreter time over JIT time per example (geometric mean of the two hand-made programs).
    pub jit_speedup: f64,
    /// Interpreter time of one task alone over its time per task in multi-task lanes (geometric
    /// mean of the two hand-made programs, [`LANES_MEASURED`] lanes).
    pub lanes_speedup: f64,
    /// Interpreter time of one task alone over compiled code's time per task in the JIT's
    /// multi-lane code (geometric mean of the two hand-made programs, [`LANES_MEASURED`] tasks
    /// in groups of [`jit::NATIVE_LANES`]).
    pub native_lanes_speedup: f64,
    /// Interpreter nanoseconds per estimated cost-model nanosecond (the cost table was measured
    /// on another machine or at another load).
    pub interp_scale: f64,
    /// What one native evaluation costs beyond the interpreter's, whatever its length (setting up
    /// the loop arguments, checks, buffers): why short evaluations, like FEC fingerprints, stay
    /// in the interpreter.
    pub call_overhead_ns: f64,
}

impl BreakEven {
    /// Measures the break-even on this machine (a few compiles and short runs).
    pub fn measure() -> BreakEven {
        let mut jit = JitExecutor::new(JitConfig::default());
        let settings = TaskSettings {
            max_abs_error: f64::MAX,
            ..TaskSettings::default()
        };
        let sizes = Sizes {
            features: 4,
            num_train: 2000,
            num_valid: 1,
        };
        let cases = [
            (
                handmade::linear(0.01),
                scalar_linear_regression(sizes, &settings, 1, 2),
            ),
            (
                handmade::neural_net(),
                scalar_2layer_nn_regression(sizes, &settings, 1, 2),
            ),
        ];
        let mut compile = Vec::new();
        let mut log_speedup = 0.0;
        let mut log_lanes = 0.0;
        let mut log_native_lanes = 0.0;
        let mut scale = 0.0;
        let mut overhead = 0.0;
        for (algorithm, task) in &cases {
            let layout = Layout::new(4, algorithm.min_counts()).expect("valid layout");
            let program = Program::new(algorithm, layout).expect("valid addresses");
            for _ in 0..5 {
                let scoring = jit::scoring(task.eval_type);
                let t = Instant::now();
                let ok = jit
                    .compiler_mut()
                    .map(|c| c.compile_uncached(algorithm, layout, scoring).is_ok());
                if ok == Some(true) {
                    compile.push(t.elapsed().as_nanos() as f64);
                }
            }
            let prepared = jit.prepare(algorithm, layout, task.eval_type).ok();
            let rows = PackedRows::default();
            let mut memory = Memory::new(&layout);
            let time = |f: &mut dyn FnMut()| {
                f();
                let t = Instant::now();
                for _ in 0..3 {
                    f();
                }
                t.elapsed().as_nanos() as f64 / 3.0
            };
            let interp_ns = time(&mut || {
                interp::evaluate(
                    &program,
                    task,
                    &mut memory,
                    &mut Rng::new(1),
                    &Limits::FULL,
                    &mut NoObserver,
                );
            });
            let jit_ns = match prepared.as_ref().filter(|p| p.is_compiled()) {
                Some(p) => time(&mut || {
                    jit::evaluate(
                        p,
                        task,
                        &rows,
                        &mut memory,
                        &mut Rng::new(1),
                        &Limits::FULL,
                        &mut NoObserver,
                    );
                }),
                None => interp_ns, // No JIT on this machine: never worth compiling.
            };
            log_speedup += (interp_ns / jit_ns.max(1.0)).ln();
            let lanes_ns = time(&mut || lanes(&program, task)) / LANES_MEASURED as f64;
            log_lanes += (interp_ns / lanes_ns.max(1.0)).ln();
            let multi = jit
                .prepare_lanes(algorithm, layout, task.eval_type, jit::NATIVE_LANES)
                .ok()
                .filter(|p| p.lanes().is_some());
            let native_lanes_ns = match &multi {
                Some(p) => time(&mut || native_lanes(p, task)) / LANES_MEASURED as f64,
                None => jit_ns,
            };
            log_native_lanes += (interp_ns / native_lanes_ns.max(1.0)).ln();
            // The per-call overhead: one train and one validation example, many times.
            if let Some(p) = prepared.as_ref().filter(|p| p.is_compiled()) {
                let tiny = Limits {
                    max_train: 1,
                    max_valid: 1,
                    max_epochs: 1,
                };
                let reps = 2000.0;
                let per_call = |native: bool, memory: &mut Memory| {
                    let t = Instant::now();
                    for _ in 0..reps as usize {
                        let mut rng = Rng::new(1);
                        if native {
                            jit::evaluate(p, task, &rows, memory, &mut rng, &tiny, &mut NoObserver);
                        } else {
                            interp::evaluate(
                                &program,
                                task,
                                memory,
                                &mut rng,
                                &tiny,
                                &mut NoObserver,
                            );
                        }
                    }
                    t.elapsed().as_nanos() as f64 / reps
                };
                per_call(true, &mut memory);
                let native = per_call(true, &mut memory);
                let interpreted = per_call(false, &mut memory);
                overhead += (native - interpreted).max(0.0);
            }
            let examples = (task.num_train() + task.num_valid()) as f64;
            scale += interp_ns / examples / example_cost_ns(algorithm, 4).max(1e-3);
        }
        compile.sort_by(f64::total_cmp);
        BreakEven {
            // No JIT on this machine: compiling never pays.
            compile_ns: compile
                .get(compile.len() / 2)
                .copied()
                .unwrap_or(f64::INFINITY),
            jit_speedup: (log_speedup / cases.len() as f64).exp(),
            lanes_speedup: (log_lanes / cases.len() as f64).exp(),
            native_lanes_speedup: (log_native_lanes / cases.len() as f64).exp(),
            interp_scale: scale / cases.len() as f64,
            call_overhead_ns: overhead / cases.len() as f64,
        }
    }

    /// The break-even of this process, measured on first use.
    pub fn get() -> BreakEven {
        static MEASURED: OnceLock<BreakEven> = OnceLock::new();
        *MEASURED.get_or_init(BreakEven::measure)
    }

    /// Nanoseconds one native evaluation of `examples` examples would save over the interpreter
    /// running it as `mode` says, for a program whose cost-model estimate is `cost_ns` per
    /// example (0 when it would lose). With `native_lanes`, compiled code runs lanes too (its
    /// multi-lane code) where `mode` is [`InterpMode::Lanes`].
    pub fn saved_ns(
        &self,
        cost_ns: f64,
        examples: f64,
        mode: InterpMode,
        native_lanes: bool,
    ) -> f64 {
        let (interp_speedup, native_speedup) = match mode {
            InterpMode::Alone => (1.0, self.jit_speedup),
            InterpMode::Lanes if native_lanes => (
                self.lanes_speedup.max(1.0),
                self.jit_speedup.max(self.native_lanes_speedup),
            ),
            InterpMode::Lanes => (self.lanes_speedup.max(1.0), self.jit_speedup),
        };
        if native_speedup <= interp_speedup {
            return 0.0;
        }
        let interp_ns = cost_ns * self.interp_scale / interp_speedup;
        let saved = interp_ns * examples * (1.0 - interp_speedup / native_speedup);
        (saved - self.call_overhead_ns).max(0.0)
    }

    /// Whether compiling pays off for that much work on one task at a time.
    pub fn worth_compiling(&self, cost_ns: f64, examples: f64) -> bool {
        self.saved_ns(cost_ns, examples, InterpMode::Alone, false) > self.compile_ns
    }
}

/// Runs `program`'s multi-lane code on [`LANES_MEASURED`] copies of `task`.
fn native_lanes(program: &jit::JitProgram, task: &crate::task::Task) {
    let tasks = [task; LANES_MEASURED];
    let packed = PackedRows::default();
    let rows = [&packed; LANES_MEASURED];
    let mut rngs = [(); LANES_MEASURED].map(|_| Rng::new(1));
    let mut out = [Outcome::default(); LANES_MEASURED];
    let mut memories = Vec::new();
    jit::evaluate_lanes(
        program,
        &tasks,
        &rows,
        &mut memories,
        &mut rngs,
        &Limits::FULL,
        &mut out,
        &mut NoObserver,
    );
}

/// Runs `program` on [`LANES_MEASURED`] copies of `task` side by side.
fn lanes(program: &Program, task: &crate::task::Task) {
    let tasks = [task; LANES_MEASURED];
    let mut rngs = [(); LANES_MEASURED].map(|_| Rng::new(1));
    let mut out = [Outcome::default(); MAX_LANES];
    let mut memory = LaneMemory::default();
    let out = &mut out[..LANES_MEASURED];
    interp::evaluate_lanes(
        program,
        &tasks,
        &mut memory,
        &mut rngs,
        &Limits::FULL,
        out,
        &mut NoObserver,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(jit_speedup: f64, lanes_speedup: f64) -> BreakEven {
        BreakEven {
            compile_ns: 100_000.0,
            jit_speedup,
            lanes_speedup,
            native_lanes_speedup: jit_speedup,
            interp_scale: 1.0,
            call_overhead_ns: 50.0,
        }
    }

    #[test]
    fn compiled_code_saves_less_over_lanes_and_nothing_where_lanes_are_as_fast() {
        let m = machine(4.0, 2.0);
        // 10 ns per example over 1000 examples: alone 10 µs, lanes 5 µs, native 2.5 µs.
        assert_eq!(
            m.saved_ns(10.0, 1000.0, InterpMode::Alone, false),
            7500.0 - 50.0
        );
        assert_eq!(
            m.saved_ns(10.0, 1000.0, InterpMode::Lanes, false),
            2500.0 - 50.0
        );
        assert_eq!(
            machine(2.0, 2.5).saved_ns(10.0, 1000.0, InterpMode::Lanes, false),
            0.0
        );
        assert!(machine(2.0, 2.5).saved_ns(10.0, 1000.0, InterpMode::Alone, false) > 0.0);
        // Too short to pay for the call.
        assert_eq!(m.saved_ns(10.0, 1.0, InterpMode::Lanes, false), 0.0);
    }

    #[test]
    fn multi_lane_code_counts_only_beside_interpreter_lanes() {
        let m = BreakEven {
            native_lanes_speedup: 8.0,
            ..machine(2.0, 2.5)
        };
        // Lanes 4 µs; multi-lane code 1.25 µs; the single-task code (5 µs) would lose.
        assert_eq!(
            m.saved_ns(10.0, 1000.0, InterpMode::Lanes, true),
            2750.0 - 50.0
        );
        assert_eq!(m.saved_ns(10.0, 1000.0, InterpMode::Lanes, false), 0.0);
        // Alone, compiled code runs one task whatever multi-lane code it has.
        assert_eq!(
            m.saved_ns(10.0, 1000.0, InterpMode::Alone, true),
            m.saved_ns(10.0, 1000.0, InterpMode::Alone, false)
        );
    }

    #[test]
    fn measured_speedups_are_positive() {
        let b = BreakEven::measure();
        assert!(
            b.lanes_speedup > 0.0 && b.lanes_speedup.is_finite(),
            "{b:?}"
        );
        assert!(b.jit_speedup > 0.0, "{b:?}");
        assert!(
            b.native_lanes_speedup > 0.0 && b.native_lanes_speedup.is_finite(),
            "{b:?}"
        );
    }
}
