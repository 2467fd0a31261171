//! Experiments (SEMANTICS.md §8): configs, the T_search / T_select / T_final loop, and summaries.

pub mod checkpoint;
pub mod config;
pub mod runner;
pub mod summary;

pub use config::{ConfigError, Experiment};
pub use runner::{Event, RunError, RunOptions, run};
pub use summary::{ExperimentRecord, Summary};
