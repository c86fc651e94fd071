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
