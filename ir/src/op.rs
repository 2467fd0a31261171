//! The op table: the one place that says, for each of the 65 ops, its number, name, operand banks,
//! data fields and readable form.
//!
//! Generation, mutation, printing, parsing and liveness all read this table; only the two executors
//! (the interpreter's kernel and the JIT's lowering) `match` on the op itself.

use std::fmt;

/// A memory bank: where an operand lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bank {
    /// `s0..s{S-1}`: one `f64` each.
    Scalar,
    /// `v0..v{V-1}`: `F` `f64` each.
    Vector,
    /// `m0..m{M-1}`: `F×F` `f64` each, row-major.
    Matrix,
}

impl Bank {
    /// The letter that prefixes an address of this bank in the readable format (`s`, `v`, `m`).
    pub const fn letter(self) -> char {
        match self {
            Bank::Scalar => 's',
            Bank::Vector => 'v',
            Bank::Matrix => 'm',
        }
    }

    /// The bank an address letter names, if any.
    pub const fn from_letter(c: char) -> Option<Bank> {
        match c {
            's' => Some(Bank::Scalar),
            'v' => Some(Bank::Vector),
            'm' => Some(Bank::Matrix),
            _ => None,
        }
    }

    /// The lowest address an op may write in this bank: `s0` (the label) and `v0` (the features)
    /// are never outputs; any matrix may be.
    pub const fn min_output(self) -> usize {
        match self {
            Bank::Scalar | Bank::Vector => 1,
            Bank::Matrix => 0,
        }
    }

    /// All three banks, in memory-layout order.
    pub const ALL: [Bank; 3] = [Bank::Scalar, Bank::Vector, Bank::Matrix];
}

/// Which data fields an op uses, and what they mean. Decides random initial data and how
/// ALTER_PARAM changes data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// No data.
    None,
    /// `activation` is the constant (SCALAR_CONST_SET).
    Constant,
    /// `data[0]` is an index in `[0,1)`, `data[1]` the value (VECTOR_CONST_SET).
    VectorConstant,
    /// `data[0]`, `data[1]` are indices in `[0,1)`, `data[2]` the value (MATRIX_CONST_SET).
    MatrixConstant,
    /// `data[0]` is the low end, `data[1]` the high end of a uniform draw.
    Uniform,
    /// `data[0]` is the mean, `data[1]` the standard deviation of a Gaussian draw.
    Gaussian,
}

impl DataKind {
    /// Whether this op sets data rather than computing from inputs (ops 56–64).
    pub const fn is_data_setting(self) -> bool {
        !matches!(self, DataKind::None)
    }

    /// Whether executing the op consumes the evaluation's random stream.
    pub const fn is_random(self) -> bool {
        matches!(self, DataKind::Uniform | DataKind::Gaussian)
    }
}

/// One row of the op table.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// The op this row describes.
    pub op: Op,
    /// The original's name without its `_OP` suffix, e.g. `SCALAR_SUM`; used in configs.
    pub name: &'static str,
    /// Bank of the output, `None` only for NO_OP.
    pub out: Option<Bank>,
    /// Bank of the first input, if the op reads one.
    pub in1: Option<Bank>,
    /// Bank of the second input, if the op reads one.
    pub in2: Option<Bank>,
    /// The data fields the op uses.
    pub data: DataKind,
    /// The readable form: `{O}`, `{A}`, `{B}` stand for the out, in1 and in2 addresses, `{c}` for the
    /// activation and `{d0}`, `{d1}`, `{d2}` for the float data. Printing fills it in; parsing
    /// matches a line against it (white space ignored).
    pub form: &'static str,
}

macro_rules! op_table {
    ($( $num:literal $variant:ident $name:literal $out:tt $in1:tt $in2:tt $data:ident $form:literal ;)*) => {
        /// An op of the instruction set. The discriminant is the op's number in the saved format
        /// and never changes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Op {
            $(
                #[doc = concat!("`", $form, "`")]
                $variant = $num,
            )*
        }

        /// The op table, indexed by op number.
        pub const OP_TABLE: [OpInfo; NUM_OPS] = [
            $(
                OpInfo {
                    op: Op::$variant,
                    name: $name,
                    out: op_table!(@bank $out),
                    in1: op_table!(@bank $in1),
                    in2: op_table!(@bank $in2),
                    data: DataKind::$data,
                    form: $form,
                },
            )*
        ];

        /// Every op, in number order.
        pub const ALL_OPS: [Op; NUM_OPS] = [$(Op::$variant,)*];
    };
    (@bank s) => { Some(Bank::Scalar) };
    (@bank v) => { Some(Bank::Vector) };
    (@bank m) => { Some(Bank::Matrix) };
    (@bank _) => { None };
}

/// How many ops the instruction set has.
pub const NUM_OPS: usize = 65;

op_table! {
    0 NoOp "NO_OP" _ _ _ None "NoOp()";
    1 ScalarSum "SCALAR_SUM" s s s None "{O} = {A} + {B}";
    2 ScalarDiff "SCALAR_DIFF" s s s None "{O} = {A} - {B}";
    3 ScalarProduct "SCALAR_PRODUCT" s s s None "{O} = {A} * {B}";
    4 ScalarDivision "SCALAR_DIVISION" s s s None "{O} = {A} / {B}";
    5 ScalarAbs "SCALAR_ABS" s s _ None "{O} = abs({A})";
    6 ScalarReciprocal "SCALAR_RECIPROCAL" s s _ None "{O} = 1 / {A}";
    7 ScalarSin "SCALAR_SIN" s s _ None "{O} = sin({A})";
    8 ScalarCos "SCALAR_COS" s s _ None "{O} = cos({A})";
    9 ScalarTan "SCALAR_TAN" s s _ None "{O} = tan({A})";
    10 ScalarArcSin "SCALAR_ARCSIN" s s _ None "{O} = arcsin({A})";
    11 ScalarArcCos "SCALAR_ARCCOS" s s _ None "{O} = arccos({A})";
    12 ScalarArcTan "SCALAR_ARCTAN" s s _ None "{O} = arctan({A})";
    13 ScalarExp "SCALAR_EXP" s s _ None "{O} = exp({A})";
    14 ScalarLog "SCALAR_LOG" s s _ None "{O} = log({A})";
    15 ScalarHeaviside "SCALAR_HEAVISIDE" s s _ None "{O} = heaviside({A}, 1.0)";
    16 VectorHeaviside "VECTOR_HEAVISIDE" v v _ None "{O} = heaviside({A}, 1.0)";
    17 MatrixHeaviside "MATRIX_HEAVISIDE" m m _ None "{O} = heaviside({A}, 1.0)";
    18 ScalarVectorProduct "SCALAR_VECTOR_PRODUCT" v s v None "{O} = {A} * {B}";
    19 ScalarBroadcast "SCALAR_BROADCAST" v s _ None "{O} = bcast({A})";
    20 VectorReciprocal "VECTOR_RECIPROCAL" v v _ None "{O} = 1 / {A}";
    21 VectorNorm "VECTOR_NORM" s v _ None "{O} = norm({A})";
    22 VectorAbs "VECTOR_ABS" v v _ None "{O} = abs({A})";
    23 VectorSum "VECTOR_SUM" v v v None "{O} = {A} + {B}";
    24 VectorDiff "VECTOR_DIFF" v v v None "{O} = {A} - {B}";
    25 VectorProduct "VECTOR_PRODUCT" v v v None "{O} = {A} * {B}";
    26 VectorDivision "VECTOR_DIVISION" v v v None "{O} = {A} / {B}";
    27 VectorInnerProduct "VECTOR_INNER_PRODUCT" s v v None "{O} = dot({A}, {B})";
    28 VectorOuterProduct "VECTOR_OUTER_PRODUCT" m v v None "{O} = outer({A}, {B})";
    29 ScalarMatrixProduct "SCALAR_MATRIX_PRODUCT" m s m None "{O} = {A} * {B}";
    30 MatrixReciprocal "MATRIX_RECIPROCAL" m m _ None "{O} = 1 / {A}";
    31 MatrixVectorProduct "MATRIX_VECTOR_PRODUCT" v m v None "{O} = dot({A}, {B})";
    32 VectorColumnBroadcast "VECTOR_COLUMN_BROADCAST" m v _ None "{O} = bcast({A}, axis=0)";
    33 VectorRowBroadcast "VECTOR_ROW_BROADCAST" m v _ None "{O} = bcast({A}, axis=1)";
    34 MatrixNorm "MATRIX_NORM" s m _ None "{O} = norm({A})";
    35 MatrixColumnNorm "MATRIX_COLUMN_NORM" v m _ None "{O} = norm({A}, axis=0)";
    36 MatrixRowNorm "MATRIX_ROW_NORM" v m _ None "{O} = norm({A}, axis=1)";
    37 MatrixTranspose "MATRIX_TRANSPOSE" m m _ None "{O} = transpose({A})";
    38 MatrixAbs "MATRIX_ABS" m m _ None "{O} = abs({A})";
    39 MatrixSum "MATRIX_SUM" m m m None "{O} = {A} + {B}";
    40 MatrixDiff "MATRIX_DIFF" m m m None "{O} = {A} - {B}";
    41 MatrixProduct "MATRIX_PRODUCT" m m m None "{O} = {A} * {B}";
    42 MatrixDivision "MATRIX_DIVISION" m m m None "{O} = {A} / {B}";
    43 MatrixMatrixProduct "MATRIX_MATRIX_PRODUCT" m m m None "{O} = matmul({A}, {B})";
    44 ScalarMin "SCALAR_MIN" s s s None "{O} = minimum({A}, {B})";
    45 VectorMin "VECTOR_MIN" v v v None "{O} = minimum({A}, {B})";
    46 MatrixMin "MATRIX_MIN" m m m None "{O} = minimum({A}, {B})";
    47 ScalarMax "SCALAR_MAX" s s s None "{O} = maximum({A}, {B})";
    48 VectorMax "VECTOR_MAX" v v v None "{O} = maximum({A}, {B})";
    49 MatrixMax "MATRIX_MAX" m m m None "{O} = maximum({A}, {B})";
    50 VectorMean "VECTOR_MEAN" s v _ None "{O} = mean({A})";
    51 MatrixMean "MATRIX_MEAN" s m _ None "{O} = mean({A})";
    52 MatrixRowMean "MATRIX_ROW_MEAN" v m _ None "{O} = mean({A}, axis=1)";
    53 MatrixRowStDev "MATRIX_ROW_ST_DEV" v m _ None "{O} = std({A}, axis=1)";
    54 VectorStDev "VECTOR_ST_DEV" s v _ None "{O} = std({A})";
    55 MatrixStDev "MATRIX_ST_DEV" s m _ None "{O} = std({A})";
    56 ScalarConstSet "SCALAR_CONST_SET" s _ _ Constant "{O} = {c}";
    57 VectorConstSet "VECTOR_CONST_SET" v _ _ VectorConstant "{O}[{d0}] = {d1}";
    58 MatrixConstSet "MATRIX_CONST_SET" m _ _ MatrixConstant "{O}[{d0}, {d1}] = {d2}";
    59 ScalarUniformSet "SCALAR_UNIFORM_SET" s _ _ Uniform "{O} = uniform({d0}, {d1})";
    60 VectorUniformSet "VECTOR_UNIFORM_SET" v _ _ Uniform "{O} = uniform({d0}, {d1}, n_features)";
    61 MatrixUniformSet "MATRIX_UNIFORM_SET" m _ _ Uniform "{O} = uniform({d0}, {d1}, (n_features, n_features))";
    62 ScalarGaussianSet "SCALAR_GAUSSIAN_SET" s _ _ Gaussian "{O} = gaussian({d0}, {d1})";
    63 VectorGaussianSet "VECTOR_GAUSSIAN_SET" v _ _ Gaussian "{O} = gaussian({d0}, {d1}, n_features)";
    64 MatrixGaussianSet "MATRIX_GAUSSIAN_SET" m _ _ Gaussian "{O} = gaussian({d0}, {d1}, (n_features, n_features))";
}

impl Op {
    /// This op's row of the table.
    #[inline]
    pub fn info(self) -> &'static OpInfo {
        &OP_TABLE[self as usize]
    }

    /// The op with this number, if there is one.
    pub fn from_number(n: u32) -> Option<Op> {
        ALL_OPS.get(n as usize).copied()
    }

    /// The op's number in the saved format.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The op named `name` (`SCALAR_SUM`; the original's `SCALAR_SUM_OP` spelling is accepted too,
    /// and case is ignored).
    pub fn from_name(name: &str) -> Option<Op> {
        let upper = name.trim().to_ascii_uppercase();
        let bare = upper.strip_suffix("_OP").unwrap_or(&upper);
        // `NO_OP` is a name of its own, not `NO` with the suffix.
        OP_TABLE
            .iter()
            .find(|i| i.name == upper || i.name == bare)
            .map(|i| i.op)
    }

    /// The op's name, e.g. `SCALAR_SUM`.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// How many inputs the op reads (0, 1 or 2).
    pub fn num_inputs(self) -> usize {
        let i = self.info();
        i.in1.is_some() as usize + i.in2.is_some() as usize
    }

    /// Whether executing this op draws from the evaluation's random stream.
    pub fn is_random(self) -> bool {
        self.info().data.is_random()
    }

    /// Whether the op reads or writes a matrix (so it needs M ≥ 1).
    pub fn uses_matrices(self) -> bool {
        let i = self.info();
        [i.out, i.in1, i.in2].contains(&Some(Bank::Matrix))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_in_number_order() {
        for (n, info) in OP_TABLE.iter().enumerate() {
            assert_eq!(info.op as usize, n, "row {n} holds {}", info.name);
            assert_eq!(Op::from_number(n as u32), Some(info.op));
        }
        assert_eq!(Op::from_number(65), None);
    }

    #[test]
    fn operand_kinds_follow_the_semantics() {
        // SEMANTICS.md §2 "Which fields each op uses".
        for op in ALL_OPS {
            let n = op as u8;
            let expected_inputs = match n {
                0 | 56..=64 => 0,
                5..=17 | 19..=22 | 30 | 32..=38 | 50..=55 => 1,
                _ => 2,
            };
            assert_eq!(op.num_inputs(), expected_inputs, "{op}");
            assert_eq!(
                op.info().data.is_data_setting(),
                (56..=64).contains(&n),
                "{op}"
            );
            assert_eq!(op.is_random(), (59..=64).contains(&n), "{op}");
        }
    }

    #[test]
    fn names_resolve_with_or_without_suffix() {
        assert_eq!(Op::from_name("SCALAR_SUM"), Some(Op::ScalarSum));
        assert_eq!(
            Op::from_name("vector_inner_product_op"),
            Some(Op::VectorInnerProduct)
        );
        assert_eq!(Op::from_name("SCALAR_SUMM"), None);
        assert_eq!(Op::from_name("NO_OP"), Some(Op::NoOp));
        assert_eq!(Op::from_name("NO_OP_OP"), Some(Op::NoOp));
    }
}
