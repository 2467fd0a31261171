//! Interpreter speed: nanoseconds per train example (Predict + error check + Learn) of the
//! hand-made linear regressor and neural network at F = 4 and F = 16, as the full program and
//! after dead-code elimination (identical for these two, which are all live).
//!
//! `cargo bench --bench interpreter`; criterion prints the time per train example under
//! "time" because every iteration runs exactly one train example's worth (see `iter_custom`).

use amlz::exec::interp::{self, Memory, Program};
use amlz::exec::{Limits, NoObserver};
use amlz::task::generate::{
    Sizes, TaskSettings, scalar_2layer_nn_regression, scalar_linear_regression,
};
use amlz_ir::{Algorithm, Layout, Rng, handmade};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::{Duration, Instant};

const TRAIN: usize = 1000;

fn bench_one(c: &mut Criterion, name: &str, algorithm: &Algorithm, f: usize, nn_task: bool) {
    let sizes = Sizes {
        features: f,
        num_train: TRAIN,
        num_valid: 1,
    };
    // No early stop: the bench measures the cost of an example, whatever the values.
    let settings = TaskSettings {
        max_abs_error: f64::MAX,
        ..TaskSettings::default()
    };
    let task = if nn_task {
        scalar_2layer_nn_regression(sizes, &settings, 1000, 2000)
    } else {
        scalar_linear_regression(sizes, &settings, 1000, 2000)
    };
    let layout = Layout::new(f, algorithm.min_counts()).unwrap();
    let program = Program::new(algorithm, layout).unwrap();
    let mut memory = Memory::new(&layout);
    let mut rng = Rng::new(1);
    // Sanity: the whole train set runs (no early stop), so time / TRAIN is per train example.
    let out = interp::evaluate(
        &program,
        &task,
        &mut memory,
        &mut rng,
        &Limits::FULL,
        &mut NoObserver,
    );
    assert_eq!(out.train_steps, TRAIN as u64, "{name} stopped early");
    c.bench_function(&format!("interp/{name}/F={f}/per_train_example"), |b| {
        b.iter_custom(|iters| {
            // One iteration = one train example: run whole evaluations and divide.
            let evaluations = iters.div_ceil(TRAIN as u64);
            let start = Instant::now();
            for _ in 0..evaluations {
                interp::evaluate(
                    &program,
                    &task,
                    &mut memory,
                    &mut rng,
                    &Limits::FULL,
                    &mut NoObserver,
                );
            }
            let t = start.elapsed();
            Duration::from_secs_f64(
                t.as_secs_f64() * iters as f64 / (evaluations * TRAIN as u64) as f64,
            )
        })
    });
}

fn benches(c: &mut Criterion) {
    for f in [4, 16] {
        bench_one(c, "linear", &handmade::linear(0.01), f, false);
        // At F = 16 learning rate 0.01 diverges on these tasks (NaN stops training after a few
        // examples); 0.001 runs the same instructions to the end.
        let nn = if f == 4 {
            handmade::neural_net()
        } else {
            handmade::neural_net_with(0.001, 0.1)
        };
        bench_one(c, "neural_net", &nn, f, true);
    }
}

criterion_group! {
    name = interpreter;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(interpreter);
