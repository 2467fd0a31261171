//! `amlz show --simplify`: an algorithm without its dead code, its addresses renamed in order of
//! first use, so that an evolved program reads like a hand-written one.
//!
//! Dead code is what [`eliminate_dead_code`] removes (SEMANTICS.md §4, "Dead code"): the result
//! has the same fitness bit for bit. Renaming is a bijection of each bank's addresses that keeps
//! the fixed roles in place — `s0` (the label), `s1` (the prediction) and `v0` (the features),
//! SEMANTICS.md §1 — and numbers every other address in the order the program first reads or
//! writes it: Setup, then Predict, then Learn, instruction by instruction, each instruction's
//! inputs (`in1`, `in2`) before its output. Scalars are numbered from `s2`, vectors from `v1`,
//! matrices from `m0`. No op depends on an address other than through these roles and through
//! which operands are the same address, and memory starts all zeros, so the renamed program
//! computes the same predictions, draws and fitness.

use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{Algorithm, Bank, ComponentFunction, Instruction};
use std::collections::HashMap;

/// Whether `bank` address `addr` has a fixed role (`s0`, `s1`, `v0`) and keeps its number.
pub fn is_fixed(bank: Bank, addr: u16) -> bool {
    matches!(
        (bank, addr),
        (Bank::Scalar, 0) | (Bank::Scalar, 1) | (Bank::Vector, 0)
    )
}

/// The first number given to a renamed address of `bank`: the first one without a fixed role.
fn first_free(bank: Bank) -> u16 {
    match bank {
        Bank::Scalar => 2,
        Bank::Vector => 1,
        Bank::Matrix => 0,
    }
}

/// The renaming of one algorithm: per bank, old address to new.
#[derive(Debug, Default)]
struct Renaming {
    maps: [HashMap<u16, u16>; 3],
    next: [u16; 3],
}

impl Renaming {
    fn new() -> Renaming {
        Renaming {
            maps: Default::default(),
            next: Bank::ALL.map(first_free),
        }
    }

    /// The new number of `bank` address `addr`, given on first sight.
    fn name(&mut self, bank: Bank, addr: u16) -> u16 {
        if is_fixed(bank, addr) {
            return addr;
        }
        let b = bank as usize;
        if let Some(&n) = self.maps[b].get(&addr) {
            return n;
        }
        let n = self.next[b];
        self.next[b] += 1;
        self.maps[b].insert(addr, n);
        n
    }

    fn rename(&mut self, instr: &Instruction) -> Instruction {
        let info = instr.op.info();
        let mut out = *instr;
        if let Some(b) = info.in1 {
            out.in1 = self.name(b, instr.in1);
        }
        if let Some(b) = info.in2 {
            out.in2 = self.name(b, instr.in2);
        }
        if let Some(b) = info.out {
            out.out = self.name(b, instr.out);
        }
        out
    }
}

/// `algorithm` with every address other than `s0`, `s1` and `v0` renamed in order of first use
/// (see the module doc). The instructions, their order and their data are unchanged.
pub fn rename_addresses(algorithm: &Algorithm) -> Algorithm {
    let mut renaming = Renaming::new();
    let mut out = Algorithm::default();
    for function in ComponentFunction::ALL {
        *out.function_mut(function) = algorithm
            .function(function)
            .iter()
            .map(|i| renaming.rename(i))
            .collect();
    }
    out
}

/// `algorithm` without dead code and NO_OPs, its addresses renamed in order of first use: what
/// `amlz show --simplify` prints. It has the same fitness as `algorithm` on every task, bit for
/// bit, random ops included (they are never removed, and their order is kept).
pub fn simplify(algorithm: &Algorithm) -> Algorithm {
    rename_addresses(&eliminate_dead_code(algorithm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::{handmade, parse_algorithm};

    #[test]
    fn an_evolved_linear_regressor_reads_like_the_hand_made_one() {
        // The hand-made regressor with other addresses, dead code and NoOps.
        let evolved = parse_algorithm(
            "def Setup():\n  s7 = 0.01\n  v3 = bcast(s7)\n  NoOp()\n\
             def Predict():\n  s1 = dot(v0, v4)\n  s9 = s1 * s1\n\
             def Learn():\n  s5 = s0 - s1\n  s3 = s5 * s7\n  v2 = s3 * v0\n  v4 = v4 + v2\n  s8 = sin(s3)\n",
        )
        .unwrap();
        assert_eq!(simplify(&evolved), handmade::linear(0.01));
    }

    #[test]
    fn fixed_roles_keep_their_addresses_and_the_rest_is_a_bijection() {
        let a = parse_algorithm(
            "def Setup():\n  s0 = 0.5\n  v0 = bcast(s0)\n  m3 = outer(v0, v0)\n\
             def Predict():\n  v6 = dot(m3, v0)\n  s1 = dot(v6, v6)\n  s4 = s1 + s0\n\
             def Learn():\n  m2 = matmul(m3, m3)\n  m3 = m2 + m3\n  s2 = s4 * s4\n",
        )
        .unwrap();
        let r = rename_addresses(&a);
        let text = amlz_ir::print_algorithm(&r);
        assert_eq!(
            text,
            "def Setup():\n  s0 = 0.5\n  v0 = bcast(s0)\n  m0 = outer(v0, v0)\n\
             def Predict():\n  v1 = dot(m0, v0)\n  s1 = dot(v1, v1)\n  s2 = s1 + s0\n\
             def Learn():\n  m1 = matmul(m0, m0)\n  m0 = m1 + m0\n  s3 = s2 * s2\n"
        );
        // Renaming a renamed program changes nothing.
        assert_eq!(rename_addresses(&r), r);
    }

    #[test]
    fn simplify_keeps_dead_random_ops_in_their_order() {
        let a = parse_algorithm(
            "def Setup():\n  s5 = gaussian(0.0, 1.0)\n  v4 = uniform(-1.0, 1.0, n_features)\n\
             def Predict():\n  s1 = mean(v4)\n",
        )
        .unwrap();
        let s = simplify(&a);
        assert_eq!(
            amlz_ir::print_algorithm(&s),
            "def Setup():\n  s2 = gaussian(0.0, 1.0)\n  v1 = uniform(-1.0, 1.0, n_features)\n\
             def Predict():\n  s1 = mean(v1)\ndef Learn():\n"
        );
    }
}
