//! The coordinator: proposes trials in index order, evaluates them in
//! parallel on a Rayon pool and commits them to the journal in trial order.
//!
//! Why the result cannot depend on the thread count: proposal `i` is made
//! on the coordinator thread, in index order, from exactly the history the
//! window allows (design.md, Determinism 3: the results of trials
//! `0 ..= i-W` and the parameters of trials `i-W+1 .. i-1`), and trial `i`
//! is only proposed once trials `0 ..= i-W` are committed; each evaluation
//! is a pure function of the parameters, the seed and the data; and
//! finished trials wait in memory until every earlier trial is committed,
//! so rows reach `trials.csv` in index order. Threads only decide how many
//! of the allowed trials run at once. Grid, random and Sobol look at no
//! results, so the window does not hold them back.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Instant;

use crate::config::{Direction, Search};
use crate::interrupt::StopToken;
use crate::journal;
use crate::journal::{Committed, Journal, JournalError, Row};
use crate::objective::{Evaluation, Objective, Prune, Status, TrialInfo};
use crate::pruner::{Curve, Pruner};
use crate::space::Space;
use crate::strategy::{History, Observation, PrunedAt, Strategy, Trial};
use crate::value::Params;

/// A finished trial.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The trial's index, from 0 in proposal order.
    pub trial: u64,
    /// The trial's seed, derived from the root hash and the index.
    pub seed: u64,
    /// The parameters proposed.
    pub params: Params,
    /// What the objective returned.
    pub eval: Evaluation,
    /// Wall time, for `timings.csv` only.
    pub seconds: f64,
    /// The worker thread that ran it, for `timings.csv` only.
    pub thread: usize,
    /// Set when proposing the trial panicked (an hpsearch bug): the trial
    /// is never committed and the run stops.
    pub bug: Option<String>,
}

impl Outcome {
    /// A trial whose proposal panicked: never committed; it stops the run.
    fn bug(trial: u64, seed: u64, what: String) -> Outcome {
        Outcome {
            trial,
            seed,
            params: Params::new(),
            eval: Evaluation::interrupted(),
            seconds: 0.0,
            thread: rayon::current_thread_index().unwrap_or(0),
            bug: Some(what),
        }
    }
}

/// Errors that stop a search.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The worker thread pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    Pool {
        /// The thread count asked for.
        threads: usize,
        /// Why the pool failed.
        message: String,
    },
    /// The results folder could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// `[objective] max_failures` trials in a row did not succeed.
    #[error(
        "stopped after {n} failed trials in a row (max_failures = {n}); the last, trial {trial}: {error}. \
         Fix the cause and run again to resume, or raise [objective] max_failures (0 never stops)"
    )]
    TooManyFailures {
        /// `max_failures`: how many failed in a row.
        n: u64,
        /// The last of them.
        trial: u64,
        /// Its error.
        error: String,
    },
    /// Ctrl-C (or SIGTERM): running trials were killed and dropped.
    #[error(
        "interrupted: {committed} trials are in the journal; run the same command again to resume"
    )]
    Interrupted {
        /// Trials in the journal when the search stopped.
        committed: u64,
    },
    /// A panic inside hpsearch (a bug) while proposing a trial.
    #[error(
        "hpsearch bug: proposing trial {trial} panicked: {message} (please report it, with the \
         search file); the journal holds every trial before it"
    )]
    Bug {
        /// The trial being proposed.
        trial: u64,
        /// The panic's message.
        message: String,
    },
    /// A recorded trial is not what this search proposes.
    #[error(
        "trials.csv line {line}: trial {trial} {message}; the journal and this search disagree \
         (was trials.csv edited, or written by another version of hpsearch?)"
    )]
    Drift {
        /// The recorded trial's index.
        trial: u64,
        /// Its line in `trials.csv` (1 is the header).
        line: u64,
        /// How it differs from what this search proposes.
        message: String,
    },
}

/// What a strategy learns from a finished trial of `space` without
/// intermediate values: its parameters (and their unit coordinates) and its
/// value turned into a loss (lower is better); failed trials have none.
/// `observation_with_steps` for a trial that may have been pruned.
pub fn observation(
    space: &Space,
    direction: Direction,
    params: Params,
    status: Status,
    value: f64,
) -> Observation {
    observation_with_steps(space, direction, params, status, value, &[])
}

/// [`observation`] of a trial with its intermediate values `steps` (in
/// step order): a pruned trial also carries the last step it reached and
/// its loss there ([`Observation::pruned`]), which tpe ranks it by. A
/// pruned trial without a step (which hpsearch's pruners never record) is
/// observed as a failed one. The live run and the journal read back on
/// resume both come through here, so a resumed search observes the same.
pub(crate) fn observation_with_steps(
    space: &Space,
    direction: Direction,
    params: Params,
    status: Status,
    value: f64,
    steps: &[(u64, f64)],
) -> Observation {
    let oriented = |v: f64| match direction {
        Direction::Minimize => v,
        Direction::Maximize => -v,
    };
    if status == Status::Pruned {
        if let Some(&(step, v)) = steps.last() {
            let at = PrunedAt {
                step,
                loss: oriented(v),
            };
            return Observation::pruned(space, params, at);
        }
    }
    let loss = (status == Status::Ok && value.is_finite()).then(|| oriented(value));
    Observation::new(space, params, loss)
}

/// The number of results proposal `i` may see with window `w`: trials
/// `0 ..= i-w`, none when `i < w`.
pub(crate) fn visible(i: u64, w: u64) -> usize {
    (i + 1).saturating_sub(w) as usize
}

/// The proposals and observations of a search so far, in trial order.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub proposals: Vec<Params>,
    pub observed: Vec<Observation>,
    /// The committed trials' statuses and intermediate values, in trial
    /// order: what the pruner of a later trial compares with.
    pub curves: Vec<Curve>,
}

/// Commit trial `o`, the next in index order: its row goes to `journal`,
/// and `state` learns what later proposals and pruners may see of it.
/// One function for [`run`] and the storage workers (`crate::storage`),
/// so a trial committed on any machine teaches the same thing.
pub(crate) fn commit(
    search: &Search,
    uses_history: bool,
    journal: &mut Journal,
    state: &mut State,
    o: &Outcome,
) {
    journal.append(&Committed {
        trial: o.trial,
        seed: o.seed,
        params: &o.params,
        eval: &o.eval,
        seconds: o.seconds,
        thread: o.thread,
    });
    if uses_history {
        state.observed.push(observation_with_steps(
            &search.space,
            search.direction,
            o.params.clone(),
            o.eval.status,
            o.eval.value,
            &o.eval.steps,
        ));
    }
    state.curves.push(Curve {
        status: o.eval.status,
        steps: o.eval.steps.as_slice().into(),
    });
}

/// `[objective] max_failures`: trials in a row, in trial order, that did
/// not succeed stop a search.
pub(crate) struct Failures {
    max: Option<u64>,
    in_a_row: u64,
}

impl Failures {
    pub(crate) fn new(search: &Search) -> Failures {
        Failures {
            max: search.runner().map(|c| c.max_failures).filter(|&m| m > 0),
            in_a_row: 0,
        }
    }

    /// Count committed trial `o`; the error that stops the search when it
    /// makes `max_failures` in a row. A pruned trial did not fail: it
    /// stopped as asked.
    pub(crate) fn count(&mut self, o: &Outcome) -> Option<SearchError> {
        if matches!(o.eval.status, Status::Ok | Status::Pruned) {
            self.in_a_row = 0;
            return None;
        }
        self.in_a_row += 1;
        self.max
            .is_some_and(|m| self.in_a_row >= m)
            .then(|| SearchError::TooManyFailures {
                n: self.in_a_row,
                trial: o.trial,
                error: o.eval.error.clone().unwrap_or_default(),
            })
    }
}

/// Trial `i`'s pruner (with `[search.pruner]`): it sees only the settled
/// curves, trials `0 ..= i-W` (design.md, Determinism 7). One place for
/// [`run`] and the storage workers.
pub(crate) fn pruner_for(search: &Search, state: &State, i: u64) -> Option<Pruner> {
    search.pruner.map(|spec| {
        Pruner::new(
            spec,
            search.direction,
            i,
            &state.curves[..visible(i, search.window).min(state.curves.len())],
        )
    })
}

/// Propose trial `i = state.proposals.len()` from what the window allows.
pub(crate) fn propose_next(
    search: &Search,
    strategy: &dyn Strategy,
    state: &State,
    search_seed: u64,
    seed: u64,
) -> Params {
    let i = state.proposals.len() as u64;
    let seen = if strategy.uses_history() {
        visible(i, search.window).min(state.observed.len())
    } else {
        0
    };
    let trial = Trial {
        space: &search.space,
        index: i,
        seed,
        search_seed,
    };
    let history = if strategy.uses_history() {
        History {
            observed: &state.observed[..seen],
            pending: &state.proposals[seen..],
        }
    } else {
        History::default()
    };
    strategy.propose(&trial, &history)
}

/// Recompute the seed and proposal of every recorded trial, in order and
/// with the history each one had, and compare them with the journal: the
/// guard against silent drift before a resume. Returns the state to go on
/// from.
pub(crate) fn recorded_state(search: &Search, rows: &[Row]) -> Result<State, SearchError> {
    let strategy = search.strategy.build();
    let root = search.root();
    let search_seed = root.search_seed();
    let mut state = State::default();
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
        let params = propose_next(search, strategy.as_ref(), &state, search_seed, seed);
        for (name, text) in &r.params {
            let want = params.get(name).map(|v| v.to_string()).unwrap_or_default();
            if &want != text {
                return Err(drift(format!(
                    "has {name} = {text} where this search proposes {want}"
                )));
            }
        }
        let value = r.value.unwrap_or(f64::NAN);
        state.observed.push(observation_with_steps(
            &search.space,
            search.direction,
            params.clone(),
            r.status,
            value,
            &r.steps,
        ));
        state.proposals.push(params);
        state.curves.push(Curve {
            status: r.status,
            steps: r.steps.as_slice().into(),
        });
    }
    Ok(state)
}

/// A trial of [`simulate`].
#[derive(Clone, Debug)]
pub struct Simulated {
    /// The parameters proposed.
    pub params: Params,
    /// What the objective returned.
    pub eval: Evaluation,
    /// Wall time the proposal took (a measurement only).
    pub propose_seconds: f64,
}

/// Run `budget` trials of `search` on the calling thread, without a
/// journal, and return them in order. Proposals follow exactly the window
/// rule `run` uses (`propose_next`), so a simulation gives the trials a real
/// run would: this is what the strategy benchmarks measure.
pub fn simulate(search: &Search, objective: &dyn Objective, budget: u64) -> Vec<Simulated> {
    let strategy = search.strategy.build();
    let root = search.root();
    let search_seed = root.search_seed();
    let mut state = State::default();
    let mut out = Vec::with_capacity(budget as usize);
    for i in 0..budget {
        let seed = root.trial_seed(i);
        let began = Instant::now();
        let params = propose_next(search, strategy.as_ref(), &state, search_seed, seed);
        let propose_seconds = began.elapsed().as_secs_f64();
        let info = TrialInfo {
            index: i,
            seed,
            workdir: None,
            pruner: None,
            stop: None,
        };
        let eval = objective.evaluate(&params, &info);
        state.observed.push(observation_with_steps(
            &search.space,
            search.direction,
            params.clone(),
            eval.status,
            eval.value,
            &eval.steps,
        ));
        state.proposals.push(params.clone());
        out.push(Simulated {
            params,
            eval,
            propose_seconds,
        });
    }
    out
}

/// Propose (when `known` is `None`) and evaluate trial `i` on a worker.
///
/// A trial that has not started when a stop is requested is dropped
/// ([`Status::Interrupted`]): without this, a grid, random or Sobol search,
/// which queues many trials ahead, would run its whole queue after Ctrl-C.
///
/// A panic (an hpsearch bug) must not unwind the worker: the coordinator
/// waits for every trial it launched, so a lost result would hang the run.
/// A panic in the evaluation fails the trial with its message (it is a
/// function of the trial's inputs, so the row is reproducible); one in the
/// proposal has no parameters to record and stops the run
/// ([`SearchError::Bug`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_trial(
    search: &Search,
    strategy: &dyn Strategy,
    objective: &dyn Objective,
    known: Option<Params>,
    i: u64,
    seed: u64,
    search_seed: u64,
    workdirs: Option<&std::path::Path>,
    pruner: Option<&Prune>,
    stop: &StopToken,
) -> Result<(Params, Evaluation), String> {
    let params = match known {
        Some(p) => p,
        None => catch(|| {
            let t = Trial {
                space: &search.space,
                index: i,
                seed,
                search_seed,
            };
            strategy.propose(&t, &History::default())
        })?,
    };
    if stop.is_stopped() {
        return Ok((params, Evaluation::interrupted()));
    }
    let eval = catch(|| match workdirs.map(|d| journal::fresh_trial_dir(d, i)) {
        Some(Err(e)) => Evaluation::failed(e.to_string(), Vec::new()),
        made => {
            let dir = made.and_then(Result::ok);
            let info = TrialInfo {
                index: i,
                seed,
                workdir: dir.as_deref(),
                pruner,
                stop: Some(stop),
            };
            objective.evaluate(&params, &info)
        }
    })
    .unwrap_or_else(|what| {
        Evaluation::failed(
            format!(
                "hpsearch bug: the trial panicked: {what} (please report it, with the search file)"
            ),
            Vec::new(),
        )
    });
    Ok((params, eval))
}

/// Run `f`, turning a panic into its message.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// Run trials `state.proposals.len() .. budget` of `search` on `threads`
/// workers, appending each to `journal` in order; `observe` sees every
/// committed trial (for progress) and cannot change a result.
///
/// Two things stop a search early, each after the trials in flight end
/// (and are committed, in order, when they finished on their own): a stop
/// on `stop` ([`StopToken`]; command trials are killed and not committed,
/// nor anything after them), and `max_failures` trials in a row that did
/// not succeed (counted in trial order within this call). Either way the
/// journal holds a prefix of the straight run's trials and resumes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    search: &Search,
    objective: &dyn Objective,
    journal: &mut Journal,
    mut state: State,
    budget: u64,
    threads: usize,
    stop_token: &StopToken,
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
    let uses_history = strategy.uses_history();
    // With a pruner the window holds back every strategy (design.md,
    // Determinism 7): trial i starts once trials 0 ..= i-W are committed,
    // so the curves its pruner compares with are settled.
    let held = uses_history || search.pruner.is_some();
    let root = search.root();
    let search_seed = root.search_seed();
    // How many trials may be out at once: the window for a strategy that
    // learns (the proposal rule enforces it anyway) or with a pruner; for
    // one that does not, enough that the workers keep busy while the
    // coordinator flushes a batch (so batches grow when flushing is
    // slow), but bounded in memory.
    let mut max_out = if held {
        search.window as usize
    } else {
        threads * 1024
    };
    if objective.needs_workdir() {
        // A program per trial: no queue beyond the workers, so a stop
        // (Ctrl-C, max_failures) leaves nothing waiting to start. This
        // only delays proposals; it never changes one.
        max_out = max_out.min(threads.max(1));
    }
    let (tx, rx) = mpsc::channel::<Outcome>();
    let mut waiting: BTreeMap<u64, Outcome> = BTreeMap::new();
    let mut committed = state.observed.len() as u64;
    let mut out = 0usize;

    let mut next = state.proposals.len() as u64;
    let strategy = strategy.as_ref();
    let workdirs = objective
        .needs_workdir()
        .then(|| journal.dir().to_path_buf());
    let mut failures = Failures::new(search);
    let mut stop: Option<SearchError> = None;
    // Set when a killed trial cannot be committed: nothing after it can be.
    let mut blocked = false;
    let result = pool.in_place_scope(|scope| {
        loop {
            // Propose and launch every trial the window allows.
            while stop.is_none() && !stop_token.is_stopped() && next < budget && out < max_out {
                let i = next;
                if held && visible(i, search.window) > committed as usize {
                    break;
                }
                // Only the settled curves, trials 0 ..= i-W.
                let judge = pruner_for(search, &state, i);
                let seed = root.trial_seed(i);
                // A strategy that learns proposes here, in index order, from
                // the window's history; one that does not proposes in the
                // worker (its proposals depend on nothing but the index).
                let known = uses_history.then(|| {
                    let p = propose_next(search, strategy, &state, search_seed, seed);
                    state.proposals.push(p.clone());
                    p
                });
                next += 1;
                out += 1;
                let tx = tx.clone();
                let workdirs = workdirs.as_deref();
                scope.spawn(move |_| {
                    let began = Instant::now();
                    let ask = judge.map(Pruner::shared);
                    let (params, eval) = match run_trial(
                        search,
                        strategy,
                        objective,
                        known,
                        i,
                        seed,
                        search_seed,
                        workdirs,
                        ask.as_ref(),
                        stop_token,
                    ) {
                        Ok(done) => done,
                        Err(what) => {
                            let _ = tx.send(Outcome::bug(i, seed, what));
                            return;
                        }
                    };
                    let _ = tx.send(Outcome {
                        trial: i,
                        seed,
                        params,
                        eval,
                        seconds: began.elapsed().as_secs_f64(),
                        thread: rayon::current_thread_index().unwrap_or(0),
                        bug: None,
                    });
                });
            }
            if committed >= budget {
                return Ok(());
            }
            if out == 0 {
                // Nothing in flight and nothing more may start: stopped.
                if let Some(e) = stop.take() {
                    return Err(e);
                }
                return Err(SearchError::Interrupted { committed });
            }
            // Wait for a result, take whatever else is ready, commit in order.
            let Ok(first) = rx.recv() else {
                return Ok(());
            };
            out -= 1;
            let mut arrived = vec![first];
            while let Ok(more) = rx.try_recv() {
                out -= 1;
                arrived.push(more);
            }
            for o in arrived {
                if let (Some(message), None) = (&o.bug, &stop) {
                    stop = Some(SearchError::Bug {
                        trial: o.trial,
                        message: message.clone(),
                    });
                }
                waiting.insert(o.trial, o);
            }
            let mut done = Vec::new();
            while !blocked {
                let Some(o) = waiting.remove(&committed) else {
                    break;
                };
                if o.eval.status == Status::Interrupted {
                    blocked = true;
                    break;
                }
                commit(search, uses_history, journal, &mut state, &o);
                committed += 1;
                if let Some(e) = failures.count(&o) {
                    stop.get_or_insert(e);
                }
                done.push(o);
            }
            // Hand the lot to the journal's writer, which flushes in the
            // background (a group commit): the next proposal needs these
            // results in memory, not on disk. Why this cannot change a
            // result: rows still reach the file in trial order, and a crash
            // loses only rows that resuming recomputes identically. A write
            // that failed is reported here; the scope still waits for the
            // trials in flight, whose results are then dropped.
            journal.commit()?;
            for o in &done {
                observe(o);
            }
        }
    });
    // However the search ended (done, stopped, failed), what was committed
    // reaches the disk before `run` returns; a write error outranks a stop.
    let synced = journal.sync();
    match (result, synced) {
        (Err(SearchError::Journal(e)), _) | (_, Err(e)) => Err(SearchError::Journal(e)),
        (result, Ok(())) => result,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::Status;
    use std::path::Path;

    /// A random search of six trials on branin.
    const BRANIN_RANDOM: &str = r#"
[search]
strategy = "random"
trials = 6
[objective]
function = "branin"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#;

    #[test]
    fn drift_names_the_first_differing_trial() {
        let s = crate::config::parse(
            Path::new("t.toml"),
            BRANIN_RANDOM,
            crate::objective::models::MODELS,
        )
        .unwrap()
        .search;
        let root = s.root();
        let strategy = s.strategy.build();
        let mut rows: Vec<Row> = (0..3)
            .map(|i| {
                let seed = root.trial_seed(i);
                let t = Trial {
                    space: &s.space,
                    index: i,
                    seed,
                    search_seed: root.search_seed(),
                };
                let p = strategy.propose(&t, &History::default());
                Row {
                    trial: i,
                    seed,
                    status: Status::Ok,
                    value: Some(1.0),
                    params: p.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
                    folds: Vec::new(),
                    extra: Vec::new(),
                    steps: Vec::new(),
                    error: String::new(),
                }
            })
            .collect();
        assert_eq!(recorded_state(&s, &rows).unwrap().proposals.len(), 3);
        rows[1].params[0].1 = "0.5".into();
        let e = recorded_state(&s, &rows).unwrap_err().to_string();
        assert!(e.contains("line 3: trial 1 has x0 = 0.5"), "{e}");
        rows[1].seed += 1;
        let e = recorded_state(&s, &rows).unwrap_err().to_string();
        assert!(e.contains("trial 1 has seed"), "{e}");
    }

    #[test]
    fn pruned_trials_are_observed_with_their_last_step() {
        let s = crate::config::parse(
            Path::new("t.toml"),
            BRANIN_RANDOM,
            crate::objective::models::MODELS,
        )
        .unwrap()
        .search;
        let p = |x: f64| -> Params {
            [("x0", x), ("x1", 1.0)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), crate::value::Value::Float(v)))
                .collect()
        };
        let steps = [(0, 3.0), (2, 2.5)];
        let o = observation_with_steps(
            &s.space,
            Direction::Maximize,
            p(1.0),
            Status::Pruned,
            2.5,
            &steps,
        );
        assert_eq!(o.loss, None);
        assert_eq!(
            o.pruned,
            Some(PrunedAt {
                step: 2,
                loss: -2.5
            })
        );
        // A complete trial's steps change nothing; a pruned one without a
        // step is a failure.
        let ok = observation_with_steps(
            &s.space,
            Direction::Minimize,
            p(1.0),
            Status::Ok,
            2.0,
            &steps,
        );
        assert_eq!(
            ok,
            observation(&s.space, Direction::Minimize, p(1.0), Status::Ok, 2.0)
        );
        assert_eq!((ok.loss, ok.pruned), (Some(2.0), None));
        let bare = observation_with_steps(
            &s.space,
            Direction::Minimize,
            p(1.0),
            Status::Pruned,
            2.0,
            &[],
        );
        assert_eq!((bare.loss, bare.pruned), (None, None));
        // Read back from the journal (a resume), a pruned row is observed
        // as the live run observed it.
        let root = s.root();
        let strategy = s.strategy.build();
        let seed = root.trial_seed(0);
        let t = Trial {
            space: &s.space,
            index: 0,
            seed,
            search_seed: root.search_seed(),
        };
        let params = strategy.propose(&t, &History::default());
        let row = Row {
            trial: 0,
            seed,
            status: Status::Pruned,
            value: Some(2.5),
            params: params
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            folds: Vec::new(),
            extra: Vec::new(),
            steps: steps.to_vec(),
            error: "pruned at step 2".into(),
        };
        let state = recorded_state(&s, &[row]).unwrap();
        let live =
            observation_with_steps(&s.space, s.direction, params, Status::Pruned, 2.5, &steps);
        assert_eq!(state.observed, vec![live]);
        assert_eq!(state.observed[0].pruned.map(|a| a.step), Some(2));
    }

    /// Panics on trial 2, and only there.
    struct PanicsOnTwo;
    impl Objective for PanicsOnTwo {
        fn evaluate(&self, params: &Params, trial: &TrialInfo<'_>) -> Evaluation {
            assert!(trial.index != 2, "trial two is cursed");
            Evaluation::ok(params.len() as f64, Vec::new())
        }
        fn n_folds(&self) -> usize {
            0
        }
    }

    #[test]
    fn a_panicking_trial_fails_alone_and_the_run_ends() {
        let search = crate::config::parse(
            Path::new("t.toml"),
            BRANIN_RANDOM,
            crate::objective::models::MODELS,
        )
        .unwrap()
        .search;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        let (done_tx, done_rx) = mpsc::channel();
        let worker_out = out.clone();
        // On its own thread: before the fix the run waited for the
        // panicked trial's result forever.
        std::thread::spawn(move || {
            let columns = journal::Columns::new(&search, 0);
            let Ok(journal::Opened::New(mut j)) =
                journal::open(&worker_out, &search, &columns, None)
            else {
                panic!("not a new folder");
            };
            let r = run(
                &search,
                &PanicsOnTwo,
                &mut j,
                State::default(),
                6,
                2,
                &StopToken::new(),
                &mut |_| {},
            );
            let _ = done_tx.send(r.map_err(|e| e.to_string()));
        });
        let r = done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the run hung after a panic in a worker");
        assert!(r.is_ok(), "{r:?}");
        let text = std::fs::read_to_string(out.join("trials.csv")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert!(
            lines[3].starts_with("2,") && lines[3].contains(",failed,"),
            "{text}"
        );
        assert!(lines[3].contains("trial two is cursed"), "{text}");
        assert!(lines[4].contains(",ok,"), "{text}");
    }
}
