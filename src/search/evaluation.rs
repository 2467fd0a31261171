//! Fitness of candidates during a search: dead-code elimination, the train budget, the FEC
//! fingerprint and cache, then the full evaluation on the search tasks.

use super::cost::example_cost_ns;
use super::fec_cache::{FecCache, FingerprintHasher};
use super::tiering::{CodeKey, Tiering};
use super::train_budget::TrainBudget;
use crate::eval::{
    BreakEven, Combination, ExecutorChoice, Limits, NoObserver, Observer, Outcome, combine,
    task_stream_seed,
};
use crate::interp::{self, Memory, Program};
use crate::jit_executor::{self, JitExecutor, JitProgram};
use crate::task::{EvalType, Task};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{Algorithm, Layout, MemoryCounts, Rng};
use amlz_jit::JitConfig;

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
    /// Train examples started in fingerprints and full evaluations: the original AutoML-Zero's
    /// train-step count (its evaluator adds the fingerprint executor's steps too), which
    /// `max_train_steps` bounds.
    pub train_steps: u64,
    /// Candidates the train budget cut to zero train examples.
    pub over_budget: u64,
    /// Evaluations (fingerprints and full, per task) that ran compiled code.
    pub native_evaluations: u64,
    /// Structures compiled.
    pub compiled: u64,
    /// Structures whose compilation failed: they ran in the interpreter (the fallback).
    pub jit_failures: u64,
}

/// The executor of a search's evaluations.
enum Tier {
    /// Everything in the interpreter.
    Interp,
    /// Everything compiled, on this thread (the search waits for Cranelift).
    Jit(Box<JitExecutor>),
    /// Hot structures compiled in the background.
    Auto(Box<Tiering>),
}

/// One distinct (layout, eval type) among the tasks, with the candidate prepared for it.
struct Slot {
    layout: Layout,
    eval_type: EvalType,
    /// Most examples a full evaluation of one task of this slot runs.
    full_examples: f64,
    program: Option<Program>,
    native: Option<JitProgram>,
    key: Option<CodeKey>,
    /// The candidate's cost-model estimate per example.
    cost_ns: f64,
}

/// Most examples an evaluation of `task` under `limits` runs.
fn call_examples(task: &Task, limits: &Limits) -> f64 {
    let epochs = task.num_epochs().min(limits.max_epochs);
    (epochs * (task.num_train().min(limits.max_train) + task.num_valid().min(limits.max_valid)))
        as f64
}

/// Evaluates candidates on the search tasks.
pub struct SearchEvaluator {
    tasks: Vec<Task>,
    slots: Vec<Slot>,
    slot_of: Vec<usize>,
    combination: Combination,
    fec: Option<(FecSettings, FecCache)>,
    budget: Option<TrainBudget>,
    tier: Tier,
    memory: Memory,
    per_task: Vec<f64>,
    stats: EvaluationStats,
}

impl std::fmt::Debug for SearchEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchEvaluator")
            .field("tasks", &self.tasks.len())
            .field("stats", &self.stats)
            .finish()
    }
}

fn slots_for(
    tasks: &[Task],
    counts: MemoryCounts,
) -> Result<(Vec<Slot>, Vec<usize>), amlz_ir::LayoutError> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut slot_of = Vec::with_capacity(tasks.len());
    for t in tasks {
        let layout = Layout::new(t.features, counts)?;
        let full = (t.num_epochs() * (t.num_train() + t.num_valid())) as f64;
        let k = match slots
            .iter()
            .position(|s| s.layout == layout && s.eval_type == t.eval_type)
        {
            Some(k) => {
                slots[k].full_examples = slots[k].full_examples.max(full);
                k
            }
            None => {
                slots.push(Slot {
                    layout,
                    eval_type: t.eval_type,
                    full_examples: full,
                    program: None,
                    native: None,
                    key: None,
                    cost_ns: 0.0,
                });
                slots.len() - 1
            }
        };
        slot_of.push(k);
    }
    Ok((slots, slot_of))
}

impl SearchEvaluator {
    /// An evaluator over `tasks` with memory counts `counts`, running evaluations on `executor`
    /// (`auto`: hot structures compiled on a background thread).
    ///
    /// # Errors
    /// If a task's feature size or the counts make no valid layout.
    pub fn new(
        tasks: Vec<Task>,
        counts: MemoryCounts,
        combination: Combination,
        fec: Option<FecSettings>,
        budget: Option<TrainBudget>,
        executor: ExecutorChoice,
    ) -> Result<SearchEvaluator, amlz_ir::LayoutError> {
        let (slots, slot_of) = slots_for(&tasks, counts)?;
        let tier = match executor {
            ExecutorChoice::Interp => Tier::Interp,
            ExecutorChoice::Jit => Tier::Jit(Box::new(JitExecutor::new(JitConfig::default()))),
            ExecutorChoice::Auto => Tier::Auto(Box::new(Tiering::new(BreakEven::get()))),
        };
        Ok(SearchEvaluator {
            tasks,
            slots,
            slot_of,
            combination,
            fec: fec.map(|s| (s, FecCache::new(s.cache_size, s.forget_every))),
            budget,
            tier,
            memory: Memory::default(),
            per_task: Vec::new(),
            stats: EvaluationStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> EvaluationStats {
        let mut s = self.stats;
        match &self.tier {
            Tier::Interp => {}
            Tier::Jit(jit) => {
                let j = jit.stats();
                s.compiled = j.compiler.compiled;
                s.jit_failures = j.fallbacks;
            }
            Tier::Auto(t) => {
                let t = t.stats();
                s.compiled = t.compiled;
                s.jit_failures = t.failed;
            }
        }
        s
    }

    /// FEC cache hit rate so far (0 without FEC).
    pub fn fec_hit_rate(&self) -> f64 {
        self.fec.as_ref().map_or(0.0, |(_, c)| c.hit_rate())
    }

    /// Prepares `live` for every slot: decoded for the interpreter, and compiled code where the
    /// tier has (or, for a forced JIT, makes) it.
    fn prepare(&mut self, live: &Algorithm) {
        for slot in &mut self.slots {
            slot.cost_ns = example_cost_ns(live, slot.layout.features());
            slot.key = None;
            slot.native = None;
            slot.program = None;
            match &mut self.tier {
                Tier::Jit(jit) => {
                    // The prepared program carries its own decoding for Setup and fallbacks.
                    let p = jit
                        .prepare(live, slot.layout, slot.eval_type)
                        .expect("mutations keep addresses in range");
                    if p.is_compiled() {
                        slot.native = Some(p);
                    } else {
                        slot.program = Some(p.program().clone());
                    }
                    continue;
                }
                Tier::Interp | Tier::Auto(_) => {}
            }
            let program =
                Program::new(live, slot.layout).expect("mutations keep addresses in range");
            // A structure is worth a key only if some evaluation of it could run faster natively.
            if let Tier::Auto(tiering) = &mut self.tier
                && tiering
                    .break_even()
                    .saved_ns(slot.cost_ns, slot.full_examples)
                    > 0.0
            {
                let key = CodeKey::new(live, slot.layout, slot.eval_type);
                match tiering.native(&key, live, program) {
                    Ok(native) => slot.native = Some(native),
                    Err(program) => slot.program = Some(program),
                }
                slot.key = Some(key);
            } else {
                slot.program = Some(program);
            }
        }
    }

    /// Runs task `i` on the candidate prepared in its slot.
    fn run<O: Observer>(
        &mut self,
        i: usize,
        rng: &mut Rng,
        limits: &Limits,
        observer: &mut O,
    ) -> Outcome {
        let slot = &self.slots[self.slot_of[i]];
        let task = &self.tasks[i];
        // A forced JIT runs everything natively; `auto` only calls long enough to gain.
        let native = slot.native.as_ref().filter(|_| match &self.tier {
            Tier::Auto(tiering) => {
                tiering
                    .break_even()
                    .saved_ns(slot.cost_ns, call_examples(task, limits))
                    > 0.0
            }
            _ => true,
        });
        match native {
            Some(native) => {
                self.stats.native_evaluations += 1;
                jit_executor::evaluate(native, task, &mut self.memory, rng, limits, observer)
            }
            None => {
                // Either the slot has only a decoded program, or the call is too short to gain
                // from the native one, whose decoding the interpreter then runs.
                let program = match (&slot.program, &slot.native) {
                    (Some(p), _) => p,
                    (None, Some(n)) => n.program(),
                    (None, None) => unreachable!("prepare fills every slot"),
                };
                interp::evaluate(program, task, &mut self.memory, rng, limits, observer)
            }
        }
    }

    /// Tells the tier how much interpreter work a structure just cost.
    fn record(&mut self, live: &Algorithm, i: usize, examples: f64) {
        if let Tier::Auto(tiering) = &mut self.tier {
            let slot = &self.slots[self.slot_of[i]];
            if let (None, Some(key)) = (&slot.native, &slot.key) {
                tiering.record(key, live, slot.cost_ns, examples);
            }
        }
    }

    /// The fitness of `algorithm` on the search tasks; random ops of the full evaluation draw from
    /// streams seeded by `seed`. Every executor gives the same fitness bit for bit.
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
        self.prepare(&live);

        let key = if let Some((fec, _)) = &self.fec {
            let fec = *fec;
            let mut hasher = FingerprintHasher::default();
            let prefix = Limits::prefix(
                fec.num_train_examples.min(limits.max_train),
                fec.num_valid_examples,
            );
            let mut rng = Rng::new(FINGERPRINT_SEED);
            for i in 0..self.tasks.len() {
                rng.reseed(FINGERPRINT_SEED);
                hasher.add(i as u64);
                hasher.add(self.tasks[i].num_train().min(limits.max_train) as u64);
                let out = self.run(i, &mut rng, &prefix, &mut ErrorHasher(&mut hasher));
                self.stats.train_steps += out.train_steps;
                let valid = self.tasks[i].num_valid().min(prefix.max_valid);
                self.record(&live, i, (out.train_steps as usize + valid) as f64);
            }
            let key = hasher.finish();
            let (_, cache) = self.fec.as_mut().expect("checked above");
            if let Some(fitness) = cache.lookup(key) {
                return fitness;
            }
            Some(key)
        } else {
            None
        };

        self.stats.full_evaluations += 1;
        self.per_task.clear();
        for i in 0..self.tasks.len() {
            let mut rng = Rng::new(task_stream_seed(seed, i));
            let outcome = self.run(i, &mut rng, &limits, &mut NoObserver);
            self.stats.train_steps += outcome.train_steps;
            self.per_task.push(outcome.fitness);
            let task = &self.tasks[i];
            let valid =
                task.num_valid().min(limits.max_valid) * task.num_epochs().min(limits.max_epochs);
            self.record(&live, i, (outcome.train_steps as usize + valid) as f64);
        }
        let fitness = combine(&self.per_task, self.combination);
        if let (Some(key), Some((_, cache))) = (key, &mut self.fec) {
            cache.insert(key, fitness);
        }
        fitness
    }
}
