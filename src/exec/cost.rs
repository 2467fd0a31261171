//! The per-op cost model behind the train budget: estimated nanoseconds per execution of each op
//! in the interpreter, as `base + per_element * elements(op, F)`.
//!
//! [`COST_TABLE`] was measured with `amlz bench costs` (see [`measure`]), which times each op in
//! the interpreter at F = 4 and F = 16 and fits the two coefficients; its output is pasted below
//! (where and how it was measured: docs/PERFORMANCE.md). Only ratios matter (the budget compares
//! a candidate with a baseline), so a faster machine needs no new table.

use super::interp::{Memory, Program, run_component};
use amlz_ir::{
    Algorithm, Bank, ComponentFunction, DataKind, Instruction, Layout, MemoryCounts, NUM_OPS, Op,
    Rng,
};
use std::time::Instant;

/// How many elements an op touches at feature size `f`: 1 for scalar results and one-element
/// const sets, F for vector work, F² for matrix work and matrix-vector products, F³ for matmul.
pub fn elements(op: Op, f: usize) -> f64 {
    let info = op.info();
    let f = f as f64;
    if op == Op::MatrixMatrixProduct {
        return f * f * f;
    }
    if matches!(
        info.data,
        DataKind::VectorConstant | DataKind::MatrixConstant
    ) || op == Op::NoOp
    {
        return 1.0;
    }
    let banks = [info.out, info.in1, info.in2];
    if banks.contains(&Some(Bank::Matrix)) {
        f * f
    } else if banks.contains(&Some(Bank::Vector)) {
        f
    } else {
        1.0
    }
}

/// Measured `(base_ns, per_element_ns)` per op number.
#[allow(clippy::approx_constant)] // Measurements: a 0.318 that resembles 1/π is a coincidence.
pub const COST_TABLE: [(f64, f64); NUM_OPS] = include!("cost_table.in");

/// Estimated nanoseconds of one execution of `op` at feature size `f`.
pub fn op_cost_ns(op: Op, f: usize) -> f64 {
    let (base, per) = COST_TABLE[op as usize];
    base + per * elements(op, f)
}

/// Estimated nanoseconds of one train example (Predict + Learn) of `algorithm` at feature size
/// `f`.
pub fn example_cost_ns(algorithm: &Algorithm, f: usize) -> f64 {
    algorithm
        .predict
        .iter()
        .chain(&algorithm.learn)
        .map(|i| op_cost_ns(i.op, f))
        .sum()
}

/// Times every op in the interpreter at feature size `f`: nanoseconds per execution, by op
/// number. Each op runs as a Predict of 32 copies over memory of moderate random values, repeated
/// for about `millis_per_op` milliseconds; the time of an empty Predict is subtracted.
pub fn measure(f: usize, millis_per_op: u64) -> Vec<f64> {
    let counts = MemoryCounts {
        scalars: 8,
        vectors: 8,
        matrices: 8,
    };
    let layout = Layout::new(f, counts).expect("valid layout");
    let copies = 32;
    let time = |predict: Vec<Instruction>| -> f64 {
        let program = Program::new(
            &Algorithm {
                predict,
                ..Default::default()
            },
            layout,
        )
        .expect("valid addresses");
        let mut memory = Memory::new(&layout);
        let mut rng = Rng::new(1);
        let mut iters = 0u64;
        let start = Instant::now();
        let budget = std::time::Duration::from_millis(millis_per_op);
        while start.elapsed() < budget {
            for v in memory.values_mut().iter_mut() {
                *v = 0.5 + rng.uniform01();
            }
            for _ in 0..16 {
                run_component(&program, ComponentFunction::Predict, &mut memory, &mut rng);
            }
            iters += 16;
        }
        start.elapsed().as_nanos() as f64 / iters as f64
    };
    let empty = time(Vec::new());
    amlz_ir::ALL_OPS
        .iter()
        .map(|&op| {
            let mut instr = Instruction::new(op, 2, 3, 4);
            instr.activation = 0.5;
            instr.data = [0.25, 0.5, 0.75];
            (time(vec![instr; copies]) - empty).max(0.0) / copies as f64
        })
        .collect()
}

/// Fits `(base, per_element)` per op from measurements at two feature sizes.
pub fn fit(f_small: usize, small: &[f64], f_large: usize, large: &[f64]) -> Vec<(f64, f64)> {
    amlz_ir::ALL_OPS
        .iter()
        .map(|&op| {
            let (e1, e2) = (elements(op, f_small), elements(op, f_large));
            let (c1, c2) = (small[op as usize], large[op as usize]);
            if e2 == e1 {
                return ((c1 + c2) / 2.0, 0.0);
            }
            let per = ((c2 - c1) / (e2 - e1)).max(0.0);
            let base = (c1 - per * e1).max(0.0);
            (base, per)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_grow_with_the_work_an_op_does() {
        assert!(
            op_cost_ns(Op::MatrixMatrixProduct, 16) > op_cost_ns(Op::MatrixMatrixProduct, 4) * 20.0
        );
        assert!(op_cost_ns(Op::MatrixVectorProduct, 8) > op_cost_ns(Op::VectorInnerProduct, 8));
        assert!(op_cost_ns(Op::VectorSum, 16) > op_cost_ns(Op::ScalarSum, 16));
        assert!(op_cost_ns(Op::ScalarExp, 4) > op_cost_ns(Op::ScalarSum, 4));
        assert_eq!(elements(Op::VectorConstSet, 32), 1.0);
    }
}
