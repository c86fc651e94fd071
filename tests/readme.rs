//! The README's quickstart prints what the README says it prints.

mod common;

use common::Sandbox;

/// The first fenced block after "and prints" in the README.
fn readme_output() -> String {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let from = readme.find("and prints").expect("README: \"and prints\"");
    let rest = &readme[from..];
    let open = rest.find("```\n").expect("README: the output block") + 4;
    let close = rest[open..].find("```").expect("README: the block's end");
    rest[open..open + close].to_string()
}

#[test]
fn the_quickstart_prints_what_the_readme_shows() {
    let sb = Sandbox::new();
    sb.data("breast_cancer.csv");
    let config = std::fs::read_to_string(common::repo().join("configs/quickstart.toml")).unwrap();
    sb.write("configs/quickstart.toml", &config);
    let run = sb.run(&["run", "configs/quickstart.toml"]);
    run.expect_code(0);
    assert_eq!(run.stdout(), readme_output());
}
