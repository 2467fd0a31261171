//! The interpreter's kernel: one `match` on the op per instruction, whose body then runs on each
//! memory it is given ([`Memories`]): one task's flat buffer, or every running lane's.

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
    let one = One { mem, rng };
    for ins in code {
        unsafe { step(d, ins, one, scratch) };
    }
}

/// The memories one instruction runs on: one (a task alone) or several side by side (lanes).
pub(super) trait Memories: Copy {
    /// Runs `f` on each memory with its random stream.
    fn each(self, f: impl FnMut(*mut f64, &mut Rng));
}

/// One memory and its random stream.
#[derive(Clone, Copy)]
struct One {
    mem: *mut f64,
    rng: *mut Rng,
}

impl Memories for One {
    #[inline(always)]
    fn each(self, mut f: impl FnMut(*mut f64, &mut Rng)) {
        // SAFETY: `run` made it from a live `&mut Rng` it holds for the instruction's length.
        f(self.mem, unsafe { &mut *self.rng })
    }
}

/// Runs `f` on every memory of `mems` with the instruction's output `o`, inputs `a` and `b` and
/// the memory's random stream.
#[inline(always)]
fn each<M: Memories>(
    mems: M,
    ins: &Decoded,
    mut f: impl FnMut(*mut f64, *const f64, *const f64, &mut Rng),
) {
    let (out, in1, in2) = (ins.o as usize, ins.a as usize, ins.b as usize);
    // SAFETY: the caller of `step` guarantees that every memory holds the decoded layout, in
    // which the instruction's offsets lie.
    mems.each(|m, rng| unsafe { f(m.add(out), m.add(in1), m.add(in2), rng) })
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

/// Executes one instruction on every memory of `mems`: the op is dispatched once, then its
/// work runs memory after memory.
///
/// # Safety
/// As for [`run`], for every memory of `mems`.
#[inline(always)]
pub(super) unsafe fn step<D: Dim, M: Memories>(d: D, ins: &Decoded, mems: M, scratch: *mut f64) {
    let n = d.n();
    let nn = n * n;
    unsafe {
        match ins.op {
            Op::NoOp => {}
            Op::ScalarSum => each(mems, ins, |o, a, b, _| *o = *a + *b),
            Op::ScalarDiff => each(mems, ins, |o, a, b, _| *o = *a - *b),
            Op::ScalarProduct => each(mems, ins, |o, a, b, _| *o = *a * *b),
            Op::ScalarDivision => each(mems, ins, |o, a, b, _| *o = *a / *b),
            Op::ScalarAbs => each(mems, ins, |o, a, _, _| *o = (*a).abs()),
            Op::ScalarReciprocal => each(mems, ins, |o, a, _, _| *o = 1.0 / *a),
            Op::ScalarSin => each(mems, ins, |o, a, _, _| *o = k::sin(*a)),
            Op::ScalarCos => each(mems, ins, |o, a, _, _| *o = k::cos(*a)),
            Op::ScalarTan => each(mems, ins, |o, a, _, _| *o = k::tan(*a)),
            Op::ScalarArcSin => each(mems, ins, |o, a, _, _| *o = k::asin(*a)),
            Op::ScalarArcCos => each(mems, ins, |o, a, _, _| *o = k::acos(*a)),
            Op::ScalarArcTan => each(mems, ins, |o, a, _, _| *o = k::atan(*a)),
            Op::ScalarExp => each(mems, ins, |o, a, _, _| *o = k::exp(*a)),
            Op::ScalarLog => each(mems, ins, |o, a, _, _| *o = k::ln(*a)),
            Op::ScalarHeaviside => each(mems, ins, |o, a, _, _| *o = k::heaviside_s(*a)),
            Op::VectorHeaviside => each(mems, ins, |o, a, _, _| map(n, o, a, k::heaviside_vm)),
            Op::MatrixHeaviside => each(mems, ins, |o, a, _, _| map(nn, o, a, k::heaviside_vm)),
            Op::ScalarVectorProduct => each(mems, ins, |o, a, b, _| {
                let s = *a;
                map(n, o, b, |x| s * x)
            }),
            Op::ScalarBroadcast => each(mems, ins, |o, a, _, _| {
                let s = *a;
                fill(n, o, || s)
            }),
            Op::VectorReciprocal => each(mems, ins, |o, a, _, _| map(n, o, a, |x| 1.0 / x)),
            Op::VectorNorm => each(mems, ins, |o, a, _, _| *o = k::vector_norm(d, a)),
            Op::VectorAbs => each(mems, ins, |o, a, _, _| map(n, o, a, f64::abs)),
            Op::VectorSum => each(mems, ins, |o, a, b, _| zip(n, o, a, b, |x, y| x + y)),
            Op::VectorDiff => each(mems, ins, |o, a, b, _| zip(n, o, a, b, |x, y| x - y)),
            Op::VectorProduct => each(mems, ins, |o, a, b, _| zip(n, o, a, b, |x, y| x * y)),
            Op::VectorDivision => each(mems, ins, |o, a, b, _| zip(n, o, a, b, |x, y| x / y)),
            Op::VectorInnerProduct => each(mems, ins, |o, a, b, _| *o = k::dot(d, a, b)),
            Op::VectorOuterProduct => each(mems, ins, |o, a, b, _| k::outer_product(d, o, a, b)),
            Op::ScalarMatrixProduct => each(mems, ins, |o, a, b, _| {
                let s = *a;
                map(nn, o, b, |x| s * x)
            }),
            Op::MatrixReciprocal => each(mems, ins, |o, a, _, _| map(nn, o, a, |x| 1.0 / x)),
            Op::MatrixVectorProduct => each(mems, ins, |o, a, b, _| {
                k::matrix_vector_product(d, o, a, b, scratch)
            }),
            Op::VectorColumnBroadcast => each(mems, ins, |o, a, _, _| k::column_broadcast(d, o, a)),
            Op::VectorRowBroadcast => each(mems, ins, |o, a, _, _| k::row_broadcast(d, o, a)),
            Op::MatrixNorm => each(mems, ins, |o, a, _, _| *o = k::matrix_norm(d, a)),
            Op::MatrixColumnNorm => each(mems, ins, |o, a, _, _| k::matrix_column_norm(d, o, a)),
            Op::MatrixRowNorm => each(mems, ins, |o, a, _, _| k::matrix_row_norm(d, o, a)),
            Op::MatrixTranspose => each(mems, ins, |o, a, _, _| k::transpose(d, o, a)),
            Op::MatrixAbs => each(mems, ins, |o, a, _, _| map(nn, o, a, f64::abs)),
            Op::MatrixSum => each(mems, ins, |o, a, b, _| zip(nn, o, a, b, |x, y| x + y)),
            Op::MatrixDiff => each(mems, ins, |o, a, b, _| zip(nn, o, a, b, |x, y| x - y)),
            Op::MatrixProduct => each(mems, ins, |o, a, b, _| zip(nn, o, a, b, |x, y| x * y)),
            Op::MatrixDivision => each(mems, ins, |o, a, b, _| zip(nn, o, a, b, |x, y| x / y)),
            Op::MatrixMatrixProduct => each(mems, ins, |o, a, b, _| k::matmul(d, o, a, b, scratch)),
            Op::ScalarMin => each(mems, ins, |o, a, b, _| *o = k::min_sv(*a, *b)),
            Op::VectorMin => each(mems, ins, |o, a, b, _| zip(n, o, a, b, k::min_sv)),
            Op::MatrixMin => each(mems, ins, |o, a, b, _| zip(nn, o, a, b, k::min_m)),
            Op::ScalarMax => each(mems, ins, |o, a, b, _| *o = k::max_sv(*a, *b)),
            Op::VectorMax => each(mems, ins, |o, a, b, _| zip(n, o, a, b, k::max_sv)),
            Op::MatrixMax => each(mems, ins, |o, a, b, _| zip(nn, o, a, b, k::max_m)),
            Op::VectorMean => each(mems, ins, |o, a, _, _| *o = k::vector_mean(d, a)),
            Op::MatrixMean => each(mems, ins, |o, a, _, _| *o = k::matrix_mean(d, a)),
            Op::MatrixRowMean => each(mems, ins, |o, a, _, _| k::matrix_row_mean(d, o, a)),
            Op::MatrixRowStDev => each(mems, ins, |o, a, _, _| k::matrix_row_st_dev(d, o, a)),
            Op::VectorStDev => each(mems, ins, |o, a, _, _| *o = k::vector_st_dev(d, a)),
            Op::MatrixStDev => each(mems, ins, |o, a, _, _| *o = k::matrix_st_dev(d, a)),
            Op::ScalarConstSet | Op::VectorConstSet | Op::MatrixConstSet => {
                each(mems, ins, |o, _, _, _| *o = ins.x)
            }
            Op::ScalarUniformSet => each(mems, ins, |o, _, _, rng| *o = rng.uniform(ins.x, ins.y)),
            Op::VectorUniformSet => each(mems, ins, |o, _, _, rng| {
                fill(n, o, || rng.uniform(ins.x, ins.y))
            }),
            Op::MatrixUniformSet => each(mems, ins, |o, _, _, rng| {
                fill(nn, o, || rng.uniform(ins.x, ins.y))
            }),
            Op::ScalarGaussianSet => {
                each(mems, ins, |o, _, _, rng| *o = rng.gaussian(ins.x, ins.y))
            }
            Op::VectorGaussianSet => each(mems, ins, |o, _, _, rng| {
                fill(n, o, || rng.gaussian(ins.x, ins.y))
            }),
            Op::MatrixGaussianSet => each(mems, ins, |o, _, _, rng| {
                fill(nn, o, || rng.gaussian(ins.x, ins.y))
            }),
        }
    }
}
