//! The loop skeleton: one function holding the train loop and the validation loop of
//! SEMANTICS.md §4 around the code of Predict and Learn, and the analysis of which values stay
//! in registers from one example to the next.

use super::{
    HelperImports, INLINE_MATRIX_MAX_F, LaneState, LaneVars, Lowering, chunk_width, load_arg,
    scalar_flags,
};
use crate::abi::{LanesArgs, LoopArgs};
use crate::{JitError, Scoring};
use amlz_ir::analysis::{LiveStructure, StructuralInstruction};
use amlz_ir::{Bank, Layout, Op};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, I8, I64};
use cranelift_codegen::ir::{self, BlockArg, Function, InstBuilder, Type, Value};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::mem::offset_of;

/// A scalar or vector address.
type Address = (Bank, u16);

/// Whether `op` reads its operand `which` (1 or 2) through the value cache (an SSA value) rather
/// than from memory through a helper (at feature size `f`: small matrix ops are inline).
fn reads_as_value(op: Op, which: u8, f: usize) -> bool {
    use Op::*;
    if f <= INLINE_MATRIX_MAX_F && matches!(op, VectorOuterProduct | MatrixVectorProduct) {
        return true;
    }
    !matches!(
        (op, which),
        (VectorOuterProduct, _)
            | (VectorColumnBroadcast | VectorRowBroadcast, 1)
            | (MatrixVectorProduct, 2)
    )
}

/// The scalar and vector addresses worth keeping in registers across examples (besides `s0`
/// and `v0`, which the loop sets): those the code reads as values before writing them in an
/// example. Returns the ones the loop writes (carried from example to example as loop-block
/// parameters) and the ones it never writes (loaded once before the loop).
fn register_resident(
    code: &[&StructuralInstruction],
    counts: amlz_ir::MemoryCounts,
    f: usize,
) -> (Vec<Address>, Vec<Address>) {
    let idx = |b: Bank| if b == Bank::Scalar { 0 } else { 1 };
    let mut written = [vec![false; counts.scalars], vec![false; counts.vectors]];
    let mut live_in = [vec![false; counts.scalars], vec![false; counts.vectors]];
    for ins in code {
        let info = ins.op.info();
        let mut reads = Vec::new();
        if let Some(b) = info.in1
            && reads_as_value(ins.op, 1, f)
        {
            reads.push((b, ins.in1));
        }
        if let Some(b) = info.in2
            && reads_as_value(ins.op, 2, f)
        {
            reads.push((b, ins.in2));
        }
        if info.data == amlz_ir::DataKind::VectorConstant {
            reads.push((Bank::Vector, ins.out));
        }
        for (b, a) in reads {
            if b != Bank::Matrix && a != 0 && !written[idx(b)][a as usize] {
                live_in[idx(b)][a as usize] = true;
            }
        }
        if let Some(b) = info.out
            && b != Bank::Matrix
        {
            written[idx(b)][ins.out as usize] = true;
        }
    }
    let mut carried = Vec::new();
    let mut invariant = Vec::new();
    for (k, bank) in [(0, Bank::Scalar), (1, Bank::Vector)] {
        for a in 0..live_in[k].len() {
            if live_in[k][a] {
                if written[k][a] {
                    carried.push((bank, a as u16));
                } else {
                    invariant.push((bank, a as u16));
                }
            }
        }
    }
    (carried, invariant)
}

/// The sinks of a multi-lane function and the argument block that counts its running lanes
/// (see [`LanesArgs`]).
#[derive(Clone, Copy)]
struct Sinks {
    head: Value,
    memory: Value,
    rng: Value,
    predictions: Value,
}

/// Builds the loop function into `func` (whose signature must be `(args: ptr)`, see
/// [`loop_signature`]) for `lanes` lanes: with one, `args` is a [`LoopArgs`]; with more, a
/// [`LanesArgs`] whose lanes run the same code side by side, each example's Predict (and Learn)
/// emitted once per lane, so that the processor overlaps the lanes' independent chains of
/// arithmetic where one lane's examples wait on each other.
///
/// One function serves both loops (`LoopArgs::mode`: 0 train, 1 validation), so that Predict and
/// the per-function costs of Cranelift are paid once. The loop is tested at its head; the index
/// and the register-resident values (see [`register_resident`]) are the head block's parameters.
/// Every stop returns from a block of its own. So no edge of the single-lane function is
/// critical: Cranelift splits each critical edge into a block of its own, and every block costs
/// compile time (the bottom-tested loop with one shared exit block had five such edges, 11
/// blocks instead of 8). The validation loss and wrong count accumulate in `LoopArgs` (which
/// the caller zeroes). Memory is brought up to date after Predict and after Learn, so that the
/// exits store nothing but the stopping index (`LoopArgs::steps`, which the caller sets to
/// `count`). The loop sets `s0` and `v0` as values (the features are read from the row), never
/// in memory: a program's own writes to them are stored like any other, and the caller writes
/// the inputs the last function saw where it did not overwrite them (see `CompiledCode`).
///
/// ```text
/// head(k): if k >= count: return
/// body:    row = rows[k]; v0 = row[..F]; s0 = 0; Predict; store changes; label = row[F]
///          [RMS_ERROR: predictions[k] = s1; if |label - s1| is NaN or too big: stop at k]
///          if mode == validation goto valid
/// train:   [ACCURACY: s1 = sigmoid(s1), stored; predictions[k] = s1; error check as above]
///          s0 = label; Learn; store changes; goto head(k + 1)
/// valid:   [ACCURACY: predictions[k] = s1; p = sigmoid(s1); if p > 1 or p < 0: stop at k;
///          args.wrong += (label > 0.5) != (p > 0.5)]  [RMS_ERROR: args.loss += e * e]
///          goto head(k + 1)
/// ```
///
/// With several lanes each bracketed step runs once per lane, and a lane's stop does not return:
/// it records `k`, points the lane at the sinks and carries on, returning only when it was the
/// last lane running.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    helpers: HelperImports,
    frontend: TargetFrontendConfig,
    layout: Layout,
    structure: &LiveStructure,
    scoring: Scoring,
    keep_across_blocks: bool,
    lanes: usize,
) -> Result<(), JitError> {
    let f = layout.features();
    let ptr = helpers.ptr;
    let counts = layout.counts();
    let code: Vec<&StructuralInstruction> =
        structure.predict.iter().chain(&structure.learn).collect();
    let needs = |pred: fn(Op) -> bool| code.iter().any(|i| pred(i.op));
    let needs_consts = needs(|op| amlz_ir::analysis::constant_slots(op) > 0);
    let needs_rng = needs(|op| op.is_random());
    let needs_scratch = needs(|op| matches!(op, Op::MatrixVectorProduct | Op::MatrixMatrixProduct));

    let (carried, invariant) = if keep_across_blocks {
        register_resident(&code, counts, layout.features())
    } else {
        Default::default()
    };

    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    let head = b.create_block();
    let k = b.append_block_param(head, I64);
    let body = b.create_block();
    let done = b.create_block();

    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let args = b.block_params(entry)[0];
    let (lane_args, sinks) = if lanes == 1 {
        (vec![args], None)
    } else {
        let base = load_arg(&mut b, ptr, args, offset_of!(LanesArgs, lanes));
        let lane_args: Vec<Value> = (0..lanes)
            .map(|j| b.ins().iadd_imm_s(base, (j * size_of::<LoopArgs>()) as i64))
            .collect();
        let sinks = Sinks {
            head: args,
            memory: load_arg(&mut b, ptr, args, offset_of!(LanesArgs, sink_memory)),
            rng: load_arg(&mut b, ptr, args, offset_of!(LanesArgs, sink_rng)),
            predictions: load_arg(&mut b, ptr, args, offset_of!(LanesArgs, sink_predictions)),
        };
        (lane_args, Some(sinks))
    };
    let scratch =
        needs_scratch.then(|| load_arg(&mut b, ptr, lane_args[0], offset_of!(LoopArgs, scratch)));
    let zero_i = b.ins().iconst(I64, 0);
    let parked = lane_args
        .iter()
        .map(|&la| lane_state(&mut b, la, counts, ptr, needs_consts, needs_rng, sinks))
        .collect();

    let mut t = Lowering {
        b,
        helpers,
        layout,
        f,
        // Every lane waits in `parked`; each lane's work swaps it in here and back.
        lane: LaneState::idle(args),
        scratch,
        keep_across_blocks,
        width: if lanes > 1 {
            // Several lanes are bound by throughput rather than by one chain's latency: f64x2
            // chunks halve the registers their vectors need, where scalar vectors would spill
            // (docs/PERFORMANCE.md).
            2
        } else {
            chunk_width(structure, f)
        },
        parked,
    };
    // Values that live in registers over the whole loop: loaded once here; the carried ones
    // (written in the loop) travel as parameters of the head block.
    let mut start = vec![BlockArg::Value(zero_i)];
    for j in 0..lanes {
        t.swap_lane(j);
        load_resident(&mut t, head, &carried, &invariant, &mut start);
        t.swap_lane(j);
    }
    t.b.ins().jump(head, &start);
    // The carried values for a jump back to the head block.
    let carry = |t: &mut Lowering<'_>, out: &mut Vec<BlockArg>| {
        for j in 0..lanes {
            t.swap_lane(j);
            for &(bank, a) in &carried {
                match bank {
                    Bank::Scalar => out.push(BlockArg::Value(t.s(a))),
                    _ => out.extend(t.v(a).into_iter().map(BlockArg::Value)),
                }
            }
            t.swap_lane(j);
        }
    };

    // The loop test: `if k < count goto body; return` (`steps` keeps the `count` it came with).
    t.b.switch_to_block(head);
    let count = load_arg(&mut t.b, I64, lane_args[0], offset_of!(LoopArgs, count));
    let more = t.b.ins().icmp(IntCC::UnsignedLessThan, k, count);
    t.b.ins().brif(more, body, &[], done, &[]);
    t.b.seal_block(body);
    t.b.seal_block(done);
    t.b.switch_to_block(done);
    t.b.ins().return_(&[]);

    // The example, lane after lane: its row (features, then the label), Predict, the label.
    t.b.switch_to_block(body);
    let k8 = t.b.ins().ishl_imm_s(k, 3);
    let k1 = t.b.ins().iadd_imm_s(k, 1);
    let zero = t.f64c(0.0);
    let stop = Stop { k, sinks };
    let mut labels = Vec::with_capacity(lanes);
    let mut ppreds = Vec::with_capacity(lanes);
    let mut rms_e = Vec::with_capacity(lanes);
    for (j, &la) in lane_args.iter().enumerate() {
        t.swap_lane(j);
        t.refresh_pointers();
        let rows = load_arg(&mut t.b, ptr, la, offset_of!(LoopArgs, rows));
        let row_off = t.b.ins().imul_imm_s(k, ((f + 1) * 8) as i64);
        let row = t.b.ins().iadd(rows, row_off);
        t.lane.row = Some(row);
        t.lane.v0_is_row = true;
        t.lane.row_v0 = None;
        t.lane.sval[0] = Some(zero);
        for ins in &structure.predict {
            t.lower(ins)?;
        }
        t.sync();
        let label =
            t.b.ins()
                .load(F64, scalar_flags().with_readonly(), row, (f * 8) as i32);
        let preds = match t.lane.vars {
            Some(v) => t.b.use_var(v.preds),
            None => load_arg(&mut t.b, ptr, la, offset_of!(LoopArgs, predictions)),
        };
        let ppred = t.b.ins().iadd(preds, k8);
        // RMS_ERROR: train and validation make the same prediction record and error check, so
        // they are done once, before the loops part.
        let mut e = None;
        if scoring == Scoring::Rms {
            let pred = t.s(1);
            t.b.ins().store(scalar_flags(), pred, ppred, 0);
            let (bad, err) = error_check(&mut t, la, label, pred);
            t.lane.error = Some((label, pred, err));
            stop.check(&mut t, la, bad);
            e = Some(err);
        }
        t.swap_lane(j);
        labels.push(label);
        ppreds.push(ppred);
        rms_e.push(e);
    }
    let mode = load_arg(&mut t.b, I64, lane_args[0], offset_of!(LoopArgs, mode));
    let train = t.b.create_block();
    let valid = t.b.create_block();
    t.b.ins().brif(mode, valid, &[], train, &[]);
    t.b.seal_block(train);
    t.b.seal_block(valid);
    let after_predict: Vec<_> = t
        .parked
        .iter()
        .map(|l| (l.sval.clone(), l.vval.clone()))
        .collect();

    // Train: (ACCURACY) the write-back and the error check, then Learn.
    t.b.switch_to_block(train);
    for (j, &la) in lane_args.iter().enumerate() {
        t.swap_lane(j);
        t.refresh_pointers();
        t.boundary();
        // With f64x2 chunks, Learn reloads the features (already in L1) rather than keeping
        // Predict's copy alive across the early-stop test: at F=16 eight f64x2 features beside
        // eight carried weights exhaust the 16 vector registers and force spills (the linear
        // regressor runs 1.1x faster). Scalar vectors (F <= 4) are few enough to stay.
        if t.width == 2 {
            t.lane.vval[0] = None;
        }
        if scoring == Scoring::Accuracy {
            let s1 = t.s(1);
            let sg = t.sigmoid(s1)?;
            t.set_s(1, sg);
            t.sync();
            t.b.ins().store(scalar_flags(), sg, ppreds[j], 0);
            let (bad, e) = error_check(&mut t, la, labels[j], sg);
            t.lane.error = Some((labels[j], sg, e));
            stop.check(&mut t, la, bad);
        }
        // Learn's inputs: s0 is the label and v0 the row's features again, whatever Predict
        // wrote to them (its writes are in memory). Predict's load of the features serves
        // where values stay in registers across blocks in scalar form (see above).
        t.lane.sval[0] = Some(labels[j]);
        t.lane.v0_is_row = true;
        t.lane.vval[0] = if t.width == 1 && t.keep_across_blocks {
            t.lane.row_v0.clone()
        } else {
            None
        };
        for ins in &structure.learn {
            t.lower(ins)?;
        }
        t.sync();
        t.swap_lane(j);
    }
    let mut again = vec![BlockArg::Value(k1)];
    carry(&mut t, &mut again);
    t.b.ins().jump(head, &again);

    // Validation: the loss bookkeeping.
    for (l, (sval, vval)) in t.parked.iter_mut().zip(after_predict) {
        (l.sval, l.vval) = (sval, vval);
    }
    t.b.switch_to_block(valid);
    for (j, &la) in lane_args.iter().enumerate() {
        t.swap_lane(j);
        t.refresh_pointers();
        t.boundary();
        validation_step(&mut t, la, ppreds[j], labels[j], rms_e[j], zero, &stop)?;
        t.swap_lane(j);
    }
    let mut again = vec![BlockArg::Value(k1)];
    carry(&mut t, &mut again);
    t.b.ins().jump(head, &again);
    t.b.seal_block(head);
    t.b.finalize(frontend);
    Ok(())
}

/// A fresh lane's translator state for the lane whose [`LoopArgs`] `la` points to: its memory,
/// constants and random stream loaded; in a multi-lane function, its pointers in variables.
fn lane_state(
    b: &mut FunctionBuilder,
    la: Value,
    counts: amlz_ir::MemoryCounts,
    ptr: Type,
    needs_consts: bool,
    needs_rng: bool,
    sinks: Option<Sinks>,
) -> LaneState {
    let mem = load_arg(b, ptr, la, offset_of!(LoopArgs, memory));
    let consts = needs_consts.then(|| load_arg(b, ptr, la, offset_of!(LoopArgs, constants)));
    let rng = needs_rng.then(|| load_arg(b, ptr, la, offset_of!(LoopArgs, rng)));
    let vars = sinks.map(|_| {
        let var = |b: &mut FunctionBuilder, x: Value| {
            let v = b.declare_var(ptr);
            b.def_var(v, x);
            v
        };
        let preds = load_arg(b, ptr, la, offset_of!(LoopArgs, predictions));
        LaneVars {
            mem: var(b, mem),
            rng: rng.map(|r| var(b, r)),
            preds: var(b, preds),
        }
    });
    LaneState {
        sval: vec![None; counts.scalars],
        sdirty: vec![false; counts.scalars],
        vval: vec![None; counts.vectors],
        vdirty: vec![false; counts.vectors],
        mem,
        consts,
        rng,
        row: None,
        v0_is_row: true,
        row_v0: None,
        error: None,
        slot: 0,
        vars,
    }
}

/// Loads the current lane's register-resident values before the loop; the carried ones become
/// parameters of `head`, their start values appended to `start`.
fn load_resident(
    t: &mut Lowering<'_>,
    head: ir::Block,
    carried: &[Address],
    invariant: &[Address],
    start: &mut Vec<BlockArg>,
) {
    for &(bank, a) in carried.iter().chain(invariant) {
        match bank {
            Bank::Scalar => {
                t.s(a);
            }
            _ => {
                t.v(a);
            }
        }
    }
    for &(bank, a) in carried {
        let vals = match bank {
            Bank::Scalar => vec![t.s(a)],
            _ => t.v(a),
        };
        let mut params = Vec::with_capacity(vals.len());
        for v in vals {
            start.push(BlockArg::Value(v));
            let ty = t.b.func.dfg.value_type(v);
            params.push(t.b.append_block_param(head, ty));
        }
        match bank {
            Bank::Scalar => t.lane.sval[a as usize] = Some(params[0]),
            _ => t.lane.vval[a as usize] = Some(params),
        }
    }
}

/// `(|label - pred|` is NaN or above the lane's `max_abs_error`, `label - pred)`.
fn error_check(t: &mut Lowering<'_>, la: Value, label: Value, pred: Value) -> (Value, Value) {
    let max_err = load_arg(&mut t.b, F64, la, offset_of!(LoopArgs, max_abs_error));
    let e = t.b.ins().fsub(label, pred);
    let err = t.b.ins().fabs(e);
    // One compare that the branch consumes directly (no flags materialised).
    let bad =
        t.b.ins()
            .fcmp(FloatCC::UnorderedOrGreaterThan, err, max_err);
    (bad, e)
}

/// How a lane stops at example `k`: alone, by returning; among lanes, by switching to the
/// sinks.
struct Stop {
    k: Value,
    sinks: Option<Sinks>,
}

impl Stop {
    /// `if bad: stop the current lane (whose arguments `la` points to) at k`, continuing in a
    /// fresh block. A lone lane returns in a block of its own, so that no edge of the function
    /// is critical (Cranelift would split it into a block of its own). Among lanes, a running
    /// lane records `k`, switches to the sinks and is counted out; the last one returns.
    fn check(&self, t: &mut Lowering<'_>, la: Value, bad: Value) {
        let stop = t.b.create_block();
        let cont = t.b.create_block();
        t.b.ins().brif(bad, stop, &[], cont, &[]);
        t.b.seal_block(stop);
        t.b.switch_to_block(stop);
        let steps = offset_of!(LoopArgs, steps) as i32;
        match (self.sinks, t.lane.vars) {
            (Some(s), Some(v)) => {
                // A lane already on the sinks (stopped before, or not run) stops no more.
                let cur = t.b.use_var(v.mem);
                let live = t.b.ins().icmp(IntCC::NotEqual, cur, s.memory);
                let kill = t.b.create_block();
                t.b.ins().brif(live, kill, &[], cont, &[]);
                t.b.seal_block(kill);
                t.b.switch_to_block(kill);
                t.b.ins().store(scalar_flags(), self.k, la, steps);
                t.b.def_var(v.mem, s.memory);
                if let Some(r) = v.rng {
                    t.b.def_var(r, s.rng);
                }
                t.b.def_var(v.preds, s.predictions);
                let at = offset_of!(LanesArgs, running) as i32;
                let running = t.b.ins().load(I64, scalar_flags(), s.head, at);
                let running = t.b.ins().iadd_imm_s(running, -1);
                t.b.ins().store(scalar_flags(), running, s.head, at);
                let ret = t.b.create_block();
                t.b.ins().brif(running, cont, &[], ret, &[]);
                t.b.seal_block(ret);
                t.b.switch_to_block(ret);
                t.b.ins().return_(&[]);
            }
            _ => {
                t.b.ins().store(scalar_flags(), self.k, la, steps);
                t.b.ins().return_(&[]);
            }
        }
        t.b.seal_block(cont);
        t.b.switch_to_block(cont);
        t.refresh_pointers();
        t.boundary();
    }
}

/// The current lane's validation bookkeeping for the example of `label`, whose prediction
/// record is `ppred` and (RMS_ERROR) whose error `rms_e` was checked after Predict.
fn validation_step(
    t: &mut Lowering<'_>,
    la: Value,
    ppred: Value,
    label: Value,
    rms_e: Option<Value>,
    zero: Value,
    stop: &Stop,
) -> Result<(), JitError> {
    // The loss and the wrong count accumulate in the arguments (in memory, not as loop
    // parameters: the train loop never touches them, and fewer loop parameters make a smaller
    // register-allocation problem).
    match rms_e {
        None => {
            // p = sigmoid(s1), not written back; fails outside [0, 1]; NaN counts as class 0.
            let pred = t.s(1);
            t.b.ins().store(scalar_flags(), pred, ppred, 0);
            let p = t.sigmoid(pred)?;
            let one = t.f64c(1.0);
            let gt = t.b.ins().fcmp(FloatCC::GreaterThan, p, one);
            let lt = t.b.ins().fcmp(FloatCC::LessThan, p, zero);
            let bad = t.b.ins().bor(gt, lt);
            stop.check(t, la, bad);
            let half = t.f64c(0.5);
            let yl = t.b.ins().fcmp(FloatCC::GreaterThan, label, half);
            let yp = t.b.ins().fcmp(FloatCC::GreaterThan, p, half);
            let ne = t.b.ins().bxor(yl, yp);
            debug_assert_eq!(t.b.func.dfg.value_type(ne), I8);
            let ne = t.b.ins().uextend(I64, ne);
            let off = offset_of!(LoopArgs, wrong) as i32;
            let wrong = t.b.ins().load(I64, scalar_flags(), la, off);
            let wrong = t.b.ins().iadd(wrong, ne);
            t.b.ins().store(scalar_flags(), wrong, la, off);
        }
        Some(e) => {
            // e = y - s1 (checked above); loss += e * e.
            let sq = t.b.ins().fmul(e, e);
            let off = offset_of!(LoopArgs, loss) as i32;
            let loss = t.b.ins().load(F64, scalar_flags(), la, off);
            let loss = t.b.ins().fadd(loss, sq);
            t.b.ins().store(scalar_flags(), loss, la, off);
        }
    }
    Ok(())
}

/// The signature of a loop function: `(args: *mut LoopArgs)`, returning nothing: where it
/// stops is written to `LoopArgs::steps`. Returning the index would tie the loop counter to
/// the return register at every exit, and the allocator then splits the counter's live range
/// around those constraints: the store instead costs ~6% fewer instructions per compile of the
/// linear regressor at F=4.
pub(crate) fn loop_signature(ptr: Type, call_conv: CallConv) -> ir::Signature {
    let mut sig = ir::Signature::new(call_conv);
    sig.params.push(ir::AbiParam::new(ptr));
    sig
}
