//! The experiment config: one TOML file holding a whole search (search tasks, ops per function,
//! sizes, memory counts, population, tournament, mutations, FEC, train budget, stops, select and
//! final tasks, seed), and its validation into an [`Experiment`].
//!
//! Every problem is reported before the search starts, in one line naming the file, the line
//! where known, the key and the allowed values. serde reads the file into `raw` structs that
//! keep the span of every value a check may refuse; one function per table then checks it:
//! `space::memory`, `space::space` (`[ops]` and `[sizes]`), `evolution` (`[search]`),
//! `settings` (`[fec]`, `[train_budget]`, `[experiments]`), `parallel` (`threads`,
//! `[parallel]`) and `tasks::collection`.

mod evolution;
mod parallel;
mod raw;
mod report;
mod settings;
mod space;
mod tasks;

#[cfg(test)]
mod tests;

use crate::eval::Combination;
use crate::search::{AlgorithmSpace, FecSettings, HurdleSettings, InitialPopulation, MutationType};
use crate::task::spec::TaskSpec;
pub use parallel::{DEFAULT_MODE, ParallelMode, ParallelSettings};
use raw::RawConfig;
use report::Reporter;
use std::path::{Path, PathBuf};

/// The built-in demo: the original's linear-regression demo (SEMANTICS.md §8).
pub const DEMO_CONFIG: &str = include_str!("../../../examples/demo_linear.toml");

/// The name the built-in demo goes by in messages.
pub const DEMO_CONFIG_NAME: &str = "<built-in demo_linear.toml>";

/// Which hand-made algorithm a train budget compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The hand-made linear regressor.
    Linear,
    /// The hand-made 2-layer network.
    NeuralNet,
}

/// A validated experiment: everything a search needs, resolved.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// Where it came from (a path, or [`DEMO_CONFIG_NAME`]).
    pub source: String,
    /// Directory that relative data paths in task specs are resolved against.
    pub base_dir: PathBuf,
    /// The search seed (the CLI's `--seed` overrides it).
    pub seed: u64,
    /// Ops, sizes and memory counts.
    pub space: AlgorithmSpace,
    /// P.
    pub population_size: usize,
    /// T.
    pub tournament_size: usize,
    /// The initial population.
    pub initial_population: InitialPopulation,
    /// Probability that a child is mutated.
    pub mutate_prob: f64,
    /// Allowed mutation types.
    pub mutations: Vec<MutationType>,
    /// Individuals between progress lines (0: none).
    pub progress_every: u64,
    /// Stop an experiment after this many individuals.
    pub max_individuals: Option<u64>,
    /// Stop an experiment after this many train steps.
    pub max_train_steps: Option<u64>,
    /// Stop an experiment once an individual reaches this search fitness.
    pub target_fitness: Option<f64>,
    /// FEC settings, `None` when disabled.
    pub fec: Option<FecSettings>,
    /// Train budget: baseline and threshold factor.
    pub train_budget: Option<(Baseline, f64)>,
    /// The hurdle before the full evaluation, `None` when off (the default, the original's
    /// search).
    pub hurdle: Option<HurdleSettings>,
    /// Most experiments (0: no limit).
    pub max_experiments: u64,
    /// Stop experimenting once the best select fitness exceeds this.
    pub sufficient_fitness: Option<f64>,
    /// Draw fresh task seeds for T_search and T_select per experiment.
    pub randomize_task_seeds: bool,
    /// Wall-clock limit of the whole search, in seconds.
    pub max_seconds: Option<f64>,
    /// How per-task fitnesses combine.
    pub fitness_combination: Combination,
    /// T_search.
    pub search_tasks: Vec<TaskSpec>,
    /// T_select.
    pub select_tasks: Vec<TaskSpec>,
    /// T_final.
    pub final_tasks: Vec<TaskSpec>,
    /// Threads, and how the search uses them (`threads`, `[parallel]`).
    pub parallel: ParallelSettings,
}

/// A config that cannot run: one line, naming the file, line (where known), key and problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// The whole message.
    pub message: String,
}

/// Reads and validates the config file at `path`.
pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        message: format!(
            "{}: cannot read: {}",
            path.display(),
            crate::task::error::io_reason(&e)
        ),
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &path.display().to_string(), &base)
}

/// The built-in demo config.
pub fn demo() -> Experiment {
    parse(DEMO_CONFIG, DEMO_CONFIG_NAME, Path::new(".")).expect("the built-in demo config is valid")
}

/// Parses and validates config `text`; `source` names it in messages, `base_dir` resolves relative
/// data paths.
pub fn parse(text: &str, source: &str, base_dir: &Path) -> Result<Experiment, ConfigError> {
    let c = Reporter { source, text };
    let raw: RawConfig = toml::from_str(text).map_err(|e| c.toml(&e))?;
    let counts = space::memory(&raw.memory, &c)?;
    let initial = evolution::initial_population(&raw.search, &c)?;
    let space = space::space(&raw.ops, &raw.sizes, counts, initial, &c)?;
    evolution::check_handmade(&raw.search, initial, &counts, &c)?;
    let search = evolution::search(&raw.search, &c)?;
    let parallel = parallel::parallel(&raw.threads, &raw.parallel, search.population_size, &c)?;
    let fec = settings::fec(&raw.fec, &c)?;
    let train_budget = settings::train_budget(raw.train_budget.as_ref(), &c)?;
    let hurdle = settings::hurdle(raw.hurdle.as_ref(), &c)?;
    let limits = settings::experiments(&raw.experiments, &c)?;
    let tasks = [
        tasks::collection("search_tasks", raw.search_tasks, &c)?,
        tasks::collection("select_tasks", raw.select_tasks, &c)?,
        tasks::collection("final_tasks", raw.final_tasks, &c)?,
    ];
    let checked = Checked {
        seed: raw.seed,
        space,
        initial,
        search,
        fec,
        train_budget,
        hurdle,
        limits,
        fitness_combination: raw.fitness_combination,
        tasks,
        parallel,
    };
    Ok(checked.into_experiment(source, base_dir))
}

/// What the per-table checks return, before it is laid out as an [`Experiment`].
struct Checked {
    seed: u64,
    space: AlgorithmSpace,
    initial: InitialPopulation,
    search: evolution::SearchSettings,
    fec: Option<FecSettings>,
    train_budget: Option<(Baseline, f64)>,
    hurdle: Option<HurdleSettings>,
    limits: settings::ExperimentLimits,
    fitness_combination: Combination,
    tasks: [Vec<TaskSpec>; 3],
    parallel: ParallelSettings,
}

impl Checked {
    /// The experiment, from `source` with data paths relative to `base_dir`.
    fn into_experiment(self, source: &str, base_dir: &Path) -> Experiment {
        let (s, e) = (self.search, self.limits);
        let [search_tasks, select_tasks, final_tasks] = self.tasks;
        Experiment {
            source: source.to_string(),
            base_dir: base_dir.to_path_buf(),
            seed: self.seed,
            space: self.space,
            population_size: s.population_size,
            tournament_size: s.tournament_size,
            initial_population: self.initial,
            mutate_prob: s.mutate_prob,
            mutations: s.mutations,
            progress_every: s.progress_every,
            max_individuals: s.max_individuals,
            max_train_steps: s.max_train_steps,
            target_fitness: s.target_fitness,
            fec: self.fec,
            train_budget: self.train_budget,
            hurdle: self.hurdle,
            max_experiments: e.max_experiments,
            sufficient_fitness: e.sufficient_fitness,
            randomize_task_seeds: e.randomize_task_seeds,
            max_seconds: e.max_seconds,
            fitness_combination: self.fitness_combination,
            search_tasks,
            select_tasks,
            final_tasks,
            parallel: self.parallel,
        }
    }
}
