use std::path::Path;

use super::*;

fn parse_fn(text: &str) -> Result<Search, ConfigError> {
    parse(Path::new("t.toml"), text, crate::objective::models::MODELS).map(|l| l.search)
}

const BASE: &str = r#"
[search]
strategy = "random"
trials = 10
seed = 3

[objective]
function = "branin"

[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#;

#[test]
fn the_ladder_grows_by_factor_and_ends_at_max_resources() {
    let spec = |min, max, factor| ResourceSpec {
        resource: Resource::Samples,
        min_resources: min,
        max_resources: max,
        factor,
    };
    assert_eq!(spec(60, 1437, 3).ladder(), [60, 180, 540, 1437]);
    assert_eq!(spec(1, 27, 3).ladder(), [1, 3, 9, 27]);
    assert_eq!(spec(1, 100, 3).ladder(), [1, 3, 9, 27, 81, 100]);
    assert_eq!(spec(5, 5, 2).ladder(), [5]);
    assert_eq!(
        spec(u64::MAX / 2, u64::MAX, 4).ladder(),
        [u64::MAX / 2, u64::MAX]
    );
}

#[test]
fn root_ignores_order_comments_and_budget() {
    let a = parse_fn(BASE).unwrap().root();
    let reordered = r#"
# a comment
[space]
x1 = { high = 15.0, low = 0.0, type = "float" }   # swapped
x0 = { type = "float", low = -5, high = 10 }

[objective]
function = "branin"

[search]
seed = 3
trials = 500
strategy = "random"
"#;
    assert_eq!(parse_fn(reordered).unwrap().root(), a);
    let other_seed = BASE.replace("seed = 3", "seed = 4");
    assert_ne!(parse_fn(&other_seed).unwrap().root(), a);
    let other_space = BASE.replace("high = 15.0", "high = 14.0");
    assert_ne!(parse_fn(&other_space).unwrap().root(), a);
}

#[test]
fn unknown_key_rejected_with_line() {
    let e = parse_fn(&BASE.replace("seed = 3", "seed = 3\nsed = 4")).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("unknown field `sed`") && m.contains("line"),
        "{m}"
    );
}

#[test]
fn trials_zero_rejected() {
    let e = parse_fn(&BASE.replace("trials = 10", "trials = 0")).unwrap_err();
    assert!(
        e.to_string()
            .contains("[search.trials]: must be at least 1"),
        "{e}"
    );
}

#[test]
fn grid_needs_steps() {
    let e = parse_fn(&BASE.replace("\"random\"", "\"grid\"")).unwrap_err();
    assert!(
        e.to_string().contains("[space.x0]: a grid needs `steps`"),
        "{e}"
    );
}

const EXTERNAL: &str = r#"
[search]
strategy = "random"
trials = 10

[objective]
external = "quad"
version = "1"

[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
"#;

fn external_with(lines: &str) -> Result<Search, ConfigError> {
    parse_fn(&EXTERNAL.replace("version = \"1\"", &format!("version = \"1\"\n{lines}")))
}

#[test]
fn external_columns_and_volatile_are_read_and_hashed_only_when_given() {
    let bare = external_with("").unwrap();
    assert_eq!(bare.result_columns(), Some(&[][..]));
    let with = external_with("columns = [\"loss\"]\nvolatile = [\"fit_time\"]").unwrap();
    assert_eq!(with.result_columns(), Some(&["loss".to_string()][..]));
    assert_eq!(with.volatile(), ["fit_time"]);
    assert!(with.runner().is_none());
    assert_ne!(with.root(), bare.root());
    // Empty lists are the bare search.
    let empty = external_with("columns = []\nvolatile = []").unwrap();
    assert_eq!(empty.root(), bare.root());
    let text = serde_json::to_string(&bare.canonical()).unwrap();
    assert!(
        !text.contains("columns") && !text.contains("volatile"),
        "{text}"
    );
}

#[test]
fn external_columns_follow_the_command_rules() {
    for (lines, key, what) in [
        (
            "columns = [\"extra\"]",
            "objective.columns.extra",
            "column name `extra` is reserved",
        ),
        (
            "columns = [\"x0\"]",
            "objective.columns.x0",
            "`x0` is also a parameter",
        ),
        (
            "columns = [\"a\", \"a\"]",
            "objective.columns.a",
            "listed twice",
        ),
        (
            "volatile = [\"value\"]",
            "objective.volatile.value",
            "cannot be volatile",
        ),
    ] {
        let e = external_with(lines).unwrap_err().to_string();
        assert!(
            e.contains(&format!("[{key}]: ")) && e.contains(what),
            "{lines}: {e}"
        );
    }
}

#[test]
fn an_external_command_is_its_runner_and_not_part_of_the_root() {
    let bare = external_with("").unwrap();
    let run =
        external_with("command = [\"sh\", \"-c\", \"exit 0\"]\ntimeout = 5.0\nmax_failures = 2")
            .unwrap();
    assert_eq!(run.root(), bare.root());
    // No direction needed: an external objective minimizes unless told.
    assert_eq!(run.direction, Direction::Minimize);
    let r = run.runner().unwrap();
    assert_eq!(r.argv, ["sh", "-c", "exit 0"]);
    assert_eq!(r.timeout, Some(5.0));
    assert_eq!(r.max_failures, 2);
    assert!(r.inputs.is_empty());
    // Not a command objective: the root hash says external.
    assert!(run.command().is_none());
    assert_eq!(run.objective_name(), "quad");
    // The runner carries the objective's columns.
    let cols = external_with("command = [\"sh\"]\ncolumns = [\"loss\"]").unwrap();
    assert_eq!(cols.runner().unwrap().columns, ["loss"]);
    // A missing program is refused, as for a command.
    let e = external_with("command = [\"no-such-program-hpsearch\"]")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[objective.command]: program `no-such-program-hpsearch`"),
        "{e}"
    );
}

#[test]
fn inputs_beside_external_are_refused() {
    for lines in [
        "inputs = [\"t.toml\"]",
        "command = [\"sh\"]\ninputs = [\"t.toml\"]",
    ] {
        let e = external_with(lines).unwrap_err().to_string();
        assert!(
            e.contains("[objective.inputs]: only for command objectives"),
            "{lines}: {e}"
        );
    }
}

#[test]
fn runner_keys_beside_external_need_the_command() {
    for key in [
        "timeout = 3.0",
        "args = false",
        "max_failures = 1",
        "prune_grace = 1.0",
    ] {
        let e = external_with(key).unwrap_err().to_string();
        assert!(e.contains("only with `command = [...]`"), "{key}: {e}");
    }
    // Beside a model, columns are still refused.
    let e = parse_fn(&BASE.replace(
        "function = \"branin\"",
        "function = \"branin\"\ncolumns = [\"a\"]",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("[objective.columns]: only for command objectives"),
        "{e}"
    );
}
