//! The `csv` task kind: examples read from a train file and a validation file.
//!
//! Format: a header row, then one row per example; every column but the last is a feature, the
//! last is the label. Fields are separated by commas and trimmed; a field may be wrapped in double
//! quotes (no commas inside); blank lines are skipped; `\r\n` line ends and a UTF-8 byte-order mark
//! are accepted. Values are used as they are (no scaling) and must be finite numbers.

use std::path::{Path, PathBuf};

use amlz_ir::Rng;

use super::Task;
use super::error::{DataProblem, TaskError};
use super::generate::{ExampleData, TaskSettings, finish};

/// A CSV file of numeric columns, the last of which is the label.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvData {
    /// The file it was read from (as opened), for messages.
    pub path: PathBuf,
    /// The column names of the header row, label column included.
    pub header: Vec<String>,
    /// All columns but the last, row-major: `rows × (header.len() - 1)`.
    pub features: Vec<f64>,
    /// The last column.
    pub labels: Vec<f64>,
}

impl CsvData {
    /// Number of feature columns (all columns but the last).
    pub fn num_features(&self) -> usize {
        self.header.len() - 1
    }

    /// Number of data rows.
    pub fn num_rows(&self) -> usize {
        self.labels.len()
    }

    /// The same data with the column named `name` as the label (moved to the end of the header)
    /// and every other column a feature, in file order; `None` keeps the last column. A name the
    /// header lacks is an error listing the columns.
    pub fn with_label_column(self, name: Option<&str>) -> Result<CsvData, TaskError> {
        let Some(name) = name else {
            return Ok(self);
        };
        let Some(k) = self.header.iter().position(|c| c == name) else {
            return Err(TaskError::Data {
                problem: DataProblem::NoLabelColumn {
                    name: name.to_string(),
                    columns: self.header.clone(),
                },
                path: self.path,
                line: None,
            });
        };
        let columns = self.header.len();
        if k + 1 == columns {
            return Ok(self);
        }
        let mut features = Vec::with_capacity(self.features.len());
        let mut labels = Vec::with_capacity(self.labels.len());
        for (row, &last) in self.features.chunks_exact(columns - 1).zip(&self.labels) {
            labels.push(row[k]);
            features.extend(row[..k].iter().chain(&row[k + 1..]));
            features.push(last);
        }
        let mut header = self.header;
        let label = header.remove(k);
        header.push(label);
        Ok(CsvData {
            path: self.path,
            header,
            features,
            labels,
        })
    }
}

/// Reads and parses a CSV file (see the module doc for the format).
pub fn read_csv(path: &Path) -> Result<CsvData, TaskError> {
    let text = std::fs::read_to_string(path).map_err(|error| TaskError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse_csv(&text, path)
}

/// Parses CSV text; `path` is only used to name the file in errors. Errors give the 1-based line.
pub fn parse_csv(text: &str, path: &Path) -> Result<CsvData, TaskError> {
    let fail = |line: Option<usize>, problem| TaskError::Data {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty());
    let Some((_, header_line)) = lines.next() else {
        return Err(fail(None, DataProblem::Empty));
    };
    let header: Vec<String> = header_line
        .split(',')
        .map(|name| unquote(name.trim()).to_string())
        .collect();
    let columns = header.len();
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for (number, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != columns {
            let problem = DataProblem::Ragged {
                found: fields.len(),
                expected: columns,
            };
            return Err(fail(Some(number), problem));
        }
        for (field, column) in fields.iter().zip(&header) {
            let value = parse_field(field, column).map_err(|p| fail(Some(number), p))?;
            features.push(value);
        }
        labels.push(features.pop().unwrap_or_default());
    }
    if labels.is_empty() {
        return Err(fail(None, DataProblem::NoRows));
    }
    Ok(CsvData {
        path: path.to_path_buf(),
        header,
        features,
        labels,
    })
}

/// A `csv` task from a train and a validation file. Both must have the same columns and
/// 1 to 64 feature columns. No hidden function: `param_seed` is 0; `data_seed` only draws the
/// epoch orders.
pub fn csv_task(
    train: &CsvData,
    valid: &CsvData,
    settings: &TaskSettings,
    data_seed: u64,
) -> Result<Task, TaskError> {
    let columns = train.header.len();
    let features = columns - 1;
    if !(1..=amlz_ir::MAX_FEATURES).contains(&features) {
        return Err(TaskError::Data {
            path: train.path.clone(),
            line: None,
            problem: DataProblem::FeatureCount { columns, features },
        });
    }
    if valid.header.len() != columns {
        return Err(TaskError::Data {
            path: valid.path.clone(),
            line: None,
            problem: DataProblem::ColumnMismatch {
                train: train.path.clone(),
                found: valid.header.len(),
                expected: columns,
            },
        });
    }
    let data = ExampleData {
        features,
        train_features: train.features.clone(),
        train_labels: train.labels.clone(),
        valid_features: valid.features.clone(),
        valid_labels: valid.labels.clone(),
    };
    let name = format!("csv {} F={features}", file_name(&train.path));
    Ok(finish(
        data,
        settings,
        &mut Rng::new(data_seed),
        0,
        data_seed,
        name,
    ))
}

/// The last component of a path, for short task names.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A trimmed, unquoted field as a finite number.
fn parse_field(field: &str, column: &str) -> Result<f64, DataProblem> {
    let text = unquote(field.trim());
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(DataProblem::NotFinite {
            column: column.to_string(),
            value: text.to_string(),
        }),
        Err(_) => Err(DataProblem::NotNumeric {
            column: column.to_string(),
            value: text.to_string(),
        }),
    }
}

/// `"x"` → `x`; anything else as it is.
fn unquote(field: &str) -> &str {
    field
        .strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CsvData, TaskError> {
        parse_csv(text, Path::new("d/t.csv"))
    }

    #[test]
    fn parses_trimmed_quoted_crlf_and_blank_lines() {
        let d = parse("\u{feff}a, \"b\" ,label\r\n\r\n 1, 2 ,3\r\n  \n\"4\",5e0,-6\n").unwrap();
        assert_eq!(d.header, vec!["a", "b", "label"]);
        assert_eq!(d.features, vec![1.0, 2.0, 4.0, 5.0]);
        assert_eq!(d.labels, vec![3.0, -6.0]);
        assert_eq!((d.num_features(), d.num_rows()), (2, 2));
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_column() {
        let e = parse("a,b,label\n1,2,3\n\n1,2\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "d/t.csv:4: row has 2 fields, the header has 3"
        );
        let e = parse("a,b,label\n1,x,3\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "d/t.csv:2: column `b` has \"x\", which is not a number"
        );
        let e = parse("a,b,label\n1,,3\n").unwrap_err();
        assert!(e.to_string().starts_with("d/t.csv:2: column `b` has \"\""));
        let e = parse("a,label\n1,inf\n").unwrap_err();
        assert!(e.to_string().contains("values must be finite"), "{e}");
        assert_eq!(
            parse(" \n\n").unwrap_err().to_string(),
            "d/t.csv: the file is empty (a header row is expected)"
        );
        assert_eq!(
            parse("a,label\n").unwrap_err().to_string(),
            "d/t.csv: no data rows after the header"
        );
    }

    #[test]
    fn a_named_label_column_becomes_the_label() {
        let d = parse("y,a,b\n1,2,3\n4,5,6\n").unwrap();
        let moved = d.clone().with_label_column(Some("y")).unwrap();
        assert_eq!(moved.header, vec!["a", "b", "y"]);
        assert_eq!(moved.features, vec![2.0, 3.0, 5.0, 6.0]);
        assert_eq!(moved.labels, vec![1.0, 4.0]);
        let middle = d.clone().with_label_column(Some("a")).unwrap();
        assert_eq!(middle.features, vec![1.0, 3.0, 4.0, 6.0]);
        assert_eq!(d.clone().with_label_column(Some("b")).unwrap(), d);
        let e = d.with_label_column(Some("label")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d/t.csv: no column `label` for `label_column` (columns: y, a, b)"
        );
    }

    #[test]
    fn csv_task_checks_feature_count_and_matching_columns() {
        let settings = TaskSettings::default();
        let only_label = parse("label\n1\n").unwrap();
        let e = csv_task(&only_label, &only_label, &settings, 1).unwrap_err();
        assert!(e.to_string().contains("F = 0 features"), "{e}");
        let two = parse("a,b,label\n1,2,3\n").unwrap();
        let mut one = parse("a,label\n1,2\n").unwrap();
        one.path = "d/v.csv".into();
        let e = csv_task(&two, &one, &settings, 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d/v.csv: has 2 columns but the train file d/t.csv has 3"
        );
        let wide_header: Vec<String> = (0..=65).map(|i| format!("x{i}")).collect();
        let wide_row = vec!["0"; 66].join(",");
        let wide = parse(&format!("{}\n{wide_row}\n", wide_header.join(","))).unwrap();
        let e = csv_task(&wide, &wide, &settings, 1).unwrap_err();
        assert!(e.to_string().contains("F = 65"), "{e}");
        let t = csv_task(&two, &two, &settings, 1).unwrap();
        assert_eq!(
            (t.features, t.param_seed, t.name.as_str()),
            (2, 0, "csv t.csv F=2")
        );
    }
}
