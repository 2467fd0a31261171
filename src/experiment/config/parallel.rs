//! The top-level `threads` key and the `[parallel]` table: how many threads a search uses and
//! how (islands or parallel experiments, SEMANTICS.md §7 and §8).

use super::ConfigError;
use super::raw::{Given, Opt, RawParallel};
use super::report::Reporter;

/// How a search uses its threads (and MPI ranks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParallelMode {
    /// One experiment at a time, its evolution split over islands with migration.
    Islands,
    /// Independent experiments side by side, in batches.
    Experiments,
}

impl ParallelMode {
    /// The name in configs and summaries.
    pub fn name(self) -> &'static str {
        match self {
            ParallelMode::Islands => "islands",
            ParallelMode::Experiments => "experiments",
        }
    }
}

/// The mode when the config names none: switch it here (SEMANTICS.md §9.3 documents it).
pub const DEFAULT_MODE: ParallelMode = ParallelMode::Islands;

/// Individuals per island between migration rounds, by default.
pub const DEFAULT_MIGRATION_EVERY: u64 = 10_000;

/// Most threads a config may ask for.
pub const MAX_THREADS: i64 = 4096;

/// `[parallel]` and `threads`, checked, defaults applied (except those that depend on P or the
/// machine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParallelSettings {
    /// Threads per process; `None`: all cores (or `--threads`).
    pub threads: Option<usize>,
    /// Islands or experiments.
    pub mode: ParallelMode,
    /// Individuals per island between migration rounds.
    pub migration_every: u64,
    /// Members each island sends and receives per round; `None`: half the population.
    pub migration_size: Option<usize>,
}

/// Checks `threads` (1 to [`MAX_THREADS`]) and `[parallel]` (a known mode, `migration_every`
/// ≥ 1, `migration_size` 0 to P).
pub(super) fn parallel(
    threads: &Opt<i64>,
    raw: &RawParallel,
    population_size: usize,
    c: &Reporter,
) -> Result<ParallelSettings, ConfigError> {
    let threads = match threads {
        Some(t) if !(1..=MAX_THREADS).contains(t.get_ref()) => {
            let problem = format!(
                "{} is not allowed (allowed: 1 to {MAX_THREADS})",
                t.get_ref()
            );
            return Err(c.err(Some(t.span()), "", "threads", problem));
        }
        Some(t) => Some(*t.get_ref() as usize),
        None => None,
    };
    let mode = match &raw.mode {
        None => DEFAULT_MODE,
        Some(m) => match m.get_ref().as_str() {
            "islands" => ParallelMode::Islands,
            "experiments" => ParallelMode::Experiments,
            other => {
                let problem = format!("unknown value \"{other}\" (allowed: islands, experiments)");
                return Err(c.err(Some(m.span()), "parallel", "mode", problem));
            }
        },
    };
    let every = Given::or(&raw.migration_every, DEFAULT_MIGRATION_EVERY as i64);
    let every = c.at_least_one(&every, "parallel", "migration_every")?;
    let migration_size = match &raw.migration_size {
        Some(s) if !(0..=population_size as i64).contains(s.get_ref()) => {
            let problem = format!(
                "{} is not allowed (allowed: 0 to search.population_size, {population_size})",
                s.get_ref()
            );
            return Err(c.err(Some(s.span()), "parallel", "migration_size", problem));
        }
        Some(s) => Some(*s.get_ref() as usize),
        None => None,
    };
    Ok(ParallelSettings {
        threads,
        mode,
        migration_every: every as u64,
        migration_size,
    })
}
