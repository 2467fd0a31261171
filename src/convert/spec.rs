//! The original's messages mapped onto amlz's config: `SearchExperimentSpec` (the spec),
//! `TaskCollection`/`TaskSpec` (the spec's `search_tasks` and the `--select_tasks`,
//! `--final_tasks` flags) and the messages inside them. Field names, types and defaults are the
//! original's (its `experiment.proto`, `task.proto`, `fec_cache.proto`, `train_budget.proto`,
//! `mutator.proto`, `generator.proto`, `instruction.proto`); SEMANTICS.md §9.6 has the table.
//!
//! Where the original has a default that differs from amlz's, the original's is written out, so
//! that the config means what the spec meant. Where amlz has no equivalent, the mapping either
//! refuses the field (a one-line error naming it) or, where the original never reads it in a
//! search, drops it with a note that the config carries as a comment.

use super::ConvertError;
use super::fields::{EnumValue, Fields};
use super::textproto::Message;
use crate::task::EvalType;
use crate::task::generate::Example;
use crate::task::spec::{TaskKind, TaskSpec};
use amlz_ir::{ComponentFunction, Op};

/// One component function's size: fixed, or varying between bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// The initial size.
    pub init: usize,
    /// The bounds `(min, max)` when the spec gives any (`mutate_*_size_min`/`_max`).
    pub bounds: Option<(usize, usize)>,
}

/// The `[search]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// P.
    pub population_size: u64,
    /// T.
    pub tournament_size: u64,
    /// amlz's name of the initial population (`random`, …).
    pub initial_population: &'static str,
    /// The mutation probability.
    pub mutate_prob: f64,
    /// amlz's names of the mutation types.
    pub mutations: Vec<&'static str>,
    /// Individuals between progress lines.
    pub progress_every: u64,
    /// The individual stop, per experiment.
    pub max_individuals: Option<u64>,
    /// The train-step stop, per experiment.
    pub max_train_steps: Option<u64>,
}

/// The `[fec]` table of an enabled cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fec {
    /// Train examples of a fingerprint.
    pub num_train_examples: u64,
    /// Validation examples of a fingerprint.
    pub num_valid_examples: u64,
    /// LRU entries.
    pub cache_size: u64,
    /// Hits after which an entry is dropped.
    pub forget_every: u64,
}

/// The `[experiments]` table (from the original's flags).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Experiments {
    /// Most experiments (0: no limit).
    pub max_experiments: u64,
    /// Stop once the best select fitness exceeds this.
    pub sufficient_fitness: Option<f64>,
    /// Fresh T_search/T_select seeds per experiment.
    pub randomize_task_seeds: bool,
}

/// Everything the spec and flags say, in amlz's terms: what the TOML writer prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// Where the spec came from (for the config's first comment).
    pub source: String,
    /// The search seed, if the flags give a non-zero one.
    pub seed: Option<u64>,
    /// `"mean"` or `"median"`.
    pub fitness_combination: &'static str,
    /// S, V, M.
    pub memory: [usize; 3],
    /// Allowed ops of Setup, Predict, Learn.
    pub ops: [Vec<Op>; 3],
    /// Sizes of Setup, Predict, Learn.
    pub sizes: [Size; 3],
    /// `[search]`.
    pub search: Search,
    /// `[fec]`; `None`: disabled.
    pub fec: Option<Fec>,
    /// `[train_budget]`: amlz's baseline name and the threshold factor.
    pub train_budget: Option<(&'static str, f64)>,
    /// `[experiments]`.
    pub experiments: Experiments,
    /// T_search, T_select, T_final.
    pub tasks: [Vec<TaskSpec>; 3],
    /// What the conversion changed or dropped, one sentence each (written as comments).
    pub notes: Vec<String>,
}

const SEARCH_EXPERIMENT_SPEC: &[&str] = &[
    "search_tasks",
    "setup_ops",
    "predict_ops",
    "learn_ops",
    "setup_size_init",
    "predict_size_init",
    "learn_size_init",
    "train_budget",
    "max_abs_error",
    "fec",
    "fitness_combination_mode",
    "population_size",
    "tournament_size",
    "initial_population",
    "max_train_steps",
    "max_individuals",
    "allowed_mutation_types",
    "mutate_prob",
    "mutate_setup_size_min",
    "mutate_setup_size_max",
    "mutate_predict_size_min",
    "mutate_predict_size_max",
    "mutate_learn_size_min",
    "mutate_learn_size_max",
    "progress_every",
];

const TASK_SPEC: &[&str] = &[
    "features_size",
    "num_train_examples",
    "num_train_epochs",
    "num_valid_examples",
    "num_tasks",
    "data_seeds",
    "param_seeds",
    "eval_type",
    "scalar_linear_regression_task",
    "scalar_2layer_nn_regression_task",
    "projected_binary_classification_task",
    "unit_test_fixed_task",
    "unit_test_zeros_task",
    "unit_test_ones_task",
    "unit_test_increment_task",
    "num_test_examples",
];

/// The members of TaskSpec's `task_type` oneof, their message types and amlz's kinds.
const TASK_TYPES: &[(&str, &str, TaskKind)] = &[
    (
        "scalar_linear_regression_task",
        "ScalarLinearRegressionTaskSpec",
        TaskKind::ScalarLinearRegression,
    ),
    (
        "scalar_2layer_nn_regression_task",
        "Scalar2LayerNNRegressionTaskSpec",
        TaskKind::Scalar2LayerNnRegression,
    ),
    (
        "projected_binary_classification_task",
        "ProjectedBinaryClassificationTask",
        TaskKind::Fixed,
    ),
    ("unit_test_fixed_task", "UnitTestFixedTask", TaskKind::Fixed),
    (
        "unit_test_zeros_task",
        "UnitTestZerosTaskSpec",
        TaskKind::UnitTestZeros,
    ),
    (
        "unit_test_ones_task",
        "UnitTestOnesTaskSpec",
        TaskKind::UnitTestOnes,
    ),
    (
        "unit_test_increment_task",
        "UnitTestIncrementTaskSpec",
        TaskKind::UnitTestIncrement,
    ),
];

const INT32_MAX: i64 = i32::MAX as i64;

/// The flags given beside the spec, already read.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--random_seed`.
    pub random_seed: Option<u64>,
    /// `--max_experiments` (the original's default: 1).
    pub max_experiments: Option<u64>,
    /// `--sufficient_fitness`.
    pub sufficient_fitness: Option<f64>,
    /// `--randomize_task_seeds`.
    pub randomize_task_seeds: bool,
    /// `-DMAX_SCALAR_ADDRESSES`, `-DMAX_VECTOR_ADDRESSES`, `-DMAX_MATRIX_ADDRESSES` (default 20).
    pub memory: [usize; 3],
}

/// Maps a parsed `SearchExperimentSpec` (from `file`) and the select and final
/// `TaskCollection`s (parsed, each with its file name) with the `flags`.
pub fn convert(
    spec: &Message,
    file: &str,
    select: (&Message, &str),
    finals: (&Message, &str),
    flags: &Flags,
) -> Result<Converted, ConvertError> {
    let f = Fields::new(spec, "SearchExperimentSpec", SEARCH_EXPERIMENT_SPEC, file)?;
    let mut notes = Vec::new();

    let max_abs_error = f.double("max_abs_error")?.unwrap_or(100.0);
    let search_msg = f.message("search_tasks")?.ok_or_else(|| {
        f.missing(
            "search_tasks",
            " (T_search: `search_tasks { tasks { ... } }`)",
        )
    })?;
    let search_tasks = collection(
        &search_msg.typed("TaskCollection", &["tasks"], file)?,
        &mut notes,
    )?;
    let select_tasks = collection(
        &Fields::new(select.0, "TaskCollection", &["tasks"], select.1)?,
        &mut notes,
    )?;
    let final_tasks = collection(
        &Fields::new(finals.0, "TaskCollection", &["tasks"], finals.1)?,
        &mut notes,
    )?;
    let mut tasks = [search_tasks, select_tasks, final_tasks];
    if max_abs_error != 100.0 {
        for spec in tasks.iter_mut().flatten() {
            spec.max_abs_error = max_abs_error;
        }
        notes.push(format!(
            "max_abs_error {max_abs_error} (the spec's bound, which the original applies to its \
             search, select and final evaluations) is each collection's max_abs_error"
        ));
    }

    let mut ops: [Vec<Op>; 3] = Default::default();
    let mut sizes = [Size {
        init: 0,
        bounds: None,
    }; 3];
    for function in ComponentFunction::ALL {
        let key = function.key();
        ops[function as usize] = op_list(&f, field_name(key, "_ops"))?;
        sizes[function as usize] = size(&f, key, &mut notes)?;
    }

    let search = search(&f, &mut notes)?;
    let fec = fec(&f)?;
    let train_budget = train_budget(&f)?;
    let fitness_combination = match f.enum_value("fitness_combination_mode")? {
        None => "mean",
        Some((v, line)) => match enum_name(
            &v,
            &[
                ("MEAN_FITNESS_COMBINATION", 1),
                ("MEDIAN_FITNESS_COMBINATION", 3),
            ],
        ) {
            Some("MEAN_FITNESS_COMBINATION") => "mean",
            Some(_) => {
                notes.push(
                    "fitness_combination_mode MEDIAN: the original scores T_select and T_final by \
                     the mean whatever the spec says; amlz uses the median for every collection"
                        .into(),
                );
                "median"
            }
            None => {
                return Err(f.error(
                    line,
                    "fitness_combination_mode",
                    format!(
                        "unknown value `{v}` (allowed: MEAN_FITNESS_COMBINATION, MEDIAN_FITNESS_COMBINATION)"
                    ),
                ));
            }
        },
    };

    let seed = flags.random_seed.filter(|&s| s != 0);
    if seed.is_none() {
        notes.push(
            "no --random_seed (or 0): the original draws a fresh seed per run; this config \
             searches with amlz's default seed 0 (choose another with `amlz search --seed N`)"
                .into(),
        );
    }
    let sufficient_fitness = match flags.sufficient_fitness {
        Some(x) if x > 0.0 && x <= 1.0 => Some(x),
        Some(x) => {
            notes.push(format!(
                "--sufficient_fitness {x} can never be exceeded (fitness is in [0, 1], and the \
                 original ignores values <= 0): no sufficient fitness"
            ));
            None
        }
        None => None,
    };
    Ok(Converted {
        source: file.to_string(),
        seed,
        fitness_combination,
        memory: flags.memory,
        ops,
        sizes,
        search,
        fec,
        train_budget,
        experiments: Experiments {
            max_experiments: flags.max_experiments.unwrap_or(1),
            sufficient_fitness,
            randomize_task_seeds: flags.randomize_task_seeds,
        },
        tasks,
        notes,
    })
}

/// `setup` + `_ops` → `setup_ops`, as a `&'static str` from the spec's field list.
/// The fields of the original's `ScalarLabelDataset` (the examples of a fixed task, or of a
/// projected task given inline).
const DATASET_FIELDS: &[&str] = &[
    "train_features",
    "train_labels",
    "valid_features",
    "valid_labels",
    "test_features",
    "test_labels",
];

fn field_name(key: &str, suffix: &str) -> &'static str {
    let name = format!("{key}{suffix}");
    SEARCH_EXPERIMENT_SPEC
        .iter()
        .find(|f| **f == name)
        .copied()
        .expect("every function has its fields")
}

/// The name of an enum value among `values` (name, number), by name or number.
fn enum_name(v: &EnumValue, values: &[(&'static str, i64)]) -> Option<&'static str> {
    values
        .iter()
        .find(|(name, number)| match v {
            EnumValue::Name(n) => n == name,
            EnumValue::Number(k) => k == number,
        })
        .map(|(name, _)| *name)
}

/// A repeated `Op` field: the original's names (`SCALAR_SUM_OP`, `NO_OP`, `*_HEAVYSIDE_OP`) or
/// numbers; repeated ops kept once.
fn op_list(f: &Fields, name: &'static str) -> Result<Vec<Op>, ConvertError> {
    let mut ops = Vec::new();
    for (v, line) in f.enum_values(name)? {
        let op = match &v {
            EnumValue::Number(n) => u32::try_from(*n).ok().and_then(Op::from_number),
            EnumValue::Name(n) => {
                let spelled = n.replace("HEAVYSIDE", "HEAVISIDE");
                let bare = spelled.strip_suffix("_OP").filter(|_| spelled != "NO_OP");
                bare.map_or_else(
                    || (spelled == "NO_OP").then_some(Op::NoOp),
                    |b| amlz_ir::ALL_OPS.iter().copied().find(|op| op.name() == b),
                )
            }
        };
        let op = op.ok_or_else(|| {
            f.error(
                line,
                name,
                format!("unknown op `{v}` (the original's names: SCALAR_SUM_OP, …, MATRIX_GAUSSIAN_SET_OP, or numbers 0 to 64)"),
            )
        })?;
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    Ok(ops)
}

/// `*_size_init` and `mutate_*_size_min`/`_max` of one function.
fn size(f: &Fields, key: &str, notes: &mut Vec<String>) -> Result<Size, ConvertError> {
    let init_name = field_name(key, "_size_init");
    let min_name = field_name(&format!("mutate_{key}"), "_size_min");
    let max_name = field_name(&format!("mutate_{key}"), "_size_max");
    let init =
        f.int(init_name, 0, 10_000)?
            .ok_or_else(|| f.missing(init_name, " (the original requires it)"))? as usize;
    let min = f.int(min_name, 0, 10_000)?;
    let max = f.int(max_name, 0, 10_000)?;
    if min.is_none() && max.is_none() {
        return Ok(Size { init, bounds: None });
    }
    // The original reads an absent bound as 0, its proto default.
    let (lo, hi) = (min.unwrap_or(0) as usize, max.unwrap_or(0) as usize);
    if lo > hi {
        return Err(f.error(
            f.line_of(min_name),
            min_name,
            format!("{lo} is above {max_name} {hi}"),
        ));
    }
    let clamped = init.clamp(lo, hi);
    if clamped != init {
        notes.push(format!(
            "{init_name} {init} is outside {min_name}..{max_name} ({lo}..{hi}); amlz needs \
             min <= init <= max, so sizes.{key}.init is {clamped}"
        ));
    }
    Ok(Size {
        init: clamped,
        bounds: Some((lo, hi)),
    })
}

/// Population, tournament, initial population, mutations and stops.
fn search(f: &Fields, notes: &mut Vec<String>) -> Result<Search, ConvertError> {
    let population_size = f
        .int("population_size", 1, i64::MAX)?
        .ok_or_else(|| f.missing("population_size", " (the original has no default)"))?;
    let tournament_size = f
        .int("tournament_size", 1, i64::MAX)?
        .ok_or_else(|| f.missing("tournament_size", " (the original has no default)"))?;
    let initial_population = match f.enum_value("initial_population")? {
        // The original's default.
        None => "no_op",
        Some((v, line)) => initial_population(&v).ok_or_else(|| {
            f.error(
                line,
                "initial_population",
                format!("unknown value `{v}` (allowed: NO_OP_ALGORITHM, RANDOM_ALGORITHM, LINEAR_ALGORITHM, NEURAL_NET_ALGORITHM, INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM)"),
            )
        })?,
    };
    let mutate_prob = f.double("mutate_prob")?.unwrap_or(0.9);
    let list = f
        .message("allowed_mutation_types")?
        .ok_or_else(|| f.missing("allowed_mutation_types", " (the original requires it)"))?;
    let list = list.typed("MutationTypeList", &["mutation_types"], f.file())?;
    let mut mutations = Vec::new();
    for (v, line) in list.enum_values("mutation_types")? {
        let m = mutation_type(&v).ok_or_else(|| {
            list.error(
                line,
                "mutation_types",
                format!("unknown value `{v}` (allowed: ALTER_PARAM_MUTATION_TYPE, RANDOMIZE_INSTRUCTION_MUTATION_TYPE, RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE, IDENTITY_MUTATION_TYPE, INSERT_INSTRUCTION_MUTATION_TYPE, REMOVE_INSTRUCTION_MUTATION_TYPE, TRADE_INSTRUCTION_MUTATION_TYPE, RANDOMIZE_ALGORITHM_MUTATION_TYPE)"),
            )
        })?;
        mutations.push(m);
    }
    if mutations.is_empty() {
        return Err(list.missing(
            "mutation_types",
            " (the original requires a non-empty list)",
        ));
    }
    let progress_every = f.int("progress_every", 0, i64::MAX)?.unwrap_or(10_000) as u64;
    let max_individuals = f.int("max_individuals", 0, i64::MAX)?.map(|v| v as u64);
    let mut max_train_steps = f.int("max_train_steps", 0, i64::MAX)?.map(|v| v as u64);
    if max_individuals.is_none() && max_train_steps.is_none() {
        // A spec without `max_individuals` is of the release that stops on train steps, whose
        // default is this.
        max_train_steps = Some(80_000_000_000);
        notes.push(
            "no max_individuals and no max_train_steps: the original's default of \
             max_train_steps, 80000000000, applies"
                .into(),
        );
    }
    Ok(Search {
        population_size: population_size as u64,
        tournament_size: tournament_size as u64,
        initial_population,
        mutate_prob,
        mutations,
        progress_every,
        max_individuals,
        max_train_steps,
    })
}

/// HardcodedAlgorithmID → amlz's initial population.
fn initial_population(v: &EnumValue) -> Option<&'static str> {
    let name = enum_name(
        v,
        &[
            ("NO_OP_ALGORITHM", 0),
            ("RANDOM_ALGORITHM", 1),
            ("LINEAR_ALGORITHM", 2),
            ("NEURAL_NET_ALGORITHM", 3),
            ("INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM", 4),
        ],
    )?;
    Some(match name {
        "NO_OP_ALGORITHM" => "no_op",
        "RANDOM_ALGORITHM" => "random",
        "LINEAR_ALGORITHM" => "linear",
        "NEURAL_NET_ALGORITHM" => "neural_net",
        _ => "damaged_neural_net",
    })
}

/// MutationType → amlz's mutation.
fn mutation_type(v: &EnumValue) -> Option<&'static str> {
    const TYPES: &[(&str, i64, &str)] = &[
        ("ALTER_PARAM_MUTATION_TYPE", 0, "alter_param"),
        (
            "RANDOMIZE_INSTRUCTION_MUTATION_TYPE",
            1,
            "randomize_instruction",
        ),
        (
            "RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE",
            2,
            "randomize_component_function",
        ),
        ("IDENTITY_MUTATION_TYPE", 3, "identity"),
        ("INSERT_INSTRUCTION_MUTATION_TYPE", 4, "insert_instruction"),
        ("REMOVE_INSTRUCTION_MUTATION_TYPE", 5, "remove_instruction"),
        ("TRADE_INSTRUCTION_MUTATION_TYPE", 6, "trade_instruction"),
        (
            "RANDOMIZE_ALGORITHM_MUTATION_TYPE",
            7,
            "randomize_algorithm",
        ),
    ];
    TYPES
        .iter()
        .find(|(name, number, _)| match v {
            EnumValue::Name(n) => n == name,
            EnumValue::Number(k) => k == number,
        })
        .map(|(_, _, amlz)| *amlz)
}

/// `fec` (FECSpec): absent means no cache.
fn fec(f: &Fields) -> Result<Option<Fec>, ConvertError> {
    let Some(m) = f.message("fec")? else {
        return Ok(None);
    };
    let m = m.typed(
        "FECSpec",
        &[
            "num_train_examples",
            "num_valid_examples",
            "cache_size",
            "forget_every",
        ],
        f.file(),
    )?;
    let n = |name, default| -> Result<u64, ConvertError> {
        Ok(m.int(name, 0, i64::MAX)?.unwrap_or(default) as u64)
    };
    Ok(Some(Fec {
        // The original has no default for these two (0).
        num_train_examples: n("num_train_examples", 0)?,
        num_valid_examples: n("num_valid_examples", 0)?,
        cache_size: n("cache_size", 100_000)?,
        forget_every: n("forget_every", 100)?,
    }))
}

/// `train_budget` (TrainBudgetSpec).
fn train_budget(f: &Fields) -> Result<Option<(&'static str, f64)>, ConvertError> {
    let Some(m) = f.message("train_budget")? else {
        return Ok(None);
    };
    let m = m.typed(
        "TrainBudgetSpec",
        &["train_budget_baseline", "train_budget_threshold_factor"],
        f.file(),
    )?;
    let baseline = match m.enum_value("train_budget_baseline")? {
        None => "neural_net",
        Some((v, line)) => match initial_population(&v) {
            Some(b @ ("linear" | "neural_net")) => b,
            _ => {
                return Err(m.error(
                    line,
                    "train_budget_baseline",
                    format!("`{v}`: amlz's train budget compares against LINEAR_ALGORITHM or NEURAL_NET_ALGORITHM"),
                ));
            }
        },
    };
    let factor = m.double("train_budget_threshold_factor")?.unwrap_or(2.0);
    Ok(Some((baseline, factor)))
}

/// A TaskCollection: its `tasks`, each a TaskSpec.
fn collection(f: &Fields, notes: &mut Vec<String>) -> Result<Vec<TaskSpec>, ConvertError> {
    let mut specs = Vec::new();
    for t in f.messages("tasks")? {
        specs.push(task_spec(
            &t.typed("TaskSpec", TASK_SPEC, f.file())?,
            notes,
        )?);
    }
    if specs.is_empty() {
        return Err(f.missing("tasks", " (at least one TaskSpec)"));
    }
    Ok(specs)
}

/// One TaskSpec.
fn task_spec(f: &Fields, notes: &mut Vec<String>) -> Result<TaskSpec, ConvertError> {
    let given: Vec<&(&str, &str, TaskKind)> = TASK_TYPES
        .iter()
        .filter(|(name, _, _)| f.has(name))
        .collect();
    let (field, ty, kind) = match given.as_slice() {
        [one] => **one,
        [] => {
            return Err(f.missing(
                "a task type",
                " (one of scalar_linear_regression_task, scalar_2layer_nn_regression_task, projected_binary_classification_task, unit_test_fixed_task, unit_test_zeros_task, unit_test_ones_task, unit_test_increment_task)",
            ));
        }
        [first, second, ..] => {
            return Err(f.error(
                f.line_of(second.0),
                second.0,
                format!(
                    "a TaskSpec has one task type, and `{}` is given too",
                    first.0
                ),
            ));
        }
    };
    let mut spec = TaskSpec::new(kind);
    let count = |name| -> Result<Option<usize>, ConvertError> {
        Ok(f.int(name, 1, INT32_MAX)?.map(|v| v as usize))
    };
    spec.features_size = count("features_size")?;
    spec.num_train_examples = count("num_train_examples")?;
    spec.num_valid_examples = count("num_valid_examples")?;
    spec.num_train_epochs = count("num_train_epochs")?.unwrap_or(1);
    spec.num_tasks = count("num_tasks")?
        .ok_or_else(|| f.missing("num_tasks", " (the original requires num_tasks > 0)"))?;
    let eval_type = f
        .enum_value("eval_type")?
        .ok_or_else(|| f.missing("eval_type", " (the original requires it)"))?;
    spec.eval_type = Some(
        match enum_name(&eval_type.0, &[("RMS_ERROR", 1), ("ACCURACY", 4)]) {
            Some("RMS_ERROR") => EvalType::RmsError,
            Some(_) => EvalType::Accuracy,
            None => {
                return Err(f.error(
                    eval_type.1,
                    "eval_type",
                    format!(
                        "unknown value `{}` (allowed: RMS_ERROR, ACCURACY)",
                        eval_type.0
                    ),
                ));
            }
        },
    );
    let seeds = |name| -> Result<Vec<u64>, ConvertError> {
        Ok(f.ints(name, 0, u32::MAX as i64)?
            .into_iter()
            .map(|v| v as u64)
            .collect())
    };
    spec.data_seeds = seeds("data_seeds")?;
    spec.param_seeds = seeds("param_seeds")?;
    if f.has("num_test_examples") {
        f.int("num_test_examples", 0, INT32_MAX)?;
        notes.push(
            "num_test_examples is dropped: the original's search never scores test examples".into(),
        );
    }

    let nested = f.message(field)?.expect("the task type is given");
    match field {
        "scalar_linear_regression_task"
        | "scalar_2layer_nn_regression_task"
        | "unit_test_zeros_task"
        | "unit_test_ones_task" => {
            nested.typed(ty, &[], f.file())?;
        }
        "unit_test_increment_task" => {
            let m = nested.typed(ty, &["increment"], f.file())?;
            spec.increment = Some(m.double("increment")?.unwrap_or(1.0));
        }
        "unit_test_fixed_task" => fixed_task(
            &nested.typed(ty, DATASET_FIELDS, f.file())?,
            &mut spec,
            notes,
        )?,
        _ => projected_task(
            &nested.typed(
                ty,
                &[
                    "positive_class",
                    "negative_class",
                    "dataset_name",
                    "path",
                    "dataset",
                    "held_out_pairs",
                    "min_supported_data_seed",
                    "max_supported_data_seed",
                ],
                f.file(),
            )?,
            &mut spec,
            notes,
        )?,
    }
    if !spec.kind.has_hidden_function() && !spec.param_seeds.is_empty() {
        notes.push(format!(
            "param_seeds of a {field} collection are dropped: its data has no hidden function"
        ));
        spec.param_seeds.clear();
    }
    Ok(spec)
}

/// `unit_test_fixed_task`: explicit examples (UnitTestFixedTaskVector of doubles).
fn fixed_task(
    f: &Fields,
    spec: &mut TaskSpec,
    notes: &mut Vec<String>,
) -> Result<(), ConvertError> {
    let vectors = |name: &'static str| -> Result<Vec<(Vec<f64>, usize)>, ConvertError> {
        f.messages(name)?
            .into_iter()
            .map(|m| {
                let line = m.line;
                let v = m.typed("UnitTestFixedTaskVector", &["elements"], f.file())?;
                Ok((v.doubles("elements")?, line))
            })
            .collect()
    };
    let examples =
        |features: &'static str, labels: &'static str| -> Result<Vec<Example>, ConvertError> {
            let xs = vectors(features)?;
            let ys = vectors(labels)?;
            if xs.len() != ys.len() {
                return Err(f.error(
                    f.line_of(labels),
                    labels,
                    format!(
                        "{} labels for {} {features} (the original requires as many)",
                        ys.len(),
                        xs.len()
                    ),
                ));
            }
            xs.into_iter()
                .zip(ys)
                .map(|((features, _), (label, line))| match label.as_slice() {
                    [y] => Ok(Example {
                        features,
                        label: *y,
                    }),
                    _ => Err(f.error(
                        line,
                        labels,
                        format!("a label has one element, found {}", label.len()),
                    )),
                })
                .collect()
        };
    spec.train_examples = Some(examples("train_features", "train_labels")?);
    spec.valid_examples = Some(examples("valid_features", "valid_labels")?);
    if f.has("test_features") || f.has("test_labels") {
        notes.push("test_features and test_labels are dropped: the original's search never scores test examples".into());
    }
    Ok(())
}

/// `projected_binary_classification_task`: convertible when its data is in the spec
/// (`dataset`, a ScalarLabelDataset of floats), as amlz's `fixed` kind.
fn projected_task(
    f: &Fields,
    spec: &mut TaskSpec,
    notes: &mut Vec<String>,
) -> Result<(), ConvertError> {
    let Some(dataset) = f.message("dataset")? else {
        let field = ["path", "dataset_name"]
            .into_iter()
            .find(|n| f.has(n))
            .unwrap_or("dataset");
        return Err(f.error(
            f.line_of(field),
            field,
            "the original's pre-projected data sets (`dataset_name`, `path`) have no amlz \
             equivalent: write this collection by hand as kind = \"projected_binary_classification\" \
             with a CSV or IDX source (amlz's SEMANTICS.md §9.2), or give the examples in `dataset`",
        ));
    };
    for name in [
        "positive_class",
        "negative_class",
        "min_supported_data_seed",
        "max_supported_data_seed",
    ] {
        f.int(name, i32::MIN as i64, INT32_MAX)?;
    }
    for name in ["dataset_name", "path"] {
        f.string(name)?;
    }
    for pair in f.messages("held_out_pairs")? {
        let p = pair.typed("ClassPair", &["positive_class", "negative_class"], f.file())?;
        p.int("positive_class", i32::MIN as i64, INT32_MAX)?;
        p.int("negative_class", i32::MIN as i64, INT32_MAX)?;
    }
    if f.has("path") || f.has("dataset_name") {
        return Err(f.error(
            f.line_of(if f.has("path") {
                "path"
            } else {
                "dataset_name"
            }),
            if f.has("path") {
                "path"
            } else {
                "dataset_name"
            },
            "give either `dataset` or a stored data set, not both",
        ));
    }
    let d = dataset.typed("ScalarLabelDataset", DATASET_FIELDS, f.file())?;
    // The original stores these as 32-bit floats.
    let single = |x: f64| f64::from(x as f32);
    let examples =
        |features: &'static str, labels: &'static str| -> Result<Vec<Example>, ConvertError> {
            let xs = d
                .messages(features)?
                .into_iter()
                .map(|m| {
                    let v = m.typed("FeatureVector", &["features"], d.file())?;
                    Ok(v.doubles("features")?
                        .into_iter()
                        .map(single)
                        .collect::<Vec<f64>>())
                })
                .collect::<Result<Vec<_>, ConvertError>>()?;
            let ys: Vec<f64> = d.doubles(labels)?.into_iter().map(single).collect();
            if xs.len() != ys.len() {
                return Err(d.error(
                    d.line_of(labels),
                    labels,
                    format!("{} labels for {} {features}", ys.len(), xs.len()),
                ));
            }
            Ok(xs
                .into_iter()
                .zip(ys)
                .map(|(features, label)| Example { features, label })
                .collect())
        };
    spec.train_examples = Some(examples("train_features", "train_labels")?);
    spec.valid_examples = Some(examples("valid_features", "valid_labels")?);
    notes.push(
        "a projected_binary_classification_task with its `dataset` in the spec is a `fixed` \
         collection of those examples (the class and seed fields only select stored data sets)"
            .into(),
    );
    if d.has("test_features") || d.has("test_labels") {
        notes.push("test_features and test_labels are dropped: the original's search never scores test examples".into());
    }
    Ok(())
}
