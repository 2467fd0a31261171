//! The JSON records of a run directory (SEMANTICS.md §9.7), written by `amlz search --out` and
//! read by `amlz plot`.

use serde::{Deserialize, Serialize};

/// The format name in `run.json`.
pub const FORMAT: &str = "amlz-run";

/// The layout version in `run.json`.
pub const VERSION: u64 = 1;

/// Whether the run that owns a directory has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Started and not finished: still running, or killed.
    Running,
    /// Ended for good and wrote its summary.
    Finished,
    /// Ended by Ctrl-C or the time limit and wrote its summary, with a checkpoint to go on from
    /// (`amlz search --resume DIR`).
    Stopped,
}

/// `run.json`: what marks a directory as a run directory, and the run's stop conditions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Always [`FORMAT`].
    pub format: String,
    /// The layout version, [`VERSION`].
    pub version: u64,
    /// Whether the run has finished.
    pub status: RunStatus,
    /// The amlz version that wrote it.
    pub amlz_version: String,
    /// The config's path, or the built-in demo's name.
    pub config: String,
    /// The search seed.
    pub seed: u64,
    /// Threads per process.
    pub threads: u64,
    /// `search.max_individuals` (per experiment), if any.
    pub max_individuals: Option<u64>,
    /// `experiments.max_experiments` (0: no limit).
    pub max_experiments: u64,
    /// The run's wall-clock limit in seconds, if any.
    pub max_seconds: Option<f64>,
    /// `experiments.sufficient_fitness`, if any.
    pub sufficient_fitness: Option<f64>,
}

/// One line of `progress.jsonl`: one progress report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgressRecord {
    /// The experiment, from 1.
    pub experiment: u64,
    /// Individuals evaluated so far in this experiment.
    pub individuals: u64,
    /// Individuals evaluated so far in the whole run (earlier experiments included).
    pub run_individuals: u64,
    /// Seconds since this experiment's evolution started.
    pub elapsed_s: f64,
    /// Seconds since the run started.
    pub run_seconds: f64,
    /// Individuals per second in this experiment.
    pub individuals_per_second: f64,
    /// The population's best search fitness.
    pub best: f64,
    /// The population's mean search fitness.
    pub mean: f64,
    /// The population's standard deviation of search fitness.
    pub stdev: f64,
    /// FEC hits per lookup so far in this experiment (null: FEC off, or not reported).
    pub fec_hit_rate: Option<f64>,
    /// The share of per-task runs that found compiled code ready (null: not reported).
    pub compile_cache_hit_rate: Option<f64>,
}

/// `best.json`: the kept algorithm so far (the best on T_select over the experiments run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestRecord {
    /// The experiment that found it.
    pub experiment: u64,
    /// Individuals evaluated in the run when it was kept.
    pub run_individuals: u64,
    /// Seconds since the run started when it was kept.
    pub run_seconds: f64,
    /// Its search fitness.
    pub search_fitness: f64,
    /// Its select fitness.
    pub select_fitness: f64,
    /// Its fitness on T_final: null until the run has finished.
    pub final_fitness: Option<f64>,
    /// The algorithm in the readable format, NoOps left out (the text of `best.txt`).
    pub algorithm: String,
    /// The algorithm without dead code.
    pub algorithm_live: String,
}
