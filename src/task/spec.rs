//! The description of a task collection ([`TaskSpec`], one `[[tasks]]` table of a TOML file),
//! its checks and its seeds. [`build_tasks`] (in [`super::build`]) turns it into tasks.
//!
//! Seeds (SEMANTICS.md §6): task `i` (from 0) of a collection takes `param_seeds[i]` and
//! `data_seeds[i]` where the lists have them; past a list's end the seeds continue from its last
//! seed by +1 per task; with no list, they are [`DEFAULT_PARAM_SEED`]` + i` and
//! [`DEFAULT_DATA_SEED`]` + i`. Two collections with default seeds therefore get the same seeds:
//! give seed lists to make them differ. [`build_tasks_with_seeds`] overrides the lists (for
//! `--randomize-task-seeds`).
//!
//! Kinds without a hidden function (`unit_test_*`, `fixed`, `csv`) have `param_seed` 0 and reject
//! a `param_seeds` list; their data seed only draws the epoch orders. A `csv` collection with
//! `num_tasks > 1` is allowed: its tasks share the data and differ only in their epoch orders
//! (so they are identical when `num_train_epochs` is 1).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::build::{build_tasks, build_tasks_with_seeds};
use super::error::{SpecProblem, UnknownName};
use super::generate::{Example, TaskSettings};
use super::{DEFAULT_MAX_ABS_ERROR, EvalType};

/// The first default param seed: task `i` of a collection without `param_seeds` gets `1000 + i`.
pub const DEFAULT_PARAM_SEED: u64 = 1000;
/// The first default data seed: task `i` of a collection without `data_seeds` gets `2000 + i`.
/// Distinct from the param seeds so that no task's examples and hidden function share a stream.
pub const DEFAULT_DATA_SEED: u64 = 2000;
/// The most values (features and labels over all examples, plus epoch-order entries) one
/// collection may hold: 2^28, i.e. 2 GiB of `f64`. Larger requests are refused instead of
/// exhausting memory.
pub const MAX_COLLECTION_VALUES: usize = 1 << 28;

/// The kinds of task a collection can hold (SEMANTICS.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Features ~ N(0,1), label `dot(w, x)`.
    ScalarLinearRegression,
    /// Features ~ N(0,1), label `dot(relu(W x), u)` with hidden units 0 and 2 dead.
    Scalar2LayerNnRegression,
    /// All features and labels 0.
    UnitTestZeros,
    /// All features and labels 1.
    UnitTestOnes,
    /// Example `k` has features and label `k * increment`.
    UnitTestIncrement,
    /// Explicit examples given in the description.
    Fixed,
    /// Examples read from a train and a validation CSV file.
    Csv,
    /// Two classes of a real data set, randomly projected to F dimensions.
    ProjectedBinaryClassification,
}

impl TaskKind {
    /// Every kind, in documentation order.
    pub const ALL: [TaskKind; 8] = [
        TaskKind::ScalarLinearRegression,
        TaskKind::Scalar2LayerNnRegression,
        TaskKind::UnitTestZeros,
        TaskKind::UnitTestOnes,
        TaskKind::UnitTestIncrement,
        TaskKind::Fixed,
        TaskKind::Csv,
        TaskKind::ProjectedBinaryClassification,
    ];

    /// The kind's name in task files, e.g. `scalar_linear_regression`.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::ScalarLinearRegression => "scalar_linear_regression",
            TaskKind::Scalar2LayerNnRegression => "scalar_2layer_nn_regression",
            TaskKind::UnitTestZeros => "unit_test_zeros",
            TaskKind::UnitTestOnes => "unit_test_ones",
            TaskKind::UnitTestIncrement => "unit_test_increment",
            TaskKind::Fixed => "fixed",
            TaskKind::Csv => "csv",
            TaskKind::ProjectedBinaryClassification => "projected_binary_classification",
        }
    }

    /// The eval type when the description gives none: accuracy for classification, RMS error
    /// otherwise.
    pub fn default_eval_type(self) -> EvalType {
        match self {
            TaskKind::ProjectedBinaryClassification => EvalType::Accuracy,
            _ => EvalType::RmsError,
        }
    }

    /// Whether the kind has a hidden function drawn from the param seed.
    pub fn has_hidden_function(self) -> bool {
        matches!(
            self,
            TaskKind::ScalarLinearRegression
                | TaskKind::Scalar2LayerNnRegression
                | TaskKind::ProjectedBinaryClassification
        )
    }

    /// Whether `features_size`, `num_train_examples` and `num_valid_examples` must be given
    /// (they are otherwise taken from the data, and checked if given).
    pub fn needs_sizes(self) -> bool {
        !matches!(self, TaskKind::Fixed | TaskKind::Csv)
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TaskKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<TaskKind, UnknownName> {
        TaskKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownName {
                what: "kind",
                given: s.to_string(),
                allowed: TaskKind::ALL.iter().map(|k| k.name()).collect(),
            })
    }
}

impl Serialize for TaskKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TaskKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TaskKind, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The name of an eval type in task files: `rms_error` or `accuracy`.
pub fn eval_type_name(eval_type: EvalType) -> &'static str {
    match eval_type {
        EvalType::RmsError => "rms_error",
        EvalType::Accuracy => "accuracy",
    }
}

/// An eval type from its name, with an error listing the allowed names.
pub fn parse_eval_type(name: &str) -> Result<EvalType, UnknownName> {
    [EvalType::RmsError, EvalType::Accuracy]
        .into_iter()
        .find(|&e| eval_type_name(e) == name)
        .ok_or_else(|| UnknownName {
            what: "eval_type",
            given: name.to_string(),
            allowed: vec!["rms_error", "accuracy"],
        })
}

/// One task collection: a kind, sizes, seeds and the kind's own keys. Keys are snake_case;
/// unknown keys are rejected. Kind-specific keys given for another kind are rejected too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The task kind.
    pub kind: TaskKind,
    /// F, 1 to 64. Required except for `csv` and `fixed`, whose F comes from the data (checked
    /// if given). For `projected_binary_classification` it is the projected dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features_size: Option<usize>,
    /// Train examples per task. Required except for `csv` and `fixed` (checked if given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_train_examples: Option<usize>,
    /// Validation examples per task. Required except for `csv` and `fixed` (checked if given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_valid_examples: Option<usize>,
    /// Tasks in the collection (default 1).
    #[serde(default = "one")]
    pub num_tasks: usize,
    /// How validation is scored; default [`TaskKind::default_eval_type`].
    #[serde(
        default,
        deserialize_with = "deserialize_eval_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub eval_type: Option<EvalType>,
    /// E, train epochs per task (default 1).
    #[serde(default = "one")]
    pub num_train_epochs: usize,
    /// The bound on a prediction's absolute error (default 100).
    #[serde(default = "default_max_abs_error")]
    pub max_abs_error: f64,
    /// Seeds of the hidden functions (see the module doc).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_seeds: Vec<u64>,
    /// Seeds of the examples and epoch orders (see the module doc).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_seeds: Vec<u64>,
    /// `csv`: the train file; a relative path is relative to the task file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_file: Option<PathBuf>,
    /// `csv`: the validation file; a relative path is relative to the task file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_file: Option<PathBuf>,
    /// `unit_test_increment`: the step between consecutive examples (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment: Option<f64>,
    /// `fixed`: the train examples, e.g. `[{ features = [1.0, 2.0], label = 3.0 }]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_examples: Option<Vec<Example>>,
    /// `fixed`: the validation examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_examples: Option<Vec<Example>>,
    /// `projected_binary_classification`: a CSV source (last column the label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_file: Option<PathBuf>,
    /// `projected_binary_classification`: an IDX images source (optionally gzipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_file: Option<PathBuf>,
    /// `projected_binary_classification`: the IDX labels of `images_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels_file: Option<PathBuf>,
    /// `projected_binary_classification`: the two source labels; the first becomes 0, the
    /// second 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<[f64; 2]>,
    /// `projected_binary_classification`: instead of `classes`, a list of pairs; task `i` takes
    /// pair `i mod len` (so that T_select and T_final can cover exactly the held-out pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_pairs: Option<Vec<[f64; 2]>>,
    /// `projected_binary_classification` without `classes` or `class_pairs`: pairs each task's
    /// drawn pair must not be (in either order); the draw is among all other pairs of the
    /// source's labels (SEMANTICS.md §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_pairs: Option<Vec<[f64; 2]>>,
    /// `csv` and `projected_binary_classification` with a CSV source: the header name of the
    /// label column (default: the last column). Every other column is a feature, in file order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
}

fn one() -> usize {
    1
}

fn default_max_abs_error() -> f64 {
    DEFAULT_MAX_ABS_ERROR
}

fn deserialize_eval_type<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<EvalType>, D::Error> {
    let name = String::deserialize(deserializer)?;
    parse_eval_type(&name)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// The `i`-th seed of a list (see the module doc): `list[i]`, else the list's last seed plus how
/// far past it `i` is, else `default_first + i` (wrapping).
pub fn nth_seed(list: &[u64], default_first: u64, i: usize) -> u64 {
    match (list.get(i), list.last()) {
        (Some(&seed), _) => seed,
        (None, Some(&last)) => last.wrapping_add((i + 1 - list.len()) as u64),
        (None, None) => default_first.wrapping_add(i as u64),
    }
}

impl TaskSpec {
    /// A description of `kind` with every optional key at its default and no sizes.
    pub fn new(kind: TaskKind) -> TaskSpec {
        TaskSpec {
            kind,
            features_size: None,
            num_train_examples: None,
            num_valid_examples: None,
            num_tasks: 1,
            eval_type: None,
            num_train_epochs: 1,
            max_abs_error: DEFAULT_MAX_ABS_ERROR,
            param_seeds: Vec::new(),
            data_seeds: Vec::new(),
            train_file: None,
            valid_file: None,
            increment: None,
            train_examples: None,
            valid_examples: None,
            source_file: None,
            images_file: None,
            labels_file: None,
            classes: None,
            class_pairs: None,
            held_out_pairs: None,
            label_column: None,
        }
    }

    /// A generated collection (`kind` with F, train and validation counts and `num_tasks`).
    pub fn generated(
        kind: TaskKind,
        features: usize,
        num_train: usize,
        num_valid: usize,
        num_tasks: usize,
    ) -> TaskSpec {
        TaskSpec {
            features_size: Some(features),
            num_train_examples: Some(num_train),
            num_valid_examples: Some(num_valid),
            num_tasks,
            ..TaskSpec::new(kind)
        }
    }

    /// The `(param_seed, data_seed)` that task `i` gets from the lists or the defaults.
    pub fn seeds(&self, i: usize) -> (u64, u64) {
        (
            nth_seed(&self.param_seeds, DEFAULT_PARAM_SEED, i),
            nth_seed(&self.data_seeds, DEFAULT_DATA_SEED, i),
        )
    }

    /// The eval type, the bound on errors and the epochs, defaults applied.
    pub fn settings(&self) -> TaskSettings {
        TaskSettings {
            eval_type: self.eval_type.unwrap_or(self.kind.default_eval_type()),
            max_abs_error: self.max_abs_error,
            num_train_epochs: self.num_train_epochs,
        }
    }

    /// Checks everything that can be checked without reading data files: kind-specific keys,
    /// required keys, ranges, seed lists and (for generated kinds) the collection's size.
    pub fn check(&self) -> Result<(), SpecProblem> {
        let kind = self.kind;
        for (key, given) in self.kind_specific_keys() {
            if given && !key_applies(key, kind) {
                return Err(SpecProblem::NotApplicable { key, kind });
            }
        }
        for (key, given) in self.required_keys() {
            if !given {
                return Err(SpecProblem::Missing { key, kind });
            }
        }
        for (key, path) in [
            ("train_file", &self.train_file),
            ("valid_file", &self.valid_file),
            ("source_file", &self.source_file),
            ("images_file", &self.images_file),
            ("labels_file", &self.labels_file),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(SpecProblem::EmptyPath { key });
            }
        }
        if let Some(f) = self.features_size
            && !(1..=amlz_ir::MAX_FEATURES).contains(&f)
        {
            return Err(SpecProblem::FeaturesOutOfRange(f));
        }
        let counts = [
            ("num_train_examples", self.num_train_examples),
            ("num_valid_examples", self.num_valid_examples),
            ("num_tasks", Some(self.num_tasks)),
            ("num_train_epochs", Some(self.num_train_epochs)),
        ];
        if let Some((key, _)) = counts.iter().find(|(_, n)| *n == Some(0)) {
            return Err(SpecProblem::Zero { key });
        }
        if self.max_abs_error.is_nan() || self.max_abs_error <= 0.0 {
            return Err(SpecProblem::MaxAbsError(self.max_abs_error));
        }
        if let Some(inc) = self.increment.filter(|i| !i.is_finite()) {
            return Err(SpecProblem::Increment(inc));
        }
        for (key, list) in [
            ("param_seeds", &self.param_seeds),
            ("data_seeds", &self.data_seeds),
        ] {
            if list.len() > self.num_tasks {
                return Err(SpecProblem::TooManySeeds {
                    key,
                    given: list.len(),
                    num_tasks: self.num_tasks,
                });
            }
        }
        if kind == TaskKind::ProjectedBinaryClassification {
            let given = (
                self.source_file.is_some(),
                self.images_file.is_some(),
                self.labels_file.is_some(),
            );
            if !matches!(given, (true, false, false) | (false, true, true)) {
                return Err(SpecProblem::Source);
            }
            self.check_pairs()?;
        }
        if let (Some(f), Some(train), Some(valid)) = (
            self.features_size,
            self.num_train_examples,
            self.num_valid_examples,
        ) {
            self.check_size(f, train, valid)?;
        }
        Ok(())
    }

    /// Refuses collections that would hold more than [`MAX_COLLECTION_VALUES`] values.
    pub(super) fn check_size(
        &self,
        f: usize,
        train: usize,
        valid: usize,
    ) -> Result<(), SpecProblem> {
        let per_task = train
            .saturating_add(valid)
            .saturating_mul(f.saturating_add(1))
            .saturating_add(train.saturating_mul(self.num_train_epochs - 1));
        let values = per_task.saturating_mul(self.num_tasks);
        if values > MAX_COLLECTION_VALUES || train > u32::MAX as usize {
            return Err(SpecProblem::TooLarge {
                limit: MAX_COLLECTION_VALUES,
            });
        }
        Ok(())
    }

    /// Checks the class keys of a projected collection: at most one of `classes` and
    /// `class_pairs`, `held_out_pairs` only for drawn pairs, every pair of two distinct finite
    /// labels, no empty list.
    fn check_pairs(&self) -> Result<(), SpecProblem> {
        if self.classes.is_some() && self.class_pairs.is_some() {
            return Err(SpecProblem::Conflict {
                key: "class_pairs",
                other: "classes",
            });
        }
        if self.held_out_pairs.is_some() {
            let other = if self.classes.is_some() {
                Some("classes")
            } else {
                self.class_pairs.as_ref().map(|_| "class_pairs")
            };
            if let Some(other) = other {
                return Err(SpecProblem::Conflict {
                    key: "held_out_pairs",
                    other,
                });
            }
        }
        if self.source_file.is_none() && self.label_column.is_some() {
            return Err(SpecProblem::NotApplicable {
                key: "label_column",
                kind: self.kind,
            });
        }
        let single = self.classes.map(|c| ("classes", vec![c]));
        let lists = [
            ("class_pairs", &self.class_pairs),
            ("held_out_pairs", &self.held_out_pairs),
        ];
        let lists = lists
            .into_iter()
            .filter_map(|(key, list)| list.clone().map(|l| (key, l)));
        for (key, pairs) in single.into_iter().chain(lists) {
            if pairs.is_empty() {
                return Err(SpecProblem::EmptyPairs { key });
            }
            for [a, b] in pairs {
                if !a.is_finite() || !b.is_finite() {
                    return Err(SpecProblem::PairNotFinite { key });
                }
                if a == b && key == "classes" {
                    return Err(SpecProblem::SameClasses(a));
                }
                if a == b {
                    return Err(SpecProblem::SamePair { key, class: a });
                }
            }
        }
        Ok(())
    }

    /// The keys that only some kinds take, and whether each is given.
    fn kind_specific_keys(&self) -> [(&'static str, bool); 13] {
        [
            ("param_seeds", !self.param_seeds.is_empty()),
            ("train_file", self.train_file.is_some()),
            ("valid_file", self.valid_file.is_some()),
            ("increment", self.increment.is_some()),
            ("train_examples", self.train_examples.is_some()),
            ("valid_examples", self.valid_examples.is_some()),
            ("source_file", self.source_file.is_some()),
            ("images_file", self.images_file.is_some()),
            ("labels_file", self.labels_file.is_some()),
            ("classes", self.classes.is_some()),
            ("class_pairs", self.class_pairs.is_some()),
            ("held_out_pairs", self.held_out_pairs.is_some()),
            ("label_column", self.label_column.is_some()),
        ]
    }

    /// The keys this kind requires, and whether each is given.
    fn required_keys(&self) -> Vec<(&'static str, bool)> {
        let mut keys = Vec::new();
        if self.kind.needs_sizes() {
            keys.push(("features_size", self.features_size.is_some()));
            keys.push(("num_train_examples", self.num_train_examples.is_some()));
            keys.push(("num_valid_examples", self.num_valid_examples.is_some()));
        }
        match self.kind {
            TaskKind::Csv => {
                keys.push(("train_file", self.train_file.is_some()));
                keys.push(("valid_file", self.valid_file.is_some()));
            }
            TaskKind::Fixed => {
                keys.push(("train_examples", self.train_examples.is_some()));
                keys.push(("valid_examples", self.valid_examples.is_some()));
            }
            _ => {}
        }
        keys
    }

    /// Checks a size the data determines against the one given, if any.
    pub(super) fn check_given(
        &self,
        key: &'static str,
        given: Option<usize>,
        found: usize,
        what: impl FnOnce() -> String,
    ) -> Result<(), SpecProblem> {
        match given {
            Some(given) if given != found => Err(SpecProblem::Mismatch {
                key,
                given,
                found,
                what: what(),
            }),
            _ => Ok(()),
        }
    }
}

/// Whether a kind-specific key means something for `kind`.
fn key_applies(key: &str, kind: TaskKind) -> bool {
    match key {
        "param_seeds" => kind.has_hidden_function(),
        "train_file" | "valid_file" => kind == TaskKind::Csv,
        "increment" => kind == TaskKind::UnitTestIncrement,
        "label_column" => matches!(
            kind,
            TaskKind::Csv | TaskKind::ProjectedBinaryClassification
        ),
        "train_examples" | "valid_examples" => kind == TaskKind::Fixed,
        _ => kind == TaskKind::ProjectedBinaryClassification,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_come_from_lists_then_continue_then_default() {
        assert_eq!(nth_seed(&[5, 9], 1000, 0), 5);
        assert_eq!(nth_seed(&[5, 9], 1000, 1), 9);
        assert_eq!(nth_seed(&[5, 9], 1000, 2), 10);
        assert_eq!(nth_seed(&[5, 9], 1000, 4), 12);
        assert_eq!(nth_seed(&[], 1000, 3), 1003);
        assert_eq!(nth_seed(&[u64::MAX], 0, 1), 0);
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_allowed() {
        for kind in TaskKind::ALL {
            assert_eq!(kind.name().parse::<TaskKind>(), Ok(kind));
        }
        let e = "linear".parse::<TaskKind>().unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unknown kind \"linear\" (allowed: scalar_linear")
        );
        assert_eq!(
            parse_eval_type("rms").unwrap_err().to_string(),
            "unknown eval_type \"rms\" (allowed: rms_error, accuracy)"
        );
        assert_eq!(parse_eval_type("accuracy"), Ok(EvalType::Accuracy));
    }

    #[test]
    fn check_reports_the_key_at_fault() {
        let linear = TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 10, 10, 2);
        assert_eq!(linear.check(), Ok(()));
        let key = |spec: TaskSpec| spec.check().unwrap_err().key();
        assert_eq!(
            key(TaskSpec::new(TaskKind::ScalarLinearRegression)),
            Some("features_size")
        );
        let mut s = linear.clone();
        s.features_size = Some(65);
        assert_eq!(key(s), Some("features_size"));
        let mut s = linear.clone();
        s.num_valid_examples = Some(0);
        assert_eq!(key(s), Some("num_valid_examples"));
        let mut s = linear.clone();
        s.data_seeds = vec![1, 2, 3];
        assert_eq!(key(s), Some("data_seeds"));
        let mut s = linear.clone();
        s.increment = Some(2.0);
        assert_eq!(key(s), Some("increment"));
        let mut s = linear.clone();
        s.max_abs_error = f64::NAN;
        assert_eq!(key(s), Some("max_abs_error"));
        let mut s = TaskSpec::generated(TaskKind::UnitTestOnes, 4, 10, 10, 1);
        s.param_seeds = vec![1];
        assert_eq!(key(s), Some("param_seeds"));
        let mut s = linear.clone();
        s.num_train_examples = Some(usize::MAX);
        assert!(matches!(s.check(), Err(SpecProblem::TooLarge { .. })));
        let mut s = TaskSpec::generated(TaskKind::ProjectedBinaryClassification, 4, 10, 10, 1);
        s.classes = Some([0.0, 1.0]);
        assert_eq!(s.check(), Err(SpecProblem::Source));
        s.images_file = Some("i".into());
        assert_eq!(s.check(), Err(SpecProblem::Source));
        s.labels_file = Some("l".into());
        assert_eq!(s.check(), Ok(()));
        s.source_file = Some("s.csv".into());
        assert_eq!(s.check(), Err(SpecProblem::Source));
    }

    #[test]
    fn eval_type_defaults_by_kind() {
        let spec = TaskSpec::new(TaskKind::ProjectedBinaryClassification);
        assert_eq!(spec.settings().eval_type, EvalType::Accuracy);
        assert_eq!(
            TaskSpec::new(TaskKind::Csv).settings().eval_type,
            EvalType::RmsError
        );
    }
}
