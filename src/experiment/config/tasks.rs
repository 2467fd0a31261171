//! The task collections `[[search_tasks]]`, `[[select_tasks]]` and `[[final_tasks]]`: each a
//! list of [`TaskSpec`] tables, checked with [`TaskSpec::check`] so that a bad one fails before
//! the search. A problem names the line of the key at fault, else of the table's header.

use super::ConfigError;
use super::raw::RawTasks;
use super::report::Reporter;
use crate::task::SpecProblem;
use crate::task::spec::TaskSpec;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Checks one collection list (`table` names it): at least one table, each spec valid.
pub(super) fn collection(
    table: &str,
    raw: RawTasks,
    c: &Reporter,
) -> Result<Vec<TaskSpec>, ConfigError> {
    if raw.get_ref().is_empty() {
        let problem = format!("at least one [[{table}]] collection is needed");
        return Err(c.err(Some(raw.span()), "", table, problem));
    }
    let mut specs = Vec::new();
    for (i, spec) in raw.into_inner().into_iter().enumerate() {
        if let Err(problem) = spec.get_ref().check() {
            let span = key_span(c.text, table, i, &problem).unwrap_or(spec.span());
            let location = c.location(Some(span));
            return Err(ConfigError {
                message: format!("{location}: [[{table}]] #{}: {problem}", i + 1),
            });
        }
        specs.push(spec.into_inner());
    }
    Ok(specs)
}

/// The keys of each task table, with their spans: a second, lenient reading of the text, done
/// only to locate a [`SpecProblem`] (a [`TaskSpec`] keeps no spans).
#[derive(Deserialize, Default)]
#[serde(default)]
struct TaskKeys {
    search_tasks: Vec<BTreeMap<Spanned<String>, IgnoredAny>>,
    select_tasks: Vec<BTreeMap<Spanned<String>, IgnoredAny>>,
    final_tasks: Vec<BTreeMap<Spanned<String>, IgnoredAny>>,
}

/// The span of the key that `problem` is about in table `i` of collection list `table`, if the
/// problem names a key and the table has it.
fn key_span(text: &str, table: &str, i: usize, problem: &SpecProblem) -> Option<Range<usize>> {
    let key = problem.key()?;
    let keys = toml::from_str::<TaskKeys>(text).ok()?;
    let tables = match table {
        "search_tasks" => keys.search_tasks,
        "select_tasks" => keys.select_tasks,
        _ => keys.final_tasks,
    };
    let found = tables.get(i)?.keys().find(|k| k.get_ref() == key)?.span();
    Some(found)
}
