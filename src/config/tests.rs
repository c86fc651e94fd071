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
