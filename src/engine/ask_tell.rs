//! Ask and tell: the search proposes, someone else evaluates (an external
//! scheduler, the Python package), in any order; the journal still commits
//! in trial order, so it is the one [`Search::run`] writes.
//!
//! Why it is the same journal: [`AskTell::ask`] proposes trial `i` exactly
//! as the coordinator does (`search::propose_next`, from the history the
//! window allows), and holds it back until trials `0 ..= i-W` are
//! committed, as the coordinator does; [`AskTell::tell`] keeps a result
//! until every earlier trial is told, then commits through the same
//! `search::commit`. Only the wall times in `timings.csv` differ.
//!
//! [`Search::run`]: super::Search::run

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::{failed, input, Error, Reports, Search};
use crate::journal::{self, Journal, Opened, Row};
use crate::objective::{Evaluation, Status};
use crate::pruner::Pruner;
use crate::search::{self, Outcome, State};
use crate::strategy::Strategy;
use crate::value::Params;

/// A trial handed out by [`AskTell::ask`].
#[derive(Debug)]
pub struct Asked {
    /// The trial index.
    pub index: u64,
    /// The trial's seed (design.md, Determinism 2).
    pub seed: u64,
    /// The parameters to evaluate.
    pub params: Params,
    pruner: Option<Pruner>,
}

impl Asked {
    /// With `[search.pruner]`: whether a trial that reported these
    /// `(step, value)` pairs (steps increasing) should stop now. It sees
    /// only the trials settled when this one was asked, so the answer is
    /// the one a run gives. Without a pruner: never.
    pub fn should_prune(&self, steps: &[(u64, f64)]) -> bool {
        self.pruner.as_ref().is_some_and(|p| p.should_prune(steps))
    }

    /// A record of this trial's intermediate values judged by its pruner
    /// (see [`Reports`]): `settle` turns the caller's evaluation into the
    /// one to tell.
    pub fn reports(&self) -> Reports {
        Reports::new(self.pruner.clone().map(Pruner::shared))
    }
}

/// What [`AskTell::ask`] has to give.
#[derive(Debug)]
pub enum Next {
    /// Evaluate this trial and tell its result.
    Trial(Asked),
    /// The window allows no new trial until earlier ones are told.
    Wait,
    /// Every trial of the budget has been asked.
    Done,
}

/// A search driven from outside; see the module doc. Made by
/// [`Search::ask_tell`]; holds the results folder's lock until dropped.
/// On a folder that already holds the whole budget, `ask` says
/// [`Next::Done`] at once and `finish` returns its rows.
///
/// ```
/// use hpsearch::engine::{Next, Search};
/// use hpsearch::objective::Evaluation;
///
/// let search = Search::from_toml(
///     r#"
/// [search]
/// strategy = "tpe"
/// trials = 6
/// [objective]
/// external = "square"
/// version = "1"
/// direction = "minimize"
/// [space]
/// x = { type = "float", low = -3.0, high = 3.0 }
/// "#,
///     "square.toml",
/// )?;
/// let dir = tempfile::tempdir()?;
/// let mut at = search.ask_tell(dir.path())?;
/// let mut out = Vec::new();
/// loop {
///     match at.ask() {
///         Next::Trial(t) => out.push(t),
///         // Told late, in reverse order: the journal is still in order.
///         Next::Wait => {
///             while let Some(t) = out.pop() {
///                 let x = t.params["x"].as_f64().unwrap_or(0.0);
///                 at.tell(t.index, Evaluation::ok(x * x, Vec::new()))?;
///             }
///         }
///         Next::Done => break,
///     }
/// }
/// while let Some(t) = out.pop() {
///     let x = t.params["x"].as_f64().unwrap_or(0.0);
///     at.tell(t.index, Evaluation::ok(x * x, Vec::new()))?;
/// }
/// assert_eq!(at.finish()?.len(), 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AskTell<'s> {
    search: Held<'s>,
    strategy: Box<dyn Strategy>,
    /// `None` for a folder that was already finished.
    journal: Option<Journal>,
    dir: std::path::PathBuf,
    state: State,
    budget: u64,
    /// Whether the window holds proposals back (a strategy that learns, or
    /// a pruner).
    held: bool,
    uses_history: bool,
    /// The next index to ask.
    next: u64,
    /// Trials committed.
    committed: u64,
    /// Asked and not yet told: parameters, seed, when asked.
    asked: BTreeMap<u64, (Params, u64, Instant)>,
    /// Told, waiting for an earlier trial before they commit.
    told: BTreeMap<u64, Outcome>,
    /// The search's root hash (seeds; computed once, not per trial).
    root: crate::seed::RootHash,
    /// What a row holds (fold scores, extra cells).
    columns: crate::journal::Columns,
}

/// The search an [`AskTell`] drives: borrowed, or shared with the caller
/// (an owner that cannot hold a borrow, such as a Python object).
enum Held<'s> {
    Borrowed(&'s Search),
    Shared(Arc<Search>),
}

impl std::ops::Deref for Held<'_> {
    type Target = Search;

    fn deref(&self) -> &Search {
        match self {
            Held::Borrowed(s) => s,
            Held::Shared(s) => s,
        }
    }
}

impl AskTell<'static> {
    pub(super) fn open_shared(search: Arc<Search>, dir: &Path) -> Result<AskTell<'static>, Error> {
        AskTell::open_held(Held::Shared(search), dir)
    }
}

impl<'s> AskTell<'s> {
    pub(super) fn open(search: &'s Search, dir: &Path) -> Result<AskTell<'s>, Error> {
        AskTell::open_held(Held::Borrowed(search), dir)
    }

    fn open_held(search: Held<'s>, dir: &Path) -> Result<AskTell<'s>, Error> {
        let spec = &search.spec;
        let columns = search.columns();
        let folds = search.objective.as_deref().and_then(|o| o.fold_of_rows());
        let (journal, state, committed) = match journal::open(dir, spec, &columns, folds) {
            Ok(Opened::New(j)) => (Some(*j), State::default(), 0),
            Ok(Opened::Unfinished(mut u)) => {
                let rows = std::mem::take(&mut u.rows);
                let state = search::recorded_state(spec, &rows).map_err(input)?;
                let committed = rows.len() as u64;
                (
                    Some(u.resume(spec.budget()).map_err(failed)?),
                    state,
                    committed,
                )
            }
            // Nothing to ask: `ask` says Done and `finish` gives the rows,
            // as `run` leaves a finished folder as it is.
            Ok(Opened::Finished(rows)) => (None, State::default(), rows.len() as u64),
            Err(e @ journal::JournalError::Io { .. }) => return Err(failed(e)),
            Err(e) => return Err(input(e)),
        };
        let strategy = spec.strategy.build();
        let uses_history = strategy.uses_history();
        let held = uses_history || spec.pruner.is_some();
        let (budget, root) = (spec.budget(), spec.root());
        Ok(AskTell {
            search,
            held,
            uses_history,
            strategy,
            journal,
            dir: dir.to_path_buf(),
            next: committed,
            committed,
            state,
            budget,
            root,
            asked: BTreeMap::new(),
            told: BTreeMap::new(),
            columns,
        })
    }

    /// The next trial the window allows (see [`Next`]).
    pub fn ask(&mut self) -> Next {
        let spec = &self.search.spec;
        let i = self.next;
        if i >= self.budget {
            return Next::Done;
        }
        if self.held && search::visible(i, spec.window) > self.committed as usize {
            return Next::Wait;
        }
        let root = &self.root;
        let seed = root.trial_seed(i);
        // A strategy that learns proposes from the window's history and
        // keeps its proposal (a pending trial for the later ones); the
        // others propose from the index alone, as the run's workers do.
        let params = if self.uses_history {
            let p = search::propose_next(
                spec,
                self.strategy.as_ref(),
                &self.state,
                root.search_seed(),
                seed,
            );
            self.state.proposals.push(p.clone());
            p
        } else {
            let t = crate::strategy::Trial {
                space: &spec.space,
                index: i,
                seed,
                search_seed: root.search_seed(),
            };
            self.strategy
                .propose(&t, &crate::strategy::History::default())
        };
        let pruner = search::pruner_for(spec, &self.state, i);
        self.next += 1;
        self.asked.insert(i, (params.clone(), seed, Instant::now()));
        Next::Trial(Asked {
            index: i,
            seed,
            params,
            pruner,
        })
    }

    /// Record the evaluation of asked trial `index`, in any order. It is
    /// committed once every earlier trial is told. An interrupted
    /// evaluation is refused (tell it again with its real result, or
    /// drop the [`AskTell`]: the trial is asked again on resume).
    pub fn tell(&mut self, index: u64, eval: Evaluation) -> Result<(), Error> {
        if eval.status == Status::Interrupted {
            return Err(Error::Input(format!(
                "trial {index}: an interrupted evaluation cannot be told; it is asked again \
                 when the search resumes"
            )));
        }
        if eval.status == Status::Ok && !eval.value.is_finite() {
            return Err(Error::Input(format!(
                "trial {index}: status ok with the value {}; use Evaluation::ok, which fails a \
                 non-finite value",
                eval.value
            )));
        }
        if eval.folds.len() > self.columns.n_folds || eval.extra.len() > self.columns.extra.len() {
            return Err(Error::Input(format!(
                "trial {index}: {} fold scores and {} extra cells, where this search records at \
                 most {} and {}",
                eval.folds.len(),
                eval.extra.len(),
                self.columns.n_folds,
                self.columns.extra.len()
            )));
        }
        let Some((params, seed, asked)) = self.asked.remove(&index) else {
            return Err(Error::Input(
                if index < self.committed || self.told.contains_key(&index) {
                    format!("trial {index} was already told")
                } else {
                    format!("trial {index} was not asked")
                },
            ));
        };
        self.told.insert(
            index,
            Outcome {
                trial: index,
                seed,
                params,
                eval,
                seconds: asked.elapsed().as_secs_f64(),
                thread: 0,
                bug: None,
            },
        );
        // A trial was asked, so the journal is open.
        let Some(journal) = self.journal.as_mut() else {
            return Ok(());
        };
        while let Some(o) = self.told.remove(&self.committed) {
            search::commit(
                &self.search.spec,
                self.uses_history,
                journal,
                &mut self.state,
                &o,
            );
            self.committed += 1;
        }
        journal.commit().map_err(failed)
    }

    /// Trials committed to the journal so far.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// The trials committed so far, as `trials.csv` holds them.
    pub fn rows(&self) -> Result<Vec<Row>, Error> {
        self.search.rows(&self.dir, &self.columns)
    }

    /// The indices asked and not yet told.
    pub fn pending(&self) -> Vec<u64> {
        self.asked.keys().copied().collect()
    }

    /// Write what was committed to disk and close the journal: marked
    /// finished when the whole budget is in it, left to resume otherwise
    /// (trials asked but not told are asked again). Returns the rows.
    pub fn finish(self) -> Result<Vec<Row>, Error> {
        if let Some(mut journal) = self.journal {
            journal.sync().map_err(failed)?;
            if self.committed >= self.budget {
                journal.finish().map_err(failed)?;
            }
        }
        self.search.rows(&self.dir, &self.columns)
    }
}
