//! Island search: one experiment's evolution split over N islands, each with its own population,
//! evaluator (and so its own FEC cache) and random stream, run side by side on threads (and on
//! MPI ranks), with migration in rounds (SEMANTICS.md §7, "Islands").
//!
//! Every `migration_every` individuals per island an island ends a round: it posts its status
//! and, if it is running with a complete population, `migration_size` members drawn without
//! replacement, and goes on with the next round. At the end of round k + 1 it reads round k's
//! statuses of every island: if they say that the search halts it stops; if every island was
//! running with a complete population it replaces its oldest members with as many members drawn
//! (with replacement) from what the *other* islands sent in round k. The draws come from a
//! generator seeded by the search seed and the round number, so a round's migration depends on
//! nothing but the populations: the same seed and island count give the same search, whatever
//! the timing. Reading a round late lets an island that ends a round early go on working, rather
//! than wait at a barrier for the slowest. `max_individuals` is split over the islands (island i
//! gets `M / N`, plus one if `i < M % N`); `max_train_steps` counts all islands' steps, the
//! others' as of the round read last. With one island there are no rounds at all: the search is
//! exactly the single evolution.

use super::evolution::{
    Evolution, EvolutionSnapshot, Individual, Progress, SearchCounters, StopReason, StopRule,
};
use super::round_board::{RoundBoard, RoundNote};
use super::transport::{Transport, TransportError, all_gather};
use amlz_ir::Rng;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

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
    /// Its per-task evaluations that ran in the interpreter's multi-task lanes.
    #[serde(default)]
    pub lane_evaluations: u64,
    /// Its per-task evaluations (fingerprints and full) on any executor.
    #[serde(default)]
    pub task_evaluations: u64,
    /// Wall seconds spent compiling its structures.
    #[serde(default)]
    pub jit_compile_seconds: f64,
    /// Its candidates whose fingerprint the structural shortcut knew (their fingerprint was not
    /// run again).
    #[serde(default)]
    pub shortcut_hits: u64,
    /// Its candidates that fell below the hurdle (0 without one).
    #[serde(default)]
    pub hurdle_stops: u64,
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
    /// Its evaluator's counters, for the hit rates of progress.
    counters: SearchCounters,
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
    /// The rounds' state of the checkpoint the islands were restored from.
    resumed: Option<RoundsState>,
}

/// What a checkpoint keeps of the rounds besides the islands: the next round, every island's
/// status of the round before it (read at the end of the next), and the exchanger's counters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct RoundsState {
    next_round: u64,
    statuses: Vec<IslandStatus>,
    migrations: u64,
    migrating: bool,
    reported: u64,
}

/// What a checkpoint keeps of one island.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IslandSnapshot {
    /// The island's number.
    pub island: usize,
    /// Its evolution (population, counters, evaluator).
    pub evolution: EvolutionSnapshot,
    /// Its generator.
    pub rng: Rng,
    /// Why it had stopped, if it had (its individual quota).
    pub stopped: Option<StopReason>,
}

/// An island search's state at a checkpoint: every island's and the rounds'. Restored with
/// [`Islands::restore`], the search goes on exactly as it would have without stopping.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IslandsSnapshot {
    /// Every island's state, by island number.
    pub islands: Vec<IslandSnapshot>,
    rounds: RoundsState,
}

/// What an island search reports while it runs.
#[derive(Debug)]
pub enum IslandsEvent<'e> {
    /// Progress over all islands.
    Progress(&'e Progress),
    /// A checkpoint: the whole search's state.
    Checkpoint(&'e IslandsSnapshot),
}

/// Individuals a lone evolution runs between two looks at the checkpoint clock.
const LONE_CHUNK: u64 = 1000;

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
            resumed: None,
        }
    }

    /// Takes up a checkpoint's state (of a search with the same config, seed and island count):
    /// the next [`Islands::run`] goes on from it.
    ///
    /// # Errors
    /// If the snapshot holds another number of islands.
    pub fn restore(&mut self, snapshot: &IslandsSnapshot) -> Result<(), String> {
        if snapshot.islands.len() != self.total
            || snapshot
                .islands
                .iter()
                .enumerate()
                .any(|(i, s)| s.island != i)
        {
            return Err(format!(
                "the checkpoint holds {} islands, this search has {}",
                snapshot.islands.len(),
                self.total
            ));
        }
        for (k, evo) in self.evolutions.iter_mut().enumerate() {
            let saved = &snapshot.islands[self.first + k];
            evo.restore(&saved.evolution);
            *self.rngs[k] = saved.rng.clone();
            *self.stopped[k] = saved.stopped;
        }
        self.resumed = Some(snapshot.rounds.clone());
        Ok(())
    }

    /// Runs every island until the search stops, meeting the other ranks through `transport` at
    /// each round. `on_event` sees progress over all islands, once per round in which the total
    /// passes a multiple of `progress_every` (0: never; with one island, every `progress_every`
    /// individuals as a lone evolution reports them), and, with `checkpoint_every`, the search's
    /// state about that often and when Ctrl-C or the deadline stops it.
    ///
    /// Each local island runs on a thread of its own for the whole search, and this thread is the
    /// rank's exchanger: it gathers each round's statuses over the ranks while the islands go on
    /// with the next round (see [`RoundBoard`]).
    ///
    /// # Errors
    /// If the transport fails.
    pub fn run(
        &mut self,
        stop: &StopRule,
        progress_every: u64,
        checkpoint_every: Option<Duration>,
        transport: &mut dyn Transport,
        on_event: impl FnMut(IslandsEvent<'_>),
    ) -> Result<IslandsResult, TransportError> {
        if self.total == 1 {
            return self.run_lone(stop, progress_every, checkpoint_every, transport, on_event);
        }
        let checkpoints = checkpoint_every.is_some();
        let plan = self.plan(checkpoints);
        let rounds = self.resumed.take().unwrap_or(RoundsState {
            next_round: 1,
            ..RoundsState::default()
        });
        let board = self.board(&rounds);
        let watch = Watch {
            every: checkpoint_every,
            deadline: stop.deadline.filter(|_| checkpoints),
            interrupt: stop.interrupt.filter(|_| checkpoints),
        };
        // With checkpoints, the exchanger watches the clock and Ctrl-C and stops the islands at
        // a round's end, where a checkpoint can hold them.
        let island_rule = StopRule {
            deadline: stop.deadline.filter(|_| !checkpoints),
            interrupt: stop.interrupt.filter(|_| !checkpoints),
            ..*stop
        };
        let before = self.evolutions[0].elapsed();
        let start = Instant::now();
        let first_round = rounds.next_round;
        let migrations = std::thread::scope(|s| {
            let islands = self
                .evolutions
                .iter_mut()
                .zip(&mut self.rngs)
                .zip(&mut self.stopped)
                .enumerate()
                .filter(|(_, (_, stopped))| stopped.is_none());
            for (k, ((evo, rng), stopped)) in islands {
                let rule = island_stop(&island_rule, plan.first + k, plan.total);
                let board = &board;
                s.spawn(move || **stopped = plan.island(k, evo, rng, &rule, board, first_round));
            }
            let mut on_event = on_event;
            let exchanged =
                plan.exchange(
                    &board,
                    transport,
                    progress_every,
                    rounds,
                    watch,
                    |e| match e {
                        RoundEvent::Statuses(all) => on_event(IslandsEvent::Progress(&progress(
                            all,
                            before + start.elapsed(),
                        ))),
                        RoundEvent::Checkpoint(snapshot) => {
                            on_event(IslandsEvent::Checkpoint(snapshot))
                        }
                    },
                );
            board.close();
            exchanged
        })?;
        self.finish(transport, migrations)
    }

    /// The search of one island: the lone evolution, in chunks between which the checkpoint
    /// clock is read when there are checkpoints (`advance` goes on exactly where it ended).
    fn run_lone(
        &mut self,
        stop: &StopRule,
        progress_every: u64,
        checkpoint_every: Option<Duration>,
        transport: &mut dyn Transport,
        mut on_event: impl FnMut(IslandsEvent<'_>),
    ) -> Result<IslandsResult, TransportError> {
        let rule = island_stop(stop, 0, 1);
        let mut last = Instant::now();
        let reason = loop {
            let until = match checkpoint_every {
                Some(_) => self.evolutions[0].individuals().saturating_add(LONE_CHUNK),
                None => u64::MAX,
            };
            let reason =
                self.evolutions[0].advance(&rule, progress_every, &mut self.rngs[0], until, |p| {
                    on_event(IslandsEvent::Progress(p))
                });
            let due = match reason {
                Some(StopReason::Interrupted | StopReason::Time) => checkpoint_every.is_some(),
                Some(_) => false,
                None => checkpoint_every.is_some_and(|e| last.elapsed() >= e),
            };
            if due {
                on_event(IslandsEvent::Checkpoint(&self.lone_snapshot()));
                last = Instant::now();
            }
            if let Some(r) = reason {
                break r;
            }
        };
        *self.stopped[0] = Some(reason);
        self.finish(transport, 0)
    }

    /// The lone evolution's state, going on.
    fn lone_snapshot(&self) -> IslandsSnapshot {
        IslandsSnapshot {
            islands: vec![IslandSnapshot {
                island: 0,
                evolution: self.evolutions[0].snapshot(),
                rng: (*self.rngs[0]).clone(),
                stopped: None,
            }],
            rounds: RoundsState::default(),
        }
    }

    /// The board of a search that begins at `rounds`: a restored one's last round published
    /// and its ended islands' last status and snapshot posted.
    fn board(&self, rounds: &RoundsState) -> RoundBoard<IslandStatus, IslandSnapshot> {
        let board = RoundBoard::new(self.evolutions.len());
        if rounds.statuses.is_empty() {
            return board;
        }
        for (k, stopped) in self.stopped.iter().enumerate() {
            if stopped.is_some() {
                let i = self.first + k;
                board.post(k, rounds.next_round, rounds.statuses[i].clone(), true);
                let snapshot = IslandSnapshot {
                    island: i,
                    evolution: self.evolutions[k].snapshot(),
                    rng: (*self.rngs[k]).clone(),
                    stopped: **stopped,
                };
                board.post_snapshot(k, rounds.next_round, snapshot, true);
            }
        }
        let note = RoundNote::default();
        board.publish(rounds.next_round - 1, rounds.statuses.clone(), note);
        board
    }

    fn plan(&self, checkpoints: bool) -> RoundPlan {
        RoundPlan {
            first: self.first,
            total: self.total,
            seed: self.seed,
            migration: self.migration,
            population: self.population_size(),
            checkpoints,
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
                        lane_evaluations: stats.lane_evaluations,
                        task_evaluations: stats.task_evaluations,
                        jit_compile_seconds: stats.compile_ns as f64 / 1e9,
                        shortcut_hits: evo.evaluator().shortcut_hits(),
                        hurdle_stops: stats.hurdle_stops,
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

/// What every thread of a rank needs to know of the search to play its part in the rounds.
#[derive(Clone, Copy, Debug)]
struct RoundPlan {
    first: usize,
    total: usize,
    seed: u64,
    migration: Migration,
    population: usize,
    /// Whether islands post their state when a round's note asks for a checkpoint, and when
    /// they end.
    checkpoints: bool,
}

/// What the exchanger watches between rounds when there are checkpoints: their interval, and
/// the stops it takes at a round's end in the islands' stead.
#[derive(Clone, Copy, Debug)]
struct Watch {
    every: Option<Duration>,
    deadline: Option<Instant>,
    interrupt: Option<&'static std::sync::atomic::AtomicBool>,
}

impl Watch {
    /// What this rank asks of the next round, `last` being its last checkpoint.
    fn wish(&self, last: Instant) -> RoundNote {
        let stop = if self
            .interrupt
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
        {
            Some(StopReason::Interrupted)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(StopReason::Time)
        } else {
            None
        };
        RoundNote {
            checkpoint: stop.is_some() || self.every.is_some_and(|e| last.elapsed() >= e),
            stop,
        }
    }
}

/// What the exchanger reports.
enum RoundEvent<'e> {
    /// A round's statuses of every island, for progress.
    Statuses(&'e [IslandStatus]),
    /// A checkpoint.
    Checkpoint(&'e IslandsSnapshot),
}

/// One rank's part of a round: its islands' statuses and what it asks of the next round.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RankRound {
    statuses: Vec<IslandStatus>,
    wish: RoundNote,
}

/// Marks a local island ended on the board if its thread unwinds before it posted its end, so
/// that the exchanger does not wait for it.
struct AbandonGuard<'b> {
    board: &'b RoundBoard<IslandStatus, IslandSnapshot>,
    island: usize,
    armed: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.board.abandon(self.island);
        }
    }
}

impl RoundPlan {
    /// The life of local island `k` from round `first_round` on: each round it evolves up to
    /// the round's end, posts its status, and reads the previous round's statuses of every
    /// island: whether the search halts, the immigrants it receives, the others' train steps,
    /// and whether to post a snapshot (and stop). Returns its own stop reason (`None`: it
    /// stopped for another island's).
    fn island(
        &self,
        k: usize,
        evo: &mut Evolution<'_>,
        rng: &mut Rng,
        rule: &StopRule,
        board: &RoundBoard<IslandStatus, IslandSnapshot>,
        first_round: u64,
    ) -> Option<StopReason> {
        let mut guard = AbandonGuard {
            board,
            island: k,
            armed: true,
        };
        let i = self.first + k;
        let snapshot = |evo: &Evolution<'_>, rng: &Rng, stopped| IslandSnapshot {
            island: i,
            evolution: evo.snapshot(),
            rng: rng.clone(),
            stopped,
        };
        for round in first_round.. {
            let reason = evo.advance(rule, 0, rng, round * self.migration.every, |_| {});
            board.post(
                k,
                round,
                self.status(i, evo, reason, round),
                reason.is_some(),
            );
            if reason.is_some() {
                if self.checkpoints {
                    board.post_snapshot(k, round, snapshot(evo, rng, reason), true);
                }
                guard.armed = false;
                return reason;
            }
            if round == 1 {
                continue;
            }
            let Some(previous) = board.gathered(round - 1) else {
                break;
            };
            if halts(&previous.statuses) {
                break;
            }
            if migrates(&previous.statuses) {
                evo.receive(self.immigrants(i, &previous.statuses, round - 1));
            }
            let steps: u64 = previous.statuses.iter().map(|s| s.train_steps).sum();
            evo.set_other_train_steps(steps - previous.statuses[i].train_steps);
            if previous.note.checkpoint {
                board.post_snapshot(k, round, snapshot(evo, rng, None), false);
                if previous.note.stop.is_some() {
                    guard.armed = false;
                    return previous.note.stop;
                }
            }
        }
        guard.armed = false;
        None
    }

    /// The exchanger's loop from `rounds`: each round, every local island's status, gathered
    /// over the ranks and published to the islands with the round's note; `on_event` sees a
    /// round's statuses when the total passes a multiple of `progress_every` (0: never), and
    /// the checkpoints. Returns the number of migrations once a round's statuses say that the
    /// search halts, or once the checkpoint of a stop is taken.
    fn exchange(
        &self,
        board: &RoundBoard<IslandStatus, IslandSnapshot>,
        transport: &mut dyn Transport,
        progress_every: u64,
        rounds: RoundsState,
        watch: Watch,
        mut on_event: impl FnMut(RoundEvent<'_>),
    ) -> Result<u64, TransportError> {
        let RoundsState {
            next_round,
            mut migrations,
            mut migrating,
            mut reported,
            ..
        } = rounds;
        let mut last_checkpoint = Instant::now();
        // The round at whose end the islands post snapshots, and the stop after it.
        let mut due: Option<(u64, Option<StopReason>)> = None;
        for round in next_round.. {
            let local = board.take_local(round).ok_or_else(island_failed)?;
            let wish = if self.checkpoints && due.is_none() {
                watch.wish(last_checkpoint)
            } else {
                RoundNote::default()
            };
            let (all, wish) = self.gather(transport, local, wish)?;
            let individuals: u64 = all.iter().map(|s| s.individuals).sum();
            if progress_every > 0 && individuals / progress_every > reported {
                reported = individuals / progress_every;
                on_event(RoundEvent::Statuses(&all));
            }
            // The previous round's immigrants arrived in the islands that ran this round on.
            if migrating && all.iter().any(|s| s.stopped.is_none()) {
                migrations += 1;
            }
            let halt = halts(&all);
            migrating = !halt && migrates(&all);
            if let Some((at, stop)) = due
                && at == round
            {
                let islands = self.gather_snapshots(board, transport, round)?;
                let state = RoundsState {
                    next_round: round + 1,
                    statuses: all.clone(),
                    migrations,
                    migrating,
                    reported,
                };
                let snapshot = IslandsSnapshot {
                    islands,
                    rounds: state,
                };
                on_event(RoundEvent::Checkpoint(&snapshot));
                last_checkpoint = Instant::now();
                due = None;
                if stop.is_some() {
                    break;
                }
            }
            let note = if halt { RoundNote::default() } else { wish };
            if note.checkpoint {
                due = Some((round + 1, note.stop));
            }
            board.publish(round, all, note);
            if halt {
                break;
            }
        }
        Ok(migrations)
    }

    /// Checks that the ranks' gathered `what` are of islands 0, 1, … in order, one each.
    fn check_order(
        &self,
        islands: impl ExactSizeIterator<Item = usize>,
        what: &str,
    ) -> Result<(), TransportError> {
        let n = islands.len();
        if n != self.total || islands.enumerate().any(|(i, island)| island != i) {
            return Err(TransportError::Message(format!(
                "expected the {what} of islands 0..{} in order, got {n}",
                self.total
            )));
        }
        Ok(())
    }

    /// Every island's snapshot for the checkpoint at the end of `round`, by island number.
    fn gather_snapshots(
        &self,
        board: &RoundBoard<IslandStatus, IslandSnapshot>,
        transport: &mut dyn Transport,
        round: u64,
    ) -> Result<Vec<IslandSnapshot>, TransportError> {
        let local = board.take_snapshots(round).ok_or_else(island_failed)?;
        let all: Vec<IslandSnapshot> = all_gather(transport, local)?
            .into_iter()
            .flatten()
            .collect();
        self.check_order(all.iter().map(|s| s.island), "snapshots")?;
        Ok(all)
    }

    /// Island `i`'s status at the end of `round`, with its emigrants if it runs on with a
    /// complete population.
    fn status(
        &self,
        i: usize,
        evo: &Evolution<'_>,
        stopped: Option<StopReason>,
        round: u64,
    ) -> IslandStatus {
        let pop = evo.population();
        let full = pop.len() == self.population;
        let emigrants = if full && stopped.is_none() {
            let mut rng = round_rng(self.seed, round);
            // Every island's picks come from the round's generator, in island order.
            let mut picks = Vec::new();
            for _ in 0..=i {
                picks = sample(&mut rng, self.population, self.sent());
            }
            picks.iter().map(|&j| pop[j].clone()).collect()
        } else {
            Vec::new()
        };
        IslandStatus {
            island: i,
            individuals: evo.individuals(),
            train_steps: evo.evaluator().stats().train_steps,
            stopped,
            full,
            count: pop.len(),
            sum: pop.iter().map(|i| i.fitness).sum(),
            sum_sq: pop.iter().map(|i| i.fitness * i.fitness).sum(),
            best: pop.iter().map(|i| i.fitness).fold(0.0, f64::max),
            counters: SearchCounters::of(evo.evaluator()),
            emigrants,
        }
    }

    /// Members each island sends, and receives, per round.
    fn sent(&self) -> usize {
        self.migration.size.min(self.population)
    }

    /// Every island's status of a round, by island number, from every rank's local ones, and
    /// what the ranks ask of the next round together (a checkpoint if any asks, the first
    /// rank's stop that asks one).
    fn gather(
        &self,
        transport: &mut dyn Transport,
        local: Vec<IslandStatus>,
        wish: RoundNote,
    ) -> Result<(Vec<IslandStatus>, RoundNote), TransportError> {
        let mine = RankRound {
            statuses: local,
            wish,
        };
        let ranks = all_gather(transport, mine)?;
        let wish = RoundNote {
            checkpoint: ranks.iter().any(|r| r.wish.checkpoint),
            stop: ranks.iter().find_map(|r| r.wish.stop),
        };
        let all: Vec<IslandStatus> = ranks.into_iter().flat_map(|r| r.statuses).collect();
        self.check_order(all.iter().map(|s| s.island), "statuses")?;
        Ok((all, wish))
    }

    /// The members island `i` receives from what the other islands sent at the end of `round`.
    /// The draws continue `round`'s generator after every island's emigrant picks and are made
    /// for every island in order up to `i`, so that each island draws what it would in a round
    /// made for all of them at once.
    fn immigrants(&self, i: usize, status: &[IslandStatus], round: u64) -> Vec<Individual> {
        let mut rng = round_rng(self.seed, round);
        for _ in 0..self.total {
            sample(&mut rng, self.population, self.sent());
        }
        let pool: Vec<(usize, &Individual)> = status
            .iter()
            .flat_map(|s| s.emigrants.iter().map(move |e| (s.island, e)))
            .collect();
        let mut immigrants = Vec::new();
        for (j, s) in status.iter().enumerate().take(i + 1) {
            let own = s.emigrants.len();
            let others = pool.len() - own;
            let count = if others == 0 { 0 } else { own };
            let start = pool.iter().position(|(k, _)| *k == j).unwrap_or(pool.len());
            immigrants.clear();
            for _ in 0..count {
                // The n-th entry of the pool without island j's own.
                let mut n = rng.below(others);
                if n >= start {
                    n += own;
                }
                immigrants.push(pool[n].1.clone());
            }
        }
        immigrants
    }
}

/// The error of an island thread that ended without its status (it panicked).
fn island_failed() -> TransportError {
    TransportError::Failed("an island thread failed".into())
}

/// Whether a round's statuses end the search: an island stopped for a reason other than its
/// individual quota, or every island stopped.
fn halts(status: &[IslandStatus]) -> bool {
    status
        .iter()
        .any(|s| s.stopped.is_some_and(|r| r != StopReason::Individuals))
        || status.iter().all(|s| s.stopped.is_some())
}

/// Whether a round's emigrants migrate: every island runs on with a complete population.
fn migrates(status: &[IslandStatus]) -> bool {
    status.iter().all(|s| s.stopped.is_none() && s.full)
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
        counters: Some(
            status
                .iter()
                .fold(SearchCounters::default(), |a, s| a + s.counters),
        ),
    }
}
