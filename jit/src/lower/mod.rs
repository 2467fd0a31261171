//! Lowering of Predict and Learn to Cranelift IR: one function holding the train loop and the
//! validation loop of SEMANTICS.md §4.
//!
//! Within the straight-line code of an example, the translator keeps a compile-time cache of the
//! SSA value of each scalar and vector address (vectors as `f64x2` chunks, plus an `f64` tail
//! when F is odd, or as F scalars in matrix-free code at F ≤ [`SCALAR_VECTOR_MAX_F`]): an
//! address is loaded at its first read, later reads reuse the value, writes
//! replace it. Memory is brought up to date — dirty values stored — after Predict, after Learn,
//! and before a helper reads a vector from memory, so that the exits store nothing. Addresses
//! the code reads before writing them in an example stay in registers from one example to the
//! next: those the loop writes travel as parameters of the loop head block, the others are loaded
//! once before the loop. Matrices always live in memory and are handled by the helpers of
//! [`crate::helpers`].
//!
//! Every op emits the interpreter's sequence of IEEE operations: reductions from the first term
//! in index order, min/max and heaviside as compare+select with the rules of `amlz_ir::kernels`
//! (not Cranelift's `fmin`/`fmax`), libm and random draws through the same Rust functions.
//! Nothing here fuses or reorders.
//!
//! The translator, [`Lowering`], has one method per construct, grouped by op family: the value
//! cache and element-wise building blocks (`values`), scalar arithmetic and libm (`scalar`),
//! vectors (`vector`), matrices (`matrix`), constants and random draws (`data`), and the loop
//! around Predict and Learn (`skeleton`).

mod data;
mod matrix;
mod scalar;
mod skeleton;
mod values;
mod vector;

pub(crate) use skeleton::{build, loop_signature};

use crate::JitError;
use crate::helpers::Helper;
use amlz_ir::analysis::{LiveStructure, StructuralInstruction};
use amlz_ir::{Bank, Layout, Op};
use cranelift_codegen::ir::types::{F64, F64X2};
use cranelift_codegen::ir::{self, FuncRef, Function, InstBuilder, MemFlagsData, Type, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};

/// Imports helpers into the function being built, once per function. A helper is an external
/// function named `u0:N` with `N` its [`crate::helpers::name_index`], which is also its function
/// id in every code generation's module (see `crate::module`), so the module links it.
pub(crate) struct HelperImports {
    pub(crate) refs: [Option<FuncRef>; Helper::COUNT],
    pub(crate) features: usize,
    pub(crate) call_conv: CallConv,
    pub(crate) ptr: Type,
}

impl HelperImports {
    /// Imports for a function over `features` features.
    pub(crate) fn new(features: usize, call_conv: CallConv, ptr: Type) -> HelperImports {
        HelperImports {
            refs: [None; Helper::COUNT],
            features,
            call_conv,
            ptr,
        }
    }

    fn get(&mut self, h: Helper, func: &mut Function) -> FuncRef {
        if let Some(r) = self.refs[h.index()] {
            return r;
        }
        let v = h.variant_for(self.features);
        let sig = func.import_signature(h.shape().signature(self.ptr, self.call_conv));
        let name = func.declare_imported_user_function(ir::UserExternalName::new(
            0,
            crate::helpers::name_index(h, v),
        ));
        let r = func.import_function(ir::ExtFuncData {
            name: ir::ExternalName::User(name),
            signature: sig,
            colocated: false,
            patchable: false,
        });
        self.refs[h.index()] = Some(r);
        r
    }
}

/// Memory flags for `f64` accesses into buffers we own (8-byte aligned, never trapping).
fn scalar_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Memory flags for `f64x2` accesses: only 8-byte aligned, so not `aligned`.
fn vector_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// The pointer variables of one lane of a multi-lane function: a lane that stops switches its
/// memory, random stream and predictions to the sinks (see `skeleton`), so these change along
/// the function and are Cranelift variables rather than fixed values.
#[derive(Clone, Copy)]
struct LaneVars {
    mem: Variable,
    rng: Option<Variable>,
    preds: Variable,
}

/// What the translator tracks per lane: the value cache and the pointers of one lane's memory,
/// constants and random stream. The translator works on one lane at a time ([`Lowering::lane`]);
/// the others wait in [`Lowering::parked`], and [`Lowering::swap_lane`] exchanges them.
struct LaneState {
    /// Cached value per scalar address.
    sval: Vec<Option<Value>>,
    /// Whether the cached scalar differs from memory.
    sdirty: Vec<bool>,
    /// Cached chunks per vector address.
    vval: Vec<Option<Vec<Value>>>,
    /// Whether the cached vector differs from memory.
    vdirty: Vec<bool>,
    mem: Value,
    consts: Option<Value>,
    rng: Option<Value>,
    /// The current example's row: its features are `v0`'s value until the component function
    /// writes `v0` (helpers read them from here).
    row: Option<Value>,
    /// Whether `v0` still holds the row's features in the current component function (it is
    /// set to them at each function's entry; a write ends that).
    v0_is_row: bool,
    /// The values of `v0` loaded from the row in the current example, if any (Learn may reuse
    /// Predict's load, whatever Predict then wrote to `v0`).
    row_v0: Option<Vec<Value>>,
    /// `(label, prediction, label - prediction)` of the early-stop test, whose block dominates
    /// Learn.
    error: Option<(Value, Value, Value)>,
    /// The next constant slot.
    slot: usize,
    /// The lane's pointer variables (multi-lane functions only).
    vars: Option<LaneVars>,
}

impl LaneState {
    /// The state in the translator while no lane is swapped in (nothing cached; `mem` any
    /// value, never read).
    fn idle(mem: Value) -> LaneState {
        LaneState {
            sval: Vec::new(),
            sdirty: Vec::new(),
            vval: Vec::new(),
            vdirty: Vec::new(),
            mem,
            consts: None,
            rng: None,
            row: None,
            v0_is_row: true,
            row_v0: None,
            error: None,
            slot: 0,
            vars: None,
        }
    }
}

/// The translator of one function: the function builder, the helper imports, and the value
/// cache described in the module documentation.
struct Lowering<'a> {
    b: FunctionBuilder<'a>,
    helpers: HelperImports,
    layout: Layout,
    f: usize,
    /// The current lane's value cache and pointers.
    lane: LaneState,
    scratch: Option<Value>,
    /// Whether cached values stay in use across block boundaries (good with the backtracking
    /// register allocator); else they are reloaded from memory after each boundary, which
    /// spares the single-pass allocator from spilling them.
    keep_across_blocks: bool,
    /// Elements per vector chunk (see [`chunk_width`]).
    width: usize,
    /// The other lanes' state (the current lane's slot holds whatever was swapped out last).
    parked: Vec<LaneState>,
}

/// Up to this F, element-wise matrix binaries, outer products and matrix-vector products are
/// emitted inline (at most 16 elements: 8 `f64x2` operations) rather than as helper calls, whose
/// call overhead dominates at such sizes. Larger F keeps the helpers: unrolled O(F²) code
/// compiles 10–20× slower.
const INLINE_MATRIX_MAX_F: usize = 4;

/// Up to this F, the vectors of code that touches no matrix are F scalar `f64` values rather
/// than `f64x2` chunks. Small-F code is bound by the latency of its dependency chains (a
/// dot product feeding Learn feeding the next dot product), and every reduction or scalar
/// broadcast on `f64x2` chunks puts a lane shuffle on that chain; scalar values need none.
/// The linear regressor at F=4 runs ~25% faster (3.5× the interpreter rather than 2.8×).
/// Code with matrices keeps chunks: its inline matrix ops are written on them, and their
/// width pays there.
const SCALAR_VECTOR_MAX_F: usize = 4;

/// Elements per vector chunk for `structure` at feature size `f`: 1 (scalar `f64` values, see
/// [`SCALAR_VECTOR_MAX_F`]) or 2 (`f64x2` chunks, an `f64` tail when F is odd).
fn chunk_width(structure: &LiveStructure, f: usize) -> usize {
    let touches_matrices = structure.predict.iter().chain(&structure.learn).any(|i| {
        let info = i.op.info();
        [info.in1, info.in2, info.out].contains(&Some(Bank::Matrix))
    });
    if f <= SCALAR_VECTOR_MAX_F && !touches_matrices {
        1
    } else {
        2
    }
}

impl<'a> Lowering<'a> {
    /// Exchanges the current lane's state with parked lane `lane`'s: called once to start work
    /// on a lane and once again to park it.
    fn swap_lane(&mut self, lane: usize) {
        std::mem::swap(&mut self.lane, &mut self.parked[lane]);
    }

    /// Reads the current lane's pointers afresh from their variables (after a block where the
    /// lane may have stopped and switched to the sinks).
    fn refresh_pointers(&mut self) {
        if let Some(v) = self.lane.vars {
            self.lane.mem = self.b.use_var(v.mem);
            self.lane.rng = v.rng.map(|r| self.b.use_var(r));
        }
    }

    /// Number of chunks of a vector.
    fn num_chunks(&self) -> usize {
        self.f.div_ceil(self.width)
    }

    /// The type of chunk `c`: `f64x2`, except the tail of an odd F and every chunk of width 1.
    fn chunk_type(&self, c: usize) -> Type {
        if self.width == 2 && 2 * c + 1 < self.f {
            F64X2
        } else {
            F64
        }
    }

    /// Byte offset of chunk `c` within a vector.
    fn chunk_offset(&self, c: usize) -> i32 {
        (c * 8 * self.width) as i32
    }

    fn off(&self, bank: Bank, addr: u16) -> i32 {
        (self.layout.offset(bank, addr as usize) * 8) as i32
    }

    fn call(&mut self, h: Helper, args: &[Value]) -> Result<Option<Value>, JitError> {
        let r = self.helpers.get(h, self.b.func);
        let inst = self.b.ins().call(r, args);
        Ok(self.b.inst_results(inst).first().copied())
    }

    fn call1(&mut self, h: Helper, args: &[Value]) -> Result<Value, JitError> {
        self.call(h, args)?
            .ok_or_else(|| JitError::Unsupported(format!("helper {h:?} returns nothing")))
    }

    fn f64c(&mut self, x: f64) -> Value {
        self.b.ins().f64const(x)
    }

    fn next_const(&mut self) -> Value {
        let off = (self.lane.slot * 8) as i32;
        self.lane.slot += 1;
        let consts = self.lane.consts.expect("constants pointer loaded");
        self.b
            .ins()
            .load(F64, scalar_flags().with_readonly(), consts, off)
    }

    /// Emits the code of one instruction.
    fn lower(&mut self, ins: &StructuralInstruction) -> Result<(), JitError> {
        use Op::*;
        let (a, b, o) = (ins.in1, ins.in2, ins.out);
        let inline = self.f <= INLINE_MATRIX_MAX_F;
        match ins.op {
            NoOp => {}
            ScalarSum | ScalarDiff | ScalarProduct | ScalarDivision | ScalarMin | ScalarMax => {
                self.scalar_binary(ins.op, a, b, o)
            }
            ScalarAbs => self.scalar_abs(a, o),
            ScalarReciprocal => self.scalar_reciprocal(a, o),
            ScalarSin | ScalarCos | ScalarTan | ScalarArcSin | ScalarArcCos | ScalarArcTan
            | ScalarExp | ScalarLog => self.scalar_libm(ins.op, a, o)?,
            ScalarHeaviside => self.scalar_heaviside(a, o),
            VectorHeaviside => self.vector_heaviside(a, o),
            ScalarVectorProduct => self.scalar_vector_product(a, b, o),
            ScalarBroadcast => self.scalar_broadcast(a, o),
            VectorReciprocal => self.vector_reciprocal(a, o),
            VectorAbs => self.vector_abs(a, o),
            VectorSum | VectorDiff | VectorProduct | VectorDivision | VectorMin | VectorMax => {
                self.vector_binary(ins.op, a, b, o)
            }
            VectorNorm => self.vector_norm(a, o),
            VectorInnerProduct => self.vector_inner_product(a, b, o),
            VectorMean => self.vector_mean(a, o),
            VectorStDev => self.vector_st_dev(a, o),
            MatrixHeaviside | MatrixReciprocal | MatrixAbs | MatrixTranspose => {
                self.matrix_unary(ins.op, a, o)?
            }
            MatrixSum | MatrixDiff | MatrixProduct | MatrixDivision | MatrixMin | MatrixMax
                if inline =>
            {
                self.matrix_binary_inline(ins.op, a, b, o)
            }
            MatrixSum | MatrixDiff | MatrixProduct | MatrixDivision | MatrixMin | MatrixMax => {
                self.matrix_binary(ins.op, a, b, o)?
            }
            MatrixMatrixProduct => self.matrix_matrix_product(a, b, o)?,
            ScalarMatrixProduct => self.scalar_matrix_product(a, b, o)?,
            VectorOuterProduct if inline => self.outer_product_inline(a, b, o),
            VectorOuterProduct => self.outer_product(a, b, o)?,
            VectorColumnBroadcast | VectorRowBroadcast => self.vector_broadcast(ins.op, a, o)?,
            MatrixVectorProduct if inline => self.matrix_vector_product_inline(a, b, o),
            MatrixVectorProduct => self.matrix_vector_product(a, b, o)?,
            MatrixColumnNorm | MatrixRowNorm | MatrixRowMean | MatrixRowStDev => {
                self.matrix_to_vector(ins.op, a, o)?
            }
            MatrixNorm | MatrixMean | MatrixStDev => self.matrix_reduction(ins.op, a, o)?,
            ScalarConstSet => self.scalar_const(o),
            VectorConstSet => self.vector_const(ins.element, o)?,
            MatrixConstSet => self.matrix_const(ins.element, o)?,
            ScalarUniformSet | ScalarGaussianSet => self.scalar_random(ins.op, o)?,
            VectorUniformSet | VectorGaussianSet => self.vector_random(ins.op, o)?,
            MatrixUniformSet | MatrixGaussianSet => self.matrix_random(ins.op, o)?,
        }
        Ok(())
    }

    /// Entering a new block with memory in sync: forget the cached values unless they may stay
    /// in registers across blocks. `s0` keeps its value: the loop sets it at each function's
    /// entry, and a value the program wrote to it is defined in the example's body, which
    /// dominates every later block of the example.
    fn boundary(&mut self) {
        debug_assert!(!self.lane.sdirty.contains(&true) && !self.lane.vdirty.contains(&true));
        if !self.keep_across_blocks {
            let s0 = self.lane.sval[0];
            self.lane.sval.iter_mut().for_each(|v| *v = None);
            self.lane.vval.iter_mut().for_each(|v| *v = None);
            self.lane.sval[0] = s0;
        }
    }

    /// Stores every dirty cached value, so that memory is what the interpreter would hold at
    /// this point (apart from `s0` and `v0`, which the caller of the loop restores).
    fn sync(&mut self) {
        let mem = self.lane.mem;
        for a in 0..self.lane.sval.len() {
            if self.lane.sdirty[a]
                && let Some(x) = self.lane.sval[a]
            {
                self.b.ins().store(scalar_flags(), x, mem, (a * 8) as i32);
                self.lane.sdirty[a] = false;
            }
        }
        for a in 0..self.lane.vval.len() {
            if self.lane.vdirty[a]
                && let Some(vals) = self.lane.vval[a].clone()
            {
                let off = self.off(Bank::Vector, a as u16);
                self.store_vector(&vals, mem, off);
                self.lane.vdirty[a] = false;
            }
        }
    }
}

fn load_arg(b: &mut FunctionBuilder, ty: Type, args: Value, offset: usize) -> Value {
    b.ins()
        .load(ty, scalar_flags().with_readonly(), args, offset as i32)
}

/// Checks that every address of the code exists in the layout and that the layout's F matches.
/// Writes to `s0` and `v0` are allowed: they last until the end of the component function.
pub(crate) fn check(structure: &LiveStructure, layout: &Layout) -> Result<(), JitError> {
    if structure.features != layout.features() {
        return Err(JitError::Unsupported(format!(
            "structure for F={} compiled for a layout with F={}",
            structure.features,
            layout.features()
        )));
    }
    let counts = layout.counts();
    for ins in structure.predict.iter().chain(&structure.learn) {
        let info = ins.op.info();
        for (bank, addr) in [
            (info.in1, ins.in1),
            (info.in2, ins.in2),
            (info.out, ins.out),
        ] {
            if let Some(bank) = bank
                && addr as usize >= counts.count(bank)
            {
                return Err(JitError::Unsupported(format!(
                    "{} reads or writes {}{addr}, beyond the layout's {} {:?} addresses",
                    ins.op,
                    bank.letter(),
                    counts.count(bank),
                    bank
                )));
            }
        }
    }
    Ok(())
}
