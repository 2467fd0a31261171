//! Island search: one experiment's evolution split over N islands, each with its own population,
//! evaluator (and so its own FEC cache) and random stream, run side by side on threads (and on
//! MPI ranks), with migration in synchronous rounds (SEMANTICS.md §7, "Islands").
//!
//! Every `migration_every` individuals per island all islands meet at a barrier. If every island
//! is still running with a complete population, each sends `migration_size` members, drawn
//! without replacement, into a pool, and then replaces its oldest members with as many drawn
//! (with replacement) from what the *other* islands sent. The draws come from a generator seeded
//! by the search seed and the round number, so a round's migration depends on nothing but the
//! populations: the same seed and island count give the same search, whatever the timing.
//! `max_individuals` is split over the islands (island i gets `M / N`, plus one if
//! `i < M % N`); `max_train_steps` counts all islands' steps, the others' as of the last round.
//! With one island there are no rounds at all: the search is exactly the single evolution.

use super::evolution::{Evolution, Individual, Progress, StopReason, StopRule};
use super::transport::{Transport, TransportError, all_gather};
use amlz_ir::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The multiplier that spreads island numbers over seeds (SplitMix64's increment).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Mixed into the evolution seed for the migration draws.
const MIGRATION_SALT: u64 = 0x6d69_6772_6174_6521;

/// The seed of island `i`'s generator when the evolution's seed is `seed`: `seed` itself for
/// island 0, so that one island is the single-threaded search.
pub fn island_seed(seed: u64, i: usize) -> u64 {
    seed ^ (i as u64).wrapping_mul(GOLDEN)
}

/// The generator of round `round`'s migration draws.
fn round_rng(seed: u64, round: u64) -> Rng {
    Rng::new(seed ^ MIGRATION_SALT ^ round.wrapping_mul(GOLDEN).rotate_left(17))
}

/// Island `i`'s share of `total` individuals over `n` islands.
pub fn island_quota(total: u64, i: usize, n: usize) -> u64 {
    let n = n as u64;
    total / n + u64::from((i as u64) < total % n)
}

/// A value alone on its cache lines (128 bytes: two lines, as adjacent-line prefetchers pair
/// them), so that islands on different cores never write to the same line: island state kept
/// side by side in a `Vec` (generators, counters written on every individual) would otherwise
/// share lines between cores.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct CachePadded<T>(pub T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for CachePadded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// How islands migrate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Individuals each island evaluates between two rounds (≥ 1).
    pub every: u64,
    /// Members each island sends, and receives, per round.
    pub size: usize,
}

/// One island's figures at the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IslandFigures {
    /// The island's number, from 0.
    pub island: usize,
    /// Individuals it evaluated.
    pub individuals: u64,
    /// Its train steps (as `max_train_steps` counts them).
    pub train_steps: u64,
    /// Its evaluations (fingerprints or full).
    pub evaluations: u64,
    /// Its FEC cache's hits.
    pub fec_hits: u64,
    /// Its FEC cache's lookups.
    pub fec_lookups: u64,
    /// Its population's best fitness at the end.
    pub best_fitness: f64,
    /// Why it stopped (`None`: the search stopped at a round for another island's reason).
    pub stop_reason: Option<StopReason>,
    /// Structures compiled for it.
    pub jit_compiled: u64,
    /// Structures whose compilation failed.
    pub jit_fallbacks: u64,
    /// Its per-task evaluations that ran native code.
    pub native_evaluations: u64,
}

/// The outcome of an island search, the same on every rank.
#[derive(Clone, Debug, PartialEq)]
pub struct IslandsResult {
    /// The best member over all islands (the lowest-numbered island's on ties).
    pub best: Individual,
    /// Why the search stopped: the lowest-numbered island's reason other than individuals, else
    /// individuals.
    pub reason: StopReason,
    /// Wall-clock time of this rank's evolution.
    pub elapsed: Duration,
    /// Migration rounds that took place.
    pub migrations: u64,
    /// Every island's figures, by island number.
    pub per_island: Vec<IslandFigures>,
}

/// One island at a barrier, as every rank learns of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct IslandStatus {
    island: usize,
    individuals: u64,
    train_steps: u64,
    stopped: Option<StopReason>,
    full: bool,
    /// Population size, fitness sum, sum of squares and best, for progress.
    count: usize,
    sum: f64,
    sum_sq: f64,
    best: f64,
    /// The members it sends, if it is running with a complete population.
    emigrants: Vec<Individual>,
}

/// A rank's islands at the end.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct IslandEnd {
    figures: IslandFigures,
    best: Individual,
}

/// The islands one rank runs (a contiguous range of island numbers), and their state.
pub struct Islands<'a> {
    /// Island numbers of `evolutions[0]`, … .
    first: usize,
    /// Islands over all ranks.
    total: usize,
    evolutions: Vec<CachePadded<Evolution<'a>>>,
    rngs: Vec<CachePadded<Rng>>,
    stopped: Vec<CachePadded<Option<StopReason>>>,
    seed: u64,
    migration: Migration,
}

/// The local stop rule of island `i` of `n`: its share of `max_individuals`.
fn island_stop(stop: &StopRule, i: usize, n: usize) -> StopRule {
    StopRule {
        max_individuals: stop.max_individuals.map(|m| island_quota(m, i, n)),
        ..*stop
    }
}

impl<'a> Islands<'a> {
    /// Islands `first..first + evolutions.len()` of `total`, for an evolution seeded `seed`
    /// (island i draws from `Rng::new(island_seed(seed, i))`).
    ///
    /// # Panics
    /// If the islands do not fit in `total` or `migration.every` is 0.
    pub fn new(
        first: usize,
        total: usize,
        evolutions: Vec<Evolution<'a>>,
        seed: u64,
        migration: Migration,
    ) -> Islands<'a> {
        assert!(first + evolutions.len() <= total && migration.every > 0);
        let n = evolutions.len();
        Islands {
            first,
            total,
            rngs: (0..n)
                .map(|k| CachePadded(Rng::new(island_seed(seed, first + k))))
                .collect(),
            stopped: (0..n).map(|_| CachePadded(None)).collect(),
            evolutions: evolutions.into_iter().map(CachePadded).collect(),
            seed,
            migration,
        }
    }

    /// Runs every island until the search stops, meeting the other ranks through `transport` at
    /// each round. `on_progress` sees the figures over all islands, once per round in which the
    /// total passes a multiple of `progress_every` (0: never); with one island, every
    /// `progress_every` individuals as a lone evolution reports them.
    ///
    /// # Errors
    /// If the transport fails.
    pub fn run(
        &mut self,
        stop: &StopRule,
        progress_every: u64,
        transport: &mut dyn Transport,
        mut on_progress: impl FnMut(&Progress),
    ) -> Result<IslandsResult, TransportError> {
        if self.total == 1 {
            let rule = island_stop(stop, 0, 1);
            let reason = loop {
                if let Some(r) = self.evolutions[0].advance(
                    &rule,
                    progress_every,
                    &mut self.rngs[0],
                    u64::MAX,
                    &mut on_progress,
                ) {
                    break r;
                }
            };
            *self.stopped[0] = Some(reason);
            return self.finish(transport, 0);
        }
        let mut migrations = 0;
        let mut reported = 0;
        for round in 1.. {
            let until = round * self.migration.every;
            self.run_round(stop, until);
            let status = self.gather(transport, round)?;
            let individuals: u64 = status.iter().map(|s| s.individuals).sum();
            if progress_every > 0 && individuals / progress_every > reported {
                reported = individuals / progress_every;
                on_progress(&progress(&status, self.evolutions[0].elapsed()));
            }
            let halt = status
                .iter()
                .any(|s| s.stopped.is_some_and(|r| r != StopReason::Individuals));
            if halt || status.iter().all(|s| s.stopped.is_some()) {
                break;
            }
            if status.iter().all(|s| s.stopped.is_none() && s.full) {
                self.immigrate(&status, round);
                migrations += 1;
            }
            let steps: u64 = status.iter().map(|s| s.train_steps).sum();
            for (k, evo) in self.evolutions.iter_mut().enumerate() {
                evo.set_other_train_steps(steps - status[self.first + k].train_steps);
            }
        }
        self.finish(transport, migrations)
    }

    /// Runs the local islands that are still running up to `until` individuals each, one
    /// thread per island.
    fn run_round(&mut self, stop: &StopRule, until: u64) {
        let total = self.total;
        let first = self.first;
        std::thread::scope(|s| {
            let jobs = self
                .evolutions
                .iter_mut()
                .zip(&mut self.rngs)
                .zip(&mut self.stopped)
                .enumerate()
                .filter(|(_, (_, stopped))| stopped.is_none());
            for (k, ((evo, rng), stopped)) in jobs {
                let rule = island_stop(stop, first + k, total);
                s.spawn(move || **stopped = evo.advance(&rule, 0, rng, until, |_| {}));
            }
        });
    }

    /// Every island's status at the end of `round`, by island number, with the emigrants of
    /// those running with a complete population.
    fn gather(
        &self,
        transport: &mut dyn Transport,
        round: u64,
    ) -> Result<Vec<IslandStatus>, TransportError> {
        let p = self.population_size();
        let mut rng = round_rng(self.seed, round);
        // Every rank draws every island's emigrants, in island order, so the draws agree.
        let mut picks = Vec::with_capacity(self.total);
        for _ in 0..self.total {
            picks.push(sample(&mut rng, p, self.migration.size.min(p)));
        }
        let local: Vec<IslandStatus> = self
            .evolutions
            .iter()
            .enumerate()
            .map(|(k, evo)| {
                let pop = evo.population();
                let full = pop.len() == p;
                let stopped = *self.stopped[k];
                let emigrants = if full && stopped.is_none() {
                    picks[self.first + k]
                        .iter()
                        .map(|&j| pop[j].clone())
                        .collect()
                } else {
                    Vec::new()
                };
                IslandStatus {
                    island: self.first + k,
                    individuals: evo.individuals(),
                    train_steps: evo.evaluator().stats().train_steps,
                    stopped,
                    full,
                    count: pop.len(),
                    sum: pop.iter().map(|i| i.fitness).sum(),
                    sum_sq: pop.iter().map(|i| i.fitness * i.fitness).sum(),
                    best: pop.iter().map(|i| i.fitness).fold(0.0, f64::max),
                    emigrants,
                }
            })
            .collect();
        let all: Vec<IslandStatus> = all_gather(transport, local)?
            .into_iter()
            .flatten()
            .collect();
        if all.len() != self.total || all.iter().enumerate().any(|(i, s)| s.island != i) {
            return Err(TransportError::Message(format!(
                "expected islands 0..{} in order, got {} islands",
                self.total,
                all.len()
            )));
        }
        Ok(all)
    }

    /// Replaces each local island's oldest members with members drawn from what the other
    /// islands sent. The draws continue `round`'s generator after the emigrants' and are made
    /// for every island, in order, on every rank.
    fn immigrate(&mut self, status: &[IslandStatus], round: u64) {
        let p = self.population_size();
        let mut rng = round_rng(self.seed, round);
        for _ in 0..self.total {
            sample(&mut rng, p, self.migration.size.min(p));
        }
        let pool: Vec<(usize, &Individual)> = status
            .iter()
            .flat_map(|s| s.emigrants.iter().map(move |e| (s.island, e)))
            .collect();
        for (i, s) in status.iter().enumerate() {
            let own = s.emigrants.len();
            let others = pool.len() - own;
            let count = if others == 0 { 0 } else { own };
            let mut immigrants = Vec::with_capacity(count);
            for _ in 0..count {
                // The j-th entry of the pool without island i's own.
                let mut j = rng.below(others);
                let start = pool.iter().position(|(k, _)| *k == i).unwrap_or(pool.len());
                if j >= start {
                    j += own;
                }
                immigrants.push(pool[j].1.clone());
            }
            if let Some(k) = i.checked_sub(self.first)
                && k < self.evolutions.len()
            {
                self.evolutions[k].receive(immigrants);
            }
        }
    }

    /// Gathers every island's figures and best member and makes the result.
    fn finish(
        &self,
        transport: &mut dyn Transport,
        migrations: u64,
    ) -> Result<IslandsResult, TransportError> {
        let local: Vec<IslandEnd> = self
            .evolutions
            .iter()
            .enumerate()
            .map(|(k, evo)| {
                let stats = evo.evaluator().stats();
                let (fec_hits, fec_lookups) = evo.evaluator().fec_counts();
                let best = evo.best().clone();
                IslandEnd {
                    figures: IslandFigures {
                        island: self.first + k,
                        individuals: evo.individuals(),
                        train_steps: stats.train_steps,
                        evaluations: stats.evaluations,
                        fec_hits,
                        fec_lookups,
                        best_fitness: best.fitness,
                        stop_reason: *self.stopped[k],
                        jit_compiled: stats.compiled,
                        jit_fallbacks: stats.jit_failures,
                        native_evaluations: stats.native_evaluations,
                    },
                    best,
                }
            })
            .collect();
        let all: Vec<IslandEnd> = all_gather(transport, local)?
            .into_iter()
            .flatten()
            .collect();
        let mut best = &all[0].best;
        for end in &all[1..] {
            if end.best.fitness > best.fitness {
                best = &end.best;
            }
        }
        let reason = all
            .iter()
            .filter_map(|e| e.figures.stop_reason)
            .find(|r| *r != StopReason::Individuals)
            .unwrap_or(StopReason::Individuals);
        Ok(IslandsResult {
            best: best.clone(),
            reason,
            elapsed: self.evolutions[0].elapsed(),
            migrations,
            per_island: all.into_iter().map(|e| e.figures).collect(),
        })
    }

    fn population_size(&self) -> usize {
        self.evolutions[0].population_size()
    }
}

/// `k` distinct indices of `0..n`, drawn by a partial Fisher–Yates shuffle from the front.
fn sample(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below(n - i);
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx
}

/// Progress over all islands from their statuses.
fn progress(status: &[IslandStatus], elapsed: Duration) -> Progress {
    let individuals: u64 = status.iter().map(|s| s.individuals).sum();
    let n: usize = status.iter().map(|s| s.count).sum();
    let n = n.max(1) as f64;
    let mean = status.iter().map(|s| s.sum).sum::<f64>() / n;
    let var = (status.iter().map(|s| s.sum_sq).sum::<f64>() / n - mean * mean).max(0.0);
    Progress {
        individuals,
        elapsed,
        individuals_per_second: individuals as f64 / elapsed.as_secs_f64().max(1e-9),
        mean,
        stdev: var.sqrt(),
        best: status.iter().map(|s| s.best).fold(0.0, f64::max),
        counters: None,
    }
}
