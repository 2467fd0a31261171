//! The interpreter's kernel: one `match` on the op per instruction over a flat memory buffer.

use super::program::Decoded;
use amlz_ir::kernels::{self as k, Dim};
use amlz_ir::{Op, Rng};

/// Runs `code` on the memory at `mem`.
///
/// # Safety
/// `mem` must hold the layout the code was decoded for, and `scratch` at least F² `f64`.
#[inline(always)]
pub(crate) unsafe fn run<D: Dim>(
    d: D,
    code: &[Decoded],
    mem: *mut f64,
    scratch: *mut f64,
    rng: &mut Rng,
) {
    for ins in code {
        unsafe { step(d, ins, mem, scratch, rng) };
    }
}

/// Element-wise loop over `len` elements: `o[i] = f(a[i], b[i])`. Safe under aliasing because
/// element i of the output depends only on element i of the inputs.
#[inline(always)]
unsafe fn zip(len: usize, o: *mut f64, a: *const f64, b: *const f64, f: impl Fn(f64, f64) -> f64) {
    for i in 0..len {
        unsafe { *o.add(i) = f(*a.add(i), *b.add(i)) };
    }
}

#[inline(always)]
unsafe fn map(len: usize, o: *mut f64, a: *const f64, f: impl Fn(f64) -> f64) {
    for i in 0..len {
        unsafe { *o.add(i) = f(*a.add(i)) };
    }
}

#[inline(always)]
unsafe fn fill(len: usize, o: *mut f64, mut f: impl FnMut() -> f64) {
    for i in 0..len {
        unsafe { *o.add(i) = f() };
    }
}

/// Executes one instruction.
///
/// # Safety
/// As for [`run`].
#[inline(always)]
pub(super) unsafe fn step<D: Dim>(
    d: D,
    ins: &Decoded,
    m: *mut f64,
    scratch: *mut f64,
    rng: &mut Rng,
) {
    let n = d.n();
    let nn = n * n;
    unsafe {
        let o = m.add(ins.o as usize);
        let a = m.add(ins.a as usize) as *const f64;
        let b = m.add(ins.b as usize) as *const f64;
        match ins.op {
            Op::NoOp => {}
            Op::ScalarSum => *o = *a + *b,
            Op::ScalarDiff => *o = *a - *b,
            Op::ScalarProduct => *o = *a * *b,
            Op::ScalarDivision => *o = *a / *b,
            Op::ScalarAbs => *o = (*a).abs(),
            Op::ScalarReciprocal => *o = 1.0 / *a,
            Op::ScalarSin => *o = k::sin(*a),
            Op::ScalarCos => *o = k::cos(*a),
            Op::ScalarTan => *o = k::tan(*a),
            Op::ScalarArcSin => *o = k::asin(*a),
            Op::ScalarArcCos => *o = k::acos(*a),
            Op::ScalarArcTan => *o = k::atan(*a),
            Op::ScalarExp => *o = k::exp(*a),
            Op::ScalarLog => *o = k::ln(*a),
            Op::ScalarHeaviside => *o = k::heaviside_s(*a),
            Op::VectorHeaviside => map(n, o, a, k::heaviside_vm),
            Op::MatrixHeaviside => map(nn, o, a, k::heaviside_vm),
            Op::ScalarVectorProduct => {
                let s = *a;
                map(n, o, b, |x| s * x)
            }
            Op::ScalarBroadcast => {
                let s = *a;
                fill(n, o, || s)
            }
            Op::VectorReciprocal => map(n, o, a, |x| 1.0 / x),
            Op::VectorNorm => *o = k::vector_norm(d, a),
            Op::VectorAbs => map(n, o, a, f64::abs),
            Op::VectorSum => zip(n, o, a, b, |x, y| x + y),
            Op::VectorDiff => zip(n, o, a, b, |x, y| x - y),
            Op::VectorProduct => zip(n, o, a, b, |x, y| x * y),
            Op::VectorDivision => zip(n, o, a, b, |x, y| x / y),
            Op::VectorInnerProduct => *o = k::dot(d, a, b),
            Op::VectorOuterProduct => k::outer_product(d, o, a, b),
            Op::ScalarMatrixProduct => {
                let s = *a;
                map(nn, o, b, |x| s * x)
            }
            Op::MatrixReciprocal => map(nn, o, a, |x| 1.0 / x),
            Op::MatrixVectorProduct => k::matrix_vector_product(d, o, a, b, scratch),
            Op::VectorColumnBroadcast => k::column_broadcast(d, o, a),
            Op::VectorRowBroadcast => k::row_broadcast(d, o, a),
            Op::MatrixNorm => *o = k::matrix_norm(d, a),
            Op::MatrixColumnNorm => k::matrix_column_norm(d, o, a),
            Op::MatrixRowNorm => k::matrix_row_norm(d, o, a),
            Op::MatrixTranspose => k::transpose(d, o, a),
            Op::MatrixAbs => map(nn, o, a, f64::abs),
            Op::MatrixSum => zip(nn, o, a, b, |x, y| x + y),
            Op::MatrixDiff => zip(nn, o, a, b, |x, y| x - y),
            Op::MatrixProduct => zip(nn, o, a, b, |x, y| x * y),
            Op::MatrixDivision => zip(nn, o, a, b, |x, y| x / y),
            Op::MatrixMatrixProduct => k::matmul(d, o, a, b, scratch),
            Op::ScalarMin => *o = k::min_sv(*a, *b),
            Op::VectorMin => zip(n, o, a, b, k::min_sv),
            Op::MatrixMin => zip(nn, o, a, b, k::min_m),
            Op::ScalarMax => *o = k::max_sv(*a, *b),
            Op::VectorMax => zip(n, o, a, b, k::max_sv),
            Op::MatrixMax => zip(nn, o, a, b, k::max_m),
            Op::VectorMean => *o = k::vector_mean(d, a),
            Op::MatrixMean => *o = k::matrix_mean(d, a),
            Op::MatrixRowMean => k::matrix_row_mean(d, o, a),
            Op::MatrixRowStDev => k::matrix_row_st_dev(d, o, a),
            Op::VectorStDev => *o = k::vector_st_dev(d, a),
            Op::MatrixStDev => *o = k::matrix_st_dev(d, a),
            Op::ScalarConstSet | Op::VectorConstSet | Op::MatrixConstSet => *o = ins.x,
            Op::ScalarUniformSet => *o = rng.uniform(ins.x, ins.y),
            Op::VectorUniformSet => fill(n, o, || rng.uniform(ins.x, ins.y)),
            Op::MatrixUniformSet => fill(nn, o, || rng.uniform(ins.x, ins.y)),
            Op::ScalarGaussianSet => *o = rng.gaussian(ins.x, ins.y),
            Op::VectorGaussianSet => fill(n, o, || rng.gaussian(ins.x, ins.y)),
            Op::MatrixGaussianSet => fill(nn, o, || rng.gaussian(ins.x, ins.y)),
        }
    }
}
