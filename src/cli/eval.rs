//! `amlz eval`: the fitness of a saved algorithm on the tasks of a task file (or of an experiment
//! config's T_final), and with `--baselines` that of logistic regression and the 2-layer network
//! tuned on the same tasks.

use super::CliError;
use amlz::baselines::{self, Baselines};
use amlz::eval::{Combination, Evaluation, Evaluator};
use amlz::exec::ExecutorChoice;
use amlz::task::file::task_file_from_str;
use amlz::task::spec::build_tasks;
use amlz::task::{Task, TaskError};
use amlz_ir::{AddressProblem, Algorithm, MemoryCounts};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `amlz eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The algorithm, in the readable format (as `amlz search --out` saves it). Required unless
    /// `--baselines` is given.
    #[arg(long, value_name = "FILE")]
    algorithm: Option<PathBuf>,
    /// The task file (TOML, one `[[tasks]]` table per task collection), or an experiment config,
    /// whose `[[final_tasks]]` are then used.
    #[arg(long, value_name = "FILE")]
    tasks: PathBuf,
    /// Also score the baselines, logistic regression and the hand-made 2-layer network, each
    /// with its learning rate tuned by a grid on the validation examples.
    #[arg(long)]
    baselines: bool,
    /// Which executor runs the algorithm: `interp`, `jit`, or `auto` (the JIT when the work
    /// passes the break-even measured on this machine). All give the same result bit for bit.
    #[arg(long, value_enum, default_value_t = ExecutorChoice::Auto)]
    executor: ExecutorChoice,
    /// Seed of the random streams of random ops.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object and nothing else on stdout: `{"fitness": .., "per_task": [..]}`
    /// with `--algorithm`, and `"baselines": {"logistic_regression": .., "neural_net": ..}`
    /// with `--baselines`.
    #[arg(long)]
    json: bool,
}

/// The tasks `--tasks` names, how they combine and the memory counts to use at least.
struct EvalTasks {
    tasks: Vec<Task>,
    combination: Combination,
    counts: MemoryCounts,
}

/// Runs `amlz eval`.
pub fn run(args: &EvalArgs) -> Result<ExitCode, CliError> {
    if args.algorithm.is_none() && !args.baselines {
        return Err(CliError::input(
            "give --algorithm FILE, --baselines, or both",
        ));
    }
    let algorithm = args.algorithm.as_deref().map(read_checked).transpose()?;
    let source = load_eval_tasks(&args.tasks).map_err(CliError::input)?;
    let names: Vec<String> = source.tasks.iter().map(|t| t.name.clone()).collect();
    let mut evaluator = Evaluator::on(source.tasks, source.combination, args.executor);
    let scored = match &algorithm {
        Some((path, algorithm)) => {
            let counts = algorithm.min_counts().max(source.counts);
            check_fits(path, algorithm, counts)?;
            let evaluation = evaluator
                .evaluate(algorithm, counts, args.seed)
                .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
            Some((evaluation, counts))
        }
        None => None,
    };
    let baselines = match args.baselines {
        true => Some(baselines::tune_all(&mut evaluator, args.seed).map_err(CliError::failure)?),
        false => None,
    };
    let report = Report {
        names: &names,
        combination: source.combination,
        scored: scored.as_ref(),
        baselines: baselines.as_ref(),
    };
    match args.json {
        true => println!("{}", report.json()),
        false => report.print(),
    }
    Ok(ExitCode::SUCCESS)
}

/// The algorithm at `path`, read and parsed.
fn read_checked(path: &Path) -> Result<(PathBuf, Algorithm), CliError> {
    let (algorithm, _) = super::read_algorithm(path)?;
    Ok((path.to_path_buf(), algorithm))
}

/// Checks that the algorithm's addresses fit `counts`, naming its line if not.
fn check_fits(path: &Path, algorithm: &Algorithm, counts: MemoryCounts) -> Result<(), CliError> {
    let Err(e) = algorithm.check_addresses(&counts) else {
        return Ok(());
    };
    let (_, lines) = super::read_algorithm(path)?;
    let line = lines
        .line(e.function, e.index)
        .map_or(String::new(), |l| format!(":{l}"));
    let hint = match e.problem {
        AddressProblem::OutOfRange { .. } => " (raise scalars/vectors/matrices in the task file)",
    };
    Err(CliError::input(format!(
        "{}{line}: {}{hint}",
        path.display(),
        e.problem
    )))
}

/// Whether TOML `text` is an experiment config (it has `[[final_tasks]]`) rather than a task
/// file.
fn is_experiment_config(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("final_tasks"))
}

/// The tasks of a task file, or the `[[final_tasks]]` of an experiment config (with its
/// fitness combination and memory counts). Errors are one line naming the file.
fn load_eval_tasks(path: &Path) -> Result<EvalTasks, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        TaskError::Read {
            path: path.to_path_buf(),
            error,
        }
        .to_string()
    })?;
    if !is_experiment_config(&text) {
        let file = task_file_from_str(&text, path).map_err(|e| e.to_string())?;
        return Ok(EvalTasks {
            counts: file.spec.memory_counts(),
            combination: file.spec.fitness_combination,
            tasks: file.tasks,
        });
    }
    let experiment = amlz::experiment::config::load(path).map_err(|e| e.to_string())?;
    let mut tasks = Vec::new();
    for spec in &experiment.final_tasks {
        let built = build_tasks(spec, &experiment.base_dir)
            .map_err(|e| format!("{}: final_tasks: {e}", path.display()))?;
        tasks.extend(built);
    }
    Ok(EvalTasks {
        tasks,
        combination: experiment.fitness_combination,
        counts: experiment.space.counts,
    })
}

/// What `amlz eval` prints.
struct Report<'a> {
    names: &'a [String],
    combination: Combination,
    scored: Option<&'a (Evaluation, MemoryCounts)>,
    baselines: Option<&'a Baselines>,
}

impl Report<'_> {
    /// The JSON object of `--json`.
    fn json(&self) -> serde_json::Value {
        let mut json = serde_json::Map::new();
        if let Some((evaluation, _)) = self.scored {
            json.insert("fitness".into(), evaluation.fitness.into());
            json.insert("per_task".into(), evaluation.per_task.clone().into());
        }
        if let Some(b) = self.baselines {
            let means = serde_json::json!({
                "logistic_regression": b.logistic_regression.stats.mean,
                "neural_net": b.neural_net.stats.mean,
            });
            json.insert("baselines".into(), means);
            let details = serde_json::to_value(b).expect("baselines serialise");
            json.insert("baseline_details".into(), details);
        }
        json.into()
    }

    /// The human-readable lines: per task, then combined.
    fn print(&self) {
        if let Some((evaluation, counts)) = self.scored {
            for (name, fitness) in self.names.iter().zip(&evaluation.per_task) {
                println!("{fitness:.6}  {name}");
            }
            println!(
                "fitness ({} of {} tasks, memory S={} V={} M={}): {:.6}",
                self.combination.name(),
                evaluation.per_task.len(),
                counts.scalars,
                counts.vectors,
                counts.matrices,
                evaluation.fitness
            );
        }
        if let Some(b) = self.baselines {
            for baseline in baselines::Baseline::ALL {
                let r = b.get(baseline);
                println!(
                    "baseline {}: mean {:.6} ± {:.6} over {} tasks (learning rate {}; per task {})",
                    baseline.name(),
                    r.stats.mean,
                    r.stats.std,
                    r.stats.per_task.len(),
                    r.learning_rate,
                    r.stats
                        .per_task
                        .iter()
                        .map(|f| format!("{f:.4}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
        }
    }
}
