//! The evaluator: the fitness of one algorithm on a collection of tasks (SEMANTICS.md §4, last
//! paragraph), with one random stream per task derived from a seed.

use super::executor::{ExecutorChoice, use_jit};
use super::{Combination, Limits, NoObserver, Outcome, combine};
use crate::interp::{self, Memory, Program};
use crate::jit_executor::{self, JitExecutor, JitProgram};
use crate::task::Task;
use amlz_ir::{AddressError, Algorithm, Layout, LayoutError, MemoryCounts, Rng};

/// The fitness of an algorithm on each task and combined.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Per-task fitness, in task order.
    pub per_task: Vec<f64>,
    /// The per-task fitnesses combined by the collection's rule.
    pub fitness: f64,
    /// Train examples started over all tasks ([`Outcome::train_steps`]).
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

/// Evaluates algorithms on one task collection, reusing its memory between evaluations.
#[derive(Debug)]
pub struct Evaluator {
    tasks: Vec<Task>,
    combination: Combination,
    memory: Memory,
    jit: Option<JitExecutor>,
}

impl Evaluator {
    /// An evaluator over `tasks`, combining per-task fitness by `combination`.
    pub fn new(tasks: Vec<Task>, combination: Combination) -> Evaluator {
        Evaluator {
            tasks,
            combination,
            memory: Memory::default(),
            jit: None,
        }
    }

    /// The tasks.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// Evaluates `algorithm` with memory counts `counts` on every task with the interpreter; task
    /// `i` draws its random ops from `Rng::new(task_stream_seed(seed, i))`.
    pub fn evaluate(
        &mut self,
        algorithm: &Algorithm,
        counts: MemoryCounts,
        seed: u64,
    ) -> Result<Evaluation, EvalError> {
        let mut programs: Vec<Program> = Vec::new();
        for task in &self.tasks {
            if !programs
                .iter()
                .any(|p| p.layout().features() == task.features)
            {
                programs.push(Program::new(
                    algorithm,
                    Layout::new(task.features, counts)?,
                )?);
            }
        }
        Ok(self.run_tasks(seed, |task, memory, rng| {
            let program = programs
                .iter()
                .find(|p| p.layout().features() == task.features)
                .expect("decoded above");
            interp::evaluate(program, task, memory, rng, &Limits::FULL, &mut NoObserver)
        }))
    }

    /// As [`Evaluator::evaluate`], on the executor `executor` picks: the interpreter, the JIT
    /// (falling back to the interpreter, counted, where code generation fails) or, for `auto`,
    /// the JIT when this evaluation's expected work passes the measured break-even. Every
    /// executor gives the same result bit for bit.
    pub fn evaluate_on(
        &mut self,
        algorithm: &Algorithm,
        counts: MemoryCounts,
        seed: u64,
        executor: ExecutorChoice,
    ) -> Result<Evaluation, EvalError> {
        if !use_jit(executor, algorithm, &self.tasks) {
            return self.evaluate(algorithm, counts, seed);
        }
        let jit = self
            .jit
            .get_or_insert_with(|| JitExecutor::new(amlz_jit::JitConfig::default()));
        let mut prepared: Vec<JitProgram> = Vec::new();
        for task in &self.tasks {
            let layout = Layout::new(task.features, counts)?;
            if !prepared.iter().any(|p| fits(p, task)) {
                prepared.push(jit.prepare(algorithm, layout, task.eval_type)?);
            }
        }
        Ok(self.run_tasks(seed, |task, memory, rng| {
            let program = prepared
                .iter()
                .find(|p| fits(p, task))
                .expect("prepared above");
            jit_executor::evaluate(program, task, memory, rng, &Limits::FULL, &mut NoObserver)
        }))
    }

    /// Runs `run` on every task with the task's own random stream, and combines the fitnesses.
    fn run_tasks(
        &mut self,
        seed: u64,
        mut run: impl FnMut(&Task, &mut Memory, &mut Rng) -> Outcome,
    ) -> Evaluation {
        let mut per_task = Vec::with_capacity(self.tasks.len());
        let mut train_steps = 0;
        for (i, task) in self.tasks.iter().enumerate() {
            let mut rng = Rng::new(task_stream_seed(seed, i));
            let outcome = run(task, &mut self.memory, &mut rng);
            per_task.push(outcome.fitness);
            train_steps += outcome.train_steps;
        }
        let fitness = combine(&per_task, self.combination);
        Evaluation {
            per_task,
            fitness,
            train_steps,
        }
    }
}

/// Whether prepared code serves `task` (its feature size and scoring).
fn fits(program: &JitProgram, task: &Task) -> bool {
    program.layout().features() == task.features && program.eval_type() == task.eval_type
}
