//! Tasks (SEMANTICS.md §6): the data an algorithm is evaluated on.
//!
//! A [`Task`] is plain data: train and validation examples stored row-major, an eval type, and
//! the visiting order of every epoch (plus, packed on first use, the same examples as the JIT
//! reads them: [`PackedRows`]). How tasks are made (generated from seeds, read from CSV
//! files, described in TOML) lives in the submodules:
//! - [`generate`]: synthetic tasks from seeds (linear, 2-layer NN, unit-test kinds, fixed).
//! - [`csv`]: the CSV reader and the `csv` kind; [`idx`]: the IDX (MNIST) reader.
//! - [`projected`]: projected binary classification of a real data set.
//! - [`spec`]: the description of a task collection, its checks and seeds; [`build`]: building it.
//! - [`mod@file`]: the task file (`amlz eval --tasks FILE`), TOML with `[[tasks]]` tables.
//! - [`error`]: the errors of all of these.

pub mod build;
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
    /// The examples packed as the JIT reads them ([`Task::train_rows`], [`Task::valid_rows`]),
    /// built from the fields above on first use: change the examples only before the task is
    /// evaluated, or on a clone (a clone packs its own).
    pub packed: PackedRows,
}

/// A task's examples packed for the JIT, once per task: the train rows of every epoch's
/// visiting order and the validation rows ([`amlz_jit::pack_rows`]). About (F + 1)/F times the
/// task's data per epoch; built only when the JIT first evaluates on the task.
///
/// Carries no meaning of its own: a clone starts empty (it packs again from the clone's fields,
/// which may have been changed) and any two compare equal.
#[derive(Default)]
pub struct PackedRows(std::sync::OnceLock<Packed>);

struct Packed {
    train: Vec<Vec<f64>>,
    valid: Vec<f64>,
}

impl PackedRows {
    fn get(&self, task: &Task) -> &Packed {
        self.0.get_or_init(|| {
            let f = task.features;
            let pack = amlz_jit::pack_rows;
            Packed {
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
        })
    }
}

impl Clone for PackedRows {
    fn clone(&self) -> Self {
        PackedRows::default()
    }
}

impl PartialEq for PackedRows {
    fn eq(&self, _: &PackedRows) -> bool {
        true
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

    /// The train examples as the JIT's loops read them: rows of F features and the label, in
    /// the visiting order of `epoch` (see [`amlz_jit::Examples`]). Packed on first use.
    pub fn train_rows(&self, epoch: usize) -> &[f64] {
        &self.packed.get(self).train[epoch]
    }

    /// The validation examples as rows of F features and the label, in stored order.
    pub fn valid_rows(&self) -> &[f64] {
        &self.packed.get(self).valid
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

#[cfg(test)]
mod tests {
    use super::generate::{Sizes, TaskSettings, scalar_linear_regression};
    use super::*;

    fn task() -> Task {
        let sizes = Sizes {
            features: 3,
            num_train: 20,
            num_valid: 5,
        };
        let settings = TaskSettings {
            eval_type: EvalType::RmsError,
            max_abs_error: DEFAULT_MAX_ABS_ERROR,
            num_train_epochs: 3,
        };
        scalar_linear_regression(sizes, &settings, 1, 2)
    }

    #[test]
    fn packed_rows_visit_each_epochs_order_with_the_labels() {
        let t = task();
        for epoch in 0..t.num_epochs() {
            let rows = t.train_rows(epoch);
            assert_eq!(rows.len(), t.num_train() * 4);
            for (k, row) in rows.chunks(4).enumerate() {
                let i = t.epoch_order(epoch).map_or(k, |o| o[k] as usize);
                assert_eq!(&row[..3], t.train_example(i), "epoch {epoch} step {k}");
                assert_eq!(row[3], t.train_labels[i]);
            }
        }
        assert_ne!(t.train_rows(1), t.train_rows(0), "epoch 1 is shuffled");
        let valid: Vec<f64> = (0..t.num_valid())
            .flat_map(|i| [t.valid_example(i), &[t.valid_labels[i]]].concat())
            .collect();
        assert_eq!(t.valid_rows(), valid);
    }

    #[test]
    fn a_clone_packs_its_own_examples() {
        let t = task();
        let before = t.train_rows(0).to_vec();
        let mut changed = t.clone();
        assert_eq!(changed, t, "the packed rows do not take part in equality");
        changed.train_labels[0] += 1.0;
        assert_eq!(changed.train_rows(0)[3], before[3] + 1.0);
        assert_eq!(t.train_rows(0), before);
    }
}
