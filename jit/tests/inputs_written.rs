//! Programs that write `s0` (the label) or `v0` (the features): compiled loops against a
//! reference of SEMANTICS.md §4's loops written here, bit for bit on memory, every prediction,
//! the train steps and the validation loss or wrong count.
//!
//! The reference runs the few ops these programs use with the interpreter's kernels. (The
//! interpreter itself lives in the `amlz` crate, which depends on this one; the differential
//! tests there cover the same programs once the IR accepts such outputs.) The programs are built
//! from `Instruction` values: random generation never writes `s0` or `v0`.

use amlz_ir::kernels::{self as k, Dynamic};
use amlz_ir::{Algorithm, Bank, Instruction, Layout, MemoryCounts, Op, Rng};
use amlz_jit::{Compiler, Examples, JitConfig, RegAlloc, Scoring, State, pack_rows};

const COUNTS: MemoryCounts = MemoryCounts {
    scalars: 5,
    vectors: 5,
    matrices: 2,
};

/// Runs one instruction of the ops the test programs use, as the interpreter does.
fn step(ins: &Instruction, mem: &mut [f64], l: &Layout) {
    let f = l.features();
    let d = Dynamic(f);
    let s = |a: u16| l.offset(Bank::Scalar, a as usize);
    let v = |a: u16| l.offset(Bank::Vector, a as usize);
    let m = |a: u16| l.offset(Bank::Matrix, a as usize);
    let (a, b, o) = (ins.in1, ins.in2, ins.out);
    let p = mem.as_mut_ptr();
    // SAFETY: every offset is an address of the layout, and the kernels read and write F or F²
    // values from there, within `mem`.
    unsafe {
        match ins.op {
            Op::ScalarSum => mem[s(o)] = mem[s(a)] + mem[s(b)],
            Op::ScalarDiff => mem[s(o)] = mem[s(a)] - mem[s(b)],
            Op::ScalarProduct => mem[s(o)] = mem[s(a)] * mem[s(b)],
            Op::VectorSum => {
                for i in 0..f {
                    mem[v(o) + i] = mem[v(a) + i] + mem[v(b) + i];
                }
            }
            Op::ScalarVectorProduct => {
                let x = mem[s(a)];
                for i in 0..f {
                    mem[v(o) + i] = x * mem[v(b) + i];
                }
            }
            Op::VectorInnerProduct => mem[s(o)] = k::dot(d, p.add(v(a)), p.add(v(b))),
            Op::MatrixVectorProduct => {
                let mut scratch = vec![0.0; f * f];
                k::matrix_vector_product(d, p.add(v(o)), p.add(m(a)), p.add(v(b)), {
                    scratch.as_mut_ptr()
                })
            }
            Op::VectorOuterProduct => k::outer_product(d, p.add(m(o)), p.add(v(a)), p.add(v(b))),
            Op::MatrixMean => mem[s(o)] = k::matrix_mean(d, p.add(m(a))),
            op => panic!("the reference does not run {op}"),
        }
    }
}

fn run(code: &[Instruction], mem: &mut [f64], l: &Layout) {
    for ins in code {
        step(ins, mem, l);
    }
}

/// `v0 = x; s0 = s0_value`.
fn set_inputs(mem: &mut [f64], l: &Layout, x: &[f64], s0: f64) {
    mem[0] = s0;
    let v0 = l.vector_base();
    mem[v0..v0 + x.len()].copy_from_slice(x);
}

struct Outcome {
    memory: Vec<f64>,
    train_predictions: Vec<f64>,
    steps: usize,
    stopped: bool,
    valid_predictions: Vec<f64>,
    failed: bool,
    loss: f64,
    wrong: usize,
}

/// `!(|e| <= max)`: the error is NaN or too large.
fn too_large(e: f64, max: f64) -> bool {
    e.abs().is_nan() || e.abs() > max
}

/// `p > 1 || p < 0` (false for NaN, which counts as class 0 rather than a failure).
#[allow(
    clippy::manual_range_contains,
    reason = "a range's `contains` is false for NaN, so its negation would fail on NaN"
)]
fn outside_unit(p: f64) -> bool {
    p > 1.0 || p < 0.0
}

/// The train loop and then the validation loop of SEMANTICS.md §4, as the interpreter runs them.
fn reference(alg: &Algorithm, l: &Layout, scoring: Scoring, data: &Data, max: f64) -> Outcome {
    let f = l.features();
    let mut mem = data.memory.clone();
    let mut train_predictions = Vec::new();
    let (mut steps, mut stopped) = (0, false);
    for row in data.train.chunks(f + 1) {
        let (x, y) = (&row[..f], row[f]);
        set_inputs(&mut mem, l, x, 0.0);
        run(&alg.predict, &mut mem, l);
        if scoring == Scoring::Accuracy {
            mem[1] = k::sigmoid(mem[1]);
        }
        train_predictions.push(mem[1]);
        if too_large(y - mem[1], max) {
            stopped = true;
            break;
        }
        set_inputs(&mut mem, l, x, y);
        run(&alg.learn, &mut mem, l);
        steps += 1;
    }
    let mut valid_predictions = Vec::new();
    let (mut failed, mut loss, mut wrong) = (false, 0.0, 0);
    for row in data.valid.chunks(f + 1) {
        let (x, y) = (&row[..f], row[f]);
        set_inputs(&mut mem, l, x, 0.0);
        run(&alg.predict, &mut mem, l);
        let s1 = mem[1];
        valid_predictions.push(s1);
        match scoring {
            Scoring::Rms => {
                let e = y - s1;
                if too_large(e, max) {
                    failed = true;
                    break;
                }
                loss += e * e;
            }
            Scoring::Accuracy => {
                let p = k::sigmoid(s1);
                if outside_unit(p) {
                    failed = true;
                    break;
                }
                wrong += usize::from((y > 0.5) != (p > 0.5));
            }
        }
    }
    Outcome {
        memory: mem,
        train_predictions,
        steps,
        stopped,
        valid_predictions,
        failed,
        loss,
        wrong,
    }
}

/// The same two loops compiled.
fn compiled(
    c: &mut Compiler,
    alg: &Algorithm,
    l: &Layout,
    scoring: Scoring,
    data: &Data,
    max: f64,
) -> Outcome {
    let f = l.features();
    let code = c.compile(alg, *l, scoring).expect("compiles");
    let mut mem = data.memory.clone();
    let mut scratch = vec![0.0; f * f];
    let mut rng = Rng::new(1);
    let n_train = data.train.len() / (f + 1);
    let n_valid = data.valid.len() / (f + 1);
    let mut train_predictions = vec![0.0; n_train];
    let mut state = State {
        memory: &mut mem,
        scratch: &mut scratch,
        rng: &mut rng,
    };
    let ex = Examples {
        rows: &data.train,
        count: n_train,
        max_abs_error: max,
    };
    let end = code.train(&mut state, &ex, &mut train_predictions);
    train_predictions.truncate(end.predictions());
    let mut valid_predictions = vec![0.0; n_valid];
    let ex = Examples {
        rows: &data.valid,
        count: n_valid,
        max_abs_error: max,
    };
    let v = code.validate(&mut state, &ex, &mut valid_predictions);
    valid_predictions.truncate(v.predictions);
    Outcome {
        memory: mem,
        train_predictions,
        steps: end.steps,
        stopped: end.stopped,
        valid_predictions,
        failed: v.failed,
        loss: v.loss,
        wrong: v.wrong,
    }
}

/// Initial memory and packed train and validation rows.
struct Data {
    memory: Vec<f64>,
    train: Vec<f64>,
    valid: Vec<f64>,
}

fn data(l: &Layout, scoring: Scoring, seed: u64) -> Data {
    let f = l.features();
    let mut rng = Rng::new(seed);
    let mut memory: Vec<f64> = (0..l.len()).map(|_| rng.gaussian(0.0, 0.3)).collect();
    // s3 is the learning rate of the programs below.
    memory[3] = 0.01;
    let w: Vec<f64> = (0..f).map(|_| rng.gaussian(0.0, 1.0)).collect();
    let mut rows = |n: usize| {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for _ in 0..n {
            let x: Vec<f64> = (0..f).map(|_| rng.gaussian(0.0, 1.0)).collect();
            let y: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            ys.push(match scoring {
                Scoring::Accuracy => f64::from(u8::from(y > 0.0)),
                Scoring::Rms => y,
            });
            xs.extend(x);
        }
        pack_rows(&xs, &ys, f, None)
    };
    let train = rows(60);
    let valid = rows(30);
    Data {
        memory,
        train,
        valid,
    }
}

fn ins(op: Op, in1: u16, in2: u16, out: u16) -> Instruction {
    Instruction::new(op, in1, in2, out)
}

/// Programs that write `s0` and `v0` in Predict, in Learn, or both, through SSA values and
/// through helpers (matrix-vector products into `v0`, outer products reading it).
fn programs() -> Vec<(&'static str, Algorithm)> {
    use Op::*;
    vec![
        (
            "predict writes s0 and v0, learn reads both",
            Algorithm {
                setup: vec![],
                predict: vec![
                    ins(ScalarSum, 0, 3, 0),
                    ins(VectorSum, 0, 1, 0),
                    ins(VectorInnerProduct, 0, 2, 1),
                    ins(ScalarSum, 1, 0, 1),
                ],
                learn: vec![
                    ins(ScalarDiff, 0, 1, 4),
                    ins(ScalarProduct, 4, 3, 4),
                    ins(ScalarVectorProduct, 4, 0, 3),
                    ins(VectorSum, 2, 3, 2),
                ],
            },
        ),
        (
            "learn writes s0 and v0 last",
            Algorithm {
                setup: vec![],
                predict: vec![ins(VectorInnerProduct, 0, 2, 1)],
                learn: vec![
                    ins(ScalarDiff, 0, 1, 4),
                    ins(ScalarProduct, 4, 3, 0),
                    ins(ScalarVectorProduct, 0, 0, 0),
                    ins(VectorSum, 2, 0, 2),
                ],
            },
        ),
        (
            "both write, through helpers and values",
            Algorithm {
                setup: vec![],
                predict: vec![
                    ins(MatrixVectorProduct, 0, 0, 0),
                    ins(VectorOuterProduct, 0, 2, 1),
                    ins(VectorInnerProduct, 0, 2, 1),
                    ins(MatrixMean, 1, 0, 2),
                    ins(ScalarProduct, 2, 3, 2),
                    ins(ScalarSum, 1, 2, 1),
                    ins(ScalarSum, 1, 1, 0),
                ],
                learn: vec![
                    ins(ScalarDiff, 0, 1, 4),
                    ins(ScalarVectorProduct, 4, 0, 3),
                    ins(ScalarVectorProduct, 3, 3, 3),
                    ins(VectorSum, 2, 3, 2),
                    ins(VectorSum, 0, 3, 0),
                    ins(ScalarSum, 4, 0, 0),
                    ins(MatrixVectorProduct, 0, 0, 0),
                ],
            },
        ),
        (
            "predict writes v0 before reading it, learn writes it before a helper reads it",
            Algorithm {
                setup: vec![],
                predict: vec![
                    ins(ScalarVectorProduct, 3, 2, 0),
                    ins(VectorInnerProduct, 0, 0, 1),
                ],
                learn: vec![
                    ins(VectorSum, 0, 2, 0),
                    ins(VectorOuterProduct, 0, 0, 1),
                    ins(MatrixMean, 1, 0, 4),
                    ins(ScalarDiff, 0, 4, 4),
                    ins(ScalarProduct, 4, 3, 4),
                    ins(ScalarVectorProduct, 4, 2, 3),
                    ins(VectorSum, 2, 3, 2),
                ],
            },
        ),
    ]
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn programs_writing_s0_and_v0_match_the_reference() {
    for regalloc in [RegAlloc::Backtracking, RegAlloc::SinglePass] {
        let mut c = Compiler::new(JitConfig {
            regalloc,
            verifier: true,
            ..JitConfig::default()
        })
        .expect("JIT available");
        for (name, alg) in programs() {
            for f in [4, 16] {
                let l = Layout::new(f, COUNTS).unwrap();
                for scoring in [Scoring::Rms, Scoring::Accuracy] {
                    for max in [100.0, 0.5] {
                        let d = data(&l, scoring, 3 + f as u64);
                        let r = reference(&alg, &l, scoring, &d, max);
                        let j = compiled(&mut c, &alg, &l, scoring, &d, max);
                        let what = format!("{name}, F={f}, {scoring:?}, max {max}, {regalloc:?}");
                        assert_eq!(
                            bits(&r.train_predictions),
                            bits(&j.train_predictions),
                            "{what}: train predictions"
                        );
                        assert_eq!((r.steps, r.stopped), (j.steps, j.stopped), "{what}");
                        assert_eq!(
                            bits(&r.valid_predictions),
                            bits(&j.valid_predictions),
                            "{what}: validation predictions"
                        );
                        assert_eq!(r.failed, j.failed, "{what}");
                        assert_eq!(r.loss.to_bits(), j.loss.to_bits(), "{what}: loss");
                        assert_eq!(r.wrong, j.wrong, "{what}");
                        assert_eq!(bits(&r.memory), bits(&j.memory), "{what}: memory");
                    }
                }
            }
        }
    }
}

#[test]
fn the_comparison_is_not_vacuous() {
    // The writes change what the programs compute: without them the predictions differ.
    let l = Layout::new(4, COUNTS).unwrap();
    let d = data(&l, Scoring::Rms, 7);
    for (name, alg) in programs() {
        let strip = |code: &[Instruction]| -> Vec<Instruction> {
            code.iter()
                .filter(|i| !(i.output().is_some_and(|(b, a)| a == 0 && b != Bank::Matrix)))
                .copied()
                .collect()
        };
        let without = Algorithm {
            setup: vec![],
            predict: strip(&alg.predict),
            learn: strip(&alg.learn),
        };
        let a = reference(&alg, &l, Scoring::Rms, &d, 100.0);
        let b = reference(&without, &l, Scoring::Rms, &d, 100.0);
        assert_ne!(bits(&a.memory), bits(&b.memory), "{name}");
    }
}
