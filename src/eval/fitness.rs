//! The fitness formulas of SEMANTICS.md §4, shared by every executor so that they cannot drift.

use crate::task::error::UnknownName;
use amlz_ir::kernels;

/// RMS_ERROR fitness from the summed squared error over `n` examples:
/// `1 - (2/π) atan(sqrt(loss / n))`, 0.0 when the root is NaN or infinite.
pub fn rms_fitness(loss: f64, n: usize) -> f64 {
    let rms = (loss / n as f64).sqrt();
    if !rms.is_finite() {
        return 0.0;
    }
    1.0 - (2.0 / std::f64::consts::PI) * kernels::atan(rms)
}

/// ACCURACY fitness: `1 - wrong / n`.
pub fn accuracy_fitness(wrong: usize, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    1.0 - wrong as f64 / n as f64
}

/// How the per-task fitnesses of a collection combine into one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Combination {
    /// The arithmetic mean (the default).
    #[default]
    Mean,
    /// The median (mean of the two middle values for an even count).
    Median,
}

impl Combination {
    /// The name in config and task files: `mean` or `median`.
    pub fn name(self) -> &'static str {
        match self {
            Combination::Mean => "mean",
            Combination::Median => "median",
        }
    }
}

impl std::str::FromStr for Combination {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Combination, UnknownName> {
        [Combination::Mean, Combination::Median]
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownName {
                what: "fitness_combination",
                given: s.to_string(),
                allowed: vec!["mean", "median"],
            })
    }
}

impl<'de> serde::Deserialize<'de> for Combination {
    /// Reads `"mean"` or `"median"`; anything else is an error listing the two.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Combines per-task fitnesses (0.0 for an empty list).
pub fn combine(fitnesses: &[f64], how: Combination) -> f64 {
    if fitnesses.is_empty() {
        return 0.0;
    }
    match how {
        Combination::Mean => fitnesses.iter().sum::<f64>() / fitnesses.len() as f64,
        Combination::Median => {
            let mut v = fitnesses.to_vec();
            v.sort_by(f64::total_cmp);
            let mid = v.len() / 2;
            if v.len() % 2 == 1 {
                v[mid]
            } else {
                (v[mid - 1] + v[mid]) / 2.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_fitness_maps_zero_error_to_one_and_nan_to_zero() {
        assert_eq!(rms_fitness(0.0, 10), 1.0);
        assert_eq!(rms_fitness(f64::NAN, 10), 0.0);
        assert_eq!(rms_fitness(f64::INFINITY, 10), 0.0);
        // rms 1 → 1 - (2/π)(π/4) = 0.5
        assert!((rms_fitness(10.0, 10) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn combinations() {
        assert_eq!(combine(&[0.1, 0.5, 0.9], Combination::Mean), 0.5);
        assert_eq!(combine(&[0.9, 0.1, 0.2], Combination::Median), 0.2);
        assert_eq!(
            combine(&[0.4, 0.1, 0.2, 0.9], Combination::Median),
            0.30000000000000004
        );
        assert_eq!(combine(&[], Combination::Mean), 0.0);
    }
}
