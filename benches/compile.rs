//! Compile latency of the JIT: Predict+Learn of an algorithm to its native loop function (IR
//! build, Cranelift compilation, definition and finalization in the code generation's
//! `JITModule`), uncached, with the production
//! settings (no e-graph optimisation, adaptive register allocation, verifier off).
//!
//! Targets: median ≤ 150 µs for the linear regressor at F=4, ≤ 400 µs for the neural net at F=16.
//! Run with `cargo bench --bench compile` (the release profile, fat LTO, as users run it). For
//! block-by-block medians and a noise-free instruction count, see `jit/examples/compile_loop.rs`.

use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::random::random_instruction_from;
use amlz_ir::{ALL_OPS, Algorithm, Layout, MemoryCounts, Op, Rng, handmade};
use amlz_jit::{Compiler, JitConfig, OptLevel, RegAlloc, Scoring};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench_compile(
    c: &mut Criterion,
    name: &str,
    config: JitConfig,
    algorithm: &Algorithm,
    layout: Layout,
) {
    let mut compiler = Compiler::new(config).expect("JIT available");
    let algorithm = eliminate_dead_code(algorithm);
    c.bench_function(name, |b| {
        b.iter(|| {
            let compiled = compiler
                .compile_uncached(black_box(&algorithm), layout, Scoring::Rms)
                .expect("compiles");
            black_box(compiled.code().layout());
        })
    });
}

fn benches(c: &mut Criterion) {
    let production = JitConfig {
        verifier: false,
        ..JitConfig::default()
    };
    let optimising = JitConfig {
        opt_level: OptLevel::Speed,
        regalloc: RegAlloc::Backtracking,
        ..production
    };
    let lin = handmade::linear(0.01);
    let nn = handmade::neural_net();
    let lin4 = Layout::new(
        4,
        MemoryCounts {
            scalars: 5,
            vectors: 3,
            matrices: 0,
        },
    )
    .unwrap();
    let nn4 = Layout::new(
        4,
        MemoryCounts {
            scalars: 5,
            vectors: 9,
            matrices: 2,
        },
    )
    .unwrap();
    let nn16 = Layout::new(
        16,
        MemoryCounts {
            scalars: 5,
            vectors: 9,
            matrices: 2,
        },
    )
    .unwrap();
    bench_compile(c, "compile/linear_F4", production, &lin, lin4);
    bench_compile(c, "compile/neural_net_F4", production, &nn, nn4);
    bench_compile(c, "compile/neural_net_F16", production, &nn, nn16);
    bench_compile(c, "compile_optimising/linear_F4", optimising, &lin, lin4);
    bench_compile(
        c,
        "compile_optimising/neural_net_F16",
        optimising,
        &nn,
        nn16,
    );

    // A random program of 10 Predict and 10 Learn instructions over all ops, F=4 and F=16.
    let counts = MemoryCounts {
        scalars: 8,
        vectors: 6,
        matrices: 3,
    };
    let ops: Vec<Op> = ALL_OPS.iter().copied().filter(|&o| o != Op::NoOp).collect();
    let mut rng = Rng::new(5);
    let random = Algorithm {
        setup: Vec::new(),
        predict: (0..10)
            .map(|_| random_instruction_from(&ops, &counts, &mut rng))
            .collect(),
        learn: (0..10)
            .map(|_| random_instruction_from(&ops, &counts, &mut rng))
            .collect(),
    };
    for f in [4, 16] {
        let layout = Layout::new(f, counts).unwrap();
        bench_compile(
            c,
            &format!("compile/random_K10_F{f}"),
            production,
            &random,
            layout,
        );
    }
}

criterion_group! {
    name = compile;
    config = Criterion::default().sample_size(50).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(compile);
