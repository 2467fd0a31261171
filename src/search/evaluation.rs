//! Fitness of candidates during a search: dead-code elimination, the train budget, the FEC
//! fingerprint and cache, then the full evaluation on the search tasks.

use super::fec_cache::{FecCache, FecSnapshot, FingerprintHasher};
use super::fingerprint_memo::{Fingerprint, FingerprintMemo, MemoKey, Miss};
use super::hurdle::{Hurdle, HurdleSettings};
use super::train_budget::TrainBudget;
use crate::eval::{Combination, combine, task_stream_seed};
use crate::exec::choice::{Use, full_examples};
use crate::exec::epochs::{MAX_LANES, same_shape};
use crate::exec::interp::{LaneMemory, Memory};
use crate::exec::jit::PackedRows;
use crate::exec::tiering::CompileService;
use crate::exec::{
    Executor, ExecutorChoice, InterpMode, LaneObserver, Limits, NoObserver, Outcome, Prepared,
};
use crate::task::{EvalType, Task};
use amlz_ir::analysis::DeadCodeEliminator;
use amlz_ir::{Algorithm, Layout, MemoryCounts, Rng};
use std::sync::Arc;

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

/// Hashes, task by task, the bits of the absolute error of every prediction a fingerprint makes
/// (lane `i` is task `i`): one chain per task, so that the lanes' chains overlap in the processor
/// and nothing is stored on the way.
struct TaskHashes<'a>(&'a mut [FingerprintHasher]);

impl LaneObserver for TaskHashes<'_> {
    #[inline(always)]
    fn train(&mut self, task: usize, label: f64, prediction: f64) {
        self.0[task].add((label - prediction).abs().to_bits());
    }
    #[inline(always)]
    fn valid(&mut self, task: usize, label: f64, prediction: f64) {
        self.0[task].add((label - prediction).abs().to_bits());
    }
}

/// A lane group's view of an observer of every task: lane `l` is task `tasks[l]`.
struct ByTask<'a, O> {
    tasks: &'a [usize],
    observer: &'a mut O,
}

impl<O: LaneObserver> LaneObserver for ByTask<'_, O> {
    #[inline(always)]
    fn train(&mut self, lane: usize, label: f64, prediction: f64) {
        self.observer.train(self.tasks[lane], label, prediction);
    }
    #[inline(always)]
    fn valid(&mut self, lane: usize, label: f64, prediction: f64) {
        self.observer.valid(self.tasks[lane], label, prediction);
    }
}

/// Counters of a search's evaluations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Evaluations (fingerprints and full, per task) that ran in the interpreter's multi-task
    /// lanes.
    #[serde(default)]
    pub lane_evaluations: u64,
    /// Per-task evaluations (fingerprints and full) on any executor.
    #[serde(default)]
    pub task_evaluations: u64,
    /// Wall nanoseconds spent compiling its structures.
    #[serde(default)]
    pub compile_ns: u64,
    /// Structures compiled.
    pub compiled: u64,
    /// Structures whose compilation failed: they ran in the interpreter (the fallback).
    pub jit_failures: u64,
    /// Early evaluations run by the hurdle (one per candidate that FEC did not answer).
    #[serde(default)]
    pub hurdle_evaluations: u64,
    /// Candidates whose early evaluation fell below the hurdle: they kept its fitness.
    #[serde(default)]
    pub hurdle_stops: u64,
}

/// One distinct (layout, eval type) among the tasks, with the candidate prepared for it.
struct Slot {
    layout: Layout,
    eval_type: EvalType,
    /// Most examples a full evaluation of one task of this slot runs.
    full_examples: f64,
    prepared: Option<Prepared>,
}

/// Search tasks that fingerprints and full evaluations run side by side: one slot, one shape,
/// at most [`MAX_LANES`], in task order.
#[derive(Debug)]
struct LaneGroup {
    slot: usize,
    tasks: Vec<usize>,
}

impl LaneGroup {
    /// How the interpreter runs the group: in lanes, unless it holds one task.
    fn interp_mode(&self) -> InterpMode {
        match self.tasks.len() {
            1 => InterpMode::Alone,
            _ => InterpMode::Lanes,
        }
    }
}

/// Groups the tasks for multi-task evaluation: each task joins the first open group of its
/// slot and shape.
fn lane_groups(tasks: &[Task], slot_of: &[usize]) -> Vec<LaneGroup> {
    let mut groups: Vec<LaneGroup> = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let open = groups.iter_mut().find(|g| {
            g.slot == slot_of[i]
                && g.tasks.len() < MAX_LANES
                && same_shape(&tasks[g.tasks[0]], task)
        });
        match open {
            Some(g) => g.tasks.push(i),
            None => groups.push(LaneGroup {
                slot: slot_of[i],
                tasks: vec![i],
            }),
        }
    }
    groups
}

/// Evaluates candidates on the search tasks.
pub struct SearchEvaluator {
    tasks: Vec<Task>,
    /// The tasks' examples as the JIT reads them, packed once per task.
    rows: Vec<PackedRows>,
    slots: Vec<Slot>,
    /// The tasks as full evaluations run them, side by side.
    groups: Vec<LaneGroup>,
    combination: Combination,
    fec: Option<(FecSettings, FecCache)>,
    budget: Option<TrainBudget>,
    executor: Executor,
    memory: Memory,
    lane_memory: LaneMemory,
    /// The random streams of one lane group's evaluation.
    lane_rngs: Vec<Rng>,
    per_task: Vec<f64>,
    /// The outcomes of one pass over the tasks, by task.
    outcomes: Vec<Outcome>,
    /// A fingerprint's hash chains, by task.
    task_hashes: Vec<FingerprintHasher>,
    /// Eliminates each candidate's dead code into `live` (both reused: no allocation).
    dce: DeadCodeEliminator,
    live: Algorithm,
    stats: EvaluationStats,
    /// The executor's counters (native evaluations, compiles, fallbacks) of a checkpointed run
    /// before it was resumed: added to this executor's own.
    executor_before: EvaluationStats,
    /// The structural shortcut: fingerprints by [`MemoKey`] (`None`: off).
    memo: Option<FingerprintMemo>,
    /// The current candidate's memo key (reused).
    memo_key: MemoKey,
    /// The distinct memory layouts of the slots, in slot order: those Setup's effect is taken on.
    layouts: Vec<Layout>,
    /// The hurdle (`None`: off, every candidate FEC did not answer is evaluated in full).
    hurdle: Option<Hurdle>,
}

/// What a checkpoint keeps of an evaluator: its counters and its FEC cache. Nothing else of it
/// changes a result (compiled code and the tier's hotness only change which executor runs).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvaluatorSnapshot {
    /// Its counters.
    pub stats: EvaluationStats,
    /// Its FEC cache, if it has one.
    pub fec: Option<FecSnapshot>,
    /// Its hurdle's window of early fitnesses, as bits, if it has a hurdle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hurdle: Option<Vec<u64>>,
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
        let full = full_examples(t);
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
                    prepared: None,
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
        let groups = lane_groups(&tasks, &slot_of);
        let mut layouts: Vec<Layout> = Vec::new();
        for slot in &slots {
            if !layouts.contains(&slot.layout) {
                layouts.push(slot.layout);
            }
        }
        Ok(SearchEvaluator {
            rows: tasks.iter().map(|_| PackedRows::default()).collect(),
            groups,
            tasks,
            slots,
            combination,
            fec: fec.map(|s| (s, FecCache::new(s.cache_size, s.forget_every))),
            budget,
            executor: Executor::new(executor),
            memory: Memory::default(),
            lane_memory: LaneMemory::default(),
            lane_rngs: Vec::new(),
            per_task: Vec::new(),
            outcomes: Vec::new(),
            task_hashes: Vec::new(),
            dce: DeadCodeEliminator::default(),
            live: Algorithm::default(),
            stats: EvaluationStats::default(),
            executor_before: EvaluationStats::default(),
            memo: Some(FingerprintMemo::default()),
            memo_key: MemoKey::default(),
            layouts,
            hurdle: None,
        })
    }

    /// The evaluator with its `auto` executor compiling through `service`, shared with other
    /// evaluators (one compile thread and one table of ready code for all of them).
    pub fn with_compile_service(mut self, service: Arc<CompileService>) -> SearchEvaluator {
        self.executor = Executor::with_service(self.executor.choice(), Some(service));
        self
    }

    /// Counters so far.
    pub fn stats(&self) -> EvaluationStats {
        let e = self.executor.stats();
        let b = self.executor_before;
        EvaluationStats {
            native_evaluations: b.native_evaluations + e.native_evaluations,
            lane_evaluations: b.lane_evaluations + e.lane_evaluations,
            compile_ns: b.compile_ns + e.compile_ns,
            compiled: b.compiled + e.compiled,
            jit_failures: b.jit_failures + e.jit_failures,
            ..self.stats
        }
    }

    /// Its counters and FEC cache, for a checkpoint.
    pub fn snapshot(&self) -> EvaluatorSnapshot {
        EvaluatorSnapshot {
            stats: self.stats(),
            fec: self.fec.as_ref().map(|(_, c)| c.snapshot()),
            hurdle: self.hurdle.as_ref().map(Hurdle::snapshot),
        }
    }

    /// Takes up a snapshot's counters and FEC cache (an evaluator built from the same config).
    pub fn restore(&mut self, snapshot: &EvaluatorSnapshot) {
        let e = self.executor.stats();
        self.stats = snapshot.stats;
        self.executor_before = EvaluationStats {
            native_evaluations: snapshot
                .stats
                .native_evaluations
                .saturating_sub(e.native_evaluations),
            lane_evaluations: snapshot
                .stats
                .lane_evaluations
                .saturating_sub(e.lane_evaluations),
            compile_ns: snapshot.stats.compile_ns.saturating_sub(e.compile_ns),
            compiled: snapshot.stats.compiled.saturating_sub(e.compiled),
            jit_failures: snapshot.stats.jit_failures.saturating_sub(e.jit_failures),
            ..EvaluationStats::default()
        };
        if let (Some((_, cache)), Some(fec)) = (self.fec.as_mut(), &snapshot.fec) {
            cache.restore(fec);
        }
        if let (Some(hurdle), Some(bits)) = (self.hurdle.as_mut(), &snapshot.hurdle) {
            hurdle.restore(bits);
        }
    }

    /// The number of search tasks (each evaluation runs every one).
    pub fn num_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// FEC cache hit rate so far (0 without FEC).
    pub fn fec_hit_rate(&self) -> f64 {
        self.fec.as_ref().map_or(0.0, |(_, c)| c.hit_rate())
    }

    /// FEC cache hits and lookups so far (0 and 0 without FEC), to combine hit rates over
    /// islands.
    pub fn fec_counts(&self) -> (u64, u64) {
        self.fec
            .as_ref()
            .map_or((0, 0), |(_, c)| (c.hits(), c.lookups()))
    }

    /// Prepares `live` for every slot, on the chosen executor.
    fn prepare(&mut self, live: &Algorithm) {
        for slot in &mut self.slots {
            let usage = Use::Search(slot.full_examples);
            let old = slot.prepared.take();
            let prepared = self
                .executor
                .prepare_reusing(old, live, slot.layout, slot.eval_type, usage)
                .expect("mutations keep addresses in range");
            slot.prepared = Some(prepared);
        }
    }

    /// Tells the executor how much interpreter work the pass over the tasks within `limits`
    /// just cost (the outcomes in `self.outcomes`), one report per lane group.
    fn record(&mut self, live: &Algorithm, limits: &Limits) {
        for group in &self.groups {
            let prepared = self.slots[group.slot]
                .prepared
                .as_ref()
                .expect("prepare fills every slot");
            let examples = group.tasks.iter().map(|&i| {
                let task = &self.tasks[i];
                let epochs = task.num_epochs().min(limits.max_epochs);
                let valid = task.num_valid().min(limits.max_valid) * epochs;
                (self.outcomes[i].train_steps as usize + valid) as f64
            });
            let mode = group.interp_mode();
            self.executor.record(live, prepared, examples, mode);
        }
    }

    /// Runs the FEC fingerprint of the prepared `live` program: its errors on the first examples
    /// of every task, hashed task by task, and the train steps the runs took.
    fn fingerprint(&mut self, live: &Algorithm, limits: &Limits, fec: FecSettings) -> Fingerprint {
        let prefix = Limits::prefix(
            fec.num_train_examples.min(limits.max_train),
            fec.num_valid_examples,
        );
        let mut hashes = std::mem::take(&mut self.task_hashes);
        hashes.clear();
        hashes.extend(self.tasks.iter().enumerate().map(|(i, task)| {
            let mut h = FingerprintHasher::default();
            h.add(i as u64);
            h.add(task.num_train().min(limits.max_train) as u64);
            h
        }));
        self.run_groups(&prefix, |_| FINGERPRINT_SEED, &mut TaskHashes(&mut hashes));
        let mut all = FingerprintHasher::default();
        hashes.iter().for_each(|h| all.add(h.finish()));
        let train_steps = self.outcomes.iter().map(|o| o.train_steps).sum();
        self.record(live, &prefix);
        self.task_hashes = hashes;
        Fingerprint {
            key: all.finish(),
            train_steps,
        }
    }

    /// Turns the structural shortcut ([`FingerprintMemo`]) on or off (on by default). The
    /// search is the same either way; off, every candidate's fingerprint is run.
    pub fn with_shortcut(mut self, on: bool) -> SearchEvaluator {
        self.memo = on.then(FingerprintMemo::default);
        self
    }

    /// Puts a hurdle before the full evaluation (`None`: none, the default).
    pub fn with_hurdle(mut self, settings: Option<HurdleSettings>) -> SearchEvaluator {
        self.hurdle = settings.map(Hurdle::new);
        self
    }

    /// Candidates whose fingerprint the structural shortcut knew.
    pub fn shortcut_hits(&self) -> u64 {
        self.memo.as_ref().map_or(0, FingerprintMemo::hits)
    }

    /// The fitness of `algorithm` on the search tasks; random ops of the full evaluation draw from
    /// streams seeded by `seed`. Every executor gives the same fitness bit for bit.
    ///
    /// # Panics
    /// If an address of `algorithm` does not fit the counts (the mutator never makes one).
    pub fn fitness(&mut self, algorithm: &Algorithm, seed: u64) -> f64 {
        self.stats.evaluations += 1;
        let mut live = std::mem::take(&mut self.live);
        self.dce.eliminate_into(algorithm, &mut live);
        let fitness = self.fitness_of_live(&live, seed);
        self.live = live;
        fitness
    }

    /// [`SearchEvaluator::fitness`] of a candidate whose dead code is eliminated.
    fn fitness_of_live(&mut self, live: &Algorithm, seed: u64) -> f64 {
        let limits = match &self.budget {
            Some(b) if !b.allows(live) => {
                self.stats.over_budget += 1;
                Limits::UNTRAINED
            }
            _ => Limits::FULL,
        };
        let mut prepared = false;
        let key = if let Some((fec, _)) = &self.fec {
            let fec = *fec;
            let remembered = self.remembered_fingerprint(live, &limits);
            let fingerprint = match remembered {
                Some(Ok(f)) => f,
                lookup => {
                    self.prepare(live);
                    prepared = true;
                    let f = self.fingerprint(live, &limits, fec);
                    if let (Some(memo), Some(Err(miss))) = (&mut self.memo, lookup) {
                        memo.insert(miss, &self.memo_key, f);
                    }
                    f
                }
            };
            self.stats.train_steps += fingerprint.train_steps;
            let (_, cache) = self.fec.as_mut().expect("checked above");
            if let Some(fitness) = cache.lookup(fingerprint.key) {
                return fitness;
            }
            Some(fingerprint.key)
        } else {
            None
        };
        if !prepared {
            self.prepare(live);
        }

        let fitness = match self.early_stop(live, &limits, seed) {
            Some(early) => early,
            None => {
                self.stats.full_evaluations += 1;
                self.evaluate_tasks(live, &limits, seed)
            }
        };
        if let (Some(key), Some((_, cache))) = (key, &mut self.fec) {
            cache.insert(key, fitness);
        }
        fitness
    }

    /// The structural shortcut's lookup of `live` within `limits` (`None` when it is off); its
    /// key stays in `self.memo_key` for the insert after a miss.
    fn remembered_fingerprint(
        &mut self,
        live: &Algorithm,
        limits: &Limits,
    ) -> Option<Result<Fingerprint, Miss>> {
        let memo = self.memo.as_mut()?;
        let key = &mut self.memo_key;
        key.build(live, &self.layouts, limits.max_train, FINGERPRINT_SEED);
        Some(memo.get(key))
    }

    /// Runs every search task on the prepared `live` program within `limits`, random ops drawing
    /// from the streams of `seed`, and combines their fitnesses.
    fn evaluate_tasks(&mut self, live: &Algorithm, limits: &Limits, seed: u64) -> f64 {
        self.run_groups(limits, |i| task_stream_seed(seed, i), &mut NoObserver);
        self.per_task.clear();
        for i in 0..self.tasks.len() {
            let outcome = self.outcomes[i];
            self.stats.train_steps += outcome.train_steps;
            self.per_task.push(outcome.fitness);
        }
        self.record(live, limits);
        combine(&self.per_task, self.combination)
    }

    /// Runs every task on the prepared candidate within `limits`, lane group by lane group, task
    /// `i` drawing from `Rng::new(seed_of(i))` and `observer` watching it as lane `i`; the
    /// outcomes land in `self.outcomes`, by task.
    fn run_groups<O: LaneObserver>(
        &mut self,
        limits: &Limits,
        seed_of: impl Fn(usize) -> u64,
        observer: &mut O,
    ) {
        self.outcomes.clear();
        self.outcomes.resize(self.tasks.len(), Outcome::default());
        self.stats.task_evaluations += self.tasks.len() as u64;
        for group in &self.groups {
            let prepared = self.slots[group.slot]
                .prepared
                .as_ref()
                .expect("prepare fills every slot");
            let n = group.tasks.len();
            let task_of = |lane: usize| group.tasks[lane.min(n - 1)];
            let tasks: [&Task; MAX_LANES] = std::array::from_fn(|l| &self.tasks[task_of(l)]);
            let rows: [&PackedRows; MAX_LANES] = std::array::from_fn(|l| &self.rows[task_of(l)]);
            self.lane_rngs.clear();
            let streams = group.tasks.iter().map(|&i| Rng::new(seed_of(i)));
            self.lane_rngs.extend(streams);
            let mut out = [Outcome::default(); MAX_LANES];
            self.executor.evaluate_lanes(
                prepared,
                &tasks[..n],
                &rows[..n],
                &mut self.memory,
                &mut self.lane_memory,
                &mut self.lane_rngs,
                limits,
                &mut out[..n],
                &mut ByTask {
                    tasks: &group.tasks,
                    observer: &mut *observer,
                },
            );
            for (lane, &i) in group.tasks.iter().enumerate() {
                self.outcomes[i] = out[lane];
            }
        }
    }

    /// The hurdle's early evaluation of the prepared `live` program: its fitness when it falls
    /// below the bar (the candidate goes no further), `None` when it clears it, when there is no
    /// hurdle, or when the train budget already left it untrained (nothing to cut).
    fn early_stop(&mut self, live: &Algorithm, limits: &Limits, seed: u64) -> Option<f64> {
        let settings = self.hurdle.as_ref()?.settings();
        if limits.max_train == 0 {
            return None;
        }
        let early = Limits {
            max_train: settings.train_examples.min(limits.max_train),
            max_epochs: 1,
            ..*limits
        };
        self.stats.hurdle_evaluations += 1;
        let fitness = self.evaluate_tasks(live, &early, seed);
        let hurdle = self.hurdle.as_mut().expect("checked above");
        if hurdle.clears(fitness) {
            return None;
        }
        self.stats.hurdle_stops += 1;
        Some(fitness)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::generate::{Sizes, TaskSettings, scalar_linear_regression};
    use amlz_ir::{Instruction, Op, handmade};

    fn evaluator(shortcut: bool) -> SearchEvaluator {
        let sizes = Sizes {
            features: 4,
            num_train: 100,
            num_valid: 100,
        };
        let settings = TaskSettings::default();
        let tasks = (0..3)
            .map(|i| scalar_linear_regression(sizes, &settings, 1000 + i, 2000 + i))
            .collect();
        let counts = MemoryCounts {
            scalars: 5,
            vectors: 3,
            matrices: 1,
        };
        let fec = Some(FecSettings::default());
        SearchEvaluator::new(
            tasks,
            counts,
            Combination::Mean,
            fec,
            None,
            ExecutorChoice::Interp,
        )
        .unwrap()
        .with_shortcut(shortcut)
    }

    #[test]
    fn a_setup_of_the_same_effect_takes_the_remembered_fingerprint() {
        let linear = handmade::linear(0.01);
        let mut padded = linear.clone();
        // v1 = v2 + v1 on zeroed memory: live (Predict reads v1), and it changes nothing.
        padded
            .setup
            .insert(0, Instruction::new(Op::VectorSum, 2, 1, 1));
        let mut slower = linear.clone();
        slower.setup[0].activation = 0.001;
        let run = |shortcut| {
            let mut e = evaluator(shortcut);
            let fitnesses = [&linear, &padded, &slower].map(|a| e.fitness(a, 7).to_bits());
            (fitnesses, e.stats(), e.fec_counts(), e.shortcut_hits())
        };
        let (on, off) = (run(true), run(false));
        assert_eq!(on.3, 1, "only the padded Setup is remembered");
        assert_eq!(off.3, 0);
        assert_eq!((on.0, on.2), (off.0, off.2));
        assert_eq!(on.1.train_steps, off.1.train_steps);
        assert_eq!(on.1.task_evaluations + 3, off.1.task_evaluations);
    }
}
