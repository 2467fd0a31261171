//! A program prepared for the interpreter: instructions decoded once into memory offsets and
//! widened data, with every address checked, so that the hot loop does no bounds checks and no
//! index arithmetic.

use amlz_ir::analysis::decode_data;
use amlz_ir::{AddressError, Algorithm, Bank, Instruction, Layout, Op};

/// One decoded instruction: offsets into the memory buffer and the data the op needs, as `f64`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoded {
    pub op: Op,
    /// Output offset; for VECTOR/MATRIX_CONST_SET, the offset of the one element written.
    pub o: u32,
    /// First input offset.
    pub a: u32,
    /// Second input offset.
    pub b: u32,
    /// Activation, constant value, uniform low or Gaussian mean.
    pub x: f64,
    /// Uniform high or Gaussian standard deviation.
    pub y: f64,
}

/// An algorithm decoded for one memory layout. Building it checks every address, which is what
/// lets the interpreter skip bounds checks.
#[derive(Clone, Debug)]
pub struct Program {
    layout: Layout,
    pub(crate) setup: Vec<Decoded>,
    pub(crate) predict: Vec<Decoded>,
    pub(crate) learn: Vec<Decoded>,
    /// Whether Predict writes `v0`: then the train loop copies the features into `v0` again
    /// before Learn (SEMANTICS.md §4), a copy every other program does without.
    pub(crate) predict_writes_features: bool,
}

fn decode(instr: &Instruction, layout: &Layout) -> Decoded {
    let info = instr.op.info();
    let offset =
        |bank: Option<Bank>, addr: u16| bank.map_or(0, |b| layout.offset(b, addr as usize) as u32);
    let mut d = Decoded {
        op: instr.op,
        o: offset(info.out, instr.out),
        a: offset(info.in1, instr.in1),
        b: offset(info.in2, instr.in2),
        x: 0.0,
        y: 0.0,
    };
    let data = decode_data(instr, layout.features());
    d.o += data.element as u32;
    [d.x, d.y] = data.constants;
    d
}

/// Decodes `list` for `layout` into `out` (emptied first), leaving out its no-ops. The addresses
/// must have been checked against the layout's counts.
pub(crate) fn decode_into(list: &[Instruction], layout: &Layout, out: &mut Vec<Decoded>) {
    out.clear();
    let live = list.iter().filter(|i| i.op != Op::NoOp);
    out.extend(live.map(|i| decode(i, layout)));
}

impl Program {
    /// Decodes `algorithm` for `layout`, checking every address against the layout's counts.
    pub fn new(algorithm: &Algorithm, layout: Layout) -> Result<Program, AddressError> {
        let mut program = Program {
            layout,
            setup: Vec::with_capacity(algorithm.setup.len()),
            predict: Vec::with_capacity(algorithm.predict.len()),
            learn: Vec::with_capacity(algorithm.learn.len()),
            predict_writes_features: false,
        };
        program.renew(algorithm, layout)?;
        Ok(program)
    }

    /// Decodes `algorithm` for `layout` in place of what the program held, reusing its buffers
    /// (a search decodes one candidate after another); on an error it is left as it was.
    ///
    /// # Errors
    /// As [`Program::new`].
    pub fn renew(&mut self, algorithm: &Algorithm, layout: Layout) -> Result<(), AddressError> {
        algorithm.check_addresses(&layout.counts())?;
        self.layout = layout;
        decode_into(&algorithm.setup, &layout, &mut self.setup);
        decode_into(&algorithm.predict, &layout, &mut self.predict);
        decode_into(&algorithm.learn, &layout, &mut self.learn);
        self.predict_writes_features = algorithm
            .predict
            .iter()
            .any(|i| i.output() == Some((Bank::Vector, 0)));
        Ok(())
    }

    /// The memory layout the program was decoded for.
    pub fn layout(&self) -> Layout {
        self.layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::handmade;

    #[test]
    fn renewing_decodes_like_new_into_the_same_buffers() {
        let nn = handmade::neural_net();
        let linear = handmade::linear(0.5);
        let layout = Layout::new(4, nn.min_counts()).unwrap();
        let mut program = Program::new(&nn, layout).unwrap();
        let buffers = |p: &Program| [p.setup.as_ptr(), p.predict.as_ptr(), p.learn.as_ptr()];
        let before = buffers(&program);
        program.renew(&linear, layout).unwrap();
        let fresh = Program::new(&linear, layout).unwrap();
        assert_eq!(format!("{program:?}"), format!("{fresh:?}"));
        assert_eq!(
            buffers(&program),
            before,
            "the network's buffers hold the regressor"
        );
        let small = Layout::new(4, linear.min_counts()).unwrap();
        assert!(program.renew(&nn, small).is_err());
        assert_eq!(
            format!("{program:?}"),
            format!("{fresh:?}"),
            "left as it was"
        );
    }
}
