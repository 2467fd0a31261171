//! The train budget (SEMANTICS.md §7): an algorithm whose estimated cost per train example exceeds
//! `threshold_factor` times a baseline's gets no training.

use crate::exec::cost::example_cost_ns;
use amlz_ir::Algorithm;
use amlz_ir::analysis::eliminate_dead_code;

/// A train budget relative to a baseline algorithm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainBudget {
    limit_ns: f64,
    features: usize,
}

impl TrainBudget {
    /// A budget of `threshold_factor` times the cost per train example of `baseline` (after dead
    /// code elimination) at feature size `features`.
    pub fn new(baseline: &Algorithm, threshold_factor: f64, features: usize) -> TrainBudget {
        let base = example_cost_ns(&eliminate_dead_code(baseline), features);
        TrainBudget {
            limit_ns: threshold_factor * base,
            features,
        }
    }

    /// The most a train example may cost, in estimated nanoseconds.
    pub fn limit_ns(&self) -> f64 {
        self.limit_ns
    }

    /// Whether an algorithm (already dead-code eliminated) fits the budget.
    pub fn allows(&self, live: &Algorithm) -> bool {
        example_cost_ns(live, self.features) <= self.limit_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::{Instruction, Op, handmade};

    #[test]
    fn the_baseline_fits_and_a_matmul_heavy_algorithm_does_not() {
        let nn = handmade::neural_net();
        let budget = TrainBudget::new(&nn, 2.0, 4);
        assert!(budget.allows(&nn));
        assert!(budget.allows(&handmade::linear(0.01)));
        let mut heavy = nn.clone();
        for _ in 0..20 {
            heavy
                .predict
                .insert(0, Instruction::new(Op::MatrixMatrixProduct, 0, 0, 1));
            heavy
                .predict
                .insert(1, Instruction::new(Op::MatrixVectorProduct, 1, 0, 3));
        }
        assert!(!budget.allows(&heavy));
    }
}
