//! The `[search]` table: population, tournament, initial population, mutations, progress and
//! the per-experiment stops.

use super::ConfigError;
use super::raw::{Given, RawSearch};
use super::report::Reporter;
use crate::search::{InitialPopulation, MutationType};
use amlz_ir::MemoryCounts;

/// The mutations when `[search]` lists none.
const DEFAULT_MUTATIONS: [MutationType; 3] = [
    MutationType::AlterParam,
    MutationType::RandomizeInstruction,
    MutationType::RandomizeComponentFunction,
];

/// `[search]`, checked, defaults applied (except the initial population: see
/// [`initial_population`]). Each field is the same-named one of [`super::Experiment`].
pub(super) struct SearchSettings {
    pub population_size: usize,
    pub tournament_size: usize,
    pub mutate_prob: f64,
    pub mutations: Vec<MutationType>,
    pub progress_every: u64,
    pub max_individuals: Option<u64>,
    pub max_train_steps: Option<u64>,
    pub target_fitness: Option<f64>,
}

/// `search.initial_population` (default random). Read before `[ops]` is checked, since a random
/// population needs ops to draw from.
pub(super) fn initial_population(
    s: &RawSearch,
    c: &Reporter,
) -> Result<InitialPopulation, ConfigError> {
    let name = Given::or(&s.initial_population, "random".to_string());
    parse_name(&name.value).ok_or_else(|| {
        let problem = format!(
            "unknown value \"{}\" (allowed: {})",
            name.value,
            InitialPopulation::NAMES
        );
        c.err(name.span, "search", "initial_population", problem)
    })
}

/// Checks that a hand-made initial population fits the memory `counts`.
pub(super) fn check_handmade(
    s: &RawSearch,
    initial: InitialPopulation,
    counts: &MemoryCounts,
    c: &Reporter,
) -> Result<(), ConfigError> {
    let algorithm = match initial {
        InitialPopulation::Linear => amlz_ir::handmade::linear(0.01),
        InitialPopulation::NeuralNet => amlz_ir::handmade::neural_net(),
        InitialPopulation::DamagedNeuralNet => amlz_ir::handmade::damaged_neural_net(),
        _ => return Ok(()),
    };
    let Err(e) = algorithm.check_addresses(counts) else {
        return Ok(());
    };
    let need = algorithm.min_counts();
    let name = Given::or(&s.initial_population, String::new());
    let problem = format!(
        "{} needs memory of at least {} scalars, {} vectors, {} matrices ({e})",
        name.value, need.scalars, need.vectors, need.matrices
    );
    Err(c.err(name.span, "search", "initial_population", problem))
}

/// Checks the rest of `[search]`.
pub(super) fn search(s: &RawSearch, c: &Reporter) -> Result<SearchSettings, ConfigError> {
    let (population_size, tournament_size) = population_and_tournament(s, c)?;
    let mutate_prob = Given::or(&s.mutate_prob, 0.9);
    if !(0.0..=1.0).contains(&mutate_prob.value) {
        let problem = format!(
            "{} is not a probability (allowed: 0.0 to 1.0)",
            mutate_prob.value
        );
        return Err(c.err(mutate_prob.span, "search", "mutate_prob", problem));
    }
    let mutations = mutations(s, c)?;
    if let Some(t) = &s.target_fitness
        && !(0.0..=1.0).contains(t.get_ref())
    {
        let problem = format!("{} is not allowed (allowed: 0.0 to 1.0)", t.get_ref());
        return Err(c.err(Some(t.span()), "search", "target_fitness", problem));
    }
    Ok(SearchSettings {
        population_size,
        tournament_size,
        mutate_prob: mutate_prob.value,
        mutations,
        progress_every: s.progress_every.unwrap_or(10_000),
        max_individuals: s.max_individuals,
        max_train_steps: s.max_train_steps,
        target_fitness: s.target_fitness.as_ref().map(|t| *t.get_ref()),
    })
}

/// P (default 1000, at least 1) and T (default 10, 1 to P).
fn population_and_tournament(s: &RawSearch, c: &Reporter) -> Result<(usize, usize), ConfigError> {
    let p = Given::or(&s.population_size, 1000);
    c.at_least_one(&p, "search", "population_size")?;
    let t = Given::or(&s.tournament_size, 10);
    if t.value < 1 || t.value > p.value {
        let problem = format!(
            "{} is not allowed (allowed: 1 to population_size = {})",
            t.value, p.value
        );
        return Err(c.err(t.span, "search", "tournament_size", problem));
    }
    Ok((p.value as usize, t.value as usize))
}

/// `search.mutations`: known names, at least one (default [`DEFAULT_MUTATIONS`]).
fn mutations(s: &RawSearch, c: &Reporter) -> Result<Vec<MutationType>, ConfigError> {
    let Some(list) = &s.mutations else {
        return Ok(DEFAULT_MUTATIONS.to_vec());
    };
    let mut mutations = Vec::new();
    for name in list.get_ref() {
        let m = parse_name(name.get_ref()).ok_or_else(|| {
            let problem = format!(
                "unknown mutation \"{}\" (allowed: {})",
                name.get_ref(),
                MutationType::NAMES
            );
            c.err(Some(name.span()), "search", "mutations", problem)
        })?;
        mutations.push(m);
    }
    if mutations.is_empty() {
        let problem = format!("the list is empty (allowed: {})", MutationType::NAMES);
        return Err(c.err(Some(list.span()), "search", "mutations", problem));
    }
    Ok(mutations)
}

/// Parses a snake_case enum name with serde.
fn parse_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name)).ok()
}
