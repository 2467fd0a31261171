//! The loop skeleton: one function holding the train loop and the validation loop of
//! SEMANTICS.md §4 around the code of Predict and Learn, and the analysis of which values stay
//! in registers from one example to the next.

use super::{HelperImports, INLINE_MATRIX_MAX_F, Lowering, chunk_width, load_arg, scalar_flags};
use crate::abi::LoopArgs;
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

/// Builds the loop function into `func` (whose signature must be `(args: ptr)`, see
/// [`loop_signature`]).
///
/// One function serves both loops (`LoopArgs::mode`: 0 train, 1 validation), so that Predict and
/// the per-function costs of Cranelift are paid once. The loop is tested at its head; the index
/// and the register-resident values (see [`register_resident`]) are the head block's parameters.
/// Every stop returns from a block of its own. So no edge of the function is critical: Cranelift
/// splits each critical edge into a block of its own, and every block costs compile time (the
/// bottom-tested loop with one shared exit block had five such edges, 11 blocks instead of 8).
/// The validation loss and wrong count accumulate in `LoopArgs` (which the caller zeroes).
/// Memory is brought up to date after Predict and after Learn, so that the exits store nothing
/// but the stopping index (`LoopArgs::steps`, which the caller sets to `count`). The loop sets
/// `s0` and `v0` as values (the features are read from the row), never in memory: a program's
/// own writes to them are stored like any other, and the caller writes the inputs the last
/// function saw where it did not overwrite them (see `CompiledCode`).
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
    let mem = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, memory));
    let consts = needs_consts.then(|| load_arg(&mut b, ptr, args, offset_of!(LoopArgs, constants)));
    let rng = needs_rng.then(|| load_arg(&mut b, ptr, args, offset_of!(LoopArgs, rng)));
    let scratch = needs_scratch.then(|| load_arg(&mut b, ptr, args, offset_of!(LoopArgs, scratch)));
    let zero_i = b.ins().iconst(I64, 0);

    let mut t = Lowering {
        b,
        helpers,
        layout,
        f,
        sval: vec![None; counts.scalars],
        sdirty: vec![false; counts.scalars],
        vval: vec![None; counts.vectors],
        vdirty: vec![false; counts.vectors],
        mem,
        consts,
        rng,
        scratch,
        row: None,
        v0_is_row: true,
        row_v0: None,
        error: None,
        slot: 0,
        keep_across_blocks,
        width: chunk_width(structure, f),
    };
    // Values that live in registers over the whole loop: loaded once here; the carried ones
    // (written in the loop) travel as parameters of the head block.
    let mut start = vec![BlockArg::Value(zero_i)];
    for &(bank, a) in carried.iter().chain(&invariant) {
        match bank {
            Bank::Scalar => {
                t.s(a);
            }
            _ => {
                t.v(a);
            }
        }
    }
    for &(bank, a) in &carried {
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
            Bank::Scalar => t.sval[a as usize] = Some(params[0]),
            _ => t.vval[a as usize] = Some(params),
        }
    }
    t.b.ins().jump(head, &start);
    // The carried values for a jump back to the head block.
    let carry = |t: &mut Lowering<'_>, out: &mut Vec<BlockArg>| {
        for &(bank, a) in &carried {
            match bank {
                Bank::Scalar => out.push(BlockArg::Value(t.s(a))),
                _ => out.extend(t.v(a).into_iter().map(BlockArg::Value)),
            }
        }
    };

    // The loop test: `if k < count goto body; return` (`steps` keeps the `count` it came with).
    t.b.switch_to_block(head);
    let count = load_arg(&mut t.b, I64, args, offset_of!(LoopArgs, count));
    let more = t.b.ins().icmp(IntCC::UnsignedLessThan, k, count);
    t.b.ins().brif(more, body, &[], done, &[]);
    t.b.seal_block(body);
    t.b.seal_block(done);
    t.b.switch_to_block(done);
    t.b.ins().return_(&[]);

    // The example: its row (features, then the label), Predict, the label.
    t.b.switch_to_block(body);
    let rows = load_arg(&mut t.b, ptr, args, offset_of!(LoopArgs, rows));
    let row_off = t.b.ins().imul_imm_s(k, ((f + 1) * 8) as i64);
    let row = t.b.ins().iadd(rows, row_off);
    t.row = Some(row);
    t.v0_is_row = true;
    t.row_v0 = None;
    let zero = t.f64c(0.0);
    t.sval[0] = Some(zero);
    for ins in &structure.predict {
        t.lower(ins)?;
    }
    t.sync();
    let label =
        t.b.ins()
            .load(F64, scalar_flags().with_readonly(), row, (f * 8) as i32);
    let preds = load_arg(&mut t.b, ptr, args, offset_of!(LoopArgs, predictions));
    let k8 = t.b.ins().ishl_imm_s(k, 3);
    let ppred = t.b.ins().iadd(preds, k8);
    let k1 = t.b.ins().iadd_imm_s(k, 1);
    // `if bad: steps = k; return`, continuing in a fresh block. Each stop returns in its own
    // block, so that no edge of the function is critical (Cranelift would split it into a
    // block of its own).
    let check = |t: &mut Lowering<'_>, bad: Value| {
        let stop = t.b.create_block();
        let cont = t.b.create_block();
        t.b.ins().brif(bad, stop, &[], cont, &[]);
        t.b.seal_block(stop);
        t.b.seal_block(cont);
        t.b.switch_to_block(stop);
        t.b.ins()
            .store(scalar_flags(), k, args, offset_of!(LoopArgs, steps) as i32);
        t.b.ins().return_(&[]);
        t.b.switch_to_block(cont);
        t.boundary();
    };
    // `|label - s1|` is NaN or above max_abs_error; also returns `label - s1`.
    let error_check = |t: &mut Lowering<'_>, pred: Value| -> (Value, Value) {
        let max_err = load_arg(&mut t.b, F64, args, offset_of!(LoopArgs, max_abs_error));
        let e = t.b.ins().fsub(label, pred);
        let err = t.b.ins().fabs(e);
        // One compare that the branch consumes directly (no flags materialised).
        let bad =
            t.b.ins()
                .fcmp(FloatCC::UnorderedOrGreaterThan, err, max_err);
        (bad, e)
    };
    // RMS_ERROR: train and validation make the same prediction record and error check, so
    // they are done once, before the loops part.
    let mut rms_e = None;
    if scoring == Scoring::Rms {
        let pred = t.s(1);
        t.b.ins().store(scalar_flags(), pred, ppred, 0);
        let (bad, e) = error_check(&mut t, pred);
        t.error = Some((label, pred, e));
        check(&mut t, bad);
        rms_e = Some(e);
    }
    let mode = load_arg(&mut t.b, I64, args, offset_of!(LoopArgs, mode));
    let train = t.b.create_block();
    let valid = t.b.create_block();
    t.b.ins().brif(mode, valid, &[], train, &[]);
    t.b.seal_block(train);
    t.b.seal_block(valid);
    let after_predict = (t.sval.clone(), t.vval.clone());

    // Train: (ACCURACY) the write-back and the error check, then Learn.
    t.b.switch_to_block(train);
    t.boundary();
    // With f64x2 chunks, Learn reloads the features (already in L1) rather than keeping
    // Predict's copy alive across the early-stop test: at F=16 eight f64x2 features beside
    // eight carried weights exhaust the 16 vector registers and force spills (the linear
    // regressor runs 1.1x faster). Scalar vectors (F <= 4) are few enough to stay.
    if t.width == 2 {
        t.vval[0] = None;
    }
    if scoring == Scoring::Accuracy {
        let s1 = t.s(1);
        let sg = t.sigmoid(s1)?;
        t.set_s(1, sg);
        t.sync();
        t.b.ins().store(scalar_flags(), sg, ppred, 0);
        let (bad, e) = error_check(&mut t, sg);
        t.error = Some((label, sg, e));
        check(&mut t, bad);
    }
    // Learn's inputs: s0 is the label and v0 the row's features again, whatever Predict wrote
    // to them (its writes are in memory). Predict's load of the features serves where values
    // stay in registers across blocks in scalar form (see above).
    t.sval[0] = Some(label);
    t.v0_is_row = true;
    t.vval[0] = if t.width == 1 && t.keep_across_blocks {
        t.row_v0.clone()
    } else {
        None
    };
    for ins in &structure.learn {
        t.lower(ins)?;
    }
    t.sync();
    let mut again = vec![BlockArg::Value(k1)];
    carry(&mut t, &mut again);
    t.b.ins().jump(head, &again);

    // Validation: the loss bookkeeping.
    (t.sval, t.vval) = after_predict;
    t.b.switch_to_block(valid);
    t.boundary();
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
            check(&mut t, bad);
            let half = t.f64c(0.5);
            let yl = t.b.ins().fcmp(FloatCC::GreaterThan, label, half);
            let yp = t.b.ins().fcmp(FloatCC::GreaterThan, p, half);
            let ne = t.b.ins().bxor(yl, yp);
            debug_assert_eq!(t.b.func.dfg.value_type(ne), I8);
            let ne = t.b.ins().uextend(I64, ne);
            let off = offset_of!(LoopArgs, wrong) as i32;
            let wrong = t.b.ins().load(I64, scalar_flags(), args, off);
            let wrong = t.b.ins().iadd(wrong, ne);
            t.b.ins().store(scalar_flags(), wrong, args, off);
        }
        Some(e) => {
            // e = y - s1 (checked above); loss += e * e.
            let sq = t.b.ins().fmul(e, e);
            let off = offset_of!(LoopArgs, loss) as i32;
            let loss = t.b.ins().load(F64, scalar_flags(), args, off);
            let loss = t.b.ins().fadd(loss, sq);
            t.b.ins().store(scalar_flags(), loss, args, off);
        }
    }
    let mut again = vec![BlockArg::Value(k1)];
    carry(&mut t, &mut again);
    t.b.ins().jump(head, &again);
    t.b.seal_block(head);
    t.b.finalize(frontend);
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
