//! Differential tests of programs that write `s0` (the label) or `v0` (the features): the JIT
//! executor against the interpreter on final memory, every prediction, train steps, fitness and
//! the random stream, in Predict and in Learn, at F=4 (vectors as scalars in compiled code) and
//! F=16 (`f64x2` chunks, matrix helpers reading and writing `v0` in memory), RMS and ACCURACY.
//! The programs are built from `Instruction` values (random generation never writes `s0` or
//! `v0`); both executors run the dead-code-eliminated algorithm, as `JitExecutor` does.

mod common;

use amlz::exec::interp::{self, Memory, Program};
use amlz::exec::jit::{self, JitExecutor, PackedRows};
use amlz::exec::{Limits, Trace};
use amlz::task::{EvalType, Task};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{Algorithm, Instruction, Layout, MemoryCounts, Op, Rng};
use amlz_jit::JitConfig;

const COUNTS: MemoryCounts = MemoryCounts {
    scalars: 5,
    vectors: 5,
    matrices: 2,
};

fn task(features: usize, eval_type: EvalType, max_abs_error: f64, seed: u64) -> Task {
    common::linear_task(features, 80, eval_type, max_abs_error, seed)
}

fn ins(op: Op, in1: u16, in2: u16, out: u16) -> Instruction {
    Instruction::new(op, in1, in2, out)
}

/// Setup: a learning rate in `s3`, random weights in `v1`, `v2`, `m0`, `m1`.
fn setup() -> Vec<Instruction> {
    vec![
        Instruction::constant(3, 0.01),
        Instruction::with_data(Op::VectorGaussianSet, 1, [0.0, 0.5, 0.0]),
        Instruction::with_data(Op::VectorGaussianSet, 2, [0.0, 0.5, 0.0]),
        Instruction::with_data(Op::MatrixGaussianSet, 0, [0.0, 0.3, 0.0]),
        Instruction::with_data(Op::MatrixGaussianSet, 1, [0.0, 0.3, 0.0]),
    ]
}

fn programs() -> Vec<(&'static str, Algorithm)> {
    use Op::*;
    let alg = |predict, learn| Algorithm {
        setup: setup(),
        predict,
        learn,
    };
    vec![
        (
            "Predict writes s0 and v0 and reads them; Learn reads both",
            alg(
                vec![
                    ins(ScalarSum, 0, 3, 0),
                    ins(VectorSum, 0, 1, 0),
                    ins(VectorInnerProduct, 0, 2, 1),
                    ins(ScalarSum, 1, 0, 1),
                ],
                vec![
                    ins(ScalarDiff, 0, 1, 4),
                    ins(ScalarProduct, 4, 3, 4),
                    ins(ScalarVectorProduct, 4, 0, 3),
                    ins(VectorSum, 2, 3, 2),
                ],
            ),
        ),
        (
            "Learn overwrites s0 and v0 and reads them",
            alg(
                vec![ins(VectorInnerProduct, 0, 2, 1)],
                vec![
                    ins(ScalarDiff, 0, 1, 4),
                    ins(ScalarProduct, 4, 3, 0),
                    ins(ScalarVectorProduct, 0, 0, 0),
                    ins(VectorSum, 2, 0, 2),
                ],
            ),
        ),
        (
            "v0 written by a matrix helper and read by one, in both functions",
            alg(
                vec![
                    ins(MatrixVectorProduct, 0, 0, 0),
                    ins(VectorOuterProduct, 0, 2, 1),
                    ins(VectorInnerProduct, 0, 2, 1),
                    ins(MatrixMean, 1, 0, 2),
                    ins(ScalarProduct, 2, 3, 2),
                    ins(ScalarSum, 1, 2, 1),
                ],
                vec![
                    ins(ScalarDiff, 0, 1, 4),
                    ins(ScalarVectorProduct, 4, 0, 3),
                    ins(ScalarVectorProduct, 3, 3, 3),
                    ins(VectorSum, 0, 3, 0),
                    ins(MatrixVectorProduct, 1, 0, 0),
                    ins(VectorSum, 2, 0, 2),
                ],
            ),
        ),
        (
            "v0 set element-wise and by a random fill",
            alg(
                vec![
                    Instruction {
                        data: [1.0, 0.25, 0.0],
                        ..ins(VectorConstSet, 0, 0, 0)
                    },
                    ins(VectorInnerProduct, 0, 2, 1),
                ],
                vec![
                    ins(ScalarDiff, 0, 1, 4),
                    ins(ScalarProduct, 4, 3, 4),
                    ins(ScalarVectorProduct, 4, 0, 3),
                    ins(VectorSum, 2, 3, 2),
                    Instruction::with_data(VectorUniformSet, 0, [-0.1, 0.1, 0.0]),
                    ins(VectorInnerProduct, 0, 0, 0),
                    ins(ScalarProduct, 0, 3, 0),
                    ins(ScalarVectorProduct, 0, 0, 3),
                    ins(VectorSum, 2, 3, 2),
                ],
            ),
        ),
    ]
}

/// Runs both executors on the dead-code-eliminated `algorithm` and asserts equal fitness, train
/// steps, predictions, memory and random stream.
fn compare(algorithm: &Algorithm, task: &Task, what: &str) {
    let layout = Layout::new(task.features, COUNTS).unwrap();
    let live = eliminate_dead_code(algorithm);
    let program = Program::new(&live, layout).unwrap();
    let mut executor = JitExecutor::new(JitConfig {
        verifier: true,
        ..JitConfig::default()
    });
    let jit = executor.prepare(algorithm, layout, task.eval_type).unwrap();
    assert!(jit.is_compiled(), "{what}: {:?}", jit.fallback_reason());
    let (mut mem_i, mut mem_j) = (Memory::default(), Memory::default());
    let (mut ti, mut tj) = (Trace::default(), Trace::default());
    let (mut ri, mut rj) = (Rng::new(9), Rng::new(9));
    let oi = interp::evaluate(&program, task, &mut mem_i, &mut ri, &Limits::FULL, &mut ti);
    let rows = PackedRows::default();
    let oj = jit::evaluate(
        &jit,
        task,
        &rows,
        &mut mem_j,
        &mut rj,
        &Limits::FULL,
        &mut tj,
    );
    let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        oi.fitness.to_bits(),
        oj.fitness.to_bits(),
        "{what}: fitness"
    );
    assert_eq!(oi.train_steps, oj.train_steps, "{what}: train steps");
    assert_eq!(
        bits(&ti.train),
        bits(&tj.train),
        "{what}: train predictions"
    );
    assert_eq!(
        bits(&ti.valid),
        bits(&tj.valid),
        "{what}: validation predictions"
    );
    assert_eq!(bits(mem_i.values()), bits(mem_j.values()), "{what}: memory");
    assert_eq!(ri, rj, "{what}: random stream");
}

#[test]
fn programs_writing_the_label_or_the_features_match_the_interpreter() {
    for (name, algorithm) in programs() {
        let live = eliminate_dead_code(&algorithm);
        let writes = |code: &[Instruction]| {
            code.iter()
                .any(|i| matches!(i.output(), Some((b, 0)) if b != amlz_ir::Bank::Matrix))
        };
        assert!(
            writes(&live.predict) || writes(&live.learn),
            "{name}: the writes are live"
        );
        for f in [4, 16] {
            for eval_type in [EvalType::RmsError, EvalType::Accuracy] {
                for max in [100.0, 0.8] {
                    let t = task(f, eval_type, max, 11 + f as u64);
                    let what = format!("{name}, F={f}, {eval_type:?}, max {max}");
                    compare(&algorithm, &t, &what);
                }
            }
        }
    }
}
