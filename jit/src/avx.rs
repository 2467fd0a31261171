//! AVX versions of the matrix helpers whose arithmetic can be spread over 4-wide vectors without
//! changing a single rounding: element-wise ops, the outer product, and the matrix products
//! (vectorised across independent outputs, each output's sum still taken from its first term in
//! index order, no fused multiply-add). Used when the CPU has AVX and F is a multiple of 4.
//!
//! Bit-exactness rests on three facts: every lane of `vaddpd`/`vsubpd`/`vmulpd`/`vdivpd` is the
//! IEEE operation the scalar code performs; min/max/heaviside are compare+blend with the very
//! comparison of `amlz_ir::kernels`; and no sum is reassociated.
//!
//! # Safety
//! Every function requires AVX (callers check `is_x86_feature_detected!("avx")`) and pointers
//! valid for F² (matrices) or F (vectors) `f64`, where `N` = F. Outputs may alias inputs exactly
//! (the same matrix), as the scalar kernels allow.

#![allow(clippy::missing_safety_doc)]

use std::arch::x86_64::*;

/// `o[i] = f(a[i], b[i])` over `N*N` elements, 4 at a time.
#[inline(always)]
unsafe fn zip<const N: usize>(
    o: *mut f64,
    a: *const f64,
    b: *const f64,
    f: impl Fn(__m256d, __m256d) -> __m256d,
) {
    unsafe {
        let mut i = 0;
        while i < N * N {
            let x = _mm256_loadu_pd(a.add(i));
            let y = _mm256_loadu_pd(b.add(i));
            _mm256_storeu_pd(o.add(i), f(x, y));
            i += 4;
        }
    }
}

/// `o[i] = f(a[i])` over `N*N` elements, 4 at a time.
#[inline(always)]
unsafe fn map<const N: usize>(o: *mut f64, a: *const f64, f: impl Fn(__m256d) -> __m256d) {
    unsafe {
        let mut i = 0;
        while i < N * N {
            let x = _mm256_loadu_pd(a.add(i));
            _mm256_storeu_pd(o.add(i), f(x));
            i += 4;
        }
    }
}

macro_rules! zip_helper {
    ($name:ident, |$x:ident, $y:ident| $body:expr) => {
        #[target_feature(enable = "avx")]
        pub(crate) unsafe extern "C" fn $name<const N: usize>(
            _n: u64,
            o: *mut f64,
            a: *const f64,
            b: *const f64,
        ) {
            unsafe { zip::<N>(o, a, b, |$x, $y| $body) }
        }
    };
}

zip_helper!(mat_sum, |x, y| _mm256_add_pd(x, y));
zip_helper!(mat_diff, |x, y| _mm256_sub_pd(x, y));
zip_helper!(mat_product, |x, y| _mm256_mul_pd(x, y));
zip_helper!(mat_division, |x, y| _mm256_div_pd(x, y));
// MATRIX_MIN: if a < b { a } else { b }.
zip_helper!(mat_min, |x, y| _mm256_blendv_pd(
    y,
    x,
    _mm256_cmp_pd::<_CMP_LT_OQ>(x, y)
));
// MATRIX_MAX: if a > b { a } else { b }.
zip_helper!(mat_max, |x, y| _mm256_blendv_pd(
    y,
    x,
    _mm256_cmp_pd::<_CMP_GT_OQ>(x, y)
));

/// MATRIX_HEAVISIDE: 1.0 if `x > 0` else 0.0.
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn mat_heaviside<const N: usize>(_n: u64, o: *mut f64, a: *const f64) {
    unsafe {
        let one = _mm256_set1_pd(1.0);
        let zero = _mm256_setzero_pd();
        map::<N>(o, a, |x| {
            _mm256_and_pd(_mm256_cmp_pd::<_CMP_GT_OQ>(x, zero), one)
        })
    }
}

/// MATRIX_RECIPROCAL: `1 / x`.
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn mat_reciprocal<const N: usize>(
    _n: u64,
    o: *mut f64,
    a: *const f64,
) {
    unsafe {
        let one = _mm256_set1_pd(1.0);
        map::<N>(o, a, |x| _mm256_div_pd(one, x))
    }
}

/// MATRIX_ABS: the sign bit cleared, as `f64::abs`.
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn mat_abs<const N: usize>(_n: u64, o: *mut f64, a: *const f64) {
    unsafe {
        let sign = _mm256_set1_pd(-0.0);
        map::<N>(o, a, |x| _mm256_andnot_pd(sign, x))
    }
}

/// SCALAR_MATRIX_PRODUCT: `o = s * b`.
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn scalar_matrix_product<const N: usize>(
    _n: u64,
    o: *mut f64,
    s: f64,
    b: *const f64,
) {
    unsafe {
        let sv = _mm256_set1_pd(s);
        map::<N>(o, b, |x| _mm256_mul_pd(sv, x))
    }
}

/// VECTOR_OUTER_PRODUCT: `o[i][j] = a[i] * b[j]`.
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn outer_product<const N: usize>(
    _n: u64,
    o: *mut f64,
    a: *const f64,
    b: *const f64,
) {
    unsafe {
        for i in 0..N {
            let x = _mm256_set1_pd(*a.add(i));
            let mut j = 0;
            while j < N {
                _mm256_storeu_pd(
                    o.add(i * N + j),
                    _mm256_mul_pd(x, _mm256_loadu_pd(b.add(j))),
                );
                j += 4;
            }
        }
    }
}

/// The columns `j..j+4` of rows `i..i+4` of `m`, transposed: element `r` of result `c` is
/// `m[i + r][j + c]`.
#[inline(always)]
unsafe fn block_columns<const N: usize>(m: *const f64, i: usize, j: usize) -> [__m256d; 4] {
    unsafe {
        let r0 = _mm256_loadu_pd(m.add(i * N + j));
        let r1 = _mm256_loadu_pd(m.add((i + 1) * N + j));
        let r2 = _mm256_loadu_pd(m.add((i + 2) * N + j));
        let r3 = _mm256_loadu_pd(m.add((i + 3) * N + j));
        let t0 = _mm256_unpacklo_pd(r0, r1); // r0[0] r1[0] r0[2] r1[2]
        let t1 = _mm256_unpackhi_pd(r0, r1); // r0[1] r1[1] r0[3] r1[3]
        let t2 = _mm256_unpacklo_pd(r2, r3);
        let t3 = _mm256_unpackhi_pd(r2, r3);
        [
            _mm256_permute2f128_pd::<0x20>(t0, t2),
            _mm256_permute2f128_pd::<0x20>(t1, t3),
            _mm256_permute2f128_pd::<0x31>(t0, t2),
            _mm256_permute2f128_pd::<0x31>(t1, t3),
        ]
    }
}

/// MATRIX_VECTOR_PRODUCT: `o[i] = sum_j m[i][j] * v[j]`, four rows at a time, each row's sum
/// from `j = 0` up. `o` may alias `v` (all outputs are computed before any is stored).
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn matrix_vector_product<const N: usize>(
    _n: u64,
    o: *mut f64,
    m: *const f64,
    v: *const f64,
    scratch: *mut f64,
) {
    unsafe {
        for i in (0..N).step_by(4) {
            let cols = block_columns::<N>(m, i, 0);
            let mut acc = _mm256_mul_pd(cols[0], _mm256_set1_pd(*v));
            for (c, col) in cols.iter().enumerate().skip(1) {
                acc = _mm256_add_pd(acc, _mm256_mul_pd(*col, _mm256_set1_pd(*v.add(c))));
            }
            let mut j = 4;
            while j < N {
                let cols = block_columns::<N>(m, i, j);
                for (c, col) in cols.iter().enumerate() {
                    acc = _mm256_add_pd(acc, _mm256_mul_pd(*col, _mm256_set1_pd(*v.add(j + c))));
                }
                j += 4;
            }
            _mm256_storeu_pd(scratch.add(i), acc);
        }
        std::ptr::copy_nonoverlapping(scratch, o, N);
    }
}

/// MATRIX_MATRIX_PRODUCT: `o[i][j] = sum_k a[i][k] * b[k][j]`, four columns at a time, each sum
/// from `k = 0` up. `o` may alias `a` or `b` (the result goes through `scratch`).
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn matmul<const N: usize>(
    _n: u64,
    o: *mut f64,
    a: *const f64,
    b: *const f64,
    scratch: *mut f64,
) {
    unsafe {
        for i in 0..N {
            let mut j = 0;
            while j < N {
                let mut acc =
                    _mm256_mul_pd(_mm256_set1_pd(*a.add(i * N)), _mm256_loadu_pd(b.add(j)));
                for k in 1..N {
                    let x = _mm256_set1_pd(*a.add(i * N + k));
                    acc = _mm256_add_pd(acc, _mm256_mul_pd(x, _mm256_loadu_pd(b.add(k * N + j))));
                }
                _mm256_storeu_pd(scratch.add(i * N + j), acc);
                j += 4;
            }
        }
        std::ptr::copy_nonoverlapping(scratch, o, N * N);
    }
}

/// MATRIX_COLUMN_NORM: `o[j] = sqrt(sum_i m[i][j]^2)`, four columns at a time, each sum from
/// row 0 down.
#[target_feature(enable = "avx")]
pub(crate) unsafe extern "C" fn matrix_column_norm<const N: usize>(
    _n: u64,
    o: *mut f64,
    m: *const f64,
) {
    unsafe {
        let mut j = 0;
        while j < N {
            let x = _mm256_loadu_pd(m.add(j));
            let mut acc = _mm256_mul_pd(x, x);
            for i in 1..N {
                let x = _mm256_loadu_pd(m.add(i * N + j));
                acc = _mm256_add_pd(acc, _mm256_mul_pd(x, x));
            }
            _mm256_storeu_pd(o.add(j), _mm256_sqrt_pd(acc));
            j += 4;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::kernels::{self as k, Fixed};

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut r = amlz_ir::Rng::new(seed);
        (0..n)
            .map(|_| match r.below(12) {
                0 => f64::NAN,
                1 => -0.0,
                2 => 0.0,
                3 => f64::INFINITY,
                4 => 1e300,
                _ => r.gaussian(0.0, 1.0),
            })
            .collect()
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    fn check<const N: usize>() {
        let a = data(N * N, 1);
        let b = data(N * N, 2);
        let v = data(N, 3);
        let w = data(N, 4);
        let mut scratch = vec![0.0; N * N];
        let run_zip = |f: unsafe extern "C" fn(u64, *mut f64, *const f64, *const f64),
                       g: fn(f64, f64) -> f64| {
            let mut o = vec![0.0; N * N];
            unsafe { f(N as u64, o.as_mut_ptr(), a.as_ptr(), b.as_ptr()) };
            let e: Vec<f64> = a.iter().zip(&b).map(|(x, y)| g(*x, *y)).collect();
            assert!(same(&o, &e));
        };
        run_zip(mat_sum::<N>, |x, y| x + y);
        run_zip(mat_diff::<N>, |x, y| x - y);
        run_zip(mat_product::<N>, |x, y| x * y);
        run_zip(mat_division::<N>, |x, y| x / y);
        run_zip(mat_min::<N>, k::min_m);
        run_zip(mat_max::<N>, k::max_m);
        let run_map = |f: unsafe extern "C" fn(u64, *mut f64, *const f64), g: fn(f64) -> f64| {
            let mut o = vec![0.0; N * N];
            unsafe { f(N as u64, o.as_mut_ptr(), a.as_ptr()) };
            let e: Vec<f64> = a.iter().map(|x| g(*x)).collect();
            assert!(
                o.iter()
                    .zip(&e)
                    .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
            );
        };
        run_map(mat_heaviside::<N>, k::heaviside_vm);
        run_map(mat_reciprocal::<N>, |x| 1.0 / x);
        run_map(mat_abs::<N>, f64::abs);
        unsafe {
            let d = Fixed::<N>;
            let mut o = vec![0.0; N * N];
            let mut e = vec![0.0; N * N];
            scalar_matrix_product::<N>(N as u64, o.as_mut_ptr(), -1.5, b.as_ptr());
            assert!(same(&o, &b.iter().map(|x| -1.5 * x).collect::<Vec<_>>()));
            outer_product::<N>(N as u64, o.as_mut_ptr(), v.as_ptr(), w.as_ptr());
            k::outer_product(d, e.as_mut_ptr(), v.as_ptr(), w.as_ptr());
            assert!(same(&o, &e));
            let mut ov = vec![0.0; N];
            let mut ev = vec![0.0; N];
            matrix_vector_product::<N>(
                N as u64,
                ov.as_mut_ptr(),
                a.as_ptr(),
                v.as_ptr(),
                scratch.as_mut_ptr(),
            );
            k::matrix_vector_product(
                d,
                ev.as_mut_ptr(),
                a.as_ptr(),
                v.as_ptr(),
                scratch.as_mut_ptr(),
            );
            assert!(same(&ov, &ev));
            // Aliased: o == v.
            let mut vv = v.clone();
            let p = vv.as_mut_ptr();
            matrix_vector_product::<N>(N as u64, p, a.as_ptr(), p, scratch.as_mut_ptr());
            assert!(same(&vv, &ev));
            matmul::<N>(
                N as u64,
                o.as_mut_ptr(),
                a.as_ptr(),
                b.as_ptr(),
                scratch.as_mut_ptr(),
            );
            k::matmul(
                d,
                e.as_mut_ptr(),
                a.as_ptr(),
                b.as_ptr(),
                scratch.as_mut_ptr(),
            );
            assert!(same(&o, &e));
            let mut aa = a.clone();
            let p = aa.as_mut_ptr();
            matmul::<N>(N as u64, p, p, b.as_ptr(), scratch.as_mut_ptr());
            assert!(same(&aa, &e));
            matrix_column_norm::<N>(N as u64, ov.as_mut_ptr(), a.as_ptr());
            k::matrix_column_norm(d, ev.as_mut_ptr(), a.as_ptr());
            assert!(same(&ov, &ev));
        }
    }

    #[test]
    fn avx_kernels_match_the_scalar_ones_bit_for_bit() {
        if !is_x86_feature_detected!("avx") {
            return;
        }
        check::<4>();
        check::<8>();
        check::<16>();
        check::<32>();
    }
}
