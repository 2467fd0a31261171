//! The experiment loop (SEMANTICS.md §8): evolve on T_search, score the population's best on
//! T_select, keep the best over experiments, stop on sufficient fitness, experiment count or time,
//! and score the winner on T_final.

use super::config::{Baseline, Experiment};
use super::summary::{ExperimentRecord, Summary};
use crate::eval::Evaluator;
use crate::exec::ExecutorChoice;
use crate::search::{
    Evolution, EvolutionSettings, Individual, Mutator, Progress, SearchEvaluator, StopReason,
    StopRule, TrainBudget,
};
use crate::task::spec::{TaskSpec, build_tasks, build_tasks_with_seeds};
use crate::task::{Task, TaskError};
use amlz_ir::{Algorithm, Rng, handmade};
use std::path::Path;
use std::time::{Duration, Instant};

/// Options a run adds to its config (from the command line).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the config's seed.
    pub seed: Option<u64>,
    /// Overrides (tightens) the config's wall-clock limit, in seconds.
    pub max_seconds: Option<f64>,
    /// Which executor runs evaluations (search, select and final).
    pub executor: ExecutorChoice,
}

/// Something worth telling the user while a search runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// An experiment begins.
    ExperimentStart {
        /// Its index, from 1.
        index: u64,
    },
    /// A progress snapshot of the running evolution.
    Progress {
        /// The experiment's index, from 1.
        experiment: u64,
        /// The snapshot.
        progress: &'a Progress,
    },
    /// An experiment ended.
    ExperimentEnd(&'a ExperimentRecord),
}

/// A search that could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A task collection could not be built.
    #[error("{collection}: {source}")]
    Tasks {
        /// Which collection (`search_tasks`, …).
        collection: &'static str,
        /// What went wrong.
        source: TaskError,
    },
    /// The memory counts or a task's F make no valid layout.
    #[error("{0}")]
    Layout(#[from] amlz_ir::LayoutError),
    /// An algorithm does not fit the memory.
    #[error("{0}")]
    Eval(#[from] crate::eval::EvalError),
}

fn build(
    specs: &[TaskSpec],
    base: &Path,
    collection: &'static str,
    seeds: Option<&mut Rng>,
) -> Result<Vec<Task>, RunError> {
    let mut tasks = Vec::new();
    let mut seeds = seeds;
    for spec in specs {
        let built = match seeds.as_deref_mut() {
            Some(rng) => {
                let (p, d) = (rng.next_u64() >> 16, rng.next_u64() >> 16);
                build_tasks_with_seeds(spec, base, p, d)
            }
            None => build_tasks(spec, base),
        };
        tasks.extend(built.map_err(|source| RunError::Tasks { collection, source })?);
    }
    Ok(tasks)
}

/// The seed of the random streams of select and final evaluations of a search seeded `seed`.
fn scoring_seed(seed: u64) -> u64 {
    seed ^ 0x00c0_ffee_5eed
}

/// Runs the whole search of `experiment`, reporting events to `on_event`, and returns its
/// summary.
pub fn run(
    experiment: &Experiment,
    options: &RunOptions,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<Summary, RunError> {
    let start = Instant::now();
    let seed = options.seed.unwrap_or(experiment.seed);
    let max_seconds = match (options.max_seconds, experiment.max_seconds) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let deadline = max_seconds.map(|s| start + Duration::from_secs_f64(s));
    let base = experiment.base_dir.as_path();
    let counts = experiment.space.counts;
    let mut rng = Rng::new(seed);
    let mut task_seed_rng = rng.fork();

    let mutator = Mutator::new(
        experiment.space.clone(),
        experiment.mutations.clone(),
        experiment.mutate_prob,
    );
    let settings = EvolutionSettings {
        population_size: experiment.population_size,
        tournament_size: experiment.tournament_size,
        initial_population: experiment.initial_population,
    };

    let final_tasks = build(&experiment.final_tasks, base, "final_tasks", None)?;
    let mut best: Option<(Individual, f64)> = None; // (individual with search fitness, select fitness)
    let mut records = Vec::new();
    let mut individuals = 0u64;
    let mut train_steps = 0u64;
    let mut fec_lookups_hits = (0.0f64, 0u64); // (sum of hit rate × evaluations, evaluations)
    let mut seconds_to_sufficient = None;
    let mut index = 0u64;
    loop {
        index += 1;
        on_event(Event::ExperimentStart { index });
        let seeds = experiment
            .randomize_task_seeds
            .then_some(&mut task_seed_rng);
        let search_tasks = build(&experiment.search_tasks, base, "search_tasks", seeds)?;
        let seeds = experiment
            .randomize_task_seeds
            .then_some(&mut task_seed_rng);
        let select_tasks = build(&experiment.select_tasks, base, "select_tasks", seeds)?;
        let budget = experiment.train_budget.map(|(baseline, factor)| {
            let a = match baseline {
                Baseline::Linear => handmade::linear(0.01),
                Baseline::NeuralNet => handmade::neural_net(),
            };
            let f = search_tasks.iter().map(|t| t.features).max().unwrap_or(1);
            TrainBudget::new(&a, factor, f)
        });
        let mut evaluator = SearchEvaluator::new(
            search_tasks,
            counts,
            experiment.fitness_combination,
            experiment.fec,
            budget,
            options.executor,
        )?;
        let stop = StopRule {
            max_individuals: experiment.max_individuals,
            max_train_steps: experiment.max_train_steps,
            deadline,
            target_fitness: experiment.target_fitness,
        };
        let mut evo_rng = rng.fork();
        let result = {
            let mut evolution = Evolution::new(settings, &mutator, &mut evaluator);
            evolution.run(&stop, experiment.progress_every, &mut evo_rng, |p| {
                on_event(Event::Progress {
                    experiment: index,
                    progress: p,
                })
            })
        };
        let stats = evaluator.stats();
        individuals += result.individuals;
        train_steps += stats.train_steps;
        fec_lookups_hits.0 += evaluator.fec_hit_rate() * stats.evaluations as f64;
        fec_lookups_hits.1 += stats.evaluations;

        let mut select = Evaluator::on(
            select_tasks,
            experiment.fitness_combination,
            options.executor,
        );
        let select_fitness = select
            .evaluate(&result.best.algorithm, counts, scoring_seed(seed))?
            .fitness;
        let record = ExperimentRecord {
            index,
            individuals: result.individuals,
            train_steps: stats.train_steps,
            seconds: result.elapsed.as_secs_f64(),
            individuals_per_second: result.individuals as f64
                / result.elapsed.as_secs_f64().max(1e-9),
            fec_hit_rate: evaluator.fec_hit_rate(),
            search_fitness: result.best.fitness,
            select_fitness,
            jit_compiled: stats.compiled,
            jit_fallbacks: stats.jit_failures,
            native_evaluations: stats.native_evaluations,
            stop_reason: format!("{:?}", result.reason).to_lowercase(),
        };
        on_event(Event::ExperimentEnd(&record));
        records.push(record);
        if best.as_ref().is_none_or(|(_, s)| select_fitness > *s) {
            best = Some((result.best, select_fitness));
        }
        let best_select = best.as_ref().map_or(0.0, |(_, s)| *s);
        let sufficient = experiment
            .sufficient_fitness
            .is_some_and(|f| best_select > f);
        if sufficient && seconds_to_sufficient.is_none() {
            seconds_to_sufficient = Some(start.elapsed().as_secs_f64());
        }
        let out_of_time =
            result.reason == StopReason::Time || deadline.is_some_and(|d| Instant::now() >= d);
        let out_of_experiments =
            experiment.max_experiments > 0 && index >= experiment.max_experiments;
        if sufficient || out_of_time || out_of_experiments {
            break;
        }
    }

    let (winner, best_select_fitness) = best.expect("at least one experiment ran");
    let mut final_eval = Evaluator::on(
        final_tasks,
        experiment.fitness_combination,
        options.executor,
    );
    let final_fitness = final_eval
        .evaluate(&winner.algorithm, counts, scoring_seed(seed))?
        .fitness;
    let seconds = start.elapsed().as_secs_f64();
    Ok(Summary {
        config: experiment.source.clone(),
        seed,
        experiments: records.len() as u64,
        individuals,
        train_steps,
        seconds,
        individuals_per_second: individuals as f64 / seconds.max(1e-9),
        fec_hit_rate: if fec_lookups_hits.1 == 0 {
            0.0
        } else {
            fec_lookups_hits.0 / fec_lookups_hits.1 as f64
        },
        best_search_fitness: winner.fitness,
        best_select_fitness,
        final_fitness,
        seconds_to_sufficient,
        algorithm: amlz_ir::print_algorithm(&strip_no_ops(&winner.algorithm)),
        algorithm_live: amlz_ir::print_algorithm(&amlz_ir::analysis::eliminate_dead_code(
            &winner.algorithm,
        )),
        per_experiment: records,
    })
}

/// The algorithm without NoOps (they never change a result), for printing.
pub fn strip_no_ops(a: &Algorithm) -> Algorithm {
    let keep = |l: &Vec<amlz_ir::Instruction>| {
        l.iter()
            .filter(|i| i.op != amlz_ir::Op::NoOp)
            .copied()
            .collect()
    };
    Algorithm {
        setup: keep(&a.setup),
        predict: keep(&a.predict),
        learn: keep(&a.learn),
    }
}
