//! Helpers shared by the integration tests. Each test binary uses some of them, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

use amlz::experiment::Summary;
use amlz::task::{EvalType, Task};
use amlz_ir::Rng;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `amlz` binary with `args`.
pub fn amlz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amlz"))
        .args(args)
        .output()
        .expect("runs")
}

/// The stdout of a run that must have succeeded (else its stderr in the panic).
pub fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A directory under the system temp dir for test `name` of this test binary and process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "amlz-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts a run failed on bad input (exit code 2) with one line on stderr containing every
/// piece, and no panic.
pub fn assert_one_line_error(out: &Output, pieces: &[&str]) {
    assert!(!out.status.success(), "should fail");
    assert_eq!(out.status.code(), Some(2), "bad input exits with 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for p in pieces {
        assert!(err.contains(p), "{p:?} not in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// Writes `text` to `dir/name` and returns the path as a string, for command lines.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// `s` without what depends on timing: wall-clock figures, and which evaluations ran natively
/// or in lanes (that depends on when background compiles finish; the results do not), compile
/// times, and the structural
/// shortcut's hits and the per-task evaluations run (work skipped, which a resumed run, starting
/// with no memo, skips less of).
pub fn without_timings(mut s: Summary) -> Summary {
    s.seconds = 0.0;
    s.individuals_per_second = 0.0;
    s.seconds_to_sufficient = s.seconds_to_sufficient.map(|_| 0.0);
    for r in &mut s.per_experiment {
        r.seconds = 0.0;
        r.individuals_per_second = 0.0;
        r.jit_compiled = 0;
        r.jit_fallbacks = 0;
        r.native_evaluations = 0;
        r.lane_evaluations = 0;
        r.task_evaluations = 0;
        r.compile_cache_hit_rate = 0.0;
        r.jit_compile_seconds = 0.0;
        for i in &mut r.per_island {
            i.shortcut_hits = 0;
            i.jit_compiled = 0;
            i.jit_fallbacks = 0;
            i.native_evaluations = 0;
            i.lane_evaluations = 0;
            i.task_evaluations = 0;
            i.jit_compile_seconds = 0.0;
        }
    }
    s
}

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
