//! `amlz bench`: measurements that feed the project's tables and notes.

use super::CliError;
use amlz::exec::cost;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Arguments of `amlz bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(Subcommand, Debug)]
enum BenchWhat {
    /// Time every op in the interpreter at F=4 and F=16 and print the fitted cost table
    /// (`src/search/cost_table.in`).
    Costs {
        /// Milliseconds of timing per op and feature size.
        #[arg(long, default_value_t = 200)]
        millis: u64,
    },
    /// Measure the break-even between the interpreter and the JIT that `--executor auto` uses:
    /// compile latency, per-example speed-up, per-call overhead.
    BreakEven,
}

/// Runs `amlz bench`.
pub fn run(args: &BenchArgs) -> Result<ExitCode, CliError> {
    match args.what {
        BenchWhat::BreakEven => {
            let b = amlz::exec::BreakEven::measure();
            println!(
                "compile latency (median, linear and NN at F=4): {:.0} µs",
                b.compile_ns / 1e3
            );
            println!(
                "JIT speed-up per example (geometric mean):       {:.2}x",
                b.jit_speedup
            );
            println!(
                "interpreter ns per cost-model ns:                {:.2}",
                b.interp_scale
            );
            println!(
                "native call overhead:                            {:.0} ns",
                b.call_overhead_ns
            );
            Ok(ExitCode::SUCCESS)
        }
        BenchWhat::Costs { millis } => {
            let small = cost::measure(4, millis);
            let large = cost::measure(16, millis);
            let table = cost::fit(4, &small, 16, &large);
            println!(
                "// (base_ns, per_element_ns) by op number; measured by `amlz bench costs --millis {millis}`"
            );
            println!("[");
            for (op, (base, per)) in amlz_ir::ALL_OPS.iter().zip(&table) {
                println!(
                    "    ({base:.3}, {per:.4}), // {} ({:.1} ns at F=4, {:.1} ns at F=16)",
                    op.name(),
                    small[*op as usize],
                    large[*op as usize]
                );
            }
            println!("]");
            Ok(ExitCode::SUCCESS)
        }
    }
}
