//! `amlz show --python`: an algorithm as a self-contained Python module that needs only NumPy.
//!
//! The module defines `setup(s, v, m, rng)`, `predict(s, v, m, rng)` and `learn(s, v, m, rng)`
//! over the memory of SEMANTICS.md §1 (`s` of shape `(S,)`, `v` of `(V, F)`, `m` of `(M, F, F)`,
//! changed in place) and `evaluate(train_x, train_y, valid_x, valid_y, eval_type="rms_error",
//! seed=0, ...)`, which returns the fitness exactly as amlz computes it (§4): zeroed memory, Setup
//! once, the epochs with their early stop, the validations, the RMS and accuracy formulas. Every
//! op translates, following §2 to the last bit: reductions start from the first term and add in
//! index order (cumulative sums, not NumPy's pairwise `sum`), min/max/heaviside use the
//! contract's comparisons, index data are truncated in single precision, libm ops call the C
//! library through Python's `math`, and random ops draw from amlz's own generator (§5,
//! re-implemented in the module), so that programs with random ops agree too.
//!
//! Each statement is followed by the amlz instruction it comes from, as a comment.

use amlz_ir::{Algorithm, ComponentFunction, Instruction, Op, print_algorithm, print_instruction};
use std::fmt::Write as _;

/// The runtime every exported module carries: the random stream, libm wrappers, reductions and
/// `evaluate`.
const RUNTIME: &str = include_str!("runtime.py");

/// A Python literal for `x`, exact (Rust's shortest round-trip form, which Python reads back to
/// the same `f64`).
fn f64_literal(x: f64) -> String {
    if x.is_nan() {
        "math.nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "math.inf" } else { "-math.inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// A Python expression for the float datum `x` (an `f32`) as the `f64` the executors widen it
/// to. Where the datum's own shortest form (`0.1`) differs from its widened value
/// (`0.10000000149011612`), the module rounds it to single precision itself (`_f32(0.1)`), which
/// is exact whenever reading that form as an `f64` and rounding it to `f32` gives the datum back;
/// otherwise the widened value is written out.
fn f32_literal(x: f32) -> String {
    if !x.is_finite() {
        return f64_literal(f64::from(x));
    }
    let short = format!("{x:?}");
    let wide = f64_literal(f64::from(x));
    if short == wide {
        return short;
    }
    match short.parse::<f64>() {
        Ok(v) if (v as f32).to_bits() == x.to_bits() => format!("_f32({short})"),
        _ => wide,
    }
}

/// The Python statement of one instruction (without its comment).
fn statement(i: &Instruction) -> String {
    use Op::*;
    let (o, a, b) = (i.out, i.in1, i.in2);
    let d = |k: usize| f32_literal(i.data[k]);
    let sa = format!("s[{a}]");
    let sb = format!("s[{b}]");
    let va = format!("v[{a}]");
    let vb = format!("v[{b}]");
    let ma = format!("m[{a}]");
    let mb = format!("m[{b}]");
    match i.op {
        NoOp => "pass".into(),
        ScalarSum => format!("s[{o}] = {sa} + {sb}"),
        ScalarDiff => format!("s[{o}] = {sa} - {sb}"),
        ScalarProduct => format!("s[{o}] = {sa} * {sb}"),
        ScalarDivision => format!("s[{o}] = {sa} / {sb}"),
        ScalarAbs => format!("s[{o}] = abs({sa})"),
        ScalarReciprocal => format!("s[{o}] = 1.0 / {sa}"),
        ScalarSin => format!("s[{o}] = _sin({sa})"),
        ScalarCos => format!("s[{o}] = _cos({sa})"),
        ScalarTan => format!("s[{o}] = _tan({sa})"),
        ScalarArcSin => format!("s[{o}] = _asin({sa})"),
        ScalarArcCos => format!("s[{o}] = _acos({sa})"),
        ScalarArcTan => format!("s[{o}] = _atan({sa})"),
        ScalarExp => format!("s[{o}] = _exp({sa})"),
        ScalarLog => format!("s[{o}] = _log({sa})"),
        ScalarHeaviside => format!("s[{o}] = 1.0 if {sa} >= 0.0 else 0.0"),
        VectorHeaviside => format!("v[{o}] = np.where({va} > 0.0, 1.0, 0.0)"),
        MatrixHeaviside => format!("m[{o}] = np.where({ma} > 0.0, 1.0, 0.0)"),
        ScalarVectorProduct => format!("v[{o}] = {sa} * {vb}"),
        ScalarBroadcast => format!("v[{o}] = {sa}"),
        VectorReciprocal => format!("v[{o}] = 1.0 / {va}"),
        VectorNorm => format!("s[{o}] = np.sqrt(_dot({va}, {va}))"),
        VectorAbs => format!("v[{o}] = np.abs({va})"),
        VectorSum => format!("v[{o}] = {va} + {vb}"),
        VectorDiff => format!("v[{o}] = {va} - {vb}"),
        VectorProduct => format!("v[{o}] = {va} * {vb}"),
        VectorDivision => format!("v[{o}] = {va} / {vb}"),
        VectorInnerProduct => format!("s[{o}] = _dot({va}, {vb})"),
        VectorOuterProduct => format!("m[{o}] = np.multiply.outer({va}, {vb})"),
        ScalarMatrixProduct => format!("m[{o}] = {sa} * {mb}"),
        MatrixReciprocal => format!("m[{o}] = 1.0 / {ma}"),
        MatrixVectorProduct => format!("v[{o}] = _matvec({ma}, {vb})"),
        VectorColumnBroadcast => format!("m[{o}] = {va}[:, None]"),
        VectorRowBroadcast => format!("m[{o}] = {va}[None, :]"),
        MatrixNorm => format!("s[{o}] = np.sqrt(_sum(({ma} * {ma}).ravel()))"),
        MatrixColumnNorm => format!("v[{o}] = np.sqrt(np.cumsum({ma} * {ma}, axis=0)[-1])"),
        MatrixRowNorm => format!("v[{o}] = np.sqrt(_row_sums({ma} * {ma}))"),
        MatrixTranspose => format!("m[{o}] = {ma}.T.copy()"),
        MatrixAbs => format!("m[{o}] = np.abs({ma})"),
        MatrixSum => format!("m[{o}] = {ma} + {mb}"),
        MatrixDiff => format!("m[{o}] = {ma} - {mb}"),
        MatrixProduct => format!("m[{o}] = {ma} * {mb}"),
        MatrixDivision => format!("m[{o}] = {ma} / {mb}"),
        MatrixMatrixProduct => format!("m[{o}] = _matmul({ma}, {mb})"),
        ScalarMin => format!("s[{o}] = {sb} if {sb} < {sa} else {sa}"),
        VectorMin => format!("v[{o}] = np.where({vb} < {va}, {vb}, {va})"),
        MatrixMin => format!("m[{o}] = np.where({ma} < {mb}, {ma}, {mb})"),
        ScalarMax => format!("s[{o}] = {sb} if {sa} < {sb} else {sa}"),
        VectorMax => format!("v[{o}] = np.where({va} < {vb}, {vb}, {va})"),
        MatrixMax => format!("m[{o}] = np.where({ma} > {mb}, {ma}, {mb})"),
        VectorMean => format!("s[{o}] = _sum({va}) / F"),
        MatrixMean => format!("s[{o}] = _sum({ma}.ravel()) / (F * F)"),
        MatrixRowMean => format!("v[{o}] = _row_sums({ma}) / F"),
        MatrixRowStDev => format!("v[{o}] = _row_std({ma})"),
        VectorStDev => format!("s[{o}] = _std({va})"),
        MatrixStDev => format!("s[{o}] = _std({ma}.ravel())"),
        ScalarConstSet => format!("s[{o}] = {}", f64_literal(i.activation)),
        VectorConstSet => format!("v[{o}, _index(F, {})] = {}", d(0), d(1)),
        MatrixConstSet => format!(
            "m[{o}, _index(F, {}), _index(F, {})] = {}",
            d(0),
            d(1),
            d(2)
        ),
        ScalarUniformSet => format!("s[{o}] = rng.uniform({}, {})", d(0), d(1)),
        VectorUniformSet => format!("v[{o}] = rng.uniform_array({}, {}, F)", d(0), d(1)),
        MatrixUniformSet => format!(
            "m[{o}] = rng.uniform_array({}, {}, F * F).reshape(F, F)",
            d(0),
            d(1)
        ),
        ScalarGaussianSet => format!("s[{o}] = rng.gaussian({}, {})", d(0), d(1)),
        VectorGaussianSet => format!("v[{o}] = rng.gaussian_array({}, {}, F)", d(0), d(1)),
        MatrixGaussianSet => format!(
            "m[{o}] = rng.gaussian_array({}, {}, F * F).reshape(F, F)",
            d(0),
            d(1)
        ),
    }
}

/// What each component function's doc says it does.
fn function_doc(function: ComponentFunction) -> &'static str {
    match function {
        ComponentFunction::Setup => "Runs once per task, on zeroed memory.",
        ComponentFunction::Predict => {
            "Runs per example with the features in v[0] (and 0.0 in s[0]); leaves the prediction in s[1]."
        }
        ComponentFunction::Learn => {
            "Runs per train example after predict, with the features in v[0] and the label in s[0]."
        }
    }
}

/// `algorithm` as a Python module (see the module doc). The memory counts are the smallest that
/// hold every address the algorithm uses, which changes no result.
pub fn python_module(algorithm: &Algorithm) -> String {
    let counts = algorithm.min_counts();
    let mut out = String::new();
    out.push_str(
        "\"\"\"An amlz algorithm as a self-contained NumPy module (`amlz show --python`).\n\n",
    );
    out.push_str(
        "setup, predict and learn act on the memory in place: s holds S scalars, v V vectors of F\n\
         values and m M matrices of F x F (NumPy arrays of shapes (S,), (V, F), (M, F, F)); s[0] is\n\
         the label (0.0 during predict), s[1] the prediction and v[0] the features. rng is the\n\
         evaluation's random stream. evaluate(train_x, train_y, valid_x, valid_y, eval_type, seed)\n\
         returns the fitness of the algorithm on one task exactly as amlz computes it (amlz's\n\
         docs/SEMANTICS.md, section 4). Run as a script: python3 THIS.py TRAIN.csv VALID.csv.\n\n\
         The algorithm:\n\n",
    );
    for line in print_algorithm(algorithm).lines() {
        writeln!(out, "    {line}").unwrap();
    }
    out.push_str("\"\"\"\n\nimport math\n\nimport numpy as np\n\n");
    writeln!(
        out,
        "S, V, M = {}, {}, {}  # the memory's scalars, vectors and matrices",
        counts.scalars, counts.vectors, counts.matrices
    )
    .unwrap();
    for function in ComponentFunction::ALL {
        let name = function.key();
        writeln!(out, "\n\ndef {name}(s, v, m, rng):").unwrap();
        writeln!(out, "    \"\"\"{}\"\"\"", function_doc(function)).unwrap();
        let list = algorithm.function(function);
        if list.is_empty() {
            out.push_str("    pass\n");
            continue;
        }
        out.push_str("    F = v.shape[1]\n");
        for instr in list {
            writeln!(
                out,
                "    {}  # {}",
                statement(instr),
                print_instruction(instr)
            )
            .unwrap();
        }
    }
    out.push_str("\n\n");
    out.push_str(RUNTIME);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::ALL_OPS;

    #[test]
    fn every_op_has_a_statement_naming_its_operands() {
        for op in ALL_OPS {
            let mut i = Instruction::new(op, 3, 4, 5);
            i.data = [0.25, 0.5, 0.75];
            let s = statement(&i);
            if op != Op::NoOp {
                assert!(s.contains("[5") || s.contains("[5]"), "{op}: {s}");
            }
            for (bank, addr) in i.inputs() {
                let text = format!("{}[{addr}]", bank.letter());
                assert!(s.contains(&text), "{op}: {s} lacks {text}");
            }
        }
    }

    #[test]
    fn literals_are_exact() {
        assert_eq!(f64_literal(0.01), "0.01");
        assert_eq!(f64_literal(-0.0), "-0.0");
        assert_eq!(f64_literal(f64::NEG_INFINITY), "-math.inf");
        assert_eq!(f64_literal(1e-7), "1e-7");
        assert_eq!(f32_literal(0.5), "0.5");
        assert_eq!(f32_literal(0.1), "_f32(0.1)");
        assert_eq!(f32_literal(f32::NAN), "math.nan");
    }

    #[test]
    fn the_module_holds_the_three_functions_and_the_runtime() {
        let m = python_module(&amlz_ir::handmade::linear(0.01));
        assert!(m.contains("S, V, M = 5, 3, 0"), "{m}");
        assert!(m.contains("def setup(s, v, m, rng):"));
        assert!(m.contains("    s[2] = 0.01  # s2 = 0.01"));
        assert!(m.contains("    s[1] = _dot(v[0], v[1])  # s1 = dot(v0, v1)"));
        assert!(m.contains("def evaluate("));
        assert!(m.trim_end().ends_with("_main(sys.argv[1:])"));
    }
}
