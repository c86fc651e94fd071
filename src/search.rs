//! The coordinator: proposes trials, evaluates them in parallel on a Rayon
//! pool and commits them to the journal in trial order.
//!
//! Why the result cannot depend on the thread count: each proposal is a
//! function of the space, the trial index and its seed (grid and random
//! look at no results); each evaluation is a pure function of the
//! parameters, the seed and the data; and finished trials wait in memory
//! until every earlier trial is committed, so rows reach `trials.csv` in
//! index order. Threads only decide how many trials run at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::config::Search;
use crate::journal::{Committed, Journal, JournalError, Row};
use crate::objective::{Evaluation, Objective};
use crate::strategy::History;
use crate::value::Params;

/// A finished trial.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub trial: u64,
    pub seed: u64,
    pub params: Params,
    pub eval: Evaluation,
    /// Wall time, for `timings.csv` only.
    pub seconds: f64,
    pub thread: usize,
}

/// Errors that stop a search.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("cannot start {threads} worker threads: {message}")]
    Pool { threads: usize, message: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A recorded trial is not what this search proposes.
    #[error(
        "trials.csv line {line}: trial {trial} {message}; the journal and this search disagree \
         (was trials.csv edited, or written by another version of hpsearch?)"
    )]
    Drift {
        trial: u64,
        line: u64,
        message: String,
    },
}

/// Recompute the seed and proposal of every recorded trial and compare them
/// with the journal: the guard against silent drift before a resume.
pub fn check_recorded(search: &Search, rows: &[Row]) -> Result<(), SearchError> {
    let strategy = search.strategy.build();
    let root = search.root();
    for r in rows {
        let drift = |message: String| SearchError::Drift {
            trial: r.trial,
            line: r.trial + 2,
            message,
        };
        let seed = root.trial_seed(r.trial);
        if seed != r.seed {
            return Err(drift(format!(
                "has seed {} where {seed} was expected",
                r.seed
            )));
        }
        let params = strategy.propose(&search.space, r.trial, seed, &History::default());
        for (name, text) in &r.params {
            let want = params.get(name).map(|v| v.to_string()).unwrap_or_default();
            if &want != text {
                return Err(drift(format!(
                    "has {name} = {text} where this search proposes {want}"
                )));
            }
        }
    }
    Ok(())
}

/// Run trials `start .. budget` of `search` on `threads` workers, appending
/// each to `journal` in order; `observe` sees every committed trial (for
/// progress) and cannot change a result.
pub fn run(
    search: &Search,
    objective: &dyn Objective,
    journal: &mut Journal,
    start: u64,
    budget: u64,
    threads: usize,
    observe: &mut dyn FnMut(&Outcome),
) -> Result<(), SearchError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SearchError::Pool {
            threads,
            message: e.to_string(),
        })?;
    let strategy = search.strategy.build();
    let root = search.root();
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Outcome>();

    std::thread::scope(|scope| {
        let stop = &stop;
        let strategy = &strategy;
        scope.spawn(move || {
            pool.install(|| {
                // par_bridge hands trials out in index order as workers
                // free up, so few finished trials wait for an earlier one.
                (start..budget).par_bridge().for_each_with(tx, |tx, trial| {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let began = Instant::now();
                    let seed = root.trial_seed(trial);
                    let params = strategy.propose(&search.space, trial, seed, &History::default());
                    let eval = objective.evaluate(&params, seed);
                    let _ = tx.send(Outcome {
                        trial,
                        seed,
                        params,
                        eval,
                        seconds: began.elapsed().as_secs_f64(),
                        thread: rayon::current_thread_index().unwrap_or(0),
                    });
                });
            });
        });

        let result = commit_in_order(&rx, journal, start, observe);
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
            // Drain so the workers are not blocked; their results are lost
            // with the failed journal anyway.
            for _ in rx.iter() {}
        }
        result
    })
}

fn commit_in_order(
    rx: &mpsc::Receiver<Outcome>,
    journal: &mut Journal,
    start: u64,
    observe: &mut dyn FnMut(&Outcome),
) -> Result<(), SearchError> {
    let mut waiting: BTreeMap<u64, Outcome> = BTreeMap::new();
    let mut next = start;
    while let Ok(first) = rx.recv() {
        waiting.insert(first.trial, first);
        // Take whatever else is ready, so one flush covers them all.
        while let Ok(more) = rx.try_recv() {
            waiting.insert(more.trial, more);
        }
        let mut committed = Vec::new();
        while let Some(o) = waiting.remove(&next) {
            journal.append(&Committed {
                trial: o.trial,
                seed: o.seed,
                params: &o.params,
                eval: &o.eval,
                seconds: o.seconds,
                thread: o.thread,
            });
            committed.push(o);
            next += 1;
        }
        journal.sync()?;
        for o in &committed {
            observe(o);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::Status;
    use std::path::Path;

    #[test]
    fn drift_names_the_first_differing_trial() {
        let text = r#"
[search]
strategy = "random"
trials = 5
[objective]
function = "branin"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#;
        let s = crate::config::parse(Path::new("t.toml"), text)
            .unwrap()
            .search;
        let root = s.root();
        let strategy = s.strategy.build();
        let mut rows: Vec<Row> = (0..3)
            .map(|i| {
                let seed = root.trial_seed(i);
                let p = strategy.propose(&s.space, i, seed, &History::default());
                Row {
                    trial: i,
                    seed,
                    status: Status::Ok,
                    value: Some(1.0),
                    params: p.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
                    folds: Vec::new(),
                    error: String::new(),
                }
            })
            .collect();
        assert!(check_recorded(&s, &rows).is_ok());
        rows[1].params[0].1 = "0.5".into();
        let e = check_recorded(&s, &rows).unwrap_err().to_string();
        assert!(e.contains("line 3: trial 1 has x0 = 0.5"), "{e}");
        rows[1].seed += 1;
        let e = check_recorded(&s, &rows).unwrap_err().to_string();
        assert!(e.contains("trial 1 has seed"), "{e}");
    }
}
