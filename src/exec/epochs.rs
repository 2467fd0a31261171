//! The loop over epochs of SEMANTICS.md §4, shared by both executors so that they cannot drift:
//! epoch 0 visits the train examples in order and epoch `e > 0` in the task's `e`-th shuffled
//! order, each epoch is followed by a validation, an early stop ends the evaluation (fitness 0
//! in the first epoch, else the best so far), and the fitness is the best over the epochs.

use super::{Limits, Outcome, accuracy_fitness, rms_fitness};
use crate::task::{EvalType, Task};

/// How one epoch's training pass ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainPass {
    /// Examples whose Learn ran (the example that stopped training is not among them).
    pub steps: u64,
    /// Whether an example's error stopped training (its Learn did not run).
    pub stopped: bool,
}

/// One executor's passes over a task's examples, which [`run_epochs`] drives.
pub trait Passes {
    /// Trains over the first `count` train examples in the visiting order of `epoch`
    /// ([`Task::epoch_order`]).
    fn train(&mut self, epoch: usize, count: usize) -> TrainPass;
    /// Validates over the first `count` validation examples; returns the pass's fitness.
    fn validate(&mut self, count: usize) -> f64;
}

/// Runs the epochs of one evaluation of `task` within `limits` (Setup has run).
#[inline(always)]
pub fn run_epochs(task: &Task, limits: &Limits, passes: &mut impl Passes) -> Outcome {
    let num_train = task.num_train().min(limits.max_train);
    let num_valid = task.num_valid().min(limits.max_valid);
    let epochs = task.num_epochs().min(limits.max_epochs);
    let mut best = 0.0;
    let mut steps = 0u64;
    for epoch in 0..epochs {
        let pass = passes.train(epoch, num_train);
        // The original counts every example it starts: the one whose error stops training too.
        steps += pass.steps + u64::from(pass.stopped);
        if pass.stopped {
            return Outcome {
                fitness: if epoch == 0 { 0.0 } else { best },
                train_steps: steps,
            };
        }
        let fitness = passes.validate(num_valid);
        if fitness > best {
            best = fitness;
        }
    }
    Outcome {
        fitness: best,
        train_steps: steps,
    }
}

/// The fitness of a validation pass over `n` examples that summed `loss` (RMS_ERROR) or
/// counted `wrong` (ACCURACY); 0 when it failed.
pub fn validation_fitness(
    eval_type: EvalType,
    failed: bool,
    loss: f64,
    wrong: usize,
    n: usize,
) -> f64 {
    if failed {
        return 0.0;
    }
    match eval_type {
        EvalType::RmsError => rms_fitness(loss, n),
        EvalType::Accuracy => accuracy_fitness(wrong, n),
    }
}
