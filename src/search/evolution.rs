//! Regularized evolution (SEMANTICS.md §7): tournament selection, mutation, and aging — the
//! child replaces the oldest member of the population.

use super::evaluation::{EvaluatorSnapshot, SearchEvaluator};
use super::generator::{InitialPopulation, generate};
use super::mutator::Mutator;
use amlz_ir::{Algorithm, Rng};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A member of the population. Serialized (between MPI ranks) as a
/// [`WireIndividual`](super::transport::WireIndividual): its readable text and fitness bits.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    into = "super::transport::WireIndividual",
    try_from = "super::transport::WireIndividual"
)]
pub struct Individual {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Its fitness on the search tasks.
    pub fitness: f64,
}

/// Population settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvolutionSettings {
    /// P, the population size.
    pub population_size: usize,
    /// T, the tournament size.
    pub tournament_size: usize,
    /// What the first P individuals are.
    pub initial_population: InitialPopulation,
}

/// When an evolution stops (whichever comes first; `None` means no limit).
#[derive(Clone, Copy, Debug, Default)]
pub struct StopRule {
    /// Individuals evaluated, the initial population included.
    pub max_individuals: Option<u64>,
    /// Train examples started by the search's evaluations, fingerprints included
    /// ([`EvaluationStats::train_steps`](super::EvaluationStats::train_steps)). As in the
    /// original AutoML-Zero, checked only once the initial population is evaluated and after
    /// each sweep of the population (one child per member): the count may pass it by less than
    /// one sweep's steps.
    pub max_train_steps: Option<u64>,
    /// Wall-clock deadline.
    pub deadline: Option<Instant>,
    /// Stop once an individual reaches this search fitness.
    pub target_fitness: Option<f64>,
    /// A flag another thread raises (Ctrl-C) to stop the evolution at its next individual.
    pub interrupt: Option<&'static AtomicBool>,
}

/// A snapshot reported every `progress_every` individuals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Individuals evaluated so far in this evolution.
    pub individuals: u64,
    /// Time since this evolution started.
    pub elapsed: Duration,
    /// Individuals per second so far.
    pub individuals_per_second: f64,
    /// Mean fitness of the population.
    pub mean: f64,
    /// Standard deviation of the population's fitness.
    pub stdev: f64,
    /// Best fitness in the population.
    pub best: f64,
    /// The evaluator's counters so far, where the reporter has them (a lone evolution does;
    /// islands report `None` for now).
    pub counters: Option<SearchCounters>,
}

/// What a search's evaluator has counted so far: the figures behind the FEC and compiled-code
/// hit rates of a progress report.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchCounters {
    /// Candidates evaluated.
    pub evaluations: u64,
    /// FEC cache hits.
    pub fec_hits: u64,
    /// FEC cache lookups (0 without FEC).
    pub fec_lookups: u64,
    /// Per-task runs (fingerprints and full evaluations).
    pub task_runs: u64,
    /// Per-task runs that ran compiled code: compiled code was found ready for the structure.
    pub native_evaluations: u64,
    /// Structures compiled.
    pub compiled: u64,
}

/// The sum of two islands' counters.
impl std::ops::Add for SearchCounters {
    type Output = SearchCounters;
    fn add(self, o: SearchCounters) -> SearchCounters {
        SearchCounters {
            evaluations: self.evaluations + o.evaluations,
            fec_hits: self.fec_hits + o.fec_hits,
            fec_lookups: self.fec_lookups + o.fec_lookups,
            task_runs: self.task_runs + o.task_runs,
            native_evaluations: self.native_evaluations + o.native_evaluations,
            compiled: self.compiled + o.compiled,
        }
    }
}

impl SearchCounters {
    /// The counters of `evaluator` so far.
    pub fn of(evaluator: &SearchEvaluator) -> SearchCounters {
        let stats = evaluator.stats();
        let (fec_hits, fec_lookups) = evaluator.fec_counts();
        SearchCounters {
            evaluations: stats.evaluations,
            fec_hits,
            fec_lookups,
            task_runs: (fec_lookups + stats.full_evaluations + stats.hurdle_evaluations)
                * evaluator.num_tasks() as u64,
            native_evaluations: stats.native_evaluations,
            compiled: stats.compiled,
        }
    }

    /// FEC hits per lookup; `None` without lookups (FEC off, or nothing evaluated yet).
    pub fn fec_hit_rate(&self) -> Option<f64> {
        (self.fec_lookups > 0).then(|| self.fec_hits as f64 / self.fec_lookups as f64)
    }

    /// The share of per-task runs that found compiled code ready (the compile cache's hit rate);
    /// `None` before any run.
    pub fn native_rate(&self) -> Option<f64> {
        (self.task_runs > 0).then(|| self.native_evaluations as f64 / self.task_runs as f64)
    }
}

/// Why an evolution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopReason {
    /// `max_individuals` reached.
    Individuals,
    /// `max_train_steps` reached.
    TrainSteps,
    /// The deadline passed.
    Time,
    /// `target_fitness` reached.
    Target,
    /// The interrupt flag was raised (Ctrl-C).
    Interrupted,
}

/// The outcome of one evolution.
#[derive(Clone, Debug, PartialEq)]
pub struct EvolutionResult {
    /// The population's best at the end (first on ties).
    pub best: Individual,
    /// Individuals evaluated.
    pub individuals: u64,
    /// Why it stopped.
    pub reason: StopReason,
    /// Wall-clock time taken.
    pub elapsed: Duration,
}

/// A running regularized evolution.
pub struct Evolution<'a> {
    settings: EvolutionSettings,
    mutator: &'a Mutator,
    evaluator: &'a mut SearchEvaluator,
    population: Vec<Individual>,
    oldest: usize,
    individuals: u64,
    best_ever: f64,
    /// Train steps of the other islands of the same search, as of the last round (islands count
    /// `max_train_steps` over all of them); 0 for a lone evolution.
    other_train_steps: u64,
    /// When the first call to [`Evolution::advance`] began.
    start: Option<Instant>,
    /// Time the evolution ran before a checkpoint it was restored from.
    elapsed_before: Duration,
}

/// What a checkpoint keeps of an evolution: everything its next individual depends on (with
/// its island's generator, which the caller keeps), and its counters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvolutionSnapshot {
    /// The population, in slot order.
    pub population: Vec<Individual>,
    /// The slot of the oldest member (the next to be replaced).
    pub oldest: usize,
    /// Individuals evaluated.
    pub individuals: u64,
    /// `f64::to_bits` of the best fitness seen (what `target_fitness` is checked against).
    pub best_ever_bits: u64,
    /// The other islands' train steps as of the round read last.
    pub other_train_steps: u64,
    /// Seconds the evolution had run.
    pub elapsed_seconds: f64,
    /// Its evaluator's counters and FEC cache.
    pub evaluator: EvaluatorSnapshot,
}

impl<'a> Evolution<'a> {
    /// An evolution that draws its initial population and its children with `mutator` and
    /// scores them with `evaluator`.
    pub fn new(
        settings: EvolutionSettings,
        mutator: &'a Mutator,
        evaluator: &'a mut SearchEvaluator,
    ) -> Self {
        Evolution {
            settings,
            mutator,
            evaluator,
            population: Vec::new(),
            oldest: 0,
            individuals: 0,
            best_ever: 0.0,
            other_train_steps: 0,
            start: None,
            elapsed_before: Duration::ZERO,
        }
    }

    /// Its state, for a checkpoint.
    pub fn snapshot(&self) -> EvolutionSnapshot {
        EvolutionSnapshot {
            population: self.population.clone(),
            oldest: self.oldest,
            individuals: self.individuals,
            best_ever_bits: self.best_ever.to_bits(),
            other_train_steps: self.other_train_steps,
            elapsed_seconds: self.elapsed().as_secs_f64(),
            evaluator: self.evaluator.snapshot(),
        }
    }

    /// Takes up a snapshot's state: the evolution goes on as the saved one would have (with
    /// the saved generator).
    pub fn restore(&mut self, snapshot: &EvolutionSnapshot) {
        self.population = snapshot.population.clone();
        self.oldest = snapshot.oldest;
        self.individuals = snapshot.individuals;
        self.best_ever = f64::from_bits(snapshot.best_ever_bits);
        self.other_train_steps = snapshot.other_train_steps;
        self.elapsed_before = Duration::from_secs_f64(snapshot.elapsed_seconds.max(0.0));
        self.start = None;
        self.evaluator.restore(&snapshot.evaluator);
    }

    /// P.
    pub fn population_size(&self) -> usize {
        self.settings.population_size
    }

    /// Individuals evaluated so far.
    pub fn individuals(&self) -> u64 {
        self.individuals
    }

    /// The population (in slot order; shorter than P while the initial population is drawn).
    pub fn population(&self) -> &[Individual] {
        &self.population
    }

    /// The evaluator the evolution scores with.
    pub fn evaluator(&self) -> &SearchEvaluator {
        self.evaluator
    }

    /// Sets the train steps that other islands of the same search have taken, which count
    /// towards `max_train_steps` together with this evolution's own.
    pub fn set_other_train_steps(&mut self, steps: u64) {
        self.other_train_steps = steps;
    }

    /// Replaces the oldest members with `immigrants`, in order (each becomes the youngest), as
    /// aging would have replaced them with children.
    ///
    /// # Panics
    /// If the population is not complete or `immigrants` is larger than it.
    pub fn receive(&mut self, immigrants: Vec<Individual>) {
        let p = self.settings.population_size;
        assert!(self.population.len() == p && immigrants.len() <= p);
        for ind in immigrants {
            self.population[self.oldest] = ind;
            self.oldest = (self.oldest + 1) % p;
        }
    }

    /// Time the evolution has run (zero before it began), the time before a restored
    /// checkpoint included.
    pub fn elapsed(&self) -> Duration {
        self.elapsed_before + self.start.map_or(Duration::ZERO, |s| s.elapsed())
    }

    fn should_stop(&self, stop: &StopRule) -> Option<StopReason> {
        if stop.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
            return Some(StopReason::Interrupted);
        }
        if stop.max_individuals.is_some_and(|m| self.individuals >= m) {
            return Some(StopReason::Individuals);
        }
        if self.at_sweep_end()
            && stop
                .max_train_steps
                .is_some_and(|m| self.evaluator.stats().train_steps + self.other_train_steps >= m)
        {
            return Some(StopReason::TrainSteps);
        }
        if stop.target_fitness.is_some_and(|t| self.best_ever >= t) {
            return Some(StopReason::Target);
        }
        // The clock is read every 64 individuals, not on each one.
        if self.individuals.is_multiple_of(64) && stop.deadline.is_some_and(|d| Instant::now() >= d)
        {
            return Some(StopReason::Time);
        }
        None
    }

    /// Whether the initial population is complete and the children since are a whole number of
    /// sweeps (P each): where the original checks its train-step limit.
    fn at_sweep_end(&self) -> bool {
        let p = self.settings.population_size as u64;
        self.population.len() as u64 == p && (self.individuals - p).is_multiple_of(p)
    }

    fn evaluate(&mut self, algorithm: Algorithm, rng: &mut Rng) -> Individual {
        let fitness = self.evaluator.fitness(&algorithm, rng.next_u64());
        self.individuals += 1;
        if fitness > self.best_ever {
            self.best_ever = fitness;
        }
        Individual { algorithm, fitness }
    }

    /// Tournament selection: T draws with replacement, the fittest wins, the first on ties.
    fn select(&self, rng: &mut Rng) -> usize {
        let n = self.population.len();
        let mut best = rng.below(n);
        for _ in 1..self.settings.tournament_size {
            let i = rng.below(n);
            if self.population[i].fitness > self.population[best].fitness {
                best = i;
            }
        }
        best
    }

    /// The population's best (first on ties).
    pub fn best(&self) -> &Individual {
        let mut best = &self.population[0];
        for ind in &self.population[1..] {
            if ind.fitness > best.fitness {
                best = ind;
            }
        }
        best
    }

    fn progress(&self) -> Progress {
        let n = self.population.len() as f64;
        let mean = self.population.iter().map(|i| i.fitness).sum::<f64>() / n;
        let var = self
            .population
            .iter()
            .map(|i| (i.fitness - mean).powi(2))
            .sum::<f64>()
            / n;
        let elapsed = self.elapsed();
        Progress {
            individuals: self.individuals,
            elapsed,
            individuals_per_second: self.individuals as f64 / elapsed.as_secs_f64().max(1e-9),
            mean,
            stdev: var.sqrt(),
            best: self.best().fitness,
            counters: Some(SearchCounters::of(self.evaluator)),
        }
    }

    /// Runs until `stop`: evaluates the initial population, then evolves. `on_progress` is called
    /// every `progress_every` individuals (0: never).
    pub fn run(
        &mut self,
        stop: &StopRule,
        progress_every: u64,
        rng: &mut Rng,
        mut on_progress: impl FnMut(&Progress),
    ) -> EvolutionResult {
        let reason = loop {
            if let Some(r) = self.advance(stop, progress_every, rng, u64::MAX, &mut on_progress) {
                break r;
            }
        };
        self.result(reason)
    }

    /// The result so far, as if the evolution had stopped for `reason`.
    pub fn result(&self, reason: StopReason) -> EvolutionResult {
        EvolutionResult {
            best: self.best().clone(),
            individuals: self.individuals,
            reason,
            elapsed: self.elapsed(),
        }
    }

    /// Runs until `stop` says so (its reason returned) or until `until` individuals have been
    /// evaluated (`None`: the end of a round of an island search); a later call goes on exactly
    /// where this one ended, so that rounds change no draw. `on_progress` is called every
    /// `progress_every` individuals (0: never).
    pub fn advance(
        &mut self,
        stop: &StopRule,
        progress_every: u64,
        rng: &mut Rng,
        until: u64,
        mut on_progress: impl FnMut(&Progress),
    ) -> Option<StopReason> {
        self.start.get_or_insert_with(Instant::now);
        let p = self.settings.population_size;
        while self.population.len() < p {
            if self.individuals >= until {
                return None;
            }
            let a = generate(self.settings.initial_population, self.mutator.space(), rng);
            let ind = self.evaluate(a, rng);
            self.population.push(ind);
            if progress_every > 0 && self.individuals.is_multiple_of(progress_every) {
                on_progress(&self.progress());
            }
            if let Some(r) = self.should_stop(stop) {
                return Some(r);
            }
        }
        loop {
            if let Some(r) = self.should_stop(stop) {
                return Some(r);
            }
            if self.individuals >= until {
                return None;
            }
            let parent = self.select(rng);
            // The child takes the place, and the buffers, of the member it replaces.
            let mut child = std::mem::take(&mut self.population[self.oldest].algorithm);
            if parent != self.oldest {
                child.clone_from(&self.population[parent].algorithm);
            }
            self.mutator.mutate(&mut child, rng);
            let ind = self.evaluate(child, rng);
            self.population[self.oldest] = ind;
            self.oldest = (self.oldest + 1) % p;
            if progress_every > 0 && self.individuals.is_multiple_of(progress_every) {
                on_progress(&self.progress());
            }
        }
    }
}
