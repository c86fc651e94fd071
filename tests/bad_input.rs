//! Bad input: every case exits with status 2, names the file and the key
//! (or line) and what was expected, and writes nothing.

mod common;

use common::Sandbox;

const IRIS_KNN: &str = r#"
[search]
strategy = "random"
trials = 3

[objective]
model = "knn"

[data]
path = "data/iris.csv"
target = "target"

[space]
n_neighbors = { type = "int", low = 1, high = 9 }
"#;

const BRANIN: &str = r#"
[search]
strategy = "random"
trials = 3

[objective]
function = "branin"

[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#;

/// Run `hpsearch run bad.toml` (and `check`) on `config` with the sandbox
/// prepared by `setup`; require status 2, every piece of `expect` in the
/// message, and no results folder.
fn refuse(config: &str, setup: impl Fn(&Sandbox), expect: &[&str]) {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    setup(&sb);
    sb.write("bad.toml", config);
    for cmd in ["run", "check"] {
        let r = sb.run(&[cmd, "bad.toml"]);
        r.expect_code(2);
        let err = r.stderr();
        assert!(err.starts_with("error: "), "{err}");
        for piece in expect {
            assert!(err.contains(piece), "`{piece}` not in: {err}");
        }
        assert!(r.stdout().is_empty(), "{}", r.stdout());
        assert!(!sb.path().join("results").exists(), "{cmd} wrote results/");
    }
}

fn none(_: &Sandbox) {}

macro_rules! bad {
    ($name:ident, $config:expr, $expect:expr) => {
        bad!($name, $config, none, $expect);
    };
    ($name:ident, $config:expr, $setup:expr, $expect:expr) => {
        #[test]
        fn $name() {
            refuse(&$config, $setup, &$expect);
        }
    };
}

bad!(
    low_not_below_high,
    BRANIN.replace("low = -5.0, high = 10.0", "low = 10.0, high = 1.0"),
    ["bad.toml: [space.x0]: low must be below high (got 10 >= 1)"]
);
bad!(
    log_with_nonpositive_low,
    BRANIN.replace(
        "low = 0.0, high = 15.0 }",
        "low = 0.0, high = 15.0, log = true }"
    ),
    ["[space.x1]: log = true needs low > 0"]
);
bad!(
    empty_choices,
    IRIS_KNN.replace(
        "[space]",
        "[space]\nweights = { type = \"categorical\", choices = [] }"
    ),
    ["[space.weights]: `choices` is empty"]
);
bad!(
    duplicate_choices,
    IRIS_KNN.replace(
        "[space]",
        "[space]\nweights = { type = \"categorical\", choices = [\"uniform\", \"uniform\"] }"
    ),
    ["[space.weights]", "twice"]
);
bad!(
    unknown_model,
    IRIS_KNN.replace("\"knn\"", "\"knm\""),
    ["[objective.model]: unknown model \"knm\"", "knn"]
);
bad!(
    hyperparameter_the_model_lacks,
    IRIS_KNN.replace("n_neighbors =", "alpha ="),
    [
        "[space.alpha]: model knn has no hyperparameter `alpha`",
        "n_neighbors"
    ]
);
bad!(
    hyperparameter_value_out_of_range,
    IRIS_KNN.replace("low = 1, high = 9", "low = 0, high = 9"),
    ["[space.n_neighbors]: got 0, expected an integer"]
);
bad!(
    unknown_metric,
    IRIS_KNN.replace("model = \"knn\"", "model = \"knn\"\nmetric = \"acuracy\""),
    ["[objective.metric]: unknown metric \"acuracy\"", "accuracy"]
);
bad!(
    metric_of_the_wrong_task,
    IRIS_KNN.replace(
        "model = \"knn\"",
        "model = \"knn\"\nmetric = \"rmse\"\ntask = \"classification\""
    ),
    ["[objective.metric]: metric rmse is for regression"]
);
bad!(
    binary_f1_on_three_classes,
    IRIS_KNN.replace("model = \"knn\"", "model = \"knn\"\nmetric = \"f1\""),
    ["[objective.metric]", "f1_macro"]
);
bad!(
    missing_data_file,
    IRIS_KNN.replace("data/iris.csv", "data/nope.csv"),
    ["[data.path]", "nope.csv"]
);
bad!(
    missing_target_column,
    IRIS_KNN.replace("target = \"target\"", "target = \"species\""),
    ["[data.path]", "species", "sepal length (cm)"]
);
bad!(
    non_numeric_regression_target,
    IRIS_KNN
        .replace("data/iris.csv", "data/text.csv")
        .replace("model = \"knn\"", "model = \"knn\"\ntask = \"regression\""),
    |sb: &Sandbox| {
        sb.write("data/text.csv", "a,target\n1,2.5\n2,high\n3,1.0\n");
    },
    ["[data.path]", "line 3", "high"]
);
bad!(
    classification_target_with_one_class,
    IRIS_KNN.replace("data/iris.csv", "data/one.csv"),
    |sb: &Sandbox| {
        sb.write("data/one.csv", "a,target\n1,x\n2,x\n3,x\n");
    },
    ["[data.path]", "class"]
);
bad!(
    empty_csv,
    IRIS_KNN.replace("data/iris.csv", "data/empty.csv"),
    |sb: &Sandbox| {
        sb.write("data/empty.csv", "");
    },
    ["[data.path]", "empty.csv"]
);
bad!(
    ragged_row,
    IRIS_KNN.replace("data/iris.csv", "data/ragged.csv"),
    |sb: &Sandbox| {
        sb.write("data/ragged.csv", "a,b,target\n1,2,0\n3,4,1\n5,1\n");
    },
    ["[data.path]", "line 4"]
);
bad!(
    missing_value_without_imputation,
    IRIS_KNN
        .replace("data/iris.csv", "data/auto_mpg.csv")
        .replace("target = \"target\"", "target = \"origin\""),
    |sb: &Sandbox| {
        sb.data("auto_mpg.csv");
    },
    [
        "[data.impute]",
        "line 34",
        "column `horsepower`",
        "impute = \"median\""
    ]
);
bad!(
    fill_value_without_constant,
    IRIS_KNN.replace(
        "target = \"target\"",
        "target = \"target\"\nfill_value = 0.0"
    ),
    ["[data.fill_value]", "constant"]
);
bad!(
    grid_over_a_continuous_range,
    BRANIN.replace("\"random\"", "\"grid\""),
    ["[space.x0]: a grid needs `steps`"]
);
bad!(
    zero_trials,
    BRANIN.replace("trials = 3", "trials = 0"),
    ["[search.trials]: must be at least 1 (got 0)"]
);
bad!(
    random_without_a_budget,
    BRANIN.replace("trials = 3", ""),
    ["[search.trials]: missing"]
);
bad!(
    one_fold,
    format!("{IRIS_KNN}\n[cv]\nfolds = 1\n"),
    ["[cv.folds]: must be between 2 and the number of rows (150), got 1"]
);
bad!(
    more_folds_than_rows,
    format!("{IRIS_KNN}\n[cv]\nfolds = 151\n"),
    ["[cv.folds]", "got 151"]
);
bad!(
    parameter_named_like_a_reserved_column,
    BRANIN.replace("x1 =", "value ="),
    ["[space.value]", "reserved"]
);
bad!(
    unknown_key,
    BRANIN.replace("trials = 3", "trials = 3\nsed = 4"),
    ["bad.toml", "line 5", "unknown field `sed`"]
);
bad!(
    unknown_key_in_a_parameter,
    BRANIN.replace("high = 15.0 }", "high = 15.0, lgo = true }"),
    ["bad.toml", "unknown field `lgo`"]
);
bad!(
    unknown_table,
    format!("{BRANIN}\n[extra]\na = 1\n"),
    ["bad.toml", "unknown field `extra`"]
);
bad!(
    toml_syntax_error,
    BRANIN.replace("trials = 3", "trials = = 3"),
    ["bad.toml", "line 4"]
);
bad!(
    model_and_function_together,
    BRANIN.replace(
        "function = \"branin\"",
        "function = \"branin\"\nmodel = \"knn\""
    ),
    ["[objective]: give one of `model`, `function` or `command`, not several"]
);
bad!(
    function_with_wrong_parameters,
    BRANIN.replace("x1 =", "y ="),
    ["[space]: function branin", "x1"]
);
bad!(
    unknown_function,
    BRANIN.replace("\"branin\"", "\"brainn\""),
    [
        "[objective.function]: unknown function \"brainn\"",
        "hartmann6"
    ]
);
bad!(
    unknown_strategy,
    BRANIN.replace("\"random\"", "\"annealing\""),
    [
        "[search.strategy]: unknown strategy \"annealing\"",
        "grid, random"
    ]
);
bad!(
    step_and_steps_together,
    BRANIN.replace("high = 15.0 }", "high = 15.0, step = 1.0, steps = 3 }"),
    ["[space.x1]: give either `step` or `steps`"]
);
bad!(
    int_range_with_float_bounds,
    IRIS_KNN.replace("low = 1, high = 9", "low = 1.5, high = 9"),
    [
        "bad.toml",
        "[space.n_neighbors]",
        "`low` must be an integer"
    ]
);

#[test]
fn missing_search_file() {
    let sb = Sandbox::new();
    let r = sb.run(&["run", "nowhere.toml"]);
    r.expect_code(2);
    assert!(r
        .stderr()
        .contains("nowhere.toml: cannot read the search file"));
    assert!(!sb.path().join("results").exists());
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    sb.run(&["frobnicate"]).expect_code(2);
    sb.run(&["run"]).expect_code(2);
    sb.write("b.toml", BRANIN);
    let r = sb.run(&["run", "b.toml", "--threads", "0"]);
    r.expect_code(2);
    assert!(!sb.path().join("results").exists());
}

// ------------------------------------------------------ command objectives --

const CMD: &str = r#"
[search]
strategy = "random"
trials = 3

[objective]
command = ["python3", "train.py"]
direction = "minimize"

[space]
x = { type = "float", low = 0.0, high = 1.0 }
"#;

fn cmd_with(line: &str) -> String {
    CMD.replace("direction = ", &format!("{line}\ndirection = "))
}

bad!(
    command_empty,
    CMD.replace(r#"["python3", "train.py"]"#, "[]"),
    ["bad.toml: [objective.command]: is empty"]
);
bad!(
    command_program_missing,
    CMD.replace("python3", "./nope.sh"),
    [
        "[objective.command]: program `./nope.sh` not found",
        "relative to the search file's folder"
    ]
);
bad!(
    command_not_on_path,
    CMD.replace("python3", "no-such-program-xyz"),
    ["program `no-such-program-xyz` is not an executable on PATH"]
);
bad!(
    command_without_direction,
    CMD.replace("direction = \"minimize\"\n", ""),
    ["[objective.direction]: missing", "maximize"]
);
bad!(
    command_bad_timeout,
    cmd_with("timeout = -1.0"),
    ["[objective.timeout]: must be a positive number of seconds (got -1)"]
);
bad!(
    command_negative_max_failures,
    cmd_with("max_failures = -2"),
    ["[objective.max_failures]: must be >= 0"]
);
bad!(
    command_with_data,
    format!("{CMD}\n[data]\npath = \"data/iris.csv\"\n"),
    ["[data]: only for model objectives", "inputs"]
);
bad!(
    command_missing_input,
    cmd_with(r#"inputs = ["missing.py"]"#),
    [
        "[objective.inputs.missing.py]: cannot hash the input",
        "missing.py"
    ]
);
bad!(
    command_column_is_a_parameter,
    cmd_with(r#"columns = ["x"]"#),
    ["[objective.columns.x]: `x` is also a parameter"]
);
bad!(
    command_params_differ_only_in_case,
    format!("{CMD}X = {{ type = \"int\", low = 1, high = 3 }}\n"),
    ["differ only in case", "HPSEARCH_PARAM_X"]
);
bad!(
    command_and_model,
    cmd_with(r#"model = "knn""#),
    ["[objective]: give one of `model`, `function` or `command`"]
);
bad!(
    timeout_on_a_model,
    IRIS_KNN.replace("model = \"knn\"", "model = \"knn\"\ntimeout = 5.0"),
    ["[objective.timeout]: only for command objectives; remove it"]
);

#[test]
fn gradient_boosting_parameters_out_of_range_name_the_key() {
    // Fixed in [objective.params] or as a searched range: refused before
    // anything runs, naming the key and what it accepts.
    for (name, value, accepts) in [
        ("learning_rate", "0.0", "a number in [0 (exclusive), inf]"),
        ("learning_rate", "-0.1", "a number in [0 (exclusive), inf]"),
        ("max_iter", "0", "an integer in [1, 100000]"),
        ("max_bins", "256", "an integer in [2, 255]"),
        ("max_bins", "1", "an integer in [2, 255]"),
        ("max_leaf_nodes", "1", "an integer >= 2 or one of \"none\""),
        ("max_depth", "0", "an integer >= 1 or one of \"none\""),
        ("min_samples_leaf", "0", "an integer >= 1"),
        ("l2_regularization", "-1.0", "a number in [0, inf]"),
        ("max_features", "0.0", "a number in [0 (exclusive), 1]"),
        ("max_features", "1.5", "a number in [0 (exclusive), 1]"),
        ("subsample", "0.0", "a number in [0 (exclusive), 1]"),
        ("subsample", "2", "a number in [0 (exclusive), 1]"),
    ] {
        let base = IRIS_KNN
            .replace("\"knn\"", "\"gradient_boosting\"")
            .replace(
                "n_neighbors = { type = \"int\", low = 1, high = 9 }",
                "max_iter = { type = \"int\", low = 2, high = 5 }",
            );
        let fixed = base.replace(
            "\n[data]",
            &format!("\n[objective.params]\n{name} = {value}\n\n[data]"),
        );
        let fixed = if name == "max_iter" {
            fixed.replace("max_iter = { type", "max_depth = { type")
        } else {
            fixed
        };
        let key = format!("[objective.params.{name}]: got");
        refuse(&fixed, none, &[&key, accepts]);
    }
    let searched = IRIS_KNN
        .replace("\"knn\"", "\"gradient_boosting\"")
        .replace(
            "n_neighbors = { type = \"int\", low = 1, high = 9 }",
            "learning_rate = { type = \"float\", low = 0.0, high = 0.5 }",
        );
    refuse(
        &searched,
        none,
        &[
            "[space.learning_rate]: got 0",
            "a number in [0 (exclusive), inf]",
        ],
    );
}

#[test]
fn gradient_boosting_loss_must_suit_the_task() {
    // absolute_error and squared_error are regression losses; log_loss is
    // classification's. Fixed or searched, a loss of the other task is
    // refused before anything runs, naming the key.
    let iris = IRIS_KNN
        .replace("\"knn\"", "\"gradient_boosting\"")
        .replace(
            "n_neighbors = { type = \"int\", low = 1, high = 9 }",
            "max_iter = { type = \"int\", low = 2, high = 5 }",
        );
    for loss in ["absolute_error", "squared_error"] {
        let fixed = iris.replace(
            "\n[data]",
            &format!("\n[objective.params]\nloss = \"{loss}\"\n\n[data]"),
        );
        refuse(
            &fixed,
            none,
            &[
                &format!("[objective.params.loss]: \"{loss}\" is for regression"),
                "this search does classification; use \"log_loss\"",
            ],
        );
    }
    let searched = iris.replace(
        "max_iter = { type = \"int\", low = 2, high = 5 }",
        "loss = { type = \"categorical\", choices = [\"log_loss\", \"absolute_error\"] }",
    );
    refuse(
        &searched,
        none,
        &["[space.loss]: \"absolute_error\" is for regression"],
    );
    let diabetes = iris.replace("data/iris.csv", "data/diabetes.csv").replace(
        "\n[data]",
        "\n[objective.params]\nloss = \"log_loss\"\n\n[data]",
    );
    refuse(
        &diabetes,
        |sb: &Sandbox| {
            sb.data("diabetes.csv");
        },
        &[
            "[objective.params.loss]: \"log_loss\" is for classification",
            "use \"squared_error\" or \"absolute_error\"",
        ],
    );
    let unknown = iris.replace(
        "\n[data]",
        "\n[objective.params]\nloss = \"huber\"\n\n[data]",
    );
    refuse(
        &unknown,
        none,
        &[
            "[objective.params.loss]: got \"huber\"",
            "\"absolute_error\"",
        ],
    );
}

// ------------------------------------------------ bad input taken for good --

/// Every built-in model with a valid one-parameter space.
const MODEL_SPACES: &[(&str, &str)] = &[
    (
        "logistic_regression",
        "C = { type = \"float\", low = 0.1, high = 10.0 }",
    ),
    (
        "elastic_net",
        "alpha = { type = \"float\", low = 0.1, high = 1.0 }",
    ),
    (
        "ridge",
        "alpha = { type = \"float\", low = 0.1, high = 1.0 }",
    ),
    (
        "lasso",
        "alpha = { type = \"float\", low = 0.1, high = 1.0 }",
    ),
    (
        "decision_tree",
        "max_depth = { type = \"int\", low = 1, high = 5 }",
    ),
    (
        "random_forest",
        "max_depth = { type = \"int\", low = 1, high = 5 }",
    ),
    (
        "gradient_boosting",
        "max_depth = { type = \"int\", low = 1, high = 5 }",
    ),
    ("svm", "C = { type = \"float\", low = 0.1, high = 10.0 }"),
    ("knn", "n_neighbors = { type = \"int\", low = 1, high = 9 }"),
    (
        "gaussian_nb",
        "var_smoothing = { type = \"float\", low = 0.0, high = 1.0 }",
    ),
];

#[test]
fn data_with_no_feature_column_is_refused_for_every_model() {
    // Every model `hpsearch models` lists is covered.
    let sb = Sandbox::new();
    let listed = sb.run(&["models"]);
    listed.expect_code(0);
    for line in listed.stdout().lines() {
        if let Some((name, _)) = line.split_once(" (") {
            if !line.starts_with(' ') {
                assert!(
                    MODEL_SPACES.iter().any(|(m, _)| *m == name),
                    "add {name} to MODEL_SPACES"
                );
            }
        }
    }
    for (model, space) in MODEL_SPACES {
        let config = format!(
            "[search]\nstrategy = \"random\"\ntrials = 3\n\n[objective]\nmodel = \"{model}\"\n\n\
             [data]\npath = \"data/y.csv\"\ntarget = \"target\"\n\n[space]\n{space}\n"
        );
        refuse(
            &config,
            |sb: &Sandbox| {
                sb.write("data/y.csv", "target\n0\n1\n2\n0\n1\n2\n0\n1\n2\n1\n");
            },
            &[
                "[data.path]",
                "y.csv: no feature column",
                "only the target column `target`",
                &format!("model {model} needs at least one feature"),
            ],
        );
    }
}

/// 24 rows, column `a` numeric except the cell on line 9.
fn one_odd_cell(cell: &str) -> String {
    let mut text = String::from("a,b,target\n");
    for i in 0..24 {
        let a = if i == 7 {
            cell.to_owned()
        } else {
            format!("{}", i as f64 * 1.5)
        };
        text.push_str(&format!("{a},{},{}\n", i % 5, i % 2));
    }
    text
}

const ODD: &str = r#"
[search]
strategy = "random"
trials = 2

[objective]
model = "knn"

[data]
path = "data/odd.csv"

[cv]
folds = 2

[space]
n_neighbors = { type = "int", low = 1, high = 3 }
"#;

#[test]
fn a_stray_non_number_in_a_numeric_column_is_refused() {
    let cases = [
        ("inf", "`inf` is not a finite number (infinity"),
        ("Infinity", "`Infinity` is not a finite number (infinity"),
        (
            "1e400",
            "`1e400` is not a finite number (it is beyond the range",
        ),
        ("0x1p3", "`0x1p3` is not a finite number (hexadecimal"),
        ("1_000", "`1_000` is not a finite number (digit separators"),
        (
            "\"1,000\"",
            "`1,000` is not a finite number (digit separators",
        ),
        (
            "\0",
            "`\\0` is not a finite number (it holds a control character",
        ),
        ("NAN", "`NAN` is not a finite number (NaN is not a value"),
    ];
    for (cell, why) in cases {
        let data = one_odd_cell(cell);
        refuse(
            ODD,
            |sb: &Sandbox| {
                sb.write("data/odd.csv", &data);
            },
            &[
                "[data.path]",
                "odd.csv: line 9, column `a`: ",
                why,
                "23 of the column's 24 non-missing cells are numbers",
                "[data] text = [\"a\"]",
            ],
        );
    }
}

#[test]
fn a_plus_sign_is_a_number_and_a_mostly_text_column_is_text() {
    let sb = Sandbox::new();
    sb.write("data/odd.csv", &one_odd_cell("+5"));
    sb.write("odd.toml", ODD);
    let r = sb.run(&["check", "odd.toml"]);
    r.expect_code(0);
    sb.run(&["run", "odd.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/odd", "--out", "m.json"])
        .expect_code(0);
    let model: serde_json::Value = serde_json::from_slice(&sb.read("m.json")).expect("json");
    let a = &model["preprocessing"]["columns"][0];
    assert_eq!(
        (&a["name"], &a["kind"]),
        (&"a".into(), &"numeric".into()),
        "{a}"
    );
    // Half numbers, half words: a categorical column, as before.
    let mut text = String::from("a,b,target\n");
    for i in 0..24 {
        let a = if i % 2 == 0 {
            format!("{i}")
        } else {
            format!("w{i}")
        };
        text.push_str(&format!("{a},{},{}\n", i % 5, i % 2));
    }
    sb.write("data/odd.csv", &text);
    sb.run(&["check", "odd.toml"]).expect_code(0);
}

#[test]
fn text_option_reads_a_mostly_numeric_column_as_text() {
    let sb = Sandbox::new();
    sb.write("data/odd.csv", &one_odd_cell("inf"));
    let with_text = ODD.replace("[cv]", "text = [\"a\"]\n\n[cv]");
    sb.write("odd.toml", &with_text);
    let r = sb.run(&["check", "odd.toml"]);
    r.expect_code(0);
    assert!(r.stdout().contains("text = [\"a\"]"), "{}", r.stdout());
    sb.run(&["run", "odd.toml", "-q"]).expect_code(0);
    // The option enters the root hash only when set.
    sb.write("data/odd.csv", &one_odd_cell("7"));
    let with = sb.run(&["check", "odd.toml"]);
    sb.write("plain.toml", ODD);
    let without = sb.run(&["check", "plain.toml"]);
    let hash = |r: &common::Run| {
        r.stdout()
            .lines()
            .find(|l| l.starts_with("root hash:"))
            .map(str::to_owned)
    };
    assert_ne!(hash(&with), hash(&without));
    assert!(!without.stdout().contains("text ="), "{}", without.stdout());
}

#[test]
fn root_hash_of_an_existing_search_is_unchanged() {
    // Computed by the release before `[data] text` existed.
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write("s.toml", IRIS_KNN);
    let r = sb.run(&["check", "s.toml"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains(
            "root hash: 4a390709cafa99a6408f6b3855fa07e30b9dff3b15c8e327d8d3d4c2a5cf6d8b"
        ),
        "{}",
        r.stdout()
    );
}

bad!(
    text_option_names_a_missing_column,
    IRIS_KNN.replace(
        "target = \"target\"",
        "target = \"target\"\ntext = [\"colour\"]"
    ),
    [
        "[data.text]: `colour` is not a column of",
        "sepal length (cm)"
    ]
);
bad!(
    text_option_names_the_target,
    IRIS_KNN.replace(
        "target = \"target\"",
        "target = \"target\"\ntext = [\"target\"]"
    ),
    ["[data.text]: `target` is the target column"]
);
bad!(
    stray_non_number_in_an_inferred_target,
    IRIS_KNN.replace("data/iris.csv", "data/t.csv"),
    |sb: &Sandbox| {
        sb.write("data/t.csv", "a,target\n1,0.5\n2,1.5\n3,inf\n4,2.5\n");
    },
    [
        "[data.path]",
        "line 4: column `target`: target `inf` is not a finite number",
        "or set task = \"classification\" under [objective]",
    ]
);

const HUGE_GRID: &str = r#"
[search]
strategy = "grid"

[objective]
function = "mixed"

[space]
x1 = { type = "float", low = 0.0, high = 1.0, steps = 1000000 }
x2 = { type = "float", low = 0.0, high = 1.0, steps = 1000000 }
lr = { type = "float", low = 0.001, high = 1.0, log = true, steps = 1000000 }
n = { type = "int", low = 1, high = 1000000 }
act = { type = "categorical", choices = ["relu", "tanh", "sigmoid"] }
"#;

bad!(
    grid_beyond_2_to_the_64_is_refused,
    HUGE_GRID,
    [
        "[space]: the grid has more than 2^64 (about 3.0e24) points",
        "trials = N"
    ]
);
bad!(
    grid_between_2_to_the_63_and_64_is_refused,
    HUGE_GRID.replace("steps = 1000000 }\nlr", "steps = 5 }\nlr"),
    ["[space]: the grid has 15000000000000000000 points, more than the 9223372036854775807"]
);

#[test]
fn check_prints_a_grid_size_beyond_2_to_the_64() {
    let sb = Sandbox::new();
    sb.write(
        "r.toml",
        &HUGE_GRID.replace("strategy = \"grid\"", "strategy = \"random\"\ntrials = 5"),
    );
    let r = sb.run(&["check", "r.toml"]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("grid size: more than 2^64 (about 3.0e24)"),
        "{}",
        r.stdout()
    );
    // A cap makes the same grid a search of `trials` points.
    sb.write(
        "g.toml",
        &HUGE_GRID.replace("\"grid\"", "\"grid\"\ntrials = 4"),
    );
    sb.run(&["run", "g.toml", "-q"]).expect_code(0);
}

/// Run `hpsearch args…` in `sb`, killing it after `limit` (a guard against
/// a hang, not a timing assertion).
fn run_within(sb: &Sandbox, args: &[&str], limit: std::time::Duration) -> common::Run {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(args)
        .current_dir(sb.path())
        .stdin(Stdio::null())
        // Files, not pipes: a full pipe nobody reads would block the child.
        .stdout(std::fs::File::create(sb.path().join("out.txt")).expect("out"))
        .stderr(std::fs::File::create(sb.path().join("err.txt")).expect("err"))
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hpsearch {args:?} still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = child.wait().expect("wait");
    common::Run(std::process::Output {
        status,
        stdout: sb.read("out.txt"),
        stderr: sb.read("err.txt"),
    })
}

#[test]
fn long_values_lists_and_many_parameters_check_in_linear_time() {
    let sb = Sandbox::new();
    let values: Vec<String> = (0..80_000).map(|i| format!("{i}.5")).collect();
    sb.write(
        "values.toml",
        &BRANIN.replace(
            "x0 = { type = \"float\", low = -5.0, high = 10.0 }",
            &format!(
                "x0 = {{ type = \"float\", values = [{}] }}",
                values.join(", ")
            ),
        ),
    );
    let limit = std::time::Duration::from_secs(120);
    run_within(&sb, &["check", "values.toml"], limit).expect_code(0);
    // A repeat at the very end is still found.
    sb.write(
        "repeat.toml",
        &BRANIN.replace(
            "x0 = { type = \"float\", low = -5.0, high = 10.0 }",
            &format!(
                "x0 = {{ type = \"float\", values = [{}, 3.5] }}",
                values.join(", ")
            ),
        ),
    );
    let r = run_within(&sb, &["check", "repeat.toml"], limit);
    r.expect_code(2);
    assert!(
        r.stderr().contains("`values` lists 3.5 twice"),
        "{}",
        r.stderr()
    );
    // 200,000 parameters of a function (quadratic before: minutes).
    let mut text = String::from(
        "[search]\nstrategy = \"random\"\ntrials = 1\n\n[objective]\nfunction = \"rosenbrock\"\n\n[space]\n",
    );
    for i in 0..200_000 {
        text.push_str(&format!(
            "x{i} = {{ type = \"float\", low = 0.0, high = 1.0 }}\n"
        ));
    }
    sb.write("many.toml", &text);
    run_within(&sb, &["check", "many.toml"], limit).expect_code(0);
}

#[cfg(unix)]
fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only reads it.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn special_files_are_refused_not_read() {
    let limit = std::time::Duration::from_secs(60);
    let sb = Sandbox::new();
    sb.data("iris.csv");
    mkfifo(&sb.path().join("data/fifo.csv"));
    for (path, what) in [
        (
            "/dev/zero",
            "/dev/zero: is a character device, not a regular file",
        ),
        (
            "data/fifo.csv",
            "fifo.csv: is a FIFO (named pipe), not a regular file",
        ),
    ] {
        sb.write("bad.toml", &IRIS_KNN.replace("data/iris.csv", path));
        for cmd in ["run", "check"] {
            let r = run_within(&sb, &[cmd, "bad.toml"], limit);
            r.expect_code(2);
            assert!(r.stderr().contains("[data.path]"), "{}", r.stderr());
            assert!(r.stderr().contains(what), "{}", r.stderr());
            assert!(!sb.path().join("results").exists());
        }
    }
    // The search file itself.
    let r = run_within(&sb, &["check", "data/fifo.csv"], limit);
    r.expect_code(2);
    assert!(r.stderr().contains("FIFO"), "{}", r.stderr());
    // A FIFO inside a command's input folder.
    std::fs::create_dir(sb.path().join("inputs")).expect("mkdir");
    sb.write("inputs/train.py", "print(1)\n");
    mkfifo(&sb.path().join("inputs/pipe"));
    sb.write("cmd.toml", &cmd_with(r#"inputs = ["inputs"]"#));
    let r = run_within(&sb, &["check", "cmd.toml"], limit);
    r.expect_code(2);
    assert!(
        r.stderr().contains("[objective.inputs.inputs]") && r.stderr().contains("pipe: is a FIFO"),
        "{}",
        r.stderr()
    );
    // Rows to predict or check for drift, and the model itself.
    sb.write("ok.toml", IRIS_KNN);
    sb.run(&["run", "ok.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/ok", "--out", "m.json"])
        .expect_code(0);
    for args in [
        vec!["predict", "m.json", "data/fifo.csv"],
        vec!["predict", "m.json", "/dev/zero"],
        vec![
            "predict",
            "m.json",
            "data/fifo.csv",
            "--check-drift",
            "--out",
            "p.csv",
        ],
        vec!["drift", "m.json", "data/fifo.csv"],
        vec!["drift", "m.json", "/dev/zero"],
        vec!["predict", "data/fifo.csv", "data/iris.csv"],
    ] {
        let r = run_within(&sb, &args, limit);
        r.expect_code(2);
        assert!(
            r.stderr().contains("not a regular file"),
            "{args:?}: {}",
            r.stderr()
        );
    }
}

#[test]
fn predict_reads_a_column_with_its_trained_kind() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write("ok.toml", IRIS_KNN);
    sb.run(&["run", "ok.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/ok", "--out", "m.json"])
        .expect_code(0);
    let iris = String::from_utf8_lossy(&sb.read("data/iris.csv")).into_owned();
    let mut lines: Vec<String> = iris.lines().map(str::to_owned).collect();
    lines[5] = lines[5].replacen("5.0", "inf", 1);
    sb.write("rows.csv", &(lines.join("\n") + "\n"));
    for args in [
        vec!["predict", "m.json", "rows.csv"],
        vec!["drift", "m.json", "rows.csv"],
    ] {
        let r = sb.run(&args);
        r.expect_code(2);
        assert!(
            r.stderr().contains("line 6") && r.stderr().contains("`inf` is not a finite number"),
            "{args:?}: {}",
            r.stderr()
        );
        assert!(r.stderr().contains("numeric"), "{}", r.stderr());
    }
}

bad!(
    non_ascii_parameter_name_says_ascii,
    BRANIN
        .replace(
            "function = \"branin\"",
            "command = [\"python3\", \"t.py\"]\ndirection = \"minimize\""
        )
        .replace("x1 =", "\"λ\" ="),
    [
        "[space.λ]: parameter name `λ` must start with an ASCII letter",
        "only ASCII letters, digits and `_`"
    ]
);
bad!(
    non_ascii_column_name_says_ascii,
    cmd_with(r#"columns = ["é"]"#),
    ["[objective.columns.é]: column name `é` must start with an ASCII letter"]
);
bad!(
    regression_metric_on_a_text_target_names_the_metric,
    IRIS_KNN
        .replace("data/iris.csv", "data/text.csv")
        .replace("model = \"knn\"", "model = \"knn\"\nmetric = \"rmse\""),
    |sb: &Sandbox| {
        sb.write("data/text.csv", "a,target\n1,x\n2,y\n3,x\n4,y\n");
    },
    [
        "line 2: column `target`: target `x` is not a number, but",
        "the task is regression (metric rmse is for regression)"
    ]
);
bad!(
    regression_model_on_a_text_target_names_the_model,
    IRIS_KNN
        .replace("data/iris.csv", "data/text.csv")
        .replace("model = \"knn\"", "model = \"ridge\"")
        .replace(
            "n_neighbors = { type = \"int\", low = 1, high = 9 }",
            "alpha = { type = \"float\", low = 0.1, high = 1.0 }"
        ),
    |sb: &Sandbox| {
        sb.write("data/text.csv", "a,target\n1,x\n2,y\n3,x\n4,y\n");
    },
    ["the task is regression (model ridge does only regression)"]
);
bad!(
    classification_metric_with_task_regression_names_the_setting,
    IRIS_KNN.replace(
        "model = \"knn\"",
        "model = \"knn\"\nmetric = \"accuracy\"\ntask = \"regression\""
    ),
    ["metric accuracy is for classification, but this search does regression (set by task = \"regression\")"]
);

#[test]
fn a_fold_left_without_features_is_refused_before_writing() {
    // The only feature is a text column with one value: the folds whose
    // training rows lack it would give the model no input (a panic in the
    // tree models before).
    let sb = Sandbox::new();
    let mut text = String::from("a,target\n");
    for i in 0..30 {
        text.push_str(&format!("{},{}\n", if i == 0 { "x" } else { "" }, i % 2));
    }
    sb.write("data/sparse.csv", &text);
    for (model, space) in MODEL_SPACES {
        let config = format!(
            "[search]\nstrategy = \"random\"\ntrials = 2\n\n[objective]\nmodel = \"{model}\"\n\n\
             [data]\npath = \"data/sparse.csv\"\nimpute = \"most_frequent\"\n\n[space]\n{space}\n"
        );
        sb.write("s.toml", &config);
        let r = run_within(
            &sb,
            &["run", "s.toml", "-q"],
            std::time::Duration::from_secs(60),
        );
        r.expect_code(2);
        assert!(
            r.stderr()
                .contains("no feature is left to train on in a cross-validation fold")
                && r.stderr().contains("text column `a` has no value"),
            "{model}: {}",
            r.stderr()
        );
        assert!(!sb.path().join("results").exists(), "{model}");
    }
}
