//! The interpreter executor: the reference implementation of SEMANTICS.md §4, and fast.
//!
//! An algorithm is decoded once per memory layout into a [`Program`] (addresses checked, offsets
//! precomputed); [`evaluate`] then runs Setup once and the train/validate loops over a flat
//! [`Memory`] with no allocation per example and no bounds checks, F fixed at compile time for
//! 2, 4, 8, 16 and 32. [`evaluate_lanes`] runs several tasks of one shape side by side (the
//! multi-task lanes), each exactly as [`evaluate`] would.

/// Runs `$run` with `$d` bound to the feature size `$f` as a [`Dim`]: fixed at compile time for
/// 2, 4, 8, 16 and 32, dynamic otherwise. Every entry into the interpreter's kernel dispatches
/// this way, so that they all run the same monomorphised code for a feature size.
macro_rules! with_dim {
    ($f:expr, $d:ident => $run:expr) => {{
        use amlz_ir::kernels::{Dynamic, Fixed};
        match $f {
            2 => {
                let $d = Fixed::<2>;
                $run
            }
            4 => {
                let $d = Fixed::<4>;
                $run
            }
            8 => {
                let $d = Fixed::<8>;
                $run
            }
            16 => {
                let $d = Fixed::<16>;
                $run
            }
            32 => {
                let $d = Fixed::<32>;
                $run
            }
            f => {
                let $d = Dynamic(f);
                $run
            }
        }
    }};
}

mod exec;
mod lanes;
mod program;
mod setup_effect;

pub use lanes::{LaneMemory, evaluate_lanes};
pub use program::Program;
pub use setup_effect::SetupRunner;

use crate::exec::epochs::{self, TrainPass, run_epochs, validation_fitness};
use crate::exec::{Limits, Observer, Outcome};
use crate::task::{EvalType, Task};
use amlz_ir::kernels::{Dim, Dynamic, sigmoid};
use amlz_ir::{ComponentFunction, Layout, Rng};

/// The memory of one evaluation: the buffer of [`Layout`] plus a scratch area for aliased matrix
/// products. Reused across evaluations to avoid allocation.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    buf: Vec<f64>,
    scratch: Vec<f64>,
}

impl Memory {
    /// A zeroed memory for `layout`.
    pub fn new(layout: &Layout) -> Memory {
        let mut m = Memory::default();
        m.reset(layout);
        m
    }

    /// Zeroes the memory and sizes it for `layout`.
    pub fn reset(&mut self, layout: &Layout) {
        self.buf.clear();
        self.buf.resize(layout.len(), 0.0);
        let f = layout.features();
        if self.scratch.len() < f * f {
            self.scratch.resize(f * f, 0.0);
        }
    }

    /// The memory's values in layout order.
    pub fn values(&self) -> &[f64] {
        &self.buf
    }

    /// Mutable access to the values (for executors that hand memory to each other).
    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.buf
    }
}

/// Runs one component function of `program` on `memory` (sized for the program's layout by
/// [`Memory::new`] or [`Memory::reset`]), drawing random ops from `rng`. For tests and tools; an
/// evaluation uses [`evaluate`].
///
/// # Panics
/// If the memory was not sized for the program's layout.
pub fn run_component(
    program: &Program,
    function: ComponentFunction,
    memory: &mut Memory,
    rng: &mut Rng,
) {
    let layout = program.layout();
    assert_eq!(
        memory.buf.len(),
        layout.len(),
        "memory sized for another layout"
    );
    let f = layout.features();
    if memory.scratch.len() < f * f {
        memory.scratch.resize(f * f, 0.0);
    }
    let code = match function {
        ComponentFunction::Setup => &program.setup,
        ComponentFunction::Predict => &program.predict,
        ComponentFunction::Learn => &program.learn,
    };
    // SAFETY: addresses were checked against the layout; the memory holds it (asserted above).
    unsafe {
        exec::run(
            Dynamic(f),
            code,
            memory.buf.as_mut_ptr(),
            memory.scratch.as_mut_ptr(),
            rng,
        )
    }
}

/// Evaluates `program` on `task` (SEMANTICS.md §4): zeroed memory, Setup once, then per epoch the
/// train loop with early stopping and a validation; returns the best epoch's fitness.
///
/// `rng` is the evaluation's random stream (§5). The memory is left as the evaluation ends it.
///
/// # Panics
/// If the task's feature size differs from the program's layout.
pub fn evaluate<O: Observer>(
    program: &Program,
    task: &Task,
    memory: &mut Memory,
    rng: &mut Rng,
    limits: &Limits,
    observer: &mut O,
) -> Outcome {
    let layout = program.layout();
    assert_eq!(
        layout.features(),
        task.features,
        "program decoded for another feature size"
    );
    memory.reset(&layout);
    with_dim!(layout.features(), d => evaluate_dim(d, program, task, memory, rng, limits, observer))
}

fn evaluate_dim<D: Dim, O: Observer>(
    d: D,
    program: &Program,
    task: &Task,
    memory: &mut Memory,
    rng: &mut Rng,
    limits: &Limits,
    observer: &mut O,
) -> Outcome {
    let layout = program.layout();
    let m = memory.buf.as_mut_ptr();
    let scratch = memory.scratch.as_mut_ptr();
    // SAFETY: the program's addresses were checked against `layout` when it was built, the memory
    // was just sized for `layout`, and the scratch holds F² values.
    unsafe { exec::run(d, &program.setup, m, scratch, rng) };
    let mut passes = Passes {
        d,
        program,
        task,
        m,
        scratch,
        // SAFETY: as above; the vector bank starts inside the memory.
        v0: unsafe { m.add(layout.vector_base()) },
        rng,
        observer,
    };
    run_epochs(task, limits, &mut passes)
}

/// The interpreter's passes over a task's examples, on memory `m` sized for the program's
/// layout (see [`evaluate_dim`]).
struct Passes<'a, D, O> {
    d: D,
    program: &'a Program,
    task: &'a Task,
    m: *mut f64,
    scratch: *mut f64,
    v0: *mut f64,
    rng: &'a mut Rng,
    observer: &'a mut O,
}

impl<D: Dim, O: Observer> epochs::Passes for Passes<'_, D, O> {
    #[inline(always)]
    fn train(&mut self, epoch: usize, count: usize) -> TrainPass {
        let (d, f, m, scratch, task) = (self.d, self.d.n(), self.m, self.scratch, self.task);
        let order = task.epoch_order(epoch);
        // SAFETY: the memory, scratch and v0 pointers are valid for the program's layout (see
        // `evaluate_dim`); `i` is an example index (the order is a permutation of them).
        unsafe {
            for k in 0..count {
                let i = order.map_or(k, |o| o[k] as usize);
                std::ptr::copy_nonoverlapping(task.train_features.as_ptr().add(i * f), self.v0, f);
                *m = 0.0;
                exec::run(d, &self.program.predict, m, scratch, self.rng);
                let prediction = train_prediction(task, m);
                let label = *task.train_labels.get_unchecked(i);
                self.observer.train(label, prediction);
                if stops_training(task, label, prediction) {
                    return TrainPass {
                        steps: k as u64,
                        stopped: true,
                    };
                }
                if self.program.predict_writes_features {
                    let x = task.train_features.as_ptr().add(i * f);
                    std::ptr::copy_nonoverlapping(x, self.v0, f);
                }
                *m = label;
                exec::run(d, &self.program.learn, m, scratch, self.rng);
            }
        }
        TrainPass {
            steps: count as u64,
            stopped: false,
        }
    }

    #[inline(always)]
    fn validate(&mut self, count: usize) -> f64 {
        let (d, f, m, scratch, task) = (self.d, self.d.n(), self.m, self.scratch, self.task);
        let mut loss = 0.0;
        let mut wrong = 0usize;
        // SAFETY: as in `train`.
        unsafe {
            for i in 0..count {
                std::ptr::copy_nonoverlapping(task.valid_features.as_ptr().add(i * f), self.v0, f);
                *m = 0.0;
                exec::run(d, &self.program.predict, m, scratch, self.rng);
                let prediction = *m.add(1);
                let label = *task.valid_labels.get_unchecked(i);
                self.observer.valid(label, prediction);
                if !score(task, label, prediction, &mut loss, &mut wrong) {
                    return 0.0;
                }
            }
        }
        validation_fitness(task.eval_type, false, loss, wrong, count)
    }
}

/// The prediction of a train example, Predict having run on memory `m`: `s1`, after the
/// ACCURACY write-back `s1 = sigmoid(s1)` (SEMANTICS.md §4).
///
/// # Safety
/// `m` must hold a layout (`s1` lies inside it).
#[inline(always)]
unsafe fn train_prediction(task: &Task, m: *mut f64) -> f64 {
    unsafe {
        if task.eval_type == EvalType::Accuracy {
            *m.add(1) = sigmoid(*m.add(1));
        }
        *m.add(1)
    }
}

/// Whether a train prediction's error stops training (NaN, or beyond `max_abs_error`).
#[inline(always)]
fn stops_training(task: &Task, label: f64, prediction: f64) -> bool {
    let err = (label - prediction).abs();
    err.is_nan() || err > task.max_abs_error
}

/// Scores one validation prediction into `loss` (RMS_ERROR) or `wrong` (ACCURACY); false when
/// it fails the validation (SEMANTICS.md §4).
#[inline(always)]
fn score(task: &Task, label: f64, prediction: f64, loss: &mut f64, wrong: &mut usize) -> bool {
    match task.eval_type {
        EvalType::RmsError => {
            let e = label - prediction;
            let abs = e.abs();
            if abs.is_nan() || abs > task.max_abs_error {
                return false;
            }
            *loss += e * e;
        }
        EvalType::Accuracy => {
            let p = sigmoid(prediction);
            // Not `!(0.0..=1.0).contains(&p)`: a NaN p must pass (parity, SEMANTICS.md §4).
            #[allow(clippy::manual_range_contains)]
            if p > 1.0 || p < 0.0 {
                return false;
            }
            if (label > 0.5) != (p > 0.5) {
                *wrong += 1;
            }
        }
    }
    true
}
