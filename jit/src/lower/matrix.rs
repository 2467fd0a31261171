//! Matrix ops. Matrices always live in memory: most ops are calls to the kernels of
//! [`crate::helpers`] on pointers into it; at F ≤ [`super::INLINE_MATRIX_MAX_F`] element-wise
//! binaries, outer products and matrix-vector products are emitted inline on `f64x2` chunks.

use super::Lowering;
use crate::JitError;
use crate::helpers::Helper;
use amlz_ir::{Bank, Op};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, Value};

impl Lowering<'_> {
    /// `m[o] = f(m[a])` element-wise (heaviside, reciprocal, abs) or the transpose, by helper.
    pub(super) fn matrix_unary(&mut self, op: Op, a: u16, o: u16) -> Result<(), JitError> {
        let h = match op {
            Op::MatrixHeaviside => Helper::MatHeaviside,
            Op::MatrixReciprocal => Helper::MatReciprocal,
            Op::MatrixAbs => Helper::MatAbs,
            _ => Helper::Transpose,
        };
        let n = self.n_arg();
        let po = self.m_ptr(o);
        let pa = self.m_ptr(a);
        self.call(h, &[n, po, pa])?;
        Ok(())
    }

    /// `m[o] = m[a] op m[b]` element-wise, inline: F² elements in `f64x2` chunks (all of both
    /// inputs are loaded before the output is stored, so aliasing is safe).
    pub(super) fn matrix_binary_inline(&mut self, op: Op, a: u16, b: u16, o: u16) {
        let n = self.f * self.f;
        let (oa, ob, oo) = (
            self.off(Bank::Matrix, a),
            self.off(Bank::Matrix, b),
            self.off(Bank::Matrix, o),
        );
        let xs = self.load_elements(n, oa);
        let ys = self.load_elements(n, ob);
        let r: Vec<Value> = xs
            .into_iter()
            .zip(ys)
            .map(|(x, y)| match op {
                Op::MatrixSum => self.b.ins().fadd(x, y),
                Op::MatrixDiff => self.b.ins().fsub(x, y),
                Op::MatrixProduct => self.b.ins().fmul(x, y),
                Op::MatrixDivision => self.b.ins().fdiv(x, y),
                // if a < b { a } else { b }
                Op::MatrixMin => self.select_by(FloatCC::LessThan, x, y, x, y),
                // if a > b { a } else { b }
                _ => self.select_by(FloatCC::GreaterThan, x, y, x, y),
            })
            .collect();
        self.store_elements(&r, oo);
    }

    /// `m[o] = m[a] op m[b]` element-wise, by helper.
    pub(super) fn matrix_binary(&mut self, op: Op, a: u16, b: u16, o: u16) -> Result<(), JitError> {
        let h = match op {
            Op::MatrixSum => Helper::MatSum,
            Op::MatrixDiff => Helper::MatDiff,
            Op::MatrixProduct => Helper::MatProduct,
            Op::MatrixDivision => Helper::MatDivision,
            Op::MatrixMin => Helper::MatMin,
            _ => Helper::MatMax,
        };
        let n = self.n_arg();
        let po = self.m_ptr(o);
        let pa = self.m_ptr(a);
        let pb = self.m_ptr(b);
        self.call(h, &[n, po, pa, pb])?;
        Ok(())
    }

    /// `m[o] = m[a] · m[b]`, by helper (through the scratch buffer when `o` aliases an input).
    pub(super) fn matrix_matrix_product(&mut self, a: u16, b: u16, o: u16) -> Result<(), JitError> {
        let n = self.n_arg();
        let po = self.m_ptr(o);
        let pa = self.m_ptr(a);
        let pb = self.m_ptr(b);
        let sc = self.scratch.expect("scratch pointer loaded");
        self.call(Helper::Matmul, &[n, po, pa, pb, sc])?;
        Ok(())
    }

    /// `m[o] = s[a] * m[b]`, by helper.
    pub(super) fn scalar_matrix_product(&mut self, a: u16, b: u16, o: u16) -> Result<(), JitError> {
        let s = self.s(a);
        let n = self.n_arg();
        let po = self.m_ptr(o);
        let pb = self.m_ptr(b);
        self.call(Helper::ScalarMatrixProduct, &[n, po, s, pb])?;
        Ok(())
    }

    /// `m[o] = v[a] ⊗ v[b]`, inline: row i is `a[i] * b`, stored chunk by chunk.
    pub(super) fn outer_product_inline(&mut self, a: u16, b: u16, o: u16) {
        let f = self.f;
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
            let mem = self.lane.mem;
            self.store_vector(&row, mem, oo + (i * f * 8) as i32);
        }
    }

    /// `m[o] = v[a] ⊗ v[b]`, by helper on the vectors in memory.
    pub(super) fn outer_product(&mut self, a: u16, b: u16, o: u16) -> Result<(), JitError> {
        let pa = self.v_ptr_in(a);
        let pb = self.v_ptr_in(b);
        let n = self.n_arg();
        let po = self.m_ptr(o);
        self.call(Helper::OuterProduct, &[n, po, pa, pb])?;
        Ok(())
    }

    /// `m[o]` = `v[a]` in every column or every row, by helper.
    pub(super) fn vector_broadcast(&mut self, op: Op, a: u16, o: u16) -> Result<(), JitError> {
        let h = if op == Op::VectorColumnBroadcast {
            Helper::ColumnBroadcast
        } else {
            Helper::RowBroadcast
        };
        let pa = self.v_ptr_in(a);
        let n = self.n_arg();
        let po = self.m_ptr(o);
        self.call(h, &[n, po, pa])?;
        Ok(())
    }

    /// `v[o] = m[a] · v[b]`, inline: `o[i] = dot(row i of m, v)`, products chunk-wise, summed
    /// from the first in index order, exactly as `kernels::dot`.
    pub(super) fn matrix_vector_product_inline(&mut self, a: u16, b: u16, o: u16) {
        let f = self.f;
        let vb = self.v(b);
        let om = self.off(Bank::Matrix, a);
        let mut out = Vec::with_capacity(f);
        for i in 0..f {
            let mem = self.lane.mem;
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

    /// `v[o] = m[a] · v[b]`, by helper, written to memory.
    pub(super) fn matrix_vector_product(&mut self, a: u16, b: u16, o: u16) -> Result<(), JitError> {
        let pb = self.v_ptr_in(b);
        let n = self.n_arg();
        let pa = self.m_ptr(a);
        let po = self.v_ptr_out(o);
        let sc = self.scratch.expect("scratch pointer loaded");
        self.call(Helper::MatrixVectorProduct, &[n, po, pa, pb, sc])?;
        self.v_written(o);
        Ok(())
    }

    /// `v[o]` = a per-column or per-row statistic of `m[a]`, by helper, written to memory.
    pub(super) fn matrix_to_vector(&mut self, op: Op, a: u16, o: u16) -> Result<(), JitError> {
        let h = match op {
            Op::MatrixColumnNorm => Helper::MatrixColumnNorm,
            Op::MatrixRowNorm => Helper::MatrixRowNorm,
            Op::MatrixRowMean => Helper::MatrixRowMean,
            _ => Helper::MatrixRowStDev,
        };
        let n = self.n_arg();
        let po = self.v_ptr_out(o);
        let pa = self.m_ptr(a);
        self.call(h, &[n, po, pa])?;
        self.v_written(o);
        Ok(())
    }

    /// `s[o]` = the norm, mean or standard deviation of `m[a]`, by helper.
    pub(super) fn matrix_reduction(&mut self, op: Op, a: u16, o: u16) -> Result<(), JitError> {
        let h = match op {
            Op::MatrixNorm => Helper::MatrixNorm,
            Op::MatrixMean => Helper::MatrixMean,
            _ => Helper::MatrixStDev,
        };
        let n = self.n_arg();
        let pa = self.m_ptr(a);
        let r = self.call1(h, &[n, pa])?;
        self.set_s(o, r);
        Ok(())
    }
}
