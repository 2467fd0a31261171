//! An algorithm: the three component functions Setup, Predict and Learn.

use crate::instruction::{AddressProblem, Instruction};
use crate::layout::MemoryCounts;
use std::fmt;

/// One of the three component functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComponentFunction {
    /// Runs once per task, on zeroed memory.
    Setup,
    /// Runs per example; writes the prediction to `s1`.
    Predict,
    /// Runs per train example after Predict, with the label in `s0`.
    Learn,
}

impl ComponentFunction {
    /// The three, in order.
    pub const ALL: [ComponentFunction; 3] = [
        ComponentFunction::Setup,
        ComponentFunction::Predict,
        ComponentFunction::Learn,
    ];

    /// Name as printed in the readable format (`Setup`, `Predict`, `Learn`).
    pub fn name(self) -> &'static str {
        match self {
            ComponentFunction::Setup => "Setup",
            ComponentFunction::Predict => "Predict",
            ComponentFunction::Learn => "Learn",
        }
    }

    /// Name in configs (`setup`, `predict`, `learn`).
    pub fn key(self) -> &'static str {
        match self {
            ComponentFunction::Setup => "setup",
            ComponentFunction::Predict => "predict",
            ComponentFunction::Learn => "learn",
        }
    }
}

impl fmt::Display for ComponentFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An algorithm: three lists of instructions.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct Algorithm {
    /// Setup: runs once per task.
    pub setup: Vec<Instruction>,
    /// Predict: runs per example.
    pub predict: Vec<Instruction>,
    /// Learn: runs per train example.
    pub learn: Vec<Instruction>,
}

impl Clone for Algorithm {
    fn clone(&self) -> Algorithm {
        Algorithm {
            setup: self.setup.clone(),
            predict: self.predict.clone(),
            learn: self.learn.clone(),
        }
    }

    /// Copies `source` into this algorithm's own buffers: a search makes every child this way,
    /// in the place of the member it replaces, without allocating.
    fn clone_from(&mut self, source: &Algorithm) {
        self.setup.clone_from(&source.setup);
        self.predict.clone_from(&source.predict);
        self.learn.clone_from(&source.learn);
    }
}

/// Checks every address of `list`, the instructions of component function `function`, against
/// `counts`; the first problem found is returned, located in the function.
pub fn check_function_addresses(
    function: ComponentFunction,
    list: &[Instruction],
    counts: &MemoryCounts,
) -> Result<(), AddressError> {
    for (index, instr) in list.iter().enumerate() {
        instr
            .check_addresses(counts)
            .map_err(|problem| AddressError {
                function,
                index,
                problem,
            })?;
    }
    Ok(())
}

/// An instruction whose address does not fit a memory, located in its algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressError {
    /// The component function holding the instruction.
    pub function: ComponentFunction,
    /// The instruction's index in that function (0-based).
    pub index: usize,
    /// What is wrong with it.
    pub problem: AddressProblem,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} instruction {}: {}",
            self.function,
            self.index + 1,
            self.problem
        )
    }
}

impl std::error::Error for AddressError {}

impl Algorithm {
    /// The instructions of one component function.
    pub fn function(&self, which: ComponentFunction) -> &[Instruction] {
        match which {
            ComponentFunction::Setup => &self.setup,
            ComponentFunction::Predict => &self.predict,
            ComponentFunction::Learn => &self.learn,
        }
    }

    /// Mutable access to the instructions of one component function.
    pub fn function_mut(&mut self, which: ComponentFunction) -> &mut Vec<Instruction> {
        match which {
            ComponentFunction::Setup => &mut self.setup,
            ComponentFunction::Predict => &mut self.predict,
            ComponentFunction::Learn => &mut self.learn,
        }
    }

    /// Every instruction, Setup first.
    pub fn instructions(&self) -> impl Iterator<Item = &Instruction> {
        self.setup.iter().chain(&self.predict).chain(&self.learn)
    }

    /// The smallest memory counts that hold every address this algorithm uses and the fixed
    /// roles (S ≥ 2, V ≥ 1).
    pub fn min_counts(&self) -> MemoryCounts {
        let mut counts = MemoryCounts::MINIMUM;
        for instr in self.instructions() {
            instr.extend_counts(&mut counts);
        }
        counts
    }

    /// Checks every address against `counts`; the first problem found is returned.
    pub fn check_addresses(&self, counts: &MemoryCounts) -> Result<(), AddressError> {
        ComponentFunction::ALL
            .iter()
            .try_for_each(|&f| check_function_addresses(f, self.function(f), counts))
    }

    /// Whether any instruction draws from the random stream.
    pub fn uses_randomness(&self) -> bool {
        self.instructions().any(|i| i.op.is_random())
    }
}

impl fmt::Display for Algorithm {
    /// The readable format of SEMANTICS.md §3.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::print_algorithm(self))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Algorithm, handmade};

    fn buffers(a: &Algorithm) -> [(*const crate::Instruction, usize); 3] {
        [&a.setup, &a.predict, &a.learn].map(|v| (v.as_ptr(), v.capacity()))
    }

    #[test]
    fn clone_from_copies_into_the_buffers_already_there() {
        let source = handmade::linear(0.5);
        let mut target = handmade::neural_net();
        let before = buffers(&target);
        assert!(before.iter().zip(buffers(&source)).all(|(t, s)| t.1 >= s.1));
        target.clone_from(&source);
        assert_eq!(target, source);
        assert_eq!(buffers(&target), before);
    }
}
