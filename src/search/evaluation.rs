//! Fitness of candidates during a search: dead-code elimination, the train budget, the FEC
//! fingerprint and cache, then the full evaluation on the search tasks.

use super::fec_cache::{FecCache, FingerprintHasher};
use super::train_budget::TrainBudget;
use crate::eval::{Combination, Limits, NoObserver, Observer, combine, task_stream_seed};
use crate::interp::{self, Memory, Program};
use crate::task::Task;
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{Algorithm, Layout, MemoryCounts, Rng};

/// FEC settings (SEMANTICS.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FecSettings {
    /// Train examples in a fingerprint.
    pub num_train_examples: usize,
    /// Validation examples in a fingerprint.
    pub num_valid_examples: usize,
    /// Most entries the cache holds.
    pub cache_size: usize,
    /// An entry found this many times is dropped (0: never).
    pub forget_every: u32,
}

impl Default for FecSettings {
    fn default() -> Self {
        FecSettings {
            num_train_examples: 10,
            num_valid_examples: 10,
            cache_size: 100_000,
            forget_every: 100,
        }
    }
}

/// The fixed seed of the random stream during fingerprints: the same for every algorithm, so that
/// equal functions give equal fingerprints.
pub const FINGERPRINT_SEED: u64 = 0x5eed_f1e9;

/// Hashes the absolute error of every prediction a fingerprint makes.
struct ErrorHasher<'a>(&'a mut FingerprintHasher);

impl Observer for ErrorHasher<'_> {
    #[inline(always)]
    fn train(&mut self, label: f64, prediction: f64) {
        self.0.add((label - prediction).abs().to_bits());
    }
    #[inline(always)]
    fn valid(&mut self, label: f64, prediction: f64) {
        self.0.add((label - prediction).abs().to_bits());
    }
}

/// Counters of a search's evaluations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvaluationStats {
    /// Candidates evaluated (fingerprint or full).
    pub evaluations: u64,
    /// Full evaluations run (FEC misses, or every evaluation without FEC).
    pub full_evaluations: u64,
    /// Predict+Learn pairs run in full evaluations.
    pub train_steps: u64,
    /// Candidates the train budget cut to zero train examples.
    pub over_budget: u64,
}

/// Evaluates candidates on the search tasks.
#[derive(Debug)]
pub struct SearchEvaluator {
    tasks: Vec<Task>,
    layouts: Vec<Layout>,
    combination: Combination,
    fec: Option<(FecSettings, FecCache)>,
    budget: Option<TrainBudget>,
    memory: Memory,
    per_task: Vec<f64>,
    stats: EvaluationStats,
}

impl SearchEvaluator {
    /// An evaluator over `tasks` with memory counts `counts`.
    ///
    /// # Errors
    /// If a task's feature size or the counts make no valid layout.
    pub fn new(
        tasks: Vec<Task>,
        counts: MemoryCounts,
        combination: Combination,
        fec: Option<FecSettings>,
        budget: Option<TrainBudget>,
    ) -> Result<SearchEvaluator, amlz_ir::LayoutError> {
        let layouts = tasks
            .iter()
            .map(|t| Layout::new(t.features, counts))
            .collect::<Result<_, _>>()?;
        Ok(SearchEvaluator {
            tasks,
            layouts,
            combination,
            fec: fec.map(|s| (s, FecCache::new(s.cache_size, s.forget_every))),
            budget,
            memory: Memory::default(),
            per_task: Vec::new(),
            stats: EvaluationStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> EvaluationStats {
        self.stats
    }

    /// FEC cache hit rate so far (0 without FEC).
    pub fn fec_hit_rate(&self) -> f64 {
        self.fec.as_ref().map_or(0.0, |(_, c)| c.hit_rate())
    }

    /// Replaces the tasks (a new experiment with fresh seeds); the FEC cache is cleared because
    /// its fitnesses were measured on the old tasks.
    pub fn set_tasks(&mut self, tasks: Vec<Task>) -> Result<(), amlz_ir::LayoutError> {
        let counts = self
            .layouts
            .first()
            .map(|l| l.counts())
            .unwrap_or(MemoryCounts::MINIMUM);
        self.layouts = tasks
            .iter()
            .map(|t| Layout::new(t.features, counts))
            .collect::<Result<_, _>>()?;
        self.tasks = tasks;
        if let Some((_, cache)) = &mut self.fec {
            cache.clear();
        }
        Ok(())
    }

    /// The fitness of `algorithm` on the search tasks; random ops of the full evaluation draw from
    /// streams seeded by `seed`.
    ///
    /// # Panics
    /// If an address of `algorithm` does not fit the counts (the mutator never makes one).
    pub fn fitness(&mut self, algorithm: &Algorithm, seed: u64) -> f64 {
        self.stats.evaluations += 1;
        let live = eliminate_dead_code(algorithm);
        let limits = match &self.budget {
            Some(b) if !b.allows(&live) => {
                self.stats.over_budget += 1;
                Limits::UNTRAINED
            }
            _ => Limits::FULL,
        };
        let mut programs: Vec<Program> = Vec::with_capacity(1);
        let mut program_of = Vec::with_capacity(self.tasks.len());
        for layout in &self.layouts {
            let k = match programs.iter().position(|p| p.layout() == *layout) {
                Some(k) => k,
                None => {
                    programs.push(
                        Program::new(&live, *layout).expect("mutations keep addresses in range"),
                    );
                    programs.len() - 1
                }
            };
            program_of.push(k);
        }

        let key = if let Some((fec, cache)) = &mut self.fec {
            let mut hasher = FingerprintHasher::default();
            let prefix = Limits::prefix(
                fec.num_train_examples.min(limits.max_train),
                fec.num_valid_examples,
            );
            let mut rng = Rng::new(FINGERPRINT_SEED);
            for (i, task) in self.tasks.iter().enumerate() {
                rng.reseed(FINGERPRINT_SEED);
                hasher.add(i as u64);
                hasher.add(task.num_train().min(limits.max_train) as u64);
                interp::evaluate(
                    &programs[program_of[i]],
                    task,
                    &mut self.memory,
                    &mut rng,
                    &prefix,
                    &mut ErrorHasher(&mut hasher),
                );
            }
            let key = hasher.finish();
            if let Some(fitness) = cache.lookup(key) {
                return fitness;
            }
            Some(key)
        } else {
            None
        };

        self.stats.full_evaluations += 1;
        self.per_task.clear();
        for (i, task) in self.tasks.iter().enumerate() {
            let mut rng = Rng::new(task_stream_seed(seed, i));
            let outcome = interp::evaluate(
                &programs[program_of[i]],
                task,
                &mut self.memory,
                &mut rng,
                &limits,
                &mut NoObserver,
            );
            self.stats.train_steps += outcome.train_steps;
            self.per_task.push(outcome.fitness);
        }
        let fitness = combine(&self.per_task, self.combination);
        if let (Some(key), Some((_, cache))) = (key, &mut self.fec) {
            cache.insert(key, fitness);
        }
        fitness
    }
}
