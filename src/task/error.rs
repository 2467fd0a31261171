//! Errors of building tasks: unreadable files, malformed data files, invalid task descriptions and
//! invalid task files.
//!
//! Every message is one line that names where the problem is (file, 1-based line where known) and
//! what it is, so that the CLI can print it as it is.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::spec::TaskKind;

/// Anything that can go wrong while reading, describing or building tasks.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A file could not be read (missing, a directory, not UTF-8 ...).
    #[error("{}: cannot read: {}", .path.display(), io_reason(.error))]
    Read {
        /// The file as it was opened.
        path: PathBuf,
        /// What the operating system said.
        error: io::Error,
    },
    /// A data file (CSV or IDX) was read but its content is wrong.
    #[error("{}{}: {problem}", .path.display(), LineSuffix(*.line))]
    Data {
        /// The data file.
        path: PathBuf,
        /// The 1-based line of the problem, for text files where one line is at fault.
        line: Option<usize>,
        /// What is wrong.
        problem: DataProblem,
    },
    /// A task description is invalid; no file is involved (the description was built in code).
    #[error("{0}")]
    Spec(#[from] SpecProblem),
    /// A task file (TOML) is malformed or describes invalid tasks.
    #[error("{}{}: {message}", .path.display(), LineSuffix(*.line))]
    TaskFile {
        /// The task file.
        path: PathBuf,
        /// The 1-based line of the problem where known.
        line: Option<usize>,
        /// What is wrong, including the key and the `[[tasks]] #k` table where they apply.
        message: String,
    },
}

/// What is wrong with the content of a data file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataProblem {
    /// The CSV file has no non-blank line at all.
    #[error("the file is empty (a header row is expected)")]
    Empty,
    /// The CSV file has a header but no data row.
    #[error("no data rows after the header")]
    NoRows,
    /// A CSV row's field count differs from the header's.
    #[error("row has {found} fields, the header has {expected}")]
    Ragged {
        /// Fields in this row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A CSV field does not parse as a number.
    #[error("column `{column}` has {value:?}, which is not a number")]
    NotNumeric {
        /// The column's header name.
        column: String,
        /// The field as written (trimmed).
        value: String,
    },
    /// A CSV field parses as NaN or an infinity; task data must be finite.
    #[error("column `{column}` has {value:?}; values must be finite")]
    NotFinite {
        /// The column's header name.
        column: String,
        /// The field as written (trimmed).
        value: String,
    },
    /// The CSV file's feature count (all columns but the last) is outside `1..=64`.
    #[error(
        "{columns} columns give F = {features} features (all columns but the last, the label); \
         F must be 1 to 64"
    )]
    FeatureCount {
        /// Columns in the header.
        columns: usize,
        /// Feature columns (`columns - 1`).
        features: usize,
    },
    /// A data set to project has no feature column, only labels.
    #[error("no feature columns (only the label)")]
    NoFeatures,
    /// The validation CSV file's column count differs from the train file's.
    #[error("has {found} columns but the train file {} has {expected}", .train.display())]
    ColumnMismatch {
        /// The train file it is compared with.
        train: PathBuf,
        /// Columns in this (validation) file.
        found: usize,
        /// Columns in the train file.
        expected: usize,
    },
    /// The file is gzip-compressed and does not decompress.
    #[error("bad gzip data: {0}")]
    Gzip(String),
    /// The (decompressed) file is larger than amlz reads.
    #[error("the data is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// An IDX file starts with the wrong magic number.
    #[error("not an IDX {what} file: magic number {found:#010x}, expected {expected:#010x}")]
    IdxMagic {
        /// `images` or `labels`.
        what: &'static str,
        /// The first four bytes, big-endian.
        found: u32,
        /// The magic number of this kind of IDX file.
        expected: u32,
    },
    /// An IDX file's length does not match the sizes in its header.
    #[error("{found} bytes, but its header describes {expected}")]
    IdxLength {
        /// Bytes in the (decompressed) file.
        found: usize,
        /// Bytes the header implies.
        expected: usize,
    },
    /// The data set to classify has fewer than two distinct labels, so no pair can be drawn.
    #[error("{found} distinct label(s); two classes need at least 2")]
    FewClasses {
        /// Distinct labels in the data.
        found: usize,
    },
    /// The `label_column` named is not a column of the CSV header.
    #[error("no column `{name}` for `label_column` (columns: {})", .columns.join(", "))]
    NoLabelColumn {
        /// The name given.
        name: String,
        /// The header's columns, in file order.
        columns: Vec<String>,
    },
    /// The IDX images file and labels file hold different numbers of examples.
    #[error("{labels} labels, but the images file {} has {images} images", .images_file.display())]
    IdxCountMismatch {
        /// The images file.
        images_file: PathBuf,
        /// Images in it.
        images: usize,
        /// Labels in this (labels) file.
        labels: usize,
    },
}

/// A name outside a closed set (a task kind, an eval type, a fitness combination).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{given}\" (allowed: {})", .allowed.join(", "))]
pub struct UnknownName {
    /// What the name names, e.g. `kind`.
    pub what: &'static str,
    /// The name given.
    pub given: String,
    /// The names allowed, in their documented order.
    pub allowed: Vec<&'static str>,
}

/// What is wrong with a task description ([`super::spec::TaskSpec`]) regardless of where it came
/// from. [`SpecProblem::key`] names the key at fault so that a task file can point at its line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecProblem {
    /// A key the kind needs is absent.
    #[error("missing `{key}` (kind {kind} needs it)")]
    Missing {
        /// The absent key.
        key: &'static str,
        /// The collection's kind.
        kind: TaskKind,
    },
    /// A key was given that means nothing for this kind (probably a mistake).
    #[error("`{key}` does not apply to kind {kind}")]
    NotApplicable {
        /// The superfluous key.
        key: &'static str,
        /// The collection's kind.
        kind: TaskKind,
    },
    /// A file key is the empty string.
    #[error("`{key}` is empty; it must name a file")]
    EmptyPath {
        /// The key.
        key: &'static str,
    },
    /// `features_size` is outside `1..=64`.
    #[error("`features_size` is {0}; it must be 1 to 64")]
    FeaturesOutOfRange(usize),
    /// A count that must be positive is 0.
    #[error("`{key}` must be at least 1")]
    Zero {
        /// The key.
        key: &'static str,
    },
    /// A given size disagrees with the size of the data it describes.
    #[error("`{key}` is {given}, but {what} has {found}")]
    Mismatch {
        /// The key.
        key: &'static str,
        /// The value given.
        given: usize,
        /// What the data has.
        found: usize,
        /// The data, e.g. `the train file data/train.csv`.
        what: String,
    },
    /// A seed list is longer than the number of tasks.
    #[error("`{key}` has {given} seeds but `num_tasks` is {num_tasks}")]
    TooManySeeds {
        /// `param_seeds` or `data_seeds`.
        key: &'static str,
        /// Seeds in the list.
        given: usize,
        /// Tasks in the collection.
        num_tasks: usize,
    },
    /// `max_abs_error` is not a positive number.
    #[error("`max_abs_error` is {0}; it must be a positive number")]
    MaxAbsError(f64),
    /// `increment` is not finite.
    #[error("`increment` is {0}; it must be a finite number")]
    Increment(f64),
    /// An explicit example of a `fixed` task has the wrong number of features, or a non-finite
    /// value.
    #[error("`{key}` example #{index} has {found} features, expected {expected}")]
    FixedFeatures {
        /// `train_examples` or `valid_examples`.
        key: &'static str,
        /// The example's 1-based position in its list.
        index: usize,
        /// Its feature count.
        found: usize,
        /// The feature count of the first train example (or `features_size`).
        expected: usize,
    },
    /// An explicit example has a NaN or infinite value.
    #[error("`{key}` example #{index} has a non-finite value")]
    FixedNotFinite {
        /// `train_examples` or `valid_examples`.
        key: &'static str,
        /// The example's 1-based position in its list.
        index: usize,
    },
    /// The two classes of a projected classification are the same.
    #[error("`classes` must name two different labels, not [{0}, {0}]")]
    SameClasses(f64),
    /// A class does not occur in the source data.
    #[error("class {class} does not occur in {what}")]
    ClassAbsent {
        /// The class label.
        class: f64,
        /// The source, e.g. `the labels file data/labels.idx`.
        what: String,
    },
    /// The source data has too few examples of the two classes for the requested counts.
    #[error(
        "classes [{}, {}] have {available} examples in {what}, fewer than \
         num_train_examples + num_valid_examples = {needed}",
        .classes[0], .classes[1]
    )]
    NotEnoughExamples {
        /// The two classes.
        classes: [f64; 2],
        /// Examples of the two classes in the source.
        available: usize,
        /// Examples needed.
        needed: usize,
        /// The source.
        what: String,
    },
    /// Two keys that exclude each other are both given.
    #[error("`{key}` cannot be given together with `{other}`")]
    Conflict {
        /// The key reported.
        key: &'static str,
        /// The key it conflicts with.
        other: &'static str,
    },
    /// A list of class pairs is empty.
    #[error("`{key}` is empty; give at least one pair [a, b]")]
    EmptyPairs {
        /// `classes`, `class_pairs` or `held_out_pairs`.
        key: &'static str,
    },
    /// A class label is NaN or infinite.
    #[error("`{key}` has a label that is not a finite number")]
    PairNotFinite {
        /// `classes`, `class_pairs` or `held_out_pairs`.
        key: &'static str,
    },
    /// A pair of a list names the same label twice.
    #[error("`{key}` has the pair [{class}, {class}]; a pair names two different labels")]
    SamePair {
        /// `class_pairs` or `held_out_pairs`.
        key: &'static str,
        /// The label.
        class: f64,
    },
    /// A label of `class_pairs` or `held_out_pairs` does not occur in the source data.
    #[error("`{key}` names class {class}, which does not occur in {what}")]
    PairClassAbsent {
        /// `class_pairs` or `held_out_pairs`.
        key: &'static str,
        /// The label.
        class: f64,
        /// The source.
        what: String,
    },
    /// Every pair of the source's labels is held out: nothing is left to draw.
    #[error(
        "`held_out_pairs` holds out all {pairs} pairs of the labels of {what}; none is left to draw"
    )]
    NoPairLeft {
        /// Pairs of the source's labels.
        pairs: usize,
        /// The source.
        what: String,
    },
    /// The projected classification source is given both or neither way.
    #[error("give either `source_file` (CSV) or both `images_file` and `labels_file` (IDX)")]
    Source,
    /// The collection would hold more values than amlz builds at once.
    #[error(
        "the tasks are too large: more than {limit} values (features and labels of every \
         example of every task, plus the epoch orders)"
    )]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A `fixed` collection's example list is empty.
    #[error("`{key}` has no examples")]
    NoExamples {
        /// `train_examples` or `valid_examples`.
        key: &'static str,
    },
    /// A `fixed` collection's examples have a feature count outside `1..=64`.
    #[error("the examples of `train_examples` have {0} features; F must be 1 to 64")]
    FixedFeatureCount(usize),
}

impl SpecProblem {
    /// The task-description key at fault, if one is: task files use it to report that key's line.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            SpecProblem::Missing { key, .. }
            | SpecProblem::NotApplicable { key, .. }
            | SpecProblem::Zero { key }
            | SpecProblem::EmptyPath { key }
            | SpecProblem::NoExamples { key }
            | SpecProblem::Mismatch { key, .. }
            | SpecProblem::TooManySeeds { key, .. }
            | SpecProblem::FixedFeatures { key, .. }
            | SpecProblem::FixedNotFinite { key, .. }
            | SpecProblem::Conflict { key, .. }
            | SpecProblem::EmptyPairs { key }
            | SpecProblem::PairNotFinite { key }
            | SpecProblem::SamePair { key, .. }
            | SpecProblem::PairClassAbsent { key, .. } => Some(key),
            SpecProblem::NoPairLeft { .. } => Some("held_out_pairs"),
            SpecProblem::FeaturesOutOfRange(_) => Some("features_size"),
            SpecProblem::MaxAbsError(_) => Some("max_abs_error"),
            SpecProblem::Increment(_) => Some("increment"),
            SpecProblem::FixedFeatureCount(_) => Some("train_examples"),
            SpecProblem::SameClasses(_)
            | SpecProblem::ClassAbsent { .. }
            | SpecProblem::NotEnoughExamples { .. } => Some("classes"),
            SpecProblem::Source | SpecProblem::TooLarge { .. } => None,
        }
    }
}

/// An I/O error's message without the `(os error N)` suffix, e.g. `No such file or directory`.
pub fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// Formats `:line` after a path when the line is known, nothing otherwise.
struct LineSuffix(Option<usize>);

impl fmt::Display for LineSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_drop_the_os_error_number() {
        let error = std::fs::read_to_string("/nonexistent/amlz/x.csv").unwrap_err();
        let e = TaskError::Read {
            path: "/nonexistent/amlz/x.csv".into(),
            error,
        };
        assert_eq!(
            e.to_string(),
            "/nonexistent/amlz/x.csv: cannot read: No such file or directory"
        );
    }

    #[test]
    fn data_errors_name_file_and_line_when_known() {
        let e = TaskError::Data {
            path: "t.csv".into(),
            line: Some(7),
            problem: DataProblem::Ragged {
                found: 5,
                expected: 6,
            },
        };
        assert_eq!(e.to_string(), "t.csv:7: row has 5 fields, the header has 6");
        let e = TaskError::Data {
            path: "t.csv".into(),
            line: None,
            problem: DataProblem::Empty,
        };
        assert_eq!(
            e.to_string(),
            "t.csv: the file is empty (a header row is expected)"
        );
    }
}
