//! The JIT as a tier of the search (ARCHITECTURE.md, consequence 2): per live structure, count the
//! interpreter time compiled code would have saved; once that passes the compile cost (both
//! measured on this machine at start-up, [`BreakEven`]), compile the structure on a background
//! thread; once its code is ready, every algorithm of that structure — whatever its constants,
//! Setup or dead code — runs natively, fingerprints included. The search never waits for
//! Cranelift, and results do not depend on which tier ran: both are bit-exact.
//!
//! Memory stays bounded: the ready-code table holds at most [`READY_CAPACITY`] structures and is
//! emptied when full (hot structures come back within a few evaluations), the hotness table is
//! emptied past [`HOT_CAPACITY`] entries, and compiled code is freed with its code generation once no
//! table holds it.

use super::BreakEven;
use super::interp::Program;
use super::jit::JitProgram;
use crate::task::EvalType;
use amlz_ir::analysis::{LiveStructure, live_structure};
use amlz_ir::{Algorithm, Layout};
use amlz_jit::{CompiledAlgorithm, CompiledCode, Compiler, JitConfig, JitError};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// Most compiled structures kept ready at once.
pub const READY_CAPACITY: usize = 2048;

/// Most structures whose hotness is tracked at once.
pub const HOT_CAPACITY: usize = 200_000;

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

type FxBuild = BuildHasherDefault<FxHasher>;

/// What identifies compiled code: the live structure, the memory layout and the scoring.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeKey {
    structure: LiveStructure,
    layout: Layout,
    eval_type: EvalType,
}

impl CodeKey {
    /// The key of the dead-code-eliminated algorithm `live` for `layout` and `eval_type`.
    pub fn new(live: &Algorithm, layout: Layout, eval_type: EvalType) -> CodeKey {
        CodeKey {
            structure: live_structure(live, layout.features()),
            layout,
            eval_type,
        }
    }
}

struct Request {
    key: CodeKey,
    live: Algorithm,
}

type Reply = (CodeKey, Result<Arc<CompiledCode>, JitError>);

/// Counters of the tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TieringStats {
    /// Structures sent to the background compiler.
    pub requested: u64,
    /// Structures compiled and made ready.
    pub compiled: u64,
    /// Structures whose compilation failed (they stay interpreted: the fallback).
    pub failed: u64,
}

/// The background compiler and the tables that decide what runs natively.
pub struct Tiering {
    break_even: BreakEven,
    hot: HashMap<CodeKey, f64, FxBuild>,
    ready: HashMap<CodeKey, Arc<CompiledCode>, FxBuild>,
    pending: HashSet<CodeKey, FxBuild>,
    failed: HashSet<CodeKey, FxBuild>,
    requests: Option<Sender<Request>>,
    replies: Receiver<Reply>,
    worker: Option<JoinHandle<()>>,
    stats: TieringStats,
}

impl std::fmt::Debug for Tiering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiering")
            .field("stats", &self.stats)
            .field("ready", &self.ready.len())
            .finish()
    }
}

fn worker(requests: Receiver<Request>, replies: Sender<Reply>) {
    let mut compiler = Compiler::new(JitConfig::default());
    for Request { key, live } in requests {
        let result = match &mut compiler {
            Ok(c) => c
                .compile(&live, key.layout, super::jit::scoring(key.eval_type))
                .map(|a| a.code().clone()),
            Err(e) => Err(e.clone()),
        };
        if replies.send((key, result)).is_err() {
            return;
        }
    }
}

impl Tiering {
    /// A tier with the break-even of this machine and a background compiler thread.
    pub fn new(break_even: BreakEven) -> Tiering {
        let (request_tx, request_rx) = channel();
        let (reply_tx, reply_rx) = channel();
        let worker = std::thread::Builder::new()
            .name("amlz-jit".into())
            .spawn(move || worker(request_rx, reply_tx))
            .ok();
        Tiering {
            break_even,
            hot: HashMap::default(),
            ready: HashMap::default(),
            pending: HashSet::default(),
            failed: HashSet::default(),
            requests: worker.as_ref().map(|_| request_tx),
            replies: reply_rx,
            worker,
            stats: TieringStats::default(),
        }
    }

    /// The break-even the tier decides by.
    pub fn break_even(&self) -> &BreakEven {
        &self.break_even
    }

    /// Counters so far.
    pub fn stats(&self) -> TieringStats {
        self.stats
    }

    /// Takes in the code the background compiler has finished.
    fn collect(&mut self) {
        while let Ok((key, result)) = self.replies.try_recv() {
            self.pending.remove(&key);
            match result {
                Ok(code) => {
                    if self.ready.len() >= READY_CAPACITY {
                        self.ready.clear();
                    }
                    self.stats.compiled += 1;
                    self.ready.insert(key, code);
                }
                Err(_) => {
                    self.stats.failed += 1;
                    self.failed.insert(key);
                }
            }
        }
    }

    /// The native program for `live` (decoded as `program`) if its structure's code is ready;
    /// else `program` back.
    pub fn native(
        &mut self,
        key: &CodeKey,
        live: &Algorithm,
        program: Program,
    ) -> Result<JitProgram, Program> {
        self.collect();
        let Some(code) = self.ready.get(key) else {
            return Err(program);
        };
        match CompiledAlgorithm::new(code.clone(), live) {
            Ok(compiled) => Ok(JitProgram::from_parts(program, compiled, key.eval_type)),
            Err(_) => Err(program),
        }
    }

    /// Records that the interpreter ran one evaluation of `examples` examples of `live`
    /// (estimated `cost_ns` per example by the cost model); asks for compilation once the time
    /// compiled code would have saved passes the compile cost.
    pub fn record(&mut self, key: &CodeKey, live: &Algorithm, cost_ns: f64, examples: f64) {
        let saved = self.break_even.saved_ns(cost_ns, examples);
        if saved <= 0.0
            || self.ready.contains_key(key)
            || self.pending.contains(key)
            || self.failed.contains(key)
        {
            return;
        }
        if self.hot.len() >= HOT_CAPACITY {
            self.hot.clear();
        }
        let total = self.hot.entry(key.clone()).or_insert(0.0);
        *total += saved;
        if *total <= self.break_even.compile_ns {
            return;
        }
        self.hot.remove(key);
        if let Some(tx) = &self.requests
            && tx
                .send(Request {
                    key: key.clone(),
                    live: live.clone(),
                })
                .is_ok()
        {
            self.pending.insert(key.clone());
            self.stats.requested += 1;
        }
    }
}

impl Drop for Tiering {
    fn drop(&mut self) {
        self.requests = None; // Closes the channel: the worker's loop ends.
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
