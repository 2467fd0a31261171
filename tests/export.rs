//! `amlz show`: simplified programs keep their fitness bit for bit, and the Python export
//! reproduces `amlz eval` (run by python3 with NumPy, which `.ci/run` installs).

mod common;

use amlz::eval::Evaluator;
use amlz::exec::interp::{self, Memory, Program};
use amlz::exec::{ExecutorChoice, Limits, NoObserver};
use amlz::export::{python_module, simplify};
use amlz::search::generator::{InitialPopulation, generate};
use amlz::search::{AlgorithmSpace, FunctionSpace};
use amlz::task::combination::Combination;
use amlz::task::generate::{Example, TaskSettings, fixed};
use amlz::task::{EvalType, Task};
use amlz_ir::analysis::eliminate_dead_code;
use amlz_ir::{ALL_OPS, Algorithm, Layout, MemoryCounts, Op, Rng, parse_algorithm};
use common::{amlz, scratch, stdout_of};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn show_prints_the_algorithm_and_simplify_reads_like_the_hand_made_regressor() {
    let plain = stdout_of(&amlz(&["show", "examples/linear.txt"]));
    let text = std::fs::read_to_string("examples/linear.txt").unwrap();
    assert_eq!(
        parse_algorithm(&plain).unwrap(),
        parse_algorithm(&text).unwrap()
    );
    assert!(plain.starts_with("def Setup():\n  s2 = 0.01\n"), "{plain}");

    // An evolved linear regressor: other addresses, dead code, NoOps.
    let d = scratch("show");
    let evolved = d.join("evolved.txt");
    std::fs::write(
        &evolved,
        "def Setup():\n  s3 = 0.01\n  NoOp()\n  v1 = bcast(s3)\n\
         def Predict():\n  s1 = dot(v2, v0)\n  s2 = s1 * s3\n\
         def Learn():\n  s2 = s0 - s1\n  s2 = s3 * s2\n  v1 = s2 * v0\n  v2 = v1 + v2\n",
    )
    .unwrap();
    let simplified = stdout_of(&amlz(&["show", "--simplify", evolved.to_str().unwrap()]));
    assert_eq!(
        simplified,
        "def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  \
         s3 = s0 - s1\n  s3 = s2 * s3\n  v2 = s3 * v0\n  v1 = v2 + v1\n"
    );

    let out = amlz(&["show", d.join("missing.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let bad = d.join("bad.txt");
    std::fs::write(&bad, "def Predict():\n  s1 = softmax(v0)\n").unwrap();
    let out = amlz(&["show", "--python", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.txt:2:") && err.trim_end().lines().count() == 1,
        "{err}"
    );
}

/// A task of F features with N(0,1) features and `dot(w, x)` labels (0/1 by sign for accuracy),
/// from `seed`, with `epochs` epochs; its epoch orders are those of a csv task of data seed
/// `data_seed`.
fn linear_task(
    f: usize,
    train: usize,
    valid: usize,
    eval_type: EvalType,
    epochs: usize,
    seed: u64,
    data_seed: u64,
) -> Task {
    let mut rng = Rng::new(seed);
    let w: Vec<f64> = (0..f).map(|_| rng.standard_normal()).collect();
    let mut examples = |n: usize| -> Vec<Example> {
        (0..n)
            .map(|_| {
                let features: Vec<f64> = (0..f).map(|_| rng.standard_normal()).collect();
                let y: f64 = features.iter().zip(&w).map(|(a, b)| a * b).sum();
                let label = match eval_type {
                    EvalType::RmsError => y,
                    EvalType::Accuracy => f64::from(u8::from(y > 0.0)),
                };
                Example { features, label }
            })
            .collect()
    };
    let (t, v) = (examples(train), examples(valid));
    let settings = TaskSettings {
        eval_type,
        max_abs_error: 100.0,
        num_train_epochs: epochs,
    };
    fixed(&t, &v, &settings, data_seed).unwrap()
}

/// Random algorithms from the project's generator over `ops`, with memory `counts` and sizes
/// `sizes`.
fn random_algorithms(
    ops: &[Op],
    counts: MemoryCounts,
    sizes: [usize; 3],
    n: usize,
    seed: u64,
) -> Vec<Algorithm> {
    let space = AlgorithmSpace {
        functions: sizes.map(|s| FunctionSpace::fixed(ops.to_vec(), s)),
        counts,
    };
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| generate(InitialPopulation::Random, &space, &mut rng))
        .collect()
}

/// The fitness of `algorithm` as given (no dead-code elimination) by the interpreter.
fn full_fitness(algorithm: &Algorithm, counts: MemoryCounts, task: &Task, seed: u64) -> f64 {
    let program = Program::new(algorithm, Layout::new(task.features, counts).unwrap()).unwrap();
    let mut memory = Memory::default();
    let mut rng = Rng::new(seed);
    interp::evaluate(
        &program,
        task,
        &mut memory,
        &mut rng,
        &Limits::FULL,
        &mut NoObserver,
    )
    .fitness
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn simplified_random_programs_have_the_same_fitness_bit_for_bit() {
    let tasks = [
        linear_task(4, 20, 10, EvalType::RmsError, 2, 1, 2000),
        linear_task(3, 16, 8, EvalType::Accuracy, 1, 2, 2001),
        linear_task(2, 12, 6, EvalType::RmsError, 3, 3, 2002),
    ];
    let counts = MemoryCounts {
        scalars: 6,
        vectors: 5,
        matrices: 3,
    };
    let programs = random_algorithms(&ALL_OPS[1..], counts, [6, 8, 8], 400, 7);
    let mut changed = 0;
    let mut nonzero = 0;
    for (k, a) in programs.iter().enumerate() {
        let s = simplify(a);
        changed += usize::from(s != *a);
        let small = s.min_counts();
        for (t, task) in tasks.iter().enumerate() {
            let seed = 1000 + k as u64 * 7 + t as u64;
            let before = full_fitness(a, counts, task, seed);
            let after = full_fitness(&s, small, task, seed);
            assert!(
                same(before, after),
                "program {k} task {t}: {before} became {after}\n{a}\nsimplified:\n{s}"
            );
            nonzero += usize::from(before != 0.0);
        }
    }
    assert!(
        changed > 390,
        "most random programs have dead code or other addresses"
    );
    assert!(
        nonzero > 200,
        "only {nonzero} non-zero fitnesses: the check says little"
    );
}

/// python3 with NumPy, or a panic that says how to get them.
fn python() -> &'static str {
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python3 with NumPy is needed for the Python export tests: `python3 -m pip install numpy` \
         (.ci/run installs it)"
    );
    "python3"
}

/// One task of a Python job: a csv task's files and settings.
struct PyTask {
    train: PathBuf,
    valid: PathBuf,
    eval_type: &'static str,
    epochs: usize,
    max_abs_error: f64,
    /// The task's index in its task file (its random stream).
    task_index: usize,
    /// Its data seed (its epoch orders).
    data_seed: u64,
}

/// Runs each module on each task in one python3 process; the fitnesses, module by module.
fn run_python(modules: &[PathBuf], tasks: &[PyTask], seed: u64, dir: &Path) -> Vec<Vec<f64>> {
    let job = serde_json::json!({
        "seed": seed,
        "modules": modules.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "tasks": tasks.iter().map(|t| serde_json::json!({
            "train": t.train.display().to_string(),
            "valid": t.valid.display().to_string(),
            "eval_type": t.eval_type,
            "epochs": t.epochs,
            "max_abs_error": t.max_abs_error,
            "task_index": t.task_index,
            "data_seed": t.data_seed,
        })).collect::<Vec<_>>(),
    });
    let job_file = dir.join("job.json");
    std::fs::write(&job_file, job.to_string()).unwrap();
    let driver = r#"
import importlib.util, json, sys
job = json.load(open(sys.argv[1]))
results = []
data = {}
for k, path in enumerate(job["modules"]):
    spec = importlib.util.spec_from_file_location("algorithm%d" % k, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = []
    for t in job["tasks"]:
        if (t["train"], t["valid"]) not in data:
            data[(t["train"], t["valid"])] = module.read_csv(t["train"]) + module.read_csv(t["valid"])
        tx, ty, vx, vy = data[(t["train"], t["valid"])]
        row.append(module.evaluate(tx, ty, vx, vy, t["eval_type"], job["seed"],
                                   num_train_epochs=t["epochs"], max_abs_error=t["max_abs_error"],
                                   task_index=t["task_index"], data_seed=t["data_seed"]))
    results.append(row)
print(json.dumps([[repr(x) for x in row] for row in results]))
"#;
    let out = Command::new(python())
        .arg("-c")
        .arg(driver)
        .arg(&job_file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Numbers travel as Python's repr and are read by Rust's exact parser (serde_json's own
    // float parsing may be an ulp off).
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).expect("one JSON list");
    rows.iter()
        .map(|row| row.iter().map(|x| x.parse().unwrap()).collect())
        .collect()
}

fn write_csv(path: &Path, examples: &[(Vec<f64>, f64)]) {
    let f = examples[0].0.len();
    let mut text: String = (0..f).map(|i| format!("x{i},")).collect();
    text.push_str("label\n");
    for (x, y) in examples {
        for v in x {
            text.push_str(&format!("{v:?},"));
        }
        text.push_str(&format!("{y:?}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn read_rows(path: &Path) -> Vec<(Vec<f64>, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            (v[..v.len() - 1].to_vec(), v[v.len() - 1])
        })
        .collect()
}

/// The `per_task` list of `amlz eval --json`, each number read by Rust's exact parser.
fn per_task_of(json: &str) -> Vec<f64> {
    let list = json
        .split("\"per_task\":[")
        .nth(1)
        .expect("a per_task list");
    let list = &list[..list.find(']').unwrap()];
    list.split(',').map(|x| x.trim().parse().unwrap()).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 || (a.is_nan() && b.is_nan())
}

#[test]
fn python_export_of_the_hand_made_algorithms_reproduces_amlz_eval_on_csv_tasks() {
    let d = scratch("handmade");
    // The real data of examples/csv_task.toml (the network stops early on both: fitness 0).
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let mut tasks = vec![
        PyTask {
            train: data.join("diabetes_train.csv"),
            valid: data.join("diabetes_valid.csv"),
            eval_type: "rms_error",
            epochs: 1,
            max_abs_error: 1000.0,
            task_index: 0,
            data_seed: 2000,
        },
        PyTask {
            train: data.join("breast_cancer_train.csv"),
            valid: data.join("breast_cancer_valid.csv"),
            eval_type: "accuracy",
            epochs: 1,
            max_abs_error: 100.0,
            task_index: 1,
            data_seed: 2000,
        },
    ];
    // The diabetes data standardised, as regression over 3 epochs (two tasks: two epoch orders)
    // and as classification over 2, where both algorithms train.
    let scaled = |rows: Vec<(Vec<f64>, f64)>, classify: bool| -> Vec<(Vec<f64>, f64)> {
        rows.into_iter()
            .map(|(x, y)| {
                let x = x.iter().map(|v| v * 10.0).collect();
                let y = if classify {
                    f64::from(u8::from(y > 140.0))
                } else {
                    (y - 152.0) / 77.0
                };
                (x, y)
            })
            .collect()
    };
    for (stem, classify) in [("reg", false), ("cls", true)] {
        for part in ["train", "valid"] {
            let rows = read_rows(&data.join(format!("diabetes_{part}.csv")));
            write_csv(
                &d.join(format!("{stem}_{part}.csv")),
                &scaled(rows, classify),
            );
        }
    }
    std::fs::write(
        d.join("tasks.toml"),
        "[[tasks]]\nkind = \"csv\"\ntrain_file = \"reg_train.csv\"\nvalid_file = \"reg_valid.csv\"\n\
         eval_type = \"rms_error\"\nnum_train_epochs = 3\nnum_tasks = 2\n\n\
         [[tasks]]\nkind = \"csv\"\ntrain_file = \"cls_train.csv\"\nvalid_file = \"cls_valid.csv\"\n\
         eval_type = \"accuracy\"\nnum_train_epochs = 2\n",
    )
    .unwrap();
    let derived = [
        ("reg", "rms_error", 3, 2, 2000),
        ("reg", "rms_error", 3, 3, 2001),
        ("cls", "accuracy", 2, 4, 2000),
    ];
    for (stem, eval_type, epochs, task_index, data_seed) in derived {
        tasks.push(PyTask {
            train: d.join(format!("{stem}_train.csv")),
            valid: d.join(format!("{stem}_valid.csv")),
            eval_type,
            epochs,
            max_abs_error: 100.0,
            task_index: task_index - 2,
            data_seed,
        });
    }

    let mut modules = Vec::new();
    let mut expected = Vec::new();
    for name in ["linear", "neural_net"] {
        let file = format!("examples/{name}.txt");
        let module = d.join(format!("{name}.py"));
        std::fs::write(&module, stdout_of(&amlz(&["show", "--python", &file]))).unwrap();
        modules.push(module);
        let mut per_task = Vec::new();
        for task_file in [
            "examples/csv_task.toml",
            d.join("tasks.toml").to_str().unwrap(),
        ] {
            let json = stdout_of(&amlz(&[
                "eval",
                "--algorithm",
                &file,
                "--tasks",
                task_file,
                "--json",
                "--seed",
                "5",
            ]));
            per_task.extend(per_task_of(&json));
        }
        expected.push(per_task);
    }
    let got = run_python(&modules, &tasks, 5, &d);
    for (name, (g, e)) in ["linear", "neural_net"]
        .iter()
        .zip(got.iter().zip(&expected))
    {
        assert_eq!(g.len(), e.len());
        for (t, (a, b)) in g.iter().zip(e).enumerate() {
            assert!(close(*a, *b), "{name} task {t}: python {a}, amlz {b}");
        }
        // The derived tasks train: the comparison covers the whole loop.
        assert!(e[2..].iter().all(|f| *f > 0.5), "{name}: {e:?}");
    }
}

#[test]
fn python_export_of_random_programs_matches_amlz() {
    let d = scratch("random");
    let mut rng = Rng::new(99);
    let task_files = [("a", 4, 30, 15), ("b", 3, 24, 12)];
    for (stem, f, train, valid) in task_files {
        let w: Vec<f64> = (0..f).map(|_| rng.standard_normal()).collect();
        for (part, n) in [("train", train), ("valid", valid)] {
            let rows: Vec<(Vec<f64>, f64)> = (0..n)
                .map(|_| {
                    let x: Vec<f64> = (0..f).map(|_| rng.standard_normal()).collect();
                    let y = x.iter().zip(&w).map(|(a, b)| a * b).sum();
                    (x, y)
                })
                .collect();
            write_csv(&d.join(format!("{stem}_{part}.csv")), &rows);
        }
    }
    let tasks_toml = "[[tasks]]\nkind = \"csv\"\ntrain_file = \"a_train.csv\"\nvalid_file = \"a_valid.csv\"\n\
         eval_type = \"rms_error\"\nnum_train_epochs = 2\n\n\
         [[tasks]]\nkind = \"csv\"\ntrain_file = \"b_train.csv\"\nvalid_file = \"b_valid.csv\"\n\
         eval_type = \"accuracy\"\n";
    std::fs::write(d.join("tasks.toml"), tasks_toml).unwrap();
    let file = amlz::task::load_task_file(&d.join("tasks.toml")).unwrap();
    let py_tasks = [
        PyTask {
            train: d.join("a_train.csv"),
            valid: d.join("a_valid.csv"),
            eval_type: "rms_error",
            epochs: 2,
            max_abs_error: 100.0,
            task_index: 0,
            data_seed: 2000,
        },
        PyTask {
            train: d.join("b_train.csv"),
            valid: d.join("b_valid.csv"),
            eval_type: "accuracy",
            epochs: 1,
            max_abs_error: 100.0,
            task_index: 1,
            data_seed: 2000,
        },
    ];
    let counts = MemoryCounts {
        scalars: 5,
        vectors: 4,
        matrices: 3,
    };
    let deterministic: Vec<Op> = ALL_OPS[1..]
        .iter()
        .copied()
        .filter(|o| !o.is_random())
        .collect();
    // One program per op, where the op is live; 100 random programs without random ops, 20 with
    // all ops.
    let mut programs: Vec<Algorithm> = ALL_OPS[1..].iter().map(|&op| program_of(op)).collect();
    programs.extend(random_algorithms(&deterministic, counts, [5, 6, 6], 100, 3));
    programs.extend(random_algorithms(&ALL_OPS[1..], counts, [5, 6, 6], 20, 4));
    let mut evaluator = Evaluator::on(file.tasks, Combination::Mean, ExecutorChoice::Interp);
    let mut modules = Vec::new();
    let mut expected = Vec::new();
    for (k, a) in programs.iter().enumerate() {
        let module = d.join(format!("p{k}.py"));
        std::fs::write(&module, python_module(a)).unwrap();
        modules.push(module);
        expected.push(
            evaluator
                .evaluate(a, a.min_counts().max(counts), 17)
                .unwrap()
                .per_task,
        );
    }
    let got = run_python(&modules, &py_tasks, 17, &d);
    let mut nonzero = 0;
    let mut live_ops = std::collections::BTreeSet::new();
    for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
        for (t, (a, b)) in g.iter().zip(e).enumerate() {
            assert!(
                close(*a, *b),
                "program {k} task {t}: python {a}, amlz {b}\n{}",
                programs[k]
            );
            nonzero += usize::from(*b != 0.0);
        }
        if e.iter().any(|f| *f != 0.0) {
            live_ops.extend(
                eliminate_dead_code(&programs[k])
                    .instructions()
                    .map(|i| i.op),
            );
        }
    }
    assert!(
        nonzero >= 200,
        "only {nonzero} non-zero fitnesses: the check says little"
    );
    let missing: Vec<&Op> = ALL_OPS[1..]
        .iter()
        .filter(|o| !live_ops.contains(o))
        .collect();
    assert!(
        missing.is_empty(),
        "ops never live in a program that scores: {missing:?}"
    );
}

/// A program in which `op` is live: its inputs hold values that depend on the features and on
/// what Learn learnt, its output becomes the prediction.
fn program_of(op: Op) -> Algorithm {
    use amlz_ir::{Bank, Instruction};
    let mut instr = Instruction::new(op, 0, 0, 0);
    let info = op.info();
    let input = |bank: Option<Bank>, second: bool| match (bank, second) {
        (Some(Bank::Scalar), false) => 4,
        (Some(Bank::Scalar), true) => 2,
        (Some(Bank::Vector), false) => 2,
        (Some(Bank::Vector), true) => 0,
        (Some(Bank::Matrix), false) => 1,
        (Some(Bank::Matrix), true) => 0,
        (None, _) => 0,
    };
    instr.in1 = input(info.in1, false);
    instr.in2 = input(info.in2, true);
    let reduce = match info.out {
        Some(Bank::Scalar) => {
            instr.out = 5;
            "s1 = s5 * s2"
        }
        Some(Bank::Vector) => {
            instr.out = 3;
            "s1 = mean(v3)"
        }
        _ => {
            instr.out = 2;
            "s1 = mean(m2)"
        }
    };
    instr.activation = 0.375;
    instr.data = [0.6, 0.25, -0.5];
    if op.is_random() {
        instr.data = [-0.25, 0.5, 0.0];
    }
    let text = format!(
        "def Setup():\n  s2 = 0.5\n  s3 = -1.5\n  s7 = 0.01\n  v1 = bcast(s2)\n  v1[0.25] = -2.0\n  \
         m0 = bcast(v1, axis=0)\n  m0[0.5, 0.0] = 3.0\n\
         def Predict():\n  v2 = v0 + v1\n  m1 = outer(v0, v2)\n  m1 = m1 + m0\n  s4 = mean(v2)\n  {}\n  {reduce}\n\
         def Learn():\n  s6 = s0 - s1\n  s6 = s6 * s7\n  v4 = s6 * v0\n  v1 = v1 + v4\n",
        amlz_ir::print_instruction(&instr)
    );
    let a = parse_algorithm(&text).unwrap();
    assert!(
        eliminate_dead_code(&a).instructions().any(|i| i.op == op),
        "{op} is dead in\n{text}"
    );
    a
}
