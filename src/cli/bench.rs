//! `amlz bench`: measurements that feed the project's tables and notes. With no subcommand, the
//! fixed, seeded suite of [`amlz::bench`], printed as tables or (`--json`) as one JSON object.

use super::CliError;
use amlz::bench::{BenchError, SuiteSettings, run_suite_with};
use amlz::exec::cost;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Arguments of `amlz bench`: a subcommand, or the suite's flags.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    /// Print the suite's figures as one JSON object (keys `per_example_ns`,
    /// `compile_latency_us`, `search`) instead of tables.
    #[arg(long)]
    json: bool,
    /// Seconds each search of the suite runs (6 searches: demo and nonlinear × interp, jit,
    /// auto).
    #[arg(long, default_value_t = 5.0, allow_negative_numbers = true)]
    seconds: f64,
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
        None => suite(args.json, args.seconds),
        Some(BenchWhat::BreakEven) => {
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
                "multi-task lanes speed-up per example:           {:.2}x",
                b.lanes_speedup
            );
            println!(
                "JIT multi-lane speed-up per example:             {:.2}x",
                b.native_lanes_speedup
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
        Some(BenchWhat::Costs { millis }) => {
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

/// Runs the suite with `seconds` per search and prints it (progress on stderr).
fn suite(json: bool, seconds: f64) -> Result<ExitCode, CliError> {
    let settings = SuiteSettings {
        seconds,
        ..SuiteSettings::default()
    };
    let report =
        run_suite_with(&settings, |line| eprintln!("bench: {line}")).map_err(|e| match e {
            BenchError::Seconds(_) => CliError::input(format!("--seconds: {e}")),
            e => CliError::failure(e),
        })?;
    if json {
        let text = serde_json::to_string(&report).map_err(CliError::failure)?;
        println!("{text}");
    } else {
        print!("{}", report.to_table());
    }
    Ok(ExitCode::SUCCESS)
}
