//! The translator's value cache (scalars and vectors as SSA values, loaded at the first read
//! and stored back by [`Lowering::sync`]) and the element-wise building blocks the ops share.

use super::{Lowering, scalar_flags, vector_flags};
use amlz_ir::Bank;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::types::{F64, F64X2, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value};

impl Lowering<'_> {
    // -- scalars ----------------------------------------------------------------------------

    pub(super) fn s(&mut self, a: u16) -> Value {
        if let Some(v) = self.lane.sval[a as usize] {
            return v;
        }
        let x = self
            .b
            .ins()
            .load(F64, scalar_flags(), self.lane.mem, (a as usize * 8) as i32);
        self.lane.sval[a as usize] = Some(x);
        x
    }

    pub(super) fn set_s(&mut self, o: u16, x: Value) {
        self.lane.sval[o as usize] = Some(x);
        self.lane.sdirty[o as usize] = true;
    }

    // -- vectors ----------------------------------------------------------------------------

    pub(super) fn load_vector(&mut self, base: Value, off: i32) -> Vec<Value> {
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

    pub(super) fn store_vector(&mut self, vals: &[Value], base: Value, off: i32) {
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

    pub(super) fn v(&mut self, a: u16) -> Vec<Value> {
        if let Some(v) = &self.lane.vval[a as usize] {
            return v.clone();
        }
        let vals = match (a, self.lane.row) {
            (0, Some(row)) if self.lane.v0_is_row => {
                let vals = self.load_vector(row, 0);
                self.lane.row_v0 = Some(vals.clone());
                vals
            }
            _ => {
                let off = self.off(Bank::Vector, a);
                let mem = self.lane.mem;
                self.load_vector(mem, off)
            }
        };
        self.lane.vval[a as usize] = Some(vals.clone());
        vals
    }

    pub(super) fn set_v(&mut self, o: u16, vals: Vec<Value>) {
        self.lane.vval[o as usize] = Some(vals);
        self.lane.vdirty[o as usize] = true;
        if o == 0 {
            self.lane.v0_is_row = false;
        }
    }

    /// A pointer to vector `a`'s current value in memory, for a helper that reads it.
    pub(super) fn v_ptr_in(&mut self, a: u16) -> Value {
        if a == 0
            && self.lane.v0_is_row
            && let Some(row) = self.lane.row
        {
            return row;
        }
        let off = self.off(Bank::Vector, a);
        if self.lane.vdirty[a as usize]
            && let Some(vals) = self.lane.vval[a as usize].clone()
        {
            let mem = self.lane.mem;
            self.store_vector(&vals, mem, off);
            self.lane.vdirty[a as usize] = false;
        }
        self.b.ins().iadd_imm_s(self.lane.mem, off as i64)
    }

    /// A pointer to vector `o` in memory, for a helper that writes it; call
    /// [`Self::v_written`] after the helper.
    pub(super) fn v_ptr_out(&mut self, o: u16) -> Value {
        let off = self.off(Bank::Vector, o);
        self.b.ins().iadd_imm_s(self.lane.mem, off as i64)
    }

    /// A helper wrote vector `o` in memory: forget its cached value.
    pub(super) fn v_written(&mut self, o: u16) {
        self.lane.vval[o as usize] = None;
        self.lane.vdirty[o as usize] = false;
        if o == 0 {
            self.lane.v0_is_row = false;
        }
    }

    pub(super) fn m_ptr(&mut self, m: u16) -> Value {
        let off = self.off(Bank::Matrix, m);
        self.b.ins().iadd_imm_s(self.lane.mem, off as i64)
    }

    pub(super) fn n_arg(&mut self) -> Value {
        self.b.ins().iconst(I64, self.f as i64)
    }

    /// `n` consecutive `f64` at byte offset `off` of memory, as `f64x2` chunks (an `f64` tail
    /// for odd `n`).
    pub(super) fn load_elements(&mut self, n: usize, off: i32) -> Vec<Value> {
        (0..n.div_ceil(2))
            .map(|c| {
                let (ty, flags) = if 2 * c + 1 < n {
                    (F64X2, vector_flags())
                } else {
                    (F64, scalar_flags())
                };
                self.b
                    .ins()
                    .load(ty, flags, self.lane.mem, off + (c * 16) as i32)
            })
            .collect()
    }

    /// Stores chunks from [`Self::load_elements`]-shaped values at byte offset `off`.
    pub(super) fn store_elements(&mut self, vals: &[Value], off: i32) {
        for (c, &v) in vals.iter().enumerate() {
            let flags = if self.b.func.dfg.value_type(v) == F64 {
                scalar_flags()
            } else {
                vector_flags()
            };
            self.b
                .ins()
                .store(flags, v, self.lane.mem, off + (c * 16) as i32);
        }
    }

    /// F scalars packed into a vector value's chunks.
    pub(super) fn chunks_of(&mut self, xs: &[Value]) -> Vec<Value> {
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
    pub(super) fn lanes(&mut self, vals: &[Value]) -> Vec<Value> {
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
    pub(super) fn sum_lanes(&mut self, vals: &[Value]) -> Value {
        let lanes = self.lanes(vals);
        let mut s = lanes[0];
        for &x in &lanes[1..] {
            s = self.b.ins().fadd(s, x);
        }
        s
    }

    pub(super) fn zip_v(
        &mut self,
        a: u16,
        b: u16,
        f: impl Fn(&mut Self, Value, Value) -> Value,
    ) -> Vec<Value> {
        let va = self.v(a);
        let vb = self.v(b);
        va.into_iter().zip(vb).map(|(x, y)| f(self, x, y)).collect()
    }

    pub(super) fn map_v(&mut self, a: u16, f: impl Fn(&mut Self, Value) -> Value) -> Vec<Value> {
        let va = self.v(a);
        va.into_iter().map(|x| f(self, x)).collect()
    }

    /// `if cond(x, y) { t } else { e }` per element, with `cond` an ordered compare.
    pub(super) fn select_by(
        &mut self,
        cc: FloatCC,
        x: Value,
        y: Value,
        t: Value,
        e: Value,
    ) -> Value {
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
    pub(super) fn widen(&mut self, x: Value) -> [Value; 2] {
        let v2 = if self.width == 2 && self.f > 1 {
            self.b.ins().splat(F64X2, x)
        } else {
            x
        };
        [x, v2]
    }

    /// The value of `w` (from [`Self::widen`]) for a chunk of type `ty`.
    pub(super) fn pick(ty: Type, w: [Value; 2]) -> Value {
        if ty == F64 { w[0] } else { w[1] }
    }

    /// `1.0 if cc(x, 0.0) else 0.0`, with `zero` and `one` from [`Self::widen`].
    pub(super) fn heaviside(
        &mut self,
        cc: FloatCC,
        x: Value,
        zero: [Value; 2],
        one: [Value; 2],
    ) -> Value {
        let ty = self.b.func.dfg.value_type(x);
        let (z, o) = (Self::pick(ty, zero), Self::pick(ty, one));
        self.select_by(cc, x, z, o, z)
    }
}
