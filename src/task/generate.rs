//! Task generators (SEMANTICS.md §6): synthetic tasks from a `param_seed` (the hidden function)
//! and a `data_seed` (the examples and the epoch shuffles).
//!
//! Draw order, part of the reproducibility contract:
//! - `Rng::new(param_seed)`: the hidden parameters, in the order documented on each generator.
//! - `Rng::new(data_seed)`: the train examples (example by example, feature by feature), then the
//!   validation examples, then the visiting orders of epochs 1..E, each a fresh Fisher–Yates
//!   shuffle of `0..num_train` (epoch 0 visits the stored order and draws nothing).
//!
//! Sums are taken in index order starting from the first product (`((p0 + p1) + p2) + …`, no fused
//! multiply-add), so labels are the same on every machine.

use amlz_ir::Rng;

use super::error::SpecProblem;
use super::{EvalType, Task};

/// The sizes of one generated task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// F, the feature size (1 to 64).
    pub features: usize,
    /// Train examples.
    pub num_train: usize,
    /// Validation examples.
    pub num_valid: usize,
}

/// How a task is trained and scored; shared by every task of a collection whatever its data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaskSettings {
    /// How validation is scored.
    pub eval_type: EvalType,
    /// Training and validation stop when a prediction's absolute error exceeds this.
    pub max_abs_error: f64,
    /// E, the number of train epochs (at least 1).
    pub num_train_epochs: usize,
}

impl Default for TaskSettings {
    /// RMS error, `max_abs_error` 100, one epoch: the original's defaults.
    fn default() -> Self {
        TaskSettings {
            eval_type: EvalType::RmsError,
            max_abs_error: super::DEFAULT_MAX_ABS_ERROR,
            num_train_epochs: 1,
        }
    }
}

/// One explicit example: F features and a label (the `fixed` kind's data).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// The features.
    pub features: Vec<f64>,
    /// The label.
    pub label: f64,
}

/// The hidden function of a 2-layer NN regression task.
#[derive(Clone, Debug, PartialEq)]
pub struct NnWeights {
    /// F, the feature size.
    pub features: usize,
    /// The first layer, `F × F` row-major; rows 0 and 2 are zero.
    pub w: Vec<f64>,
    /// The output weights, F of them; elements 0 and 2 are zero.
    pub u: Vec<f64>,
}

/// A task's examples before its epoch orders are drawn: what data sources hand to [`finish`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExampleData {
    pub features: usize,
    pub train_features: Vec<f64>,
    pub train_labels: Vec<f64>,
    pub valid_features: Vec<f64>,
    pub valid_labels: Vec<f64>,
}

/// `dot(a, b)` summed in index order starting from the first product (`-0.0` stays `-0.0`).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut products = a.iter().zip(b).map(|(x, y)| x * y);
    let first = products.next().unwrap_or(0.0);
    products.fold(first, |acc, p| acc + p)
}

/// `max(z, 0)`; `-0.0` and NaN become `0.0`.
pub fn relu(z: f64) -> f64 {
    if z > 0.0 { z } else { 0.0 }
}

/// The weights of a linear regression task: `w ~ N(0,1)^F`, `F` draws from `Rng::new(param_seed)`.
pub fn linear_weights(features: usize, param_seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(param_seed);
    (0..features).map(|_| rng.standard_normal()).collect()
}

/// The weights of a 2-layer NN regression task, from `Rng::new(param_seed)`: all `F × F` elements
/// of `W` (row-major), then all `F` of `u`, every one a N(0,1) draw; then rows 0 and 2 of `W` and
/// elements 0 and 2 of `u` are zeroed (those that exist when F < 3). Zeroing after drawing keeps
/// the stream independent of which units are dead.
pub fn nn_weights(features: usize, param_seed: u64) -> NnWeights {
    let mut rng = Rng::new(param_seed);
    let mut w: Vec<f64> = (0..features * features)
        .map(|_| rng.standard_normal())
        .collect();
    let mut u: Vec<f64> = (0..features).map(|_| rng.standard_normal()).collect();
    for dead in [0, 2].into_iter().filter(|&i| i < features) {
        w[dead * features..(dead + 1) * features].fill(0.0);
        u[dead] = 0.0;
    }
    NnWeights { features, w, u }
}

impl NnWeights {
    /// The label of features `x`: `dot(relu(W x), u)`, every sum in index order.
    pub fn label(&self, x: &[f64]) -> f64 {
        let f = self.features;
        let hidden: Vec<f64> = (0..f)
            .map(|i| relu(dot(&self.w[i * f..(i + 1) * f], x)))
            .collect();
        dot(&hidden, &self.u)
    }
}

/// A linear regression task: features ~ N(0,1), label `dot(w, x)` with `w` from
/// [`linear_weights`].
pub fn scalar_linear_regression(
    sizes: Sizes,
    settings: &TaskSettings,
    param_seed: u64,
    data_seed: u64,
) -> Task {
    let w = linear_weights(sizes.features, param_seed);
    gaussian_task(
        sizes,
        settings,
        param_seed,
        data_seed,
        "scalar_linear_regression",
        |x| dot(&w, x),
    )
}

/// A 2-layer NN regression task: features ~ N(0,1), label `dot(relu(W x), u)` with `W`, `u` from
/// [`nn_weights`].
pub fn scalar_2layer_nn_regression(
    sizes: Sizes,
    settings: &TaskSettings,
    param_seed: u64,
    data_seed: u64,
) -> Task {
    let weights = nn_weights(sizes.features, param_seed);
    gaussian_task(
        sizes,
        settings,
        param_seed,
        data_seed,
        "scalar_2layer_nn_regression",
        |x| weights.label(x),
    )
}

/// Every feature and label 0. No hidden function: `param_seed` is 0.
pub fn unit_test_zeros(sizes: Sizes, settings: &TaskSettings, data_seed: u64) -> Task {
    constant_task(sizes, settings, data_seed, 0.0, "unit_test_zeros")
}

/// Every feature and label 1. No hidden function: `param_seed` is 0.
pub fn unit_test_ones(sizes: Sizes, settings: &TaskSettings, data_seed: u64) -> Task {
    constant_task(sizes, settings, data_seed, 1.0, "unit_test_ones")
}

/// Train example `i` has every feature and its label equal to `i * increment`; validation
/// example `j` *continues* the sequence: `(num_train + j) * increment`, so validation asks for
/// values never seen in training. No hidden function: `param_seed` is 0.
pub fn unit_test_increment(
    sizes: Sizes,
    settings: &TaskSettings,
    increment: f64,
    data_seed: u64,
) -> Task {
    let value = |k: usize| k as f64 * increment;
    let f = sizes.features;
    let data = ExampleData {
        features: f,
        train_features: (0..sizes.num_train)
            .flat_map(|i| std::iter::repeat_n(value(i), f))
            .collect(),
        train_labels: (0..sizes.num_train).map(value).collect(),
        valid_features: (0..sizes.num_valid)
            .flat_map(|j| std::iter::repeat_n(value(sizes.num_train + j), f))
            .collect(),
        valid_labels: (0..sizes.num_valid)
            .map(|j| value(sizes.num_train + j))
            .collect(),
    };
    let name = format!("unit_test_increment F={f}");
    finish(data, settings, &mut Rng::new(data_seed), 0, data_seed, name)
}

/// A task of explicit examples (the `fixed` kind). Every example must have the same number of
/// features, that of the first train example, which must be 1 to 64; values must be finite.
/// No hidden function: `param_seed` is 0.
pub fn fixed(
    train: &[Example],
    valid: &[Example],
    settings: &TaskSettings,
    data_seed: u64,
) -> Result<Task, SpecProblem> {
    let features = match train.first() {
        Some(first) => first.features.len(),
        None => {
            return Err(SpecProblem::NoExamples {
                key: "train_examples",
            });
        }
    };
    if valid.is_empty() {
        return Err(SpecProblem::NoExamples {
            key: "valid_examples",
        });
    }
    if !(1..=amlz_ir::MAX_FEATURES).contains(&features) {
        return Err(SpecProblem::FixedFeatureCount(features));
    }
    let (train_features, train_labels) = flatten(train, features, "train_examples")?;
    let (valid_features, valid_labels) = flatten(valid, features, "valid_examples")?;
    let data = ExampleData {
        features,
        train_features,
        train_labels,
        valid_features,
        valid_labels,
    };
    let name = format!("fixed F={features}");
    Ok(finish(
        data,
        settings,
        &mut Rng::new(data_seed),
        0,
        data_seed,
        name,
    ))
}

/// The visiting orders of epochs 1..`num_epochs`, each a fresh Fisher–Yates shuffle of
/// `0..num_train` drawn from `rng` (epoch 0 visits the stored order and has no entry).
pub fn epoch_orders(rng: &mut Rng, num_train: usize, num_epochs: usize) -> Vec<Vec<u32>> {
    (1..num_epochs.max(1))
        .map(|_| {
            let mut order: Vec<u32> = (0..num_train as u32).collect();
            rng.shuffle(&mut order);
            order
        })
        .collect()
}

/// Completes a task: draws its epoch orders from `rng` (the data stream, after the examples).
pub(crate) fn finish(
    data: ExampleData,
    settings: &TaskSettings,
    rng: &mut Rng,
    param_seed: u64,
    data_seed: u64,
    name: String,
) -> Task {
    let epoch_orders = epoch_orders(rng, data.train_labels.len(), settings.num_train_epochs);
    Task {
        features: data.features,
        train_features: data.train_features,
        train_labels: data.train_labels,
        valid_features: data.valid_features,
        valid_labels: data.valid_labels,
        eval_type: settings.eval_type,
        max_abs_error: settings.max_abs_error,
        epoch_orders,
        param_seed,
        data_seed,
        name,
    }
}

/// Features ~ N(0,1) from the data stream (train, then validation), labels from `label`.
fn gaussian_task(
    sizes: Sizes,
    settings: &TaskSettings,
    param_seed: u64,
    data_seed: u64,
    kind: &str,
    label: impl Fn(&[f64]) -> f64,
) -> Task {
    let f = sizes.features;
    let mut rng = Rng::new(data_seed);
    let mut draw = |n: usize| -> (Vec<f64>, Vec<f64>) {
        let features: Vec<f64> = (0..n * f).map(|_| rng.standard_normal()).collect();
        let labels = features.chunks_exact(f.max(1)).map(&label).collect();
        (features, labels)
    };
    let (train_features, train_labels) = draw(sizes.num_train);
    let (valid_features, valid_labels) = draw(sizes.num_valid);
    let data = ExampleData {
        features: f,
        train_features,
        train_labels,
        valid_features,
        valid_labels,
    };
    let name = format!("{kind} F={f}");
    finish(data, settings, &mut rng, param_seed, data_seed, name)
}

/// Every feature and label equal to `value`.
fn constant_task(
    sizes: Sizes,
    settings: &TaskSettings,
    data_seed: u64,
    value: f64,
    kind: &str,
) -> Task {
    let f = sizes.features;
    let data = ExampleData {
        features: f,
        train_features: vec![value; sizes.num_train * f],
        train_labels: vec![value; sizes.num_train],
        valid_features: vec![value; sizes.num_valid * f],
        valid_labels: vec![value; sizes.num_valid],
    };
    let name = format!("{kind} F={f}");
    finish(data, settings, &mut Rng::new(data_seed), 0, data_seed, name)
}

/// Row-major features and the labels of explicit examples, checked for size and finiteness.
fn flatten(
    examples: &[Example],
    features: usize,
    key: &'static str,
) -> Result<(Vec<f64>, Vec<f64>), SpecProblem> {
    let mut flat = Vec::with_capacity(examples.len() * features);
    for (i, example) in examples.iter().enumerate() {
        if example.features.len() != features {
            return Err(SpecProblem::FixedFeatures {
                key,
                index: i + 1,
                found: example.features.len(),
                expected: features,
            });
        }
        if !example.label.is_finite() || example.features.iter().any(|v| !v.is_finite()) {
            return Err(SpecProblem::FixedNotFinite { key, index: i + 1 });
        }
        flat.extend_from_slice(&example.features);
    }
    Ok((flat, examples.iter().map(|e| e.label).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes {
        features: 4,
        num_train: 50,
        num_valid: 20,
    };

    #[test]
    fn dot_starts_from_the_first_product() {
        assert_eq!(dot(&[-0.0], &[1.0]).to_bits(), (-0.0f64).to_bits());
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
        assert_eq!(dot(&[], &[]), 0.0);
    }

    #[test]
    fn nn_weights_zero_rows_and_elements_0_and_2_only_where_they_exist() {
        let nn = nn_weights(4, 9);
        assert!(nn.w[0..4].iter().all(|&v| v == 0.0));
        assert!(nn.w[8..12].iter().all(|&v| v == 0.0));
        assert!(nn.w[4..8].iter().all(|&v| v != 0.0));
        assert!(nn.w[12..16].iter().all(|&v| v != 0.0));
        assert_eq!((nn.u[0], nn.u[2]), (0.0, 0.0));
        assert!(nn.u[1] != 0.0 && nn.u[3] != 0.0);
        let small = nn_weights(2, 9);
        assert_eq!(small.w[0..2], [0.0, 0.0]);
        assert!(small.w[2..4].iter().all(|&v| v != 0.0));
        assert_eq!(nn_weights(1, 9).u, vec![0.0]);
    }

    #[test]
    fn increment_validation_continues_the_train_sequence() {
        let t = unit_test_increment(SIZES, &TaskSettings::default(), 0.5, 1);
        assert_eq!(t.train_example(3), &[1.5; 4]);
        assert_eq!(t.train_labels[49], 24.5);
        assert_eq!(t.valid_example(0), &[25.0; 4]);
        assert_eq!(t.valid_labels[19], 34.5);
    }

    #[test]
    fn constant_tasks_have_the_right_values_and_sizes() {
        let settings = TaskSettings {
            num_train_epochs: 3,
            ..TaskSettings::default()
        };
        let z = unit_test_zeros(SIZES, &settings, 5);
        let o = unit_test_ones(SIZES, &settings, 5);
        assert!(
            z.train_features
                .iter()
                .chain(&z.valid_labels)
                .all(|&v| v == 0.0)
        );
        assert!(
            o.train_labels
                .iter()
                .chain(&o.valid_features)
                .all(|&v| v == 1.0)
        );
        assert_eq!((o.num_train(), o.num_valid(), o.num_epochs()), (50, 20, 3));
        assert_eq!(z.epoch_orders, o.epoch_orders);
        assert_eq!(z.param_seed, 0);
    }

    #[test]
    fn fixed_rejects_ragged_and_non_finite_examples() {
        let ex = |f: &[f64], l: f64| Example {
            features: f.to_vec(),
            label: l,
        };
        let settings = TaskSettings::default();
        let t = fixed(
            &[ex(&[1.0, 2.0], 3.0), ex(&[4.0, 5.0], 9.0)],
            &[ex(&[0.0, 1.0], 1.0)],
            &settings,
            1,
        )
        .unwrap();
        assert_eq!(t.train_features, vec![1.0, 2.0, 4.0, 5.0]);
        assert_eq!(t.valid_labels, vec![1.0]);
        let ragged = fixed(&[ex(&[1.0, 2.0], 3.0)], &[ex(&[1.0], 1.0)], &settings, 1);
        assert_eq!(
            ragged.unwrap_err(),
            SpecProblem::FixedFeatures {
                key: "valid_examples",
                index: 1,
                found: 1,
                expected: 2
            }
        );
        let nan = fixed(&[ex(&[f64::NAN], 3.0)], &[ex(&[1.0], 1.0)], &settings, 1);
        assert!(matches!(
            nan.unwrap_err(),
            SpecProblem::FixedNotFinite { index: 1, .. }
        ));
        assert!(fixed(&[], &[ex(&[1.0], 1.0)], &settings, 1).is_err());
    }
}
