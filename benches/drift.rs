//! Cost of drift profiles and checks at scale: 1,000,000 rows × 30
//! features (27 numeric, 3 text; some missing cells).
//!
//! `cargo bench --bench drift` (not part of `cargo test`). It generates the
//! data from a fixed seed, writes the CSV under `target/tmp/drift_bench/`
//! (about 200 MB; not in the repository), then measures
//!
//! 1. the profile as `export` builds it: the model's predictions on every
//!    training row, then `Profile::build` over the in-memory columns;
//! 2. `hpsearch drift` on the CSV, run as a child process: wall time and
//!    peak resident memory (the child's VmHWM, polled), which
//!    shows that the check streams (its memory does not hold the rows).
//!
//! Set `DRIFT_BENCH_ROWS` to change the row count.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use hpsearch::data::preprocess::{Impute, PreprocessSpec, Preprocessor, Scale};
use hpsearch::data::{Column, Dataset, Target};
use hpsearch::drift::profile::Profile;
use hpsearch::objective::models::{self, Targets, Task};
use hpsearch::replay::{Artifact, ARTIFACT_FORMAT};
use hpsearch::value::Params;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const LEVELS: [&str; 5] = ["alpha", "beta", "gamma", "delta", "epsilon"];

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Rounded to 4 decimals, so the CSV text reads back to the same bits.
fn r4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

fn vm_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let rows: usize = std::env::var("DRIFT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/drift_bench");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let csv = dir.join("rows.csv");
    let model = dir.join("model.json");

    // ---- data, in memory and as CSV
    let t = Instant::now();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    let mut names = Vec::new();
    let mut columns = Vec::new();
    for j in 0..30 {
        names.push(format!("f{j:02}"));
        let col = match j {
            0..=9 => Column::numbers(
                (0..rows)
                    .map(|_| Some(r4(j as f64 + (1.0 + j as f64 / 10.0) * normal(&mut rng))))
                    .collect::<Vec<_>>(),
            ),
            10..=19 => Column::numbers(
                (0..rows)
                    .map(|_| Some(rng.gen_range(0..50) as f64))
                    .collect::<Vec<_>>(),
            ),
            20..=26 => Column::numbers(
                (0..rows)
                    .map(|_| (rng.gen::<f64>() >= 0.02).then(|| r4(100.0 * normal(&mut rng))))
                    .collect::<Vec<_>>(),
            ),
            _ => Column::Text(
                (0..rows)
                    .map(|_| {
                        (rng.gen::<f64>() >= 0.01)
                            .then(|| LEVELS[rng.gen_range(0..LEVELS.len())].to_string())
                    })
                    .collect(),
            ),
        };
        columns.push(col);
    }
    let y: Vec<f64> = (0..rows)
        .map(|r| match (&columns[0], &columns[12]) {
            (a @ Column::Numeric(_), b @ Column::Numeric(_)) => {
                a.number(r).unwrap_or(0.0) * 2.0 - b.number(r).unwrap_or(0.0) * 0.1
                    + normal(&mut rng)
            }
            _ => 0.0,
        })
        .collect();
    let ds = Dataset {
        path: csv.clone(),
        sha256: String::new(),
        feature_names: names.clone(),
        columns,
        target: Target::Values(y.clone()),
        n_rows: rows,
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&csv).unwrap());
    writeln!(out, "{}", names.join(",")).unwrap();
    let mut line = String::new();
    for r in 0..rows {
        line.clear();
        for (j, c) in ds.columns.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            match c {
                Column::Numeric(_) => {
                    if let Some(x) = c.number(r) {
                        line.push_str(&format!("{x}"));
                    }
                }
                Column::Text(v) => {
                    if let Some(s) = &v[r] {
                        line.push_str(s);
                    }
                }
            }
        }
        writeln!(out, "{line}").unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let bytes = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {rows} rows x 30 features in {:.1} s; CSV {:.0} MB at {}",
        t.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        csv.display()
    );

    // ---- a model (elastic net on the first 20 000 rows)
    let fit_rows: Vec<usize> = (0..rows.min(20_000)).collect();
    let spec = PreprocessSpec {
        impute: Impute::Median,
        fill_value: 0.0,
        scale: Scale::Standard,
        keep_missing: false,
    };
    let pre = Preprocessor::fit(&ds, &fit_rows, &spec).expect("preprocess");
    let xfit = pre.transform(&ds, &fit_rows).expect("transform");
    let yfit: Vec<f64> = fit_rows.iter().map(|&r| y[r]).collect();
    let fitted = models::fit(
        "elastic_net",
        xfit.view(),
        Targets::Values(&yfit),
        &Params::new(),
        1,
    )
    .expect("fit");

    // ---- 1. the profile, as export builds it
    let rss_before = vm_kib("VmRSS:");
    let t = Instant::now();
    let all: Vec<usize> = (0..rows).collect();
    let x = pre.transform(&ds, &all).expect("transform");
    let pred = fitted.predict(x.view()).expect("predict");
    drop(x);
    let t_pred = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let profile = Profile::build(&ds, &pred, None);
    let t_profile = t.elapsed().as_secs_f64();
    let hwm = vm_kib("VmHWM:");
    println!(
        "profile: {t_profile:.2} s for Profile::build over {rows} rows x 30 columns \
         (+ {t_pred:.2} s to predict the training rows for the prediction profile); \
         process peak {:.0} MB, of which {:.0} MB before profiling (the rows in memory)",
        hwm as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    let artifact = Artifact {
        format: ARTIFACT_FORMAT,
        hpsearch_version: env!("CARGO_PKG_VERSION").to_string(),
        root_hash: "bench".into(),
        data_sha256: String::new(),
        trial: 0,
        seed: 1,
        refit_seed: 1,
        model: "elastic_net".into(),
        task: Task::Regression,
        metric: "r2".into(),
        cv_score: 0.0,
        fold_scores: Vec::new(),
        params: Params::new(),
        target: "y".into(),
        classes: None,
        features: names,
        preprocessing: pre,
        fitted,
        profile: Some(profile),
    };
    let text = artifact.to_json();
    std::fs::write(&model, &text).expect("write model");
    println!("artifact: {:.0} kB", text.len() as f64 / 1e3);
    drop(ds);

    // ---- 2. the check, streamed by the real binary in a child process
    // Peak memory: the child's own VmHWM, polled while it runs (a
    // child's ru_maxrss would count the pages it shared with this big
    // process between fork and exec).
    let t = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(["drift", "--format", "json"])
        .arg(&model)
        .arg(&csv)
        .stdout(std::fs::File::create(dir.join("report.json")).unwrap())
        .spawn()
        .expect("run hpsearch drift");
    let status_file = format!("/proc/{}/status", child.id());
    let mut maxrss_kib = 0u64;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        let hwm = std::fs::read_to_string(&status_file)
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0);
        maxrss_kib = maxrss_kib.max(hwm);
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let t_check = t.elapsed().as_secs_f64();
    println!(
        "check: hpsearch drift over {rows} rows x 30 features (+ predictions) in {t_check:.2} s \
         ({:.0} rows/s, {:.0} MB/s); peak RSS {:.1} MB; exit {:?}",
        rows as f64 / t_check,
        bytes as f64 / 1e6 / t_check,
        maxrss_kib as f64 / 1024.0,
        status.code()
    );
}
