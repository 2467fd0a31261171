//! Command-line parsing and dispatch. Each subcommand lives in its own module and returns a
//! [`CliError`] on failure; `main` prints it on one line and exits with its code.

mod bench;
mod convert;
mod eval;
mod plot;
mod search;
mod show;
mod verify;

use amlz_ir::Algorithm;
use amlz_ir::text::{SourceLines, parse_algorithm_with_lines};
use clap::{Parser, Subcommand};
use std::path::Path;
use std::process::ExitCode;

/// AutoML-Zero in Rust: evolve whole machine-learning algorithms from basic math ops.
#[derive(Parser, Debug)]
#[command(name = "amlz", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Evaluate a saved algorithm on the tasks of a task file.
    Eval(eval::EvalArgs),
    /// Evolve algorithms: run an experiment config (the built-in demo by default).
    Search(search::SearchArgs),
    /// Differential fuzzing: random algorithms run by the interpreter and the JIT, compared bit
    /// for bit.
    Verify(verify::VerifyArgs),
    /// Measure: the benchmark suite (no subcommand), per-op costs for the train budget, the
    /// interpreter/JIT break-even.
    Bench(bench::BenchArgs),
    /// Print an algorithm file: as it is, simplified (`--simplify`), or as a NumPy module
    /// (`--python`).
    Show(show::ShowArgs),
    /// Convert the original's search spec (protobuf text) and flags into an experiment config.
    Convert(convert::ConvertArgs),
    /// Draw a run directory's progress (best and mean fitness) as a PNG.
    Plot(plot::PlotArgs),
}

/// A failure of a command: printed as one line, `amlz: <message>`, exit code `code`.
#[derive(Debug)]
pub struct CliError {
    /// What went wrong, naming the file, line and field where there is one.
    pub message: String,
    /// The process exit code: 2 for bad input, 1 for other failures.
    pub code: u8,
}

impl CliError {
    /// A bad-input error (exit code 2).
    pub fn input(message: impl std::fmt::Display) -> CliError {
        CliError {
            message: message.to_string(),
            code: 2,
        }
    }

    /// Any other failure (exit code 1).
    pub fn failure(message: impl std::fmt::Display) -> CliError {
        CliError {
            message: message.to_string(),
            code: 1,
        }
    }
}

/// The algorithm in the readable format at `path`, with the source line of each instruction;
/// a file that cannot be read or parsed is a bad-input error naming the file (and line).
fn read_algorithm(path: &Path) -> Result<(Algorithm, SourceLines), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::input(format!(
            "{}: cannot read: {}",
            path.display(),
            amlz::task::error::io_reason(&e)
        ))
    })?;
    parse_algorithm_with_lines(&text)
        .map_err(|e| CliError::input(format!("{}:{}: {}", path.display(), e.line, e.message)))
}

/// Parses the command line, runs the command, and turns its result into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Search(args) => search::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Show(args) => show::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Plot(args) => plot::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let one_line = e.message.replace('\n', " ");
            eprintln!("amlz: error: {one_line}");
            ExitCode::from(e.code)
        }
    }
}
