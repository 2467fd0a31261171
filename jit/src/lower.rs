//! Lowering of Predict and Learn to Cranelift IR: the train loop and the validation loop.
//!
//! Within one function every scalar and vector address the code touches is a Cranelift
//! [`Variable`] (scalars as `f64`, vectors as `f64x2` chunks plus an `f64` tail when F is odd), so
//! that cranelift-frontend builds the SSA form and hot values stay in registers across examples.
//! Memory is read once on entry and written once on exit, plus wherever a helper needs a vector in
//! memory (a matrix kernel reading it) or writes one (a kernel's vector output, a random fill).
//! Matrices always live in memory and are handled by the helpers of [`crate::helpers`].
//!
//! Every op emits the interpreter's sequence of IEEE operations: reductions from the first term
//! in index order, min/max and heaviside as compare+select with the rules of `amlz_ir::kernels`,
//! libm and random draws through the same Rust functions. Nothing here fuses or reorders.

use crate::abi::LoopArgs;
use crate::helpers::{Helper, Variant};
use crate::{JitError, Scoring};
use amlz_ir::analysis::{LiveStructure, StructuralInstruction};
use amlz_ir::{Bank, Layout, Op};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, F64X2, I8, I64};
use cranelift_codegen::ir::{
    self, BlockArg, FuncRef, Function, InstBuilder, MemFlagsData, Type, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module};
use std::collections::HashMap;
use std::mem::offset_of;

/// Which of the two loops a function implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoopKind {
    /// Per train example: Predict, (ACCURACY) sigmoid write-back, error check, Learn.
    Train,
    /// Per validation example: Predict, loss accumulation, failure check.
    Validate,
}

/// Imports helpers into the function being built: module declarations are made once per module
/// (cached in `ids`), function references once per function.
pub(crate) struct HelperImports<'m> {
    pub(crate) module: &'m mut JITModule,
    pub(crate) ids: &'m mut HashMap<(Helper, Variant), FuncId>,
    pub(crate) refs: [Option<FuncRef>; Helper::COUNT],
    pub(crate) features: usize,
    pub(crate) call_conv: CallConv,
    pub(crate) ptr: Type,
}

impl HelperImports<'_> {
    fn get(&mut self, h: Helper, func: &mut Function) -> Result<FuncRef, JitError> {
        if let Some(r) = self.refs[h.index()] {
            return Ok(r);
        }
        let v = h.variant_for(self.features);
        let id = match self.ids.get(&(h, v)) {
            Some(&id) => id,
            None => {
                let sig = h.shape().signature(self.ptr, self.call_conv);
                let id = self
                    .module
                    .declare_function(&h.symbol(v), Linkage::Import, &sig)
                    .map_err(|e| JitError::Module(e.to_string()))?;
                self.ids.insert((h, v), id);
                id
            }
        };
        let r = self.module.declare_func_in_func(id, func);
        self.refs[h.index()] = Some(r);
        Ok(r)
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

/// The translator of one function.
struct Lowering<'a, 'm> {
    b: FunctionBuilder<'a>,
    helpers: HelperImports<'m>,
    layout: Layout,
    f: usize,
    /// Variable per scalar address the code touches.
    svar: Vec<Option<Variable>>,
    /// Chunk variables per vector address the code touches.
    vvar: Vec<Option<Vec<Variable>>>,
    /// Whether the memory copy of a vector holds its current value (compile-time, within the
    /// straight-line body of one example).
    synced: Vec<bool>,
    /// Addresses some instruction of the loop writes (stored back on exit).
    written_s: Vec<bool>,
    written_v: Vec<bool>,
    mem: Value,
    consts: Value,
    rng: Value,
    scratch: Value,
    /// The current example's features (stands for `v0` wherever a helper reads it).
    row: Option<Value>,
    /// The next constant slot.
    slot: usize,
}

/// Number of `f64x2`/`f64` chunks of a vector of F elements.
fn num_chunks(f: usize) -> usize {
    f.div_ceil(2)
}

/// The type of chunk `c`: `f64x2`, except the tail of an odd F.
fn chunk_type(f: usize, c: usize) -> Type {
    if 2 * c + 1 < f { F64X2 } else { F64 }
}

impl<'a, 'm> Lowering<'a, 'm> {
    fn off(&self, bank: Bank, addr: u16) -> i32 {
        (self.layout.offset(bank, addr as usize) * 8) as i32
    }

    fn call(&mut self, h: Helper, args: &[Value]) -> Result<Option<Value>, JitError> {
        let r = self.helpers.get(h, self.b.func)?;
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

    fn splat(&mut self, ty: Type, x: f64) -> Value {
        let s = self.f64c(x);
        if ty == F64 { s } else { self.b.ins().splat(ty, s) }
    }

    fn next_const(&mut self) -> Value {
        let off = (self.slot * 8) as i32;
        self.slot += 1;
        self.b.ins().load(F64, scalar_flags().with_readonly(), self.consts, off)
    }

    // -- scalars ----------------------------------------------------------------------------

    fn s(&mut self, a: u16) -> Value {
        let v = self.svar[a as usize].expect("scalar variable declared");
        self.b.use_var(v)
    }

    fn set_s(&mut self, o: u16, x: Value) {
        let v = self.svar[o as usize].expect("scalar variable declared");
        self.b.def_var(v, x);
    }

    // -- vectors ----------------------------------------------------------------------------

    fn load_vector(&mut self, base: Value, off: i32) -> Vec<Value> {
        (0..num_chunks(self.f))
            .map(|c| {
                let ty = chunk_type(self.f, c);
                let flags = if ty == F64 { scalar_flags() } else { vector_flags() };
                self.b.ins().load(ty, flags, base, off + (c * 16) as i32)
            })
            .collect()
    }

    fn store_vector(&mut self, vals: &[Value], base: Value, off: i32) {
        for (c, &v) in vals.iter().enumerate() {
            let flags = if chunk_type(self.f, c) == F64 { scalar_flags() } else { vector_flags() };
            self.b.ins().store(flags, v, base, off + (c * 16) as i32);
        }
    }

    fn v(&mut self, a: u16) -> Vec<Value> {
        let vars = self.vvar[a as usize].clone().expect("vector variables declared");
        vars.iter().map(|&v| self.b.use_var(v)).collect()
    }

    fn set_v(&mut self, o: u16, vals: Vec<Value>) {
        let vars = self.vvar[o as usize].clone().expect("vector variables declared");
        for (var, val) in vars.into_iter().zip(vals) {
            self.b.def_var(var, val);
        }
        self.synced[o as usize] = false;
    }

    /// A pointer to vector `a`'s current value in memory, for a helper that reads it.
    fn v_ptr_in(&mut self, a: u16) -> Value {
        if a == 0
            && let Some(row) = self.row
        {
            return row;
        }
        let off = self.off(Bank::Vector, a);
        if !self.synced[a as usize] {
            let vals = self.v(a);
            let mem = self.mem;
            self.store_vector(&vals, mem, off);
            self.synced[a as usize] = true;
        }
        self.b.ins().iadd_imm_s(self.mem, off as i64)
    }

    /// A pointer to vector `o` in memory, for a helper that writes it; call [`Self::v_reload`]
    /// after the helper.
    fn v_ptr_out(&mut self, o: u16) -> Value {
        let off = self.off(Bank::Vector, o);
        self.b.ins().iadd_imm_s(self.mem, off as i64)
    }

    fn v_reload(&mut self, o: u16) {
        let off = self.off(Bank::Vector, o);
        let mem = self.mem;
        let vals = self.load_vector(mem, off);
        self.set_v(o, vals);
        self.synced[o as usize] = true;
    }

    fn m_ptr(&mut self, m: u16) -> Value {
        let off = self.off(Bank::Matrix, m);
        self.b.ins().iadd_imm_s(self.mem, off as i64)
    }

    fn n_arg(&mut self) -> Value {
        self.b.ins().iconst(I64, self.f as i64)
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

    fn zip_v(&mut self, a: u16, b: u16, f: impl Fn(&mut Self, Value, Value) -> Value) -> Vec<Value> {
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

    /// `1.0 if cc(x, 0.0) else 0.0`.
    fn heaviside(&mut self, cc: FloatCC, x: Value) -> Value {
        let ty = self.b.func.dfg.value_type(x);
        let zero = self.splat(ty, 0.0);
        let one = self.splat(ty, 1.0);
        self.select_by(cc, x, zero, one, zero)
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
                    ScalarDiff => self.b.ins().fsub(x, y),
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
                let r = self.heaviside(FloatCC::GreaterThanOrEqual, x);
                self.set_s(o, r);
            }
            // Vector element-wise.
            VectorHeaviside => {
                let r = self.map_v(a, |t, x| t.heaviside(FloatCC::GreaterThan, x));
                self.set_v(o, r);
            }
            ScalarVectorProduct => {
                let s = self.s(a);
                let r = self.map_v(b, |t, x| {
                    let ty = t.b.func.dfg.value_type(x);
                    let sv = if ty == F64 { s } else { t.b.ins().splat(ty, s) };
                    t.b.ins().fmul(sv, x)
                });
                self.set_v(o, r);
            }
            ScalarBroadcast => {
                let s = self.s(a);
                let r = (0..num_chunks(f))
                    .map(|c| {
                        let ty = chunk_type(f, c);
                        if ty == F64 { s } else { self.b.ins().splat(ty, s) }
                    })
                    .collect();
                self.set_v(o, r);
            }
            VectorReciprocal => {
                let r = self.map_v(a, |t, x| {
                    let ty = t.b.func.dfg.value_type(x);
                    let one = t.splat(ty, 1.0);
                    t.b.ins().fdiv(one, x)
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
                let sc = self.scratch;
                self.call(Helper::Matmul, &[n, po, pa, pb, sc])?;
            }
            ScalarMatrixProduct => {
                let s = self.s(a);
                let n = self.n_arg();
                let po = self.m_ptr(o);
                let pb = self.m_ptr(b);
                self.call(Helper::ScalarMatrixProduct, &[n, po, s, pb])?;
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
            MatrixVectorProduct => {
                let pb = self.v_ptr_in(b);
                let n = self.n_arg();
                let pa = self.m_ptr(a);
                let po = self.v_ptr_out(o);
                let sc = self.scratch;
                self.call(Helper::MatrixVectorProduct, &[n, po, pa, pb, sc])?;
                self.v_reload(o);
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
                self.v_reload(o);
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
                    return Err(JitError::Unsupported(format!("element {e} of a vector of {f}")));
                }
                let mut vals = self.v(o);
                let chunk = e / 2;
                vals[chunk] = if chunk_type(f, chunk) == F64 {
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
                    return Err(JitError::Unsupported(format!("element {e} of a matrix of {f}x{f}")));
                }
                let off = self.off(Bank::Matrix, o) + (e * 8) as i32;
                let mem = self.mem;
                self.b.ins().store(scalar_flags(), c, mem, off);
            }
            ScalarUniformSet | ScalarGaussianSet => {
                let lo = self.next_const();
                let hi = self.next_const();
                let h = if ins.op == ScalarUniformSet { Helper::DrawUniform } else { Helper::DrawGaussian };
                let rng = self.rng;
                let r = self.call1(h, &[rng, lo, hi])?;
                self.set_s(o, r);
            }
            VectorUniformSet | VectorGaussianSet => {
                let lo = self.next_const();
                let hi = self.next_const();
                let h = if ins.op == VectorUniformSet { Helper::FillUniform } else { Helper::FillGaussian };
                let rng = self.rng;
                let po = self.v_ptr_out(o);
                let count = self.b.ins().iconst(I64, f as i64);
                self.call(h, &[rng, po, count, lo, hi])?;
                self.v_reload(o);
            }
            MatrixUniformSet | MatrixGaussianSet => {
                let lo = self.next_const();
                let hi = self.next_const();
                let h = if ins.op == MatrixUniformSet { Helper::FillUniform } else { Helper::FillGaussian };
                let rng = self.rng;
                let po = self.m_ptr(o);
                let count = self.b.ins().iconst(I64, (f * f) as i64);
                self.call(h, &[rng, po, count, lo, hi])?;
            }
        }
        Ok(())
    }

    /// Writes every variable the loop may have changed back to memory.
    fn store_back(&mut self) {
        let mem = self.mem;
        for a in 0..self.svar.len() {
            if self.written_s[a] {
                let x = self.s(a as u16);
                self.b.ins().store(scalar_flags(), x, mem, (a * 8) as i32);
            }
        }
        for a in 0..self.vvar.len() {
            if self.written_v[a] {
                let vals = self.v(a as u16);
                let off = self.off(Bank::Vector, a as u16);
                self.store_vector(&vals, mem, off);
            }
        }
    }
}

fn load_arg(b: &mut FunctionBuilder, ty: Type, args: Value, offset: usize) -> Value {
    b.ins().load(ty, scalar_flags().with_readonly(), args, offset as i32)
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
        for (bank, addr) in [(info.in1, ins.in1), (info.in2, ins.in2), (info.out, ins.out)] {
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
            return Err(JitError::Unsupported(format!("{} writes a fixed input", ins.op)));
        }
    }
    Ok(())
}

/// Builds one loop function into `func` (whose signature must be `(args: ptr) -> i64`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    helpers: HelperImports<'_>,
    frontend: TargetFrontendConfig,
    layout: Layout,
    structure: &LiveStructure,
    kind: LoopKind,
    scoring: Scoring,
) -> Result<(), JitError> {
    let f = layout.features();
    let ptr = helpers.ptr;
    let counts = layout.counts();
    let code: Vec<&StructuralInstruction> = match kind {
        LoopKind::Train => structure.predict.iter().chain(&structure.learn).collect(),
        LoopKind::Validate => structure.predict.iter().collect(),
    };

    // Which addresses the code touches and writes.
    let mut used_s = vec![false; counts.scalars];
    let mut used_v = vec![false; counts.vectors];
    let mut written_s = vec![false; counts.scalars];
    let mut written_v = vec![false; counts.vectors];
    used_s[0] = true;
    used_s[1] = true;
    used_v[0] = true;
    written_s[0] = true;
    written_s[1] = true;
    written_v[0] = true;
    for ins in &code {
        let info = ins.op.info();
        for (bank, addr, out) in [
            (info.in1, ins.in1, false),
            (info.in2, ins.in2, false),
            (info.out, ins.out, true),
        ] {
            match bank {
                Some(Bank::Scalar) => {
                    used_s[addr as usize] = true;
                    written_s[addr as usize] |= out;
                }
                Some(Bank::Vector) => {
                    used_v[addr as usize] = true;
                    written_v[addr as usize] |= out;
                }
                _ => {}
            }
        }
    }

    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let args = b.block_params(entry)[0];
    let mem = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, memory));
    let consts = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, constants));
    let rng = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, rng));
    let scratch = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, scratch));
    let features = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, features));
    let labels = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, labels));
    let order = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, order));
    let preds = load_arg(&mut b, ptr, args, offset_of!(LoopArgs, predictions));
    let count = load_arg(&mut b, I64, args, offset_of!(LoopArgs, count));
    let max_err = load_arg(&mut b, F64, args, offset_of!(LoopArgs, max_abs_error));

    let mut t = Lowering {
        b,
        helpers,
        layout,
        f,
        svar: vec![None; counts.scalars],
        vvar: vec![None; counts.vectors],
        synced: vec![true; counts.vectors],
        written_s,
        written_v,
        mem,
        consts,
        rng,
        scratch,
        row: None,
        slot: 0,
    };

    // Declare the variables and load their values.
    for (a, &u) in used_s.iter().enumerate() {
        if u {
            let var = t.b.declare_var(F64);
            let x = t.b.ins().load(F64, scalar_flags(), mem, (a * 8) as i32);
            t.b.def_var(var, x);
            t.svar[a] = Some(var);
        }
    }
    for (a, &u) in used_v.iter().enumerate() {
        if u {
            let vars: Vec<Variable> = (0..num_chunks(f)).map(|c| t.b.declare_var(chunk_type(f, c))).collect();
            let off = t.off(Bank::Vector, a as u16);
            let vals = t.load_vector(mem, off);
            for (&var, val) in vars.iter().zip(vals) {
                t.b.def_var(var, val);
            }
            t.vvar[a] = Some(vars);
        }
    }
    let kvar = t.b.declare_var(I64);
    let zero_i = t.b.ins().iconst(I64, 0);
    t.b.def_var(kvar, zero_i);
    let (lossvar, wrongvar) = if kind == LoopKind::Validate {
        let lv = t.b.declare_var(F64);
        let wv = t.b.declare_var(I64);
        let z = t.f64c(0.0);
        t.b.def_var(lv, z);
        t.b.def_var(wv, zero_i);
        (Some(lv), Some(wv))
    } else {
        (None, None)
    };
    let has_order = t.b.ins().icmp_imm_s(IntCC::NotEqual, order, 0);

    // Loop header: k < count?
    let header = t.b.create_block();
    let body = t.b.create_block();
    let exit_done = t.b.create_block();
    t.b.ins().jump(header, &[]);
    t.b.switch_to_block(header);
    let k = t.b.use_var(kvar);
    let done = t.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, k, count);
    t.b.ins().brif(done, exit_done, &[], body, &[]);
    t.b.seal_block(body);
    t.b.seal_block(exit_done);

    // Body: the example's index, features and label.
    t.b.switch_to_block(body);
    let ordered = t.b.create_block();
    let join = t.b.create_block();
    let i = t.b.append_block_param(join, I64);
    t.b.ins().brif(has_order, ordered, &[], join, &[BlockArg::Value(k)]);
    t.b.seal_block(ordered);
    t.b.switch_to_block(ordered);
    let k4 = t.b.ins().ishl_imm_s(k, 2);
    let pk = t.b.ins().iadd(order, k4);
    let idx = t.b.ins().uload32(scalar_flags().with_readonly(), pk, 0);
    t.b.ins().jump(join, &[BlockArg::Value(idx)]);
    t.b.seal_block(join);
    t.b.switch_to_block(join);
    let row_off = t.b.ins().imul_imm_s(i, (f * 8) as i64);
    let row = t.b.ins().iadd(features, row_off);
    let i8b = t.b.ins().ishl_imm_s(i, 3);
    let plabel = t.b.ins().iadd(labels, i8b);
    let label = t.b.ins().load(F64, scalar_flags().with_readonly(), plabel, 0);
    t.row = Some(row);
    let x = t.load_vector(row, 0);
    t.set_v(0, x);
    for a in 0..counts.vectors {
        t.synced[a] = !t.written_v[a];
    }
    let zero = t.f64c(0.0);
    t.set_s(0, zero);

    for ins in &structure.predict {
        t.lower(ins)?;
    }
    if kind == LoopKind::Train && scoring == Scoring::Accuracy {
        let s1 = t.s(1);
        let sg = t.sigmoid(s1)?;
        t.set_s(1, sg);
    }
    let pred = t.s(1);
    let k8 = t.b.ins().ishl_imm_s(k, 3);
    let ppred = t.b.ins().iadd(preds, k8);
    t.b.ins().store(scalar_flags(), pred, ppred, 0);

    let stop = t.b.create_block();
    let cont = t.b.create_block();
    let bad;
    let mut rms_e = None;
    let mut acc_p = None;
    match (kind, scoring) {
        (LoopKind::Validate, Scoring::Accuracy) => {
            let p = t.sigmoid(pred)?;
            let one = t.f64c(1.0);
            let gt = t.b.ins().fcmp(FloatCC::GreaterThan, p, one);
            let lt = t.b.ins().fcmp(FloatCC::LessThan, p, zero);
            bad = t.b.ins().bor(gt, lt);
            acc_p = Some(p);
        }
        _ => {
            // err = |label - s1|; stop if NaN or > max_abs_error.
            let e = t.b.ins().fsub(label, pred);
            let err = t.b.ins().fabs(e);
            let nan = t.b.ins().fcmp(FloatCC::Unordered, err, err);
            let big = t.b.ins().fcmp(FloatCC::GreaterThan, err, max_err);
            bad = t.b.ins().bor(nan, big);
            rms_e = Some(e);
        }
    }
    t.b.ins().brif(bad, stop, &[], cont, &[]);
    t.b.seal_block(stop);
    t.b.seal_block(cont);
    t.b.switch_to_block(stop);
    t.store_back();
    t.b.ins().return_(&[k]);

    t.b.switch_to_block(cont);
    match kind {
        LoopKind::Train => {
            t.set_s(0, label);
            for ins in &structure.learn {
                t.lower(ins)?;
            }
        }
        LoopKind::Validate => {
            if let Some(e) = rms_e {
                let lv = lossvar.expect("validation loss variable");
                let loss = t.b.use_var(lv);
                let sq = t.b.ins().fmul(e, e);
                let nl = t.b.ins().fadd(loss, sq);
                t.b.def_var(lv, nl);
            }
            if let Some(p) = acc_p {
                let wv = wrongvar.expect("validation wrong-count variable");
                let half = t.f64c(0.5);
                let yl = t.b.ins().fcmp(FloatCC::GreaterThan, label, half);
                let yp = t.b.ins().fcmp(FloatCC::GreaterThan, p, half);
                let ne = t.b.ins().bxor(yl, yp);
                debug_assert_eq!(t.b.func.dfg.value_type(ne), I8);
                let ne = t.b.ins().uextend(I64, ne);
                let w = t.b.use_var(wv);
                let nw = t.b.ins().iadd(w, ne);
                t.b.def_var(wv, nw);
            }
        }
    }
    let k1 = t.b.ins().iadd_imm_s(k, 1);
    t.b.def_var(kvar, k1);
    t.b.ins().jump(header, &[]);
    t.b.seal_block(header);

    t.b.switch_to_block(exit_done);
    t.store_back();
    if let (Some(lv), Some(wv)) = (lossvar, wrongvar) {
        let loss = t.b.use_var(lv);
        let wrong = t.b.use_var(wv);
        t.b.ins().store(scalar_flags(), loss, args, offset_of!(LoopArgs, loss) as i32);
        t.b.ins().store(scalar_flags(), wrong, args, offset_of!(LoopArgs, wrong) as i32);
    }
    let kd = t.b.use_var(kvar);
    t.b.ins().return_(&[kd]);
    t.b.finalize(frontend);
    Ok(())
}

/// The signature of a loop function: `(args: *mut LoopArgs) -> u64`.
pub(crate) fn loop_signature(ptr: Type, call_conv: CallConv) -> ir::Signature {
    let mut sig = ir::Signature::new(call_conv);
    sig.params.push(ir::AbiParam::new(ptr));
    sig.returns.push(ir::AbiParam::new(I64));
    sig
}
