//! Building a collection's tasks from its description: checks, data loaded once, then one task
//! per seed pair (see [`super::spec`] for the seeds and the kinds).

use std::path::{Path, PathBuf};

use super::Task;
use super::csv::{CsvData, csv_task, read_csv};
use super::error::{DataProblem, SpecProblem, TaskError};
use super::generate::{self, Example, Sizes};
use super::idx::{read_idx_images, read_idx_labels};
use super::projected::{LabelledData, PairChoice, projected_task};
use super::spec::{TaskKind, TaskSpec};

/// Builds the tasks of a collection with the seeds of its lists or the defaults. Relative data
/// file paths are resolved against `base_dir` (the task file's directory). Task names end in
/// `#i`, the task's index in the collection from 0.
pub fn build_tasks(spec: &TaskSpec, base_dir: &Path) -> Result<Vec<Task>, TaskError> {
    build(spec, base_dir, |i| spec.seeds(i))
}

/// Builds the tasks of a collection with task `i` seeded `first_param_seed + i` and
/// `first_data_seed + i` (wrapping), ignoring the seed lists: for `--randomize-task-seeds`, which
/// draws fresh first seeds per experiment. Otherwise as [`build_tasks`].
pub fn build_tasks_with_seeds(
    spec: &TaskSpec,
    base_dir: &Path,
    first_param_seed: u64,
    first_data_seed: u64,
) -> Result<Vec<Task>, TaskError> {
    build(spec, base_dir, |i| {
        (
            first_param_seed.wrapping_add(i as u64),
            first_data_seed.wrapping_add(i as u64),
        )
    })
}

/// Validates, loads the data (once per collection) and builds every task.
fn build(
    spec: &TaskSpec,
    base_dir: &Path,
    seeds: impl Fn(usize) -> (u64, u64),
) -> Result<Vec<Task>, TaskError> {
    spec.check()?;
    let settings = spec.settings();
    let sizes = || Sizes {
        features: spec.features_size.unwrap_or(0),
        num_train: spec.num_train_examples.unwrap_or(0),
        num_valid: spec.num_valid_examples.unwrap_or(0),
    };
    let source = Source::load(spec, base_dir)?;
    let mut tasks = Vec::with_capacity(spec.num_tasks);
    for i in 0..spec.num_tasks {
        let (param_seed, data_seed) = seeds(i);
        let mut task = match &source {
            Source::Generated => match spec.kind {
                TaskKind::ScalarLinearRegression => {
                    generate::scalar_linear_regression(sizes(), &settings, param_seed, data_seed)
                }
                TaskKind::Scalar2LayerNnRegression => {
                    generate::scalar_2layer_nn_regression(sizes(), &settings, param_seed, data_seed)
                }
                TaskKind::UnitTestZeros => generate::unit_test_zeros(sizes(), &settings, data_seed),
                TaskKind::UnitTestOnes => generate::unit_test_ones(sizes(), &settings, data_seed),
                // Only `unit_test_increment` is left: the other kinds have a data source.
                _ => {
                    let increment = spec.increment.unwrap_or(1.0);
                    generate::unit_test_increment(sizes(), &settings, increment, data_seed)
                }
            },
            Source::Fixed(train, valid) => generate::fixed(train, valid, &settings, data_seed)?,
            Source::Csv(train, valid) => csv_task(train, valid, &settings, data_seed)?,
            Source::Labelled(data, choice) => {
                projected_task(data, choice, i, sizes(), &settings, (param_seed, data_seed))?
            }
        };
        task.name = format!("{} #{i}", task.name);
        tasks.push(task);
    }
    Ok(tasks)
}

/// A collection's data, loaded and checked once before its tasks are built.
enum Source<'a> {
    /// Generated kinds: nothing to load.
    Generated,
    /// `fixed`: the examples of the description.
    Fixed(&'a [Example], &'a [Example]),
    /// `csv`: the train and validation files.
    Csv(CsvData, CsvData),
    /// `projected_binary_classification`: the source data and how tasks get their classes.
    Labelled(LabelledData, PairChoice),
}

impl<'a> Source<'a> {
    fn load(spec: &'a TaskSpec, base_dir: &Path) -> Result<Source<'a>, TaskError> {
        let path = |p: &Option<PathBuf>| base_dir.join(p.as_deref().unwrap_or(Path::new("")));
        match spec.kind {
            TaskKind::Fixed => {
                let train = spec.train_examples.as_deref().unwrap_or_default();
                let valid = spec.valid_examples.as_deref().unwrap_or_default();
                for (key, list) in [("train_examples", train), ("valid_examples", valid)] {
                    if list.is_empty() {
                        return Err(SpecProblem::NoExamples { key }.into());
                    }
                }
                let found = train.first().map_or(0, |e| e.features.len());
                let first = || "the first train example".to_string();
                spec.check_given("features_size", spec.features_size, found, first)?;
                let counted = |key| move || format!("`{key}`");
                spec.check_given(
                    "num_train_examples",
                    spec.num_train_examples,
                    train.len(),
                    counted("train_examples"),
                )?;
                spec.check_given(
                    "num_valid_examples",
                    spec.num_valid_examples,
                    valid.len(),
                    counted("valid_examples"),
                )?;
                Ok(Source::Fixed(train, valid))
            }
            TaskKind::Csv => {
                let label = spec.label_column.as_deref();
                let train = read_csv(&path(&spec.train_file))?.with_label_column(label)?;
                let valid = read_csv(&path(&spec.valid_file))?.with_label_column(label)?;
                let file = |d: &CsvData| format!("the file {}", d.path.display());
                spec.check_given(
                    "features_size",
                    spec.features_size,
                    train.num_features(),
                    || file(&train),
                )?;
                spec.check_given(
                    "num_train_examples",
                    spec.num_train_examples,
                    train.num_rows(),
                    || file(&train),
                )?;
                spec.check_given(
                    "num_valid_examples",
                    spec.num_valid_examples,
                    valid.num_rows(),
                    || file(&valid),
                )?;
                spec.check_size(train.num_features(), train.num_rows(), valid.num_rows())?;
                Ok(Source::Csv(train, valid))
            }
            TaskKind::ProjectedBinaryClassification => {
                let data = if spec.source_file.is_some() {
                    let csv = read_csv(&path(&spec.source_file))?
                        .with_label_column(spec.label_column.as_deref())?;
                    LabelledData::from_csv(csv)
                } else {
                    read_idx_source(&path(&spec.images_file), &path(&spec.labels_file))?
                };
                let choice = PairChoice::new(
                    spec.classes,
                    spec.class_pairs.as_deref(),
                    spec.held_out_pairs.as_deref(),
                    &data,
                )?;
                Ok(Source::Labelled(data, choice))
            }
            _ => Ok(Source::Generated),
        }
    }
}

/// IDX images and their labels as one labelled data set; the two files must hold as many
/// examples.
fn read_idx_source(images_file: &Path, labels_file: &Path) -> Result<LabelledData, TaskError> {
    let images = read_idx_images(images_file)?;
    let labels = read_idx_labels(labels_file)?;
    if labels.len() != images.count {
        return Err(TaskError::Data {
            path: labels_file.to_path_buf(),
            line: None,
            problem: DataProblem::IdxCountMismatch {
                images_file: images_file.to_path_buf(),
                images: images.count,
                labels: labels.len(),
            },
        });
    }
    Ok(LabelledData::from_idx(&images, &labels, images_file))
}
