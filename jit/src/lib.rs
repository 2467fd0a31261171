//! `amlz-jit`: amlz's native tier. Lowers an algorithm's Predict and Learn to machine code with
//! Cranelift, bit-exact with the interpreter (SEMANTICS.md).
//!
//! A [`Compiler`] (one per worker thread) turns a dead-code-eliminated algorithm into a
//! [`CompiledAlgorithm`]: one native function holding both loops of SEMANTICS.md §4 over a task's
//! examples — the train loop (Predict, the ACCURACY sigmoid write-back, the early-stop check,
//! Learn) and the validation loop (Predict, the RMS or ACCURACY bookkeeping) — plus the
//! algorithm's constants. The code reads constants from that array rather than as immediates, so
//! one compiled body serves every algorithm of the same live structure
//! ([`amlz_ir::analysis::LiveStructure`]); the compiler caches bodies by structure, layout and
//! scoring, and recycles its code memory in generations so that it stays bounded.
//!
//! Inside an example, scalars and vectors are SSA values (vectors as `f64x2` chunks, or as F
//! scalars in matrix-free code at F ≤ 4, where lane shuffles would lengthen the critical path); memory is
//! brought up to date after Predict and after Learn; values read before being written in an
//! example stay in registers from one example to the next. Matrix ops, random fills and libm are
//! calls to the Rust helpers of `helpers`, which a `cranelift-jit` module per code generation
//! links by symbol name when it installs the code (`module`).
//!
//! Setup is not compiled: it runs once per task and the interpreter runs it. Memory is the
//! shared layout of [`amlz_ir::Layout`], so the two executors hand memory to each other.
//!
//! Every failure of code generation is a [`JitError`] (never a panic or an abort): the caller
//! falls back to the interpreter.

#![warn(missing_docs)]

mod abi;
#[cfg(target_arch = "x86_64")]
mod avx;
mod compiler;
mod helpers;
mod lower;
mod module;

pub use compiler::{
    ADAPTIVE_LIMIT, CompiledAlgorithm, CompiledCode, Compiler, CompilerStats, Examples, JitConfig,
    Lane, LaneSinks, MAX_LANES, OptLevel, RegAlloc, State, TrainEnd, ValidationEnd,
    live_generations, pack_rows,
};

/// How a task's validation is scored, which decides code in both loops: ACCURACY writes
/// `sigmoid(s1)` back after each train Predict and counts misclassified validation examples;
/// RMS_ERROR sums squared errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scoring {
    /// RMS_ERROR.
    Rms,
    /// ACCURACY.
    Accuracy,
}

/// Why code could not be generated. The evaluation then runs in the interpreter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JitError {
    /// The compiler could not be set up for this machine or these settings.
    #[error("JIT setup failed: {0}")]
    Setup(String),
    /// Cranelift rejected or failed to compile a function (verifier error, code too large, …).
    #[error("Cranelift failed to compile: {0}")]
    Codegen(String),
    /// Installing the code failed (code memory, relocation).
    #[error("JIT module error: {0}")]
    Module(String),
    /// The algorithm or layout is one the lowering does not handle.
    #[error("unsupported by the JIT: {0}")]
    Unsupported(String),
    /// Code generation panicked; the compiler recovered with fresh contexts and a fresh code
    /// generation.
    #[error("code generation panicked: {0}")]
    Panic(String),
}
