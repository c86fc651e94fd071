//! Forest searches whose trees take the per-node layout (issue 22 point 2:
//! `max_features` of a third of the features or fewer) score every fold
//! exactly as the build before it did, which partitioned every feature's
//! order at every split (commit 823366d): the values below were written by
//! that build, and are compared as text, bit for bit. Regression (RMSE, so
//! any leaf mean that moves shows) and classification (log loss, so any
//! leaf's class proportions show), with bootstrap, at 1 and 2 threads.

mod common;

use common::Sandbox;

const REGRESSION: &str = r#"
[search]
strategy = "random"
trials = 6
seed = 3

[objective]
model = "random_forest"
metric = "rmse"
params = { n_estimators = 12 }

[data]
path = "data/diabetes.csv"

[space]
max_features = { type = "categorical", choices = ["sqrt", "log2", 1] }
max_depth = { type = "int", low = 3, high = 12 }
min_samples_leaf = { type = "int", low = 1, high = 6 }
"#;

/// value, fold_0 .. fold_4 of each trial, from the build before.
const REGRESSION_SCORES: [&str; 6] = [
    "58.62762200231822,62.271820906589326,62.21316750772138,50.55809561999338,57.97590170490215,60.11912427238487",
    "58.155025354189696,62.87498728528767,58.49429279016896,50.22575750454975,61.05726881519045,58.12282037575165",
    "57.77673073632843,63.09690550840744,59.93567268612107,49.47917319130282,56.779217903373564,59.59268439243729",
    "57.85664326598497,62.02782296466519,60.108334907085045,47.53284349281749,59.33354027640391,60.28067468895319",
    "58.10598830248421,62.86171021305558,61.1559990637191,48.648294645689504,60.854096937464256,57.00984065249256",
    "57.22160144948858,60.80027689476773,57.711041091447754,49.51090401468142,59.58070866338227,58.50507658316375",
];

const CLASSIFICATION: &str = r#"
[search]
strategy = "random"
trials = 6
seed = 3

[objective]
model = "random_forest"
metric = "log_loss"
params = { n_estimators = 12 }

[data]
path = "data/breast_cancer.csv"

[space]
max_features = { type = "categorical", choices = ["sqrt", "log2", 2] }
criterion = { type = "categorical", choices = ["gini", "entropy"] }
min_samples_leaf = { type = "int", low = 1, high = 6 }
"#;

const CLASSIFICATION_SCORES: [&str; 6] = [
    "0.14576250084279066,0.1623618050035775,0.16029833351984285,0.13143800807638123,0.12257919274262942,0.15213516487152223",
    "0.21593721157054255,0.44675868609159197,0.17380440340638237,0.1489976857106907,0.14075951930068764,0.1693657633433601",
    "0.1367248204068911,0.1906587169779819,0.1644850250826014,0.11689844186374007,0.08285131771039983,0.12873060039973244",
    "0.19642541801143362,0.4251053405703361,0.1758774011072414,0.13527639282168852,0.11320865739855064,0.13265929815935146",
    "0.29281167469180336,0.705304647731141,0.14385790133531656,0.1402630116612198,0.3722428471114234,0.10238996561991592",
    "0.30494097089811395,0.7100373656319535,0.17682556272401548,0.12462218825857317,0.37945397586762936,0.1337657620083981",
];

/// `value,fold_0,..,fold_4` of every row of a trials.csv, by column name.
fn scores(trials_csv: &[u8]) -> Vec<String> {
    let text = String::from_utf8(trials_csv.to_vec()).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cols: Vec<usize> = ["value", "fold_0", "fold_1", "fold_2", "fold_3", "fold_4"]
        .iter()
        .map(|name| head.iter().position(|h| h == name).unwrap())
        .collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            cols.iter().map(|c| cells[*c]).collect::<Vec<_>>().join(",")
        })
        .collect()
}

fn check(file: &str, search: &str, data: &str, want: &[&str]) {
    let sb = Sandbox::new();
    sb.data(data);
    sb.write(file, search);
    for threads in ["1", "2"] {
        let out = format!("out{threads}");
        sb.run(&["run", file, "--threads", threads, "--out", &out, "--quiet"])
            .expect_code(0);
        assert_eq!(
            scores(&sb.read(&format!("{out}/trials.csv"))),
            want,
            "{file}, --threads {threads}"
        );
    }
}

#[test]
fn per_node_regression_forests_score_as_before() {
    check("reg.toml", REGRESSION, "diabetes.csv", &REGRESSION_SCORES);
}

#[test]
fn per_node_classification_forests_score_as_before() {
    check(
        "cls.toml",
        CLASSIFICATION,
        "breast_cancer.csv",
        &CLASSIFICATION_SCORES,
    );
}
