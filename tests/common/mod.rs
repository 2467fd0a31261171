//! Helpers shared by the integration tests.

use amlz::task::{EvalType, Task};
use amlz_ir::Rng;

/// A linear task of `n` train and `n / 2` validation examples with N(0,1) features, labels
/// `dot(w, x)` (or `dot(w, x) > 0` as 0/1 for ACCURACY), and one shuffled second epoch: every
/// path of the evaluation loop, from seeds only.
pub fn linear_task(
    features: usize,
    n: usize,
    eval_type: EvalType,
    max_abs_error: f64,
    seed: u64,
) -> Task {
    let mut rng = Rng::new(seed);
    let w: Vec<f64> = (0..features).map(|_| rng.gaussian(0.0, 1.0)).collect();
    let mut make = |n: usize| {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for _ in 0..n {
            let x: Vec<f64> = (0..features).map(|_| rng.gaussian(0.0, 1.0)).collect();
            let y: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            ys.push(if eval_type == EvalType::Accuracy {
                (y > 0.0) as u8 as f64
            } else {
                y
            });
            xs.extend(x);
        }
        (xs, ys)
    };
    let (train_features, train_labels) = make(n);
    let (valid_features, valid_labels) = make(n / 2);
    let mut order: Vec<u32> = (0..n as u32).collect();
    Rng::new(seed + 1).shuffle(&mut order);
    Task {
        features,
        train_features,
        train_labels,
        valid_features,
        valid_labels,
        eval_type,
        max_abs_error,
        epoch_orders: vec![order],
        param_seed: seed,
        data_seed: seed,
        name: "linear test task".into(),
    }
}
