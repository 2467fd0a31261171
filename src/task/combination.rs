//! How a task collection's per-task fitnesses combine into one (SEMANTICS.md §4, last
//! paragraph): the collection's rule, which task files and configs name.

use super::error::UnknownName;

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
