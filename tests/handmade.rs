//! The hand-made algorithms of SEMANTICS.md §3 do what they are for.

use amlz::eval::{Combination, Evaluator};
use amlz::task::spec::{TaskKind, TaskSpec, build_tasks};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::handmade;
use std::path::Path;

fn tasks(kind: TaskKind, features: usize, num_train: usize) -> Evaluator {
    let spec = TaskSpec::generated(kind, features, num_train, 100, 10);
    Evaluator::new(
        build_tasks(&spec, Path::new(".")).unwrap(),
        Combination::Mean,
    )
}

#[test]
fn linear_regressor_solves_linear_tasks() {
    let mut e = tasks(TaskKind::ScalarLinearRegression, 4, 1000);
    let a = handmade::linear(0.01);
    let r = e.evaluate(&a, a.min_counts(), 1).unwrap();
    assert!(r.fitness > 0.999, "{r:?}");
    assert_eq!(r.train_steps, 10 * 1000);
    assert!(r.per_task.iter().all(|&f| f > 0.999), "{:?}", r.per_task);
}

#[test]
fn neural_net_clearly_beats_the_linear_regressor_on_nn_tasks() {
    let mut e = tasks(TaskKind::Scalar2LayerNnRegression, 4, 1000);
    let nn = handmade::neural_net();
    let lin = handmade::linear(0.01);
    let counts = nn.min_counts();
    let f_nn = e.evaluate(&nn, counts, 1).unwrap().fitness;
    let f_lin = e.evaluate(&lin, counts, 1).unwrap().fitness;
    assert!(f_nn > f_lin + 0.2, "nn {f_nn} vs linear {f_lin}");
}

#[test]
fn untrained_linear_regressor_is_poor() {
    // With learning rate 0 the weights stay zero: the model predicts 0 everywhere.
    let mut e = tasks(TaskKind::ScalarLinearRegression, 4, 1000);
    let a = handmade::linear(0.0);
    let r = e.evaluate(&a, a.min_counts(), 1).unwrap();
    assert!(r.fitness < 0.5, "{r:?}");
}

#[test]
fn dead_code_elimination_changes_no_fitness() {
    let mut e = tasks(TaskKind::Scalar2LayerNnRegression, 4, 200);
    let mut nn = handmade::neural_net();
    // Dead extras: a random draw (kept: it consumes the stream) and arithmetic nobody reads.
    nn.learn
        .push(amlz_ir::parse_instruction("s4 = sin(s2)").unwrap());
    nn.predict.insert(
        0,
        amlz_ir::parse_instruction("v6 = gaussian(0.0, 1.0, n_features)").unwrap(),
    );
    nn.predict
        .push(amlz_ir::parse_instruction("m1 = matmul(m0, m0)").unwrap());
    let live = eliminate_dead_code(&nn);
    assert!(live.predict.len() < nn.predict.len());
    let counts = nn.min_counts();
    let full = e.evaluate(&nn, counts, 7).unwrap();
    let dce = e.evaluate(&live, counts, 7).unwrap();
    assert_eq!(
        full.per_task
            .iter()
            .map(|f| f.to_bits())
            .collect::<Vec<_>>(),
        dce.per_task.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
    );
}
