//! `amlz convert`: the original's demo spec and flags give the search of
//! `examples/demo_linear.toml`; other specs map field by field; bad specs fail on one line
//! naming the file, line and field.

mod common;

use amlz::experiment::{self, Experiment, RunOptions, Summary};
use common::{amlz, assert_one_line_error, scratch, stdout_of, without_timings, write};
use std::path::{Path, PathBuf};

/// The flags the original's run_demo.sh passes beside its spec, with the demo config's seed and
/// the demo's compile-time memory sizes.
const DEMO_FLAGS: &[&str] = &[
    "--select-tasks",
    "tests/data/demo_select_tasks.textproto",
    "--final-tasks",
    "tests/data/demo_final_tasks.textproto",
    "--sufficient-fitness",
    "0.9999",
    "--max-experiments",
    "0",
    "--randomize-task-seeds",
    "--random-seed",
    "1",
    "--scalars",
    "4",
    "--vectors",
    "3",
    "--matrices",
    "1",
];

fn converted_demo() -> String {
    let mut args = vec!["convert", "tests/data/original_demo.textproto"];
    args.extend_from_slice(DEMO_FLAGS);
    stdout_of(&amlz(&args))
}

fn parse(text: &str) -> Experiment {
    experiment::config::parse(text, "config", Path::new(".")).unwrap()
}

/// Every field of an experiment but where it came from.
fn fields(e: &Experiment) -> String {
    let mut e = e.clone();
    e.source = String::new();
    e.base_dir = PathBuf::new();
    format!("{e:#?}")
}

/// A few seconds' version of the demo: P = 100, 3000 individuals, one experiment, 10 select
/// and final tasks, one thread.
fn shortened(mut e: Experiment) -> Experiment {
    e.population_size = 100;
    e.max_individuals = Some(3000);
    e.max_experiments = 1;
    e.select_tasks[0].num_tasks = 10;
    e.final_tasks[0].num_tasks = 10;
    e
}

#[test]
fn the_demo_spec_converts_to_the_demo_config_and_runs_the_same_search() {
    let converted = parse(&converted_demo());
    let demo = parse(&std::fs::read_to_string("examples/demo_linear.toml").unwrap());
    assert_eq!(fields(&converted), fields(&demo));

    let options = RunOptions {
        threads: Some(1),
        ..RunOptions::default()
    };
    let a = experiment::run(&shortened(converted), &options, |_| {}).unwrap();
    let b = experiment::run(&shortened(demo), &options, |_| {}).unwrap();
    assert_eq!(a.individuals, 3000);
    assert_eq!(a.seed, 1);
    // The configs' names differ; everything else must not.
    let unnamed = |mut s: Summary| {
        s.config.clear();
        without_timings(s)
    };
    assert_eq!(unnamed(a), unnamed(b));
}

#[test]
fn the_original_flag_spellings_and_inline_texts_are_accepted() {
    let spec = std::fs::read_to_string("tests/data/original_demo.textproto").unwrap();
    let select = std::fs::read_to_string("tests/data/demo_select_tasks.textproto").unwrap();
    let final_tasks = std::fs::read_to_string("tests/data/demo_final_tasks.textproto").unwrap();
    let out = amlz(&[
        "convert",
        &spec,
        &format!("--select_tasks={select}"),
        &format!("--final_tasks={final_tasks}"),
        "--sufficient_fitness=0.9999",
        "--max_experiments=0",
        "--randomize_task_seeds",
        "--random_seed=1",
        "--scalars=4",
        "--vectors=3",
        "--matrices=1",
    ]);
    let text = stdout_of(&out);
    assert_eq!(
        text.lines().skip(1).collect::<Vec<_>>(),
        converted_demo().lines().skip(1).collect::<Vec<_>>()
    );
    // The original's defaults where the flags are absent: one experiment, memory 20/20/20, and
    // a note (on stderr and in the file) about the seed it would draw.
    let out = amlz(&[
        "convert",
        "tests/data/original_demo.textproto",
        "--select-tasks",
        "tests/data/demo_select_tasks.textproto",
        "--final-tasks",
        "tests/data/demo_final_tasks.textproto",
    ]);
    let text = stdout_of(&out);
    let e = parse(&text);
    assert_eq!(e.max_experiments, 1);
    assert_eq!(e.seed, 0);
    assert_eq!(e.space.counts.scalars, 20);
    assert_eq!(e.sufficient_fitness, None);
    assert!(!e.randomize_task_seeds);
    assert!(text.contains("# Note: no --random_seed"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: no --random_seed"));
}

/// The original's nonlinear check (its run_integration_test_nonlinear.sh), restated here.
const NONLINEAR_SPEC: &str = r#"
search_tasks {
  tasks {
    scalar_2layer_nn_regression_task {}
    features_size: 4
    num_train_examples: 1000
    num_valid_examples: 100
    num_tasks: 1
    eval_type: RMS_ERROR
  }
}
setup_ops: [VECTOR_GAUSSIAN_SET_OP, MATRIX_GAUSSIAN_SET_OP]
predict_ops: []
learn_ops: []
setup_size_init: 2
predict_size_init: 1
learn_size_init: 4
train_budget {train_budget_baseline: NEURAL_NET_ALGORITHM}
fitness_combination_mode: MEAN_FITNESS_COMBINATION
population_size: 1000
tournament_size: 10
initial_population: INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM
max_train_steps: 100000000
allowed_mutation_types {
  mutation_types: [ALTER_PARAM_MUTATION_TYPE, INSERT_INSTRUCTION_MUTATION_TYPE, REMOVE_INSTRUCTION_MUTATION_TYPE, TRADE_INSTRUCTION_MUTATION_TYPE]
}
mutate_prob: 1.0
mutate_setup_size_min: 6
mutate_setup_size_max: 7
mutate_predict_size_min: 3
mutate_predict_size_max: 4
mutate_learn_size_min: 9
mutate_learn_size_max: 10
progress_every: 10000
"#;

const NN_TASKS: &str = "tasks { scalar_2layer_nn_regression_task {} features_size: 4 \
    num_train_examples: 1000 num_valid_examples: 100 num_tasks: 1 eval_type: \
    RMS_ERROR param_seeds: [9000] data_seeds: [19000] }";

#[test]
fn the_nonlinear_spec_maps_every_field() {
    let d = scratch("nonlinear");
    let spec = write(&d, "nonlinear.textproto", NONLINEAR_SPEC);
    let tasks = write(&d, "nn_tasks.textproto", NN_TASKS);
    let out = amlz(&[
        "convert",
        &spec,
        "--select-tasks",
        &tasks,
        "--final-tasks",
        &tasks,
        "--random-seed",
        "100001",
        "--scalars",
        "5",
        "--vectors",
        "9",
        "--matrices",
        "2",
    ]);
    let text = stdout_of(&out);
    let e = parse(&text);
    assert_eq!(e.seed, 100001);
    assert_eq!(
        (
            e.space.counts.scalars,
            e.space.counts.vectors,
            e.space.counts.matrices
        ),
        (5, 9, 2)
    );
    let setup = &e.space.functions[0];
    assert_eq!(setup.ops.len(), 2);
    // init 2 is below min 6: raised to the bound, with a note.
    assert_eq!((setup.init_size, setup.min_size, setup.max_size), (6, 6, 7));
    assert!(text.contains("setup_size_init 2 is outside"), "{text}");
    assert!(e.space.functions[1].ops.is_empty() && e.space.functions[2].ops.is_empty());
    assert_eq!(
        e.initial_population,
        amlz::search::InitialPopulation::DamagedNeuralNet
    );
    assert_eq!(e.mutate_prob, 1.0);
    assert_eq!(e.mutations.len(), 4);
    assert_eq!(e.max_train_steps, Some(100_000_000));
    assert_eq!(e.max_individuals, None);
    assert!(e.fec.is_none(), "no fec in the spec: no cache");
    assert_eq!(
        e.train_budget,
        Some((amlz::experiment::config::Baseline::NeuralNet, 2.0))
    );
    assert_eq!(e.final_tasks[0].param_seeds, [9000]);
    assert_eq!(e.final_tasks[0].data_seeds, [19000]);
    assert_eq!(e.max_experiments, 1);
}

#[test]
fn other_task_types_enums_by_number_and_defaults_map_too() {
    let d = scratch("kinds");
    let spec = write(
        &d,
        "spec.textproto",
        r#"
        search_tasks {
          tasks { unit_test_increment_task { increment: 0.5 } features_size: 2
                  num_train_examples: 5 num_valid_examples: 3 num_tasks: 2 eval_type: 1
                  param_seeds: 7 num_train_epochs: 3 }
          tasks <
            unit_test_fixed_task {
              train_features { elements: [1.0, 2.0] } train_labels { elements: 3.5 }
              train_features { elements: [-1, 0x10] } train_labels { elements: [0] }
              valid_features: { elements: [0.25, 0.75] } valid_labels { elements: 1e-1 }
            }
            num_train_examples: 2; num_valid_examples: 1, num_tasks: 1 eval_type: ACCURACY
          >
        }
        setup_ops: [56, SCALAR_HEAVYSIDE_OP] predict_ops: VECTOR_HEAVYSIDE_OP
        predict_ops: VECTOR_INNER_PRODUCT_OP
        learn_ops: [NO_OP]
        setup_size_init: 1 predict_size_init: 2 learn_size_init: 0
        mutate_learn_size_max: 3
        max_abs_error: 50.0
        fitness_combination_mode: 3
        population_size: 20 tournament_size: 2
        fec { num_train_examples: 4 }
        train_budget { train_budget_threshold_factor: 3.5 }
        allowed_mutation_types { mutation_types: 0 mutation_types: [7, IDENTITY_MUTATION_TYPE] }
        "#,
    );
    let tasks = write(
        &d,
        "tasks.textproto",
        "tasks { unit_test_ones_task {} features_size: 2 num_train_examples: 5 \
         num_valid_examples: 5 num_tasks: 1 eval_type: RMS_ERROR num_test_examples: 9 }",
    );
    let text = stdout_of(&amlz(&[
        "convert",
        &spec,
        "--select-tasks",
        &tasks,
        "--final-tasks",
        &tasks,
    ]));
    let e = parse(&text);
    use amlz::task::spec::TaskKind;
    use amlz_ir::Op;
    assert_eq!(
        e.space.functions[0].ops,
        [Op::ScalarConstSet, Op::ScalarHeaviside]
    );
    assert_eq!(
        e.space.functions[1].ops,
        [Op::VectorHeaviside, Op::VectorInnerProduct]
    );
    assert_eq!(e.space.functions[2].ops, [Op::NoOp]);
    let learn = &e.space.functions[2];
    assert_eq!((learn.init_size, learn.min_size, learn.max_size), (0, 0, 3));
    assert_eq!(
        e.initial_population,
        amlz::search::InitialPopulation::NoOp,
        "the original's default"
    );
    assert_eq!(
        e.max_train_steps,
        Some(80_000_000_000),
        "the original's default"
    );
    assert_eq!(
        e.fitness_combination,
        amlz::task::combination::Combination::Median
    );
    let fec = e.fec.unwrap();
    assert_eq!((fec.num_train_examples, fec.num_valid_examples), (4, 0));
    assert_eq!(
        e.train_budget,
        Some((amlz::experiment::config::Baseline::NeuralNet, 3.5))
    );
    assert_eq!(e.mutations.len(), 3);
    let inc = &e.search_tasks[0];
    assert_eq!(inc.kind, TaskKind::UnitTestIncrement);
    assert_eq!(inc.increment, Some(0.5));
    assert_eq!(inc.num_train_epochs, 3);
    assert!(inc.param_seeds.is_empty(), "no hidden function: dropped");
    assert_eq!(inc.max_abs_error, 50.0);
    let fixed = &e.search_tasks[1];
    assert_eq!(fixed.kind, TaskKind::Fixed);
    let train = fixed.train_examples.as_ref().unwrap();
    assert_eq!(train[1].features, [-1.0, 16.0]);
    assert_eq!(train[0].label, 3.5);
    assert_eq!(fixed.valid_examples.as_ref().unwrap()[0].label, 0.1);
    assert_eq!(e.final_tasks[0].max_abs_error, 50.0);
    for note in [
        "median for every collection",
        "num_test_examples is dropped",
        "param_seeds of a unit_test_increment_task collection are dropped",
        "max_abs_error 50",
    ] {
        assert!(text.contains(note), "{note:?} not in\n{text}");
    }
}

#[test]
fn bad_specs_fail_on_one_line_naming_file_line_and_field() {
    let d = scratch("bad");
    let demo = std::fs::read_to_string("tests/data/original_demo.textproto").unwrap();
    let select = "tests/data/demo_select_tasks.textproto";
    let convert = |spec: &str, tasks: &str| {
        amlz(&[
            "convert",
            spec,
            "--select-tasks",
            tasks,
            "--final-tasks",
            select,
        ])
    };
    let population = demo.replace("population_size: 1000", "populaton_size: 1000");
    let line = population
        .lines()
        .position(|l| l.contains("populaton"))
        .unwrap()
        + 1;
    let unknown = write(&d, "unknown.textproto", &population);
    let at = format!("unknown.textproto:{line}:");
    assert_one_line_error(
        &convert(&unknown, select),
        &[
            &at,
            "unknown field `populaton_size` in SearchExperimentSpec",
            "population_size",
        ],
    );
    let tasks = write(
        &d,
        "tasks.textproto",
        "tasks {\n  scalar_linear_regression_task {}\n  features_sise: 4\n}\n",
    );
    let spec = write(&d, "demo.textproto", &demo);
    assert_one_line_error(
        &convert(&spec, &tasks),
        &[
            "tasks.textproto:3:",
            "unknown field `features_sise` in TaskSpec",
        ],
    );
    // Each case: the demo without its population size, with the case's text first.
    let rest = demo.replace("population_size: 1000\n", "");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "syntax",
            "population_size 1000\n",
            &[":1:17:", "expected `:` or `{`"],
        ),
        (
            "type",
            "population_size: ten\n",
            &[":1:", "`population_size`", "expects an integer"],
        ),
        (
            "twice",
            "population_size: 5\npopulation_size: 6\n",
            &[":2:", "`population_size`", "given twice"],
        ),
        (
            "enum",
            "population_size: 1000 initial_population: SMART_ALGORITHM\n",
            &[
                ":1:",
                "`initial_population`",
                "unknown value `SMART_ALGORITHM`",
            ],
        ),
        (
            "op",
            "population_size: 1000\nsetup_ops: [SCALAR_SUMM_OP]\n",
            &[":2:", "unknown op `SCALAR_SUMM_OP`"],
        ),
        (
            "message",
            "population_size: 1000 train_budget: 3\n",
            &[":1:", "`train_budget`", "is a message"],
        ),
        (
            "refused",
            "population_size: 5\n",
            &["converted config is refused", "tournament_size"],
        ),
    ];
    for (name, first, pieces) in cases {
        let rest = rest.replace("initial_population: RANDOM_ALGORITHM\n", "");
        let f = write(&d, &format!("{name}.textproto"), &format!("{first}{rest}"));
        let mut expected = vec![f.as_str()];
        if *name == "refused" {
            expected.clear();
        }
        expected.extend_from_slice(pieces);
        assert_one_line_error(&convert(&f, select), &expected);
    }
    let unclosed = write(&d, "unclosed.textproto", "search_tasks {\n  tasks {\n");
    assert_one_line_error(
        &convert(&unclosed, select),
        &["unclosed.textproto:3:1:", "opened on line 2 is not closed"],
    );
    let missing = write(
        &d,
        "missing.textproto",
        &demo.replace("tournament_size: 10\n", ""),
    );
    assert_one_line_error(
        &convert(&missing, select),
        &[
            "missing.textproto:1:",
            "SearchExperimentSpec needs `tournament_size`",
        ],
    );
    let projected = write(
        &d,
        "projected.textproto",
        "tasks {\n  projected_binary_classification_task {\n    dataset_name: 'cifar10'\n    \
         path: '/data'\n  }\n  features_size: 16 num_train_examples: 10 num_valid_examples: 10\n  \
         num_tasks: 1 eval_type: ACCURACY\n}\n",
    );
    assert_one_line_error(
        &convert(&spec, &projected),
        &[
            "projected.textproto:4:",
            "`path`",
            "pre-projected data sets",
        ],
    );
    let out = amlz(&[
        "convert",
        &spec,
        "--select-tasks",
        select,
        "--final-tasks",
        select,
        "--scalars",
        "1",
    ]);
    assert_one_line_error(&out, &["--scalars", "1 is not allowed"]);
    let out = amlz(&[
        "convert",
        &d.join("nope.textproto").display().to_string(),
        "--select-tasks",
        select,
        "--final-tasks",
        select,
    ]);
    assert_one_line_error(&out, &["nope.textproto", "cannot read"]);
}
