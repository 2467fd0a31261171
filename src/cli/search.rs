//! `amlz search`: run an experiment config (the built-in demo by default).

use super::CliError;
use amlz::exec::ExecutorChoice;
use amlz::experiment::{self, Event, RunOptions};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// Directory to save the best algorithm (`best_algorithm.txt`, and without its dead code
    /// `best_algorithm_live.txt`) and the summary (`summary.json`) in; created if missing.
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
    /// Print no progress lines.
    #[arg(long, short)]
    quiet: bool,
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
        eprintln!(
            "amlz search: interrupted; stopping at the next individual (Ctrl-C again to quit)"
        );
    })
    .ok()
    .map(|()| &INTERRUPTED)
}

/// Runs `amlz search`.
pub fn run(args: &SearchArgs) -> Result<ExitCode, CliError> {
    let experiment = match &args.config {
        Some(path) => experiment::config::load(path).map_err(CliError::input)?,
        None => experiment::config::demo(),
    };
    if let Some(s) = args.max_seconds
        && (s.is_nan() || s <= 0.0)
    {
        return Err(CliError::input(format!(
            "--max-seconds: {s} is not allowed (allowed: a positive number)"
        )));
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::input(format!("{}: cannot create directory: {e}", dir.display()))
        })?;
    }
    let options = RunOptions {
        seed: args.seed,
        max_seconds: args.max_seconds,
        executor: args.executor,
        threads: args.threads.map(|t| t as usize),
        interrupt: install_interrupt(),
        ..RunOptions::default()
    };
    let mut transport = amlz::search::transport::process_transport().map_err(CliError::failure)?;
    let transport = transport.as_mut();
    let quiet = args.quiet || transport.rank() != 0;
    let threads = experiment::runner::thread_count(&experiment, &options);
    if transport.rank() == 0 {
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
    let summary = experiment::runner::run_with(&experiment, &options, transport, |event| {
        if quiet {
            return;
        }
        match event {
            Event::ExperimentStart { .. } | Event::Checkpoint(_) => {}
            Event::Progress { experiment, progress: p } => eprintln!(
                "exp {experiment:>3} | {:>9} individuals | {:>7.1} s | {:>7.0} ind/s | mean {:.4} | stdev {:.4} | best {:.6}",
                p.individuals,
                p.elapsed.as_secs_f64(),
                p.individuals_per_second,
                p.mean,
                p.stdev,
                p.best
            ),
            Event::ExperimentEnd(r) => eprintln!(
                "exp {:>3} done: {} individuals in {:.1} s ({:.0} ind/s), FEC hit rate {:.1}%, search fitness {:.6}, select fitness {:.6}, {} structures compiled, {} native task evaluations (stopped on {})",
                r.index,
                r.individuals,
                r.seconds,
                r.individuals_per_second,
                100.0 * r.fec_hit_rate,
                r.search_fitness,
                r.select_fitness,
                r.jit_compiled,
                r.native_evaluations,
                r.stop_reason
            ),
        }
    })
    .map_err(|e| {
        if transport.ranks() > 1 {
            // The other ranks may wait in a round: end the whole job rather than hang it.
            eprintln!("amlz: error: rank {}: {e}", transport.rank());
            transport.abort(2);
        }
        CliError::input(e)
    })?;
    if transport.rank() != 0 {
        return Ok(ExitCode::SUCCESS);
    }

    let json = serde_json::to_string_pretty(&summary).expect("summaries serialise");
    if let Some(path) = &args.summary_json {
        std::fs::write(path, &json)
            .map_err(|e| CliError::failure(format!("{}: cannot write: {e}", path.display())))?;
    }
    if let Some(dir) = &args.out {
        let alg = dir.join("best_algorithm.txt");
        std::fs::write(&alg, &summary.algorithm)
            .map_err(|e| CliError::failure(format!("{}: cannot write: {e}", alg.display())))?;
        let live = dir.join("best_algorithm_live.txt");
        std::fs::write(&live, &summary.algorithm_live)
            .map_err(|e| CliError::failure(format!("{}: cannot write: {e}", live.display())))?;
        let sum = dir.join("summary.json");
        std::fs::write(&sum, &json)
            .map_err(|e| CliError::failure(format!("{}: cannot write: {e}", sum.display())))?;
    }
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
    println!("best algorithm (dead code removed; the whole genome is in the summary and --out):");
    print!("{}", summary.algorithm_live);
    Ok(ExitCode::SUCCESS)
}
