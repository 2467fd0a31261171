//! The numeric semantics of the ops, one function each where the arithmetic is more than one IEEE
//! operation: reductions in index order, matrix products, norms and statistics, min/max rules,
//! index truncation, libm calls.
//!
//! The interpreter calls these; the JIT either calls them (libm, O(F²) kernels, through their
//! `extern "C"` wrappers in `amlz-jit`) or emits the very same sequence of IEEE operations. Keeping
//! one definition is what makes the two executors agree bit for bit.
//!
//! Vectors and matrices are raw pointers into the memory buffer so that an output may alias an
//! input (SEMANTICS.md §2: every op reads all of its inputs before it writes); kernels whose
//! output element depends on several input elements of the same bank take a scratch buffer.
//!
//! # Safety
//! Every `unsafe fn` here requires its pointers to be valid for the number of `f64` the op reads
//! or writes (F for a vector, F² for a matrix, F² for a scratch buffer).

/// A feature size known at compile time ([`Fixed`]) or at run time ([`Dynamic`]): kernels are
/// generic over it so that the common sizes get fully specialised loops.
pub trait Dim: Copy {
    /// F.
    fn n(self) -> usize;
}

/// F fixed at compile time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fixed<const N: usize>;

impl<const N: usize> Dim for Fixed<N> {
    #[inline(always)]
    fn n(self) -> usize {
        N
    }
}

/// F known only at run time.
#[derive(Clone, Copy, Debug)]
pub struct Dynamic(pub usize);

impl Dim for Dynamic {
    #[inline(always)]
    fn n(self) -> usize {
        self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar rules.

/// `1 / (1 + exp(-x))`, with amlz's `exp`.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// SCALAR_MIN / VECTOR_MIN: `if b < a { b } else { a }` (decides NaN and ±0 cases).
#[inline(always)]
pub fn min_sv(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// SCALAR_MAX / VECTOR_MAX: `if a < b { b } else { a }`.
#[inline(always)]
pub fn max_sv(a: f64, b: f64) -> f64 {
    if a < b { b } else { a }
}

/// MATRIX_MIN: `if a < b { a } else { b }` (the original's quirk: differs from [`min_sv`]).
#[inline(always)]
pub fn min_m(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// MATRIX_MAX: `if a > b { a } else { b }`.
#[inline(always)]
pub fn max_m(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// SCALAR_HEAVISIDE: 1.0 if `x >= 0` else 0.0.
#[inline(always)]
pub fn heaviside_s(x: f64) -> f64 {
    if x >= 0.0 { 1.0 } else { 0.0 }
}

/// VECTOR_HEAVISIDE / MATRIX_HEAVISIDE: 1.0 if `x > 0` else 0.0 (note `>`: parity quirk).
#[inline(always)]
pub fn heaviside_vm(x: f64) -> f64 {
    if x > 0.0 { 1.0 } else { 0.0 }
}

/// The coordinate an index-like float datum selects: `floor(F * d)` computed in `f32`, clamped to
/// `0..F` (the clamp only matters for data outside `[0,1)`, which only a hand-edited file holds).
#[inline]
pub fn data_index(features: usize, d: f32) -> usize {
    ((features as f32 * d) as usize).min(features - 1)
}

macro_rules! libm_fns {
    ($($name:ident => $method:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($method), "(x)` from the platform's libm; the JIT calls this very function.")]
        #[inline(never)]
        pub extern "C" fn $name(x: f64) -> f64 {
            x.$method()
        }
    )*};
}

libm_fns! {
    sin => sin, cos => cos, tan => tan, asin => asin, acos => acos, atan => atan,
    exp => exp, ln => ln,
}

// ---------------------------------------------------------------------------------------------
// Reductions (first term first, then index order: SEMANTICS.md §2).

/// Sum of `n` values starting at `p`, from the first term in index order (`n ≥ 1`).
///
/// # Safety
/// `p` valid for `n` reads.
#[inline(always)]
pub unsafe fn sum(p: *const f64, n: usize) -> f64 {
    unsafe {
        let mut s = *p;
        for i in 1..n {
            s += *p.add(i);
        }
        s
    }
}

/// Sum of squares of `n` values, first term first.
///
/// # Safety
/// `p` valid for `n` reads.
#[inline(always)]
pub unsafe fn sum_sq(p: *const f64, n: usize) -> f64 {
    unsafe {
        let mut s = *p * *p;
        for i in 1..n {
            let x = *p.add(i);
            s += x * x;
        }
        s
    }
}

/// Dot product of two vectors, first product first.
///
/// # Safety
/// `a`, `b` valid for F reads.
#[inline(always)]
pub unsafe fn dot<D: Dim>(d: D, a: *const f64, b: *const f64) -> f64 {
    unsafe {
        let mut s = *a * *b;
        for i in 1..d.n() {
            s += *a.add(i) * *b.add(i);
        }
        s
    }
}

/// VECTOR_NORM: `sqrt(sum of squares)`.
///
/// # Safety
/// `a` valid for F reads.
#[inline(always)]
pub unsafe fn vector_norm<D: Dim>(d: D, a: *const f64) -> f64 {
    unsafe { sum_sq(a, d.n()).sqrt() }
}

/// VECTOR_MEAN: `sum / F`.
///
/// # Safety
/// `a` valid for F reads.
#[inline(always)]
pub unsafe fn vector_mean<D: Dim>(d: D, a: *const f64) -> f64 {
    unsafe { sum(a, d.n()) / d.n() as f64 }
}

/// VECTOR_ST_DEV: `sqrt(dot(v,v)/F - mean*mean)`.
///
/// # Safety
/// `a` valid for F reads.
#[inline(always)]
pub unsafe fn vector_st_dev<D: Dim>(d: D, a: *const f64) -> f64 {
    unsafe {
        let n = d.n() as f64;
        let mean = sum(a, d.n()) / n;
        (dot(d, a, a) / n - mean * mean).sqrt()
    }
}

/// MATRIX_NORM: Frobenius norm, row-major order.
///
/// # Safety
/// `a` valid for F² reads.
#[inline(always)]
pub unsafe fn matrix_norm<D: Dim>(d: D, a: *const f64) -> f64 {
    unsafe { sum_sq(a, d.n() * d.n()).sqrt() }
}

/// MATRIX_MEAN: `sum / (F*F)`.
///
/// # Safety
/// `a` valid for F² reads.
#[inline(always)]
pub unsafe fn matrix_mean<D: Dim>(d: D, a: *const f64) -> f64 {
    unsafe {
        let nn = d.n() * d.n();
        sum(a, nn) / nn as f64
    }
}

/// MATRIX_ST_DEV: `sqrt(sum(x*x)/(F*F) - mean*mean)`.
///
/// # Safety
/// `a` valid for F² reads.
#[inline(always)]
pub unsafe fn matrix_st_dev<D: Dim>(d: D, a: *const f64) -> f64 {
    unsafe {
        let nn = d.n() * d.n();
        let mean = sum(a, nn) / nn as f64;
        (sum_sq(a, nn) / nn as f64 - mean * mean).sqrt()
    }
}

// ---------------------------------------------------------------------------------------------
// Matrix → vector kernels (output in another bank than the input: no aliasing possible).

/// MATRIX_COLUMN_NORM: `o[j] = norm of column j`, each column summed from row 0 down.
///
/// # Safety
/// `m` valid for F² reads, `o` for F writes.
#[inline(always)]
pub unsafe fn matrix_column_norm<D: Dim>(d: D, o: *mut f64, m: *const f64) {
    unsafe {
        let n = d.n();
        for j in 0..n {
            let x = *m.add(j);
            let mut s = x * x;
            for i in 1..n {
                let x = *m.add(i * n + j);
                s += x * x;
            }
            *o.add(j) = s.sqrt();
        }
    }
}

/// MATRIX_ROW_NORM: `o[i] = norm of row i`.
///
/// # Safety
/// `m` valid for F² reads, `o` for F writes.
#[inline(always)]
pub unsafe fn matrix_row_norm<D: Dim>(d: D, o: *mut f64, m: *const f64) {
    unsafe {
        let n = d.n();
        for i in 0..n {
            *o.add(i) = sum_sq(m.add(i * n), n).sqrt();
        }
    }
}

/// MATRIX_ROW_MEAN: `o[i] = mean of row i`.
///
/// # Safety
/// `m` valid for F² reads, `o` for F writes.
#[inline(always)]
pub unsafe fn matrix_row_mean<D: Dim>(d: D, o: *mut f64, m: *const f64) {
    unsafe {
        let n = d.n();
        for i in 0..n {
            *o.add(i) = sum(m.add(i * n), n) / n as f64;
        }
    }
}

/// MATRIX_ROW_ST_DEV: per row `sqrt(sum(x*x)/F - mean*mean)`.
///
/// # Safety
/// `m` valid for F² reads, `o` for F writes.
#[inline(always)]
pub unsafe fn matrix_row_st_dev<D: Dim>(d: D, o: *mut f64, m: *const f64) {
    unsafe {
        let n = d.n();
        let nf = n as f64;
        for i in 0..n {
            let row = m.add(i * n);
            let mean = sum(row, n) / nf;
            *o.add(i) = (sum_sq(row, n) / nf - mean * mean).sqrt();
        }
    }
}

/// MATRIX_VECTOR_PRODUCT: `o[i] = sum_j m[i][j] * v[j]`; `o` may alias `v` (the result goes
/// through `scratch` then).
///
/// # Safety
/// `m` valid for F² reads, `v` for F reads, `o` for F writes, `scratch` for F writes.
#[inline(always)]
pub unsafe fn matrix_vector_product<D: Dim>(
    d: D,
    o: *mut f64,
    m: *const f64,
    v: *const f64,
    scratch: *mut f64,
) {
    unsafe {
        let n = d.n();
        let target = if std::ptr::eq(o, v) { scratch } else { o };
        for i in 0..n {
            *target.add(i) = dot(d, m.add(i * n), v);
        }
        if target != o {
            std::ptr::copy_nonoverlapping(scratch, o, n);
        }
    }
}

/// VECTOR_OUTER_PRODUCT: `o[i][j] = a[i] * b[j]`.
///
/// # Safety
/// `a`, `b` valid for F reads, `o` for F² writes.
#[inline(always)]
pub unsafe fn outer_product<D: Dim>(d: D, o: *mut f64, a: *const f64, b: *const f64) {
    unsafe {
        let n = d.n();
        for i in 0..n {
            let x = *a.add(i);
            for j in 0..n {
                *o.add(i * n + j) = x * *b.add(j);
            }
        }
    }
}

/// VECTOR_COLUMN_BROADCAST: `o[i][j] = a[i]`.
///
/// # Safety
/// `a` valid for F reads, `o` for F² writes.
#[inline(always)]
pub unsafe fn column_broadcast<D: Dim>(d: D, o: *mut f64, a: *const f64) {
    unsafe {
        let n = d.n();
        for i in 0..n {
            let x = *a.add(i);
            for j in 0..n {
                *o.add(i * n + j) = x;
            }
        }
    }
}

/// VECTOR_ROW_BROADCAST: `o[i][j] = a[j]`.
///
/// # Safety
/// `a` valid for F reads, `o` for F² writes.
#[inline(always)]
pub unsafe fn row_broadcast<D: Dim>(d: D, o: *mut f64, a: *const f64) {
    unsafe {
        let n = d.n();
        for i in 0..n {
            std::ptr::copy_nonoverlapping(a, o.add(i * n), n);
        }
    }
}

/// MATRIX_TRANSPOSE, correct when `o == a` (swaps in place then).
///
/// # Safety
/// `a` valid for F² reads, `o` for F² writes.
#[inline(always)]
pub unsafe fn transpose<D: Dim>(d: D, o: *mut f64, a: *const f64) {
    unsafe {
        let n = d.n();
        if std::ptr::eq(o, a) {
            for i in 0..n {
                for j in i + 1..n {
                    std::ptr::swap(o.add(i * n + j), o.add(j * n + i));
                }
            }
        } else {
            for i in 0..n {
                for j in 0..n {
                    *o.add(i * n + j) = *a.add(j * n + i);
                }
            }
        }
    }
}

/// MATRIX_MATRIX_PRODUCT: `o[i][j] = sum_k a[i][k] * b[k][j]`, k from 0; `o` may alias `a` or
/// `b` (the result goes through `scratch` then).
///
/// # Safety
/// `a`, `b` valid for F² reads, `o` and `scratch` for F² writes.
#[inline(always)]
pub unsafe fn matmul<D: Dim>(d: D, o: *mut f64, a: *const f64, b: *const f64, scratch: *mut f64) {
    unsafe {
        let n = d.n();
        let target = if std::ptr::eq(o, a) || std::ptr::eq(o, b) {
            scratch
        } else {
            o
        };
        for i in 0..n {
            for j in 0..n {
                let mut s = *a.add(i * n) * *b.add(j);
                for k in 1..n {
                    s += *a.add(i * n + k) * *b.add(k * n + j);
                }
                *target.add(i * n + j) = s;
            }
        }
        if target != o {
            std::ptr::copy_nonoverlapping(scratch, o, n * n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_rules_decide_nan_and_signed_zero() {
        let nan = f64::NAN;
        // 44/45: if b < a { b } else { a }
        assert!(min_sv(nan, 1.0).is_nan());
        assert_eq!(min_sv(1.0, nan), 1.0);
        assert_eq!(min_sv(0.0, -0.0).to_bits(), 0.0f64.to_bits());
        // 46: if a < b { a } else { b }
        assert_eq!(min_m(nan, 1.0), 1.0);
        assert!(min_m(1.0, nan).is_nan());
        assert_eq!(min_m(0.0, -0.0).to_bits(), (-0.0f64).to_bits());
        // 47/48: if a < b { b } else { a }
        assert!(max_sv(nan, 1.0).is_nan());
        assert_eq!(max_sv(1.0, nan), 1.0);
        assert_eq!(max_sv(-0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        // 49: if a > b { a } else { b }
        assert_eq!(max_m(nan, 1.0), 1.0);
        assert!(max_m(1.0, nan).is_nan());
        assert_eq!(max_m(-0.0, 0.0).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn heaviside_scalar_uses_ge_and_vector_uses_gt() {
        assert_eq!(heaviside_s(0.0), 1.0);
        assert_eq!(heaviside_s(-0.0), 1.0);
        assert_eq!(heaviside_s(-1e-300), 0.0);
        assert_eq!(heaviside_s(f64::NAN), 0.0);
        assert_eq!(heaviside_vm(0.0), 0.0);
        assert_eq!(heaviside_vm(1e-300), 1.0);
        assert_eq!(heaviside_vm(f64::NAN), 0.0);
    }

    #[test]
    fn data_index_truncates_in_f32() {
        assert_eq!(data_index(4, 0.0), 0);
        assert_eq!(data_index(4, 0.2499), 0);
        assert_eq!(data_index(4, 0.25), 1);
        assert_eq!(data_index(4, 0.99), 3);
        assert_eq!(data_index(3, 0.99999994), 2);
        assert_eq!(data_index(4, 1.5), 3, "clamped");
        assert_eq!(data_index(4, -0.5), 0, "saturating cast");
        assert_eq!(data_index(4, f32::NAN), 0);
    }

    #[test]
    fn sums_start_from_the_first_term() {
        let z = [-0.0f64; 4];
        assert_eq!(unsafe { sum(z.as_ptr(), 4) }.to_bits(), (-0.0f64).to_bits());
        let a = [-0.0f64, -0.0];
        let b = [1.0f64, 1.0];
        assert_eq!(
            unsafe { dot(Fixed::<2>, a.as_ptr(), b.as_ptr()) }.to_bits(),
            (-0.0f64).to_bits()
        );
        // Index order decides rounding: 1e16 + 1 + 1 differs from 1 + 1 + 1e16.
        let v = [1e16, 1.0, 1.0];
        assert_eq!(unsafe { sum(v.as_ptr(), 3) }, 1e16);
    }

    #[test]
    fn aliased_products_read_inputs_first() {
        let d = Fixed::<2>;
        let m = [1.0, 2.0, 3.0, 4.0];
        let mut v = [1.0, 1.0];
        let mut scratch = [0.0; 4];
        let vp = v.as_mut_ptr();
        unsafe { matrix_vector_product(d, vp, m.as_ptr(), vp, scratch.as_mut_ptr()) };
        assert_eq!(v, [3.0, 7.0]);
        let mut a = [1.0, 2.0, 3.0, 4.0];
        let ap = a.as_mut_ptr();
        unsafe { matmul(d, ap, ap, ap, scratch.as_mut_ptr()) };
        assert_eq!(a, [7.0, 10.0, 15.0, 22.0]);
        let mut t = [1.0, 2.0, 3.0, 4.0];
        let tp = t.as_mut_ptr();
        unsafe { transpose(d, tp, tp) };
        assert_eq!(t, [1.0, 3.0, 2.0, 4.0]);
    }

    #[test]
    fn statistics_follow_their_formulas() {
        let d = Fixed::<4>;
        let v = [1.0, 2.0, 3.0, 4.0];
        unsafe {
            assert_eq!(vector_mean(d, v.as_ptr()), 2.5);
            assert_eq!(vector_st_dev(d, v.as_ptr()), (30.0f64 / 4.0 - 6.25).sqrt());
            assert_eq!(vector_norm(d, v.as_ptr()), 30.0f64.sqrt());
        }
        let m = [1.0, 2.0, 3.0, 4.0];
        let d2 = Fixed::<2>;
        let mut o = [0.0; 2];
        unsafe {
            matrix_column_norm(d2, o.as_mut_ptr(), m.as_ptr());
            assert_eq!(o, [10.0f64.sqrt(), 20.0f64.sqrt()]);
            matrix_row_norm(d2, o.as_mut_ptr(), m.as_ptr());
            assert_eq!(o, [5.0f64.sqrt(), 25.0f64.sqrt()]);
            matrix_row_mean(d2, o.as_mut_ptr(), m.as_ptr());
            assert_eq!(o, [1.5, 3.5]);
            matrix_row_st_dev(d2, o.as_mut_ptr(), m.as_ptr());
            assert_eq!(o, [(2.5f64 - 2.25).sqrt(), (12.5f64 - 12.25).sqrt()]);
            assert_eq!(matrix_mean(d2, m.as_ptr()), 2.5);
            assert_eq!(matrix_st_dev(d2, m.as_ptr()), (7.5f64 - 6.25).sqrt());
            assert_eq!(matrix_norm(d2, m.as_ptr()), 30.0f64.sqrt());
        }
    }
}
