//! A built-in model search embedded in a program: an SVM on the shipped
//! breast-cancer data, stopped cleanly from another thread after a
//! deadline, resumable by running it again.
//!
//! `cargo run --release --example model_search` (from the repository).

use std::time::Duration;

use hpsearch::engine::{Observer, ParamSpec, RunOptions, Search};
use hpsearch::interrupt::StopToken;
use hpsearch::search::Outcome;

/// Prints each trial as it is committed.
struct Print;

impl Observer for Print {
    fn committed(&mut self, o: &Outcome) {
        println!(
            "trial {:>3}: {:?} {:.4}",
            o.trial, o.eval.status, o.eval.value
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let search = Search::builder()
        .strategy("tpe")
        .trials(40)
        .param("C", ParamSpec::float(1e-2, 1e3).log())
        .param("gamma", ParamSpec::float(1e-4, 1.0).log())
        .model("svm", "accuracy", "data/breast_cancer.csv", "target")
        .set("data", "scale", "standard")
        .build()?;
    // Stop after 20 s whatever happens; what finished is kept.
    let stop = StopToken::new();
    let timer = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        timer.stop();
    });
    let mut print = Print;
    let options = RunOptions {
        stop,
        observer: Some(&mut print),
        ..Default::default()
    };
    match search.run("results/example-svm", options) {
        Ok(done) => {
            let best = done.best(&search).map(|r| (r.trial, r.value));
            println!("done: best (trial, accuracy) = {best:?}");
        }
        Err(e) => println!("{e}"),
    }
    Ok(())
}
