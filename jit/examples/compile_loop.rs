//! Compiles one hand-made algorithm many times in a row and prints the compile latency: the
//! median of each block of 250 compiles, then the median, p10 and p90 of all, and Cranelift's
//! own time per pass.
//!
//! ```sh
//! cargo run --release -p amlz-jit --example compile_loop -- linear 2000
//! cargo run --release -p amlz-jit --example compile_loop -- nn16 1000
//! ```
//!
//! Wall-clock times on a shared machine swing with the load of its neighbours; the count of
//! instructions per compile does not. Two runs under cachegrind give it without the start-up:
//!
//! ```sh
//! b=target/release/examples/compile_loop
//! valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $b linear 200
//! valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $b linear 600
//! # instructions per compile = (I refs of the second - I refs of the first) / 400
//! ```

use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{Algorithm, Layout, MemoryCounts, handmade};
use amlz_jit::{Compiler, JitConfig, Scoring};
use std::process::ExitCode;
use std::time::Instant;

/// The algorithm and layout named `which`, as in `benches/compile.rs`.
fn case(which: &str) -> Option<(Algorithm, Layout)> {
    let (algorithm, features, counts) = match which {
        "linear" => (
            handmade::linear(0.01),
            4,
            MemoryCounts {
                scalars: 5,
                vectors: 3,
                matrices: 0,
            },
        ),
        "nn4" | "nn16" => (
            handmade::neural_net(),
            if which == "nn4" { 4 } else { 16 },
            MemoryCounts {
                scalars: 5,
                vectors: 9,
                matrices: 2,
            },
        ),
        _ => return None,
    };
    Some((algorithm, Layout::new(features, counts).ok()?))
}

/// The `q`-quantile of sorted `xs`.
fn quantile(xs: &[f64], q: f64) -> f64 {
    xs[((xs.len() - 1) as f64 * q).round() as usize]
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "linear".into());
    let Some((algorithm, layout)) = case(&which) else {
        eprintln!("compile_loop: unknown case '{which}' (allowed: linear, nn4, nn16)");
        return ExitCode::from(2);
    };
    let n = match args.next().map(|s| s.parse::<usize>()) {
        None => 2000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("compile_loop: the count must be a positive integer");
            return ExitCode::from(2);
        }
    };
    let mut compiler = match Compiler::new(JitConfig {
        verifier: false,
        ..JitConfig::default()
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("compile_loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    let algorithm = eliminate_dead_code(&algorithm);
    let mut micros = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let compiled = match compiler.compile_uncached(&algorithm, layout, Scoring::Rms) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("compile_loop: {e}");
                return ExitCode::FAILURE;
            }
        };
        std::hint::black_box(&compiled);
        micros.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let blocks: Vec<String> = micros
        .chunks(250)
        .map(|block| {
            let mut block = block.to_vec();
            block.sort_by(f64::total_cmp);
            format!("{:.0}", quantile(&block, 0.5))
        })
        .collect();
    println!("medians of blocks of 250 (us): {}", blocks.join(" "));
    micros.sort_by(f64::total_cmp);
    println!(
        "{which}: {n} compiles, median {:.1} us, p10 {:.1} us, p90 {:.1} us",
        quantile(&micros, 0.5),
        quantile(&micros, 0.1),
        quantile(&micros, 0.9)
    );
    print!("{}", cranelift_codegen::timing::take_current());
    ExitCode::SUCCESS
}
