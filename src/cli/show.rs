//! `amlz show`: an algorithm file printed as it is, simplified, or as a NumPy module.

use super::CliError;
use amlz::export::{python_module, simplify};
use amlz_ir::print_algorithm;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `amlz show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The algorithm, in the readable format (as `amlz search --out` saves it).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Remove dead code and rename addresses in order of first use (s0, s1 and v0 keep theirs);
    /// the fitness is the same bit for bit.
    #[arg(long)]
    simplify: bool,
    /// Print a self-contained Python module (NumPy only) with `setup`, `predict`, `learn` and
    /// `evaluate(train_x, train_y, valid_x, valid_y, eval_type, seed)`, which computes the
    /// fitness exactly as amlz does.
    #[arg(long)]
    python: bool,
}

/// Runs `amlz show`.
pub fn run(args: &ShowArgs) -> Result<ExitCode, CliError> {
    let path = &args.file;
    let (mut algorithm, _) = super::read_algorithm(path)?;
    if args.simplify {
        algorithm = simplify(&algorithm);
    }
    if args.python {
        print!("{}", python_module(&algorithm));
    } else {
        print!("{}", print_algorithm(&algorithm));
    }
    Ok(ExitCode::SUCCESS)
}
