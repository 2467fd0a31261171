//! Loop-aware liveness and dead-code elimination (ARCHITECTURE.md, consequence 1).
//!
//! The evaluation loop runs Setup once, then Predict and Learn in alternation and Predict alone
//! for validation, over and over: Learn of example i feeds Predict of example i+1, and Predict of
//! the last train example feeds the validation. The only observable output is `s1` after each
//! Predict. Liveness is therefore a fixed point over that loop, at the granularity of whole
//! addresses (`s3`, `v2`, `m0`).
//!
//! `s0` and `v0` are set by the loop before every Predict and Learn, so nothing before them needs
//! their old values. Random ops are always kept: dropping one would shift every later draw.
//! A const-set of one vector or matrix element writes only part of its address, so it never ends
//! the liveness of that address.

use crate::algorithm::{Algorithm, ComponentFunction};
use crate::instruction::Instruction;
use crate::layout::MAX_ADDRESSES;
use crate::op::{Bank, DataKind, Op};

/// 64-bit words per bank of an [`AddressSet`]: room for [`MAX_ADDRESSES`] addresses.
const WORDS: usize = MAX_ADDRESSES.div_ceil(64);

/// A set of addresses: one bit per address per bank, in a fixed array of 64-bit words (no
/// allocation: liveness runs once per candidate of a search). Addresses beyond
/// [`MAX_ADDRESSES`], which no memory holds, count as always in the set: liveness then keeps
/// every instruction that writes one, which is safe. Liveness of an algorithm whose addresses
/// are all below 64 (every search's) runs on one word per bank (`W = 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressSet<const W: usize = WORDS> {
    words: [[u64; W]; 3],
}

fn bank_index(bank: Bank) -> usize {
    bank as usize
}

impl<const W: usize> AddressSet<W> {
    /// The empty set.
    const EMPTY: AddressSet<W> = AddressSet { words: [[0; W]; 3] };

    /// The same set with room for every address.
    fn widen(&self) -> AddressSet {
        let mut wide = AddressSet::EMPTY;
        for (bank, words) in self.words.iter().enumerate() {
            wide.words[bank][..W].copy_from_slice(words);
        }
        wide
    }

    /// Where `bank` address `addr` lies (`None` beyond the set's room).
    #[inline]
    fn locate(bank: Bank, addr: u16) -> Option<(usize, usize, u64)> {
        let w = addr as usize / 64;
        (w < W).then(|| (bank_index(bank), w, 1u64 << (addr % 64)))
    }

    /// Whether `bank` address `addr` is in the set.
    pub fn contains(&self, bank: Bank, addr: u16) -> bool {
        Self::locate(bank, addr).is_none_or(|(b, w, bit)| self.words[b][w] & bit != 0)
    }

    fn insert(&mut self, bank: Bank, addr: u16) {
        if let Some((b, w, bit)) = Self::locate(bank, addr) {
            self.words[b][w] |= bit;
        }
    }

    fn remove(&mut self, bank: Bank, addr: u16) {
        if let Some((b, w, bit)) = Self::locate(bank, addr) {
            self.words[b][w] &= !bit;
        }
    }

    fn union_with(&mut self, other: &AddressSet<W>) {
        for (a, b) in self
            .words
            .iter_mut()
            .flatten()
            .zip(other.words.iter().flatten())
        {
            *a |= *b;
        }
    }

    /// The loop sets `s0` and `v0` before every Predict and Learn.
    fn without_loop_inputs(mut self) -> AddressSet<W> {
        self.remove(Bank::Scalar, 0);
        self.remove(Bank::Vector, 0);
        self
    }
}

/// Whether the instruction writes the whole of its output address (so that the address's earlier
/// value is dead before it).
fn writes_whole_output(instr: &Instruction) -> bool {
    !matches!(
        instr.op.info().data,
        DataKind::VectorConstant | DataKind::MatrixConstant
    )
}

/// Backward pass over one function: given what is live after it, marks which instructions are
/// needed and returns what is live before it.
fn backward<const W: usize>(
    list: &[Instruction],
    live_out: &AddressSet<W>,
    keep: &mut [bool],
) -> AddressSet<W> {
    let mut live = *live_out;
    for (i, instr) in list.iter().enumerate().rev() {
        let Some((bank, out)) = instr.output() else {
            keep[i] = false;
            continue;
        };
        let needed = live.contains(bank, out) || instr.op.is_random();
        keep[i] = needed;
        if !needed {
            continue;
        }
        if writes_whole_output(instr) {
            live.remove(bank, out);
        }
        for (b, a) in instr.inputs() {
            live.insert(b, a);
        }
    }
    live
}

/// The result of liveness: which instructions of each function matter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Liveness {
    /// `keep[f][i]`: whether instruction `i` of component function `f` (Setup, Predict, Learn)
    /// can affect a prediction or the random stream.
    pub keep: [Vec<bool>; 3],
    /// Addresses live on entry to Predict (what Setup and Learn must provide).
    pub live_into_predict: AddressSet,
}

/// Computes liveness over the evaluation loop by iterating to a fixed point.
pub fn liveness(algorithm: &Algorithm) -> Liveness {
    let mut keep = [Vec::new(), Vec::new(), Vec::new()];
    let live_into_predict = liveness_into(algorithm, &mut keep);
    Liveness {
        keep,
        live_into_predict,
    }
}

/// [`liveness`] into `keep` (resized, its allocations reused); returns the addresses live on
/// entry to Predict.
fn liveness_into(algorithm: &Algorithm, keep: &mut [Vec<bool>; 3]) -> AddressSet {
    for f in ComponentFunction::ALL {
        keep[f as usize].clear();
        keep[f as usize].resize(algorithm.function(f).len(), false);
    }
    // Unused address fields are zero, so the largest field bounds every address.
    let highest = algorithm
        .instructions()
        .map(|i| i.in1.max(i.in2).max(i.out))
        .max()
        .unwrap_or(0);
    match highest < 64 {
        true => fixed_point::<1>(algorithm, keep).widen(),
        false => fixed_point::<WORDS>(algorithm, keep),
    }
}

/// The fixed point of liveness over sets of `W` words per bank (every address of `algorithm`
/// below `64 W`, or beyond any memory).
fn fixed_point<const W: usize>(algorithm: &Algorithm, keep: &mut [Vec<bool>; 3]) -> AddressSet<W> {
    let mut s1 = AddressSet::EMPTY;
    s1.insert(Bank::Scalar, 1);
    let mut into_predict = AddressSet::EMPTY;
    let mut into_learn = AddressSet::EMPTY;
    loop {
        // After Predict: s1 is observed, then either Learn or another Predict follows.
        let mut after_predict = s1;
        after_predict.union_with(&into_learn);
        after_predict.union_with(&into_predict);
        let new_predict =
            backward(&algorithm.predict, &after_predict, &mut keep[1]).without_loop_inputs();
        // After Learn: the next Predict.
        let new_learn =
            backward(&algorithm.learn, &new_predict, &mut keep[2]).without_loop_inputs();
        if new_predict == into_predict && new_learn == into_learn {
            break;
        }
        into_predict = new_predict;
        into_learn = new_learn;
    }
    backward(&algorithm.setup, &into_predict, &mut keep[0]);
    into_predict
}

/// The algorithm without its dead instructions (and without NoOps). It computes the same
/// predictions, fitness and random draws as the original; only dead memory may differ.
pub fn eliminate_dead_code(algorithm: &Algorithm) -> Algorithm {
    let mut live = Algorithm::default();
    DeadCodeEliminator::default().eliminate_into(algorithm, &mut live);
    live
}

/// [`eliminate_dead_code`] with its buffers kept from call to call, so that a search, which
/// eliminates the dead code of every candidate, allocates nothing for it.
#[derive(Clone, Debug, Default)]
pub struct DeadCodeEliminator {
    keep: [Vec<bool>; 3],
}

impl DeadCodeEliminator {
    /// Writes `algorithm` without its dead instructions (and NoOps) into `live`, reusing its
    /// allocations: the same algorithm [`eliminate_dead_code`] returns.
    pub fn eliminate_into(&mut self, algorithm: &Algorithm, live: &mut Algorithm) {
        liveness_into(algorithm, &mut self.keep);
        for f in ComponentFunction::ALL {
            let kept = algorithm
                .function(f)
                .iter()
                .zip(&self.keep[f as usize])
                .filter(|(i, k)| **k && i.op != Op::NoOp)
                .map(|(i, _)| *i);
            let out = live.function_mut(f);
            out.clear();
            out.extend(kept);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handmade;
    use crate::text::parse_algorithm;

    #[test]
    fn hand_made_algorithms_are_all_live() {
        let lin = handmade::linear(0.01);
        assert_eq!(eliminate_dead_code(&lin), lin);
        let nn = handmade::neural_net();
        assert_eq!(eliminate_dead_code(&nn), nn);
    }

    #[test]
    fn removes_writes_nobody_reads_and_keeps_loop_carried_ones() {
        let a = parse_algorithm(
            "def Setup():\n  s2 = 0.5\n  s3 = 0.25\ndef Predict():\n  s1 = dot(v0, v1)\n  s4 = s3 * s3\n\
             def Learn():\n  s5 = s0 - s1\n  s5 = s5 * s2\n  v2 = s5 * v0\n  v1 = v1 + v2\n  s6 = sin(s5)\n",
        )
        .unwrap();
        let d = eliminate_dead_code(&a);
        let text = crate::text::print_algorithm(&d);
        assert_eq!(
            text,
            "def Setup():\n  s2 = 0.5\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s5 = s0 - s1\n  \
             s5 = s5 * s2\n  v2 = s5 * v0\n  v1 = v1 + v2\n"
        );
    }

    #[test]
    fn addresses_beyond_any_memory_are_kept_and_reuse_gives_the_same_result() {
        // Not from text, which refuses such addresses: an algorithm built in code may hold them.
        let a = Algorithm {
            setup: vec![
                Instruction::constant(2, 0.5),
                Instruction::constant(1200, 0.25),
            ],
            predict: vec![
                Instruction::new(Op::ScalarProduct, 2, 1200, 1),
                Instruction::new(Op::ScalarProduct, 1, 1, 1300),
            ],
            learn: Vec::new(),
        };
        let d = eliminate_dead_code(&a);
        // Both writes above the set's room stay (always live), the one below is read: all kept.
        assert_eq!(d.setup.len(), 2);
        assert_eq!(d.predict.len(), 2);
        let mut dce = DeadCodeEliminator::default();
        let mut live = handmade::neural_net();
        for algorithm in [&a, &handmade::linear(0.1), &a] {
            dce.eliminate_into(algorithm, &mut live);
            assert_eq!(live, eliminate_dead_code(algorithm));
        }
    }

    #[test]
    fn keeps_random_ops_and_partial_writes_do_not_kill() {
        let a = parse_algorithm(
            "def Setup():\n  v1 = uniform(0.0, 1.0, n_features)\n  v2 = bcast(s0)\n  v2[0.5] = 1.0\n\
             def Predict():\n  s1 = dot(v2, v0)\n  s3 = gaussian(0.0, 1.0)\n",
        )
        .unwrap();
        let d = eliminate_dead_code(&a);
        assert_eq!(
            d.setup.len(),
            3,
            "the bcast stays: the const-set writes only one element"
        );
        assert_eq!(
            d.predict.len(),
            2,
            "the dead Gaussian still consumes the stream"
        );
    }

    #[test]
    fn a_value_written_in_learn_and_read_in_the_next_predict_is_live() {
        let a = parse_algorithm(
            "def Predict():\n  s1 = s2 + s3\ndef Learn():\n  s3 = s4 + s0\n  s4 = s0 * s0\n  s5 = s0 * s0\n",
        )
        .unwrap();
        let d = eliminate_dead_code(&a);
        // s4 written at the end of Learn is read by s3 = s4 + s0 in the next Learn: live.
        assert_eq!(d.learn.len(), 2);
        assert_eq!(d.learn[1].out, 4);
    }
}

// ---------------------------------------------------------------------------------------------
// Live structure and constant data: what compiled code depends on, and what it reads at run time.

/// One instruction of a [`LiveStructure`]: the op and its addresses, with the data replaced by
/// what the code shape depends on (the element a const-set writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StructuralInstruction {
    /// The op.
    pub op: Op,
    /// First input address (0 when the op reads none).
    pub in1: u16,
    /// Second input address (0 when the op reads none).
    pub in2: u16,
    /// Output address.
    pub out: u16,
    /// For VECTOR_CONST_SET the element index, for MATRIX_CONST_SET `row * F + column`
    /// (both from [`crate::kernels::data_index`]); 0 for every other op.
    pub element: u16,
}

/// The structure of an algorithm's Predict and Learn with the constants abstracted away: two
/// algorithms with equal structures (and equal feature size) can share one compiled body, each
/// passing its own [`constant_data`].
///
/// Built from an algorithm as given: callers pass the output of [`eliminate_dead_code`] so that
/// mutations of dead code, of Setup and of constants map to the same structure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LiveStructure {
    /// F, which resolves const-set indices and sizes every vector and matrix.
    pub features: usize,
    /// Predict's instructions, NoOps left out.
    pub predict: Vec<StructuralInstruction>,
    /// Learn's instructions, NoOps left out.
    pub learn: Vec<StructuralInstruction>,
}

/// How many `f64` of [`constant_data`] an instruction of `op` reads: the activation of
/// SCALAR_CONST_SET, the value of VECTOR/MATRIX_CONST_SET, the two parameters of a random op.
pub fn constant_slots(op: Op) -> usize {
    match op.info().data {
        DataKind::None => 0,
        DataKind::Constant | DataKind::VectorConstant | DataKind::MatrixConstant => 1,
        DataKind::Uniform | DataKind::Gaussian => 2,
    }
}

/// An instruction's data decoded for one feature size: the one decoding of `activation` and
/// `data` that the interpreter and the JIT share, so that they cannot read them differently.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodedData {
    /// For VECTOR_CONST_SET the element index, for MATRIX_CONST_SET `row * F + column` (both from
    /// [`crate::kernels::data_index`]); 0 for every other op.
    pub element: usize,
    /// The first [`constant_slots`] values are what the op reads — the activation
    /// (SCALAR_CONST_SET), the value `d1` (VECTOR_CONST_SET) or `d2` (MATRIX_CONST_SET), or
    /// `d0, d1` (uniform low and high, Gaussian mean and std), float data widened to `f64`; the
    /// rest are 0.
    pub constants: [f64; 2],
}

/// Decodes `instr`'s data for feature size `features` (`1..=MAX_FEATURES`).
pub fn decode_data(instr: &Instruction, features: usize) -> DecodedData {
    use crate::kernels::data_index;
    let data = instr.data.map(f64::from);
    let (element, constants) = match instr.op.info().data {
        DataKind::None => (0, [0.0; 2]),
        DataKind::Constant => (0, [instr.activation, 0.0]),
        DataKind::VectorConstant => (data_index(features, instr.data[0]), [data[1], 0.0]),
        DataKind::MatrixConstant => (
            data_index(features, instr.data[0]) * features + data_index(features, instr.data[1]),
            [data[2], 0.0],
        ),
        DataKind::Uniform | DataKind::Gaussian => (0, [data[0], data[1]]),
    };
    DecodedData { element, constants }
}

fn structural(instr: &Instruction, features: usize) -> StructuralInstruction {
    StructuralInstruction {
        op: instr.op,
        in1: instr.in1,
        in2: instr.in2,
        out: instr.out,
        element: decode_data(instr, features).element as u16,
    }
}

/// The [`LiveStructure`] of `algorithm`'s Predict and Learn for feature size `features`
/// (`1..=MAX_FEATURES`). Pass a dead-code-eliminated algorithm (see [`LiveStructure`]).
pub fn live_structure(algorithm: &Algorithm, features: usize) -> LiveStructure {
    let mut structure = LiveStructure {
        features,
        predict: Vec::with_capacity(algorithm.predict.len()),
        learn: Vec::with_capacity(algorithm.learn.len()),
    };
    live_structure_into(algorithm, features, &mut structure);
    structure
}

/// [`live_structure`] written into `out` in place of what it held, reusing its allocations (a
/// search makes one per candidate).
pub fn live_structure_into(algorithm: &Algorithm, features: usize, out: &mut LiveStructure) {
    out.features = features;
    for (list, into) in [
        (&algorithm.predict, &mut out.predict),
        (&algorithm.learn, &mut out.learn),
    ] {
        into.clear();
        let live = list.iter().filter(|i| i.op != Op::NoOp);
        into.extend(live.map(|i| structural(i, features)));
    }
}

/// The constants that Predict and Learn read, in the order compiled code reads them: Predict's
/// instructions then Learn's, NoOps left out, [`constant_slots`] values per instruction — the
/// activation (SCALAR_CONST_SET), the value `d1` (VECTOR_CONST_SET) or `d2` (MATRIX_CONST_SET),
/// or `d0, d1` (uniform low and high, Gaussian mean and std), float data widened to `f64` exactly
/// as the interpreter widens them.
pub fn constant_data(algorithm: &Algorithm) -> Vec<f64> {
    let mut out = Vec::new();
    constant_data_into(algorithm, &mut out);
    out
}

/// [`constant_data`] into `out` (emptied first, its allocation reused): a search pairs every
/// natively run candidate with its constants.
pub fn constant_data_into(algorithm: &Algorithm, out: &mut Vec<f64>) {
    out.clear();
    for instr in algorithm.predict.iter().chain(&algorithm.learn) {
        // The element index does not depend on F for the constants: any F decodes them alike.
        let constants = decode_data(instr, 1).constants;
        out.extend_from_slice(&constants[..constant_slots(instr.op)]);
    }
}

#[cfg(test)]
mod structure_tests {
    use super::*;
    use crate::handmade;

    #[test]
    fn constants_are_abstracted_and_indices_kept() {
        let a = handmade::linear(0.01);
        let b = handmade::linear(0.5);
        assert_eq!(live_structure(&a, 4), live_structure(&b, 4));
        assert_ne!(live_structure(&a, 4), live_structure(&a, 8));
        let mut c = a.clone();
        c.predict.push(Instruction::with_data(
            Op::VectorConstSet,
            1,
            [0.3, 2.0, 0.0],
        ));
        let mut d = c.clone();
        d.predict[1].data = [0.4, -1.0, 0.0];
        assert_eq!(live_structure(&c, 4), live_structure(&d, 4), "both index 1");
        d.predict[1].data[0] = 0.5;
        assert_ne!(live_structure(&c, 4), live_structure(&d, 4), "index 2");
        assert_eq!(constant_data(&c), vec![2.0]);
        let g = Instruction::with_data(Op::ScalarGaussianSet, 3, [0.25, 0.5, 0.0]);
        c.learn.push(g);
        assert_eq!(constant_data(&c), vec![2.0, 0.25, 0.5]);
        let slots: usize = c
            .predict
            .iter()
            .chain(&c.learn)
            .map(|i| constant_slots(i.op))
            .sum();
        assert_eq!(slots, constant_data(&c).len());
    }
}
