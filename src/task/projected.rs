//! Projected binary classification (SEMANTICS.md §6): two classes of a real labelled data set,
//! each example projected to F dimensions by a fixed random Gaussian matrix, features standardised,
//! labels 0/1, scored by accuracy.
//!
//! Draws:
//! - `Rng::new(param_seed)`: the projection `P`, `F × D` row-major N(0,1) draws (D = the source's
//!   feature count); projected features are `P x`, each sum in index order.
//! - `Rng::new(data_seed)`: a Fisher–Yates shuffle of the indices (in file order) of the source
//!   examples whose label is one of the two classes; the first `num_train` become the train
//!   examples, the next `num_valid` the validation examples; then the epoch orders.
//!
//! Standardisation uses the train examples' statistics: each projected feature has its train mean
//! subtracted and is divided by its train standard deviation (population, i.e. over n); a feature
//! whose deviation is 0 is only centred. The first class's label is 0, the second's 1.

use std::path::{Path, PathBuf};

use amlz_ir::Rng;

use super::Task;
use super::csv::{CsvData, file_name};
use super::error::{DataProblem, SpecProblem, TaskError};
use super::generate::{ExampleData, Sizes, TaskSettings, dot, finish};
use super::idx::IdxImages;

/// A labelled data set to project: `D` features and a label per example.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledData {
    /// Where it was read from, for messages and task names.
    pub source: PathBuf,
    /// D, features per example.
    pub dim: usize,
    /// The features, row-major: `labels.len() × dim`.
    pub features: Vec<f64>,
    /// The label of each example.
    pub labels: Vec<f64>,
}

impl LabelledData {
    /// A CSV file's data: all columns but the last are features, the last is the label.
    pub fn from_csv(csv: CsvData) -> LabelledData {
        LabelledData {
            dim: csv.num_features(),
            source: csv.path,
            features: csv.features,
            labels: csv.labels,
        }
    }

    /// IDX images (each flattened row-major, grey levels as they are) with their labels; the two
    /// must be of the same length (checked by the caller). `source` names the images file.
    pub fn from_idx(images: &IdxImages, labels: &[u8], source: &Path) -> LabelledData {
        LabelledData {
            source: source.to_path_buf(),
            dim: images.pixels_per_image(),
            features: images.pixels.iter().map(|&p| f64::from(p)).collect(),
            labels: labels.iter().map(|&l| f64::from(l)).collect(),
        }
    }

    /// The features of example `i`.
    fn example(&self, i: usize) -> &[f64] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }
}

/// The projection matrix of a task: `F × D` N(0,1) draws, row-major, from `Rng::new(param_seed)`.
pub fn projection(features: usize, dim: usize, param_seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(param_seed);
    (0..features * dim).map(|_| rng.standard_normal()).collect()
}

/// A projected binary classification task over `data`'s examples of `classes` (see the module
/// doc). `sizes.features` is F, the projected dimension.
pub fn projected_binary_classification(
    data: &LabelledData,
    classes: [f64; 2],
    sizes: Sizes,
    settings: &TaskSettings,
    param_seed: u64,
    data_seed: u64,
) -> Result<Task, TaskError> {
    if data.dim == 0 {
        return Err(TaskError::Data {
            path: data.source.clone(),
            line: None,
            problem: DataProblem::NoFeatures,
        });
    }
    if classes[0] == classes[1] {
        return Err(SpecProblem::SameClasses(classes[0]).into());
    }
    let what = || format!("the data of {}", data.source.display());
    for class in classes {
        if !data.labels.contains(&class) {
            return Err(SpecProblem::ClassAbsent {
                class,
                what: what(),
            }
            .into());
        }
    }
    let mut chosen: Vec<usize> = (0..data.labels.len())
        .filter(|&i| classes.contains(&data.labels[i]))
        .collect();
    let needed = sizes.num_train.saturating_add(sizes.num_valid);
    if chosen.len() < needed {
        return Err(SpecProblem::NotEnoughExamples {
            classes,
            available: chosen.len(),
            needed,
            what: what(),
        }
        .into());
    }
    let mut rng = Rng::new(data_seed);
    rng.shuffle(&mut chosen);
    let f = sizes.features;
    let p = projection(f, data.dim, param_seed);
    let project = |indices: &[usize]| -> (Vec<f64>, Vec<f64>) {
        let features = indices
            .iter()
            .flat_map(|&i| {
                p.chunks_exact(data.dim)
                    .map(move |row| dot(row, data.example(i)))
            })
            .collect();
        let labels = indices
            .iter()
            .map(|&i| {
                if data.labels[i] == classes[0] {
                    0.0
                } else {
                    1.0
                }
            })
            .collect();
        (features, labels)
    };
    let (train_idx, rest) = chosen.split_at(sizes.num_train);
    let (mut train_features, train_labels) = project(train_idx);
    let (mut valid_features, valid_labels) = project(&rest[..sizes.num_valid]);
    let (mean, std) = column_stats(&train_features, f);
    for values in [&mut train_features, &mut valid_features] {
        for row in values.chunks_exact_mut(f.max(1)) {
            for ((v, m), s) in row.iter_mut().zip(&mean).zip(&std) {
                *v = (*v - m) / s;
            }
        }
    }
    let name = format!(
        "projected_binary_classification {} [{}, {}] F={f}",
        file_name(&data.source),
        classes[0],
        classes[1]
    );
    let examples = ExampleData {
        features: f,
        train_features,
        train_labels,
        valid_features,
        valid_labels,
    };
    Ok(finish(
        examples, settings, &mut rng, param_seed, data_seed, name,
    ))
}

/// Per-column mean and standard deviation (over n) of row-major `values` with `f` columns; a
/// deviation that is 0 or not finite is replaced by 1 so that the column is only centred.
fn column_stats(values: &[f64], f: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (values.len() / f.max(1)).max(1) as f64;
    let mut mean = vec![0.0; f];
    for row in values.chunks_exact(f.max(1)) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0; f];
    for row in values.chunks_exact(f.max(1)) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    let std = var
        .iter()
        .map(|s| (s / n).sqrt())
        .map(|s| if s > 0.0 && s.is_finite() { s } else { 1.0 })
        .collect();
    (mean, std)
}
