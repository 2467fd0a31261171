//! Mutations (SEMANTICS.md §7): the eight types and their exact rules.

use super::generator::random_function;
use super::space::AlgorithmSpace;
use amlz_ir::random::{alter_data, random_address, random_instruction_from};
use amlz_ir::{Algorithm, ComponentFunction, Instruction, Rng};

/// A kind of mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutationType {
    /// Change one parameter (an address or the data) of one instruction.
    AlterParam,
    /// Replace one instruction by a random one.
    RandomizeInstruction,
    /// Replace every instruction of one component function by random ones.
    RandomizeComponentFunction,
    /// Insert a random instruction, unless the function is at its max size.
    InsertInstruction,
    /// Remove a random instruction, unless the function is at its min size.
    RemoveInstruction,
    /// Insert then remove: size unchanged, contents shift.
    TradeInstruction,
    /// Randomize every mutable component function.
    RandomizeAlgorithm,
    /// No change.
    Identity,
}

impl MutationType {
    /// The config names, for error messages.
    pub const NAMES: &'static str = "alter_param, randomize_instruction, randomize_component_function, \
        insert_instruction, remove_instruction, trade_instruction, randomize_algorithm, identity";
}

/// Applies mutations drawn from an allowed set to algorithms of one space.
#[derive(Clone, Debug)]
pub struct Mutator {
    space: AlgorithmSpace,
    types: Vec<MutationType>,
    mutate_prob: f64,
    mutable: Vec<ComponentFunction>,
}

impl Mutator {
    /// A mutator over `space` picking uniformly among `types` (not empty), mutating a child with
    /// probability `mutate_prob`.
    pub fn new(space: AlgorithmSpace, types: Vec<MutationType>, mutate_prob: f64) -> Mutator {
        assert!(
            !types.is_empty(),
            "a mutator needs at least one mutation type"
        );
        let mutable = space.mutable_functions().collect();
        Mutator {
            space,
            types,
            mutate_prob,
            mutable,
        }
    }

    /// The space the mutator keeps algorithms in.
    pub fn space(&self) -> &AlgorithmSpace {
        &self.space
    }

    /// With probability `mutate_prob`, applies one mutation of a uniformly drawn allowed type;
    /// else leaves the child an identical copy.
    pub fn mutate(&self, algorithm: &mut Algorithm, rng: &mut Rng) {
        if rng.bernoulli(self.mutate_prob) {
            let t = self.types[rng.below(self.types.len())];
            self.apply(t, algorithm, rng);
        }
    }

    /// Applies mutation `t` (does nothing where the algorithm has nothing it could change).
    pub fn apply(&self, t: MutationType, algorithm: &mut Algorithm, rng: &mut Rng) {
        if self.mutable.is_empty() {
            return;
        }
        let which = self.mutable[rng.below(self.mutable.len())];
        match t {
            MutationType::AlterParam => self.alter_param(algorithm.function_mut(which), rng),
            MutationType::RandomizeInstruction => {
                let ops = &self.space.function(which).ops;
                let list = algorithm.function_mut(which);
                if !list.is_empty() {
                    let i = rng.below(list.len());
                    list[i] = random_instruction_from(ops, &self.space.counts, rng);
                }
            }
            MutationType::RandomizeComponentFunction => self.randomize(algorithm, which, rng),
            MutationType::InsertInstruction => {
                self.insert(algorithm.function_mut(which), which, rng)
            }
            MutationType::RemoveInstruction => {
                self.remove(algorithm.function_mut(which), which, rng)
            }
            MutationType::TradeInstruction => {
                let list = algorithm.function_mut(which);
                let ops = &self.space.function(which).ops;
                let at = rng.below(list.len() + 1);
                list.insert(at, random_instruction_from(ops, &self.space.counts, rng));
                let i = rng.below(list.len());
                list.remove(i);
            }
            MutationType::RandomizeAlgorithm => {
                for &f in &self.mutable {
                    self.randomize(algorithm, f, rng);
                }
            }
            MutationType::Identity => {}
        }
    }

    fn randomize(&self, algorithm: &mut Algorithm, which: ComponentFunction, rng: &mut Rng) {
        let fs = self.space.function(which);
        let size = algorithm.function(which).len();
        *algorithm.function_mut(which) = random_function(size, &fs.ops, &self.space, rng);
    }

    fn insert(&self, list: &mut Vec<Instruction>, which: ComponentFunction, rng: &mut Rng) {
        let fs = self.space.function(which);
        if list.len() >= fs.max_size {
            return;
        }
        let at = rng.below(list.len() + 1);
        list.insert(
            at,
            random_instruction_from(&fs.ops, &self.space.counts, rng),
        );
    }

    fn remove(&self, list: &mut Vec<Instruction>, which: ComponentFunction, rng: &mut Rng) {
        if list.len() <= self.space.function(which).min_size || list.is_empty() {
            return;
        }
        let i = rng.below(list.len());
        list.remove(i);
    }

    /// ALTER_PARAM on one instruction of `list`: for data-setting ops, re-draw `out` or alter the
    /// data (even odds); for others, re-draw one of the address fields the op uses.
    fn alter_param(&self, list: &mut [Instruction], rng: &mut Rng) {
        if list.is_empty() {
            return;
        }
        let i = rng.below(list.len());
        let instr = &mut list[i];
        let info = instr.op.info();
        let counts = &self.space.counts;
        if info.data.is_data_setting() {
            if rng.below(2) == 0 {
                let bank = info.out.expect("data ops write an output");
                instr.out = random_address(bank, counts, true, rng);
            } else {
                alter_data(instr, rng);
            }
            return;
        }
        let fields = [(info.in1, 0), (info.in2, 1), (info.out, 2)];
        let used = fields.iter().filter(|(b, _)| b.is_some()).count();
        if used == 0 {
            return; // NO_OP has no parameter.
        }
        let pick = rng.below(used);
        let (bank, field) = fields
            .iter()
            .filter(|(b, _)| b.is_some())
            .nth(pick)
            .copied()
            .expect("in range");
        let bank = bank.expect("filtered");
        match field {
            0 => instr.in1 = random_address(bank, counts, false, rng),
            1 => instr.in2 = random_address(bank, counts, false, rng),
            _ => instr.out = random_address(bank, counts, true, rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::generator::{InitialPopulation, generate};
    use crate::search::space::FunctionSpace;
    use amlz_ir::{MemoryCounts, Op};

    fn demo_space() -> AlgorithmSpace {
        use Op::*;
        let ops = vec![
            ScalarConstSet,
            VectorInnerProduct,
            ScalarDiff,
            ScalarProduct,
            ScalarVectorProduct,
            VectorSum,
        ];
        AlgorithmSpace {
            functions: [
                FunctionSpace::fixed(ops.clone(), 10),
                FunctionSpace::fixed(ops.clone(), 2),
                FunctionSpace::fixed(ops, 8),
            ],
            counts: MemoryCounts {
                scalars: 4,
                vectors: 3,
                matrices: 1,
            },
        }
    }

    #[test]
    fn every_mutation_keeps_sizes_within_bounds_and_addresses_valid() {
        let mut space = demo_space();
        space.functions[2] = FunctionSpace {
            init_size: 5,
            min_size: 3,
            max_size: 7,
            ..space.functions[2].clone()
        };
        let all = vec![
            MutationType::AlterParam,
            MutationType::RandomizeInstruction,
            MutationType::RandomizeComponentFunction,
            MutationType::InsertInstruction,
            MutationType::RemoveInstruction,
            MutationType::TradeInstruction,
            MutationType::RandomizeAlgorithm,
            MutationType::Identity,
        ];
        let m = Mutator::new(space.clone(), all, 1.0);
        let mut rng = Rng::new(3);
        let mut a = generate(InitialPopulation::Random, &space, &mut rng);
        let mut sizes = std::collections::HashSet::new();
        for _ in 0..5000 {
            m.mutate(&mut a, &mut rng);
            assert_eq!(a.setup.len(), 10);
            assert_eq!(a.predict.len(), 2);
            assert!((3..=7).contains(&a.learn.len()), "{}", a.learn.len());
            sizes.insert(a.learn.len());
            assert!(a.check_addresses(&space.counts).is_ok());
            for i in a.instructions() {
                assert!(space.functions[0].ops.contains(&i.op), "{:?}", i.op);
            }
        }
        assert_eq!(
            sizes.len(),
            5,
            "insert and remove reach every size from 3 to 7"
        );
    }

    #[test]
    fn frozen_functions_are_never_mutated() {
        let mut space = demo_space();
        space.functions[1].ops.clear();
        space.functions[2].ops.clear();
        space.functions[0] = FunctionSpace {
            ops: vec![Op::VectorGaussianSet, Op::MatrixGaussianSet],
            init_size: 6,
            min_size: 6,
            max_size: 7,
        };
        space.counts = MemoryCounts {
            scalars: 5,
            vectors: 9,
            matrices: 2,
        };
        let m = Mutator::new(
            space.clone(),
            vec![
                MutationType::AlterParam,
                MutationType::InsertInstruction,
                MutationType::RemoveInstruction,
                MutationType::TradeInstruction,
            ],
            1.0,
        );
        let mut rng = Rng::new(4);
        let start = generate(InitialPopulation::DamagedNeuralNet, &space, &mut rng);
        let mut a = start.clone();
        for _ in 0..2000 {
            m.mutate(&mut a, &mut rng);
            assert_eq!(a.predict, start.predict);
            assert_eq!(a.learn, start.learn);
            assert!((6..=7).contains(&a.setup.len()));
        }
        assert_ne!(a.setup, start.setup);
    }

    #[test]
    fn alter_param_changes_one_field_of_one_instruction() {
        let space = demo_space();
        let m = Mutator::new(space.clone(), vec![MutationType::AlterParam], 1.0);
        let mut rng = Rng::new(5);
        let a = generate(InitialPopulation::Random, &space, &mut rng);
        for _ in 0..500 {
            let mut b = a.clone();
            m.mutate(&mut b, &mut rng);
            let diffs: Vec<_> = a
                .instructions()
                .zip(b.instructions())
                .filter(|(x, y)| x != y)
                .collect();
            assert!(diffs.len() <= 1);
            for (x, y) in diffs {
                assert_eq!(x.op, y.op);
                let changed = (x.in1 != y.in1) as u8
                    + (x.in2 != y.in2) as u8
                    + (x.out != y.out) as u8
                    + (x.activation.to_bits() != y.activation.to_bits()) as u8
                    + (x.data.map(f32::to_bits) != y.data.map(f32::to_bits)) as u8;
                assert!(changed <= 1, "{x:?} -> {y:?}");
            }
        }
    }

    #[test]
    fn mutate_prob_zero_copies() {
        let space = demo_space();
        let m = Mutator::new(space.clone(), vec![MutationType::RandomizeAlgorithm], 0.0);
        let mut rng = Rng::new(6);
        let a = generate(InitialPopulation::Random, &space, &mut rng);
        let mut b = a.clone();
        m.mutate(&mut b, &mut rng);
        assert_eq!(a, b);
    }
}
