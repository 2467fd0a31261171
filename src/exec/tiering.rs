//! The JIT as a tier of the search (ARCHITECTURE.md, consequence 2): per live structure, count the
//! interpreter time compiled code would have saved; once that passes the compile cost (both
//! measured on this machine at start-up, [`BreakEven`]; where the search threads fill every core,
//! the cost of the tier's own compiles), compile the structure on a background thread; once its
//! code is ready, every algorithm of that structure — whatever its constants, Setup or dead code
//! — runs natively, fingerprints included. The search never waits for Cranelift, and results do
//! not depend on which tier ran: both are bit-exact.
//!
//! The compile thread and the ready table are a [`CompileService`], which the tiers of several
//! threads (islands, parallel experiments) may share; hotness stays per tier.
//!
//! Memory stays bounded: the ready-code table holds at most [`READY_CAPACITY`] structures and is
//! emptied when full (hot structures come back within a few evaluations), the hotness table is
//! emptied past [`HOT_CAPACITY`] entries, and compiled code is freed with its code generation once no
//! table holds it.

use super::interp::Program;
use super::jit::{ConstantBuffers, JitProgram, NATIVE_LANES};
use super::{BreakEven, InterpMode};
use crate::task::EvalType;
use amlz_ir::analysis::{LiveStructure, live_structure, live_structure_into};
use amlz_ir::{Algorithm, Layout};
use amlz_jit::{CompiledAlgorithm, CompiledCode, Compiler, JitConfig, JitError};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Most compiled structures kept ready at once.
pub const READY_CAPACITY: usize = 2048;

/// Most structures whose hotness is tracked at once.
pub const HOT_CAPACITY: usize = 200_000;

/// A tier's compiles after which it weighs compiling by their mean time, not by the break-even's.
pub const COMPILES_MEASURED: u64 = 8;

/// FxHash (rustc's): structure keys are hashed several times per candidate, and SipHash's
/// resistance to crafted keys buys nothing here.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    #[inline]
    fn write_u8(&mut self, x: u8) {
        self.write_u64(x as u64);
    }
    #[inline]
    fn write_u16(&mut self, x: u16) {
        self.write_u64(x as u64);
    }
    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Hash maps keyed by structures and programs use [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// What identifies compiled code: the live structure, the memory layout and the scoring.
#[derive(Clone, Debug)]
pub struct CodeKey {
    structure: LiveStructure,
    layout: Layout,
    eval_type: EvalType,
    /// The hash of the three, computed once: a candidate's key is looked up several times
    /// (ready code, then hotness, for its fingerprint and its full evaluation).
    hash: u64,
}

impl CodeKey {
    /// The key of the dead-code-eliminated algorithm `live` for `layout` and `eval_type`.
    pub fn new(live: &Algorithm, layout: Layout, eval_type: EvalType) -> CodeKey {
        let structure = live_structure(live, layout.features());
        let mut key = CodeKey {
            structure,
            layout,
            eval_type,
            hash: 0,
        };
        key.rehash();
        key
    }

    /// Makes this the key of `live` for `layout` and `eval_type`, reusing its allocations.
    pub fn renew(&mut self, live: &Algorithm, layout: Layout, eval_type: EvalType) {
        live_structure_into(live, layout.features(), &mut self.structure);
        (self.layout, self.eval_type) = (layout, eval_type);
        self.rehash();
    }

    fn rehash(&mut self) {
        let mut h = FxHasher::default();
        (&self.structure, self.layout, self.eval_type).hash(&mut h);
        self.hash = h.finish();
    }
}

impl PartialEq for CodeKey {
    fn eq(&self, other: &CodeKey) -> bool {
        self.hash == other.hash
            && self.layout == other.layout
            && self.eval_type == other.eval_type
            && self.structure == other.structure
    }
}

impl Eq for CodeKey {}

impl Hash for CodeKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

struct Request {
    key: CodeKey,
    live: Algorithm,
    /// The counters of the tier that asked.
    counters: Arc<TierCounters>,
}

/// What a tier's requests came to, counted by the compile thread.
#[derive(Debug, Default)]
struct TierCounters {
    compiled: AtomicU64,
    failed: AtomicU64,
    compile_ns: AtomicU64,
}

/// Counters of the tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TieringStats {
    /// Structures sent to the background compiler.
    pub requested: u64,
    /// Structures compiled and made ready.
    pub compiled: u64,
    /// Structures whose compilation failed (they stay interpreted: the fallback).
    pub failed: u64,
    /// Wall nanoseconds the compile thread spent on this tier's requests.
    pub compile_ns: u64,
}

/// The tables a compile service's users and its thread share.
#[derive(Default)]
struct Tables {
    /// What was made ready since the table was last emptied, in order: the tiers' mirrors copy
    /// from it what they have not seen.
    log: Vec<(CodeKey, Ready)>,
    /// How many times the table was emptied.
    epoch: u64,
    /// Entries made ready before the last clear.
    base: u64,
    pending: HashSet<CodeKey, FxBuild>,
    failed: HashSet<CodeKey, FxBuild>,
}

impl Tables {
    /// Makes `code` ready for `key`, first emptying a full table; returns what was emptied, for
    /// the caller to drop once the lock is released (freeing code unmaps memory).
    fn publish(&mut self, key: CodeKey, code: Ready) -> Vec<(CodeKey, Ready)> {
        let mut emptied = Vec::new();
        if self.log.len() >= READY_CAPACITY {
            self.base += self.log.len() as u64;
            self.epoch += 1;
            emptied = std::mem::take(&mut self.log);
        }
        self.log.push((key, code));
        emptied
    }

    /// Entries made ready so far, over all epochs.
    fn published(&self) -> u64 {
        self.base + self.log.len() as u64
    }
}

/// One background compile thread and one bounded table of ready code, keyed by live structure,
/// that any number of tiers (one per island or experiment thread) share: a structure one island
/// made hot is compiled once, and every island gets its code. Each tier looks code up in a mirror
/// of its own, refreshed only when the service has published something new, so that an
/// evaluation on one core never waits for, or writes to a cache line of, another core. The lock
/// guards only the shared tables' updates, never a compile, an evaluation or freeing code.
pub struct CompileService {
    tables: Arc<Mutex<Tables>>,
    /// `Tables::published` as of the last update: what a tier compares its mirror with.
    published: Arc<AtomicU64>,
    requests: Mutex<Option<Sender<Request>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// Whether the search threads it serves fill every core, so that a compile takes its time
    /// from them rather than from an idle core.
    fills_cores: bool,
}

impl std::fmt::Debug for CompileService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompileService").finish_non_exhaustive()
    }
}

/// A structure's ready code: one task at a time, and, where it pays, several side by side
/// (code that calls no helper, in groups of [`NATIVE_LANES`]).
#[derive(Clone)]
struct Ready {
    single: Arc<CompiledCode>,
    lanes: Option<Arc<CompiledCode>>,
}

/// Compiles `live`'s structure for `key`: its single-task code and, where that calls no
/// helper, its multi-lane code (a failure of the latter leaves the single-task code alone).
fn compile_ready(
    compiler: &mut Compiler,
    key: &CodeKey,
    live: &Algorithm,
) -> Result<Ready, JitError> {
    let scoring = super::jit::scoring(key.eval_type);
    let single = compiler.compile(live, key.layout, scoring)?.code().clone();
    let lanes = (!single.calls_helpers())
        .then(|| {
            compiler
                .compile_lanes(live, key.layout, scoring, NATIVE_LANES)
                .ok()
        })
        .flatten()
        .map(|c| c.code().clone());
    Ok(Ready { single, lanes })
}

fn worker(requests: Receiver<Request>, tables: Arc<Mutex<Tables>>, published: Arc<AtomicU64>) {
    let mut compiler = Compiler::new(JitConfig::default());
    for Request {
        key,
        live,
        counters,
    } in requests
    {
        let start = std::time::Instant::now();
        let result: Result<Ready, JitError> = match &mut compiler {
            Ok(c) => compile_ready(c, &key, &live),
            Err(e) => Err(e.clone()),
        };
        let spent = start.elapsed().as_nanos() as u64;
        counters.compile_ns.fetch_add(spent, Ordering::Relaxed);
        let mut t = tables.lock().unwrap_or_else(|p| p.into_inner());
        t.pending.remove(&key);
        let emptied = match result {
            Ok(code) => {
                counters.compiled.fetch_add(1, Ordering::Relaxed);
                let emptied = t.publish(key, code);
                published.store(t.published(), Ordering::Release);
                emptied
            }
            Err(_) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                t.failed.insert(key);
                Vec::new()
            }
        };
        drop(t);
        drop(emptied);
    }
}

impl CompileService {
    /// A service with its compile thread started (`amlz-jit`); without a thread (the system
    /// refused one) nothing is ever compiled and every tier stays interpreted.
    pub fn new() -> Arc<CompileService> {
        CompileService::for_searchers(1)
    }

    /// A service for `searchers` search threads of this process (islands or parallel
    /// experiments): where they fill every core, its tiers weigh a compile by what their own
    /// compiles have cost (see [`Tiering`]).
    pub fn for_searchers(searchers: usize) -> Arc<CompileService> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (request_tx, request_rx) = channel();
        let tables = Arc::new(Mutex::new(Tables::default()));
        let published = Arc::new(AtomicU64::new(0));
        let (for_worker, published_by_worker) = (tables.clone(), published.clone());
        let worker = std::thread::Builder::new()
            .name("amlz-jit".into())
            .spawn(move || worker(request_rx, for_worker, published_by_worker))
            .ok();
        Arc::new(CompileService {
            tables,
            published,
            requests: Mutex::new(worker.as_ref().map(|_| request_tx)),
            worker: Mutex::new(worker),
            fills_cores: searchers >= cores,
        })
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for CompileService {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop.
        *self.requests.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(w) = self
            .worker
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = w.join();
        }
    }
}

/// A tier's copy of its service's ready code (at most [`READY_CAPACITY`] entries, like the
/// service's table): lookups touch only memory of the tier's own thread.
#[derive(Default)]
struct Mirror {
    ready: HashMap<CodeKey, Ready, FxBuild>,
    /// The service's epoch and published count this copy is up to date with.
    epoch: u64,
    seen: u64,
}

impl Mirror {
    /// The ready code of `key`, after catching up with `service` if it published anything new.
    fn get(&mut self, service: &CompileService, key: &CodeKey) -> Option<Ready> {
        if service.published.load(Ordering::Acquire) != self.seen {
            self.catch_up(service);
        }
        self.ready.get(key).cloned()
    }

    fn catch_up(&mut self, service: &CompileService) {
        self.catch_up_with(&service.tables());
    }

    fn catch_up_with(&mut self, t: &Tables) {
        if t.epoch != self.epoch {
            self.ready.clear();
            self.epoch = t.epoch;
            self.seen = t.base;
        }
        let from = (self.seen - t.base) as usize;
        for (key, code) in &t.log[from..] {
            self.ready.insert(key.clone(), code.clone());
        }
        self.seen = t.published();
    }
}

/// The hotness of one evaluator's structures, and its way to the compile service that decides
/// what runs natively.
pub struct Tiering {
    break_even: BreakEven,
    hot: HashMap<CodeKey, f64, FxBuild>,
    service: Arc<CompileService>,
    mirror: Mirror,
    counters: Arc<TierCounters>,
    requested: u64,
}

impl std::fmt::Debug for Tiering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiering")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Tiering {
    /// A tier with the break-even of this machine and a compile service of its own.
    pub fn new(break_even: BreakEven) -> Tiering {
        Tiering::shared(break_even, CompileService::new())
    }

    /// A tier with the break-even of this machine that compiles through `service`, shared with
    /// other tiers.
    pub fn shared(break_even: BreakEven, service: Arc<CompileService>) -> Tiering {
        Tiering {
            break_even,
            hot: HashMap::default(),
            service,
            mirror: Mirror::default(),
            counters: Arc::default(),
            requested: 0,
        }
    }

    /// The break-even the tier decides by.
    pub fn break_even(&self) -> &BreakEven {
        &self.break_even
    }

    /// What compiling a structure costs the search, as the tier weighs it: with a core to spare
    /// for the compile thread, the break-even's compile of a small program (the latency that
    /// keeps a structure interpreted); where the search threads fill every core, the mean wall
    /// time of the tier's own compiles so far (single-task and multi-lane code, on this load),
    /// once it has [`COMPILES_MEASURED`] of them, since each compile then takes that time from
    /// the search.
    fn compile_cost_ns(&self) -> f64 {
        if !self.service.fills_cores {
            return self.break_even.compile_ns;
        }
        let done = self.counters.compiled.load(Ordering::Relaxed)
            + self.counters.failed.load(Ordering::Relaxed);
        if done < COMPILES_MEASURED {
            return self.break_even.compile_ns;
        }
        let spent = self.counters.compile_ns.load(Ordering::Relaxed) as f64;
        (spent / done as f64).max(self.break_even.compile_ns)
    }

    /// Counters so far: of this tier's own requests.
    pub fn stats(&self) -> TieringStats {
        TieringStats {
            requested: self.requested,
            compiled: self.counters.compiled.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            compile_ns: self.counters.compile_ns.load(Ordering::Relaxed),
        }
    }

    /// The native program for `live` (decoded as `program`) if its structure's code is ready,
    /// its constants kept in `buffers`; else `program` back.
    pub fn native(
        &mut self,
        key: &CodeKey,
        live: &Algorithm,
        program: Program,
        buffers: ConstantBuffers,
    ) -> Result<JitProgram, Program> {
        let Some(code) = self.mirror.get(&self.service, key) else {
            return Err(program);
        };
        let lanes = code
            .lanes
            .and_then(|c| CompiledAlgorithm::with_buffer(c, live, buffers.lanes).ok());
        match CompiledAlgorithm::with_buffer(code.single, live, buffers.single) {
            Ok(compiled) => {
                Ok(JitProgram::from_parts(program, compiled, key.eval_type).with_lanes(lanes))
            }
            Err(_) => Err(program),
        }
    }

    /// Records that the interpreter ran evaluations of `live` (estimated `cost_ns` per example by
    /// the cost model) as `mode` says, of `examples` examples each; asks for compilation once
    /// the time compiled code would have saved passes the compile cost.
    pub fn record(
        &mut self,
        key: &CodeKey,
        live: &Algorithm,
        cost_ns: f64,
        examples: impl IntoIterator<Item = f64>,
        mode: InterpMode,
    ) {
        let saved: f64 = examples
            .into_iter()
            // Counted as if the structure gets multi-lane code (it does unless its code calls
            // helpers): the evaluation itself then weighs the code it has.
            .map(|n| self.break_even.saved_ns(cost_ns, n, mode, true))
            .sum();
        if saved <= 0.0 {
            return;
        }
        if self.hot.len() >= HOT_CAPACITY {
            self.hot.clear();
        }
        // A structure already counted (most records) costs a lookup, not a clone of its key.
        let total = match self.hot.get_mut(key) {
            Some(total) => total,
            None => self.hot.entry(key.clone()).or_insert(0.0),
        };
        *total += saved;
        if *total <= self.compile_cost_ns() {
            return;
        }
        self.hot.remove(key);
        let mut t = self.service.tables();
        self.mirror.catch_up_with(&t);
        if self.mirror.ready.contains_key(key) || t.pending.contains(key) || t.failed.contains(key)
        {
            return;
        }
        let requests = self
            .service
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = requests.as_ref()
            && tx
                .send(Request {
                    key: key.clone(),
                    live: live.clone(),
                    counters: self.counters.clone(),
                })
                .is_ok()
        {
            t.pending.insert(key.clone());
            self.requested += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::handmade;

    #[test]
    fn compiles_are_weighed_by_their_own_cost_only_where_the_search_fills_the_cores() {
        let break_even = BreakEven {
            compile_ns: 100_000.0,
            jit_speedup: 4.0,
            lanes_speedup: 2.0,
            native_lanes_speedup: 4.0,
            interp_scale: 1.0,
            call_overhead_ns: 50.0,
        };
        let tier = |searchers| {
            let t = Tiering::shared(break_even, CompileService::for_searchers(searchers));
            t.counters
                .compiled
                .store(COMPILES_MEASURED, Ordering::Relaxed);
            let spent = COMPILES_MEASURED * 900_000;
            t.counters.compile_ns.store(spent, Ordering::Relaxed);
            t
        };
        assert_eq!(tier(usize::MAX).compile_cost_ns(), 900_000.0);
        assert_eq!(tier(0).compile_cost_ns(), 100_000.0, "a core to spare");
        let young = tier(usize::MAX);
        young.counters.compiled.store(1, Ordering::Relaxed);
        young.counters.compile_ns.store(900_000, Ordering::Relaxed);
        assert_eq!(young.compile_cost_ns(), 100_000.0, "too few compiles yet");
    }

    #[test]
    fn a_renewed_key_is_the_key_made_anew() {
        let (nn, linear) = (handmade::neural_net(), handmade::linear(0.5));
        let layout = Layout::new(4, nn.min_counts()).unwrap();
        let mut key = CodeKey::new(&nn, layout, EvalType::RmsError);
        let before = key.clone();
        key.renew(&linear, layout, EvalType::Accuracy);
        let fresh = CodeKey::new(&linear, layout, EvalType::Accuracy);
        assert_eq!(key, fresh);
        assert_eq!(key.hash, fresh.hash);
        assert_ne!(key, before);
        key.renew(&nn, layout, EvalType::RmsError);
        assert_eq!((key.hash, &key), (before.hash, &before));
    }
}
