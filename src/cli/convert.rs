//! `amlz convert`: the original's search spec and flags as an amlz experiment config.

use super::CliError;
use amlz::convert::{Flags, Source, convert};
use clap::Args;
use std::process::ExitCode;

/// Arguments of `amlz convert`: the spec and the original's flags beside it (their underscore
/// spellings are accepted too).
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The SearchExperimentSpec in protobuf text format: a file, or the text itself (as the
    /// original's `--search_experiment_spec` takes it).
    #[arg(value_name = "SPEC")]
    spec: String,
    /// T_select: a TaskCollection in text format (file or text), the original's `--select_tasks`.
    #[arg(long, value_name = "FILE", alias = "select_tasks")]
    select_tasks: String,
    /// T_final: a TaskCollection in text format (file or text), the original's `--final_tasks`.
    #[arg(long, value_name = "FILE", alias = "final_tasks")]
    final_tasks: String,
    /// Stop experimenting once the best select fitness exceeds X (`--sufficient_fitness`).
    #[arg(
        long,
        value_name = "X",
        alias = "sufficient_fitness",
        allow_negative_numbers = true
    )]
    sufficient_fitness: Option<f64>,
    /// Most experiments, 0 for no limit (`--max_experiments`; the original's default is 1).
    #[arg(long, value_name = "N", alias = "max_experiments")]
    max_experiments: Option<u64>,
    /// Fresh T_search and T_select seeds per experiment (`--randomize_task_seeds`).
    #[arg(long, alias = "randomize_task_seeds")]
    randomize_task_seeds: bool,
    /// The search seed (`--random_seed`; 0 or absent: the original draws one per run).
    #[arg(long, value_name = "N", alias = "random_seed")]
    random_seed: Option<u64>,
    /// S, the original's compile-time `-DMAX_SCALAR_ADDRESSES` (default 20).
    #[arg(long, value_name = "S", default_value_t = 20)]
    scalars: usize,
    /// V, `-DMAX_VECTOR_ADDRESSES` (default 20).
    #[arg(long, value_name = "V", default_value_t = 20)]
    vectors: usize,
    /// M, `-DMAX_MATRIX_ADDRESSES` (default 20).
    #[arg(long, value_name = "M", default_value_t = 20)]
    matrices: usize,
}

/// Runs `amlz convert`: the config on stdout, the conversion's notes on stderr.
pub fn run(args: &ConvertArgs) -> Result<ExitCode, CliError> {
    let spec = Source::from_arg(&args.spec, "SPEC").map_err(CliError::input)?;
    let select = Source::from_arg(&args.select_tasks, "--select-tasks").map_err(CliError::input)?;
    let finals = Source::from_arg(&args.final_tasks, "--final-tasks").map_err(CliError::input)?;
    let flags = Flags {
        random_seed: args.random_seed,
        max_experiments: args.max_experiments,
        sufficient_fitness: args.sufficient_fitness,
        randomize_task_seeds: args.randomize_task_seeds,
        memory: [args.scalars, args.vectors, args.matrices],
    };
    let conversion = convert(&spec, &select, &finals, &flags).map_err(CliError::input)?;
    for note in &conversion.notes {
        eprintln!("amlz convert: note: {note}");
    }
    print!("{}", conversion.toml);
    Ok(ExitCode::SUCCESS)
}
