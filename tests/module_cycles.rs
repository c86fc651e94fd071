//! `scripts/module_cycles.py`: the crate's top-level modules have no import
//! cycle (design.md, "Layers"), and the script finds one where there is
//! one, ignoring comments, strings and `#[cfg(test)]` items.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{repo, system_tool, Sandbox};

/// `python3`, or `None` (the test says it was skipped) when it is missing
/// and `HPSEARCH_REQUIRE_PYTHON=1` does not demand it.
fn python() -> Option<&'static str> {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "python3");
    system_tool(
        found,
        "HPSEARCH_REQUIRE_PYTHON",
        "python3 (the script is standard-library Python)",
    )
}

fn cycles(python: &str, src: &Path) -> Output {
    Command::new(python)
        .arg(repo().join("scripts/module_cycles.py"))
        .arg(src)
        .output()
        .expect("run scripts/module_cycles.py")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn the_crate_has_no_import_cycle() {
    let Some(py) = python() else { return };
    let out = cycles(py, &repo().join("src"));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("no import cycle"), "{t}");
    // The edges the issue named are gone; the layering direction stays.
    for gone in [
        "config -> objective",
        "data -> objective",
        "objective -> journal",
        "drift -> replay",
    ] {
        assert!(!t.contains(&format!("  {gone} ")), "{gone} is back:\n{t}");
    }
    assert!(t.contains("  objective -> config "), "{t}");
    assert!(t.contains("  replay -> drift "), "{t}");
}

#[test]
fn a_cycle_is_reported_and_fails() {
    let Some(py) = python() else { return };
    let sb = Sandbox::new();
    sb.write("src/lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    sb.write(
        "src/a.rs",
        "pub struct A;\npub fn f() -> crate::b::B { crate::b::B }\n",
    );
    // A grouped use, from a file inside the module's folder, through super.
    sb.write("src/b/mod.rs", "pub mod inner;\npub struct B;\n");
    sb.write("src/b/inner.rs", "use super::super::{a::A, c};\n");
    sb.write("src/c.rs", "pub struct C;\n");
    let out = cycles(py, &sb.path().join("src"));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("  a -> b  (2, first at src/a.rs:2)"), "{t}");
    assert!(
        t.contains("  b -> a  (1, first at src/b/inner.rs:1)"),
        "{t}"
    );
    assert!(t.contains("  b -> c "), "{t}");
    assert!(t.contains("1 import cycle(s)"), "{t}");
    assert!(t.contains("  a <-> b\n"), "{t}");
}

#[test]
fn comments_strings_and_test_code_are_not_dependencies() {
    let Some(py) = python() else { return };
    let sb = Sandbox::new();
    sb.write("src/lib.rs", "pub mod a;\npub mod b;\n");
    sb.write("src/a.rs", "pub fn f() -> u8 { crate::b::g() }\n");
    sb.write(
        "src/b/mod.rs",
        r##"//! Uses [`crate::a::f`] in a doc link only.
/* crate::a::f() in a block comment */
pub fn g() -> u8 {
    let _ = "crate::a::f()";
    let _ = r#"use crate::a;"#;
    let _ = 'c';
    7
}

#[cfg(test)]
mod tests {
    use crate::a::f;
    #[test]
    fn t() { assert_eq!(f(), 7); }
}

#[cfg(test)]
mod more;

#[cfg(test)]
fn helper() -> u8 { crate::a::f() }
"##,
    );
    sb.write("src/b/more.rs", "use crate::a::f;\n");
    let out = cycles(py, &sb.path().join("src"));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("  a -> b "), "{t}");
    assert!(!t.contains("  b -> a "), "{t}");
}

#[test]
fn a_missing_folder_is_a_usage_error() {
    let Some(py) = python() else { return };
    let sb = Sandbox::new();
    let out = cycles(py, &sb.path().join("no-such-src"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a folder"), "{}", text(&out));
}
