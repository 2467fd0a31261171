//! The executors and their contract (SEMANTICS.md §4): what an evaluation of one algorithm on one
//! task may use ([`Limits`]), what it produces ([`Outcome`]), who may watch it ([`Observer`]),
//! and which executor runs it.
//!
//! - [`interp`]: the interpreter, the reference executor.
//! - [`jit`]: the JIT executor (Predict and Learn compiled by crate `amlz-jit`), bit-exact with it.
//! - [`epochs`]: the loop over epochs both share; [`fitness`]: the fitness formulas both share.
//! - [`choice`]: the one place that decides which executor runs an evaluation ([`Executor`]),
//!   from the user's [`ExecutorChoice`], with [`break_even`] (this machine's compile/run
//!   trade-off), [`tiering`] (hot structures compiled in the background) and [`cost`] (the
//!   per-op cost model, which the search's train budget uses too).

pub mod break_even;
pub mod choice;
pub mod cost;
pub mod epochs;
pub mod fitness;
pub mod interp;
pub mod jit;
pub mod tiering;

pub use break_even::{BreakEven, InterpMode};
pub use choice::{Executor, ExecutorChoice, ExecutorStats, Prepared};
pub use epochs::{Passes, TrainPass, run_epochs, validation_fitness};
pub use fitness::{accuracy_fitness, rms_fitness};

/// How much of a task an evaluation may use: the full task, or the prefix that a functional
/// fingerprint (FEC) or a train budget allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// At most this many train examples per epoch (0: no training, an untrained model).
    pub max_train: usize,
    /// At most this many validation examples.
    pub max_valid: usize,
    /// At most this many epochs.
    pub max_epochs: usize,
}

impl Limits {
    /// The whole task.
    pub const FULL: Limits = Limits {
        max_train: usize::MAX,
        max_valid: usize::MAX,
        max_epochs: usize::MAX,
    };

    /// The first `train` examples of epoch 0 and the first `valid` validation examples.
    pub fn prefix(train: usize, valid: usize) -> Limits {
        Limits {
            max_train: train,
            max_valid: valid,
            max_epochs: 1,
        }
    }

    /// No training at all (the train budget's verdict), one validation.
    pub const UNTRAINED: Limits = Limits {
        max_train: 0,
        max_valid: usize::MAX,
        max_epochs: 1,
    };
}

/// What one evaluation on one task produced.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcome {
    /// The fitness in `[0, 1]`.
    pub fitness: f64,
    /// Train examples started, as the original AutoML-Zero counts train steps (the unit of the
    /// search budget): every example whose Predict ran, the one whose error stopped training
    /// included.
    pub train_steps: u64,
}

/// Watches an evaluation: every train prediction (after the ACCURACY sigmoid write-back) and every
/// validation prediction (raw `s1`), each with its label. The default methods do nothing, and the
/// executors are generic over the observer, so an evaluation that does not watch pays nothing.
pub trait Observer {
    /// A train example's prediction, before its error check.
    #[inline(always)]
    fn train(&mut self, _label: f64, _prediction: f64) {}
    /// A validation example's prediction.
    #[inline(always)]
    fn valid(&mut self, _label: f64, _prediction: f64) {}
}

/// Watches a multi-task evaluation: each lane's predictions, as an [`Observer`] watches one
/// task's. Within a lane, predictions come in the order of its task run alone.
pub trait LaneObserver {
    /// Lane `lane`'s train prediction, before its error check.
    #[inline(always)]
    fn train(&mut self, _lane: usize, _label: f64, _prediction: f64) {}
    /// Lane `lane`'s validation prediction.
    #[inline(always)]
    fn valid(&mut self, _lane: usize, _label: f64, _prediction: f64) {}
}

/// The observer that records nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

impl LaneObserver for NoObserver {}

/// One trace per lane.
impl LaneObserver for Vec<Trace> {
    fn train(&mut self, lane: usize, label: f64, prediction: f64) {
        Observer::train(&mut self[lane], label, prediction);
    }
    fn valid(&mut self, lane: usize, label: f64, prediction: f64) {
        Observer::valid(&mut self[lane], label, prediction);
    }
}

/// One lane of a [`LaneObserver`] as an [`Observer`] (for a lane that runs alone).
#[derive(Debug)]
pub struct OneLane<'a, O> {
    /// The lanes' observer.
    pub lanes: &'a mut O,
    /// The lane watched.
    pub lane: usize,
}

impl<O: LaneObserver> Observer for OneLane<'_, O> {
    #[inline(always)]
    fn train(&mut self, label: f64, prediction: f64) {
        self.lanes.train(self.lane, label, prediction);
    }
    #[inline(always)]
    fn valid(&mut self, label: f64, prediction: f64) {
        self.lanes.valid(self.lane, label, prediction);
    }
}

/// Records every prediction, for differential tests between executors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// Train predictions in visiting order, all epochs.
    pub train: Vec<f64>,
    /// Validation predictions, all validations.
    pub valid: Vec<f64>,
}

impl Observer for Trace {
    fn train(&mut self, _label: f64, prediction: f64) {
        self.train.push(prediction);
    }
    fn valid(&mut self, _label: f64, prediction: f64) {
        self.valid.push(prediction);
    }
}
