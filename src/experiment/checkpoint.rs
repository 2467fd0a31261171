//! Checkpoints of a whole search (SEMANTICS.md §9.7): what a resumed run needs to reach exactly
//! the result of a run that was never stopped. A checkpoint holds the run's state as of the start
//! of the experiment (or batch of experiments) in progress — generators, finished experiments,
//! the best so far, counters — and, in islands mode, that experiment's islands at a round's end
//! (populations, generators, FEC caches, counters). Compiled code and the JIT tier's hotness are
//! left out: they change which executor runs an evaluation, never its result.
//!
//! Checkpoints are JSON; algorithms travel in the readable format and every float whose bits
//! matter as its bits, so a checkpoint read back is the state that was written.

use super::summary::ExperimentRecord;
use crate::search::Individual;
use crate::search::islands::IslandsSnapshot;
use amlz_ir::Rng;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// The format version written in every checkpoint; a checkpoint of another version is refused.
/// Format 2: FEC keys hash each task's errors in a chain of its own (SEMANTICS.md §7), so the
/// cache of a format-1 checkpoint would answer no fingerprint of this amlz.
pub const CHECKPOINT_FORMAT: u32 = 2;

/// The run's state between two experiments (or batches).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The generator experiments draw their evolution seeds from.
    pub rng: Rng,
    /// The generator of the experiments' task seeds.
    pub task_seed_rng: Rng,
    /// Experiments drawn so far.
    pub index: u64,
    /// The finished experiments' records, in order.
    pub records: Vec<ExperimentRecord>,
    /// The best so far and `f64::to_bits` of its select fitness.
    pub best: Option<(Individual, u64)>,
    /// Individuals of the finished experiments.
    pub individuals: u64,
    /// Train steps of the finished experiments.
    pub train_steps: u64,
    /// Migrations of the finished experiments.
    pub migrations: u64,
    /// `f64::to_bits` of the sum of FEC hit rate × evaluations, and the evaluations.
    pub fec_weighted: (u64, u64),
    /// When the sufficient fitness was reached, if it was.
    pub seconds_to_sufficient: Option<f64>,
    /// Seconds the run had taken.
    pub elapsed_seconds: f64,
    /// Whether the search had ended for good (sufficient fitness or the experiment count):
    /// such a run cannot be resumed.
    pub finished: bool,
}

/// When a resumed run's clock started: `elapsed_seconds` (a checkpoint's) before now, so that
/// its times and its deadline count the whole run.
pub fn clock_start(elapsed_seconds: f64) -> Instant {
    let now = Instant::now();
    now.checked_sub(Duration::from_secs_f64(elapsed_seconds.max(0.0)))
        .unwrap_or(now)
}

/// A checkpoint as read back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`CHECKPOINT_FORMAT`].
    pub format: u32,
    /// The search seed.
    pub seed: u64,
    /// The run's state as of the start of the experiment in progress.
    pub run: RunState,
    /// The experiment in progress, at a round's end (islands mode); `None` between experiments.
    pub experiment: Option<IslandsSnapshot>,
}

/// A checkpoint as the search hands it out, by reference to its parts (written as
/// [`Checkpoint`] reads).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckpointView<'a> {
    /// [`CHECKPOINT_FORMAT`].
    pub format: u32,
    /// The search seed.
    pub seed: u64,
    /// The run's state as of the start of the experiment in progress.
    pub run: &'a RunState,
    /// The experiment in progress, if any.
    pub experiment: Option<&'a IslandsSnapshot>,
}

/// A checkpoint that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not a checkpoint, or a damaged one.
    #[error("not an amlz checkpoint: {0}")]
    Parse(String),
    /// Written by another format version.
    #[error("checkpoint format {found}, this amlz reads format {CHECKPOINT_FORMAT}")]
    Format {
        /// The version found.
        found: u32,
    },
}

impl CheckpointView<'_> {
    /// The checkpoint as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a checkpoint serializes")
    }
}

impl Checkpoint {
    /// Reads a checkpoint written by [`CheckpointView::to_json`].
    ///
    /// # Errors
    /// If the bytes are not a checkpoint of this format.
    pub fn from_json(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let v: Version =
            serde_json::from_slice(bytes).map_err(|e| CheckpointError::Parse(e.to_string()))?;
        if v.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::Format { found: v.format });
        }
        serde_json::from_slice(bytes).map_err(|e| CheckpointError::Parse(e.to_string()))
    }
}
