// TEMPORARY driver for `amlz verify` until it is wired into main.rs (delete before commit).
#[path = "../src/cli/verify.rs"]
mod verify;
use clap::Parser;
#[derive(Debug)]
pub struct CliError { pub message: String, pub code: u8 }
impl CliError {
    pub fn input(m: impl std::fmt::Display) -> CliError { CliError { message: m.to_string(), code: 2 } }
}
#[derive(Parser)]
struct Cli { #[command(flatten)] args: verify::VerifyArgs }
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match verify::run(&cli.args) { Ok(c) => c, Err(e) => { eprintln!("error: {}", e.message); std::process::ExitCode::from(e.code) } }
}
