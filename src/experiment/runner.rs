//! The experiment loop (SEMANTICS.md §8): evolve on T_search, score the population's best on
//! T_select, keep the best over experiments, stop on sufficient fitness, experiment count or time,
//! and score the winner on T_final.

use super::checkpoint::{CHECKPOINT_FORMAT, Checkpoint, CheckpointView, RunState, clock_start};
use super::config::{Baseline, Experiment, ParallelMode};
use super::summary::{ExperimentRecord, Summary};
use crate::baselines::{self, FinalReport, TaskStats};
use crate::eval::Evaluator;
use crate::exec::ExecutorChoice;
use crate::exec::tiering::CompileService;
use crate::search::islands::{IslandsEvent, IslandsSnapshot};
use crate::search::transport::all_gather;
use crate::search::{
    CachePadded, Evolution, EvolutionSettings, Individual, IslandFigures, Islands, Local,
    Migration, Mutator, Progress, SearchEvaluator, StopReason, StopRule, TrainBudget, Transport,
    TransportError,
};
use crate::task::spec::{TaskSpec, build_tasks, build_tasks_with_seeds};
use crate::task::{EvalType, Task, TaskError};
use amlz_ir::{Algorithm, Rng, handmade};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
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
    /// Overrides the config's `threads` (default: every core).
    pub threads: Option<usize>,
    /// A flag that, once raised (Ctrl-C), stops every evolution at its next individual (islands
    /// taking checkpoints: at the round's end where their final checkpoint holds them); the
    /// search then ends as after a time stop.
    pub interrupt: Option<&'static AtomicBool>,
    /// Take checkpoints about this often (and when Ctrl-C or the deadline stops the search):
    /// [`Event::Checkpoint`]. `None`: none.
    pub checkpoint_every: Option<Duration>,
    /// Go on from this checkpoint of the same config and seed instead of starting afresh.
    pub resume: Option<Checkpoint>,
    /// Run every candidate's fingerprint (the structural shortcut off): the same search,
    /// slower; for tests and measurements.
    pub no_shortcut: bool,
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
    /// The search's state, to be saved: resuming from it reaches exactly the result of a run
    /// that was never stopped.
    Checkpoint(CheckpointView<'a>),
    /// The kept algorithm (the best on T_select so far, SEMANTICS.md §8) changed: reported
    /// after the [`Event::ExperimentEnd`] of the experiment that found it.
    NewBest {
        /// The experiment that found it, from 1.
        experiment: u64,
        /// The algorithm and its search fitness.
        best: &'a Individual,
        /// Its select fitness.
        select_fitness: f64,
    },
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
    /// The ranks of a distributed search could not talk.
    #[error("{0}")]
    Transport(#[from] TransportError),
    /// The checkpoint to resume from does not fit this search.
    #[error("cannot resume: {0}")]
    Resume(String),
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

/// The threads a search uses: `--threads`, else the config's `threads`, else every core.
pub fn thread_count(experiment: &Experiment, options: &RunOptions) -> usize {
    options
        .threads
        .or(experiment.parallel.threads)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// Runs the whole search of `experiment` in this process, reporting events to `on_event`, and
/// returns its summary.
pub fn run(
    experiment: &Experiment,
    options: &RunOptions,
    on_event: impl FnMut(Event<'_>),
) -> Result<Summary, RunError> {
    run_with(experiment, options, &mut Local, on_event)
}

/// What one experiment needs to run, drawn in experiment order.
struct Setup {
    index: u64,
    search_tasks: Vec<Task>,
    select_tasks: Vec<Task>,
    evo_seed: u64,
}

/// What one experiment gave.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Outcome {
    record: ExperimentRecord,
    best: Individual,
    select_fitness: f64,
    /// Evaluations of its search, to weigh its FEC hit rate.
    evaluations: u64,
}

/// The run-wide things every experiment uses.
struct Shared<'a> {
    experiment: &'a Experiment,
    options: &'a RunOptions,
    mutator: Mutator,
    settings: EvolutionSettings,
    stop: StopRule,
    seed: u64,
    /// The compile service every evaluator of the run shares, where threads share one.
    compile: Option<Arc<CompileService>>,
}

/// Whether the threads of a run share one compile service (one compile thread and one table of
/// ready code) rather than one each: the switch the measurement in docs/ARCHITECTURE.md
/// ("Threads and ranks") decided.
pub const SHARED_COMPILE_SERVICE: bool = true;

impl Shared<'_> {
    /// Draws experiment `index`'s tasks and evolution seed from the run's generators, in the
    /// order of SEMANTICS.md §8.
    fn setup(&self, index: u64, rng: &mut Rng, task_seed_rng: &mut Rng) -> Result<Setup, RunError> {
        let e = self.experiment;
        let base = e.base_dir.as_path();
        let seeds = e.randomize_task_seeds.then_some(&mut *task_seed_rng);
        let search_tasks = build(&e.search_tasks, base, "search_tasks", seeds)?;
        let seeds = e.randomize_task_seeds.then_some(&mut *task_seed_rng);
        let select_tasks = build(&e.select_tasks, base, "select_tasks", seeds)?;
        // `rng.fork()` is `Rng::new(rng.next_u64())`: island 0 draws from exactly that.
        let evo_seed = rng.next_u64();
        Ok(Setup {
            index,
            search_tasks,
            select_tasks,
            evo_seed,
        })
    }

    fn evaluator(&self, tasks: Vec<Task>) -> Result<SearchEvaluator, RunError> {
        let e = self.experiment;
        let budget = e.train_budget.map(|(baseline, factor)| {
            let a = match baseline {
                Baseline::Linear => handmade::linear(0.01),
                Baseline::NeuralNet => handmade::neural_net(),
            };
            let f = tasks.iter().map(|t| t.features).max().unwrap_or(1);
            TrainBudget::new(&a, factor, f)
        });
        let evaluator = SearchEvaluator::new(
            tasks,
            e.space.counts,
            e.fitness_combination,
            e.fec,
            budget,
            self.options.executor,
        )?
        .with_shortcut(!self.options.no_shortcut)
        .with_hurdle(e.hurdle);
        Ok(match &self.compile {
            Some(s) => evaluator.with_compile_service(s.clone()),
            None => evaluator,
        })
    }

    /// Runs one experiment as islands `first..first + local` of `total` (the others on other
    /// ranks, met through `transport`), then scores its best on T_select.
    fn experiment(
        &self,
        setup: Setup,
        (first, local, total): (usize, usize, usize),
        transport: &mut dyn Transport,
        resume: Option<&IslandsSnapshot>,
        on_event: impl FnMut(IslandsEvent<'_>),
    ) -> Result<Outcome, RunError> {
        let e = self.experiment;
        let mut evaluators = Vec::with_capacity(local);
        for _ in 0..local {
            // Padded: evaluators side by side would share cache lines between cores.
            evaluators.push(CachePadded(self.evaluator(setup.search_tasks.clone())?));
        }
        let evolutions = evaluators
            .iter_mut()
            .map(|ev| Evolution::new(self.settings, &self.mutator, &mut ev.0))
            .collect();
        let migration = Migration {
            every: e.parallel.migration_every,
            size: e.parallel.migration_size.unwrap_or(e.population_size / 2),
        };
        let mut islands = Islands::new(first, total, evolutions, setup.evo_seed, migration);
        if let Some(snapshot) = resume {
            islands.restore(snapshot).map_err(RunError::Resume)?;
        }
        // Parallel experiments keep checkpoints between batches only.
        let checkpoint_every = match e.parallel.mode {
            ParallelMode::Islands => self.options.checkpoint_every,
            ParallelMode::Experiments => None,
        };
        let result = islands.run(
            &self.stop,
            e.progress_every,
            checkpoint_every,
            transport,
            on_event,
        )?;
        let mut select = Evaluator::on(
            setup.select_tasks,
            e.fitness_combination,
            self.options.executor,
        );
        let select_fitness = select
            .evaluate(
                &result.best.algorithm,
                e.space.counts,
                scoring_seed(self.seed),
            )?
            .fitness;
        let islands = &result.per_island;
        let sum = |f: fn(&IslandFigures) -> u64| islands.iter().map(f).sum::<u64>();
        let individuals = sum(|i| i.individuals);
        let (hits, lookups) = (sum(|i| i.fec_hits), sum(|i| i.fec_lookups));
        let seconds = result.elapsed.as_secs_f64();
        let record = ExperimentRecord {
            index: setup.index,
            individuals,
            train_steps: sum(|i| i.train_steps),
            seconds,
            individuals_per_second: individuals as f64 / seconds.max(1e-9),
            fec_hit_rate: if lookups == 0 {
                0.0
            } else {
                hits as f64 / lookups as f64
            },
            search_fitness: result.best.fitness,
            select_fitness,
            jit_compiled: sum(|i| i.jit_compiled),
            jit_fallbacks: sum(|i| i.jit_fallbacks),
            native_evaluations: sum(|i| i.native_evaluations),
            lane_evaluations: sum(|i| i.lane_evaluations),
            task_evaluations: sum(|i| i.task_evaluations),
            compile_cache_hit_rate: match sum(|i| i.task_evaluations) {
                0 => 0.0,
                runs => sum(|i| i.native_evaluations) as f64 / runs as f64,
            },
            jit_compile_seconds: islands.iter().map(|i| i.jit_compile_seconds).sum(),
            stop_reason: stop_name(result.reason).to_string(),
            migrations: result.migrations,
            hurdle_stops: sum(|i| i.hurdle_stops),
            per_island: result.per_island.clone(),
        };
        Ok(Outcome {
            record,
            best: result.best,
            select_fitness,
            evaluations: sum(|i| i.evaluations),
        })
    }
}

/// The name of a stop reason in summaries.
fn stop_name(r: StopReason) -> &'static str {
    match r {
        StopReason::Individuals => "individuals",
        StopReason::TrainSteps => "trainsteps",
        StopReason::Time => "time",
        StopReason::Target => "target",
        StopReason::Interrupted => "interrupted",
    }
}

/// Runs the whole search of `experiment` as one rank of `transport` (every rank runs the same
/// config and seed and returns the same summary; only rank 0 reports events), and returns its
/// summary.
///
/// With `islands`, each experiment's evolution is split over `threads × ranks` islands; with
/// `experiments`, up to `threads × ranks` experiments run at once, each on one thread, and their
/// outcomes are taken in experiment order, so the search ends at the lowest-numbered experiment
/// that meets a stop, whichever finished first.
///
/// # Errors
/// If tasks cannot be built, the memory makes no layout, or the transport fails.
pub fn run_with(
    experiment: &Experiment,
    options: &RunOptions,
    transport: &mut dyn Transport,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<Summary, RunError> {
    let seed = options.seed.unwrap_or(experiment.seed);
    let (mut state, mut resume) = match &options.resume {
        Some(c) => (resumed_state(c, seed)?, c.experiment.as_ref()),
        None => (fresh_state(seed), None),
    };
    let start = clock_start(state.elapsed_seconds);
    let max_seconds = match (options.max_seconds, experiment.max_seconds) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let deadline = max_seconds.map(|s| start + Duration::from_secs_f64(s));
    let base = experiment.base_dir.as_path();
    let threads = thread_count(experiment, options);
    let (rank, ranks) = (transport.rank(), transport.ranks());
    let mode = experiment.parallel.mode;
    let report = rank == 0;
    let checkpoints = options.checkpoint_every.is_some();

    let shared = Shared {
        experiment,
        options,
        mutator: Mutator::new(
            experiment.space.clone(),
            experiment.mutations.clone(),
            experiment.mutate_prob,
        ),
        settings: EvolutionSettings {
            population_size: experiment.population_size,
            tournament_size: experiment.tournament_size,
            initial_population: experiment.initial_population,
        },
        stop: StopRule {
            max_individuals: experiment.max_individuals,
            max_train_steps: experiment.max_train_steps,
            deadline,
            target_fitness: experiment.target_fitness,
            interrupt: options.interrupt,
        },
        seed,
        compile: (SHARED_COMPILE_SERVICE && threads > 1)
            .then(|| CompileService::for_searchers(threads)),
    };

    let final_tasks = build(&experiment.final_tasks, base, "final_tasks", None)?;
    let workers = threads * ranks;
    'batches: loop {
        let batch = match mode {
            ParallelMode::Islands => 1,
            ParallelMode::Experiments if experiment.max_experiments > 0 => {
                (workers as u64).min(experiment.max_experiments - state.index) as usize
            }
            ParallelMode::Experiments => workers,
        };
        // What a checkpoint taken during this batch holds of the run.
        let mut at_start = state.clone();
        at_start.elapsed_seconds = start.elapsed().as_secs_f64();
        let mut setups = Vec::with_capacity(batch);
        for _ in 0..batch {
            state.index += 1;
            setups.push(shared.setup(state.index, &mut state.rng, &mut state.task_seed_rng)?);
        }
        let outcomes = match mode {
            ParallelMode::Islands => {
                let setup = setups.pop().expect("one setup");
                let experiment_index = setup.index;
                if report {
                    on_event(Event::ExperimentStart {
                        index: experiment_index,
                    });
                }
                let islands = (rank * threads, threads, workers);
                let outcome = shared.experiment(setup, islands, transport, resume.take(), |e| {
                    if !report {
                        return;
                    }
                    match e {
                        IslandsEvent::Progress(p) => on_event(Event::Progress {
                            experiment: experiment_index,
                            progress: p,
                        }),
                        IslandsEvent::Checkpoint(snapshot) => {
                            on_event(Event::Checkpoint(view(seed, &at_start, Some(snapshot))))
                        }
                    }
                })?;
                vec![outcome]
            }
            ParallelMode::Experiments => run_batch(
                &shared,
                setups,
                rank * threads,
                threads,
                transport,
                &mut |e| {
                    if report {
                        on_event(e)
                    }
                },
            )?,
        };
        let mut cut_short = false;
        for outcome in outcomes {
            let stopped_early =
                matches!(outcome.record.stop_reason.as_str(), "time" | "interrupted");
            cut_short |= stopped_early;
            if report {
                on_event(Event::ExperimentEnd(&outcome.record));
            }
            if tally(&mut state, outcome)
                && report
                && let (Some((kept, select)), Some(r)) = (&state.best, state.records.last())
            {
                on_event(Event::NewBest {
                    experiment: r.index,
                    best: kept,
                    select_fitness: f64::from_bits(*select),
                });
            }
            let best_select = state.best.as_ref().map_or(0.0, |(_, s)| f64::from_bits(*s));
            let sufficient = experiment
                .sufficient_fitness
                .is_some_and(|f| best_select > f);
            if sufficient && state.seconds_to_sufficient.is_none() {
                state.seconds_to_sufficient = Some(start.elapsed().as_secs_f64());
            }
            let out_of_time = stopped_early || deadline.is_some_and(|d| Instant::now() >= d);
            let out_of_experiments = experiment.max_experiments > 0
                && state.records.len() as u64 >= experiment.max_experiments;
            state.finished = sufficient || out_of_experiments;
            if state.finished || out_of_time {
                break;
            }
        }
        // A batch cut short by Ctrl-C or the clock is not kept: the checkpoint taken during it
        // (islands), or the one before it, is where a resumed run goes on.
        if checkpoints && report && !cut_short {
            state.elapsed_seconds = start.elapsed().as_secs_f64();
            on_event(Event::Checkpoint(view(seed, &state, None)));
        }
        let out_of_time = cut_short || deadline.is_some_and(|d| Instant::now() >= d);
        if state.finished || out_of_time {
            break 'batches;
        }
    }
    summarize(
        experiment,
        options,
        seed,
        state,
        final_tasks,
        start,
        (threads, ranks),
    )
}

/// A checkpoint of `run` (and of the experiment in progress) as the search hands it out.
fn view<'a>(
    seed: u64,
    run: &'a RunState,
    experiment: Option<&'a IslandsSnapshot>,
) -> CheckpointView<'a> {
    CheckpointView {
        format: CHECKPOINT_FORMAT,
        seed,
        run,
        experiment,
    }
}

/// The state of a run that begins: the generators of SEMANTICS.md §8, nothing done.
fn fresh_state(seed: u64) -> RunState {
    let mut rng = Rng::new(seed);
    let task_seed_rng = rng.fork();
    RunState {
        rng,
        task_seed_rng,
        index: 0,
        records: Vec::new(),
        best: None,
        individuals: 0,
        train_steps: 0,
        migrations: 0,
        fec_weighted: (0.0f64.to_bits(), 0),
        seconds_to_sufficient: None,
        elapsed_seconds: 0.0,
        finished: false,
    }
}

/// The state a checkpoint resumes, checked against the run's seed.
fn resumed_state(checkpoint: &Checkpoint, seed: u64) -> Result<RunState, RunError> {
    if checkpoint.seed != seed {
        return Err(RunError::Resume(format!(
            "the checkpoint is of seed {}, not {seed}",
            checkpoint.seed
        )));
    }
    if checkpoint.run.finished {
        return Err(RunError::Resume(
            "the run had finished (sufficient fitness or its experiment count)".into(),
        ));
    }
    Ok(checkpoint.run.clone())
}

/// Adds a finished experiment's figures to the run's; whether its best became the kept one.
fn tally(state: &mut RunState, outcome: Outcome) -> bool {
    let Outcome {
        record,
        best: found,
        select_fitness,
        evaluations,
    } = outcome;
    state.individuals += record.individuals;
    state.train_steps += record.train_steps;
    state.migrations += record.migrations;
    let weighted = f64::from_bits(state.fec_weighted.0) + record.fec_hit_rate * evaluations as f64;
    state.fec_weighted = (weighted.to_bits(), state.fec_weighted.1 + evaluations);
    state.records.push(record);
    let improved = state
        .best
        .as_ref()
        .is_none_or(|(_, s)| select_fitness > f64::from_bits(*s));
    if improved {
        state.best = Some((found, select_fitness.to_bits()));
    }
    improved
}

/// Scores the winner on T_final and makes the summary.
fn summarize(
    experiment: &Experiment,
    options: &RunOptions,
    seed: u64,
    state: RunState,
    final_tasks: Vec<Task>,
    start: Instant,
    (threads, ranks): (usize, usize),
) -> Result<Summary, RunError> {
    let (winner, best_select_bits) = state.best.expect("at least one experiment ran");
    let mut final_eval = Evaluator::on(
        final_tasks,
        experiment.fitness_combination,
        options.executor,
    );
    let final_evaluation = final_eval.evaluate(
        &winner.algorithm,
        experiment.space.counts,
        scoring_seed(seed),
    )?;
    let final_fitness = final_evaluation.fitness;
    let final_report = final_report(&mut final_eval, final_evaluation.per_task, seed)?;
    let seconds = start.elapsed().as_secs_f64();
    let (weighted, evaluations) = state.fec_weighted;
    Ok(Summary {
        config: experiment.source.clone(),
        seed,
        experiments: state.records.len() as u64,
        individuals: state.individuals,
        train_steps: state.train_steps,
        seconds,
        individuals_per_second: state.individuals as f64 / seconds.max(1e-9),
        fec_hit_rate: if evaluations == 0 {
            0.0
        } else {
            f64::from_bits(weighted) / evaluations as f64
        },
        best_search_fitness: winner.fitness,
        best_select_fitness: f64::from_bits(best_select_bits),
        final_fitness,
        seconds_to_sufficient: state.seconds_to_sufficient,
        algorithm: amlz_ir::print_algorithm(&strip_no_ops(&winner.algorithm)),
        algorithm_live: amlz_ir::print_algorithm(&amlz_ir::analysis::eliminate_dead_code(
            &winner.algorithm,
        )),
        per_experiment: state.records,
        threads: threads as u64,
        ranks: ranks as u64,
        mode: experiment.parallel.mode.name().to_string(),
        migrations: state.migrations,
        final_report,
    })
}

/// The winner's T_final accuracies (`per_task`) beside the tuned baselines, when every T_final
/// task is scored by accuracy; `None` otherwise.
fn final_report(
    final_eval: &mut Evaluator,
    per_task: Vec<f64>,
    seed: u64,
) -> Result<Option<FinalReport>, RunError> {
    let tasks = final_eval.tasks();
    if tasks.is_empty() || tasks.iter().any(|t| t.eval_type != EvalType::Accuracy) {
        return Ok(None);
    }
    let names = tasks.iter().map(|t| t.name.clone()).collect();
    Ok(Some(FinalReport {
        tasks: names,
        algorithm: TaskStats::of(per_task),
        baselines: baselines::tune_all(final_eval, scoring_seed(seed))?,
    }))
}

/// Runs a batch of experiments, those of slots `first..first + threads` on this rank's threads
/// (each a lone island), and gathers every rank's outcomes, in experiment order. Progress and
/// starts of this rank's experiments reach `on_event` from the calling thread.
fn run_batch(
    shared: &Shared<'_>,
    setups: Vec<Setup>,
    first: usize,
    threads: usize,
    transport: &mut dyn Transport,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Outcome>, RunError> {
    let batch = setups.len();
    let mine: Vec<Setup> = setups
        .into_iter()
        .enumerate()
        .filter(|(j, _)| (first..first + threads).contains(j))
        .map(|(_, s)| s)
        .collect();
    let local: Vec<Result<Outcome, RunError>> = if mine.len() == 1 {
        let setup = mine.into_iter().next().expect("one");
        let index = setup.index;
        on_event(Event::ExperimentStart { index });
        vec![shared.experiment(setup, (0, 1, 1), &mut Local, None, |e| {
            if let IslandsEvent::Progress(p) = e {
                on_event(Event::Progress {
                    experiment: index,
                    progress: p,
                })
            }
        })]
    } else {
        let (tx, rx) = std::sync::mpsc::channel::<(u64, Progress)>();
        std::thread::scope(|s| {
            let handles: Vec<_> = mine
                .into_iter()
                .map(|setup| {
                    on_event(Event::ExperimentStart { index: setup.index });
                    let tx = tx.clone();
                    s.spawn(move || {
                        let index = setup.index;
                        shared.experiment(setup, (0, 1, 1), &mut Local, None, |e| {
                            if let IslandsEvent::Progress(p) = e {
                                let _ = tx.send((index, *p));
                            }
                        })
                    })
                })
                .collect();
            drop(tx);
            for (experiment, progress) in rx {
                on_event(Event::Progress {
                    experiment,
                    progress: &progress,
                });
            }
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let local: Vec<Outcome> = local.into_iter().collect::<Result<_, _>>()?;
    let all: Vec<Outcome> = all_gather(transport, local)?
        .into_iter()
        .flatten()
        .collect();
    if all.len() != batch {
        return Err(RunError::Transport(TransportError::Message(format!(
            "expected {batch} experiments from the ranks, got {}",
            all.len()
        ))));
    }
    Ok(all)
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
