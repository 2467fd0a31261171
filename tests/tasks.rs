//! Tasks end to end: generated data against independent recomputations, seeds, epoch orders, CSV
//! and IDX sources, task files and their error messages.

use std::io::Write;
use std::path::{Path, PathBuf};

use amlz::ir::Rng;
use amlz::task::generate::{self, Sizes, TaskSettings};
use amlz::task::spec::{DEFAULT_DATA_SEED, DEFAULT_PARAM_SEED};
use amlz::task::{
    EvalType, Task, TaskKind, TaskSpec, build_tasks, build_tasks_with_seeds, load_task_file,
};

const SIZES: Sizes = Sizes {
    features: 4,
    num_train: 200,
    num_valid: 50,
};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A fresh directory under the system temp dir for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amlz-tasks-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn load_error(path: &Path) -> String {
    match load_task_file(path) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

fn is_permutation(order: &[u32], n: usize) -> bool {
    let mut sorted = order.to_vec();
    sorted.sort_unstable();
    sorted == (0..n as u32).collect::<Vec<_>>()
}

#[test]
fn linear_labels_are_dot_of_hidden_weights_and_gaussian_features() {
    let task = generate::scalar_linear_regression(SIZES, &TaskSettings::default(), 11, 22);
    let mut params = Rng::new(11);
    let w: Vec<f64> = (0..4).map(|_| params.standard_normal()).collect();
    let mut data = Rng::new(22);
    for i in 0..SIZES.num_train {
        let x: Vec<f64> = (0..4).map(|_| data.standard_normal()).collect();
        assert_eq!(task.train_example(i), x.as_slice());
        let label = ((w[0] * x[0] + w[1] * x[1]) + w[2] * x[2]) + w[3] * x[3];
        assert_eq!(task.train_labels[i].to_bits(), label.to_bits());
    }
    for i in 0..SIZES.num_valid {
        let x: Vec<f64> = (0..4).map(|_| data.standard_normal()).collect();
        assert_eq!(task.valid_example(i), x.as_slice());
        let label = ((w[0] * x[0] + w[1] * x[1]) + w[2] * x[2]) + w[3] * x[3];
        assert_eq!(task.valid_labels[i].to_bits(), label.to_bits());
    }
    assert_eq!((task.param_seed, task.data_seed), (11, 22));
    assert_eq!(task.eval_type, EvalType::RmsError);
    assert_eq!(task.max_abs_error, 100.0);
}

#[test]
fn nn_labels_use_only_hidden_units_1_and_3() {
    let task = generate::scalar_2layer_nn_regression(SIZES, &TaskSettings::default(), 5, 6);
    let mut params = Rng::new(5);
    let w: Vec<f64> = (0..16).map(|_| params.standard_normal()).collect();
    let u: Vec<f64> = (0..4).map(|_| params.standard_normal()).collect();
    let unit = |h: usize, x: &[f64]| {
        let z = (0..4).map(|j| w[h * 4 + j] * x[j]).fold(0.0, |a, p| a + p);
        z.max(0.0) * u[h]
    };
    let mut active = 0;
    for i in 0..SIZES.num_train {
        let x = task.train_example(i);
        let expected = unit(1, x) + unit(3, x);
        assert!((task.train_labels[i] - expected).abs() <= 1e-12 * (1.0 + expected.abs()));
        active += usize::from(task.train_labels[i] != 0.0);
    }
    assert!(active > SIZES.num_train / 2, "labels are mostly nonzero");
    // With F < 3 only row/element 0 exists to be zeroed: unit 1 alone makes the label.
    let small = Sizes {
        features: 2,
        ..SIZES
    };
    let task = generate::scalar_2layer_nn_regression(small, &TaskSettings::default(), 5, 6);
    let mut params = Rng::new(5);
    let w: Vec<f64> = (0..4).map(|_| params.standard_normal()).collect();
    let u: Vec<f64> = (0..2).map(|_| params.standard_normal()).collect();
    let x = task.train_example(0);
    let expected = (w[2] * x[0] + w[3] * x[1]).max(0.0) * u[1];
    assert_eq!(task.train_labels[0], expected);
}

#[test]
fn same_seeds_same_task_and_each_seed_changes_its_part() {
    let settings = TaskSettings::default();
    let a = generate::scalar_linear_regression(SIZES, &settings, 1, 2);
    assert_eq!(
        a,
        generate::scalar_linear_regression(SIZES, &settings, 1, 2)
    );
    let other_data = generate::scalar_linear_regression(SIZES, &settings, 1, 3);
    assert_ne!(a.train_features, other_data.train_features);
    let other_params = generate::scalar_linear_regression(SIZES, &settings, 4, 2);
    assert_eq!(a.train_features, other_params.train_features);
    assert_ne!(a.train_labels, other_params.train_labels);
    // The hidden function is the same under another data seed: w solves both tasks.
    let w = generate::linear_weights(4, 1);
    for t in [&a, &other_data] {
        for i in 0..t.num_train() {
            assert_eq!(t.train_labels[i], generate::dot(&w, t.train_example(i)));
        }
    }
}

#[test]
fn epoch_orders_are_fresh_permutations_after_the_examples() {
    let settings = TaskSettings {
        num_train_epochs: 4,
        ..TaskSettings::default()
    };
    let task = generate::scalar_linear_regression(SIZES, &settings, 1, 2);
    assert_eq!((task.num_epochs(), task.epoch_orders.len()), (4, 3));
    let identity: Vec<u32> = (0..200).collect();
    for order in &task.epoch_orders {
        assert!(is_permutation(order, 200));
        assert_ne!(order, &identity);
    }
    assert_ne!(task.epoch_orders[0], task.epoch_orders[1]);
    // Drawn from the data stream after the train and validation features.
    let mut data = Rng::new(2);
    for _ in 0..(200 + 50) * 4 {
        data.standard_normal();
    }
    let mut first: Vec<u32> = identity.clone();
    data.shuffle(&mut first);
    assert_eq!(task.epoch_orders[0], first);
    // The examples do not depend on the number of epochs.
    let one = generate::scalar_linear_regression(SIZES, &TaskSettings::default(), 1, 2);
    assert_eq!(one.train_features, task.train_features);
    assert!(one.epoch_orders.is_empty());
}

#[test]
fn seeds_come_from_lists_continue_by_one_and_default() {
    let mut spec = TaskSpec::generated(TaskKind::ScalarLinearRegression, 2, 5, 5, 4);
    let seeds = |tasks: &[Task]| -> Vec<(u64, u64)> {
        tasks.iter().map(|t| (t.param_seed, t.data_seed)).collect()
    };
    let defaults = build_tasks(&spec, Path::new(".")).unwrap();
    assert_eq!(
        seeds(&defaults),
        (0..4)
            .map(|i| (DEFAULT_PARAM_SEED + i, DEFAULT_DATA_SEED + i))
            .collect::<Vec<_>>()
    );
    assert_eq!((DEFAULT_PARAM_SEED, DEFAULT_DATA_SEED), (1000, 2000));
    spec.param_seeds = vec![7];
    spec.data_seeds = vec![100, 200];
    let listed = build_tasks(&spec, Path::new(".")).unwrap();
    assert_eq!(
        seeds(&listed),
        vec![(7, 100), (8, 200), (9, 201), (10, 202)]
    );
    assert_eq!(
        listed[1],
        generate::scalar_linear_regression(
            Sizes {
                features: 2,
                num_train: 5,
                num_valid: 5
            },
            &TaskSettings::default(),
            8,
            200
        )
        .with_name("scalar_linear_regression F=2 #1")
    );
    let overridden = build_tasks_with_seeds(&spec, Path::new("."), 50, 60).unwrap();
    assert_eq!(
        seeds(&overridden),
        vec![(50, 60), (51, 61), (52, 62), (53, 63)]
    );
    // Kinds without a hidden function report param seed 0.
    let ones = TaskSpec::generated(TaskKind::UnitTestOnes, 2, 5, 5, 2);
    let built = build_tasks_with_seeds(&ones, Path::new("."), 50, 60).unwrap();
    assert_eq!(seeds(&built), vec![(0, 60), (0, 61)]);
}

trait WithName {
    fn with_name(self, name: &str) -> Self;
}

impl WithName for Task {
    fn with_name(mut self, name: &str) -> Task {
        self.name = name.to_string();
        self
    }
}

#[test]
fn example_task_files_load() {
    let linear = load_task_file(&examples_dir().join("linear_tasks.toml")).unwrap();
    assert_eq!(linear.tasks.len(), 10);
    for t in &linear.tasks {
        assert_eq!((t.features, t.num_train(), t.num_valid()), (4, 1000, 100));
    }
    let nn = load_task_file(&examples_dir().join("nn_tasks.toml")).unwrap();
    assert_eq!(nn.tasks.len(), 10);
    assert!(
        nn.tasks[0]
            .name
            .starts_with("scalar_2layer_nn_regression F=4")
    );
    let csv = load_task_file(&examples_dir().join("csv_task.toml")).unwrap();
    assert_eq!(csv.collections, vec![0..1, 1..2]);
    let (diabetes, cancer) = (&csv.tasks[0], &csv.tasks[1]);
    assert_eq!(
        (
            diabetes.features,
            diabetes.num_train(),
            diabetes.num_valid()
        ),
        (10, 353, 89)
    );
    assert_eq!(diabetes.train_labels[0], 151.0);
    assert_eq!(diabetes.max_abs_error, 1000.0);
    assert_eq!(
        (cancer.features, cancer.eval_type),
        (30, EvalType::Accuracy)
    );
    assert_eq!(cancer.train_features[0], 17.99);
    assert!(cancer.valid_labels.iter().all(|&l| l == 0.0 || l == 1.0));
}

#[test]
fn csv_paths_are_relative_to_the_task_file_and_the_exact_shape_is_accepted() {
    let dir = scratch("relative");
    write(&dir.join("sub/train.csv"), "a,b,label\n1,2,3\n4,5,6\n");
    write(&dir.join("sub/valid.csv"), "a,b,label\r\n7,8,9\r\n");
    let tasks = dir.join("sub/tasks.toml");
    write(
        &tasks,
        "[[tasks]]\nkind = \"csv\"\ntrain_file = \"train.csv\"   # relative paths are relative \
         to the task file\nvalid_file = \"valid.csv\"\neval_type = \"rms_error\"    # or \
         \"accuracy\"\nnum_train_epochs = 2\nnum_tasks = 2\n",
    );
    let file = load_task_file(&tasks).unwrap();
    assert_eq!(file.tasks.len(), 2);
    let t = &file.tasks[0];
    assert_eq!(t.train_features, vec![1.0, 2.0, 4.0, 5.0]);
    assert_eq!(t.train_labels, vec![3.0, 6.0]);
    assert_eq!(t.valid_features, vec![7.0, 8.0]);
    assert_eq!(t.param_seed, 0);
    assert!(is_permutation(&t.epoch_orders[0], 2));
    // The same file loaded from another working directory resolves the same way.
    let spec = &file.spec.tasks[0];
    assert!(build_tasks(spec, Path::new("/nonexistent")).is_err());
    assert_eq!(build_tasks(spec, &dir.join("sub")).unwrap(), file.tasks);
}

#[test]
fn csv_errors_name_the_file_the_line_and_the_problem() {
    let dir = scratch("csv-errors");
    let tasks = dir.join("tasks.toml");
    let spec = "[[tasks]]\nkind = \"csv\"\ntrain_file = \"data/train.csv\"\n\
                valid_file = \"data/valid.csv\"\n";
    write(&tasks, spec);
    write(&dir.join("data/valid.csv"), "a,b,label\n1,2,3\n");
    write(
        &dir.join("data/train.csv"),
        "a,b,label\n1,2,3\n4,5,6\n\n7,8,9\n1,2,3\n1,2\n",
    );
    let train = dir.join("data/train.csv");
    assert_eq!(
        load_error(&tasks),
        format!("{}:7: row has 2 fields, the header has 3", train.display())
    );
    write(&train, "a,b,label\n1,2,3\n4,five,6\n");
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}:3: column `b` has \"five\", which is not a number",
            train.display()
        )
    );
    write(&train, "a,label\n1,2\n");
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}: has 3 columns but the train file {} has 2",
            dir.join("data/valid.csv").display(),
            train.display()
        )
    );
    std::fs::remove_file(&train).unwrap();
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}: cannot read: No such file or directory",
            train.display()
        )
    );
    write(&train, "a,b,label\n1,2,3\n");
    write(&tasks, &format!("{spec}features_size = 3\n"));
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}:5: `features_size` is 3, but the file {} has 2 in [[tasks]] #1",
            tasks.display(),
            train.display()
        )
    );
}

#[test]
fn task_file_errors_are_one_line_with_file_line_and_key() {
    let dir = scratch("toml-errors");
    let tasks = dir.join("bad.toml");
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}: cannot read: No such file or directory",
            tasks.display()
        )
    );
    write(
        &tasks,
        "# a comment\n[[tasks]]\nfeatures_size = 4\nnum_train_examples = 10\n",
    );
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}:2: missing field `kind` in [[tasks]] #1",
            tasks.display()
        )
    );
    write(
        &tasks,
        "[[tasks]]\nkind = \"unit_test_ones\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 10\n\n[[tasks]]\nkind = \"csv_file\"\n",
    );
    let e = load_error(&tasks);
    assert!(
        e.starts_with(&format!(
            "{}:8: unknown kind \"csv_file\" (allowed: scalar_linear_regression, \
             scalar_2layer_nn_regression, unit_test_zeros, unit_test_ones, unit_test_increment, \
             fixed, csv, projected_binary_classification)",
            tasks.display()
        )),
        "{e}"
    );
    assert!(e.ends_with("in [[tasks]] #2"), "{e}");
    write(&tasks, "[[tasks]]\nkind = \"csv\"\neval_type = \"rms\"\n");
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}:3: unknown eval_type \"rms\" (allowed: rms_error, accuracy) in [[tasks]] #1",
            tasks.display()
        )
    );
    write(
        &tasks,
        "[[tasks]]\nkind = \"csv\"\ntrain_file = \"t.csv\"\n",
    );
    assert_eq!(
        load_error(&tasks),
        format!(
            "{}:1: missing `valid_file` (kind csv needs it) in [[tasks]] #1",
            tasks.display()
        )
    );
}

#[test]
fn hostile_task_files_give_errors_not_panics() {
    let dir = scratch("hostile");
    let tasks = dir.join("t.toml");
    let inputs = [
        "",
        "\u{feff}",
        "[[tasks]]",
        "tasks = 3",
        "tasks = [1, 2]",
        "[tasks]\nkind = \"csv\"",
        "[[tasks]]\nkind = 3",
        "[[tasks]]\nkind = \"fixed\"\ntrain_examples = []\nvalid_examples = []",
        "[[tasks]]\nkind = \"fixed\"\ntrain_examples = [{features = [], label = 1}]\nvalid_examples = [{features = [], label = 1}]",
        "[[tasks]]\nkind = \"scalar_linear_regression\"\nfeatures_size = -1",
        "[[tasks]]\nkind = \"scalar_linear_regression\"\nfeatures_size = 4\nnum_train_examples = 9223372036854775807\nnum_valid_examples = 1",
        "[[tasks]]\nkind = \"scalar_linear_regression\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 1\nnum_train_epochs = 9223372036854775807",
        "[[tasks]]\nkind = \"scalar_linear_regression\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 1\nnum_tasks = 9223372036854775807",
        "[[tasks]]\nkind = \"scalar_linear_regression\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 1\nmax_abs_error = nan",
        "[[tasks]]\nkind = \"unit_test_increment\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 1\nincrement = inf",
        "[[tasks]]\nkind = \"projected_binary_classification\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 1\nclasses = [1, 1]\nsource_file = \"x.csv\"",
        "[[tasks]]\nkind = \"projected_binary_classification\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 1\nclasses = [1]\nsource_file = \"x.csv\"",
        "[[tasks]]\nkind = \"csv\"\ntrain_file = \"\"\nvalid_file = \"\"",
        "[[tasks]]\nkind = \"csv\"\ntrain_file = \".\"\nvalid_file = \".\"",
        "x = \"\u{0}\"",
        "[[tasks]]\nkind = \"ü\"",
    ];
    for input in inputs {
        write(&tasks, input);
        let e = load_error(&tasks);
        assert!(!e.contains('\n'), "{input:?} gave a multi-line error: {e}");
        assert!(e.starts_with(&dir.display().to_string()), "{e}");
    }
}

#[test]
fn unit_test_kinds_and_fixed_build_from_task_files() {
    let dir = scratch("unit");
    let tasks = dir.join("t.toml");
    write(
        &tasks,
        "[[tasks]]\nkind = \"unit_test_increment\"\nfeatures_size = 3\nnum_train_examples = 4\n\
         num_valid_examples = 2\nincrement = 0.25\n\n\
         [[tasks]]\nkind = \"fixed\"\neval_type = \"accuracy\"\n\
         train_examples = [{ features = [1.0, 2.0], label = 1.0 }, { features = [-1.0, 0.5], label = 0.0 }]\n\
         valid_examples = [{ features = [3.0, 4.0], label = 1.0 }]\n\n\
         [[tasks]]\nkind = \"unit_test_zeros\"\nfeatures_size = 1\nnum_train_examples = 1\n\
         num_valid_examples = 1\nmax_abs_error = 5.5\n",
    );
    let file = load_task_file(&tasks).unwrap();
    let [inc, fixed, zeros] = &file.tasks[..] else {
        panic!("three tasks expected");
    };
    assert_eq!(inc.train_labels, vec![0.0, 0.25, 0.5, 0.75]);
    assert_eq!(inc.valid_example(1), &[1.25; 3]);
    assert_eq!(fixed.train_features, vec![1.0, 2.0, -1.0, 0.5]);
    assert_eq!((fixed.features, fixed.eval_type), (2, EvalType::Accuracy));
    assert_eq!((zeros.max_abs_error, zeros.train_labels[0]), (5.5, 0.0));
}

#[test]
fn projected_classification_from_a_csv_source() {
    let dir = scratch("projected-csv");
    let tasks = dir.join("t.toml");
    let wine = examples_dir().join("data/wine.csv");
    write(
        &tasks,
        &format!(
            "[[tasks]]\nkind = \"projected_binary_classification\"\nsource_file = {:?}\n\
             classes = [0, 2]\nfeatures_size = 4\nnum_train_examples = 80\nnum_valid_examples = 20\n\
             num_tasks = 2\n",
            wine.display().to_string()
        ),
    );
    let file = load_task_file(&tasks).unwrap();
    let t = &file.tasks[0];
    assert_eq!(t.eval_type, EvalType::Accuracy);
    assert_eq!((t.features, t.num_train(), t.num_valid()), (4, 80, 20));
    assert!(
        t.train_labels
            .iter()
            .chain(&t.valid_labels)
            .all(|&l| l == 0.0 || l == 1.0)
    );
    assert!(t.train_labels.contains(&0.0) && t.train_labels.contains(&1.0));
    for j in 0..4 {
        let column: Vec<f64> = (0..80).map(|i| t.train_example(i)[j]).collect();
        let mean = column.iter().sum::<f64>() / 80.0;
        let var = column.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 80.0;
        assert!(
            mean.abs() < 1e-9 && (var - 1.0).abs() < 1e-9,
            "{mean} {var}"
        );
    }
    assert_ne!(file.tasks[0].train_features, file.tasks[1].train_features);
    // Class 2 has only 48 wine examples, class 0 59: 107 in all.
    write(
        &tasks,
        &format!(
            "[[tasks]]\nkind = \"projected_binary_classification\"\nsource_file = {:?}\n\
             classes = [0, 2]\nfeatures_size = 4\nnum_train_examples = 100\nnum_valid_examples = 20\n",
            wine.display().to_string()
        ),
    );
    let e = load_error(&tasks);
    assert!(
        e.starts_with(&format!(
            "{}:4: classes [0, 2] have 107 examples",
            tasks.display()
        )),
        "{e}"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn projected_classification_from_gzipped_idx_files() {
    let dir = scratch("projected-idx");
    let (count, rows, cols) = (30u32, 3u32, 2u32);
    let mut images = Vec::new();
    for w in [0x0803, count, rows, cols] {
        images.extend_from_slice(&u32::to_be_bytes(w));
    }
    images.extend((0..count * rows * cols).map(|i| (i * 7 % 256) as u8));
    let mut labels = Vec::new();
    for w in [0x0801, count] {
        labels.extend_from_slice(&u32::to_be_bytes(w));
    }
    labels.extend((0..count).map(|i| (i % 3) as u8));
    std::fs::write(dir.join("images.gz"), gzip(&images)).unwrap();
    std::fs::write(dir.join("labels.idx"), &labels).unwrap();
    let tasks = dir.join("t.toml");
    let spec = "[[tasks]]\nkind = \"projected_binary_classification\"\nimages_file = \"images.gz\"\n\
                labels_file = \"labels.idx\"\nclasses = [2, 1]\nfeatures_size = 3\n\
                num_train_examples = 15\nnum_valid_examples = 5\n";
    write(&tasks, spec);
    let t = &load_task_file(&tasks).unwrap().tasks[0];
    assert_eq!((t.features, t.num_train(), t.num_valid()), (3, 15, 5));
    // Reproduce the first train example: shuffle the class-1/2 indices, project, standardise.
    let mut chosen: Vec<usize> = (0..30).filter(|i| i % 3 != 0).collect();
    let mut data = Rng::new(DEFAULT_DATA_SEED);
    data.shuffle(&mut chosen);
    assert_eq!(
        t.train_labels[0],
        if chosen[0] % 3 == 2 { 0.0 } else { 1.0 }
    );
    let mut params = Rng::new(DEFAULT_PARAM_SEED);
    let p: Vec<f64> = (0..3 * 6).map(|_| params.standard_normal()).collect();
    let project = |i: usize, r: usize| -> f64 {
        (0..6)
            .map(|j| p[r * 6 + j] * f64::from(images[16 + i * 6 + j]))
            .fold(0.0, |a, b| a + b)
    };
    let raw: Vec<f64> = chosen[..15].iter().map(|&i| project(i, 0)).collect();
    let mean = raw.iter().sum::<f64>() / 15.0;
    let std = (raw.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 15.0).sqrt();
    assert!((t.train_example(0)[0] - (raw[0] - mean) / std).abs() < 1e-9);
    // Mismatched counts are reported on the labels file.
    labels[7] = 29;
    labels.pop();
    std::fs::write(dir.join("labels.idx"), &labels).unwrap();
    let e = load_error(&tasks);
    assert!(
        e.contains("labels.idx: 29 labels, but the images file"),
        "{e}"
    );
}
