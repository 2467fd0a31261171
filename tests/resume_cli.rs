//! `amlz search --out DIR` then `--resume DIR` (SEMANTICS.md §9.7): a run stopped by Ctrl-C, or
//! killed with `kill -9` in the middle of a checkpoint write, goes on from its last complete
//! checkpoint and ends with the summary of the run that was never stopped.

mod common;

use amlz::experiment::Summary;
use amlz::experiment::checkpoint::Checkpoint;
use amlz::run_dir::{self, RunStatus};
use common::{amlz, scratch, stdout_of, write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Two experiments of 100,000 individuals that cannot end early: a few seconds in all.
fn config(dir: &Path) -> String {
    let small = std::fs::read_to_string("tests/data/small_demo.toml").unwrap();
    let long = small
        .replace("max_individuals = 20000", "max_individuals = 100000")
        .replace("max_experiments = 3", "max_experiments = 2")
        .replace("sufficient_fitness = 0.9999", "sufficient_fitness = 1.0");
    assert_ne!(small, long);
    write(dir, "long.toml", &long)
}

const SEARCH: [&str; 6] = ["search", "--seed", "5", "--threads", "1", "--quiet"];

/// The summary at `path` without what depends on timing.
fn summary(path: &Path) -> Summary {
    common::without_timings(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

/// The summary of the run that is never stopped.
fn uninterrupted(dir: &Path, config: &str) -> Summary {
    let path = dir.join("whole.json");
    let args = ["--config", config, "--summary-json", path.to_str().unwrap()];
    stdout_of(&amlz(&[&SEARCH[..], &args].concat()));
    summary(&path)
}

/// Starts the search into run directory `out`, checkpointing as often as it can.
fn start(config: &str, out: &Path, stall_at: Option<u64>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amlz"));
    cmd.args(SEARCH)
        .args(["--config", config, "--checkpoint-every", "0.001", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(n) = stall_at {
        cmd.env("AMLZ_CHECKPOINT_STALL_AT", n.to_string());
    }
    cmd.spawn().unwrap()
}

/// Waits until `done` holds, for at most 30 s.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "waited 30 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Resumes `out` and returns its summary.
fn resume(dir: &Path, out: &Path) -> Summary {
    let path = dir.join("resumed.json");
    let args = ["search", "--resume", out.to_str().unwrap(), "--quiet"];
    stdout_of(&amlz(
        &[&args[..], &["--summary-json", path.to_str().unwrap()]].concat(),
    ));
    summary(&path)
}

fn signal(child: &Child, sig: &str) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn a_run_stopped_by_ctrl_c_resumes_to_the_uninterrupted_summary() {
    let dir = scratch("sigint");
    let config = config(&dir);
    let whole = uninterrupted(&dir, &config);
    let out = dir.join("run");
    let mut child = start(&config, &out, None);
    wait_for("a checkpoint", || out.join(run_dir::CHECKPOINT).exists());
    signal(&child, "-INT");
    assert!(child.wait().unwrap().success());
    assert_eq!(run_dir::read_info(&out).unwrap().status, RunStatus::Stopped);
    let stopped = summary(&out.join("summary.json"));
    assert_eq!(stopped.per_experiment[0].stop_reason, "interrupted");
    assert!(stopped.individuals < whole.individuals);
    assert_eq!(resume(&dir, &out), whole);
    assert_eq!(
        run_dir::read_info(&out).unwrap().status,
        RunStatus::Finished
    );
    let again = amlz(&["search", "--resume", out.to_str().unwrap()]);
    common::assert_one_line_error(&again, &["its run finished"]);
}

/// The temporary file of a stalled checkpoint write in `out`, if there is one.
fn stalled(out: &Path) -> Option<PathBuf> {
    std::fs::read_dir(out)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-stalled"))
}

#[test]
fn a_run_killed_while_writing_a_checkpoint_resumes_from_the_one_before() {
    let dir = scratch("kill9");
    let config = config(&dir);
    let whole = uninterrupted(&dir, &config);
    let out = dir.join("run");
    let mut child = start(&config, &out, Some(3));
    wait_for("the third checkpoint write to stall", || {
        stalled(&out).is_some()
    });
    signal(&child, "-KILL");
    child.wait().unwrap();
    assert_eq!(run_dir::read_info(&out).unwrap().status, RunStatus::Running);
    // What checkpoint.json holds is whole: the second checkpoint.
    let bytes = std::fs::read(out.join(run_dir::CHECKPOINT)).unwrap();
    let second = Checkpoint::from_json(&bytes).unwrap();
    let individuals = second.experiment.unwrap().islands[0].evolution.individuals;
    assert_eq!(
        individuals, 2000,
        "chunks of 1,000 individuals: the second checkpoint"
    );
    assert_eq!(resume(&dir, &out), whole);
}
