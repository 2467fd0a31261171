//! Tasks (SEMANTICS.md §6): the data an algorithm is evaluated on.
//!
//! A [`Task`] is plain data: train and validation examples stored row-major, an eval type, and
//! the visiting order of every epoch. How tasks are made (generated from seeds, read from CSV
//! files, described in TOML) lives in the submodules:
//! - [`generate`]: synthetic tasks from seeds (linear, 2-layer NN, unit-test kinds, fixed).
//! - [`csv`]: the CSV reader and the `csv` kind; [`idx`]: the IDX (MNIST) reader.
//! - [`projected`]: projected binary classification of a real data set.
//! - [`spec`]: the description of a task collection, its checks and seeds; [`build`]: building it.
//! - [`mod@file`]: the task file (`amlz eval --tasks FILE`), TOML with `[[tasks]]` tables.
//! - [`combination`]: how a collection's per-task fitnesses combine.
//! - [`error`]: the errors of all of these.

pub mod build;
pub mod combination;
pub mod csv;
pub mod error;
pub mod file;
pub mod generate;
pub mod idx;
pub mod projected;
pub mod spec;

pub use error::{DataProblem, SpecProblem, TaskError, UnknownName};
pub use file::{TaskFile, TaskFileSpec, load_task_file, parse_task_file, task_file_from_str};
pub use spec::{TaskKind, TaskSpec, build_tasks, build_tasks_with_seeds};

/// How a task's validation is scored (SEMANTICS.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalType {
    /// Fitness `1 - (2/π) atan(rms error)`.
    RmsError,
    /// Fitness is the fraction of validation examples classified right; predictions go through a
    /// sigmoid.
    Accuracy,
}

/// The default bound on a prediction's absolute error before training or validation stops.
pub const DEFAULT_MAX_ABS_ERROR: f64 = 100.0;

/// One task: examples of F features with a scalar label each.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// F, the feature size.
    pub features: usize,
    /// Train features, `num_train × F`, row-major.
    pub train_features: Vec<f64>,
    /// Train labels, one per train example.
    pub train_labels: Vec<f64>,
    /// Validation features, `num_valid × F`, row-major.
    pub valid_features: Vec<f64>,
    /// Validation labels.
    pub valid_labels: Vec<f64>,
    /// How validation is scored.
    pub eval_type: EvalType,
    /// Training and validation stop when a prediction's absolute error exceeds this.
    pub max_abs_error: f64,
    /// The visiting order of epochs 1, 2, …: each a permutation of `0..num_train`, fixed when
    /// the task is built (epoch 0 visits the stored order). Its length is `num_train_epochs - 1`.
    pub epoch_orders: Vec<Vec<u32>>,
    /// The seed of the hidden function (0 for data read from files).
    pub param_seed: u64,
    /// The seed of the examples and shuffles.
    pub data_seed: u64,
    /// A short human-readable description, e.g. `scalar_linear_regression F=4 #3`.
    pub name: String,
}

impl Task {
    /// Number of train examples.
    pub fn num_train(&self) -> usize {
        self.train_labels.len()
    }

    /// Number of validation examples.
    pub fn num_valid(&self) -> usize {
        self.valid_labels.len()
    }

    /// Number of train epochs.
    pub fn num_epochs(&self) -> usize {
        self.epoch_orders.len() + 1
    }

    /// The visiting order of epoch `epoch`: `None` (the stored order) for epoch 0, else
    /// `epoch_orders[epoch - 1]`.
    #[inline]
    pub fn epoch_order(&self, epoch: usize) -> Option<&[u32]> {
        (epoch > 0).then(|| self.epoch_orders[epoch - 1].as_slice())
    }

    /// Features of train example `i`.
    #[inline]
    pub fn train_example(&self, i: usize) -> &[f64] {
        &self.train_features[i * self.features..(i + 1) * self.features]
    }

    /// Features of validation example `i`.
    #[inline]
    pub fn valid_example(&self, i: usize) -> &[f64] {
        &self.valid_features[i * self.features..(i + 1) * self.features]
    }
}
