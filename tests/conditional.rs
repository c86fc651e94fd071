//! Conditional parameters (`when` in `[space]`, issue 19 point 1) on the
//! real binary: the 110-trial SVM grid, two levels of nesting through a
//! command's three channels, every error (exit 2, the key named, nothing
//! written), each strategy on a conditional space, thread counts, resume
//! (raised budget and SIGKILL) and replay/export/show/report/compare on
//! folders with empty cells.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{repo, Sandbox};
use sha2::Digest;

/// The rows of a `trials.csv`, each a map from column to cell.
fn rows(text: &[u8]) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_reader(text);
    let head: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    rdr.records()
        .map(|r| {
            let r = r.expect("record");
            head.iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// gamma is filled exactly on the rbf rows; every trial succeeded.
fn gamma_only_for_rbf(text: &[u8]) -> usize {
    let rows = rows(text);
    for r in &rows {
        assert_eq!(r["status"], "ok", "{r:?}");
        let rbf = r["kernel"] == "rbf";
        assert_eq!(!r["gamma"].is_empty(), rbf, "{r:?}");
    }
    rows.iter().filter(|r| r["kernel"] == "linear").count()
}

#[test]
fn svm_grid_has_110_trials_and_empty_gamma_cells_for_linear() {
    let sb = Sandbox::new();
    let config = repo().join("configs/svm_conditional.toml");
    let config = config.to_str().unwrap();
    let r = sb.run(&["check", config]);
    r.expect_code(0);
    assert!(r.stdout().contains("grid size: 110\n"), "{}", r.stdout());
    assert!(
        r.stdout().contains("budget:    110 trials"),
        "{}",
        r.stdout()
    );
    assert!(r.stdout().contains("[when.gamma]\nkernel = [\"rbf\"]"));

    let r = sb.run(&["run", config, "--out", "svm", "-q"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("110 trials (0 failed)"),
        "{}",
        r.stdout()
    );
    let text = sb.read("svm/trials.csv");
    let all = rows(&text);
    assert_eq!(all.len(), 110);
    assert_eq!(gamma_only_for_rbf(&text), 11);
    let mut distinct: Vec<String> = all
        .iter()
        .map(|r| format!("{}|{}|{}", r["C"], r["gamma"], r["kernel"]))
        .collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 110);
    // The documented order: C outermost, then rbf with its 9 gammas, then
    // linear.
    assert_eq!(all[8]["gamma"], "1.0");
    assert_eq!(all[9]["kernel"], "linear");
    assert_eq!(all[9]["gamma"], "");
    assert_eq!(all[10]["kernel"], "rbf");
    assert_ne!(all[10]["C"], all[9]["C"]);

    // Every reader takes the empty cells: replay a linear and an rbf row
    // and the best, export, show, report, compare.
    for trial in ["9", "8"] {
        let r = sb.run(&["replay", "svm", "--trial", trial]);
        r.expect_code(0);
        assert!(r.stdout().contains("identical"), "{}", r.stdout());
    }
    sb.run(&["replay", "svm"]).expect_code(0);
    sb.run(&["export", "svm", "--trial", "9", "--out", "m.json"])
        .expect_code(0);
    let model = String::from_utf8(sb.read("m.json")).unwrap();
    assert!(
        !model.contains("\"gamma\""),
        "gamma in a linear model's params"
    );
    let r = sb.run(&["show", "svm"]);
    r.expect_code(0);
    assert!(!r.stdout().contains("gamma = \n"), "{}", r.stdout());
    sb.run(&["report", "svm", "--out", "r.html"]).expect_code(0);
    sb.run(&["compare", "svm", "svm"]).expect_code(0);
}

#[test]
fn without_when_the_same_grid_is_198_trials() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    let text = std::fs::read_to_string(repo().join("configs/svm_conditional.toml")).unwrap();
    let plain = text
        .replace(", when = { kernel = \"rbf\" }", "")
        .replace("../data/", "data/");
    assert_ne!(plain, text);
    sb.write("plain.toml", &plain);
    let r = sb.run(&["check", "plain.toml"]);
    r.expect_code(0);
    assert!(r.stdout().contains("grid size: 198\n"), "{}", r.stdout());
    assert!(!r.stdout().contains("when"), "{}", r.stdout());
}

/// A program that checks the three channels agree on which parameters
/// it got, and that they are exactly the active ones: gamma for rbf and
/// poly, degree for poly, coef0 for poly of degree 3 or 4.
const PROG: &str = r#"
has_arg() { for x in "$@"; do case "$x" in --$NAME=*) return 0;; esac; done; return 1; }
val() { for x in "$@"; do case "$x" in --$NAME=*) echo "${x#*=}";; esac; done; }
NAME=kernel; kernel=$(val "$@")
NAME=degree; degree=$(val "$@")
for NAME in gamma degree coef0 C kernel; do
  upper=$(echo "$NAME" | tr a-z A-Z)
  want=no
  case "$NAME" in
    C|kernel) want=yes;;
    gamma) [ "$kernel" = rbf ] || [ "$kernel" = poly ] && want=yes;;
    degree) [ "$kernel" = poly ] && want=yes;;
    coef0) [ "$kernel" = poly ] && { [ "$degree" = 3 ] || [ "$degree" = 4 ]; } && want=yes;;
  esac
  a=no; has_arg "$@" && a=yes
  e=no; eval "[ -n \"\${HPSEARCH_PARAM_$upper+x}\" ]" && e=yes
  j=no; grep -q "\"$NAME\"" "$HPSEARCH_PARAMS" && j=yes
  if [ "$a$e$j" != "$want$want$want" ]; then
    echo "$NAME: want $want, args $a, env $e, json $j" >&2
    exit 9
  fi
done
echo '{"value": 1.5}'
"#;

const NESTED: &str = r#"
[search]
strategy = "STRATEGY"
TRIALS
seed = 4

[objective]
command = ["sh", "prog.sh"]
direction = "minimize"
metric = "loss"

[space]
C = { type = "float", values = [1.0, 10.0] }
kernel = { type = "categorical", choices = ["rbf", "poly", "linear"] }
gamma = { type = "float", values = [0.1, 1.0], when = { kernel = ["poly", "rbf"] } }
degree = { type = "int", low = 2, high = 4, when = { kernel = "poly" } }
coef0 = { type = "float", values = [0.0, 1.0], when = { degree = [3, 4] } }
"#;

#[test]
fn two_levels_of_nesting_reach_the_program_as_active_parameters_only() {
    let sb = Sandbox::new();
    sb.write("prog.sh", PROG);
    sb.write(
        "grid.toml",
        &NESTED.replace("STRATEGY", "grid").replace("TRIALS", ""),
    );
    // C (2) x [rbf: gamma 2; poly: gamma 2 x (degree 2: 1, 3: 2, 4: 2);
    // linear: 1] = 2 x 13.
    let r = sb.run(&["check", "grid.toml"]);
    r.expect_code(0);
    assert!(r.stdout().contains("grid size: 26\n"), "{}", r.stdout());
    let r = sb.run(&["run", "grid.toml", "--out", "grid", "-q"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("26 trials (0 failed)"),
        "{}",
        r.stdout()
    );
    let all = rows(&sb.read("grid/trials.csv"));
    let coef0 = all.iter().filter(|r| !r["coef0"].is_empty()).count();
    assert_eq!(coef0, 2 * 2 * 4);
    assert!(all
        .iter()
        .all(|r| r["degree"].is_empty() == (r["kernel"] != "poly")));
    sb.run(&["replay", "grid", "--trial", "25"]).expect_code(0);

    // Random draws only what is active, the same on 1 and 3 threads.
    sb.write(
        "random.toml",
        &NESTED
            .replace("STRATEGY", "random")
            .replace("TRIALS", "trials = 40"),
    );
    for t in ["1", "3"] {
        let r = sb.run(&[
            "run",
            "random.toml",
            "--out",
            &format!("r{t}"),
            "-q",
            "-j",
            t,
        ]);
        r.expect_code(0);
        assert!(
            r.stdout().contains("40 trials (0 failed)"),
            "{}",
            r.stdout()
        );
    }
    assert!(sb.read("r1/trials.csv") == sb.read("r3/trials.csv"));
    let all = rows(&sb.read("r1/trials.csv"));
    assert!(all.iter().any(|r| !r["coef0"].is_empty()));
    assert!(all.iter().any(|r| r["kernel"] == "linear"));
}

/// Each rule on `when`: the search file, the key and words the error
/// names.
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "gamma = { type = 'float', low = 0.1, high = 1.0, when = { kernal = 'rbf' } }\n\
         kernel = { type = 'categorical', choices = ['rbf', 'linear'] }",
        "[space.gamma.when]",
        "`kernal` is not a parameter",
    ),
    (
        "gamma = { type = 'float', low = 0.1, high = 1.0, when = { C = 1.0 } }\n\
         C = { type = 'float', low = 0.1, high = 10.0 }",
        "[space.gamma.when]",
        "`C` is a float parameter",
    ),
    (
        "gamma = { type = 'float', low = 0.1, high = 1.0, when = { kernel = 'sigmoid' } }\n\
         kernel = { type = 'categorical', choices = ['rbf', 'linear'] }",
        "[space.gamma.when]",
        "`kernel` cannot take \"sigmoid\"",
    ),
    (
        "gamma = { type = 'float', low = 0.1, high = 1.0, when = { kernel = [] } }\n\
         kernel = { type = 'categorical', choices = ['rbf', 'linear'] }",
        "[space.gamma]",
        "`when.kernel` is an empty list",
    ),
    (
        "gamma = { type = 'categorical', choices = ['a', 'b'], when = { kernel = 'rbf' } }\n\
         kernel = { type = 'categorical', choices = ['rbf', 'linear'], when = { gamma = 'a' } }\n\
         C = { type = 'float', low = 0.1, high = 10.0 }",
        "[space.gamma.when]",
        "a cycle: gamma → kernel → gamma",
    ),
    (
        "gamma = { type = 'float', low = 0.1, high = 1.0, when = { kernel = 'rbf', C = 1 } }\n\
         kernel = { type = 'categorical', choices = ['rbf', 'linear'] }\n\
         C = { type = 'int', low = 1, high = 3 }",
        "[space.gamma]",
        "a condition has one parent",
    ),
];

#[test]
fn bad_conditions_exit_2_name_the_key_and_write_nothing() {
    let sb = Sandbox::new();
    for (i, (space, key, words)) in ERRORS.iter().enumerate() {
        let file = format!("bad{i}.toml");
        sb.write(
            &file,
            &format!(
                "[search]\nstrategy = \"random\"\ntrials = 5\n\n[objective]\n\
                 command = [\"true\"]\n\n[space]\n{space}\n"
            ),
        );
        for cmd in ["check", "run"] {
            let r = sb.run(&[cmd, &file]);
            r.expect_code(2);
            assert!(r.stderr().contains(key), "{file}: {}", r.stderr());
            assert!(r.stderr().contains(words), "{file}: {}", r.stderr());
        }
        assert!(!sb.path().join("results").exists(), "{file} wrote results");
    }
}

const SVM: &str = r#"
[search]
strategy = "STRATEGY"
trials = TRIALS
seed = 2
parallel = 3

[objective]
model = "svm"
metric = "balanced_accuracy"

[data]
path = "data/iris.csv"
scale = "standard"

[space]
C = { type = "float", low = 1e-2, high = 1e3, log = true }
gamma = { type = "float", low = 1e-4, high = 1.0, log = true, when = { kernel = "rbf" } }
kernel = { type = "categorical", choices = ["rbf", "linear"] }
"#;

fn svm(strategy: &str, trials: u32) -> String {
    SVM.replace("STRATEGY", strategy)
        .replace("TRIALS", &trials.to_string())
}

/// Each strategy on the conditional SVM space: gamma drawn exactly for rbf,
/// the same file for 1 and 2 threads, and a search run to 12 trials then
/// raised to 24 (a resume that reads the empty cells back and recomputes
/// every proposal) equals one run straight to 24.
#[test]
fn every_strategy_proposes_gamma_only_for_rbf_and_resumes() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    for strategy in ["random", "sobol", "tpe", "gp"] {
        let file = format!("{strategy}.toml");
        sb.write(&file, &svm(strategy, 24));
        for t in ["1", "2"] {
            let out = format!("{strategy}-{t}");
            sb.run(&["run", &file, "--out", &out, "-q", "-j", t])
                .expect_code(0);
        }
        let straight = sb.read(&format!("{strategy}-1/trials.csv"));
        assert!(
            straight == sb.read(&format!("{strategy}-2/trials.csv")),
            "{strategy}: trials.csv differs between 1 and 2 threads"
        );
        let linear = gamma_only_for_rbf(&straight);
        assert!(
            (1..24).contains(&linear),
            "{strategy}: {linear} linear trials"
        );

        let out = format!("{strategy}-resumed");
        sb.write(&file, &svm(strategy, 12));
        sb.run(&["run", &file, "--out", &out, "-q", "-j", "2"])
            .expect_code(0);
        sb.write(&file, &svm(strategy, 24));
        sb.run(&["run", &file, "--out", &out, "-q", "-j", "1"])
            .expect_code(0);
        assert!(
            straight == sb.read(&format!("{out}/trials.csv")),
            "{strategy}: trials.csv differs after a resume"
        );
    }
}

/// The same searches without `when`: the root hash and `trials.csv` the
/// binary before conditions existed gave (commit 4cd0289; SHA-256 of the
/// file), so conditions change nothing for an unconditional space.
#[test]
fn unconditional_searches_are_what_they_were_before_conditions() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    let plain = std::fs::read_to_string(repo().join("configs/svm_conditional.toml"))
        .unwrap()
        .replace(", when = { kernel = \"rbf\" }", "")
        .replace("../data/", "data/");
    sb.write("plain.toml", &plain);
    let r = sb.run(&["check", "plain.toml"]);
    r.expect_code(0);
    assert!(r
        .stdout()
        .contains("root hash: 8d1726072def9878589f68ec26510dadda59be214695fe6e3df8c9874355141c"));
    let pinned = [
        (
            "random",
            "f1eb80b21d41bcec8356f22e60f242ff92a9db8790ede0868cda2a56d79854f8",
        ),
        (
            "sobol",
            "971b765626a989b3cc59bad37a7e2d5b539295eb3f510a50776bf76b764769d2",
        ),
        (
            "tpe",
            "a85ac73cbf9eb380fb9aea5feafcff21755db056ee4d1ae61c5c89162defc502",
        ),
        (
            "gp",
            "d7398758107cc4243a243c5373added7aa25216c25561d7345295ec3cf8b8f5f",
        ),
    ];
    for (strategy, sha) in pinned {
        let file = format!("{strategy}.toml");
        sb.write(
            &file,
            &svm(strategy, 24).replace(", when = { kernel = \"rbf\" }", ""),
        );
        sb.run(&["run", &file, "--out", strategy, "-q"])
            .expect_code(0);
        let bytes = sb.read(&format!("{strategy}/trials.csv"));
        let got = format!("{:x}", sha2::Sha256::digest(&bytes));
        assert_eq!(got, sha, "{strategy}: trials.csv changed");
    }
}

/// SIGKILL at a few moments, resume on other thread counts: the same
/// journal as a run that never stopped.
#[test]
fn killed_conditional_tpe_search_resumes_to_the_same_journal() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write("t.toml", &svm("tpe", 300));
    sb.run(&["run", "t.toml", "--out", "straight", "-q"])
        .expect_code(0);
    let mut landed = 0;
    for (d, t) in [(40, "1"), (120, "2"), (200, "3")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
            .args(["run", "t.toml", "--out", "killed", "-q", "-j", t])
            .current_dir(sb.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn hpsearch");
        std::thread::sleep(Duration::from_millis(d));
        if child.try_wait().expect("poll").is_none() {
            landed += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
    assert!(landed >= 1, "no kill landed before the search ended");
    sb.run(&["run", "t.toml", "--out", "killed", "-q", "-j", "2"])
        .expect_code(0);
    assert!(sb.read("killed/trials.csv") == sb.read("straight/trials.csv"));
}

/// A list of grids (issue 19 point 2): `check` prints each sub-grid's
/// size; the sub-grids run in the order written, a parameter a sub-grid
/// does not name is an empty cell, and every reader takes the folder.
#[test]
fn list_of_grids_runs_its_sub_grids_in_order() {
    let sb = Sandbox::new();
    let config = repo().join("configs/svm_grids.toml");
    let config = config.to_str().unwrap();
    let r = sb.run(&["check", config]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("grid size: 20\n  grid 1:  4\n  grid 2:  16\nbudget:    20 trials"),
        "{}",
        r.stdout()
    );
    for t in ["1", "2"] {
        let r = sb.run(&["run", config, "--out", &format!("g{t}"), "-q", "-j", t]);
        r.expect_code(0);
        assert!(
            r.stdout().contains("20 trials (0 failed)"),
            "{}",
            r.stdout()
        );
    }
    let text = sb.read("g1/trials.csv");
    assert!(text == sb.read("g2/trials.csv"));
    assert_eq!(gamma_only_for_rbf(&text), 4);
    let all = rows(&text);
    let kernels: Vec<&str> = all.iter().map(|r| r["kernel"].as_str()).collect();
    assert_eq!(
        kernels[..5],
        ["linear", "linear", "linear", "linear", "rbf"]
    );
    assert_eq!(all[3]["C"], "100.0");
    assert_eq!(all[4]["gamma"], "0.001");
    for trial in ["2", "7"] {
        sb.run(&["replay", "g1", "--trial", trial]).expect_code(0);
    }
    sb.run(&["export", "g1", "--out", "m.json"]).expect_code(0);
    sb.run(&["show", "g1"]).expect_code(0);
    sb.run(&["report", "g1", "--out", "r.html"]).expect_code(0);
}

/// Each rule on `[[grid]]`: exit 2, the key named, nothing written.
#[test]
fn bad_lists_of_grids_exit_2_name_the_key_and_write_nothing() {
    let sb = Sandbox::new();
    let x = "x = { type = 'int', values = [1, 2] }";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "random",
            &format!("[[grid]]\n{x}"),
            "[grid]",
            "strategy = \"grid\"",
        ),
        (
            "grid",
            &format!("[space]\n{x}\n[[grid]]\n{x}"),
            "[grid]",
            "not both",
        ),
        (
            "grid",
            "[[grid]]\nx = { type = 'float', low = 0.0, high = 1.0 }",
            "[grid.1.x]",
            "a grid needs `steps`",
        ),
        (
            "grid",
            &format!("[[grid]]\n{x}\n[[grid]]\nx = {{ type = 'float', values = [0.5] }}"),
            "[grid.2.x]",
            "one type",
        ),
        (
            "grid",
            &format!("[[grid]]\n{x}\ny = {{ type = 'int', values = [1], when = {{ x = 1 }} }}"),
            "[grid.1.y]",
            "`when` cannot be used in a list of grids",
        ),
    ];
    for (i, (strategy, space, key, words)) in cases.iter().enumerate() {
        let file = format!("bad{i}.toml");
        sb.write(
            &file,
            &format!(
                "[search]\nstrategy = \"{strategy}\"\ntrials = 5\n\n[objective]\n\
                 command = [\"true\"]\ndirection = \"minimize\"\n\n{space}\n"
            ),
        );
        for cmd in ["check", "run"] {
            let r = sb.run(&[cmd, &file]);
            r.expect_code(2);
            assert!(r.stderr().contains(key), "{file}: {}", r.stderr());
            assert!(r.stderr().contains(words), "{file}: {}", r.stderr());
        }
        assert!(!sb.path().join("results").exists(), "{file} wrote results");
    }
}
