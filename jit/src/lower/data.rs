//! Data-setting ops: constants (read from the constants array, so that one compiled body serves
//! every algorithm of its structure) and random draws from the evaluation's stream, through the
//! interpreter's generator in [`crate::helpers`].

use super::{Lowering, scalar_flags};
use crate::JitError;
use crate::helpers::Helper;
use amlz_ir::{Bank, Op};
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::types::{F64, I64};

impl Lowering<'_> {
    /// `s[o]` = the next constant.
    pub(super) fn scalar_const(&mut self, o: u16) {
        let c = self.next_const();
        self.set_s(o, c);
    }

    /// Element `e` of `v[o]` = the next constant.
    pub(super) fn vector_const(&mut self, e: u16, o: u16) -> Result<(), JitError> {
        let f = self.f;
        let c = self.next_const();
        let e = e as usize;
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
        Ok(())
    }

    /// Element `e` of `m[o]` = the next constant, stored straight to memory.
    pub(super) fn matrix_const(&mut self, e: u16, o: u16) -> Result<(), JitError> {
        let f = self.f;
        let c = self.next_const();
        let e = e as usize;
        if e >= f * f {
            return Err(JitError::Unsupported(format!(
                "element {e} of a matrix of {f}x{f}"
            )));
        }
        let off = self.off(Bank::Matrix, o) + (e * 8) as i32;
        let mem = self.lane.mem;
        self.b.ins().store(scalar_flags(), c, mem, off);
        Ok(())
    }

    /// `s[o]` = one uniform or gaussian draw with the next two constants as parameters.
    pub(super) fn scalar_random(&mut self, op: Op, o: u16) -> Result<(), JitError> {
        let lo = self.next_const();
        let hi = self.next_const();
        let h = if op == Op::ScalarUniformSet {
            Helper::DrawUniform
        } else {
            Helper::DrawGaussian
        };
        let rng = self.lane.rng.expect("random stream pointer loaded");
        let r = self.call1(h, &[rng, lo, hi])?;
        self.set_s(o, r);
        Ok(())
    }

    /// `v[o]` = F draws, written to memory by the helper.
    pub(super) fn vector_random(&mut self, op: Op, o: u16) -> Result<(), JitError> {
        let lo = self.next_const();
        let hi = self.next_const();
        let h = if op == Op::VectorUniformSet {
            Helper::FillUniform
        } else {
            Helper::FillGaussian
        };
        let rng = self.lane.rng.expect("random stream pointer loaded");
        let po = self.v_ptr_out(o);
        let count = self.b.ins().iconst(I64, self.f as i64);
        self.call(h, &[rng, po, count, lo, hi])?;
        self.v_written(o);
        Ok(())
    }

    /// `m[o]` = F² draws, written to memory by the helper.
    pub(super) fn matrix_random(&mut self, op: Op, o: u16) -> Result<(), JitError> {
        let lo = self.next_const();
        let hi = self.next_const();
        let h = if op == Op::MatrixUniformSet {
            Helper::FillUniform
        } else {
            Helper::FillGaussian
        };
        let rng = self.lane.rng.expect("random stream pointer loaded");
        let po = self.m_ptr(o);
        let count = self.b.ins().iconst(I64, (self.f * self.f) as i64);
        self.call(h, &[rng, po, count, lo, hi])?;
        Ok(())
    }
}
