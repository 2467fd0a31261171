//! Every op against values worked out by hand (SEMANTICS.md §2): aliasing of inputs and output,
//! NaN and infinity, the min/max NaN rules, heaviside `>=` vs `>`, const-set index truncation,
//! reductions from the first term, and the random stream.

use amlz::exec::interp::{Memory, Program, run_component};
use amlz_ir::{
    Algorithm, ComponentFunction, Instruction, Layout, MemoryCounts, Op, Rng, parse_instruction,
};

const F: usize = 2;

/// Memory with F=2, S=6, V=4, M=3 and hand-chosen contents.
struct Fixture {
    layout: Layout,
    memory: Memory,
}

impl Fixture {
    fn new() -> Fixture {
        let layout = Layout::new(
            F,
            MemoryCounts {
                scalars: 6,
                vectors: 4,
                matrices: 3,
            },
        )
        .unwrap();
        let mut memory = Memory::new(&layout);
        let m = memory.values_mut();
        // s0..s5
        m[..6].copy_from_slice(&[0.0, 2.0, -3.0, 0.5, 0.0, 0.0]);
        let v = |i: usize| layout.offset(amlz_ir::Bank::Vector, i);
        let mm = |i: usize| layout.offset(amlz_ir::Bank::Matrix, i);
        m[v(0)..v(0) + 2].copy_from_slice(&[1.0, 2.0]);
        m[v(1)..v(1) + 2].copy_from_slice(&[3.0, -4.0]);
        m[v(2)..v(2) + 2].copy_from_slice(&[0.0, f64::NAN]);
        m[mm(0)..mm(0) + 4].copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        m[mm(1)..mm(1) + 4].copy_from_slice(&[-1.0, 0.5, 2.0, -2.0]);
        Fixture { layout, memory }
    }

    /// Runs one instruction given in readable form, returns the memory afterwards.
    fn run(&mut self, text: &str) -> &mut Self {
        let instr = parse_instruction(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        self.run_instr(instr)
    }

    fn run_instr(&mut self, instr: Instruction) -> &mut Self {
        let alg = Algorithm {
            setup: vec![instr],
            ..Default::default()
        };
        let program = Program::new(&alg, self.layout).unwrap();
        run_component(
            &program,
            ComponentFunction::Setup,
            &mut self.memory,
            &mut Rng::new(42),
        );
        self
    }

    fn s(&self, i: usize) -> f64 {
        self.memory.values()[i]
    }

    fn v(&self, i: usize) -> Vec<f64> {
        let o = self.layout.offset(amlz_ir::Bank::Vector, i);
        self.memory.values()[o..o + F].to_vec()
    }

    fn m(&self, i: usize) -> Vec<f64> {
        let o = self.layout.offset(amlz_ir::Bank::Matrix, i);
        self.memory.values()[o..o + F * F].to_vec()
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn scalar_arithmetic() {
    let mut f = Fixture::new();
    assert_eq!(f.run("s4 = s1 + s2").s(4), -1.0);
    assert_eq!(f.run("s4 = s1 - s2").s(4), 5.0);
    assert_eq!(f.run("s4 = s1 * s2").s(4), -6.0);
    assert_eq!(f.run("s4 = s2 / s1").s(4), -1.5);
    assert_eq!(f.run("s4 = abs(s2)").s(4), 3.0);
    assert_eq!(f.run("s4 = 1 / s3").s(4), 2.0);
    // IEEE division by zero.
    assert_eq!(f.run("s4 = s1 / s0").s(4), f64::INFINITY);
    assert_eq!(f.run("s4 = s2 / s0").s(4), f64::NEG_INFINITY);
    assert!(f.run("s4 = s0 / s0").s(4).is_nan());
    assert_eq!(f.run("s4 = 1 / s0").s(4), f64::INFINITY);
}

#[test]
fn aliasing_reads_inputs_before_writing() {
    let mut f = Fixture::new();
    assert_eq!(f.run("s1 = s1 * s1").s(1), 4.0);
    assert_eq!(f.run("v1 = v1 * v1").v(1), vec![9.0, 16.0]);
    // v1 = dot(m0, v1) with v1 = [9, 16]: [1*9 + 2*16, 3*9 + 4*16]
    assert_eq!(f.run("v1 = dot(m0, v1)").v(1), vec![41.0, 91.0]);
    // m0 = matmul(m0, m0) = [[7, 10], [15, 22]]
    assert_eq!(
        f.run("m0 = matmul(m0, m0)").m(0),
        vec![7.0, 10.0, 15.0, 22.0]
    );
    assert_eq!(
        f.run("m0 = transpose(m0)").m(0),
        vec![7.0, 15.0, 10.0, 22.0]
    );
    assert_eq!(
        f.run("m1 = matmul(m0, m1)").m(1),
        vec![
            -7.0 + 15.0 * 2.0,
            7.0 * 0.5 + 15.0 * -2.0,
            -10.0 + 22.0 * 2.0,
            10.0 * 0.5 + 22.0 * -2.0
        ]
    );
}

#[test]
fn libm_functions() {
    let mut f = Fixture::new();
    assert_eq!(f.run("s4 = sin(s3)").s(4), 0.5f64.sin());
    assert_eq!(f.run("s4 = cos(s3)").s(4), 0.5f64.cos());
    assert_eq!(f.run("s4 = tan(s3)").s(4), 0.5f64.tan());
    assert_eq!(f.run("s4 = arcsin(s3)").s(4), 0.5f64.asin());
    assert_eq!(f.run("s4 = arccos(s3)").s(4), 0.5f64.acos());
    assert_eq!(f.run("s4 = arctan(s3)").s(4), 0.5f64.atan());
    assert_eq!(f.run("s4 = exp(s3)").s(4), 0.5f64.exp());
    assert_eq!(f.run("s4 = log(s3)").s(4), 0.5f64.ln());
    assert!(f.run("s4 = arcsin(s1)").s(4).is_nan(), "asin(2) is NaN");
    assert!(f.run("s4 = log(s2)").s(4).is_nan(), "log(-3) is NaN");
    assert_eq!(f.run("s4 = log(s0)").s(4), f64::NEG_INFINITY);
}

#[test]
fn heaviside_scalar_is_ge_vector_and_matrix_are_gt() {
    let mut f = Fixture::new();
    assert_eq!(f.run("s4 = heaviside(s0, 1.0)").s(4), 1.0, "0 >= 0");
    assert_eq!(f.run("s4 = heaviside(s2, 1.0)").s(4), 0.0);
    // v2 = [0, NaN]
    assert_eq!(
        f.run("v3 = heaviside(v2, 1.0)").v(3),
        vec![0.0, 0.0],
        "0 > 0 is false, NaN > 0 too"
    );
    assert_eq!(f.run("v3 = heaviside(v1, 1.0)").v(3), vec![1.0, 0.0]);
    assert_eq!(
        f.run("m2 = heaviside(m1, 1.0)").m(2),
        vec![0.0, 1.0, 1.0, 0.0]
    );
}

#[test]
fn min_max_nan_rules() {
    let mut f = Fixture::new();
    f.memory.values_mut()[4] = f64::NAN;
    // 44: if b < a { b } else { a }
    assert!(f.run("s5 = minimum(s4, s1)").s(5).is_nan());
    assert_eq!(f.run("s5 = minimum(s1, s4)").s(5), 2.0);
    // 47: if a < b { b } else { a }
    assert!(f.run("s5 = maximum(s4, s1)").s(5).is_nan());
    assert_eq!(f.run("s5 = maximum(s1, s4)").s(5), 2.0);
    // 45/48 per element; v2 = [0, NaN], v1 = [3, -4]
    let v = f.run("v3 = minimum(v2, v1)").v(3);
    assert_eq!(v[0], 0.0);
    assert!(v[1].is_nan());
    assert_eq!(f.run("v3 = minimum(v1, v2)").v(3), vec![0.0, -4.0]);
    assert_eq!(f.run("v3 = maximum(v1, v2)").v(3), vec![3.0, -4.0]);
    // 46/49 use the other rule: m2 = NaN everywhere, m0 = 1..4.
    f.run("m2 = bcast(v2, axis=0)"); // rows [0,0], [NaN, NaN]
    assert!(f.m(2)[2].is_nan());
    let min = f.run("m1 = minimum(m2, m0)").m(1);
    assert_eq!(min[..2], [0.0, 0.0]);
    assert_eq!(min[2..], [3.0, 4.0], "rule 46: NaN < b is false, gives b");
    let max = f.run("m1 = maximum(m2, m0)").m(1);
    assert_eq!(
        max,
        vec![1.0, 2.0, 3.0, 4.0],
        "rule 49: NaN > b is false, gives b"
    );
    let min = f.run("m1 = minimum(m0, m2)").m(1);
    assert!(min[2].is_nan() && min[3].is_nan());
    // Signed zeros: scalar max(-0, +0) keeps a = -0 (a < b is false).
    f.memory.values_mut()[4] = -0.0;
    assert_eq!(
        f.run("s5 = maximum(s4, s0)").s(5).to_bits(),
        (-0.0f64).to_bits()
    );
    assert_eq!(
        f.run("s5 = minimum(s4, s0)").s(5).to_bits(),
        (-0.0f64).to_bits()
    );
    assert_eq!(
        f.run("s5 = minimum(s0, s4)").s(5).to_bits(),
        0.0f64.to_bits()
    );
}

#[test]
fn vector_ops() {
    let mut f = Fixture::new();
    assert_eq!(f.run("v3 = s2 * v1").v(3), vec![-9.0, 12.0]);
    assert_eq!(f.run("v3 = bcast(s3)").v(3), vec![0.5, 0.5]);
    assert_eq!(f.run("v3 = 1 / v1").v(3), vec![1.0 / 3.0, -0.25]);
    assert_eq!(f.run("s4 = norm(v1)").s(4), 5.0);
    assert_eq!(f.run("v3 = abs(v1)").v(3), vec![3.0, 4.0]);
    assert_eq!(f.run("v3 = v0 + v1").v(3), vec![4.0, -2.0]);
    assert_eq!(f.run("v3 = v0 - v1").v(3), vec![-2.0, 6.0]);
    assert_eq!(f.run("v3 = v0 * v1").v(3), vec![3.0, -8.0]);
    assert_eq!(f.run("v3 = v0 / v1").v(3), vec![1.0 / 3.0, -0.5]);
    assert_eq!(f.run("s4 = dot(v0, v1)").s(4), -5.0);
    assert_eq!(f.run("s4 = mean(v1)").s(4), -0.5);
    // std: sqrt(dot/F - mean²) = sqrt(25/2 - 0.25)
    assert_eq!(f.run("s4 = std(v1)").s(4), (12.5f64 - 0.25).sqrt());
    assert!(f.run("s4 = dot(v0, v2)").s(4).is_nan());
}

#[test]
fn matrix_ops() {
    let mut f = Fixture::new();
    assert_eq!(f.run("m2 = outer(v0, v1)").m(2), vec![3.0, -4.0, 6.0, -8.0]);
    assert_eq!(f.run("m2 = s2 * m0").m(2), vec![-3.0, -6.0, -9.0, -12.0]);
    assert_eq!(f.run("m2 = 1 / m0").m(2), vec![1.0, 0.5, 1.0 / 3.0, 0.25]);
    assert_eq!(f.run("v3 = dot(m0, v0)").v(3), vec![5.0, 11.0]);
    assert_eq!(
        f.run("m2 = bcast(v1, axis=0)").m(2),
        vec![3.0, 3.0, -4.0, -4.0]
    );
    assert_eq!(
        f.run("m2 = bcast(v1, axis=1)").m(2),
        vec![3.0, -4.0, 3.0, -4.0]
    );
    assert_eq!(f.run("s4 = norm(m0)").s(4), 30.0f64.sqrt());
    assert_eq!(
        f.run("v3 = norm(m0, axis=0)").v(3),
        vec![10.0f64.sqrt(), 20.0f64.sqrt()]
    );
    assert_eq!(
        f.run("v3 = norm(m0, axis=1)").v(3),
        vec![5.0f64.sqrt(), 5.0]
    );
    assert_eq!(f.run("m2 = transpose(m0)").m(2), vec![1.0, 3.0, 2.0, 4.0]);
    assert_eq!(f.run("m2 = abs(m1)").m(2), vec![1.0, 0.5, 2.0, 2.0]);
    assert_eq!(f.run("m2 = m0 + m1").m(2), vec![0.0, 2.5, 5.0, 2.0]);
    assert_eq!(f.run("m2 = m0 - m1").m(2), vec![2.0, 1.5, 1.0, 6.0]);
    assert_eq!(f.run("m2 = m0 * m1").m(2), vec![-1.0, 1.0, 6.0, -8.0]);
    assert_eq!(f.run("m2 = m0 / m1").m(2), vec![-1.0, 4.0, 1.5, -2.0]);
    assert_eq!(
        f.run("m2 = matmul(m0, m1)").m(2),
        vec![3.0, -3.5, 5.0, -6.5]
    );
    assert_eq!(f.run("s4 = mean(m0)").s(4), 2.5);
    assert_eq!(f.run("v3 = mean(m0, axis=1)").v(3), vec![1.5, 3.5]);
    assert_eq!(
        f.run("v3 = std(m0, axis=1)").v(3),
        vec![(2.5f64 - 2.25).sqrt(), (12.5f64 - 12.25).sqrt()]
    );
    assert_eq!(f.run("s4 = std(m0)").s(4), (7.5f64 - 6.25).sqrt());
}

#[test]
fn reductions_start_from_the_first_term() {
    let mut f = Fixture::new();
    // v3 = [-0, -0]: its sum is -0.0, so 1/mean is -inf (a sum from +0.0 would give +inf).
    f.run("v3 = bcast(s0)").run("v3 = s2 * v3");
    assert_eq!(bits(&f.v(3)), bits(&[-0.0, -0.0]));
    assert_eq!(
        f.run("s4 = mean(v3)").run("s5 = 1 / s4").s(5),
        f64::NEG_INFINITY
    );
}

#[test]
fn const_sets_truncate_their_index_in_f32() {
    let mut f = Fixture::new();
    assert_eq!(f.run("s4 = -0.25").s(4), -0.25);
    // F = 2: index floor(2 * d)
    assert_eq!(f.run("v3[0.49] = 7.5").v(3), vec![7.5, 0.0]);
    assert_eq!(f.run("v3[0.5] = 1.5").v(3), vec![7.5, 1.5]);
    assert_eq!(f.run("v3[0.99999994] = 2.5").v(3), vec![7.5, 2.5]);
    assert_eq!(f.run("m2[0.5, 0.2] = 9.0").m(2)[2], 9.0);
    assert_eq!(f.run("m2[0.2, 0.7] = 3.0").m(2)[1], 3.0);
    // The value is f32 data widened to f64.
    assert_eq!(f.run("v3[0.0] = 0.1").v(3)[0], 0.1f32 as f64);
}

#[test]
fn random_ops_draw_from_the_evaluation_stream_in_order() {
    let mut f = Fixture::new();
    let mut rng = Rng::new(42);
    let lo = -0.5f32 as f64;
    let hi = 0.75f32 as f64;
    assert_eq!(f.run("s4 = uniform(-0.5, 0.75)").s(4), rng.uniform(lo, hi));
    let mut rng = Rng::new(42);
    let expected: Vec<f64> = (0..F).map(|_| rng.uniform(lo, hi)).collect();
    assert_eq!(f.run("v3 = uniform(-0.5, 0.75, n_features)").v(3), expected);
    let mut rng = Rng::new(42);
    let expected: Vec<f64> = (0..F * F)
        .map(|_| rng.gaussian(0.25f32 as f64, 2.0))
        .collect();
    assert_eq!(
        f.run("m2 = gaussian(0.25, 2.0, (n_features, n_features))")
            .m(2),
        expected
    );
    let mut rng = Rng::new(42);
    assert_eq!(f.run("s4 = gaussian(0.0, 1.0)").s(4), rng.standard_normal());
    let mut rng = Rng::new(42);
    let expected: Vec<f64> = (0..F).map(|_| rng.gaussian(1.0, 0.5)).collect();
    assert_eq!(f.run("v3 = gaussian(1.0, 0.5, n_features)").v(3), expected);
    let mut rng = Rng::new(42);
    let expected: Vec<f64> = (0..F * F).map(|_| rng.uniform(0.0, 1.0)).collect();
    assert_eq!(
        f.run("m2 = uniform(0.0, 1.0, (n_features, n_features))")
            .m(2),
        expected
    );
}

#[test]
fn no_op_changes_nothing() {
    let mut f = Fixture::new();
    let before = bits(f.memory.values());
    f.run_instr(Instruction::NO_OP);
    assert_eq!(bits(f.memory.values()), before);
    let _ = Op::NoOp;
}
