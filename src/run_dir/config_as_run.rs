//! `config.toml` of a run directory: the config text with what the command line changed folded
//! in, so that `amlz search --config DIR/config.toml` runs the same search.

use std::path::Path;
use toml::{Table, Value};

/// Task keys that name data files, resolved against the config's directory.
const PATH_KEYS: [&str; 5] = [
    "train_file",
    "valid_file",
    "source_file",
    "images_file",
    "labels_file",
];

/// The collections whose specs may name files.
const COLLECTIONS: [&str; 3] = ["search_tasks", "select_tasks", "final_tasks"];

/// What a run changed from its config text.
#[derive(Clone, Copy, Debug)]
pub struct AsRun {
    /// The search seed.
    pub seed: u64,
    /// Threads per process.
    pub threads: usize,
    /// The run's wall-clock limit, if any.
    pub max_seconds: Option<f64>,
}

/// Config `text` (read from `source`, data paths relative to `base_dir`) as run: `seed`,
/// `threads` and `experiments.max_seconds` set to `as_run`'s, and relative data paths made
/// absolute; comments are not kept.
///
/// # Errors
/// If `text` is not TOML (a checked config always is).
pub fn config_as_run(
    text: &str,
    source: &str,
    base_dir: &Path,
    as_run: AsRun,
) -> Result<String, toml::de::Error> {
    let mut table: Table = text.parse()?;
    let mut header = format!(
        "# The config of this run (amlz search --out), from {source}: its seed, threads and time\n\
         # limit as run, data paths made absolute. `amlz search --config` on it runs it again.\n"
    );
    match i64::try_from(as_run.seed) {
        Ok(seed) => {
            table.insert("seed".into(), Value::Integer(seed));
        }
        Err(_) => header.push_str(&format!(
            "# The seed was {} (too large for TOML): pass --seed {0}.\n",
            as_run.seed
        )),
    }
    table.insert("threads".into(), Value::Integer(as_run.threads as i64));
    if let Some(s) = as_run.max_seconds {
        let experiments = table
            .entry("experiments")
            .or_insert_with(|| Value::Table(Table::new()));
        if let Value::Table(t) = experiments {
            t.insert("max_seconds".into(), Value::Float(s));
        }
    }
    for collection in COLLECTIONS {
        if let Some(Value::Array(specs)) = table.get_mut(collection) {
            for spec in specs.iter_mut().filter_map(Value::as_table_mut) {
                absolute_paths(spec, base_dir);
            }
        }
    }
    Ok(format!(
        "{header}\n{}",
        toml::to_string(&table).expect("tables print")
    ))
}

/// Makes the relative data paths of one task spec absolute.
fn absolute_paths(spec: &mut Table, base_dir: &Path) {
    for key in PATH_KEYS {
        if let Some(Value::String(p)) = spec.get_mut(key)
            && Path::new(p.as_str()).is_relative()
            && let Ok(abs) = std::path::absolute(base_dir.join(p.as_str()))
        {
            *p = abs.display().to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_in_seed_threads_time_and_absolute_paths() {
        let text = "seed = 1\n[experiments]\nmax_experiments = 2\n\
                    [[search_tasks]]\nkind = \"csv\"\ntrain_file = \"data/a.csv\"\n";
        let as_run = AsRun {
            seed: 7,
            threads: 3,
            max_seconds: Some(5.0),
        };
        let out = config_as_run(text, "x.toml", Path::new("/cfg"), as_run).unwrap();
        let t: Table = out.parse().unwrap();
        assert_eq!(t["seed"].as_integer(), Some(7));
        assert_eq!(t["threads"].as_integer(), Some(3));
        assert_eq!(t["experiments"]["max_seconds"].as_float(), Some(5.0));
        assert_eq!(t["experiments"]["max_experiments"].as_integer(), Some(2));
        let file = t["search_tasks"][0]["train_file"].as_str().unwrap();
        assert_eq!(Path::new(file), Path::new("/cfg/data/a.csv"));
        assert!(out.starts_with("# The config of this run"));
    }
}
