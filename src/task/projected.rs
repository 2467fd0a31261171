//! Projected binary classification (SEMANTICS.md §6): two classes of a real labelled data set,
//! each example projected to F dimensions by a fixed random Gaussian matrix, features standardised,
//! labels 0/1, scored by accuracy.
//!
//! The two classes are given (`classes`), taken from a list by task index (`class_pairs`), or
//! drawn ([`PairChoice`]).
//!
//! Draws:
//! - `Rng::new(param_seed)`: the projection `P`, `F × D` row-major N(0,1) draws (D = the source's
//!   feature count); projected features are `P x`, each sum in index order.
//! - `Rng::new(data_seed)`: for a drawn pair first `below(candidates)`, the index of the pair
//!   among the candidates ([`candidate_pairs`]); then a Fisher–Yates shuffle of the indices (in file order) of the source
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

/// How the tasks of a collection get their two classes `[a, b]` (`a` becomes label 0, `b` 1).
#[derive(Clone, Debug, PartialEq)]
pub enum PairChoice {
    /// Every task has this pair (`classes`).
    Fixed([f64; 2]),
    /// Task `i` has pair `i mod len` of the list (`class_pairs`).
    Cycle(Vec<[f64; 2]>),
    /// Each task draws one of these candidates from its data stream (all pairs of the source's
    /// labels minus `held_out_pairs`, [`candidate_pairs`]).
    Draw(Vec<[f64; 2]>),
}

impl PairChoice {
    /// The choice a collection's keys describe, checked against `data`: every named class must
    /// occur in it, and a draw needs at least one pair left.
    pub fn new(
        classes: Option<[f64; 2]>,
        class_pairs: Option<&[[f64; 2]]>,
        held_out_pairs: Option<&[[f64; 2]]>,
        data: &LabelledData,
    ) -> Result<PairChoice, TaskError> {
        if let Some(classes) = classes {
            return Ok(PairChoice::Fixed(classes));
        }
        let what = || format!("the data of {}", data.source.display());
        let labels = class_labels(&data.labels);
        let named = [
            ("class_pairs", class_pairs),
            ("held_out_pairs", held_out_pairs),
        ];
        for (key, pairs) in named {
            for &class in pairs.unwrap_or_default().iter().flatten() {
                if !labels.contains(&class) {
                    let what = what();
                    return Err(SpecProblem::PairClassAbsent { key, class, what }.into());
                }
            }
        }
        if let Some(pairs) = class_pairs {
            return Ok(PairChoice::Cycle(pairs.to_vec()));
        }
        if labels.len() < 2 {
            return Err(TaskError::Data {
                path: data.source.clone(),
                line: None,
                problem: DataProblem::FewClasses {
                    found: labels.len(),
                },
            });
        }
        let candidates = candidate_pairs(&labels, held_out_pairs.unwrap_or_default());
        if candidates.is_empty() {
            let pairs = labels.len() * (labels.len() - 1) / 2;
            return Err(SpecProblem::NoPairLeft {
                pairs,
                what: what(),
            }
            .into());
        }
        Ok(PairChoice::Draw(candidates))
    }

    /// The pair of task `index`, drawing from `data_rng` (the task's data stream) for a draw.
    pub fn pick(&self, index: usize, data_rng: &mut Rng) -> [f64; 2] {
        match self {
            PairChoice::Fixed(pair) => *pair,
            PairChoice::Cycle(pairs) => pairs[index % pairs.len()],
            PairChoice::Draw(pairs) => pairs[data_rng.below(pairs.len())],
        }
    }
}

/// The distinct labels of a data set, ascending (`f64::total_cmp`; -0.0 and 0.0 are one label).
pub fn class_labels(labels: &[f64]) -> Vec<f64> {
    let mut distinct = labels.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup_by(|a, b| a == b);
    distinct
}

/// The pairs a task may draw: `[a, b]` with `a < b` over the ascending `labels`, in
/// lexicographic order (`[l0, l1], [l0, l2], …, [l1, l2], …`), without those in `held_out`
/// (in either order).
pub fn candidate_pairs(labels: &[f64], held_out: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let held = |a: f64, b: f64| {
        held_out
            .iter()
            .any(|&[x, y]| (x == a && y == b) || (x == b && y == a))
    };
    let mut pairs = Vec::new();
    for (i, &a) in labels.iter().enumerate() {
        for &b in &labels[i + 1..] {
            if !held(a, b) {
                pairs.push([a, b]);
            }
        }
    }
    pairs
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
    let choice = PairChoice::Fixed(classes);
    projected_task(data, &choice, 0, sizes, settings, (param_seed, data_seed))
}

/// Task `index` of a projected collection whose pairs `choice` gives, seeded
/// `(param_seed, data_seed)`: its pair is picked first (a drawn pair from the data stream), then
/// the task is built as [`projected_binary_classification`] builds it.
pub fn projected_task(
    data: &LabelledData,
    choice: &PairChoice,
    index: usize,
    sizes: Sizes,
    settings: &TaskSettings,
    (param_seed, data_seed): (u64, u64),
) -> Result<Task, TaskError> {
    let mut rng = Rng::new(data_seed);
    let classes = choice.pick(index, &mut rng);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn data(labels: &[f64]) -> LabelledData {
        LabelledData {
            source: "d.csv".into(),
            dim: 1,
            features: labels.to_vec(),
            labels: labels.to_vec(),
        }
    }

    #[test]
    fn candidates_are_the_lexicographic_pairs_minus_the_held_out() {
        assert_eq!(
            class_labels(&[2.0, -0.0, 1.0, 0.0, 2.0]),
            vec![-0.0, 1.0, 2.0]
        );
        let all = candidate_pairs(&[0.0, 1.0, 2.0], &[]);
        assert_eq!(all, vec![[0.0, 1.0], [0.0, 2.0], [1.0, 2.0]]);
        let some = candidate_pairs(&[0.0, 1.0, 2.0], &[[2.0, 0.0]]);
        assert_eq!(some, vec![[0.0, 1.0], [1.0, 2.0]]);
    }

    #[test]
    fn pairs_are_fixed_cycled_or_drawn_first_from_the_data_stream() {
        let d = data(&[0.0, 1.0, 2.0, 1.0]);
        let mut rng = Rng::new(7);
        let fixed = PairChoice::new(Some([2.0, 1.0]), None, None, &d).unwrap();
        assert_eq!(fixed.pick(5, &mut rng), [2.0, 1.0]);
        let pairs = [[0.0, 1.0], [1.0, 2.0]];
        let cycle = PairChoice::new(None, Some(&pairs), None, &d).unwrap();
        assert_eq!(cycle.pick(3, &mut rng), [1.0, 2.0]);
        let held = [[0.0, 1.0]];
        let draw = PairChoice::new(None, None, Some(&held), &d).unwrap();
        assert_eq!(draw, PairChoice::Draw(vec![[0.0, 2.0], [1.0, 2.0]]));
        let expected = [[0.0, 2.0], [1.0, 2.0]][Rng::new(9).below(2)];
        assert_eq!(draw.pick(0, &mut Rng::new(9)), expected);
        let e = PairChoice::new(None, Some(&[[0.0, 5.0]]), None, &d).unwrap_err();
        assert!(e.to_string().contains("class 5"), "{e}");
        let all = [[0.0, 1.0], [0.0, 2.0], [2.0, 1.0]];
        let e = PairChoice::new(None, None, Some(&all), &d).unwrap_err();
        assert!(e.to_string().contains("all 3 pairs"), "{e}");
        let e = PairChoice::new(None, None, None, &data(&[4.0])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.csv: 1 distinct label(s); two classes need at least 2"
        );
    }
}
