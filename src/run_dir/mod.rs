//! Run directories (`amlz search --out DIR`, SEMANTICS.md §9.7): the config as run, a progress log,
//! the best algorithm so far and the summary, every whole file written atomically
//! ([`write_atomic`]), so that a reader (`amlz plot`, a script, a later resume) never sees half of
//! one.
//!
//! `run.json` marks a directory as a run directory and says whether its run finished. A
//! directory that is not empty and has no `run.json` is refused for a new run, and so is one
//! that holds a run; a run that stopped or was killed goes on with [`RunDir::reopen`]
//! (`amlz search --resume DIR`) from `checkpoint.json`, the search's last checkpoint, written
//! with the same helper: a kill during its write leaves the one before.

pub mod atomic;
mod config_as_run;
pub mod record;
mod recorder;

pub use atomic::write_atomic;
pub use config_as_run::{AsRun, config_as_run};
pub use record::{BestRecord, ProgressRecord, RunInfo, RunStatus};
pub use recorder::Recorder;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// `run.json`: the marker and the run's state ([`RunInfo`]).
pub const RUN_INFO: &str = "run.json";
/// `config.toml`: the config as run.
pub const CONFIG: &str = "config.toml";
/// `progress.jsonl`: one [`ProgressRecord`] per line.
pub const PROGRESS: &str = "progress.jsonl";
/// `best.txt`: the best algorithm so far, readable by `amlz eval --algorithm`.
pub const BEST_TXT: &str = "best.txt";
/// `best.json`: the best algorithm so far with its figures ([`BestRecord`]).
pub const BEST_JSON: &str = "best.json";
/// `summary.json`: the summary (SEMANTICS.md §9.4), written at the end.
pub const SUMMARY: &str = "summary.json";
/// `best_algorithm.txt`: the winner, written at the end (the name `--out` always used).
pub const BEST_ALGORITHM: &str = "best_algorithm.txt";
/// `best_algorithm_live.txt`: the winner without dead code, written at the end.
pub const BEST_ALGORITHM_LIVE: &str = "best_algorithm_live.txt";
/// `progress.png`: where `amlz plot` draws by default.
pub const PLOT: &str = "progress.png";
/// `checkpoint.json`: the search's last checkpoint (SEMANTICS.md §9.7).
pub const CHECKPOINT: &str = "checkpoint.json";

/// A run directory that cannot be used or read.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// The directory holds other things than a run.
    #[error(
        "{0}: not an amlz run directory (not empty, and no run.json); choose a new or empty directory"
    )]
    Foreign(PathBuf),
    /// The directory holds a run already.
    #[error("{0}: holds {1} run already; choose a new or empty directory{2}")]
    Taken(PathBuf, &'static str, &'static str),
    /// The directory's run cannot go on.
    #[error("{0}: {1}")]
    NotResumable(PathBuf, String),
    /// The path is not a directory, or does not exist where one must.
    #[error("{0}: {1}")]
    NotADirectory(PathBuf, &'static str),
    /// A file could not be read, written or created.
    #[error("{}: cannot {action}: {reason}", path.display(), reason = crate::task::error::io_reason(source))]
    Io {
        /// The file.
        path: PathBuf,
        /// What was attempted (`read`, `write`, `create`).
        action: &'static str,
        /// Why it failed.
        source: io::Error,
    },
    /// A JSON file or line does not hold what it should.
    #[error("{}{}: {message}", path.display(), line.map_or(String::new(), |l| format!(":{l}")))]
    Bad {
        /// The file.
        path: PathBuf,
        /// The line, in a JSON Lines file.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

impl RunDirError {
    fn io(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> RunDirError {
        let path = path.to_path_buf();
        move |source| RunDirError::Io {
            path,
            action,
            source,
        }
    }
}

/// An open run directory, as `amlz search --out` writes it.
pub struct RunDir {
    root: PathBuf,
    info: RunInfo,
    progress: File,
}

impl RunDir {
    /// Makes `root` a run directory for a new run: checks that it is new, empty or ours and
    /// free, creates it, and writes `config.toml`, `run.json` (status `running`) and an empty
    /// `progress.jsonl`.
    ///
    /// # Errors
    /// [`RunDirError::Foreign`] or [`RunDirError::Taken`] where the directory cannot be used;
    /// I/O errors.
    pub fn create(root: &Path, info: RunInfo, config: &str) -> Result<RunDir, RunDirError> {
        check_free(root)?;
        std::fs::create_dir_all(root).map_err(RunDirError::io(root, "create directory"))?;
        let dir = RunDir {
            root: root.to_path_buf(),
            progress: OpenOptions::new()
                .create(true)
                .append(true)
                .open(root.join(PROGRESS))
                .map_err(RunDirError::io(&root.join(PROGRESS), "create"))?,
            info,
        };
        dir.write(CONFIG, config.as_bytes())?;
        dir.write_info()?;
        Ok(dir)
    }

    /// Opens the run directory `root` to go on with its run: reads `run.json` and the last
    /// checkpoint (returned as its bytes), marks the run `running` again and appends to its
    /// progress log. A run that finished for good, or one without a checkpoint, is refused.
    ///
    /// # Errors
    /// [`RunDirError::NotResumable`] and the errors of reading the files.
    pub fn reopen(root: &Path) -> Result<(RunDir, Vec<u8>), RunDirError> {
        if !root.is_dir() {
            return Err(RunDirError::NotADirectory(
                root.to_path_buf(),
                "no such directory",
            ));
        }
        let mut info = read_info(root)?;
        if info.status == RunStatus::Finished {
            return Err(RunDirError::NotResumable(
                root.to_path_buf(),
                "its run finished (sufficient fitness or its experiment count); nothing to go on with".into(),
            ));
        }
        let path = root.join(CHECKPOINT);
        let checkpoint = std::fs::read(&path).map_err(|e| {
            RunDirError::NotResumable(
                root.to_path_buf(),
                format!(
                    "no checkpoint to go on from ({CHECKPOINT}: {})",
                    crate::task::error::io_reason(&e)
                ),
            )
        })?;
        info.status = RunStatus::Running;
        let dir = RunDir {
            root: root.to_path_buf(),
            progress: OpenOptions::new()
                .append(true)
                .open(root.join(PROGRESS))
                .map_err(RunDirError::io(&root.join(PROGRESS), "open"))?,
            info,
        };
        dir.write_info()?;
        Ok((dir, checkpoint))
    }

    /// Replaces `checkpoint.json` with `bytes`, atomically.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_checkpoint(&self, bytes: &[u8]) -> Result<(), RunDirError> {
        self.write(CHECKPOINT, bytes)
    }

    /// Reads `best.json`, if the run wrote one.
    pub fn read_best(&self) -> Option<BestRecord> {
        let text = std::fs::read_to_string(self.root.join(BEST_JSON)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// What `run.json` says of the run.
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Appends one line to `progress.jsonl` (in one write, so that a reader sees whole lines
    /// but perhaps the last one unfinished).
    ///
    /// # Errors
    /// I/O errors.
    pub fn append_progress(&mut self, record: &ProgressRecord) -> Result<(), RunDirError> {
        let mut line = serde_json::to_string(record).expect("records serialise");
        line.push('\n');
        self.progress
            .write_all(line.as_bytes())
            .map_err(RunDirError::io(&self.root.join(PROGRESS), "write"))
    }

    /// Replaces `best.txt` and `best.json` with `best`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_best(&self, best: &BestRecord) -> Result<(), RunDirError> {
        self.write(BEST_TXT, best.algorithm.as_bytes())?;
        let json = serde_json::to_string_pretty(best).expect("records serialise");
        self.write(BEST_JSON, json.as_bytes())
    }

    /// Ends the run: writes `summary.json` (`summary_json`), `best_algorithm.txt` and
    /// `best_algorithm_live.txt`, and marks `run.json` with `status` (last, so that an ended run
    /// has all its files): [`RunStatus::Finished`], or [`RunStatus::Stopped`] for a run that can
    /// go on.
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(
        &mut self,
        summary_json: &str,
        algorithm: &str,
        algorithm_live: &str,
        status: RunStatus,
    ) -> Result<(), RunDirError> {
        self.progress
            .sync_all()
            .map_err(RunDirError::io(&self.root.join(PROGRESS), "write"))?;
        self.write(SUMMARY, summary_json.as_bytes())?;
        self.write(BEST_ALGORITHM, algorithm.as_bytes())?;
        self.write(BEST_ALGORITHM_LIVE, algorithm_live.as_bytes())?;
        self.info.status = status;
        self.write_info()
    }

    /// Undoes [`RunDir::create`] for a run that could not start (a task file that fails to
    /// load): removes the files it wrote, and the directory if that leaves it empty, so that the
    /// same `--out` can be used again. Best effort; nothing else is touched.
    pub fn abandon(self) {
        drop(self.progress);
        for name in [CONFIG, RUN_INFO, PROGRESS, BEST_TXT, BEST_JSON] {
            let _ = std::fs::remove_file(self.root.join(name));
        }
        let _ = std::fs::remove_dir(&self.root);
    }

    fn write_info(&self) -> Result<(), RunDirError> {
        let json = serde_json::to_string_pretty(&self.info).expect("records serialise");
        self.write(RUN_INFO, json.as_bytes())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), RunDirError> {
        let path = self.root.join(name);
        write_atomic(&path, bytes).map_err(RunDirError::io(&path, "write"))
    }
}

/// Checks that a new run may use `root`: it does not exist, or is an empty directory.
fn check_free(root: &Path) -> Result<(), RunDirError> {
    if !root.exists() {
        return Ok(());
    }
    if !root.is_dir() {
        return Err(RunDirError::NotADirectory(
            root.to_path_buf(),
            "exists and is not a directory",
        ));
    }
    let mut entries = std::fs::read_dir(root).map_err(RunDirError::io(root, "read directory"))?;
    if entries.next().is_none() {
        return Ok(());
    }
    match read_info(root) {
        Ok(info) if info.status == RunStatus::Finished => {
            Err(RunDirError::Taken(root.to_path_buf(), "a finished", ""))
        }
        Ok(_) => Err(RunDirError::Taken(
            root.to_path_buf(),
            "an unfinished (stopped, running or killed)",
            ", or go on with it: --resume DIR",
        )),
        Err(_) => Err(RunDirError::Foreign(root.to_path_buf())),
    }
}

/// Reads `root/run.json`.
///
/// # Errors
/// If it cannot be read or is not a run directory's `run.json`.
pub fn read_info(root: &Path) -> Result<RunInfo, RunDirError> {
    let path = root.join(RUN_INFO);
    let text = std::fs::read_to_string(&path).map_err(RunDirError::io(&path, "read"))?;
    let info: RunInfo = serde_json::from_str(&text).map_err(|e| RunDirError::Bad {
        path: path.clone(),
        line: None,
        message: e.to_string(),
    })?;
    if info.format != record::FORMAT {
        return Err(RunDirError::Bad {
            path,
            line: None,
            message: format!("format {:?}, expected {:?}", info.format, record::FORMAT),
        });
    }
    Ok(info)
}

/// Reads `root/progress.jsonl`. A last line without its newline that does not parse is being
/// written (or was cut by a kill) and is left out; any other bad line is an error naming it.
///
/// # Errors
/// If the directory or the file is missing or unreadable, or a line is bad.
pub fn read_progress(root: &Path) -> Result<Vec<ProgressRecord>, RunDirError> {
    if !root.is_dir() {
        return Err(RunDirError::NotADirectory(
            root.to_path_buf(),
            "no such directory",
        ));
    }
    let path = root.join(PROGRESS);
    let text = std::fs::read_to_string(&path).map_err(RunDirError::io(&path, "read"))?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => records.push(r),
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => {
                return Err(RunDirError::Bad {
                    path,
                    line: Some(i + 1),
                    message: format!("not a progress record: {e}"),
                });
            }
        }
    }
    Ok(records)
}
