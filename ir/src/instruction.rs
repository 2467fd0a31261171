//! One instruction: an op, its three addresses and its data.

use crate::layout::MemoryCounts;
use crate::op::{Bank, Op};

/// An instruction: `op, in1, in2, out` plus one `f64` activation and three `f32` float data.
/// Fields an op does not use are zero (SEMANTICS.md §2).
#[derive(Clone, Copy, Debug)]
pub struct Instruction {
    /// What the instruction does.
    pub op: Op,
    /// First input address (in the op's `in1` bank).
    pub in1: u16,
    /// Second input address (in the op's `in2` bank).
    pub in2: u16,
    /// Output address (in the op's `out` bank).
    pub out: u16,
    /// The `f64` constant of SCALAR_CONST_SET.
    pub activation: f64,
    /// Float data: indices, values, distribution parameters (see [`crate::DataKind`]).
    pub data: [f32; 3],
}

impl Instruction {
    /// The no-op instruction, all fields zero.
    pub const NO_OP: Instruction = Instruction {
        op: Op::NoOp,
        in1: 0,
        in2: 0,
        out: 0,
        activation: 0.0,
        data: [0.0; 3],
    };

    /// An instruction of `op` with the given addresses and no data; unused address fields are
    /// zeroed.
    pub fn new(op: Op, in1: u16, in2: u16, out: u16) -> Instruction {
        let info = op.info();
        Instruction {
            op,
            in1: if info.in1.is_some() { in1 } else { 0 },
            in2: if info.in2.is_some() { in2 } else { 0 },
            out: if info.out.is_some() { out } else { 0 },
            activation: 0.0,
            data: [0.0; 3],
        }
    }

    /// A SCALAR_CONST_SET of `value` into `s{out}`.
    pub fn constant(out: u16, value: f64) -> Instruction {
        Instruction {
            activation: value,
            ..Instruction::new(Op::ScalarConstSet, 0, 0, out)
        }
    }

    /// A data-setting instruction of `op` with float data `data`.
    pub fn with_data(op: Op, out: u16, data: [f32; 3]) -> Instruction {
        Instruction {
            data,
            ..Instruction::new(op, 0, 0, out)
        }
    }

    /// The addresses this instruction reads, with their banks.
    pub fn inputs(&self) -> impl Iterator<Item = (Bank, u16)> + '_ {
        let info = self.op.info();
        info.in1
            .map(|b| (b, self.in1))
            .into_iter()
            .chain(info.in2.map(|b| (b, self.in2)))
    }

    /// The address this instruction writes, with its bank (`None` for NO_OP).
    pub fn output(&self) -> Option<(Bank, u16)> {
        self.op.info().out.map(|b| (b, self.out))
    }

    /// Raises `counts` so that they hold every address this instruction uses.
    pub fn extend_counts(&self, counts: &mut MemoryCounts) {
        for (bank, addr) in self.inputs().chain(self.output()) {
            let c = counts.count_mut(bank);
            *c = (*c).max(addr as usize + 1);
        }
    }

    /// The first address of this instruction that is out of range for `counts`. Outputs to `s0`
    /// and `v0` are allowed (SEMANTICS.md §1): the executors set them again before the next
    /// Predict or Learn.
    pub fn check_addresses(&self, counts: &MemoryCounts) -> Result<(), AddressProblem> {
        for (bank, addr) in self.inputs() {
            if addr as usize >= counts.count(bank) {
                return Err(AddressProblem::OutOfRange {
                    bank,
                    addr,
                    count: counts.count(bank),
                });
            }
        }
        if let Some((bank, addr)) = self.output()
            && addr as usize >= counts.count(bank)
        {
            return Err(AddressProblem::OutOfRange {
                bank,
                addr,
                count: counts.count(bank),
            });
        }
        Ok(())
    }
}

/// Why an instruction's address is not allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressProblem {
    /// The address is not below the bank's count.
    OutOfRange {
        /// The bank.
        bank: Bank,
        /// The address.
        addr: u16,
        /// The bank's count.
        count: usize,
    },
}

impl std::fmt::Display for AddressProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            AddressProblem::OutOfRange { bank, addr, count } => write!(
                f,
                "address {}{addr} is out of range (the memory has {count} {}, {}0..{}{})",
                bank.letter(),
                bank_plural(bank),
                bank.letter(),
                bank.letter(),
                count.saturating_sub(1)
            ),
        }
    }
}

fn bank_plural(bank: Bank) -> &'static str {
    match bank {
        Bank::Scalar => "scalars",
        Bank::Vector => "vectors",
        Bank::Matrix => "matrices",
    }
}

impl PartialEq for Instruction {
    /// Bitwise equality of every field, so that NaN data compare equal to themselves and a
    /// lossless round trip can be asserted.
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op
            && self.in1 == other.in1
            && self.in2 == other.in2
            && self.out == other.out
            && self.activation.to_bits() == other.activation.to_bits()
            && self.data.map(f32::to_bits) == other.data.map(f32::to_bits)
    }
}

impl Eq for Instruction {}

impl std::hash::Hash for Instruction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.op.hash(state);
        (self.in1, self.in2, self.out).hash(state);
        self.activation.to_bits().hash(state);
        self.data.map(f32::to_bits).hash(state);
    }
}

impl Default for Instruction {
    fn default() -> Self {
        Instruction::NO_OP
    }
}
