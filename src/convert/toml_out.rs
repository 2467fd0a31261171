//! A [`Converted`] spec written as an amlz experiment config, laid out as
//! `examples/demo_linear.toml` is: top-level keys, `[memory]`, `[ops]`, `[sizes]`, `[search]`,
//! `[fec]`, `[train_budget]`, `[experiments]`, then the task collections. The conversion's notes
//! open the file as comments.

use super::spec::{Converted, Size};
use crate::task::generate::Example;
use crate::task::spec::{TaskSpec, eval_type_name};
use amlz_ir::ComponentFunction;
use std::fmt::Write as _;

/// A TOML float: Rust's shortest round-trip form, which TOML reads back exactly (`1e-7`,
/// `100.0`), and TOML's `inf`/`nan`.
fn float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => write!(out, "\\u{:04X}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn size(s: &Size) -> String {
    match s.bounds {
        None => s.init.to_string(),
        Some((min, max)) => format!("{{ init = {}, min = {min}, max = {max} }}", s.init),
    }
}

fn list<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let inner: Vec<String> = items.iter().map(show).collect();
    format!("[{}]", inner.join(", "))
}

fn examples(out: &mut String, key: &str, examples: &[Example]) {
    writeln!(out, "{key} = [").unwrap();
    for e in examples {
        writeln!(
            out,
            "  {{ features = {}, label = {} }},",
            list(&e.features, |x| float(*x)),
            float(e.label)
        )
        .unwrap();
    }
    out.push_str("]\n");
}

fn collection(out: &mut String, table: &str, spec: &TaskSpec) {
    writeln!(out, "\n[[{table}]]").unwrap();
    writeln!(out, "kind = {}", string(spec.kind.name())).unwrap();
    for (key, value) in [
        ("features_size", spec.features_size),
        ("num_train_examples", spec.num_train_examples),
        ("num_valid_examples", spec.num_valid_examples),
    ] {
        if let Some(v) = value {
            writeln!(out, "{key} = {v}").unwrap();
        }
    }
    writeln!(out, "num_tasks = {}", spec.num_tasks).unwrap();
    if let Some(e) = spec.eval_type {
        writeln!(out, "eval_type = {}", string(eval_type_name(e))).unwrap();
    }
    if spec.num_train_epochs != 1 {
        writeln!(out, "num_train_epochs = {}", spec.num_train_epochs).unwrap();
    }
    if spec.max_abs_error != crate::task::DEFAULT_MAX_ABS_ERROR {
        writeln!(out, "max_abs_error = {}", float(spec.max_abs_error)).unwrap();
    }
    for (key, seeds) in [
        ("data_seeds", &spec.data_seeds),
        ("param_seeds", &spec.param_seeds),
    ] {
        if !seeds.is_empty() {
            writeln!(out, "{key} = {}", list(seeds, u64::to_string)).unwrap();
        }
    }
    if let Some(i) = spec.increment {
        writeln!(out, "increment = {}", float(i)).unwrap();
    }
    if let Some(e) = &spec.train_examples {
        examples(out, "train_examples", e);
    }
    if let Some(e) = &spec.valid_examples {
        examples(out, "valid_examples", e);
    }
}

/// The config text.
pub fn write(c: &Converted) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "# Converted by `amlz convert` from {} (the original's SearchExperimentSpec and flags).",
        c.source.replace('\n', " ")
    )
    .unwrap();
    for note in &c.notes {
        writeln!(out, "# Note: {note}.").unwrap();
    }
    out.push('\n');
    if let Some(seed) = c.seed {
        writeln!(out, "seed = {seed}").unwrap();
    }
    writeln!(
        out,
        "fitness_combination = {}",
        string(c.fitness_combination)
    )
    .unwrap();

    out.push_str("\n[memory]                  # the original's -DMAX_*_ADDRESSES\n");
    let [s, v, m] = c.memory;
    writeln!(out, "scalars = {s}\nvectors = {v}\nmatrices = {m}").unwrap();

    out.push_str("\n[ops]\n");
    for f in ComponentFunction::ALL {
        let names = list(&c.ops[f as usize], |op| string(op.name()));
        writeln!(out, "{} = {names}", f.key()).unwrap();
    }
    out.push_str("\n[sizes]\n");
    for f in ComponentFunction::ALL {
        writeln!(out, "{} = {}", f.key(), size(&c.sizes[f as usize])).unwrap();
    }

    let s = &c.search;
    out.push_str("\n[search]\n");
    writeln!(out, "population_size = {}", s.population_size).unwrap();
    writeln!(out, "tournament_size = {}", s.tournament_size).unwrap();
    writeln!(out, "initial_population = {}", string(s.initial_population)).unwrap();
    writeln!(out, "mutate_prob = {}", float(s.mutate_prob)).unwrap();
    writeln!(out, "mutations = {}", list(&s.mutations, |m| string(m))).unwrap();
    writeln!(out, "progress_every = {}", s.progress_every).unwrap();
    if let Some(n) = s.max_individuals {
        writeln!(out, "max_individuals = {n}").unwrap();
    }
    if let Some(n) = s.max_train_steps {
        writeln!(out, "max_train_steps = {n}").unwrap();
    }

    out.push_str("\n[fec]\n");
    match &c.fec {
        None => out.push_str("enabled = false           # the spec has no `fec`\n"),
        Some(f) => {
            writeln!(out, "num_train_examples = {}", f.num_train_examples).unwrap();
            writeln!(out, "num_valid_examples = {}", f.num_valid_examples).unwrap();
            writeln!(out, "cache_size = {}", f.cache_size).unwrap();
            writeln!(out, "forget_every = {}", f.forget_every).unwrap();
        }
    }
    if let Some((baseline, factor)) = c.train_budget {
        out.push_str("\n[train_budget]\n");
        writeln!(out, "baseline = {}", string(baseline)).unwrap();
        writeln!(out, "threshold_factor = {}", float(factor)).unwrap();
    }

    let e = &c.experiments;
    out.push_str("\n[experiments]             # the original's flags\n");
    writeln!(out, "max_experiments = {}", e.max_experiments).unwrap();
    if let Some(x) = e.sufficient_fitness {
        writeln!(out, "sufficient_fitness = {}", float(x)).unwrap();
    }
    writeln!(out, "randomize_task_seeds = {}", e.randomize_task_seeds).unwrap();

    for (table, specs) in ["search_tasks", "select_tasks", "final_tasks"]
        .into_iter()
        .zip(&c.tasks)
    {
        for spec in specs {
            collection(&mut out, table, spec);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_and_strings_are_valid_toml() {
        for x in [0.9999, 1e-7, 100.0, -0.0, f64::INFINITY, 1e300] {
            let v: toml::Value = toml::from_str(&format!("x = {}", float(x))).unwrap();
            assert_eq!(v["x"].as_float().unwrap().to_bits(), x.to_bits());
        }
        let v: toml::Value = toml::from_str(&format!("x = {}", float(f64::NAN))).unwrap();
        assert!(v["x"].as_float().unwrap().is_nan());
        let v: toml::Value = toml::from_str(&format!("x = {}", string("a\"b\\c\n"))).unwrap();
        assert_eq!(v["x"].as_str(), Some("a\"b\\c\n"));
    }
}
