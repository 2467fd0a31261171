//! Scalar arithmetic and libm: IEEE operations on SSA values, min/max and heaviside as
//! compare+select with the rules of `amlz_ir::kernels`, libm through the interpreter's functions.

use super::Lowering;
use crate::JitError;
use crate::helpers::Helper;
use amlz_ir::Op;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, Value};

impl Lowering<'_> {
    /// `s[o] = s[a] op s[b]` for the six scalar binaries.
    pub(super) fn scalar_binary(&mut self, op: Op, a: u16, b: u16, o: u16) {
        let x = self.s(a);
        let y = self.s(b);
        let r = match op {
            Op::ScalarSum => self.b.ins().fadd(x, y),
            // Learn's usual first step, `s0 - s1` (label minus prediction), is the
            // difference the early-stop test already computed: reuse it.
            Op::ScalarDiff => match self.lane.error {
                Some((l, p, e)) if (l, p) == (x, y) => e,
                _ => self.b.ins().fsub(x, y),
            },
            Op::ScalarProduct => self.b.ins().fmul(x, y),
            Op::ScalarDivision => self.b.ins().fdiv(x, y),
            // if b < a { b } else { a }
            Op::ScalarMin => self.select_by(FloatCC::LessThan, y, x, y, x),
            // if a < b { b } else { a }
            _ => self.select_by(FloatCC::LessThan, x, y, y, x),
        };
        self.set_s(o, r);
    }

    /// `s[o] = |s[a]|`.
    pub(super) fn scalar_abs(&mut self, a: u16, o: u16) {
        let x = self.s(a);
        let r = self.b.ins().fabs(x);
        self.set_s(o, r);
    }

    /// `s[o] = 1 / s[a]`.
    pub(super) fn scalar_reciprocal(&mut self, a: u16, o: u16) {
        let x = self.s(a);
        let one = self.f64c(1.0);
        let r = self.b.ins().fdiv(one, x);
        self.set_s(o, r);
    }

    /// `s[o] = f(s[a])` for the libm functions, through the interpreter's implementations.
    pub(super) fn scalar_libm(&mut self, op: Op, a: u16, o: u16) -> Result<(), JitError> {
        let h = match op {
            Op::ScalarSin => Helper::Sin,
            Op::ScalarCos => Helper::Cos,
            Op::ScalarTan => Helper::Tan,
            Op::ScalarArcSin => Helper::Asin,
            Op::ScalarArcCos => Helper::Acos,
            Op::ScalarArcTan => Helper::Atan,
            Op::ScalarExp => Helper::Exp,
            _ => Helper::Ln,
        };
        let x = self.s(a);
        let r = self.call1(h, &[x])?;
        self.set_s(o, r);
        Ok(())
    }

    /// `s[o] = 1 if s[a] >= 0 else 0`.
    pub(super) fn scalar_heaviside(&mut self, a: u16, o: u16) {
        let x = self.s(a);
        let z = self.f64c(0.0);
        let u = self.f64c(1.0);
        let r = self.heaviside(FloatCC::GreaterThanOrEqual, x, [z, z], [u, u]);
        self.set_s(o, r);
    }

    /// `1 / (1 + exp(-x))`, the ACCURACY sigmoid.
    pub(super) fn sigmoid(&mut self, x: Value) -> Result<Value, JitError> {
        let neg = self.b.ins().fneg(x);
        let e = self.call1(Helper::Exp, &[neg])?;
        let one = self.f64c(1.0);
        let d = self.b.ins().fadd(one, e);
        Ok(self.b.ins().fdiv(one, d))
    }
}
