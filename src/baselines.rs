//! Baselines to beat on classification tasks: logistic regression and the hand-made 2-layer
//! network, both run as AutoML-Zero algorithms (like for like: the same executors, memory, task
//! data and random streams as an evolved algorithm), each with its learning rate tuned by a small
//! grid on the validation split (the paper's baselines were tuned by hand).
//!
//! Tuning picks, for each baseline, the rate of [`LEARNING_RATES`] whose fitness combined over
//! all the tasks (by the collection's rule) is highest (the first on ties); one rate per
//! collection, as one evolved algorithm has one program for every task. The reported fitness is
//! that rate's, on the same validation examples (there is no separate test split), so it is the
//! best a grid can do, an optimistic figure for the baselines.

use amlz_ir::{Algorithm, MemoryCounts, handmade};
use serde::{Deserialize, Serialize};

use crate::eval::{EvalError, Evaluator};

/// The learning-rate grid every baseline is tuned on.
pub const LEARNING_RATES: [f64; 7] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0];

/// The weight-initialisation standard deviation of the baseline network (the hand-made one's).
pub const NEURAL_NET_INIT_SCALE: f32 = 0.1;

/// A baseline algorithm family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// Logistic regression with a bias ([`handmade::logistic_regression`]).
    LogisticRegression,
    /// The hand-made 2-layer ReLU network ([`handmade::neural_net_with`]).
    NeuralNet,
}

impl Baseline {
    /// Both baselines, in report order.
    pub const ALL: [Baseline; 2] = [Baseline::LogisticRegression, Baseline::NeuralNet];

    /// The name used in JSON and reports: `logistic_regression`, `neural_net`.
    pub fn name(self) -> &'static str {
        match self {
            Baseline::LogisticRegression => "logistic_regression",
            Baseline::NeuralNet => "neural_net",
        }
    }

    /// The baseline's program with learning rate `rate`.
    pub fn algorithm(self, rate: f64) -> Algorithm {
        match self {
            Baseline::LogisticRegression => handmade::logistic_regression(rate),
            Baseline::NeuralNet => handmade::neural_net_with(rate, NEURAL_NET_INIT_SCALE),
        }
    }
}

/// Per-task fitnesses and their mean and spread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskStats {
    /// The mean over tasks.
    pub mean: f64,
    /// The standard deviation over tasks (population, over n; 0 for one task).
    pub std: f64,
    /// Each task's fitness, in task order.
    pub per_task: Vec<f64>,
}

impl TaskStats {
    /// The statistics of `per_task` (mean and deviation 0 when empty).
    pub fn of(per_task: Vec<f64>) -> TaskStats {
        let n = per_task.len().max(1) as f64;
        let mean = per_task.iter().sum::<f64>() / n;
        let var = per_task
            .iter()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f64>()
            / n;
        TaskStats {
            mean,
            std: var.sqrt(),
            per_task,
        }
    }
}

/// One tuned baseline on a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineResult {
    /// The learning rate the grid chose.
    pub learning_rate: f64,
    /// The fitness at that rate, combined over the tasks by the collection's rule.
    pub fitness: f64,
    /// Its per-task fitnesses, mean and spread.
    pub stats: TaskStats,
}

/// Both tuned baselines on a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// Logistic regression.
    pub logistic_regression: BaselineResult,
    /// The 2-layer network.
    pub neural_net: BaselineResult,
}

impl Baselines {
    /// The result of `baseline`.
    pub fn get(&self, baseline: Baseline) -> &BaselineResult {
        match baseline {
            Baseline::LogisticRegression => &self.logistic_regression,
            Baseline::NeuralNet => &self.neural_net,
        }
    }
}

/// Tunes `baseline` on the evaluator's tasks: every rate of the grid evaluated with random-op
/// seed `seed` (the network's initial weights), the best combined fitness kept.
pub fn tune(
    baseline: Baseline,
    evaluator: &mut Evaluator,
    seed: u64,
) -> Result<BaselineResult, EvalError> {
    let mut best: Option<BaselineResult> = None;
    for rate in LEARNING_RATES {
        let algorithm = baseline.algorithm(rate);
        let counts: MemoryCounts = algorithm.min_counts();
        let evaluation = evaluator.evaluate(&algorithm, counts, seed)?;
        if best.as_ref().is_none_or(|b| evaluation.fitness > b.fitness) {
            best = Some(BaselineResult {
                learning_rate: rate,
                fitness: evaluation.fitness,
                stats: TaskStats::of(evaluation.per_task),
            });
        }
    }
    Ok(best.expect("the grid is not empty"))
}

/// Both baselines tuned on the evaluator's tasks (see [`tune`]).
pub fn tune_all(evaluator: &mut Evaluator, seed: u64) -> Result<Baselines, EvalError> {
    Ok(Baselines {
        logistic_regression: tune(Baseline::LogisticRegression, evaluator, seed)?,
        neural_net: tune(Baseline::NeuralNet, evaluator, seed)?,
    })
}

/// The final report of a search on classification tasks: the winner's fitness on T_final beside
/// both baselines tuned on the same tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalReport {
    /// The T_final tasks' names, in task order.
    pub tasks: Vec<String>,
    /// The winner's per-task fitness on T_final, mean and spread.
    pub algorithm: TaskStats,
    /// The tuned baselines on T_final.
    pub baselines: Baselines,
}

impl std::fmt::Display for FinalReport {
    /// A table: one line per task (winner, logistic regression, network), then the means and
    /// spreads and the chosen learning rates.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (lr, nn) = (
            &self.baselines.logistic_regression,
            &self.baselines.neural_net,
        );
        writeln!(f, "T_final     evolved  logistic  neural_net  task")?;
        for (i, name) in self.tasks.iter().enumerate() {
            let at = |s: &TaskStats| s.per_task.get(i).copied().unwrap_or(f64::NAN);
            writeln!(
                f,
                "            {:.4}   {:.4}    {:.4}      {name}",
                at(&self.algorithm),
                at(&lr.stats),
                at(&nn.stats)
            )?;
        }
        let ms = |s: &TaskStats| format!("{:.4} ± {:.4}", s.mean, s.std);
        writeln!(
            f,
            "T_final mean ± std over {} tasks: evolved {} | logistic regression {} (lr {}) | \
             neural net {} (lr {})",
            self.tasks.len(),
            ms(&self.algorithm),
            ms(&lr.stats),
            lr.learning_rate,
            ms(&nn.stats),
            nn.learning_rate
        )
    }
}
