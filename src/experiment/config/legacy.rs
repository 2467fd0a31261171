//! TEMPORARY: the parser as it was before the split into per-table functions, kept only as a test
//! oracle (`super::tests`) to show that the new one gives identical results. Removed once the
//! comparison has passed.
#![allow(dead_code, clippy::all)]

use super::{Baseline, ConfigError, Experiment};
use crate::eval::Combination;
use crate::search::{AlgorithmSpace, FecSettings, FunctionSpace, InitialPopulation, MutationType};
use crate::task::file::line_at;
use crate::task::spec::TaskSpec;
use amlz_ir::{ALL_OPS, ComponentFunction, MAX_ADDRESSES, MemoryCounts, Op};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    seed: u64,
    memory: RawMemory,
    ops: RawOps,
    sizes: RawSizes,
    #[serde(default)]
    search: RawSearch,
    #[serde(default)]
    fec: RawFec,
    train_budget: Option<RawBudget>,
    #[serde(default)]
    experiments: RawExperiments,
    #[serde(default)]
    fitness_combination: Combination,
    search_tasks: Vec<TaskSpec>,
    select_tasks: Vec<TaskSpec>,
    final_tasks: Vec<TaskSpec>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawMemory {
    scalars: i64,
    vectors: i64,
    matrices: i64,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawOps {
    setup: Vec<String>,
    predict: Vec<String>,
    learn: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSizes {
    setup: RawSize,
    predict: RawSize,
    learn: RawSize,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(untagged)]
enum RawSize {
    Fixed(i64),
    Range { init: i64, min: i64, max: i64 },
}

fn default_population() -> i64 {
    1000
}
fn default_tournament() -> i64 {
    10
}
fn default_mutate_prob() -> f64 {
    0.9
}
fn default_progress() -> u64 {
    10_000
}
fn default_initial() -> String {
    "random".into()
}
fn default_mutations() -> Vec<String> {
    vec![
        "alter_param".into(),
        "randomize_instruction".into(),
        "randomize_component_function".into(),
    ]
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSearch {
    #[serde(default = "default_population")]
    population_size: i64,
    #[serde(default = "default_tournament")]
    tournament_size: i64,
    #[serde(default = "default_initial")]
    initial_population: String,
    #[serde(default = "default_mutate_prob")]
    mutate_prob: f64,
    #[serde(default = "default_mutations")]
    mutations: Vec<String>,
    #[serde(default = "default_progress")]
    progress_every: u64,
    max_individuals: Option<u64>,
    max_train_steps: Option<u64>,
    target_fitness: Option<f64>,
}

impl Default for RawSearch {
    fn default() -> Self {
        toml::from_str("").expect("all fields have defaults")
    }
}

fn yes() -> bool {
    true
}
fn ten() -> usize {
    10
}
fn cache_default() -> usize {
    100_000
}
fn forget_default() -> u32 {
    100
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawFec {
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default = "ten")]
    num_train_examples: usize,
    #[serde(default = "ten")]
    num_valid_examples: usize,
    #[serde(default = "cache_default")]
    cache_size: usize,
    #[serde(default = "forget_default")]
    forget_every: u32,
}

impl Default for RawFec {
    fn default() -> Self {
        toml::from_str("").expect("all fields have defaults")
    }
}

fn two() -> f64 {
    2.0
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    baseline: String,
    #[serde(default = "two")]
    threshold_factor: f64,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawExperiments {
    #[serde(default)]
    max_experiments: u64,
    sufficient_fitness: Option<f64>,
    #[serde(default)]
    randomize_task_seeds: bool,
    max_seconds: Option<f64>,
}

/// Finds the 1-based line of `key = ` inside table `[table]` (or at top level when `table` is
/// empty), for error messages about values that parsed but are not allowed.
fn line_of(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut in_table = table.is_empty();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            in_table = name == table;
            continue;
        }
        if in_table
            && let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(i + 1);
        }
    }
    None
}

struct Checker<'a> {
    source: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    fn err(&self, table: &str, key: &str, problem: impl std::fmt::Display) -> ConfigError {
        let full = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        let location = match line_of(self.text, table, key) {
            Some(l) => format!("{}:{l}", self.source),
            None => self.source.to_string(),
        };
        ConfigError {
            message: format!("{location}: {full}: {problem}"),
        }
    }
}

fn all_op_names() -> String {
    ALL_OPS
        .iter()
        .map(|o| o.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses and validates config `text`; `source` names it in messages, `base_dir` resolves relative
/// data paths.
pub fn parse(text: &str, source: &str, base_dir: &Path) -> Result<Experiment, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start));
        let msg = e.message().replace('\n', " ");
        ConfigError {
            message: match line {
                Some(l) => format!("{source}:{l}: {msg}"),
                None => format!("{source}: {msg}"),
            },
        }
    })?;
    let c = Checker { source, text };

    // Memory counts.
    let mut counts = MemoryCounts::MINIMUM;
    for (key, value, min) in [
        ("scalars", raw.memory.scalars, 2),
        ("vectors", raw.memory.vectors, 1),
        ("matrices", raw.memory.matrices, 0),
    ] {
        if value < min || value > MAX_ADDRESSES as i64 {
            let why = match key {
                "scalars" => " (s0 holds the label, s1 the prediction)",
                "vectors" => " (v0 holds the features)",
                _ => "",
            };
            return Err(c.err(
                "memory",
                key,
                format!("{value} is not allowed (allowed: {min} to {MAX_ADDRESSES}){why}"),
            ));
        }
        let bank = match key {
            "scalars" => amlz_ir::Bank::Scalar,
            "vectors" => amlz_ir::Bank::Vector,
            _ => amlz_ir::Bank::Matrix,
        };
        *counts.count_mut(bank) = value as usize;
    }

    // Ops and sizes.
    let raw_ops = [&raw.ops.setup, &raw.ops.predict, &raw.ops.learn];
    let raw_sizes = [raw.sizes.setup, raw.sizes.predict, raw.sizes.learn];
    let initial =
        parse_name::<InitialPopulation>(&raw.search.initial_population).ok_or_else(|| {
            c.err(
                "search",
                "initial_population",
                format!(
                    "unknown value \"{}\" (allowed: {})",
                    raw.search.initial_population,
                    InitialPopulation::NAMES
                ),
            )
        })?;
    let mut functions = Vec::new();
    for f in ComponentFunction::ALL {
        let key = f.key();
        let mut ops = Vec::new();
        for name in raw_ops[f as usize] {
            let op = Op::from_name(name).ok_or_else(|| {
                c.err(
                    "ops",
                    key,
                    format!("unknown op \"{name}\" (allowed: {})", all_op_names()),
                )
            })?;
            if op.uses_matrices() && counts.matrices == 0 {
                return Err(c.err(
                    "ops",
                    key,
                    format!("{} needs matrices but memory.matrices is 0", op.name()),
                ));
            }
            if !ops.contains(&op) {
                ops.push(op);
            }
        }
        let (init, min, max) = match raw_sizes[f as usize] {
            RawSize::Fixed(n) => (n, n, n),
            RawSize::Range { init, min, max } => (init, min, max),
        };
        for (what, v) in [("init", init), ("min", min), ("max", max)] {
            if !(0..=10_000).contains(&v) {
                return Err(c.err(
                    "sizes",
                    key,
                    format!("{what} size {v} is not allowed (allowed: 0 to 10000)"),
                ));
            }
        }
        if min > max {
            return Err(c.err(
                "sizes",
                key,
                format!("min size {min} is larger than max size {max}"),
            ));
        }
        if init < min || init > max {
            return Err(c.err(
                "sizes",
                key,
                format!("init size {init} is outside min..max ({min}..{max})"),
            ));
        }
        if ops.is_empty() && init > 0 && initial == InitialPopulation::Random {
            return Err(c.err(
                "ops",
                key,
                format!("the op list is empty but sizes.{key} is {init} and the initial population is random: list ops to draw from (allowed: {}), or set the size to 0", all_op_names()),
            ));
        }
        functions.push(FunctionSpace {
            ops,
            init_size: init as usize,
            min_size: min as usize,
            max_size: max as usize,
        });
    }
    let space = AlgorithmSpace {
        functions: functions.try_into().expect("three functions"),
        counts,
    };

    // Hand-made initial populations need their addresses.
    let handmade = match initial {
        InitialPopulation::Linear => Some(amlz_ir::handmade::linear(0.01)),
        InitialPopulation::NeuralNet => Some(amlz_ir::handmade::neural_net()),
        InitialPopulation::DamagedNeuralNet => Some(amlz_ir::handmade::damaged_neural_net()),
        _ => None,
    };
    if let Some(a) = handmade {
        let need = a.min_counts();
        if let Err(e) = a.check_addresses(&counts) {
            return Err(c.err(
                "search",
                "initial_population",
                format!(
                    "{} needs memory of at least {} scalars, {} vectors, {} matrices ({e})",
                    raw.search.initial_population, need.scalars, need.vectors, need.matrices
                ),
            ));
        }
    }

    // Search settings.
    let s = &raw.search;
    if s.population_size < 1 {
        return Err(c.err(
            "search",
            "population_size",
            format!("{} is not allowed (allowed: 1 or more)", s.population_size),
        ));
    }
    if s.tournament_size < 1 || s.tournament_size > s.population_size {
        return Err(c.err(
            "search",
            "tournament_size",
            format!(
                "{} is not allowed (allowed: 1 to population_size = {})",
                s.tournament_size, s.population_size
            ),
        ));
    }
    if !(0.0..=1.0).contains(&s.mutate_prob) {
        return Err(c.err(
            "search",
            "mutate_prob",
            format!(
                "{} is not a probability (allowed: 0.0 to 1.0)",
                s.mutate_prob
            ),
        ));
    }
    let mut mutations = Vec::new();
    for name in &s.mutations {
        let m = parse_name::<MutationType>(name).ok_or_else(|| {
            c.err(
                "search",
                "mutations",
                format!(
                    "unknown mutation \"{name}\" (allowed: {})",
                    MutationType::NAMES
                ),
            )
        })?;
        mutations.push(m);
    }
    if mutations.is_empty() {
        return Err(c.err(
            "search",
            "mutations",
            format!("the list is empty (allowed: {})", MutationType::NAMES),
        ));
    }
    if let Some(t) = s.target_fitness
        && !(0.0..=1.0).contains(&t)
    {
        return Err(c.err(
            "search",
            "target_fitness",
            format!("{t} is not allowed (allowed: 0.0 to 1.0)"),
        ));
    }

    let fec = if raw.fec.enabled {
        if raw.fec.num_train_examples == 0 && raw.fec.num_valid_examples == 0 {
            return Err(c.err(
                "fec",
                "num_train_examples",
                "a fingerprint needs at least one example (or set enabled = false)",
            ));
        }
        if raw.fec.cache_size == 0 {
            return Err(c.err(
                "fec",
                "cache_size",
                "0 is not allowed (allowed: 1 or more; or set enabled = false)",
            ));
        }
        Some(FecSettings {
            num_train_examples: raw.fec.num_train_examples,
            num_valid_examples: raw.fec.num_valid_examples,
            cache_size: raw.fec.cache_size,
            forget_every: raw.fec.forget_every,
        })
    } else {
        None
    };

    let train_budget = match &raw.train_budget {
        None => None,
        Some(b) => {
            let baseline = match b.baseline.as_str() {
                "linear" => Baseline::Linear,
                "neural_net" => Baseline::NeuralNet,
                other => {
                    return Err(c.err(
                        "train_budget",
                        "baseline",
                        format!("unknown value \"{other}\" (allowed: linear, neural_net)"),
                    ));
                }
            };
            if b.threshold_factor.is_nan() || b.threshold_factor <= 0.0 {
                return Err(c.err(
                    "train_budget",
                    "threshold_factor",
                    format!(
                        "{} is not allowed (allowed: a positive number)",
                        b.threshold_factor
                    ),
                ));
            }
            Some((baseline, b.threshold_factor))
        }
    };

    let e = &raw.experiments;
    if let Some(f) = e.sufficient_fitness
        && !(0.0..=1.0).contains(&f)
    {
        return Err(c.err(
            "experiments",
            "sufficient_fitness",
            format!("{f} is not allowed (allowed: 0.0 to 1.0)"),
        ));
    }
    if let Some(sec) = e.max_seconds
        && (sec.is_nan() || sec <= 0.0)
    {
        return Err(c.err(
            "experiments",
            "max_seconds",
            format!("{sec} is not allowed (allowed: a positive number)"),
        ));
    }

    // Task collections: check each spec now, so that a bad one fails before the search.
    for (table, list) in [
        ("search_tasks", &raw.search_tasks),
        ("select_tasks", &raw.select_tasks),
        ("final_tasks", &raw.final_tasks),
    ] {
        if list.is_empty() {
            return Err(c.err(
                "",
                table,
                "at least one [[".to_string() + table + "]] collection is needed",
            ));
        }
        for (i, spec) in list.iter().enumerate() {
            spec.check().map_err(|p| ConfigError {
                message: format!("{source}: [[{table}]] #{}: {p}", i + 1),
            })?;
        }
    }

    Ok(Experiment {
        source: source.to_string(),
        base_dir: base_dir.to_path_buf(),
        seed: raw.seed,
        space,
        population_size: s.population_size as usize,
        tournament_size: s.tournament_size as usize,
        initial_population: initial,
        mutate_prob: s.mutate_prob,
        mutations,
        progress_every: s.progress_every,
        max_individuals: s.max_individuals,
        max_train_steps: s.max_train_steps,
        target_fitness: s.target_fitness,
        fec,
        train_budget,
        max_experiments: e.max_experiments,
        sufficient_fitness: e.sufficient_fitness,
        randomize_task_seeds: e.randomize_task_seeds,
        max_seconds: e.max_seconds,
        fitness_combination: raw.fitness_combination,
        search_tasks: raw.search_tasks,
        select_tasks: raw.select_tasks,
        final_tasks: raw.final_tasks,
    })
}

/// Parses a snake_case enum name with serde.
fn parse_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name)).ok()
}
