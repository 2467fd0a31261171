//! The task file of `amlz eval --tasks FILE`: TOML with one `[[tasks]]` table per task collection
//! ([`TaskSpec`]) and optional top-level keys:
//! - `fitness_combination = "mean" | "median"` (default mean): how per-task fitnesses combine;
//! - `scalars`, `vectors`, `matrices`: memory counts S, V, M to raise above what the algorithm
//!   needs (the memory used is the larger of the two in each bank).
//!
//! ```toml
//! [[tasks]]
//! kind = "csv"
//! train_file = "train.csv"   # relative paths are relative to the task file
//! valid_file = "valid.csv"
//! eval_type = "rms_error"    # or "accuracy"
//! ```
//!
//! Every error is one line naming the file, the 1-based line where known, the key and the
//! problem, e.g. ``bad.toml:3: missing field `kind` in [[tasks]] #1``. Errors inside a data file
//! name that file and its line instead.

use std::ops::Range;
use std::path::{Path, PathBuf};

use amlz_ir::{MAX_ADDRESSES, MemoryCounts};
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};

use super::Task;
use super::combination::Combination;
use super::error::TaskError;
use super::spec::{TaskSpec, build_tasks};

/// The content of a task file, not yet built into tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFileSpec {
    /// The task collections, in file order.
    #[serde(default)]
    pub tasks: Vec<TaskSpec>,
    /// How per-task fitnesses combine (default mean).
    #[serde(default)]
    pub fitness_combination: Combination,
    /// S to use at least (the algorithm may need more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalars: Option<usize>,
    /// V to use at least.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<usize>,
    /// M to use at least.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrices: Option<usize>,
}

impl TaskFileSpec {
    /// The memory counts the file asks for at least (absent keys: the fixed roles' minimum);
    /// combine with the algorithm's needs by [`MemoryCounts::max`].
    pub fn memory_counts(&self) -> MemoryCounts {
        let min = MemoryCounts::MINIMUM;
        MemoryCounts {
            scalars: self.scalars.unwrap_or(min.scalars),
            vectors: self.vectors.unwrap_or(min.vectors),
            matrices: self.matrices.unwrap_or(min.matrices),
        }
    }
}

/// A loaded task file: its content and the tasks it describes.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskFile {
    /// The file as it was opened.
    pub path: PathBuf,
    /// Its content.
    pub spec: TaskFileSpec,
    /// The tasks of every collection, in file order.
    pub tasks: Vec<Task>,
    /// For each collection, the range of its tasks in `tasks`.
    pub collections: Vec<Range<usize>>,
}

/// Reads, parses and builds a task file. Relative data paths are resolved against the file's
/// directory. Never panics; every error is one line (see the module doc).
pub fn load_task_file(path: &Path) -> Result<TaskFile, TaskError> {
    let text = std::fs::read_to_string(path).map_err(|error| TaskError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    task_file_from_str(&text, path)
}

/// Parses and builds a task file's `text`; `path` names the file in errors and its directory is
/// the base of relative data paths.
pub fn task_file_from_str(text: &str, path: &Path) -> Result<TaskFile, TaskError> {
    let spec = parse_task_file(text, path)?;
    let locator = Locator::new(text);
    let base_dir = path.parent().unwrap_or(Path::new(""));
    let mut tasks = Vec::new();
    let mut collections = Vec::new();
    for (k, collection) in spec.tasks.iter().enumerate() {
        let built = build_tasks(collection, base_dir).map_err(|e| match e {
            TaskError::Spec(problem) => {
                let line = locator.as_ref().and_then(|l| l.line(k, problem.key()));
                file_error(path, line, format!("{problem} in [[tasks]] #{}", k + 1))
            }
            other => other,
        })?;
        collections.push(tasks.len()..tasks.len() + built.len());
        tasks.extend(built);
    }
    Ok(TaskFile {
        path: path.to_path_buf(),
        spec,
        tasks,
        collections,
    })
}

/// Parses a task file's `text` without building its tasks (nothing else is read); checks the
/// top-level keys. `path` names the file in errors.
pub fn parse_task_file(text: &str, path: &Path) -> Result<TaskFileSpec, TaskError> {
    let spec: TaskFileSpec = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        let locator = Locator::new(text);
        let mut message = e.message().trim().replace('\n', "; ");
        if let Some(key) = offset.and_then(|o| locator.as_ref()?.key_at(o))
            && !message.contains(key)
        {
            message = format!("`{key}`: {message}");
        }
        if let Some(k) = offset.and_then(|o| locator.as_ref()?.table_at(o)) {
            message = format!("{message} in [[tasks]] #{}", k + 1);
        }
        file_error(path, offset.map(|o| line_at(text, o)), message)
    })?;
    if spec.tasks.is_empty() {
        let message = "no [[tasks]] table (a task file needs at least one)".to_string();
        return Err(file_error(path, None, message));
    }
    for (key, count) in [
        ("scalars", spec.scalars),
        ("vectors", spec.vectors),
        ("matrices", spec.matrices),
    ] {
        if let Some(n) = count.filter(|&n| n > MAX_ADDRESSES) {
            let line = Locator::new(text).and_then(|l| l.top_line(key));
            let message = format!("`{key}` is {n}; at most {MAX_ADDRESSES}");
            return Err(file_error(path, line, message));
        }
    }
    Ok(spec)
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn file_error(path: &Path, line: Option<usize>, message: String) -> TaskError {
    TaskError::TaskFile {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// A key of a TOML table: its name, its span and its value's span.
struct KeySpan {
    name: String,
    key: Range<usize>,
    value: Range<usize>,
}

/// Where the `[[tasks]]` tables and their keys are in a (syntactically valid) task file.
struct Locator<'a> {
    text: &'a str,
    /// Top-level keys.
    top: Vec<KeySpan>,
    /// Each `[[tasks]]` table's span and its keys.
    tables: Vec<(Range<usize>, Vec<KeySpan>)>,
}

impl<'a> Locator<'a> {
    /// `None` if the text is not valid TOML.
    fn new(text: &'a str) -> Option<Locator<'a>> {
        let root = DeTable::parse(text).ok()?;
        let keys = |table: &DeTable| -> Vec<KeySpan> {
            table
                .iter()
                .map(|(k, v)| KeySpan {
                    name: k.get_ref().to_string(),
                    key: k.span(),
                    value: v.span(),
                })
                .collect()
        };
        let mut tables = Vec::new();
        for (key, value) in root.get_ref().iter() {
            if key.get_ref() == "tasks"
                && let DeValue::Array(items) = value.get_ref()
            {
                for item in items.iter() {
                    if let DeValue::Table(table) = item.get_ref() {
                        tables.push((item.span(), keys(table)));
                    }
                }
            }
        }
        Some(Locator {
            text,
            top: keys(root.get_ref()),
            tables,
        })
    }

    /// The index of the `[[tasks]]` table holding byte `offset`: the last one starting at or
    /// before it.
    fn table_at(&self, offset: usize) -> Option<usize> {
        self.tables
            .iter()
            .rposition(|(span, keys)| start_of(span, keys) <= offset)
    }

    /// The name of the key (of the `[[tasks]]` table holding byte `offset`, else top-level)
    /// whose key or value holds `offset`.
    fn key_at(&self, offset: usize) -> Option<&str> {
        let holds = |k: &&KeySpan| k.key.contains(&offset) || k.value.contains(&offset);
        let keys = match self.table_at(offset) {
            Some(t) => &self.tables[t].1,
            None => &self.top,
        };
        keys.iter().find(holds).map(|k| k.name.as_str())
    }

    /// The line of `key` in table `k`, else the line where table `k` starts.
    fn line(&self, k: usize, key: Option<&str>) -> Option<usize> {
        let (span, keys) = self.tables.get(k)?;
        let at = key
            .and_then(|key| keys.iter().find(|k| k.name == key))
            .map_or(start_of(span, keys), |k| k.key.start);
        Some(line_at(self.text, at))
    }

    /// The line of a top-level key.
    fn top_line(&self, key: &str) -> Option<usize> {
        let k = self.top.iter().find(|k| k.name == key)?;
        Some(line_at(self.text, k.key.start))
    }
}

/// Where a table starts: its span's start, or its first key's if that comes earlier.
fn start_of(span: &Range<usize>, keys: &[KeySpan]) -> usize {
    keys.iter()
        .map(|k| k.key.start)
        .fold(span.start, usize::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        match task_file_from_str(text, Path::new("dir/t.toml")) {
            Ok(_) => panic!("no error for {text:?}"),
            Err(e) => e.to_string(),
        }
    }

    const LINEAR: &str = "[[tasks]]\nkind = \"scalar_linear_regression\"\nfeatures_size = 4\n\
                          num_train_examples = 10\nnum_valid_examples = 5\n";

    #[test]
    fn syntax_and_serde_errors_are_one_line_with_file_line_and_table() {
        let missing = format!("{LINEAR}\n[[tasks]]\nfeatures_size = 4\n");
        assert_eq!(
            error(&missing),
            "dir/t.toml:7: missing field `kind` in [[tasks]] #2"
        );
        let kind = "[[tasks]]\nkind = \"linear\"\n";
        let e = error(kind);
        assert!(
            e.starts_with(
                "dir/t.toml:2: unknown kind \"linear\" (allowed: scalar_linear_regression,"
            ),
            "{e}"
        );
        assert!(
            e.ends_with("projected_binary_classification) in [[tasks]] #1"),
            "{e}"
        );
        let eval = format!("{LINEAR}eval_type = \"rms\"\n");
        assert_eq!(
            error(&eval),
            "dir/t.toml:6: unknown eval_type \"rms\" (allowed: rms_error, accuracy) in [[tasks]] #1"
        );
        let unknown = format!("{LINEAR}feature_size = 4\n");
        let e = error(&unknown);
        assert!(
            e.starts_with("dir/t.toml:6: unknown field `feature_size`"),
            "{e}"
        );
        let combination = format!("fitness_combination = \"max\"\n{LINEAR}");
        assert_eq!(
            error(&combination),
            "dir/t.toml:1: unknown fitness_combination \"max\" (allowed: mean, median)"
        );
        let syntax = "[[tasks]]\nkind = \n";
        let e = error(syntax);
        assert!(e.starts_with("dir/t.toml:2: ") && !e.contains('\n'), "{e}");
        assert_eq!(
            error("# nothing\n"),
            "dir/t.toml: no [[tasks]] table (a task file needs at least one)"
        );
    }

    #[test]
    fn spec_problems_point_at_the_key_or_the_table() {
        let zero = format!(
            "{LINEAR}\n[[tasks]]\nkind = \"unit_test_ones\"\nfeatures_size = 2\nnum_train_examples = 0\nnum_valid_examples = 1\n"
        );
        assert_eq!(
            error(&zero),
            "dir/t.toml:10: `num_train_examples` must be at least 1 in [[tasks]] #2"
        );
        let missing = "\n[[tasks]]\nkind = \"scalar_2layer_nn_regression\"\n";
        assert_eq!(
            error(missing),
            "dir/t.toml:2: missing `features_size` (kind scalar_2layer_nn_regression needs it) in [[tasks]] #1"
        );
        let big = format!("scalars = 5000\n{LINEAR}");
        assert_eq!(error(&big), "dir/t.toml:1: `scalars` is 5000; at most 1000");
    }

    #[test]
    fn a_valid_file_builds_its_collections_in_order() {
        let text = format!(
            "fitness_combination = \"median\"\nvectors = 9\n{LINEAR}num_tasks = 3\n\n\
             [[tasks]]\nkind = \"unit_test_zeros\"\nfeatures_size = 2\nnum_train_examples = 3\n\
             num_valid_examples = 1\n"
        );
        let file = task_file_from_str(&text, Path::new("t.toml")).unwrap();
        assert_eq!(file.collections, vec![0..3, 3..4]);
        assert_eq!(file.spec.fitness_combination, Combination::Median);
        assert_eq!(
            file.spec.memory_counts(),
            MemoryCounts {
                scalars: 2,
                vectors: 9,
                matrices: 0
            }
        );
        assert_eq!(file.tasks[2].name, "scalar_linear_regression F=4 #2");
        assert_eq!(file.tasks[3].features, 2);
    }
}
