//! Random instructions and data for an allowed-op list (SEMANTICS.md §2), and the data changes of
//! the ALTER_PARAM mutation (§7).

use crate::instruction::Instruction;
use crate::layout::MemoryCounts;
use crate::op::{Bank, DataKind, Op};
use crate::rng::Rng;

/// A random address of `bank` for reading (`0..count`) or writing (`min_output..count`).
///
/// The caller guarantees the bank has an address of that kind (checked when configs are loaded).
#[inline]
pub fn random_address(bank: Bank, counts: &MemoryCounts, output: bool, rng: &mut Rng) -> u16 {
    let count = counts.count(bank);
    let low = if output { bank.min_output() } else { 0 };
    debug_assert!(count > low, "no {bank:?} address to draw");
    (low + rng.below(count - low)) as u16
}

/// A random instruction of `op`: random addresses of the right banks and random initial data.
pub fn random_instruction(op: Op, counts: &MemoryCounts, rng: &mut Rng) -> Instruction {
    let info = op.info();
    let mut instr = Instruction::NO_OP;
    instr.op = op;
    if let Some(b) = info.in1 {
        instr.in1 = random_address(b, counts, false, rng);
    }
    if let Some(b) = info.in2 {
        instr.in2 = random_address(b, counts, false, rng);
    }
    if let Some(b) = info.out {
        instr.out = random_address(b, counts, true, rng);
    }
    randomize_data(&mut instr, rng);
    instr
}

/// A random instruction of an op drawn uniformly from `ops` (which must not be empty).
pub fn random_instruction_from(ops: &[Op], counts: &MemoryCounts, rng: &mut Rng) -> Instruction {
    random_instruction(ops[rng.below(ops.len())], counts, rng)
}

/// Uniform in `[-1, 1)` as `f32`.
#[inline]
fn signed_unit_f32(rng: &mut Rng) -> f32 {
    rng.uniform01_f32() * 2.0 - 1.0
}

/// Draws fresh initial data for the instruction's op (SEMANTICS.md §2, "Random initial data").
pub fn randomize_data(instr: &mut Instruction, rng: &mut Rng) {
    instr.activation = 0.0;
    instr.data = [0.0; 3];
    match instr.op.info().data {
        DataKind::None => {}
        DataKind::Constant => {
            // Uniform in (-1, 1): zero would be a fixed point of the log-scale mutation.
            let mut u = rng.uniform01();
            while u == 0.0 {
                u = rng.uniform01();
            }
            instr.activation = 2.0 * u - 1.0;
        }
        DataKind::VectorConstant => {
            instr.data[0] = rng.uniform01_f32();
            instr.data[1] = signed_unit_f32(rng);
        }
        DataKind::MatrixConstant => {
            instr.data[0] = rng.uniform01_f32();
            instr.data[1] = rng.uniform01_f32();
            instr.data[2] = signed_unit_f32(rng);
        }
        DataKind::Gaussian => {
            instr.data[0] = signed_unit_f32(rng);
            instr.data[1] = rng.uniform01_f32();
        }
        DataKind::Uniform => {
            instr.data[0] = signed_unit_f32(rng);
            instr.data[1] = signed_unit_f32(rng);
        }
    }
}

/// A constant changed in log scale (`sign(x) * exp(ln|x| + N(0,1))`) or, with probability 0.1,
/// negated.
pub fn mutate_constant(x: f64, rng: &mut Rng) -> f64 {
    if rng.bernoulli(0.1) {
        -x
    } else {
        mutate_log_scale(x, rng)
    }
}

/// `sign(x) * exp(ln|x| + N(0,1))`: keeps the sign, moves the magnitude by a log-normal factor.
pub fn mutate_log_scale(x: f64, rng: &mut Rng) -> f64 {
    let z = rng.standard_normal();
    let sign = if x.is_sign_negative() { -1.0 } else { 1.0 };
    sign * (x.abs().ln() + z).exp()
}

/// Changes the instruction's data as ALTER_PARAM does (SEMANTICS.md §7): a constant in log scale
/// or negated, an index re-drawn in `[0,1)`, a Gaussian's mean as a constant or its std in log
/// scale only, a uniform's low or high as a constant and then the two re-ordered.
pub fn alter_data(instr: &mut Instruction, rng: &mut Rng) {
    let d = &mut instr.data;
    match instr.op.info().data {
        DataKind::None => {}
        DataKind::Constant => instr.activation = mutate_constant(instr.activation, rng),
        DataKind::VectorConstant => {
            if rng.below(2) == 0 {
                d[0] = rng.uniform01_f32();
            } else {
                d[1] = mutate_constant(d[1] as f64, rng) as f32;
            }
        }
        DataKind::MatrixConstant => match rng.below(3) {
            0 => d[0] = rng.uniform01_f32(),
            1 => d[1] = rng.uniform01_f32(),
            _ => d[2] = mutate_constant(d[2] as f64, rng) as f32,
        },
        DataKind::Gaussian => {
            if rng.below(2) == 0 {
                d[0] = mutate_constant(d[0] as f64, rng) as f32;
            } else {
                d[1] = mutate_log_scale(d[1] as f64, rng) as f32;
            }
        }
        DataKind::Uniform => {
            let k = rng.below(2);
            d[k] = mutate_constant(d[k] as f64, rng) as f32;
            if d[1] < d[0] {
                d.swap(0, 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::ALL_OPS;

    #[test]
    fn random_instructions_fit_the_memory_and_leave_unused_fields_zero() {
        let counts = MemoryCounts {
            scalars: 4,
            vectors: 3,
            matrices: 2,
        };
        let mut rng = Rng::new(5);
        for _ in 0..50 {
            for op in ALL_OPS {
                let i = random_instruction(op, &counts, &mut rng);
                assert!(i.check_addresses(&counts).is_ok(), "{i:?}");
                let info = op.info();
                if info.in1.is_none() {
                    assert_eq!(i.in1, 0);
                }
                if info.in2.is_none() {
                    assert_eq!(i.in2, 0);
                }
                match info.data {
                    DataKind::None => assert_eq!((i.activation, i.data), (0.0, [0.0; 3])),
                    DataKind::Constant => assert!(i.activation > -1.0 && i.activation < 1.0),
                    DataKind::VectorConstant => {
                        assert!((0.0..1.0).contains(&i.data[0]));
                        assert!((-1.0..1.0).contains(&i.data[1]));
                    }
                    DataKind::MatrixConstant => {
                        assert!((0.0..1.0).contains(&i.data[0]) && (0.0..1.0).contains(&i.data[1]));
                    }
                    DataKind::Gaussian => assert!((0.0..1.0).contains(&i.data[1])),
                    DataKind::Uniform => assert!((-1.0..1.0).contains(&i.data[0])),
                }
            }
        }
    }

    #[test]
    fn outputs_never_hit_the_label_or_the_features() {
        let counts = MemoryCounts {
            scalars: 2,
            vectors: 2,
            matrices: 1,
        };
        let mut rng = Rng::new(9);
        for _ in 0..500 {
            let i = random_instruction(Op::ScalarSum, &counts, &mut rng);
            assert_eq!(i.out, 1);
            let i = random_instruction(Op::VectorSum, &counts, &mut rng);
            assert_eq!(i.out, 1);
        }
    }

    #[test]
    fn alter_data_keeps_uniform_ordered_and_gaussian_std_sign() {
        let mut rng = Rng::new(11);
        let mut u = Instruction::with_data(Op::ScalarUniformSet, 1, [-0.5, 0.5, 0.0]);
        let mut g = Instruction::with_data(Op::ScalarGaussianSet, 1, [0.0, 0.1, 0.0]);
        for _ in 0..1000 {
            alter_data(&mut u, &mut rng);
            assert!(u.data[0] <= u.data[1], "{:?}", u.data);
            alter_data(&mut g, &mut rng);
            assert!(g.data[1] >= 0.0);
            assert_eq!(
                g.data[0], 0.0,
                "a zero mean stays zero in log scale and under negation"
            );
        }
    }

    #[test]
    fn constant_mutation_negates_about_one_time_in_ten() {
        let mut rng = Rng::new(2);
        let n = 20_000;
        let flips = (0..n)
            .filter(|_| mutate_constant(1.0, &mut rng) < 0.0)
            .count();
        let rate = flips as f64 / n as f64;
        assert!((rate - 0.1).abs() < 0.01, "{rate}");
    }
}
