//! `amlz convert`: the original's search, as its scripts pass it — a `SearchExperimentSpec` in
//! protobuf text format, the `--select_tasks` and `--final_tasks` task collections, the flags
//! `--sufficient_fitness`, `--max_experiments`, `--randomize_task_seeds`, `--random_seed` and the
//! compile-time memory sizes — as an amlz experiment config (SEMANTICS.md §9.6).
//!
//! - [`textproto`]: a reader of the protobuf text format (no schema).
//! - `fields`: typed access to a message's fields, checked against the original's field names.
//! - [`spec`]: the original's messages mapped onto amlz's config ([`Converted`]).
//! - [`toml_out`]: the config written as TOML.
//!
//! The text format is read by hand: the Rust crates that read it need the `.proto` descriptors at
//! run time or build time, which amlz does not ship, and the messages involved are few. The
//! written config is checked by amlz's own config reader before it is returned, so that a
//! converted config always runs.

mod fields;
pub mod spec;
pub mod textproto;
pub mod toml_out;

pub use spec::{Converted, Flags};

use crate::experiment::config::{self, ConfigError};
use std::path::Path;
use textproto::SyntaxError;

/// Why a spec cannot be converted: one line naming the file, the line and the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvertError {
    /// The text is not protobuf text format.
    #[error("{file}:{}:{}: {}", .error.line, .error.column, .error.message)]
    Syntax {
        /// The file (or flag) the text came from.
        file: String,
        /// Where and what.
        error: SyntaxError,
    },
    /// A field the original's message type does not have.
    #[error("{file}:{line}: unknown field `{field}` in {message_type} ({known})")]
    UnknownField {
        /// The file.
        file: String,
        /// The field's line.
        line: usize,
        /// The field's name.
        field: String,
        /// The original's message type (`TaskSpec`, …).
        message_type: &'static str,
        /// The fields it has.
        known: String,
    },
    /// A field whose value is wrong, or that amlz cannot express.
    #[error("{file}:{line}: `{field}`: {problem}")]
    Value {
        /// The file.
        file: String,
        /// The value's line.
        line: usize,
        /// The field's name.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A required field that is absent.
    #[error("{file}:{line}: {message_type} needs `{field}`{why}")]
    Missing {
        /// The file.
        file: String,
        /// The line where the message starts.
        line: usize,
        /// The field's name.
        field: String,
        /// The message type.
        message_type: &'static str,
        /// Why it is needed, in parentheses (or empty).
        why: String,
    },
    /// A bad option of `amlz convert` (one of the original's flags).
    #[error("{option}: {problem}")]
    Option {
        /// The option, e.g. `--scalars`.
        option: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A file that cannot be read.
    #[error("{file}: cannot read: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The config written does not pass amlz's checks (a value amlz does not allow).
    #[error("the converted config is refused: {0}")]
    Invalid(ConfigError),
}

/// One text to convert and the name it goes by in messages.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file name, or a description of an inline text.
    pub name: String,
    /// The text.
    pub text: String,
}

impl Source {
    /// Reads `arg` as a file, or takes it as the text itself when no such file exists and it
    /// looks like text format (it holds a `{` or a `:`), as the original's flags pass texts
    /// inline. `flag` names it then.
    pub fn from_arg(arg: &str, flag: &str) -> Result<Source, ConvertError> {
        let path = Path::new(arg);
        if path.exists() || !(arg.contains('{') || arg.contains(':')) {
            let text = std::fs::read_to_string(path).map_err(|e| ConvertError::Read {
                file: arg.to_string(),
                reason: crate::task::error::io_reason(&e),
            })?;
            return Ok(Source {
                name: arg.to_string(),
                text,
            });
        }
        Ok(Source {
            name: format!("<{flag} text>"),
            text: arg.to_string(),
        })
    }
}

/// The result of a conversion: the config text and the notes it opens with.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The TOML config.
    pub toml: String,
    /// What the conversion changed or dropped (also written as comments in `toml`).
    pub notes: Vec<String>,
}

fn parse(source: &Source) -> Result<textproto::Message, ConvertError> {
    textproto::parse(&source.text).map_err(|error| ConvertError::Syntax {
        file: source.name.clone(),
        error,
    })
}

/// Converts a spec with its select and final collections and flags into a config, checked by
/// amlz's config reader.
pub fn convert(
    spec: &Source,
    select: &Source,
    finals: &Source,
    flags: &Flags,
) -> Result<Conversion, ConvertError> {
    for (option, value, min) in [
        ("--scalars", flags.memory[0], 2),
        ("--vectors", flags.memory[1], 1),
        ("--matrices", flags.memory[2], 0),
    ] {
        if value < min || value > amlz_ir::MAX_ADDRESSES {
            return Err(ConvertError::Option {
                option,
                problem: format!(
                    "{value} is not allowed (allowed: {min} to {}; the fixed roles s0, s1 and v0 need S >= 2, V >= 1)",
                    amlz_ir::MAX_ADDRESSES
                ),
            });
        }
    }
    let converted = spec::convert(
        &parse(spec)?,
        &spec.name,
        (&parse(select)?, &select.name),
        (&parse(finals)?, &finals.name),
        flags,
    )?;
    let toml = toml_out::write(&converted);
    config::parse(&toml, "<converted TOML>", Path::new(".")).map_err(ConvertError::Invalid)?;
    Ok(Conversion {
        toml,
        notes: converted.notes,
    })
}
