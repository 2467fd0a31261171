//! The hand-made algorithms of SEMANTICS.md §3: initial populations, train-budget baselines, tests.

use crate::algorithm::Algorithm;
use crate::instruction::Instruction;
use crate::op::Op;

/// The hand-made linear regressor trained by SGD with learning rate `learning_rate`
/// (uses s1..s4, v1..v2).
pub fn linear(learning_rate: f64) -> Algorithm {
    Algorithm {
        setup: vec![Instruction::constant(2, learning_rate)],
        predict: vec![Instruction::new(Op::VectorInnerProduct, 0, 1, 1)],
        learn: vec![
            Instruction::new(Op::ScalarDiff, 0, 1, 3),
            Instruction::new(Op::ScalarProduct, 3, 2, 4),
            Instruction::new(Op::ScalarVectorProduct, 4, 0, 2),
            Instruction::new(Op::VectorSum, 1, 2, 1),
        ],
    }
}

/// Logistic regression with a bias, trained by SGD with learning rate `learning_rate` (uses
/// s1..s5, v1..v2). On an ACCURACY task the executor writes `sigmoid(s1)` back into `s1` after
/// Predict (SEMANTICS.md §4), so the Learn step `w += lr (y - sigmoid(w·x + b)) x`,
/// `b += lr (y - sigmoid(w·x + b))` is the gradient step of the log loss: [`linear`] plus a bias.
pub fn logistic_regression(learning_rate: f64) -> Algorithm {
    Algorithm {
        setup: vec![Instruction::constant(2, learning_rate)],
        predict: vec![
            Instruction::new(Op::VectorInnerProduct, 0, 1, 1),
            Instruction::new(Op::ScalarSum, 1, 5, 1),
        ],
        learn: vec![
            Instruction::new(Op::ScalarDiff, 0, 1, 3),
            Instruction::new(Op::ScalarProduct, 3, 2, 4),
            Instruction::new(Op::ScalarVectorProduct, 4, 0, 2),
            Instruction::new(Op::VectorSum, 1, 2, 1),
            Instruction::new(Op::ScalarSum, 5, 4, 5),
        ],
    }
}

/// The hand-made 2-layer ReLU network with biases, trained by SGD (learning rate 0.01, init scales
/// 0.1; uses s1..s4, v1..v8, m0..m1).
pub fn neural_net() -> Algorithm {
    neural_net_with(0.01, 0.1)
}

/// [`neural_net`] with a given learning rate and weight-init standard deviation.
pub fn neural_net_with(learning_rate: f64, init_scale: f32) -> Algorithm {
    use Op::*;
    let n = Instruction::new;
    Algorithm {
        setup: vec![
            Instruction::with_data(VectorGaussianSet, 2, [0.0, init_scale, 0.0]),
            Instruction::with_data(MatrixGaussianSet, 0, [0.0, init_scale, 0.0]),
            Instruction::constant(3, learning_rate),
        ],
        predict: vec![
            n(MatrixVectorProduct, 0, 0, 3),
            n(VectorSum, 3, 1, 3),
            n(VectorMax, 3, 5, 4),
            n(VectorInnerProduct, 4, 2, 1),
            n(ScalarSum, 1, 2, 1),
        ],
        learn: vec![
            n(ScalarDiff, 0, 1, 4),
            n(ScalarProduct, 3, 4, 4),
            n(ScalarSum, 2, 4, 2),
            n(ScalarVectorProduct, 4, 4, 6),
            n(VectorSum, 2, 6, 2),
            n(ScalarVectorProduct, 4, 2, 7),
            n(VectorHeaviside, 3, 0, 8),
            n(VectorProduct, 8, 7, 7),
            n(VectorSum, 1, 7, 1),
            n(VectorOuterProduct, 7, 0, 1),
            n(MatrixSum, 0, 1, 0),
        ],
    }
}

/// The neural net without its two weight-initialisation Setup instructions (the nonlinear check's
/// starting point).
pub fn damaged_neural_net() -> Algorithm {
    let mut a = neural_net();
    a.setup.drain(0..2);
    a
}

/// Pads each component function with NoOps up to the given sizes (never shortens).
pub fn pad(mut algorithm: Algorithm, setup: usize, predict: usize, learn: usize) -> Algorithm {
    for (list, size) in [
        (&mut algorithm.setup, setup),
        (&mut algorithm.predict, predict),
        (&mut algorithm.learn, learn),
    ] {
        while list.len() < size {
            list.push(Instruction::NO_OP);
        }
    }
    algorithm
}
