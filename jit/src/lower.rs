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

use crate::abi::LoopArgs;
use crate::helpers::Helper;
use crate::{JitError, Scoring};
use amlz_ir::analysis::{LiveStructure, StructuralInstruction};
use amlz_ir::{Bank, Layout, Op};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, F64X2, I8, I64};
use cranelift_codegen::ir::{
    self, BlockArg, FuncRef, Function, InstBuilder, MemFlagsData, Type, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::mem::offset_of;

/// Imports helpers into the function being built, once per function. A helper is an external
/// function named `u0:N` with `N` its [`crate::helpers::name_index`]; the compiler resolves the
/// names when it installs the code ([`crate::helpers::by_name_index`]).
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

/// The translator of one function: the function builder, the helper imports, and the value
/// cache described in the module documentation.
struct Lowering<'a> {
    b: FunctionBuilder<'a>,
    helpers: HelperImports,
    layout: Layout,
    f: usize,
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
    scratch: Option<Value>,
    /// The current example's features: `v0`'s value (helpers read it from here).
    row: Option<Value>,
    /// `(label, prediction, label - prediction)` of the early-stop test, whose block dominates
    /// Learn.
    error: Option<(Value, Value, Value)>,
    /// The next constant slot.
    slot: usize,
    /// Whether cached values stay in use across block boundaries (good with the backtracking
    /// register allocator); else they are reloaded from memory after each boundary, which
    /// spares the single-pass allocator from spilling them.
    keep_across_blocks: bool,
    /// Elements per vector chunk (see [`chunk_width`]).
    width: usize,
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
        let off = (self.slot * 8) as i32;
        self.slot += 1;
        let consts = self.consts.expect("constants pointer loaded");
        self.b
            .ins()
            .load(F64, scalar_flags().with_readonly(), consts, off)
    }

    // -- scalars ----------------------------------------------------------------------------

    fn s(&mut self, a: u16) -> Value {
        if let Some(v) = self.sval[a as usize] {
            return v;
        }
        let x = self
            .b
            .ins()
            .load(F64, scalar_flags(), self.mem, (a as usize * 8) as i32);
        self.sval[a as usize] = Some(x);
        x
    }

    fn set_s(&mut self, o: u16, x: Value) {
        self.sval[o as usize] = Some(x);
        self.sdirty[o as usize] = true;
    }

    // -- vectors ----------------------------------------------------------------------------

    fn load_vector(&mut self, base: Value, off: i32) -> Vec<Value> {
        (0..self.num_chunks())
            .map(|c| {
                let ty = self.chunk_type(c);
                let flags = if ty == F64 {
                    scalar_flags()
                } else {
                    vector_flags()
                };
                let at = off + self.chunk_offset(c);
                self.b.ins().load(ty, flags, base, at)
            })
            .collect()
    }

    fn store_vector(&mut self, vals: &[Value], base: Value, off: i32) {
        for (c, &v) in vals.iter().enumerate() {
            let flags = if self.chunk_type(c) == F64 {
                scalar_flags()
            } else {
                vector_flags()
            };
            let at = off + self.chunk_offset(c);
            self.b.ins().store(flags, v, base, at);
        }
    }

    fn v(&mut self, a: u16) -> Vec<Value> {
        if let Some(v) = &self.vval[a as usize] {
            return v.clone();
        }
        let vals = match (a, self.row) {
            (0, Some(row)) => self.load_vector(row, 0),
            _ => {
                let off = self.off(Bank::Vector, a);
                let mem = self.mem;
                self.load_vector(mem, off)
            }
        };
        self.vval[a as usize] = Some(vals.clone());
        vals
    }

    fn set_v(&mut self, o: u16, vals: Vec<Value>) {
        self.vval[o as usize] = Some(vals);
        self.vdirty[o as usize] = true;
    }

    /// A pointer to vector `a`'s current value in memory, for a helper that reads it.
    fn v_ptr_in(&mut self, a: u16) -> Value {
        if a == 0
            && let Some(row) = self.row
        {
            return row;
        }
        let off = self.off(Bank::Vector, a);
        if self.vdirty[a as usize]
            && let Some(vals) = self.vval[a as usize].clone()
        {
            let mem = self.mem;
            self.store_vector(&vals, mem, off);
            self.vdirty[a as usize] = false;
        }
        self.b.ins().iadd_imm_s(self.mem, off as i64)
    }

    /// A pointer to vector `o` in memory, for a helper that writes it; call
    /// [`Self::v_written`] after the helper.
    fn v_ptr_out(&mut self, o: u16) -> Value {
        let off = self.off(Bank::Vector, o);
        self.b.ins().iadd_imm_s(self.mem, off as i64)
    }

    /// A helper wrote vector `o` in memory: forget its cached value.
    fn v_written(&mut self, o: u16) {
        self.vval[o as usize] = None;
        self.vdirty[o as usize] = false;
    }

    fn m_ptr(&mut self, m: u16) -> Value {
        let off = self.off(Bank::Matrix, m);
        self.b.ins().iadd_imm_s(self.mem, off as i64)
    }

    fn n_arg(&mut self) -> Value {
        self.b.ins().iconst(I64, self.f as i64)
    }

    /// `n` consecutive `f64` at byte offset `off` of memory, as `f64x2` chunks (an `f64` tail
    /// for odd `n`).
    fn load_elements(&mut self, n: usize, off: i32) -> Vec<Value> {
        (0..n.div_ceil(2))
            .map(|c| {
                let (ty, flags) = if 2 * c + 1 < n {
                    (F64X2, vector_flags())
                } else {
                    (F64, scalar_flags())
                };
                self.b
                    .ins()
                    .load(ty, flags, self.mem, off + (c * 16) as i32)
            })
            .collect()
    }

    /// Stores chunks from [`Self::load_elements`]-shaped values at byte offset `off`.
    fn store_elements(&mut self, vals: &[Value], off: i32) {
        for (c, &v) in vals.iter().enumerate() {
            let flags = if self.b.func.dfg.value_type(v) == F64 {
                scalar_flags()
            } else {
                vector_flags()
            };
            self.b
                .ins()
                .store(flags, v, self.mem, off + (c * 16) as i32);
        }
    }

    /// F scalars packed into a vector value's chunks.
    fn chunks_of(&mut self, xs: &[Value]) -> Vec<Value> {
        xs.chunks(self.width)
            .map(|pair| match *pair {
                [x, y] => {
                    let v = self.b.ins().scalar_to_vector(F64X2, x);
                    self.b.ins().insertlane(v, y, 1u8)
                }
                [x] => x,
                _ => unreachable!("chunks of two"),
            })
            .collect()
    }

    /// The elements of a vector value in index order.
    fn lanes(&mut self, vals: &[Value]) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.f);
        for &v in vals {
            if self.b.func.dfg.value_type(v) == F64 {
                out.push(v);
            } else {
                out.push(self.b.ins().extractlane(v, 0u8));
                out.push(self.b.ins().extractlane(v, 1u8));
            }
        }
        out
    }

    /// Sum of the elements from the first, in index order.
    fn sum_lanes(&mut self, vals: &[Value]) -> Value {
        let lanes = self.lanes(vals);
        let mut s = lanes[0];
        for &x in &lanes[1..] {
            s = self.b.ins().fadd(s, x);
        }
        s
    }

    fn zip_v(
        &mut self,
        a: u16,
        b: u16,
        f: impl Fn(&mut Self, Value, Value) -> Value,
    ) -> Vec<Value> {
        let va = self.v(a);
        let vb = self.v(b);
        va.into_iter().zip(vb).map(|(x, y)| f(self, x, y)).collect()
    }

    fn map_v(&mut self, a: u16, f: impl Fn(&mut Self, Value) -> Value) -> Vec<Value> {
        let va = self.v(a);
        va.into_iter().map(|x| f(self, x)).collect()
    }

    /// `if cond(x, y) { t } else { e }` per element, with `cond` an ordered compare.
    fn select_by(&mut self, cc: FloatCC, x: Value, y: Value, t: Value, e: Value) -> Value {
        let ty = self.b.func.dfg.value_type(t);
        let mask = self.b.ins().fcmp(cc, x, y);
        if ty == F64 {
            self.b.ins().select(mask, t, e)
        } else {
            let mask = self.b.ins().bitcast(ty, MemFlagsData::new(), mask);
            self.b.ins().bitselect(mask, t, e)
        }
    }

    /// The scalar `x` for each chunk type: `[x as f64, x splat to f64x2]` (the splat made once
    /// per op, only when there are `f64x2` chunks).
    fn widen(&mut self, x: Value) -> [Value; 2] {
        let v2 = if self.width == 2 && self.f > 1 {
            self.b.ins().splat(F64X2, x)
        } else {
            x
        };
        [x, v2]
    }

    /// The value of `w` (from [`Self::widen`]) for a chunk of type `ty`.
    fn pick(ty: Type, w: [Value; 2]) -> Value {
        if ty == F64 { w[0] } else { w[1] }
    }

    /// `1.0 if cc(x, 0.0) else 0.0`, with `zero` and `one` from [`Self::widen`].
    fn heaviside(&mut self, cc: FloatCC, x: Value, zero: [Value; 2], one: [Value; 2]) -> Value {
        let ty = self.b.func.dfg.value_type(x);
        let (z, o) = (Self::pick(ty, zero), Self::pick(ty, one));
        self.select_by(cc, x, z, o, z)
    }

    fn sigmoid(&mut self, x: Value) -> Result<Value, JitError> {
        let neg = self.b.ins().fneg(x);
        let e = self.call1(Helper::Exp, &[neg])?;
        let one = self.f64c(1.0);
        let d = self.b.ins().fadd(one, e);
        Ok(self.b.ins().fdiv(one, d))
    }

    // -- instructions -----------------------------------------------------------------------

    fn lower(&mut self, ins: &StructuralInstruction) -> Result<(), JitError> {
        use Op::*;
        let (a, b, o) = (ins.in1, ins.in2, ins.out);
        let f = self.f;
        match ins.op {
            NoOp => {}
            // Scalar arithmetic.
            ScalarSum | ScalarDiff | ScalarProduct | ScalarDivision | ScalarMin | ScalarMax => {
                let x = self.s(a);
                let y = self.s(b);
                let r = match ins.op {
                    ScalarSum => self.b.ins().fadd(x, y),
                    // Learn's usual first step, `s0 - s1` (label minus prediction), is the
                    // difference the early-stop test already computed: reuse it.
                    ScalarDiff => match self.error {
                        Some((l, p, e)) if (l, p) == (x, y) => e,
                        _ => self.b.ins().fsub(x, y),
                    },
                    ScalarProduct => self.b.ins().fmul(x, y),
                    ScalarDivision => self.b.ins().fdiv(x, y),
                    // if b < a { b } else { a }
                    ScalarMin => self.select_by(FloatCC::LessThan, y, x, y, x),
                    // if a < b { b } else { a }
                    _ => self.select_by(FloatCC::LessThan, x, y, y, x),
                };
                self.set_s(o, r);
            }
            ScalarAbs => {
                let x = self.s(a);
                let r = self.b.ins().fabs(x);
                self.set_s(o, r);
            }
            ScalarReciprocal => {
                let x = self.s(a);
                let one = self.f64c(1.0);
                let r = self.b.ins().fdiv(one, x);
                self.set_s(o, r);
            }
            ScalarSin | ScalarCos | ScalarTan | ScalarArcSin | ScalarArcCos | ScalarArcTan
            | ScalarExp | ScalarLog => {
                let h = match ins.op {
                    ScalarSin => Helper::Sin,
                    ScalarCos => Helper::Cos,
                    ScalarTan => Helper::Tan,
                    ScalarArcSin => Helper::Asin,
                    ScalarArcCos => Helper::Acos,
                    ScalarArcTan => Helper::Atan,
                    ScalarExp => Helper::Exp,
                    _ => Helper::Ln,
                };
                let x = self.s(a);
                let r = self.call1(h, &[x])?;
                self.set_s(o, r);
            }
            ScalarHeaviside => {
                let x = self.s(a);
                let z = self.f64c(0.0);
                let u = self.f64c(1.0);
                let r = self.heaviside(FloatCC::GreaterThanOrEqual, x, [z, z], [u, u]);
                self.set_s(o, r);
            }
            // Vector element-wise.
            VectorHeaviside => {
                let z = self.f64c(0.0);
                let zero = self.widen(z);
                let u = self.f64c(1.0);
                let one = self.widen(u);
                let r = self.map_v(a, |t, x| t.heaviside(FloatCC::GreaterThan, x, zero, one));
                self.set_v(o, r);
            }
            ScalarVectorProduct => {
                let s = self.s(a);
                let w = self.widen(s);
                let r = self.map_v(b, |t, x| {
                    let ty = t.b.func.dfg.value_type(x);
                    t.b.ins().fmul(Self::pick(ty, w), x)
                });
                self.set_v(o, r);
            }
            ScalarBroadcast => {
                let s = self.s(a);
                let w = self.widen(s);
                let r = (0..self.num_chunks())
                    .map(|c| Self::pick(self.chunk_type(c), w))
                    .collect();
                self.set_v(o, r);
            }
            VectorReciprocal => {
                let u = self.f64c(1.0);
                let one = self.widen(u);
                let r = self.map_v(a, |t, x| {
                    let ty = t.b.func.dfg.value_type(x);
                    t.b.ins().fdiv(Self::pick(ty, one), x)
                });
                self.set_v(o, r);
            }
            VectorAbs => {
                let r = self.map_v(a, |t, x| t.b.ins().fabs(x));
                self.set_v(o, r);
            }
            VectorSum => {
                let r = self.zip_v(a, b, |t, x, y| t.b.ins().fadd(x, y));
                self.set_v(o, r);
            }
            VectorDiff => {
                let r = self.zip_v(a, b, |t, x, y| t.b.ins().fsub(x, y));
                self.set_v(o, r);
            }
            VectorProduct => {
                let r = self.zip_v(a, b, |t, x, y| t.b.ins().fmul(x, y));
                self.set_v(o, r);
            }
            VectorDivision => {
                let r = self.zip_v(a, b, |t, x, y| t.b.ins().fdiv(x, y));
                self.set_v(o, r);
            }
            VectorMin => {
                let r = self.zip_v(a, b, |t, x, y| t.select_by(FloatCC::LessThan, y, x, y, x));
                self.set_v(o, r);
            }
            VectorMax => {
                let r = self.zip_v(a, b, |t, x, y| t.select_by(FloatCC::LessThan, x, y, y, x));
                self.set_v(o, r);
            }
            // Vector reductions.
            VectorNorm => {
                let sq = self.zip_v(a, a, |t, x, y| t.b.ins().fmul(x, y));
                let s = self.sum_lanes(&sq);
                let r = self.b.ins().sqrt(s);
                self.set_s(o, r);
            }
            VectorInnerProduct => {
                let p = self.zip_v(a, b, |t, x, y| t.b.ins().fmul(x, y));
                let r = self.sum_lanes(&p);
                self.set_s(o, r);
            }
            VectorMean => {
                let va = self.v(a);
                let s = self.sum_lanes(&va);
                let n = self.f64c(f as f64);
                let r = self.b.ins().fdiv(s, n);
                self.set_s(o, r);
            }
            VectorStDev => {
                // sqrt(dot(v,v)/F - mean*mean), mean = sum/F.
                let va = self.v(a);
                let n = self.f64c(f as f64);
                let s = self.sum_lanes(&va);
                let mean = self.b.ins().fdiv(s, n);
                let sq: Vec<Value> = va.iter().map(|&x| self.b.ins().fmul(x, x)).collect();
                let d = self.sum_lanes(&sq);
                let q = self.b.ins().fdiv(d, n);
                let m2 = self.b.ins().fmul(mean, mean);
                let diff = self.b.ins().fsub(q, m2);
                let r = self.b.ins().sqrt(diff);
                self.set_s(o, r);
            }
            // Matrix ops: helpers on memory.
            MatrixHeaviside | MatrixReciprocal | MatrixAbs | MatrixTranspose => {
                let h = match ins.op {
                    MatrixHeaviside => Helper::MatHeaviside,
                    MatrixReciprocal => Helper::MatReciprocal,
                    MatrixAbs => Helper::MatAbs,
                    _ => Helper::Transpose,
                };
                let n = self.n_arg();
                let po = self.m_ptr(o);
                let pa = self.m_ptr(a);
                self.call(h, &[n, po, pa])?;
            }
            MatrixSum | MatrixDiff | MatrixProduct | MatrixDivision | MatrixMin | MatrixMax
                if f <= INLINE_MATRIX_MAX_F =>
            {
                // Small F: F² elements in f64x2 chunks, inline (all of both inputs are loaded
                // before the output is stored, so aliasing is safe).
                let n = f * f;
                let (oa, ob, oo) = (
                    self.off(Bank::Matrix, a),
                    self.off(Bank::Matrix, b),
                    self.off(Bank::Matrix, o),
                );
                let xs = self.load_elements(n, oa);
                let ys = self.load_elements(n, ob);
                let op = ins.op;
                let r: Vec<Value> = xs
                    .into_iter()
                    .zip(ys)
                    .map(|(x, y)| match op {
                        MatrixSum => self.b.ins().fadd(x, y),
                        MatrixDiff => self.b.ins().fsub(x, y),
                        MatrixProduct => self.b.ins().fmul(x, y),
                        MatrixDivision => self.b.ins().fdiv(x, y),
                        // if a < b { a } else { b }
                        MatrixMin => self.select_by(FloatCC::LessThan, x, y, x, y),
                        // if a > b { a } else { b }
                        _ => self.select_by(FloatCC::GreaterThan, x, y, x, y),
                    })
                    .collect();
                self.store_elements(&r, oo);
            }
            MatrixSum | MatrixDiff | MatrixProduct | MatrixDivision | MatrixMin | MatrixMax => {
                let h = match ins.op {
                    MatrixSum => Helper::MatSum,
                    MatrixDiff => Helper::MatDiff,
                    MatrixProduct => Helper::MatProduct,
                    MatrixDivision => Helper::MatDivision,
                    MatrixMin => Helper::MatMin,
                    _ => Helper::MatMax,
                };
                let n = self.n_arg();
                let po = self.m_ptr(o);
                let pa = self.m_ptr(a);
                let pb = self.m_ptr(b);
                self.call(h, &[n, po, pa, pb])?;
            }
            MatrixMatrixProduct => {
                let n = self.n_arg();
                let po = self.m_ptr(o);
                let pa = self.m_ptr(a);
                let pb = self.m_ptr(b);
                let sc = self.scratch.expect("scratch pointer loaded");
                self.call(Helper::Matmul, &[n, po, pa, pb, sc])?;
            }
            ScalarMatrixProduct => {
                let s = self.s(a);
                let n = self.n_arg();
                let po = self.m_ptr(o);
                let pb = self.m_ptr(b);
                self.call(Helper::ScalarMatrixProduct, &[n, po, s, pb])?;
            }
            VectorOuterProduct if f <= INLINE_MATRIX_MAX_F => {
                // Row i is a[i] * b, stored chunk by chunk.
                let va = self.v(a);
                let ai = self.lanes(&va);
                let vb = self.v(b);
                let oo = self.off(Bank::Matrix, o);
                for (i, &x) in ai.iter().enumerate() {
                    let w = self.widen(x);
                    let row: Vec<Value> = vb
                        .iter()
                        .map(|&y| {
                            let ty = self.b.func.dfg.value_type(y);
                            self.b.ins().fmul(Self::pick(ty, w), y)
                        })
                        .collect();
                    let mem = self.mem;
                    self.store_vector(&row, mem, oo + (i * f * 8) as i32);
                }
            }
            VectorOuterProduct => {
                let pa = self.v_ptr_in(a);
                let pb = self.v_ptr_in(b);
                let n = self.n_arg();
                let po = self.m_ptr(o);
                self.call(Helper::OuterProduct, &[n, po, pa, pb])?;
            }
            VectorColumnBroadcast | VectorRowBroadcast => {
                let h = if ins.op == VectorColumnBroadcast {
                    Helper::ColumnBroadcast
                } else {
                    Helper::RowBroadcast
                };
                let pa = self.v_ptr_in(a);
                let n = self.n_arg();
                let po = self.m_ptr(o);
                self.call(h, &[n, po, pa])?;
            }
            MatrixVectorProduct if f <= INLINE_MATRIX_MAX_F => {
                // o[i] = dot(row i of m, v): products chunk-wise, summed from the first in
                // index order, exactly as `kernels::dot`.
                let vb = self.v(b);
                let om = self.off(Bank::Matrix, a);
                let mut out = Vec::with_capacity(f);
                for i in 0..f {
                    let mem = self.mem;
                    let row = self.load_vector(mem, om + (i * f * 8) as i32);
                    let p: Vec<Value> = row
                        .into_iter()
                        .zip(&vb)
                        .map(|(x, &y)| self.b.ins().fmul(x, y))
                        .collect();
                    out.push(self.sum_lanes(&p));
                }
                let r = self.chunks_of(&out);
                self.set_v(o, r);
            }
            MatrixVectorProduct => {
                let pb = self.v_ptr_in(b);
                let n = self.n_arg();
                let pa = self.m_ptr(a);
                let po = self.v_ptr_out(o);
                let sc = self.scratch.expect("scratch pointer loaded");
                self.call(Helper::MatrixVectorProduct, &[n, po, pa, pb, sc])?;
                self.v_written(o);
            }
            MatrixColumnNorm | MatrixRowNorm | MatrixRowMean | MatrixRowStDev => {
                let h = match ins.op {
                    MatrixColumnNorm => Helper::MatrixColumnNorm,
                    MatrixRowNorm => Helper::MatrixRowNorm,
                    MatrixRowMean => Helper::MatrixRowMean,
                    _ => Helper::MatrixRowStDev,
                };
                let n = self.n_arg();
                let po = self.v_ptr_out(o);
                let pa = self.m_ptr(a);
                self.call(h, &[n, po, pa])?;
                self.v_written(o);
            }
            MatrixNorm | MatrixMean | MatrixStDev => {
                let h = match ins.op {
                    MatrixNorm => Helper::MatrixNorm,
                    MatrixMean => Helper::MatrixMean,
                    _ => Helper::MatrixStDev,
                };
                let n = self.n_arg();
                let pa = self.m_ptr(a);
                let r = self.call1(h, &[n, pa])?;
                self.set_s(o, r);
            }
            // Data.
            ScalarConstSet => {
                let c = self.next_const();
                self.set_s(o, c);
            }
            VectorConstSet => {
                let c = self.next_const();
                let e = ins.element as usize;
                if e >= f {
                    return Err(JitError::Unsupported(format!(
                        "element {e} of a vector of {f}"
                    )));
                }
                let mut vals = self.v(o);
                let chunk = e / self.width;
                vals[chunk] = if self.chunk_type(chunk) == F64 {
                    c
                } else {
                    self.b.ins().insertlane(vals[chunk], c, (e % 2) as u8)
                };
                self.set_v(o, vals);
            }
            MatrixConstSet => {
                let c = self.next_const();
                let e = ins.element as usize;
                if e >= f * f {
                    return Err(JitError::Unsupported(format!(
                        "element {e} of a matrix of {f}x{f}"
                    )));
                }
                let off = self.off(Bank::Matrix, o) + (e * 8) as i32;
                let mem = self.mem;
                self.b.ins().store(scalar_flags(), c, mem, off);
            }
            ScalarUniformSet | ScalarGaussianSet => {
                let lo = self.next_const();
                let hi = self.next_const();
                let h = if ins.op == ScalarUniformSet {
                    Helper::DrawUniform
                } else {
                    Helper::DrawGaussian
                };
                let rng = self.rng.expect("random stream pointer loaded");
                let r = self.call1(h, &[rng, lo, hi])?;
                self.set_s(o, r);
            }
            VectorUniformSet | VectorGaussianSet => {
                let lo = self.next_const();
                let hi = self.next_const();
                let h = if ins.op == VectorUniformSet {
                    Helper::FillUniform
                } else {
                    Helper::FillGaussian
                };
                let rng = self.rng.expect("random stream pointer loaded");
                let po = self.v_ptr_out(o);
                let count = self.b.ins().iconst(I64, f as i64);
                self.call(h, &[rng, po, count, lo, hi])?;
                self.v_written(o);
            }
            MatrixUniformSet | MatrixGaussianSet => {
                let lo = self.next_const();
                let hi = self.next_const();
                let h = if ins.op == MatrixUniformSet {
                    Helper::FillUniform
                } else {
                    Helper::FillGaussian
                };
                let rng = self.rng.expect("random stream pointer loaded");
                let po = self.m_ptr(o);
                let count = self.b.ins().iconst(I64, (f * f) as i64);
                self.call(h, &[rng, po, count, lo, hi])?;
            }
        }
        Ok(())
    }

    /// Entering a new block with memory in sync: forget the cached values unless they may stay
    /// in registers across blocks. `s0`, which only the loop writes, keeps its value.
    fn boundary(&mut self) {
        debug_assert!(!self.sdirty.contains(&true) && !self.vdirty.contains(&true));
        if !self.keep_across_blocks {
            let s0 = self.sval[0];
            self.sval.iter_mut().for_each(|v| *v = None);
            self.vval.iter_mut().for_each(|v| *v = None);
            self.sval[0] = s0;
        }
    }

    /// Stores every dirty cached value, so that memory is what the interpreter would hold at
    /// this point (apart from `s0` and `v0`, which the caller of the loop restores).
    fn sync(&mut self) {
        let mem = self.mem;
        for a in 0..self.sval.len() {
            if self.sdirty[a]
                && let Some(x) = self.sval[a]
            {
                self.b.ins().store(scalar_flags(), x, mem, (a * 8) as i32);
                self.sdirty[a] = false;
            }
        }
        for a in 0..self.vval.len() {
            if self.vdirty[a]
                && let Some(vals) = self.vval[a].clone()
            {
                let off = self.off(Bank::Vector, a as u16);
                self.store_vector(&vals, mem, off);
                self.vdirty[a] = false;
            }
        }
    }
}

fn load_arg(b: &mut FunctionBuilder, ty: Type, args: Value, offset: usize) -> Value {
    b.ins()
        .load(ty, scalar_flags().with_readonly(), args, offset as i32)
}

/// Checks that every address of the code exists in the layout and that the layout's F matches.
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
        if let Some((Bank::Scalar | Bank::Vector, 0)) = info.out.map(|b| (b, ins.out)) {
            return Err(JitError::Unsupported(format!(
                "{} writes a fixed input",
                ins.op
            )));
        }
    }
    Ok(())
}

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
/// but the stopping index (`LoopArgs::steps`, which the caller sets to `count`); `s0` and `v0`,
/// which only the loop writes, are left to the caller.
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
    t.sval[0] = Some(label);
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
