//! Ask and tell: hpsearch proposes, something else evaluates (a job
//! scheduler, a cluster, a person), results come back in any order, and
//! the journal is still the one `hpsearch run` would write.
//!
//! `cargo run --release --example ask_tell` drives a TPE search whose
//! "jobs" finish in a shuffled order; kill it at any point and run it
//! again: the trials asked but not told are asked again.

use hpsearch::engine::{Next, Search};
use hpsearch::objective::Evaluation;

const SEARCH: &str = r#"
[search]
strategy = "tpe"
trials = 60
parallel = 4        # up to 4 trials out at once
[objective]
external = "sphere"
version = "1"
direction = "minimize"
[space]
x = { type = "float", low = -4.0, high = 4.0 }
y = { type = "float", low = -4.0, high = 4.0 }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let search = Search::from_toml(SEARCH, "sphere.toml")?;
    let mut at = search.ask_tell("results/example-ask-tell")?;
    let mut running = Vec::new();
    loop {
        match at.ask() {
            // A scheduler would submit the job here.
            Next::Trial(t) => running.push(t),
            // The window is full: wait for jobs. Here they "finish" in a
            // shuffled order (the last one first).
            Next::Wait | Next::Done if !running.is_empty() => {
                running.rotate_left(1);
                while let Some(t) = running.pop() {
                    let x = t.params["x"].as_f64().unwrap_or(0.0);
                    let y = t.params["y"].as_f64().unwrap_or(0.0);
                    at.tell(t.index, Evaluation::ok(x * x + y * y, Vec::new()))?;
                }
            }
            Next::Wait | Next::Done => break,
        }
    }
    let rows = at.finish()?;
    println!("{} trials in results/example-ask-tell", rows.len());
    Ok(())
}
