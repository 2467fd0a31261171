//! The argument block compiled loops receive: one pointer to a [`LoopArgs`], whose fields the
//! generated code reads at known offsets and whose result fields it writes.

use amlz_ir::Rng;

/// Everything one call of a compiled loop works on. `repr(C)`: the generated code reads the
/// fields by offset (`offset_of!`), so their layout is part of the contract between
/// [`crate::lower`] and [`crate::CompiledAlgorithm`].
#[repr(C)]
#[derive(Debug)]
pub(crate) struct LoopArgs {
    /// The evaluation's memory (the shared layout).
    pub memory: *mut f64,
    /// The algorithm's constants ([`amlz_ir::analysis::constant_data`]).
    pub constants: *const f64,
    /// The evaluation's random stream.
    pub rng: *mut Rng,
    /// F² scratch values for aliased matrix products.
    pub scratch: *mut f64,
    /// The examples in visiting order, one row of F features and the label each (`count`
    /// rows of `F + 1` values).
    pub rows: *const f64,
    /// Where the prediction of each visited example goes (`count` values).
    pub predictions: *mut f64,
    /// How many examples to visit.
    pub count: u64,
    /// 0: the train loop; 1: the validation loop.
    pub mode: u64,
    /// The early-stop / failure bound on a prediction's absolute error.
    pub max_abs_error: f64,
    /// Out (validation, RMS_ERROR): the summed squared error.
    pub loss: f64,
    /// Out (validation, ACCURACY): how many examples were classified wrong.
    pub wrong: u64,
    /// In/out: `count` on entry; where the loop stops early, the index of the example it
    /// stopped at.
    pub steps: u64,
}

impl LoopArgs {
    /// Arguments pointing nowhere, for lanes a call does not use.
    pub const IDLE: LoopArgs = LoopArgs {
        memory: std::ptr::null_mut(),
        constants: std::ptr::null(),
        rng: std::ptr::null_mut(),
        scratch: std::ptr::null_mut(),
        rows: std::ptr::null(),
        predictions: std::ptr::null_mut(),
        count: 0,
        mode: 0,
        max_abs_error: 0.0,
        loss: 0.0,
        wrong: 0,
        steps: 0,
    };
}

/// Everything one call of a multi-lane loop works on: one [`LoopArgs`] per lane, and where a
/// lane's work goes once it has stopped. A lane whose training stops (or whose validation
/// fails) records its step in its own `steps`, and from then on reads and writes the sinks
/// instead of its memory, random stream and predictions, so that these stay exactly as its
/// single-task run leaves them while the other lanes go on; the loop returns once no lane runs.
/// A lane the caller does not run at all comes in already pointing at the sinks.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct LanesArgs {
    /// In/out: how many lanes still run (those not pointing at the sinks).
    pub running: u64,
    /// A layout-sized memory that stopped lanes work on.
    pub sink_memory: *mut f64,
    /// A random stream that stopped lanes draw from.
    pub sink_rng: *mut Rng,
    /// `count` values that stopped lanes write their predictions to.
    pub sink_predictions: *mut f64,
    /// The lanes' arguments, one after the other.
    pub lanes: *mut LoopArgs,
}
