//! `amlz eval`: the fitness of a saved algorithm on the tasks of a task file.

use super::CliError;
use amlz::eval::Evaluator;
use amlz::exec::ExecutorChoice;
use amlz::task::file::load_task_file;
use amlz_ir::AddressProblem;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `amlz eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The algorithm, in the readable format (as `amlz search --out` saves it).
    #[arg(long, value_name = "FILE")]
    algorithm: PathBuf,
    /// The task file (TOML, one `[[tasks]]` table per task collection).
    #[arg(long, value_name = "FILE")]
    tasks: PathBuf,
    /// Which executor runs the algorithm: `interp`, `jit`, or `auto` (the JIT when the work
    /// passes the break-even measured on this machine). All give the same result bit for bit.
    #[arg(long, value_enum, default_value_t = ExecutorChoice::Auto)]
    executor: ExecutorChoice,
    /// Seed of the random streams of random ops.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object `{"fitness": .., "per_task": [..]}` and nothing else on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `amlz eval`.
pub fn run(args: &EvalArgs) -> Result<ExitCode, CliError> {
    let path = &args.algorithm;
    let (algorithm, lines) = super::read_algorithm(path)?;
    let file = load_task_file(&args.tasks).map_err(CliError::input)?;
    let counts = algorithm.min_counts().max(file.spec.memory_counts());
    if let Err(e) = algorithm.check_addresses(&counts) {
        let line = lines
            .line(e.function, e.index)
            .map_or(String::new(), |l| format!(":{l}"));
        let hint = match e.problem {
            AddressProblem::OutOfRange { .. } => {
                " (raise scalars/vectors/matrices in the task file)"
            }
        };
        return Err(CliError::input(format!(
            "{}{line}: {}{hint}",
            path.display(),
            e.problem
        )));
    }
    let combination = file.spec.fitness_combination;
    let names: Vec<String> = file.tasks.iter().map(|t| t.name.clone()).collect();
    let mut evaluator = Evaluator::on(file.tasks, combination, args.executor);
    let evaluation = evaluator
        .evaluate(&algorithm, counts, args.seed)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;

    if args.json {
        let json =
            serde_json::json!({ "fitness": evaluation.fitness, "per_task": evaluation.per_task });
        println!("{json}");
    } else {
        for (name, fitness) in names.iter().zip(&evaluation.per_task) {
            println!("{fitness:.6}  {name}");
        }
        let how = combination.name();
        println!(
            "fitness ({how} of {} tasks, memory S={} V={} M={}): {:.6}",
            evaluation.per_task.len(),
            counts.scalars,
            counts.vectors,
            counts.matrices,
            evaluation.fitness
        );
    }
    Ok(ExitCode::SUCCESS)
}
