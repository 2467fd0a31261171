//! Every executor gives the same evaluations bit for bit, one-off evaluations (select, final,
//! `amlz eval`) included, and the chosen executor is the one that runs them.

use amlz::eval::{Combination, Evaluation, Evaluator};
use amlz::exec::{ExecutorChoice, ExecutorStats};
use amlz::task::spec::{TaskKind, TaskSpec, build_tasks};
use amlz_ir::handmade;
use std::path::Path;

/// The hand-made network evaluated on 2-layer-network tasks (3 epochs, so shuffled orders too)
/// by `executor`, with what the executor counted.
fn evaluate(executor: ExecutorChoice, num_train: usize) -> (Evaluation, ExecutorStats) {
    let mut spec = TaskSpec::generated(TaskKind::Scalar2LayerNnRegression, 4, num_train, 50, 3);
    spec.num_train_epochs = 3;
    let mut e = Evaluator::on(
        build_tasks(&spec, Path::new(".")).unwrap(),
        Combination::Mean,
        executor,
    );
    let nn = handmade::neural_net();
    let first = e.evaluate(&nn, nn.min_counts(), 5).unwrap();
    let again = e.evaluate(&nn, nn.min_counts(), 5).unwrap();
    assert_eq!(first, again, "{executor:?}: the same evaluation twice");
    (first, e.executor_stats())
}

#[test]
fn one_off_evaluations_agree_across_executors_and_run_where_chosen() {
    let (interp, stats) = evaluate(ExecutorChoice::Interp, 200);
    assert_eq!(stats.native_evaluations, 0);
    let (jit, stats) = evaluate(ExecutorChoice::Jit, 200);
    let bits = |e: &Evaluation| e.per_task.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&interp), bits(&jit), "forced JIT");
    assert_eq!(interp, jit);
    if stats.jit_failures == 0 {
        assert_eq!(
            stats.native_evaluations,
            2 * 3,
            "every task of both evaluations ran natively"
        );
    }
    // `auto` compiles a one-off evaluation only where its work passes the break-even: either way
    // the result is the same.
    for num_train in [10, 2000] {
        let (auto, _) = evaluate(ExecutorChoice::Auto, num_train);
        assert_eq!(
            auto,
            evaluate(ExecutorChoice::Interp, num_train).0,
            "auto, {num_train}"
        );
    }
}
