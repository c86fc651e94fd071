//! A closure as the objective: a search written in Rust, no search file.
//!
//! `cargo run --release --example closure` writes `results/example-closure`;
//! run it twice and the second run finds the search finished. Change the
//! version ("1") when the closure changes what it returns: the search is
//! then a new one, and the old folder is refused rather than mixed in.

use hpsearch::engine::{ParamSpec, RunOptions, Search, Trial};
use hpsearch::value::Params;

/// Rosenbrock's valley, with a noisy "measurement" seeded by the trial:
/// the same trial always gets the same noise.
fn objective(p: &Params, trial: &Trial<'_>) -> Result<f64, String> {
    let x = p["x"].as_f64().ok_or("x is a float")?;
    let y = p["y"].as_f64().ok_or("y is a float")?;
    let noise = (trial.seed() % 1000) as f64 * 1e-6;
    Ok((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2) + noise)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let search = Search::builder()
        .strategy("tpe")
        .trials(200)
        .seed(0)
        .param("x", ParamSpec::float(-2.0, 2.0))
        .param("y", ParamSpec::float(-1.0, 3.0))
        .external("rosenbrock", "1", "minimize")
        .build()?
        .with_fn(objective)?;
    let done = search.run("results/example-closure", RunOptions::default())?;
    if let Some(best) = done.best(&search) {
        println!(
            "best of {} trials: trial {} value {:?} at {:?}",
            done.rows.len(),
            best.trial,
            best.value,
            best.params
        );
    }
    Ok(())
}
