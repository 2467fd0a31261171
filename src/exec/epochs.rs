//! The loop over epochs of SEMANTICS.md §4, shared by both executors so that they cannot drift:
//! epoch 0 visits the train examples in order and epoch `e > 0` in the task's `e`-th shuffled
//! order, each epoch is followed by a validation, an early stop ends the evaluation (fitness 0
//! in the first epoch, else the best so far), and the fitness is the best over the epochs.
//! [`run_epochs_lanes`] is the same loop over several tasks side by side (lanes), each lane
//! stopping on its own.

use super::{Limits, Outcome, accuracy_fitness, rms_fitness};
use crate::task::{EvalType, Task};

/// Most tasks one multi-task evaluation runs side by side; larger groups run in several.
pub const MAX_LANES: usize = 16;

/// How one epoch's training pass ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

/// One executor's passes over the examples of several tasks at once (one lane per task), which
/// [`run_epochs_lanes`] drives. A pass runs only the lanes `running` marks: a lane whose training
/// stopped runs no more.
pub trait LanePasses {
    /// Trains every running lane over the first `count` train examples of its task in the
    /// visiting order of `epoch`; writes each running lane's pass into `passes[lane]`.
    fn train(&mut self, epoch: usize, count: usize, running: &[bool], passes: &mut [TrainPass]);
    /// Validates every running lane over the first `count` validation examples; writes each
    /// running lane's fitness into `fitness[lane]`.
    fn validate(&mut self, count: usize, running: &[bool], fitness: &mut [f64]);
}

/// Runs the epochs of one evaluation of each of `tasks` (at most [`MAX_LANES`], all with the
/// same numbers of train and validation examples and of epochs) within `limits`, side by side:
/// `out[lane]` is exactly what [`run_epochs`] would return for `tasks[lane]` alone.
///
/// # Panics
/// If the tasks differ in shape, or `out` is not one outcome per task.
pub fn run_epochs_lanes(
    tasks: &[&Task],
    limits: &Limits,
    passes: &mut impl LanePasses,
    out: &mut [Outcome],
) {
    let n = tasks.len();
    assert!(n <= MAX_LANES && out.len() == n, "one outcome per lane");
    assert!(
        tasks.iter().all(|t| same_shape(t, tasks[0])),
        "lanes of one shape"
    );
    let num_train = tasks[0].num_train().min(limits.max_train);
    let num_valid = tasks[0].num_valid().min(limits.max_valid);
    let epochs = tasks[0].num_epochs().min(limits.max_epochs);
    let mut running = [false; MAX_LANES];
    running[..n].fill(true);
    let mut best = [0.0; MAX_LANES];
    let mut steps = [0u64; MAX_LANES];
    let mut pass = [TrainPass::default(); MAX_LANES];
    let mut fitness = [0.0; MAX_LANES];
    let mut left = n;
    for epoch in 0..epochs {
        passes.train(epoch, num_train, &running[..n], &mut pass[..n]);
        for lane in 0..n {
            if !running[lane] {
                continue;
            }
            steps[lane] += pass[lane].steps + u64::from(pass[lane].stopped);
            if pass[lane].stopped {
                let fitness = if epoch == 0 { 0.0 } else { best[lane] };
                out[lane] = Outcome {
                    fitness,
                    train_steps: steps[lane],
                };
                running[lane] = false;
                left -= 1;
            }
        }
        if left == 0 {
            return;
        }
        passes.validate(num_valid, &running[..n], &mut fitness[..n]);
        for lane in (0..n).filter(|&l| running[l]) {
            if fitness[lane] > best[lane] {
                best[lane] = fitness[lane];
            }
        }
    }
    for lane in (0..n).filter(|&l| running[l]) {
        out[lane] = Outcome {
            fitness: best[lane],
            train_steps: steps[lane],
        };
    }
}

/// Whether two tasks can share one multi-task evaluation: the same feature size, eval type and
/// numbers of train examples, validation examples and epochs (their data, visiting orders and
/// error bounds may differ).
pub fn same_shape(a: &Task, b: &Task) -> bool {
    a.features == b.features
        && a.eval_type == b.eval_type
        && a.num_train() == b.num_train()
        && a.num_valid() == b.num_valid()
        && a.num_epochs() == b.num_epochs()
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
