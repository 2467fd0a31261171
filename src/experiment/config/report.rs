//! How config problems become one-line [`ConfigError`]s: `FILE:LINE: table.key: problem`, the
//! line taken from the span of the offending value (left out for a defaulted value).

use super::ConfigError;
use super::raw::Given;
use crate::task::file::line_at;
use std::ops::Range;

/// Builds the errors of one config text.
pub(super) struct Reporter<'a> {
    /// The file's name in messages.
    pub source: &'a str,
    /// The text, to turn spans into lines.
    pub text: &'a str,
}

impl Reporter<'_> {
    /// `FILE:LINE: table.key: problem` (`FILE: key: ..` at top level, when `table` is empty; no
    /// `LINE` without a span).
    pub fn err(
        &self,
        span: Option<Range<usize>>,
        table: &str,
        key: &str,
        problem: impl std::fmt::Display,
    ) -> ConfigError {
        let full = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        ConfigError {
            message: format!("{}: {full}: {problem}", self.location(span)),
        }
    }

    /// `given` as a count, or the error naming `table.key` when it is below 1.
    pub fn at_least_one(
        &self,
        given: &Given<i64>,
        table: &str,
        key: &str,
    ) -> Result<usize, ConfigError> {
        if given.value < 1 {
            let problem = format!("{} is not allowed (allowed: 1 or more)", given.value);
            return Err(self.err(given.span.clone(), table, key, problem));
        }
        Ok(given.value as usize)
    }

    /// A TOML syntax or serde error (unknown key, wrong type, missing key): its message on one
    /// line, after the location toml gives.
    pub fn toml(&self, error: &toml::de::Error) -> ConfigError {
        let message = error.message().replace('\n', " ");
        ConfigError {
            message: format!("{}: {message}", self.location(error.span())),
        }
    }

    /// `FILE:LINE`, or `FILE` without a span.
    pub fn location(&self, span: Option<Range<usize>>) -> String {
        match span {
            Some(s) => format!("{}:{}", self.source, line_at(self.text, s.start)),
            None => self.source.to_string(),
        }
    }
}
