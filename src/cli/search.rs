//! `amlz search`: run an experiment config (the built-in demo by default).

use super::CliError;
use amlz::exec::ExecutorChoice;
use amlz::experiment::checkpoint::{Checkpoint, RunState};
use amlz::experiment::{self, Experiment, RunOptions, Summary};
use amlz::progress_display::{ProgressDisplay, StopLimits, Verbosity};
use amlz::run_dir::{self, AsRun, Recorder, RunDir, RunInfo, RunStatus};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `amlz search`.
#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Experiment config (TOML). Without it, the built-in demo (examples/demo_linear.toml) runs.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Search seed (overrides the config's `seed`).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Wall-clock limit of the whole search, in seconds.
    #[arg(long, value_name = "S")]
    max_seconds: Option<f64>,
    /// Run directory (created if missing; must be new or empty): the config as run
    /// (`config.toml`), a progress log (`progress.jsonl`), the best algorithm so far (`best.txt`,
    /// `best.json`), checkpoints (`checkpoint.json`, see --checkpoint-every), and at the end the
    /// summary (`summary.json`) and the winner
    /// (`best_algorithm.txt`, without its dead code `best_algorithm_live.txt`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write the summary as one JSON object to FILE.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// Which executor runs evaluations: `interp`, `jit` (forced), or `auto` (the JIT for
    /// structures and evaluations whose work passes the break-even measured on this machine,
    /// compiled in the background). Results are the same bit for bit.
    #[arg(long, value_enum, default_value_t = ExecutorChoice::Auto)]
    executor: ExecutorChoice,
    /// Threads to use (overrides the config's `threads`; default: every core). How they are
    /// used is the config's `[parallel] mode`: islands of one experiment, or experiments side by
    /// side. With 1, the single-threaded search.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Go on with the run of run directory DIR (stopped by Ctrl-C or the time limit, or killed)
    /// from its last checkpoint, with the config, seed and threads it ran with; `--max-seconds`
    /// given here replaces the run's limit (which counts the whole run). The result is the one
    /// the run would have reached had it never stopped.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "seed", "threads", "out"])]
    resume: Option<PathBuf>,
    /// Seconds between two checkpoints of the run directory (`checkpoint.json`; default 60).
    /// Ctrl-C and the time limit write one too.
    #[arg(long, value_name = "S")]
    checkpoint_every: Option<f64>,
    /// Run every candidate's FEC fingerprint instead of reusing the fingerprint of a candidate
    /// seen before with the same live Predict and Learn and the same Setup effect (the
    /// structural shortcut): the same search, slower; for measurements.
    #[arg(long)]
    no_shortcut: bool,
    /// Print only the final result (no progress).
    #[arg(long, short, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more while running: each island's figures at an experiment's end, each new best.
    #[arg(long, short)]
    verbose: bool,
}

/// Raised by the first Ctrl-C: every evolution stops at its next individual.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler: the first SIGINT raises [`INTERRUPTED`] (the search then ends and
/// still reports); a second one exits at once with status 130.
fn install_interrupt() -> Option<&'static AtomicBool> {
    ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("amlz search: interrupted; stopping (Ctrl-C again to quit at once)");
    })
    .ok()
    .map(|()| &INTERRUPTED)
}

/// A run directory's run to go on with: the directory, its config as run, and its checkpoint.
struct Resume {
    dir: RunDir,
    experiment: Experiment,
    checkpoint: Checkpoint,
}

/// Opens `--resume DIR`.
fn open_resume(root: &Path) -> Result<Resume, CliError> {
    let (dir, bytes) = RunDir::reopen(root).map_err(CliError::input)?;
    let checkpoint = Checkpoint::from_json(&bytes).map_err(|e| {
        CliError::input(format!("{}: {e}", root.join(run_dir::CHECKPOINT).display()))
    })?;
    let config = root.join(run_dir::CONFIG);
    let mut experiment = experiment::config::load(&config).map_err(CliError::input)?;
    // The summary names the config the run began with, as the uninterrupted run's does.
    experiment.source = dir.info().config.clone();
    Ok(Resume {
        dir,
        experiment,
        checkpoint,
    })
}

/// The experiment to run and the config text it came from (for the run directory's copy).
fn load(args: &SearchArgs) -> Result<(Experiment, String), CliError> {
    match &args.config {
        Some(path) => {
            let experiment = experiment::config::load(path).map_err(CliError::input)?;
            // Read again for the run directory: the config loaded above was read from it.
            let text = std::fs::read_to_string(path).unwrap_or_default();
            Ok((experiment, text))
        }
        None => Ok((
            experiment::config::demo(),
            experiment::config::DEMO_CONFIG.to_string(),
        )),
    }
}

/// The run's wall-clock limit: the smaller of `--max-seconds` and the config's.
fn max_seconds(experiment: &Experiment, options: &RunOptions) -> Option<f64> {
    match (options.max_seconds, experiment.max_seconds) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Opens the run directory of `--out` for a new run.
fn open_run_dir(
    dir: &Path,
    experiment: &Experiment,
    text: &str,
    options: &RunOptions,
    threads: usize,
) -> Result<(RunDir, Option<RunState>), CliError> {
    let seed = options.seed.unwrap_or(experiment.seed);
    let max_seconds = max_seconds(experiment, options);
    let as_run = AsRun {
        seed,
        threads,
        max_seconds,
    };
    let config = run_dir::config_as_run(text, &experiment.source, &experiment.base_dir, as_run)
        .map_err(|e| CliError::input(format!("{}: {e}", experiment.source)))?;
    let info = RunInfo {
        format: run_dir::record::FORMAT.to_string(),
        version: run_dir::record::VERSION,
        status: RunStatus::Running,
        amlz_version: env!("CARGO_PKG_VERSION").to_string(),
        config: experiment.source.clone(),
        seed,
        threads: threads as u64,
        max_individuals: experiment.max_individuals,
        max_experiments: experiment.max_experiments,
        max_seconds,
        sufficient_fitness: experiment.sufficient_fitness,
    };
    RunDir::create(dir, info, &config)
        .map(|d| (d, None))
        .map_err(CliError::input)
}

/// The verbosity of `--quiet` / `--verbose`.
fn verbosity(args: &SearchArgs) -> Verbosity {
    match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    }
}

/// Checks that `value` of `flag` is a positive number of seconds.
fn positive_seconds(flag: &str, value: Option<f64>) -> Result<(), CliError> {
    match value {
        Some(s) if s.is_nan() || s <= 0.0 => Err(CliError::input(format!(
            "{flag}: {s} is not allowed (allowed: a positive number)"
        ))),
        _ => Ok(()),
    }
}

/// Runs `amlz search`.
pub fn run(args: &SearchArgs) -> Result<ExitCode, CliError> {
    positive_seconds("--max-seconds", args.max_seconds)?;
    positive_seconds("--checkpoint-every", args.checkpoint_every)?;
    let mut resume = args.resume.as_deref().map(open_resume).transpose()?;
    let (experiment, text) = match &mut resume {
        Some(r) => {
            let mut experiment = r.experiment.clone();
            if args.max_seconds.is_some() {
                // The override replaces the run's limit rather than tightening it.
                experiment.max_seconds = None;
            }
            (experiment, String::new())
        }
        None => load(args)?,
    };
    let records_dir = args.out.is_some() || resume.is_some();
    let options = RunOptions {
        seed: args.seed,
        max_seconds: args.max_seconds,
        executor: args.executor,
        threads: args.threads.map(|t| t as usize),
        interrupt: install_interrupt(),
        checkpoint_every: records_dir
            .then(|| Duration::from_secs_f64(args.checkpoint_every.unwrap_or(60.0))),
        resume: resume.as_ref().map(|r| r.checkpoint.clone()),
        no_shortcut: args.no_shortcut,
    };
    let mut transport = amlz::search::transport::process_transport().map_err(CliError::failure)?;
    let transport = transport.as_mut();
    let rank0 = transport.rank() == 0;
    let threads = experiment::runner::thread_count(&experiment, &options);
    let run_dir = match (&args.out, resume) {
        (Some(dir), _) if rank0 => Some(open_run_dir(dir, &experiment, &text, &options, threads)?),
        (None, Some(r)) if rank0 => Some((r.dir, Some(r.checkpoint.run))),
        _ => None,
    };
    let verbosity = if rank0 {
        verbosity(args)
    } else {
        Verbosity::Quiet
    };
    if verbosity != Verbosity::Quiet {
        eprintln!(
            "amlz search: {} (seed {}, {} thread{}{}, {})",
            experiment.source,
            options.seed.unwrap_or(experiment.seed),
            threads,
            if threads == 1 { "" } else { "s" },
            match transport.ranks() {
                1 => String::new(),
                r => format!(" × {r} ranks"),
            },
            experiment.parallel.mode.name(),
        );
    }
    let limits = StopLimits {
        max_individuals: experiment.max_individuals,
        max_experiments: experiment.max_experiments,
        deadline: max_seconds(&experiment, &options)
            .map(|s| Instant::now() + Duration::from_secs_f64(s)),
    };
    let mut display = ProgressDisplay::new(verbosity, limits);
    // The search's own clock starts now: the run directory's times follow the summary's.
    let mut recorder = run_dir.map(|(dir, resumed)| match resumed {
        Some(run) => Recorder::resumed(dir, run.elapsed_seconds, run.individuals),
        None => Recorder::new(dir, Instant::now()),
    });
    let result = experiment::runner::run_with(&experiment, &options, transport, |event| {
        display.event(&event);
        if let Some(e) = recorder.as_mut().and_then(|r| r.event(&event)) {
            display.println(&format!(
                "amlz search: warning: {e}; the run directory is no longer written"
            ));
        }
    });
    display.finish();
    if result.is_err()
        && let Some(r) = recorder.take()
    {
        r.abandon();
    }
    let summary = result.map_err(|e| {
        if transport.ranks() > 1 {
            // The other ranks may wait in a round: end the whole job rather than hang it.
            eprintln!("amlz: error: rank {}: {e}", transport.rank());
            transport.abort(2);
        }
        CliError::input(e)
    })?;
    if !rank0 {
        return Ok(ExitCode::SUCCESS);
    }

    let json = serde_json::to_string_pretty(&summary).expect("summaries serialise");
    if let Some(path) = &args.summary_json {
        std::fs::write(path, &json)
            .map_err(|e| CliError::failure(format!("{}: cannot write: {e}", path.display())))?;
    }
    print_result(&summary);
    if let Some(recorder) = recorder {
        recorder
            .finish(&summary, &json)
            .map_err(CliError::failure)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The final result on stdout.
fn print_result(summary: &Summary) {
    println!(
        "experiments {} | individuals {} | {:.1} s | {:.0} ind/s | FEC hit rate {:.1}%",
        summary.experiments,
        summary.individuals,
        summary.seconds,
        summary.individuals_per_second,
        100.0 * summary.fec_hit_rate
    );
    match summary.seconds_to_sufficient {
        Some(s) => println!("sufficient fitness reached after {s:.1} s"),
        None => println!("sufficient fitness not reached"),
    }
    println!(
        "best search fitness {:.6} | select fitness {:.6} | final fitness {:.6}",
        summary.best_search_fitness, summary.best_select_fitness, summary.final_fitness
    );
    if let Some(report) = &summary.final_report {
        print!("{report}");
    }
    println!("best algorithm (dead code removed; the whole genome is in the summary and --out):");
    print!("{}", summary.algorithm_live);
}
