//! Vector ops on the cached chunks: element-wise maps and zips, scalar broadcasts, and the
//! reductions (summed from the first element in index order, as the interpreter does).

use super::Lowering;
use amlz_ir::Op;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, Value};

impl Lowering<'_> {
    /// `v[o] = heaviside(v[a])` (1 where an element is > 0).
    pub(super) fn vector_heaviside(&mut self, a: u16, o: u16) {
        let z = self.f64c(0.0);
        let zero = self.widen(z);
        let u = self.f64c(1.0);
        let one = self.widen(u);
        let r = self.map_v(a, |t, x| t.heaviside(FloatCC::GreaterThan, x, zero, one));
        self.set_v(o, r);
    }

    /// `v[o] = s[a] * v[b]`.
    pub(super) fn scalar_vector_product(&mut self, a: u16, b: u16, o: u16) {
        let s = self.s(a);
        let w = self.widen(s);
        let r = self.map_v(b, |t, x| {
            let ty = t.b.func.dfg.value_type(x);
            t.b.ins().fmul(Self::pick(ty, w), x)
        });
        self.set_v(o, r);
    }

    /// `v[o] = s[a]` in every element.
    pub(super) fn scalar_broadcast(&mut self, a: u16, o: u16) {
        let s = self.s(a);
        let w = self.widen(s);
        let r = (0..self.num_chunks())
            .map(|c| Self::pick(self.chunk_type(c), w))
            .collect();
        self.set_v(o, r);
    }

    /// `v[o] = 1 / v[a]`.
    pub(super) fn vector_reciprocal(&mut self, a: u16, o: u16) {
        let u = self.f64c(1.0);
        let one = self.widen(u);
        let r = self.map_v(a, |t, x| {
            let ty = t.b.func.dfg.value_type(x);
            t.b.ins().fdiv(Self::pick(ty, one), x)
        });
        self.set_v(o, r);
    }

    /// `v[o] = |v[a]|`.
    pub(super) fn vector_abs(&mut self, a: u16, o: u16) {
        let r = self.map_v(a, |t, x| t.b.ins().fabs(x));
        self.set_v(o, r);
    }

    /// `v[o] = v[a] op v[b]` element-wise for the six vector binaries.
    pub(super) fn vector_binary(&mut self, op: Op, a: u16, b: u16, o: u16) {
        let r = match op {
            Op::VectorSum => self.zip_v(a, b, |t, x, y| t.b.ins().fadd(x, y)),
            Op::VectorDiff => self.zip_v(a, b, |t, x, y| t.b.ins().fsub(x, y)),
            Op::VectorProduct => self.zip_v(a, b, |t, x, y| t.b.ins().fmul(x, y)),
            Op::VectorDivision => self.zip_v(a, b, |t, x, y| t.b.ins().fdiv(x, y)),
            Op::VectorMin => self.zip_v(a, b, |t, x, y| t.select_by(FloatCC::LessThan, y, x, y, x)),
            _ => self.zip_v(a, b, |t, x, y| t.select_by(FloatCC::LessThan, x, y, y, x)),
        };
        self.set_v(o, r);
    }

    /// `s[o] = sqrt(dot(v[a], v[a]))`.
    pub(super) fn vector_norm(&mut self, a: u16, o: u16) {
        let sq = self.zip_v(a, a, |t, x, y| t.b.ins().fmul(x, y));
        let s = self.sum_lanes(&sq);
        let r = self.b.ins().sqrt(s);
        self.set_s(o, r);
    }

    /// `s[o] = dot(v[a], v[b])`.
    pub(super) fn vector_inner_product(&mut self, a: u16, b: u16, o: u16) {
        let p = self.zip_v(a, b, |t, x, y| t.b.ins().fmul(x, y));
        let r = self.sum_lanes(&p);
        self.set_s(o, r);
    }

    /// `s[o] = sum(v[a]) / F`.
    pub(super) fn vector_mean(&mut self, a: u16, o: u16) {
        let va = self.v(a);
        let s = self.sum_lanes(&va);
        let n = self.f64c(self.f as f64);
        let r = self.b.ins().fdiv(s, n);
        self.set_s(o, r);
    }

    /// `s[o] = sqrt(dot(v,v)/F - mean*mean)` with `mean = sum(v)/F`, `v = v[a]`.
    pub(super) fn vector_st_dev(&mut self, a: u16, o: u16) {
        let va = self.v(a);
        let n = self.f64c(self.f as f64);
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
}
