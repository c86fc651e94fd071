//! Strategy quality and proposal cost on the built-in functions, beside
//! the peers' numbers (../shared/anchors/quality.csv, overhead.md).
//!
//! ```sh
//! cargo bench --bench strategies -- quality [--seeds 15] [--windows 1,4,8]
//!     [--strategies random,sobol,tpe,gp] [--functions branin,mixed] [--anchors DIR]
//!     [--first-seed 0] [--tpe 'n_candidates = 48, gamma = 0.15'] [--csv runs.csv]
//!     [--budget 100]
//! cargo bench --bench strategies -- overhead [--repeats 3] [--strategies tpe,gp,random]
//!     # ms per proposal, hartmann6
//! ```
//!
//! Quality: each (function, strategy, window, seed) is a 100-trial (or
//! `--budget`) search
//! run through `search::simulate` (the real window rule), the function on
//! the anchors' domain and dimension; simple regret = best value − f*, at
//! half the budget (the prefix) and the whole, reported as median [Q1, Q3]
//! over seeds.
//! Runs go in parallel over the cores; each run is single-threaded, so the
//! numbers do not depend on that.

use std::collections::BTreeMap;
use std::path::Path;

use hpsearch::config;
use hpsearch::objective::function::{Domain, Function};
use hpsearch::objective::{FunctionObjective, Status};
use hpsearch::search::{self, Simulated};
use rayon::prelude::*;

/// The anchors' name for each function.
fn anchor_name(f: Function) -> &'static str {
    match f {
        Function::Branin => "branin",
        Function::Hartmann6 => "hartmann6",
        Function::Rosenbrock => "rosenbrock4",
        Function::Ackley => "ackley5",
        Function::Levy => "levy10",
        Function::StyblinskiTang => "stybtang8",
        Function::Mixed => "mixed5",
    }
}

/// `--tpe`: settings for `[search.tpe]` (an inline table's body), to
/// compare settings without editing a file; empty means the defaults.
static TPE_SETTINGS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn search_text(f: Function, strategy: &str, window: u64, seed: u64, budget: u64) -> String {
    let tpe = TPE_SETTINGS.get().map_or("", String::as_str);
    let tpe = if strategy == "tpe" && !tpe.is_empty() {
        format!("tpe = {{ {tpe} }}\n")
    } else {
        String::new()
    };
    let mut t = format!(
        "[search]\nstrategy = \"{strategy}\"\ntrials = {budget}\nseed = {seed}\nparallel = {window}\n{tpe}\
         [objective]\nfunction = \"{}\"\n[space]\n",
        f.name()
    );
    for (name, d) in f.default_domain(f.default_dim()) {
        let line = match d {
            Domain::Float { low, high, log } => {
                format!("{name} = {{ type = \"float\", low = {low:?}, high = {high:?}, log = {log} }}\n")
            }
            Domain::Int { low, high } => {
                format!("{name} = {{ type = \"int\", low = {low}, high = {high} }}\n")
            }
            Domain::Categorical(c) => {
                let c: Vec<String> = c.iter().map(|s| format!("\"{s}\"")).collect();
                format!(
                    "{name} = {{ type = \"categorical\", choices = [{}] }}\n",
                    c.join(", ")
                )
            }
        };
        t.push_str(&line);
    }
    t
}

fn run(f: Function, strategy: &str, window: u64, seed: u64, budget: u64) -> Vec<Simulated> {
    let text = search_text(f, strategy, window, seed, budget);
    let loaded = config::parse(
        Path::new("bench.toml"),
        &text,
        hpsearch::objective::models::MODELS,
    )
    .expect("bench search");
    search::simulate(&loaded.search, &FunctionObjective(f), budget)
}

fn regret(trials: &[Simulated], f: Function) -> f64 {
    let best = trials
        .iter()
        .filter(|t| t.eval.status == Status::Ok)
        .map(|t| t.eval.value)
        .fold(f64::INFINITY, f64::min);
    best - f.minimum(f.default_dim())
}

/// Median and quartiles with linear interpolation (numpy's default).
fn quartiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let x = p * (v.len() - 1) as f64;
        let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (x - lo as f64)
    };
    (q(0.5), q(0.25), q(0.75))
}

fn fmt(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-2 || x.abs() >= 1e4) {
        format!("{x:.2e}")
    } else {
        format!("{x:.3}")
    }
}

/// Anchor medians: (function, method, budget) -> median regret.
fn anchors(dir: &Path) -> BTreeMap<(String, String, u64), f64> {
    let mut by: BTreeMap<(String, String, u64), Vec<f64>> = BTreeMap::new();
    if let Ok(mut rdr) = csv::Reader::from_path(dir.join("quality.csv")) {
        for rec in rdr.records().flatten() {
            let (Some(f), Some(m), Some(b), Some(r)) =
                (rec.get(0), rec.get(1), rec.get(2), rec.get(5))
            else {
                continue;
            };
            if let (Ok(b), Ok(r)) = (b.parse::<u64>(), r.parse::<f64>()) {
                by.entry((f.to_string(), m.to_string(), b))
                    .or_default()
                    .push(r);
            }
        }
    }
    by.into_iter().map(|(k, v)| (k, quartiles(v).0)).collect()
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn quality(args: &[String]) {
    let seeds: u64 = arg(args, "--seeds", "15").parse().expect("--seeds");
    // Seeds first_seed .. first_seed + seeds: another block of seeds shows
    // how much a median moves from seed noise alone.
    let first_seed: u64 = arg(args, "--first-seed", "0")
        .parse()
        .expect("--first-seed");
    // `--budget N`: trials a run (default 100); regrets at N/2 and N.
    let budget: usize = arg(args, "--budget", "100").parse().expect("--budget");
    assert!(budget >= 2, "--budget must be at least 2");
    let windows: Vec<u64> = arg(args, "--windows", "1")
        .split(',')
        .map(|w| w.parse().expect("--windows"))
        .collect();
    let strategies: Vec<String> = arg(args, "--strategies", "random,sobol,tpe,gp")
        .split(',')
        .map(str::to_string)
        .collect();
    let functions: Vec<Function> = arg(
        args,
        "--functions",
        "branin,hartmann6,rosenbrock,ackley,levy,styblinski_tang,mixed",
    )
    .split(',')
    .map(|n| Function::parse(n).expect("--functions"))
    .collect();
    let anchor = anchors(Path::new(&arg(args, "--anchors", "../shared/anchors")));

    let mut jobs = Vec::new();
    for &f in &functions {
        for s in &strategies {
            for &w in &windows {
                for seed in first_seed..first_seed + seeds {
                    jobs.push((f, s.clone(), w, seed));
                }
            }
        }
    }
    let results: Vec<(f64, f64, f64)> = jobs
        .par_iter()
        .map(|(f, s, w, seed)| {
            let trials = run(*f, s, *w, *seed, budget as u64);
            let ms = trials.iter().map(|t| t.propose_seconds).sum::<f64>() * 1e3 / budget as f64;
            (regret(&trials[..budget / 2], *f), regret(&trials, *f), ms)
        })
        .collect();

    // `--csv PATH`: one row a run and budget, in the anchors' quality.csv
    // columns (method = hpsearch_<strategy>_w<W>), for
    // scripts/compare_quality.py's tests against a peer's runs.
    let csv_path = arg(args, "--csv", "");
    if !csv_path.is_empty() {
        let mut out = String::from("function,method,budget,seed,best,regret,wall_s\n");
        for ((f, s, w, seed), r) in jobs.iter().zip(&results) {
            for (budget, regret) in [(budget / 2, r.0), (budget, r.1)] {
                let best = regret + f.minimum(f.default_dim());
                out.push_str(&format!(
                    "{},hpsearch_{s}_w{w},{budget},{seed},{best:?},{regret:?},\n",
                    anchor_name(*f)
                ));
            }
        }
        std::fs::write(&csv_path, out).expect("--csv: cannot write the file");
    }

    println!("Simple regret, median [Q1, Q3] over {seeds} seeds from {first_seed}; anchors: Optuna 5 medians from quality.csv.\n");
    for (half, table_budget) in [(true, budget / 2), (false, budget)] {
        println!("## Budget {table_budget}\n");
        println!("| function | W | strategy | hpsearch | ms/proposal | Optuna random | Optuna TPE | Optuna GP |");
        println!("|---|---|---|---|---|---|---|---|");
        let mut k = 0;
        for &f in &functions {
            for s in &strategies {
                for &w in &windows {
                    let rs: Vec<&(f64, f64, f64)> = results[k..k + seeds as usize].iter().collect();
                    k += seeds as usize;
                    let v: Vec<f64> = rs.iter().map(|r| if half { r.0 } else { r.1 }).collect();
                    let (m, q1, q3) = quartiles(v);
                    let ms = quartiles(rs.iter().map(|r| r.2).collect()).0;
                    let a = |method: &str| {
                        anchor
                            .get(&(
                                anchor_name(f).to_string(),
                                method.to_string(),
                                table_budget as u64,
                            ))
                            .map_or("-".to_string(), |x| fmt(*x))
                    };
                    println!(
                        "| {} | {w} | {s} | {} [{}, {}] | {ms:.3} | {} | {} | {} |",
                        anchor_name(f),
                        fmt(m),
                        fmt(q1),
                        fmt(q3),
                        a("random"),
                        a("tpe"),
                        a("gp")
                    );
                }
            }
        }
        println!();
    }
}

/// Milliseconds per proposal on hartmann6 over trial windows, median of
/// `--repeats` seeds: tpe to 1,000 trials, gp to 300.
fn overhead(args: &[String]) {
    let repeats: u64 = arg(args, "--repeats", "3").parse().expect("--repeats");
    let only = arg(args, "--strategies", "tpe,gp,random");
    let only: Vec<&str> = only.split(',').collect();
    for (strategy, budget, windows) in [
        (
            "tpe",
            1000u64,
            vec![(0usize, 100usize), (400, 500), (900, 1000)],
        ),
        ("gp", 300, vec![(40, 60), (90, 110), (180, 200), (280, 300)]),
        ("random", 1000, vec![(900, 1000)]),
    ] {
        if !only.contains(&strategy) {
            continue;
        }
        let runs: Vec<Vec<Simulated>> = (0..repeats)
            .map(|seed| run(Function::Hartmann6, strategy, 1, seed, budget))
            .collect();
        // Per seed, one statistic of the window's wall times; the row
        // shows its median over seeds.
        let row = |stat: fn(Vec<f64>) -> f64| -> String {
            windows
                .iter()
                .map(|&(a, b)| {
                    let per: Vec<f64> = runs
                        .iter()
                        .map(|r| stat(r[a..b].iter().map(|t| t.propose_seconds * 1e3).collect()))
                        .collect();
                    format!("t{}-{}: {:.3} ms", a + 1, b, quartiles(per).0)
                })
                .collect::<Vec<_>>()
                .join(" | ")
        };
        println!("| {strategy} | {budget} | {} |", row(|v| quartiles(v).0));
        // The mean over the window: what a proposal costs on average, when
        // some proposals do more work than others (gp refits its
        // hyperparameters every second trial past `fit_points`, so its
        // window median is not its average).
        let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        println!("| {strategy} (wall, mean) | {budget} | {} |", row(mean));
        // The same proposals again, timed by this thread's CPU time, which
        // other load on a shared machine inflates far less than wall time.
        let cpu: Vec<String> = windows
            .iter()
            .map(|&(a, b)| {
                let per: Vec<f64> = runs
                    .iter()
                    .enumerate()
                    .filter_map(|(seed, r)| cpu_ms(strategy, seed as u64, budget, r, a, b))
                    .collect();
                if per.is_empty() {
                    format!("t{}-{}: -", a + 1, b)
                } else {
                    format!("t{}-{}: {:.3} ms", a + 1, b, quartiles(per).0)
                }
            })
            .collect();
        println!(
            "| {strategy} (CPU, mean) | {budget} | {} |",
            cpu.join(" | ")
        );
    }
}

/// This thread's CPU time in nanoseconds (Linux `schedstat`), if readable.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Mean CPU milliseconds per proposal over proposals `a..b` of the
/// sequential run `trials` (W = 1), each proposed again (three times, as
/// the kernel updates the counter only every few milliseconds) from the
/// same history.
fn cpu_ms(
    strategy: &str,
    seed: u64,
    budget: u64,
    trials: &[Simulated],
    a: usize,
    b: usize,
) -> Option<f64> {
    use hpsearch::strategy::{History, Trial};
    let text = search_text(Function::Hartmann6, strategy, 1, seed, budget);
    let loaded = config::parse(
        Path::new("bench.toml"),
        &text,
        hpsearch::objective::models::MODELS,
    )
    .ok()?;
    let search = &loaded.search;
    let st = search.strategy.build();
    let root = search.root();
    let observed: Vec<_> = trials
        .iter()
        .map(|t| {
            search::observation(
                &search.space,
                search.direction,
                t.params.clone(),
                t.eval.status,
                t.eval.value,
            )
        })
        .collect();
    const ROUNDS: usize = 3;
    let t0 = thread_cpu_ns()?;
    for _ in 0..ROUNDS {
        for i in a..b {
            let trial = Trial {
                space: &search.space,
                index: i as u64,
                seed: root.trial_seed(i as u64),
                search_seed: root.search_seed(),
            };
            let history = History {
                observed: &observed[..i],
                pending: &[],
            };
            let p = st.propose(&trial, &history);
            assert_eq!(p, trials[i].params, "proposal {i} is not reproduced");
        }
    }
    let t1 = thread_cpu_ns()?;
    Some((t1 - t0) as f64 * 1e-6 / (ROUNDS * (b - a)) as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let _ = TPE_SETTINGS.set(arg(&args, "--tpe", ""));
    if args.iter().any(|a| a == "overhead") {
        overhead(&args);
    } else if args.iter().any(|a| a == "quality") {
        quality(&args);
    } else {
        eprintln!("usage: cargo bench --bench strategies -- quality|overhead [options]");
    }
}
