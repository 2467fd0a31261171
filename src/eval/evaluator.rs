//! The evaluator: the fitness of one algorithm on a collection of tasks (SEMANTICS.md §4, last
//! paragraph), with one random stream per task derived from a seed.

use super::executor::{ExecutorChoice, use_jit};
use super::{Combination, Limits, NoObserver, Outcome, combine};
use crate::interp::{self, Memory, Program};
use crate::jit_executor::{self, JitExecutor};
use crate::task::Task;
use amlz_ir::{AddressError, Algorithm, Layout, LayoutError, MemoryCounts, Rng};

/// The fitness of an algorithm on each task and combined.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Per-task fitness, in task order.
    pub per_task: Vec<f64>,
    /// The per-task fitnesses combined by the collection's rule.
    pub fitness: f64,
    /// Predict+Learn pairs run over all tasks.
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
        self.evaluate_with(algorithm, counts, seed, |program, task, memory, rng| {
            interp::evaluate(program, task, memory, rng, &Limits::FULL, &mut NoObserver)
        })
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
        let mut prepared: Vec<jit_executor::JitProgram> = Vec::new();
        for task in &self.tasks {
            let layout = Layout::new(task.features, counts)?;
            let fits = |p: &jit_executor::JitProgram| {
                p.layout() == layout && p.eval_type() == task.eval_type
            };
            if !prepared.iter().any(fits) {
                prepared.push(jit.prepare(algorithm, layout, task.eval_type)?);
            }
        }
        let tasks = std::mem::take(&mut self.tasks);
        let mut per_task = Vec::with_capacity(tasks.len());
        let mut train_steps = 0;
        for (i, task) in tasks.iter().enumerate() {
            let p = prepared
                .iter()
                .find(|p| p.layout().features() == task.features && p.eval_type() == task.eval_type)
                .expect("prepared above");
            let mut rng = Rng::new(task_stream_seed(seed, i));
            let outcome = jit_executor::evaluate(
                p,
                task,
                &mut self.memory,
                &mut rng,
                &Limits::FULL,
                &mut NoObserver,
            );
            per_task.push(outcome.fitness);
            train_steps += outcome.train_steps;
        }
        self.tasks = tasks;
        let fitness = combine(&per_task, self.combination);
        Ok(Evaluation {
            per_task,
            fitness,
            train_steps,
        })
    }

    /// JIT counters of this evaluator (`None` if it never compiled).
    pub fn jit_stats(&self) -> Option<jit_executor::JitStats> {
        self.jit.as_ref().map(JitExecutor::stats)
    }

    /// As [`Evaluator::evaluate`], with the per-task evaluation given by `run` (so that other
    /// executors can plug in). Programs are decoded once per feature size.
    pub fn evaluate_with(
        &mut self,
        algorithm: &Algorithm,
        counts: MemoryCounts,
        seed: u64,
        mut run: impl FnMut(&Program, &Task, &mut Memory, &mut Rng) -> Outcome,
    ) -> Result<Evaluation, EvalError> {
        let mut programs: Vec<Program> = Vec::new();
        let mut per_task = Vec::with_capacity(self.tasks.len());
        let mut train_steps = 0;
        for (i, task) in self.tasks.iter().enumerate() {
            let program = match programs
                .iter()
                .position(|p| p.layout().features() == task.features)
            {
                Some(k) => &programs[k],
                None => {
                    let layout = Layout::new(task.features, counts)?;
                    programs.push(Program::new(algorithm, layout)?);
                    programs.last().expect("just pushed")
                }
            };
            let mut rng = Rng::new(task_stream_seed(seed, i));
            let outcome = run(program, task, &mut self.memory, &mut rng);
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
