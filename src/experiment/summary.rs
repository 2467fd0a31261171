//! The machine-readable summary of a search (`amlz search --summary-json`).

use crate::baselines::FinalReport;
use crate::search::IslandFigures;
use serde::{Deserialize, Serialize};

/// One experiment's figures.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExperimentRecord {
    /// Index, from 1.
    pub index: u64,
    /// Individuals evaluated.
    pub individuals: u64,
    /// Train steps of the search, counted as the original AutoML-Zero counts them: every train
    /// example started, in fingerprints and full evaluations (what `max_train_steps` bounds).
    pub train_steps: u64,
    /// Seconds of evolution.
    pub seconds: f64,
    /// Individuals per second.
    pub individuals_per_second: f64,
    /// FEC hit rate.
    pub fec_hit_rate: f64,
    /// The population's best search fitness at the end.
    pub search_fitness: f64,
    /// That individual's select fitness.
    pub select_fitness: f64,
    /// Structures compiled to native code (JIT executors).
    pub jit_compiled: u64,
    /// Structures whose compilation failed and ran in the interpreter instead.
    pub jit_fallbacks: u64,
    /// Per-task evaluations (fingerprints and full) that ran native code.
    pub native_evaluations: u64,
    /// Per-task evaluations (fingerprints and full) that ran in the interpreter's multi-task
    /// lanes; the rest of the per-task evaluations ran in the interpreter one task at a time.
    #[serde(default)]
    pub lane_evaluations: u64,
    /// Per-task evaluations (fingerprints and full) on any executor.
    #[serde(default)]
    pub task_evaluations: u64,
    /// The share of per-task evaluations that found compiled code ready
    /// (`native_evaluations / task_evaluations`; 0 before any).
    #[serde(default)]
    pub compile_cache_hit_rate: f64,
    /// Wall seconds spent compiling (on search threads for `jit`, on the compile thread for
    /// `auto`).
    #[serde(default)]
    pub jit_compile_seconds: f64,
    /// Why the evolution stopped (`individuals`, `trainsteps`, `time`, `target`, `interrupted`).
    pub stop_reason: String,
    /// Migration rounds between its islands.
    pub migrations: u64,
    /// Candidates that fell below the hurdle and went no further (0 without one).
    #[serde(default)]
    pub hurdle_stops: u64,
    /// Each island's figures (one island when it ran alone).
    pub per_island: Vec<IslandFigures>,
}

/// The summary of a whole search. Field names are a public interface: scripts read them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// The config's path, or the built-in demo's name.
    pub config: String,
    /// The search seed.
    pub seed: u64,
    /// Experiments run.
    pub experiments: u64,
    /// Individuals evaluated over all experiments.
    pub individuals: u64,
    /// Train steps over all experiments (each as [`ExperimentRecord::train_steps`]).
    pub train_steps: u64,
    /// Wall-clock seconds of the whole search, final evaluation included.
    pub seconds: f64,
    /// `individuals / seconds`.
    pub individuals_per_second: f64,
    /// FEC hit rate over all evaluations.
    pub fec_hit_rate: f64,
    /// The winner's search fitness.
    pub best_search_fitness: f64,
    /// The winner's select fitness (the best over experiments).
    pub best_select_fitness: f64,
    /// The winner's fitness on T_final.
    pub final_fitness: f64,
    /// Seconds until the best select fitness first exceeded `sufficient_fitness`; null if never.
    pub seconds_to_sufficient: Option<f64>,
    /// The winner in the readable format (NoOps left out).
    pub algorithm: String,
    /// The winner with its dead code removed: the same predictions and fitness, easier to read.
    pub algorithm_live: String,
    /// Per-experiment figures.
    pub per_experiment: Vec<ExperimentRecord>,
    /// Threads per process.
    pub threads: u64,
    /// MPI ranks (1 without MPI).
    pub ranks: u64,
    /// How threads and ranks were used: `islands` or `experiments`.
    pub mode: String,
    /// Migration rounds over all experiments.
    pub migrations: u64,
    /// When every T_final task is scored by accuracy: the winner's per-task accuracy on T_final,
    /// mean and spread, beside logistic regression and the 2-layer network tuned on the same
    /// tasks (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_report: Option<FinalReport>,
}
