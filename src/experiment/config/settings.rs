//! The `[fec]`, `[train_budget]`, `[hurdle]` and `[experiments]` tables.

use super::raw::{Given, RawBudget, RawExperiments, RawFec, RawHurdle};
use super::report::Reporter;
use super::{Baseline, ConfigError};
use crate::search::{FecSettings, HurdleSettings};

/// `[experiments]`, checked, defaults applied. Each field is the same-named one of
/// [`super::Experiment`].
pub(super) struct ExperimentLimits {
    pub max_experiments: u64,
    pub sufficient_fitness: Option<f64>,
    pub randomize_task_seeds: bool,
    pub max_seconds: Option<f64>,
}

/// Checks `[fec]`: `None` when disabled; else at least one fingerprint example and a cache.
pub(super) fn fec(raw: &RawFec, c: &Reporter) -> Result<Option<FecSettings>, ConfigError> {
    if !raw.enabled.unwrap_or(true) {
        return Ok(None);
    }
    let train = Given::or(&raw.num_train_examples, 10);
    let valid = Given::or(&raw.num_valid_examples, 10);
    if train.value == 0 && valid.value == 0 {
        let problem = "a fingerprint needs at least one example (or set enabled = false)";
        return Err(c.err(train.span, "fec", "num_train_examples", problem));
    }
    let cache = Given::or(&raw.cache_size, 100_000);
    if cache.value == 0 {
        let problem = "0 is not allowed (allowed: 1 or more; or set enabled = false)";
        return Err(c.err(cache.span, "fec", "cache_size", problem));
    }
    Ok(Some(FecSettings {
        num_train_examples: train.value,
        num_valid_examples: valid.value,
        cache_size: cache.value,
        forget_every: raw.forget_every.unwrap_or(100),
    }))
}

/// Checks `[train_budget]`: a known baseline and a positive threshold factor (default 2).
pub(super) fn train_budget(
    raw: Option<&RawBudget>,
    c: &Reporter,
) -> Result<Option<(Baseline, f64)>, ConfigError> {
    let Some(b) = raw else {
        return Ok(None);
    };
    let baseline = match b.baseline.get_ref().as_str() {
        "linear" => Baseline::Linear,
        "neural_net" => Baseline::NeuralNet,
        other => {
            let problem = format!("unknown value \"{other}\" (allowed: linear, neural_net)");
            return Err(c.err(Some(b.baseline.span()), "train_budget", "baseline", problem));
        }
    };
    let factor = Given::or(&b.threshold_factor, 2.0);
    if factor.value.is_nan() || factor.value <= 0.0 {
        let problem = format!(
            "{} is not allowed (allowed: a positive number)",
            factor.value
        );
        return Err(c.err(factor.span, "train_budget", "threshold_factor", problem));
    }
    Ok(Some((baseline, factor.value)))
}

/// Checks `[hurdle]`: at least one early train example (default 100), a percentile in
/// (0, 100] (default 75), a window of at least one fitness (default 1000).
pub(super) fn hurdle(
    raw: Option<&RawHurdle>,
    c: &Reporter,
) -> Result<Option<HurdleSettings>, ConfigError> {
    let Some(h) = raw else {
        return Ok(None);
    };
    let train_examples = Given::or(&h.train_examples, 100);
    let train_examples = c.at_least_one(&train_examples, "hurdle", "train_examples")?;
    let window = c.at_least_one(&Given::or(&h.window, 1000), "hurdle", "window")?;
    let percentile = Given::or(&h.percentile, 75.0);
    if !(percentile.value > 0.0 && percentile.value <= 100.0) {
        let problem = format!(
            "{} is not allowed (allowed: more than 0, at most 100)",
            percentile.value
        );
        return Err(c.err(percentile.span, "hurdle", "percentile", problem));
    }
    Ok(Some(HurdleSettings {
        train_examples,
        percentile: percentile.value,
        window,
    }))
}

/// Checks `[experiments]`: a sufficient fitness within 0 to 1, a positive time limit.
pub(super) fn experiments(
    raw: &RawExperiments,
    c: &Reporter,
) -> Result<ExperimentLimits, ConfigError> {
    if let Some(f) = &raw.sufficient_fitness
        && !(0.0..=1.0).contains(f.get_ref())
    {
        let problem = format!("{} is not allowed (allowed: 0.0 to 1.0)", f.get_ref());
        return Err(c.err(Some(f.span()), "experiments", "sufficient_fitness", problem));
    }
    if let Some(sec) = &raw.max_seconds
        && (sec.get_ref().is_nan() || *sec.get_ref() <= 0.0)
    {
        let problem = format!(
            "{} is not allowed (allowed: a positive number)",
            sec.get_ref()
        );
        return Err(c.err(Some(sec.span()), "experiments", "max_seconds", problem));
    }
    Ok(ExperimentLimits {
        max_experiments: raw.max_experiments.unwrap_or(0),
        sufficient_fitness: raw.sufficient_fitness.as_ref().map(|f| *f.get_ref()),
        randomize_task_seeds: raw.randomize_task_seeds.unwrap_or(false),
        max_seconds: raw.max_seconds.as_ref().map(|s| *s.get_ref()),
    })
}
