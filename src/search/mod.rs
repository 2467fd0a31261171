//! The search: regularized evolution over algorithms (SEMANTICS.md §7).

pub mod evaluation;
pub mod evolution;
pub mod fec_cache;
pub mod fingerprint_memo;
pub mod generator;
pub mod hurdle;
pub mod islands;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod mutator;
pub mod round_board;
pub mod space;
pub mod train_budget;
pub mod transport;

pub use evaluation::{EvaluationStats, FecSettings, SearchEvaluator};
pub use evolution::{
    Evolution, EvolutionResult, EvolutionSettings, Individual, Progress, SearchCounters,
    StopReason, StopRule,
};
pub use fec_cache::FecCache;
pub use generator::{InitialPopulation, generate};
pub use hurdle::{Hurdle, HurdleSettings};
pub use islands::{CachePadded, IslandFigures, Islands, IslandsResult, Migration};
pub use mutator::{MutationType, Mutator};
pub use space::{AlgorithmSpace, FunctionSpace};
pub use train_budget::TrainBudget;
pub use transport::{Local, Transport, TransportError};
