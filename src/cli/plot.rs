//! `amlz plot`: draw a run directory's progress as a PNG.

use super::CliError;
use amlz::plot::{PlotError, plot_run};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `amlz plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A run directory (`amlz search --out DIR`), finished or still running.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Where to write the PNG (default: DIR/progress.png).
    #[arg(long, short, value_name = "FILE.png")]
    output: Option<PathBuf>,
}

/// Runs `amlz plot`: prints the path of the PNG written.
pub fn run(args: &PlotArgs) -> Result<ExitCode, CliError> {
    let out = plot_run(&args.dir, args.output.as_deref()).map_err(|e| match e {
        PlotError::Draw(_) => CliError::failure(e),
        PlotError::RunDir(_) | PlotError::Empty(_) => CliError::input(e),
    })?;
    println!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}
