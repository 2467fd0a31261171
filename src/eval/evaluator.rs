//! The evaluator: the fitness of one algorithm on a collection of tasks (SEMANTICS.md §4, last
//! paragraph), with one random stream per task derived from a seed.

use crate::exec::choice::{Use, full_examples};
use crate::exec::interp::Memory;
use crate::exec::jit::PackedRows;
use crate::exec::{Executor, ExecutorChoice, ExecutorStats, Limits, NoObserver, Prepared};
use crate::task::Task;
use crate::task::combination::{Combination, combine};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{AddressError, Algorithm, Layout, LayoutError, MemoryCounts, Rng};

/// The fitness of an algorithm on each task and combined.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Per-task fitness, in task order.
    pub per_task: Vec<f64>,
    /// The per-task fitnesses combined by the collection's rule.
    pub fitness: f64,
    /// Train examples started over all tasks ([`crate::exec::Outcome::train_steps`]).
    pub train_steps: u64,
}

/// Why an algorithm cannot be evaluated on a collection.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum EvalError {
    /// An address does not fit the memory.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// A task's feature size or the memory counts are not supported.
    #[error(transparent)]
    Layout(#[from] LayoutError),
}

/// The seed of the random stream of task `index` in an evaluation seeded by `seed`: distinct per
/// task, fixed by the pair.
pub fn task_stream_seed(seed: u64, index: usize) -> u64 {
    seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Evaluates algorithms on one task collection, on one executor, reusing its memory, its packed
/// rows and its compiled code between evaluations.
#[derive(Debug)]
pub struct Evaluator {
    tasks: Vec<Task>,
    /// The tasks' examples as the JIT reads them, packed once per task.
    rows: Vec<PackedRows>,
    combination: Combination,
    memory: Memory,
    executor: Executor,
}

impl Evaluator {
    /// An evaluator over `tasks`, combining per-task fitness by `combination`, on the
    /// interpreter.
    pub fn new(tasks: Vec<Task>, combination: Combination) -> Evaluator {
        Evaluator::on(tasks, combination, ExecutorChoice::Interp)
    }

    /// An evaluator over `tasks`, combining per-task fitness by `combination`, on the executor
    /// `executor` names. Every executor gives the same results bit for bit.
    pub fn on(tasks: Vec<Task>, combination: Combination, executor: ExecutorChoice) -> Evaluator {
        Evaluator {
            rows: tasks.iter().map(|_| PackedRows::default()).collect(),
            tasks,
            combination,
            memory: Memory::default(),
            executor: Executor::new(executor),
        }
    }

    /// The tasks.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The executor's counters so far (how many evaluations ran natively, what was compiled).
    pub fn executor_stats(&self) -> ExecutorStats {
        self.executor.stats()
    }

    /// Evaluates `algorithm` with memory counts `counts` on every task; task `i` draws its
    /// random ops from `Rng::new(task_stream_seed(seed, i))`. The dead code is eliminated first
    /// (which changes no result).
    pub fn evaluate(
        &mut self,
        algorithm: &Algorithm,
        counts: MemoryCounts,
        seed: u64,
    ) -> Result<Evaluation, EvalError> {
        algorithm.check_addresses(&counts)?;
        let live = eliminate_dead_code(algorithm);
        let mut prepared: Vec<Prepared> = Vec::new();
        for task in &self.tasks {
            if prepared.iter().any(|p| p.fits(task)) {
                continue;
            }
            // All the work this evaluation will run on this preparation.
            let examples = self
                .tasks
                .iter()
                .filter(|t| t.features == task.features && t.eval_type == task.eval_type)
                .map(full_examples)
                .sum();
            let layout = Layout::new(task.features, counts)?;
            prepared.push(self.executor.prepare(
                &live,
                layout,
                task.eval_type,
                Use::Once(examples),
            )?);
        }
        let mut per_task = Vec::with_capacity(self.tasks.len());
        let mut train_steps = 0;
        for (i, task) in self.tasks.iter().enumerate() {
            let program = prepared
                .iter()
                .find(|p| p.fits(task))
                .expect("prepared above");
            let mut rng = Rng::new(task_stream_seed(seed, i));
            let outcome = self.executor.evaluate(
                program,
                task,
                &self.rows[i],
                &mut self.memory,
                &mut rng,
                &Limits::FULL,
                &mut NoObserver,
            );
            per_task.push(outcome.fitness);
            train_steps += outcome.train_steps;
        }
        let fitness = combine(&per_task, self.combination);
        Ok(Evaluation {
            per_task,
            fitness,
            train_steps,
        })
    }
}
