//! `pgo/rustc-wrapper`, which Cargo calls for every compilation (`.cargo/config.toml`): it must
//! add the committed profile to optimised x86-64 Linux compilations, and to nothing else.
//! `echo` stands in for rustc, so each run prints the command line the wrapper would run.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn profile() -> PathBuf {
    root().join("pgo/amlz.profdata").canonicalize().unwrap()
}

/// The arguments the wrapper passes to "rustc" for `args`, with `AMLZ_PGO` set to `pgo`.
fn wrapped(args: &[&str], pgo: Option<&str>) -> String {
    let mut cmd = Command::new(root().join("pgo/rustc-wrapper"));
    cmd.arg("echo").args(args);
    match pgo {
        Some(v) => cmd.env("AMLZ_PGO", v),
        None => cmd.env_remove("AMLZ_PGO"),
    };
    let out = cmd.output().expect("the wrapper runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn uses_profile(line: &str) -> bool {
    line.ends_with(&format!("-Cprofile-use={}", profile().display()))
}

#[test]
fn the_profile_is_committed_and_non_empty() {
    let len = std::fs::metadata(profile()).unwrap().len();
    assert!(len > 100_000, "pgo/amlz.profdata is {len} bytes");
}

/// `.cargo/config.toml` names the profile's version, so that a new profile rebuilds every crate
/// (Cargo rebuilds registry crates only when their flags change): it must be the profile's.
#[test]
fn the_cargo_config_names_the_committed_profile() {
    let out = Command::new("sha256sum")
        .arg(profile())
        .output()
        .expect("sha256sum runs");
    assert!(out.status.success(), "{out:?}");
    let version = &String::from_utf8(out.stdout).unwrap()[..16];
    let config = std::fs::read_to_string(root().join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains(&format!("/amlz-pgo-profile-{version}=")),
        "the config names another profile than pgo/amlz.profdata ({version}): run pgo/train, \
         or write its version into .cargo/config.toml"
    );
}

#[test]
fn optimised_compilations_get_the_profile() {
    for args in [
        &["--crate-name", "x", "-C", "opt-level=3", "-C", "lto"][..],
        &["-Copt-level=3", "--crate-name", "x"],
        &["--target", "x86_64-unknown-linux-gnu", "-C", "opt-level=3"],
        &["--target=x86_64-unknown-linux-gnu", "-C", "opt-level=3"],
    ] {
        let line = wrapped(args, None);
        assert!(uses_profile(&line), "{args:?} gave `{line}`");
        assert!(
            line.starts_with(&args.join(" ")),
            "arguments kept in order: {line}"
        );
    }
}

#[test]
fn other_compilations_run_unchanged() {
    for (args, pgo) in [
        // debug builds and build scripts
        (&["--crate-name", "x", "-C", "opt-level=0"][..], None),
        (&["--crate-name", "x"], None),
        (&["-C", "opt-level=s"], None),
        // another target than the one the profile was recorded on
        (
            &["--target", "aarch64-unknown-linux-gnu", "-C", "opt-level=3"],
            None,
        ),
        (
            &["--target=x86_64-pc-windows-gnu", "-C", "opt-level=3"],
            None,
        ),
        // pgo/train recording a new profile
        (&["-C", "opt-level=3"], Some("off")),
        // rustc's version query, which Cargo also runs through the wrapper
        (&["-vV"], None),
    ] {
        let line = wrapped(args, pgo);
        assert_eq!(line, args.join(" "), "{args:?} with AMLZ_PGO={pgo:?}");
    }
}
