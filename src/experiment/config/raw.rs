//! The config file as serde reads it: one struct per TOML table, unknown keys rejected, every
//! value that a later check may refuse wrapped in [`Spanned`] so that the refusal can name its
//! line. Defaults are applied by the per-table checks, so that a defaulted value has no line.
//! Each field is the TOML key of the same name (documented in README.md, "Experiment configs").

use crate::eval::Combination;
use crate::task::spec::TaskSpec;
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// A value with its span, or `None` when the key is absent.
pub(super) type Opt<T> = Option<Spanned<T>>;

/// The whole file.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub seed: u64,
    pub threads: Opt<i64>,
    #[serde(default)]
    pub parallel: RawParallel,
    pub memory: RawMemory,
    pub ops: RawOps,
    pub sizes: RawSizes,
    #[serde(default)]
    pub search: RawSearch,
    #[serde(default)]
    pub fec: RawFec,
    pub train_budget: Option<RawBudget>,
    pub hurdle: Option<RawHurdle>,
    #[serde(default)]
    pub experiments: RawExperiments,
    #[serde(default)]
    pub fitness_combination: Combination,
    pub search_tasks: RawTasks,
    pub select_tasks: RawTasks,
    pub final_tasks: RawTasks,
}

/// One task collection list, `[[search_tasks]]` etc.: the list's span (its first table's header,
/// or the `[]`) and each table's (its header).
pub(super) type RawTasks = Spanned<Vec<Spanned<TaskSpec>>>;

/// `[memory]`: S, V, M.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMemory {
    pub scalars: Spanned<i64>,
    pub vectors: Spanned<i64>,
    pub matrices: Spanned<i64>,
}

/// One op list of `[ops]`, each name with its own span (a list may span several lines).
pub(super) type RawOpList = Spanned<Vec<Spanned<String>>>;

/// `[ops]`: the op names per component function.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOps {
    pub setup: RawOpList,
    pub predict: RawOpList,
    pub learn: RawOpList,
}

/// `[sizes]`: the instruction counts per component function.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSizes {
    pub setup: Spanned<RawSize>,
    pub predict: Spanned<RawSize>,
    pub learn: Spanned<RawSize>,
}

/// One size: a number fixes it, `{ init, min, max }` lets it vary.
#[derive(Debug)]
pub(super) enum RawSize {
    /// `key = n`.
    Fixed(i64),
    /// `key = { init = .., min = .., max = .. }` (or dotted keys, or a sub-table).
    Range(RawRange),
}

/// The table form of a size, each bound with its own span.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRange {
    pub init: Spanned<i64>,
    pub min: Spanned<i64>,
    pub max: Spanned<i64>,
}

/// Reads an integer or a table by hand rather than with `#[serde(untagged)]`: an untagged enum
/// buffers the value and loses the spans of the table's entries (and says only "did not match
/// any variant" when an entry is wrong).
impl<'de> Deserialize<'de> for RawSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor)
    }
}

/// The visitor of [`RawSize`].
struct SizeVisitor;

impl<'de> serde::de::Visitor<'de> for SizeVisitor {
    type Value = RawSize;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a size (an integer) or a table { init, min, max }")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawSize, E> {
        Ok(RawSize::Fixed(v))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawSize, A::Error> {
        let entries = serde::de::value::MapAccessDeserializer::new(map);
        RawRange::deserialize(entries).map(RawSize::Range)
    }
}

/// `[search]`; every key optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSearch {
    pub population_size: Opt<i64>,
    pub tournament_size: Opt<i64>,
    pub initial_population: Opt<String>,
    pub mutate_prob: Opt<f64>,
    pub mutations: Opt<Vec<Spanned<String>>>,
    pub progress_every: Option<u64>,
    pub max_individuals: Option<u64>,
    pub max_train_steps: Option<u64>,
    pub target_fitness: Opt<f64>,
}

/// `[fec]`; every key optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFec {
    pub enabled: Option<bool>,
    pub num_train_examples: Opt<usize>,
    pub num_valid_examples: Opt<usize>,
    pub cache_size: Opt<usize>,
    pub forget_every: Option<u32>,
}

/// `[train_budget]`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBudget {
    pub baseline: Spanned<String>,
    pub threshold_factor: Opt<f64>,
}

/// `[hurdle]`; every key optional (the table's presence turns the hurdle on).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHurdle {
    pub train_examples: Opt<i64>,
    pub percentile: Opt<f64>,
    pub window: Opt<i64>,
}

/// `[experiments]`; every key optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExperiments {
    pub max_experiments: Option<u64>,
    pub sufficient_fitness: Opt<f64>,
    pub randomize_task_seeds: Option<bool>,
    pub max_seconds: Opt<f64>,
}

/// `[parallel]`; every key optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawParallel {
    pub mode: Opt<String>,
    pub migration_every: Opt<i64>,
    pub migration_size: Opt<i64>,
}

/// A value after defaults: what was given (with its span) or the default (without one).
#[derive(Clone, Debug)]
pub(super) struct Given<T> {
    /// The value.
    pub value: T,
    /// Where it is in the text; `None` for a default.
    pub span: Option<Range<usize>>,
}

impl<T: Clone> Given<T> {
    /// The given value of `raw`, else `default`.
    pub fn or(raw: &Opt<T>, default: T) -> Given<T> {
        match raw {
            Some(s) => Given {
                value: s.get_ref().clone(),
                span: Some(s.span()),
            },
            None => Given {
                value: default,
                span: None,
            },
        }
    }

    /// The given value of a required key.
    pub fn of(raw: &Spanned<T>) -> Given<T> {
        Given {
            value: raw.get_ref().clone(),
            span: Some(raw.span()),
        }
    }
}
