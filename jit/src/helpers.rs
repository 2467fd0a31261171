//! The Rust functions compiled code calls: libm, the evaluation's random stream, and the O(F²)
//! matrix kernels of `amlz_ir::kernels`.
//!
//! Every helper is an `extern "C"` function; compiled code imports it as an external function
//! named by [`name_index`], which a code generation's module resolves to the helper's address
//! through its symbol table ([`symbols`], see `crate::module`). The matrix kernels exist in
//! one variant per common feature size (2, 4, 8, 16, 32: loops fully specialised, as in the
//! interpreter) plus a dynamic one; all variants share one signature whose first argument is F.
//!
//! The arithmetic is the interpreter's: the same `kernels` functions, or for element-wise matrix
//! ops the same one-IEEE-operation-per-element loops, so both executors round identically.

use amlz_ir::Rng;
use amlz_ir::kernels::{self as k, Dim, Dynamic, Fixed};
use cranelift_codegen::ir::{AbiParam, Signature, Type, types};
use cranelift_codegen::isa::CallConv;

/// A feature size a helper variant is specialised for, made from the run-time F argument.
trait HelperDim: Dim {
    fn make(n: u64) -> Self;
}

impl<const N: usize> HelperDim for Fixed<N> {
    #[inline(always)]
    fn make(_: u64) -> Self {
        Fixed::<N>
    }
}

impl HelperDim for Dynamic {
    #[inline(always)]
    fn make(n: u64) -> Self {
        Dynamic(n as usize)
    }
}

/// Which variant of a matrix helper serves feature size F.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Variant {
    F2,
    F4,
    F8,
    F16,
    F32,
    Dyn,
}

impl Variant {
    pub(crate) const ALL: [Variant; 6] = [
        Variant::F2,
        Variant::F4,
        Variant::F8,
        Variant::F16,
        Variant::F32,
        Variant::Dyn,
    ];

    /// Position in [`Variant::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn for_features(f: usize) -> Variant {
        match f {
            2 => Variant::F2,
            4 => Variant::F4,
            8 => Variant::F8,
            16 => Variant::F16,
            32 => Variant::F32,
            _ => Variant::Dyn,
        }
    }
}

/// The shape of a helper's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `(x: f64) -> f64`.
    Unary,
    /// `(rng, a: f64, b: f64) -> f64`.
    Draw,
    /// `(rng, out, count: u64, a: f64, b: f64)`.
    Fill,
    /// `(n: u64, out, a)`.
    MapA,
    /// `(n: u64, out, a, b)`.
    MapAB,
    /// `(n: u64, out, s: f64, b)`.
    MapSB,
    /// `(n: u64, out, a, b, scratch)`.
    MapABScratch,
    /// `(n: u64, a) -> f64`.
    Reduce,
}

impl Shape {
    /// The Cranelift signature of this shape.
    pub(crate) fn signature(self, ptr: Type, call_conv: CallConv) -> Signature {
        use types::{F64, I64};
        let mut sig = Signature::new(call_conv);
        let (params, ret): (&[Type], Option<Type>) = match self {
            Shape::Unary => (&[F64], Some(F64)),
            Shape::Draw => (&[ptr, F64, F64], Some(F64)),
            Shape::Fill => (&[ptr, ptr, I64, F64, F64], None),
            Shape::MapA => (&[I64, ptr, ptr], None),
            Shape::MapAB => (&[I64, ptr, ptr, ptr], None),
            Shape::MapSB => (&[I64, ptr, F64, ptr], None),
            Shape::MapABScratch => (&[I64, ptr, ptr, ptr, ptr], None),
            Shape::Reduce => (&[I64, ptr], Some(F64)),
        };
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns.extend(ret.map(AbiParam::new));
        sig
    }
}

// ---------------------------------------------------------------------------------------------
// The helpers themselves.

unsafe extern "C" fn draw_uniform(rng: *mut Rng, lo: f64, hi: f64) -> f64 {
    unsafe { (*rng).uniform(lo, hi) }
}

unsafe extern "C" fn draw_gaussian(rng: *mut Rng, mean: f64, std: f64) -> f64 {
    unsafe { (*rng).gaussian(mean, std) }
}

unsafe extern "C" fn fill_uniform(rng: *mut Rng, o: *mut f64, count: u64, lo: f64, hi: f64) {
    unsafe {
        let rng = &mut *rng;
        for i in 0..count as usize {
            *o.add(i) = rng.uniform(lo, hi);
        }
    }
}

unsafe extern "C" fn fill_gaussian(rng: *mut Rng, o: *mut f64, count: u64, mean: f64, std: f64) {
    unsafe {
        let rng = &mut *rng;
        for i in 0..count as usize {
            *o.add(i) = rng.gaussian(mean, std);
        }
    }
}

#[inline(always)]
unsafe fn map<D: Dim>(d: D, o: *mut f64, a: *const f64, f: impl Fn(f64) -> f64) {
    let nn = d.n() * d.n();
    for i in 0..nn {
        unsafe { *o.add(i) = f(*a.add(i)) };
    }
}

#[inline(always)]
unsafe fn zip<D: Dim>(
    d: D,
    o: *mut f64,
    a: *const f64,
    b: *const f64,
    f: impl Fn(f64, f64) -> f64,
) {
    let nn = d.n() * d.n();
    for i in 0..nn {
        unsafe { *o.add(i) = f(*a.add(i), *b.add(i)) };
    }
}

unsafe extern "C" fn mat_heaviside<D: HelperDim>(n: u64, o: *mut f64, a: *const f64) {
    unsafe { map(D::make(n), o, a, k::heaviside_vm) }
}
unsafe extern "C" fn mat_reciprocal<D: HelperDim>(n: u64, o: *mut f64, a: *const f64) {
    unsafe { map(D::make(n), o, a, |x| 1.0 / x) }
}
unsafe extern "C" fn mat_abs<D: HelperDim>(n: u64, o: *mut f64, a: *const f64) {
    unsafe { map(D::make(n), o, a, f64::abs) }
}
unsafe extern "C" fn mat_sum<D: HelperDim>(n: u64, o: *mut f64, a: *const f64, b: *const f64) {
    unsafe { zip(D::make(n), o, a, b, |x, y| x + y) }
}
unsafe extern "C" fn mat_diff<D: HelperDim>(n: u64, o: *mut f64, a: *const f64, b: *const f64) {
    unsafe { zip(D::make(n), o, a, b, |x, y| x - y) }
}
unsafe extern "C" fn mat_product<D: HelperDim>(n: u64, o: *mut f64, a: *const f64, b: *const f64) {
    unsafe { zip(D::make(n), o, a, b, |x, y| x * y) }
}
unsafe extern "C" fn mat_division<D: HelperDim>(n: u64, o: *mut f64, a: *const f64, b: *const f64) {
    unsafe { zip(D::make(n), o, a, b, |x, y| x / y) }
}
unsafe extern "C" fn mat_min<D: HelperDim>(n: u64, o: *mut f64, a: *const f64, b: *const f64) {
    unsafe { zip(D::make(n), o, a, b, k::min_m) }
}
unsafe extern "C" fn mat_max<D: HelperDim>(n: u64, o: *mut f64, a: *const f64, b: *const f64) {
    unsafe { zip(D::make(n), o, a, b, k::max_m) }
}
unsafe extern "C" fn scalar_matrix_product<D: HelperDim>(
    n: u64,
    o: *mut f64,
    s: f64,
    b: *const f64,
) {
    unsafe { map(D::make(n), o, b, |x| s * x) }
}
unsafe extern "C" fn outer_product<D: HelperDim>(
    n: u64,
    o: *mut f64,
    a: *const f64,
    b: *const f64,
) {
    unsafe { k::outer_product(D::make(n), o, a, b) }
}
unsafe extern "C" fn matrix_vector_product<D: HelperDim>(
    n: u64,
    o: *mut f64,
    m: *const f64,
    v: *const f64,
    scratch: *mut f64,
) {
    unsafe { k::matrix_vector_product(D::make(n), o, m, v, scratch) }
}
unsafe extern "C" fn column_broadcast<D: HelperDim>(n: u64, o: *mut f64, a: *const f64) {
    unsafe { k::column_broadcast(D::make(n), o, a) }
}
unsafe extern "C" fn row_broadcast<D: HelperDim>(n: u64, o: *mut f64, a: *const f64) {
    unsafe { k::row_broadcast(D::make(n), o, a) }
}
unsafe extern "C" fn matrix_norm<D: HelperDim>(n: u64, a: *const f64) -> f64 {
    unsafe { k::matrix_norm(D::make(n), a) }
}
unsafe extern "C" fn matrix_mean<D: HelperDim>(n: u64, a: *const f64) -> f64 {
    unsafe { k::matrix_mean(D::make(n), a) }
}
unsafe extern "C" fn matrix_st_dev<D: HelperDim>(n: u64, a: *const f64) -> f64 {
    unsafe { k::matrix_st_dev(D::make(n), a) }
}
unsafe extern "C" fn matrix_column_norm<D: HelperDim>(n: u64, o: *mut f64, m: *const f64) {
    unsafe { k::matrix_column_norm(D::make(n), o, m) }
}
unsafe extern "C" fn matrix_row_norm<D: HelperDim>(n: u64, o: *mut f64, m: *const f64) {
    unsafe { k::matrix_row_norm(D::make(n), o, m) }
}
unsafe extern "C" fn matrix_row_mean<D: HelperDim>(n: u64, o: *mut f64, m: *const f64) {
    unsafe { k::matrix_row_mean(D::make(n), o, m) }
}
unsafe extern "C" fn matrix_row_st_dev<D: HelperDim>(n: u64, o: *mut f64, m: *const f64) {
    unsafe { k::matrix_row_st_dev(D::make(n), o, m) }
}
unsafe extern "C" fn transpose<D: HelperDim>(n: u64, o: *mut f64, a: *const f64) {
    unsafe { k::transpose(D::make(n), o, a) }
}
unsafe extern "C" fn matmul<D: HelperDim>(
    n: u64,
    o: *mut f64,
    a: *const f64,
    b: *const f64,
    scratch: *mut f64,
) {
    unsafe { k::matmul(D::make(n), o, a, b, scratch) }
}

// ---------------------------------------------------------------------------------------------
// The table.

macro_rules! helpers {
    (
        plain { $($pname:ident $pshape:ident $pfn:path,)* }
        sized { $($sname:ident $sshape:ident $sfn:ident,)* }
    ) => {
        /// A helper compiled code may call.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(clippy::enum_variant_names)]
        pub(crate) enum Helper {
            $($pname,)*
            $($sname,)*
        }

        impl Helper {
            /// Every helper.
            pub(crate) const ALL: &'static [Helper] = &[$(Helper::$pname,)* $(Helper::$sname,)*];

            /// How many helpers there are.
            pub(crate) const COUNT: usize = Helper::ALL.len();

            /// The helper's signature shape.
            pub(crate) fn shape(self) -> Shape {
                match self {
                    $(Helper::$pname => Shape::$pshape,)*
                    $(Helper::$sname => Shape::$sshape,)*
                }
            }

            /// Whether the helper has one variant per feature size.
            pub(crate) fn is_sized(self) -> bool {
                match self {
                    $(Helper::$pname => false,)*
                    $(Helper::$sname => true,)*
                }
            }

            /// The address of the variant `v` (ignored for plain helpers).
            fn address(self, v: Variant) -> *const u8 {
                match self {
                    $(Helper::$pname => $pfn as *const u8,)*
                    $(Helper::$sname => match v {
                        Variant::F2 => $sfn::<Fixed<2>> as *const u8,
                        Variant::F4 => $sfn::<Fixed<4>> as *const u8,
                        Variant::F8 => $sfn::<Fixed<8>> as *const u8,
                        Variant::F16 => $sfn::<Fixed<16>> as *const u8,
                        Variant::F32 => $sfn::<Fixed<32>> as *const u8,
                        Variant::Dyn => $sfn::<Dynamic> as *const u8,
                    },)*
                }
            }
        }
    };
}

helpers! {
    plain {
        Sin Unary k::sin,
        Cos Unary k::cos,
        Tan Unary k::tan,
        Asin Unary k::asin,
        Acos Unary k::acos,
        Atan Unary k::atan,
        Exp Unary k::exp,
        Ln Unary k::ln,
        DrawUniform Draw draw_uniform,
        DrawGaussian Draw draw_gaussian,
        FillUniform Fill fill_uniform,
        FillGaussian Fill fill_gaussian,
    }
    sized {
        MatHeaviside MapA mat_heaviside,
        MatReciprocal MapA mat_reciprocal,
        MatAbs MapA mat_abs,
        MatSum MapAB mat_sum,
        MatDiff MapAB mat_diff,
        MatProduct MapAB mat_product,
        MatDivision MapAB mat_division,
        MatMin MapAB mat_min,
        MatMax MapAB mat_max,
        ScalarMatrixProduct MapSB scalar_matrix_product,
        OuterProduct MapAB outer_product,
        MatrixVectorProduct MapABScratch matrix_vector_product,
        ColumnBroadcast MapA column_broadcast,
        RowBroadcast MapA row_broadcast,
        MatrixNorm Reduce matrix_norm,
        MatrixMean Reduce matrix_mean,
        MatrixStDev Reduce matrix_st_dev,
        MatrixColumnNorm MapA matrix_column_norm,
        MatrixRowNorm MapA matrix_row_norm,
        MatrixRowMean MapA matrix_row_mean,
        MatrixRowStDev MapA matrix_row_st_dev,
        Transpose MapA transpose,
        Matmul MapABScratch matmul,
    }
}

impl Helper {
    /// The variant of this helper that serves feature size `f` (plain helpers have one).
    pub(crate) fn variant_for(self, f: usize) -> Variant {
        if self.is_sized() {
            Variant::for_features(f)
        } else {
            Variant::Dyn
        }
    }

    /// Index of the helper in [`Helper::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The AVX version of a sized helper for variant `v`, when there is one and the CPU has AVX.
#[cfg(target_arch = "x86_64")]
fn avx_address(h: Helper, v: Variant) -> Option<*const u8> {
    use crate::avx;
    macro_rules! pick {
        ($f:ident) => {
            match v {
                Variant::F4 => avx::$f::<4> as *const u8,
                Variant::F8 => avx::$f::<8> as *const u8,
                Variant::F16 => avx::$f::<16> as *const u8,
                Variant::F32 => avx::$f::<32> as *const u8,
                Variant::F2 | Variant::Dyn => return None,
            }
        };
    }
    if !std::arch::is_x86_feature_detected!("avx") {
        return None;
    }
    Some(match h {
        Helper::MatHeaviside => pick!(mat_heaviside),
        Helper::MatReciprocal => pick!(mat_reciprocal),
        Helper::MatAbs => pick!(mat_abs),
        Helper::MatSum => pick!(mat_sum),
        Helper::MatDiff => pick!(mat_diff),
        Helper::MatProduct => pick!(mat_product),
        Helper::MatDivision => pick!(mat_division),
        Helper::MatMin => pick!(mat_min),
        Helper::MatMax => pick!(mat_max),
        Helper::ScalarMatrixProduct => pick!(scalar_matrix_product),
        Helper::OuterProduct => pick!(outer_product),
        Helper::MatrixVectorProduct => pick!(matrix_vector_product),
        Helper::Matmul => pick!(matmul),
        Helper::MatrixColumnNorm => pick!(matrix_column_norm),
        _ => return None,
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn avx_address(_: Helper, _: Variant) -> Option<*const u8> {
    None
}

/// The address compiled code calls for helper `h`'s variant `v`. Where the CPU has AVX and F is
/// a multiple of 4, the element-wise and product kernels are their AVX versions (same results
/// bit for bit, see [`crate::avx`]).
pub(crate) fn address(h: Helper, v: Variant) -> *const u8 {
    let v = if h.is_sized() { v } else { Variant::Dyn };
    avx_address(h, v).unwrap_or_else(|| h.address(v))
}

/// The external-name index under which compiled code imports helper `h`'s variant `v`.
pub(crate) fn name_index(h: Helper, v: Variant) -> u32 {
    (h.index() * Variant::ALL.len() + v.index()) as u32
}

/// How many external-name indices there are: one per helper and variant.
pub(crate) const NAME_COUNT: u32 = (Helper::COUNT * Variant::ALL.len()) as u32;

/// The helper and variant imported under external-name index `index`, if any.
fn by_index(index: u32) -> Option<(Helper, Variant)> {
    let index = index as usize;
    let h = *Helper::ALL.get(index / Variant::ALL.len())?;
    Some((h, Variant::ALL[index % Variant::ALL.len()]))
}

/// The address of the helper variant imported under external-name index `index`, if any.
#[cfg(test)]
pub(crate) fn by_name_index(index: u32) -> Option<*const u8> {
    by_index(index).map(|(h, v)| address(h, v))
}

/// The symbol name of external-name index `index`.
fn symbol_name(h: Helper, v: Variant) -> String {
    format!("amlz_jit_{h:?}_{v:?}")
}

/// The symbol name and signature shape of the helper under external-name index `index`
/// (`index < NAME_COUNT`; a larger index is named but resolves to no symbol).
pub(crate) fn declaration(index: u32) -> (String, Shape) {
    match by_index(index) {
        Some((h, v)) => (symbol_name(h, v), h.shape()),
        None => (format!("amlz_jit_unknown_{index}"), Shape::Unary),
    }
}

/// Every helper variant's symbol name and address, for a module's symbol table.
pub(crate) fn symbols() -> impl Iterator<Item = (String, *const u8)> {
    (0..NAME_COUNT).filter_map(|i| by_index(i).map(|(h, v)| (symbol_name(h, v), address(h, v))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_indices_are_distinct_and_resolve() {
        let mut seen = std::collections::HashSet::new();
        for (i, &h) in Helper::ALL.iter().enumerate() {
            assert_eq!(h.index(), i);
            for v in Variant::ALL {
                let n = name_index(h, v);
                assert!(seen.insert(n), "{h:?} {v:?} shares index {n}");
                assert_eq!(by_name_index(n), Some(address(h, v)));
                assert!(!address(h, v).is_null());
            }
        }
        assert_eq!(by_name_index(NAME_COUNT), None);
        let names: std::collections::HashSet<String> = symbols().map(|(n, _)| n).collect();
        assert_eq!(
            names.len(),
            NAME_COUNT as usize,
            "one distinct symbol per index"
        );
        for i in 0..NAME_COUNT {
            assert!(names.contains(&declaration(i).0));
        }
        // Sized helpers have distinct code per specialised size.
        let h = Helper::Matmul;
        assert_ne!(address(h, Variant::F4), address(h, Variant::F16));
    }
}
