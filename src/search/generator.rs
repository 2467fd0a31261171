//! Initial algorithms of a population (SEMANTICS.md §7).

use super::space::AlgorithmSpace;
use amlz_ir::random::random_instruction_from;
use amlz_ir::{Algorithm, ComponentFunction, Instruction, Rng, handmade};

/// What the initial population consists of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialPopulation {
    /// Every instruction a NoOp, at the initial sizes.
    NoOp,
    /// Random instructions of the allowed ops, at the initial sizes.
    Random,
    /// The hand-made linear regressor (learning rate 0.01), padded.
    Linear,
    /// The hand-made 2-layer network, padded.
    NeuralNet,
    /// The network without its two weight-initialisation Setup instructions, padded.
    DamagedNeuralNet,
}

impl InitialPopulation {
    /// The config names, for error messages.
    pub const NAMES: &'static str = "no_op, random, linear, neural_net, damaged_neural_net";
}

/// One initial algorithm of kind `kind` in `space`, drawing from `rng` where the kind is random.
pub fn generate(kind: InitialPopulation, space: &AlgorithmSpace, rng: &mut Rng) -> Algorithm {
    match kind {
        InitialPopulation::NoOp => space.pad(Algorithm::default()),
        InitialPopulation::Random => {
            let mut a = Algorithm::default();
            for f in ComponentFunction::ALL {
                let fs = space.function(f);
                *a.function_mut(f) = random_function(fs.init_size, &fs.ops, space, rng);
            }
            a
        }
        InitialPopulation::Linear => space.pad(handmade::linear(0.01)),
        InitialPopulation::NeuralNet => space.pad(handmade::neural_net()),
        InitialPopulation::DamagedNeuralNet => space.pad(handmade::damaged_neural_net()),
    }
}

/// `size` random instructions of `ops` (NoOps if `ops` is empty).
pub fn random_function(
    size: usize,
    ops: &[amlz_ir::Op],
    space: &AlgorithmSpace,
    rng: &mut Rng,
) -> Vec<Instruction> {
    (0..size)
        .map(|_| {
            if ops.is_empty() {
                Instruction::NO_OP
            } else {
                random_instruction_from(ops, &space.counts, rng)
            }
        })
        .collect()
}
