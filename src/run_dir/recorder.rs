//! [`Recorder`]: a search's events written into its run directory as they happen.

use super::{BestRecord, CHECKPOINT, ProgressRecord, RunDir, RunDirError, RunStatus};
use crate::experiment::{Event, Summary};
use std::time::Instant;

/// Writes a running search's events into a [`RunDir`]: a `progress.jsonl` line per progress
/// report, `best.txt` and `best.json` whenever the kept algorithm changes, `checkpoint.json` at
/// each checkpoint, the summary at the end. The first write that fails stops the writing; the
/// error is kept for [`Recorder::finish`].
pub struct Recorder {
    dir: RunDir,
    start: Instant,
    /// Individuals of the experiments that have ended.
    done: u64,
    best: Option<BestRecord>,
    error: Option<RunDirError>,
    /// Whether a progress line or a best algorithm was written.
    wrote: bool,
    /// Checkpoints written, and whether the last one said that the search had ended for good.
    checkpoints: u64,
    last_finished: Option<bool>,
}

/// A test hook: with `AMLZ_CHECKPOINT_STALL_AT=N`, the N-th checkpoint write stops half way
/// through its temporary file and waits there forever, so that a test can kill the process in
/// the middle of a checkpoint write (tests/run_dir.rs). Unset, nothing happens.
const STALL_HOOK: &str = "AMLZ_CHECKPOINT_STALL_AT";

impl Recorder {
    /// A recorder into `dir` for a run that started at `start`.
    pub fn new(dir: RunDir, start: Instant) -> Recorder {
        Recorder {
            dir,
            start,
            done: 0,
            best: None,
            error: None,
            wrote: false,
            checkpoints: 0,
            last_finished: None,
        }
    }

    /// A recorder into the reopened `dir` of a run that goes on: its clock and counts continue
    /// from the checkpoint (`elapsed` seconds, `done` individuals of ended experiments), and
    /// its best so far is the one `best.json` holds.
    pub fn resumed(dir: RunDir, elapsed: f64, done: u64) -> Recorder {
        let start = crate::experiment::checkpoint::clock_start(elapsed);
        let best = dir.read_best();
        Recorder {
            best,
            done,
            wrote: true,
            ..Recorder::new(dir, start)
        }
    }

    /// Records one event. Returns the error of the write that failed first, once (the caller
    /// may warn); later events are not written.
    pub fn event(&mut self, event: &Event<'_>) -> Option<&RunDirError> {
        if self.error.is_some() {
            return None;
        }
        self.wrote |= matches!(event, Event::Progress { .. } | Event::NewBest { .. });
        let result = match event {
            Event::ExperimentStart { .. } => Ok(()),
            Event::Checkpoint(view) => {
                self.checkpoints += 1;
                self.last_finished = Some(view.run.finished);
                let bytes = view.to_json();
                stall_for_test(self.dir.path(), self.checkpoints, &bytes);
                self.dir.write_checkpoint(&bytes)
            }
            Event::Progress {
                experiment,
                progress: p,
            } => {
                let c = p.counters;
                self.dir.append_progress(&ProgressRecord {
                    experiment: *experiment,
                    individuals: p.individuals,
                    run_individuals: self.done + p.individuals,
                    elapsed_s: p.elapsed.as_secs_f64(),
                    run_seconds: self.start.elapsed().as_secs_f64(),
                    individuals_per_second: p.individuals_per_second,
                    best: p.best,
                    mean: p.mean,
                    stdev: p.stdev,
                    fec_hit_rate: c.and_then(|c| c.fec_hit_rate()),
                    compile_cache_hit_rate: c.and_then(|c| c.native_rate()),
                })
            }
            Event::ExperimentEnd(r) => {
                self.done += r.individuals;
                Ok(())
            }
            Event::NewBest {
                experiment,
                best,
                select_fitness,
            } => {
                let record = BestRecord {
                    experiment: *experiment,
                    run_individuals: self.done,
                    run_seconds: self.start.elapsed().as_secs_f64(),
                    search_fitness: best.fitness,
                    select_fitness: *select_fitness,
                    final_fitness: None,
                    algorithm: amlz_ir::print_algorithm(&crate::experiment::runner::strip_no_ops(
                        &best.algorithm,
                    )),
                    algorithm_live: amlz_ir::print_algorithm(
                        &amlz_ir::analysis::eliminate_dead_code(&best.algorithm),
                    ),
                };
                let written = self.dir.write_best(&record);
                self.best = Some(record);
                written
            }
        };
        self.error = result.err();
        self.error.as_ref()
    }

    /// For a run that failed: undoes the run directory ([`RunDir::abandon`]) if nothing of the
    /// search was written yet (it failed to start); else leaves it, unfinished, for a look.
    pub fn abandon(self) {
        if !self.wrote {
            self.dir.abandon();
        }
    }

    /// Ends the run: `best.json` gets the final fitness, then the summary and the end-of-run
    /// files are written and `run.json` is marked finished.
    ///
    /// # Errors
    /// The first write that failed, during the run or now.
    pub fn finish(mut self, summary: &Summary, summary_json: &str) -> Result<(), RunDirError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some(best) = &mut self.best {
            best.final_fitness = Some(summary.final_fitness);
            self.dir.write_best(best)?;
        }
        // A run whose last checkpoint can go on (Ctrl-C, the time limit) is stopped, not done.
        let status = match self.last_finished {
            Some(false) => RunStatus::Stopped,
            _ => RunStatus::Finished,
        };
        self.dir.finish(
            summary_json,
            &summary.algorithm,
            &summary.algorithm_live,
            status,
        )
    }
}

/// The [`STALL_HOOK`]: at the chosen checkpoint, writes half of `bytes` to a temporary file as
/// [`super::write_atomic`] would, and waits to be killed.
fn stall_for_test(root: &std::path::Path, n: u64, bytes: &[u8]) {
    let Some(at) = std::env::var(STALL_HOOK)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    if n != at {
        return;
    }
    let tmp = root.join(format!(".{CHECKPOINT}.tmp-{}-stalled", std::process::id()));
    if std::fs::write(&tmp, &bytes[..bytes.len() / 2]).is_ok() {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}
