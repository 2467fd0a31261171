//! `amlz verify`: differential fuzzing of the JIT against the interpreter (see
//! [`amlz::verify`]).

use super::CliError;
use amlz::verify::{self, VerifyConfig};
use amlz_ir::{ALL_OPS, MAX_FEATURES, Op};
use clap::Args;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `amlz verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// How many random algorithms to check.
    #[arg(long, default_value_t = 1000)]
    pub programs: u64,
    /// Seed of the run: the same seed checks the same algorithms.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Feature sizes to draw from, comma-separated (each 1 to 64).
    #[arg(long, value_delimiter = ',', default_value = "2,4,8,16,32")]
    pub features: Vec<usize>,
    /// Ops of the random algorithms: `all`, or comma-separated names (e.g.
    /// `SCALAR_SUM,VECTOR_INNER_PRODUCT`).
    #[arg(long, default_value = "all")]
    pub ops: String,
    /// Most train examples per task (validation tasks get half as many).
    #[arg(long, default_value_t = 24)]
    pub examples: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run Cranelift's IR verifier on every compiled function.
    #[arg(long)]
    pub ir_verifier: bool,
    /// Require NaN results to agree in their bit patterns too (by default any two NaNs agree).
    #[arg(long)]
    pub strict_nan: bool,
}

fn parse_ops(text: &str) -> Result<Vec<Op>, CliError> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(ALL_OPS.to_vec());
    }
    let mut ops = Vec::new();
    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let op = Op::from_name(name)
            .ok_or_else(|| CliError::input(format!("--ops: unknown op `{name}`")))?;
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    if ops.is_empty() {
        return Err(CliError::input("--ops: no op given"));
    }
    Ok(ops)
}

/// The verify configuration the arguments describe.
pub fn config(args: &VerifyArgs) -> Result<VerifyConfig, CliError> {
    if args.features.is_empty() {
        return Err(CliError::input("--features: no feature size given"));
    }
    if let Some(&f) = args.features.iter().find(|&&f| f == 0 || f > MAX_FEATURES) {
        return Err(CliError::input(format!(
            "--features: {f} is not supported (1 to {MAX_FEATURES})"
        )));
    }
    if args.threads == Some(0) {
        return Err(CliError::input("--threads: must be at least 1"));
    }
    let defaults = VerifyConfig::default();
    Ok(VerifyConfig {
        programs: args.programs,
        seed: args.seed,
        features: args.features.clone(),
        ops: parse_ops(&args.ops)?,
        examples: args.examples,
        threads: args.threads.unwrap_or(defaults.threads),
        ir_verifier: args.ir_verifier,
        nan_equal: !args.strict_nan,
        ..defaults
    })
}

/// Runs `amlz verify`: prints progress to stderr, each (shrunk) mismatch with both executors'
/// results, and last the summary line `verify: N programs, M mismatches, K fallbacks`. Exits
/// with 1 when any mismatch was found.
pub fn run(args: &VerifyArgs) -> Result<ExitCode, CliError> {
    let config = config(args)?;
    let start = Instant::now();
    let total = config.programs;
    let report = verify::run(&config, |n| {
        let secs = start.elapsed().as_secs_f64();
        eprintln!("verify: {n}/{total} programs checked ({secs:.1} s)");
    });
    let mut out = std::io::stdout().lock();
    for f in &report.failures {
        let _ = writeln!(out, "{}", f.report);
    }
    let _ = writeln!(out, "{}", report.summary());
    Ok(if report.mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
