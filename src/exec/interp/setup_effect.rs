//! Setup run alone: the memory an evaluation's Predict and Learn start from.

use super::program::{Decoded, decode_into};
use super::{Memory, exec};
use amlz_ir::algorithm::check_function_addresses;
use amlz_ir::kernels::Dim;
use amlz_ir::{AddressError, ComponentFunction, Instruction, Layout, Rng};

/// Runs Setup functions alone on zeroed memory, reusing its buffers (no allocation once grown).
/// An evaluation's only inputs are the memory as Setup leaves it, the examples and the random
/// stream (SEMANTICS.md §1), so two Setups with the same effect and no random op are
/// interchangeable.
#[derive(Clone, Debug, Default)]
pub struct SetupRunner {
    code: Vec<Decoded>,
    memory: Memory,
}

impl SetupRunner {
    /// The memory, in layout order, that `setup` leaves when it runs once on zeroed memory of
    /// `layout`, drawing random ops from `rng`: exactly what [`super::evaluate`] starts the
    /// examples from.
    ///
    /// # Errors
    /// If an address of `setup` does not fit the layout's counts.
    pub fn run(
        &mut self,
        setup: &[Instruction],
        layout: Layout,
        rng: &mut Rng,
    ) -> Result<&[f64], AddressError> {
        check_function_addresses(ComponentFunction::Setup, setup, &layout.counts())?;
        decode_into(setup, &layout, &mut self.code);
        self.memory.reset(&layout);
        with_dim!(layout.features(), d => self.run_dim(d, rng));
        Ok(self.memory.values())
    }

    fn run_dim<D: Dim>(&mut self, d: D, rng: &mut Rng) {
        let m = &mut self.memory;
        // SAFETY: every address was checked against the layout the code was decoded for, and
        // `reset` sized the memory for it and its scratch for F² values.
        unsafe {
            exec::run(
                d,
                &self.code,
                m.buf.as_mut_ptr(),
                m.scratch.as_mut_ptr(),
                rng,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::interp::{Program, run_component};
    use amlz_ir::{MemoryCounts, Op, handmade};

    #[test]
    fn leaves_the_memory_that_setup_leaves_in_an_evaluation() {
        let mut nn = handmade::neural_net();
        nn.setup.push(Instruction::new(Op::ScalarSum, 0, 0, 0));
        let layout = Layout::new(4, nn.min_counts()).unwrap();
        let program = Program::new(&nn, layout).unwrap();
        let mut memory = Memory::new(&layout);
        run_component(
            &program,
            ComponentFunction::Setup,
            &mut memory,
            &mut Rng::new(5),
        );
        let mut runner = SetupRunner::default();
        let effect = runner.run(&nn.setup, layout, &mut Rng::new(5)).unwrap();
        assert!(
            effect.iter().any(|&x| x != 0.0),
            "the network's Setup draws weights"
        );
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(effect), bits(memory.values()));
        let other = runner.run(&nn.setup, layout, &mut Rng::new(6)).unwrap();
        assert_ne!(
            bits(other),
            bits(memory.values()),
            "another stream, other weights"
        );
    }

    #[test]
    fn rejects_an_address_outside_the_layout() {
        let counts = MemoryCounts {
            scalars: 2,
            vectors: 2,
            matrices: 0,
        };
        let layout = Layout::new(4, counts).unwrap();
        let setup = [Instruction::new(Op::ScalarSum, 0, 1, 3)];
        let err = SetupRunner::default()
            .run(&setup, layout, &mut Rng::new(1))
            .unwrap_err();
        assert_eq!(err.function, ComponentFunction::Setup);
    }
}
