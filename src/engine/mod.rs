//! The library's entry point: a search from a file, a TOML text or parts,
//! run into a results folder (resuming what is there), stopped by a token,
//! or driven trial by trial from outside with ask and tell.
//!
//! `hpsearch run` is a thin caller of [`Search::run`]; whatever a program
//! does through this module, the results folder is the one the CLI writes,
//! byte for byte, so `show`, `report`, `replay` and `export` work on it.
//!
//! ```
//! use hpsearch::engine::{RunOptions, Search};
//!
//! let search = Search::from_toml(
//!     r#"
//! [search]
//! strategy = "random"
//! trials = 8
//! [objective]
//! function = "branin"
//! [space]
//! x0 = { type = "float", low = -5.0, high = 10.0 }
//! x1 = { type = "float", low = 0.0, high = 15.0 }
//! "#,
//!     "branin.toml",
//! )?;
//! let dir = tempfile::tempdir()?;
//! let done = search.run(dir.path(), RunOptions::default())?;
//! assert_eq!(done.rows.len(), 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ask_tell;
mod builder;
mod closure;

use std::path::{Path, PathBuf};

pub use ask_tell::{AskTell, Asked, Next};
pub use builder::{Builder, ParamSpec};
pub use closure::{FnObjective, IntoEvaluation, Reports, Trial};

use crate::config::{self, ObjectiveSpec};
use crate::interrupt::StopToken;
use crate::journal::{self, Columns, Opened, Row};
use crate::objective::{self, Objective, Status};
use crate::search::{self, Outcome, SearchError};
use crate::storage::{Storage, StorageError, Target};

/// Why a search could not run, sorted by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong (the search file, the data, a results folder of
    /// another search, a journal that disagrees with the search): nothing
    /// was written. The CLI exits with status 2.
    #[error("{0}")]
    Input(String),
    /// The search could not go on (a write failed, too many failures in a
    /// row, a lost database): what was committed is kept and resumes.
    #[error("{0}")]
    Failed(String),
    /// The stop token was stopped: `committed` trials are in the journal,
    /// and running the same search again resumes from there.
    #[error(
        "{}: interrupted with {committed} trials in the journal; run the same search again to resume",
        dir.display()
    )]
    Stopped {
        /// The results folder.
        dir: PathBuf,
        /// Trials in the journal.
        committed: u64,
    },
}

fn input(e: impl std::fmt::Display) -> Error {
    Error::Input(e.to_string())
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Failed(e.to_string())
}

/// A search ready to run: the search file resolved and checked, its data
/// loaded and its folds prepared, and its objective.
pub struct Search {
    spec: config::Search,
    objective: Option<Box<dyn Objective>>,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("file", &self.spec.file)
            .field("root", &self.spec.root().hex())
            .field("objective", &self.objective.is_some())
            .finish()
    }
}

/// How [`Search::run`] runs.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Worker threads; `None`: one per core. Never changes a result.
    pub threads: Option<usize>,
    /// Stops the run when stopped (from another thread, a signal handler).
    pub stop: StopToken,
    /// Sees the start and every committed trial (progress, logging).
    pub observer: Option<&'a mut dyn Observer>,
    /// Run as one worker of a search shared through PostgreSQL (see
    /// [`crate::storage`]) instead of alone.
    pub storage: Option<&'a Target>,
    /// With `storage`: only copy the committed trials into the folder.
    pub pull: bool,
}

/// What a run reports as it goes. Both methods have empty defaults.
pub trait Observer {
    /// Called once, before any trial runs: `recorded` are the trials the
    /// folder already held (empty for a new one), `resumed` whether the
    /// folder existed.
    fn start(&mut self, recorded: &[Row], budget: u64, resumed: bool) {
        let _ = (recorded, budget, resumed);
    }

    /// Called for every trial committed, in trial order.
    fn committed(&mut self, outcome: &Outcome) {
        let _ = outcome;
    }
}

/// How a run ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every trial of the budget is in the journal, some of them now.
    Complete,
    /// The folder already held the whole budget: nothing ran.
    AlreadyComplete,
    /// With storage: `committed` of the budget are in the database so far
    /// (a `pull`, or other workers still running trials).
    Partial {
        /// Trials committed so far.
        committed: u64,
    },
}

/// A run's result: the folder and its rows in trial order.
#[derive(Debug)]
pub struct Finished {
    /// The results folder.
    pub dir: PathBuf,
    /// How it ended.
    pub ending: Ending,
    /// The committed trials, in trial order.
    pub rows: Vec<Row>,
}

impl Finished {
    /// The best successful trial (ties: the lowest index), if any.
    pub fn best(&self, search: &Search) -> Option<&Row> {
        journal::best_row(search.spec.direction, &self.rows)
    }
}

impl Search {
    /// Read, check and resolve the search file `file` (its data loaded,
    /// folds prepared). An `external` objective (see
    /// [`Search::with_objective`]) still needs its code, unless the file
    /// gives a `command` for it, which runs it with the command protocol
    /// (as `hpsearch run` does).
    pub fn from_file(file: impl AsRef<Path>) -> Result<Search, Error> {
        let loaded =
            config::load(file.as_ref(), crate::objective::models::MODELS).map_err(input)?;
        Search::prepare(loaded)
    }

    /// [`Search::from_file`] for a text: `file` names it in errors, and
    /// relative data paths are read from its folder.
    pub fn from_toml(text: &str, file: impl AsRef<Path>) -> Result<Search, Error> {
        let loaded =
            config::parse(file.as_ref(), text, crate::objective::models::MODELS).map_err(input)?;
        Search::prepare(loaded)
    }

    /// A search from parts (space, strategy, objective, seed, window):
    /// see [`Builder`].
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn prepare(loaded: config::Loaded) -> Result<Search, Error> {
        let objective = match loaded.search.objective {
            // Without a `command`, the caller gives the code.
            ObjectiveSpec::External { runner: None, .. } => None,
            _ => Some(objective::build(&loaded.search, loaded.dataset).map_err(input)?),
        };
        Ok(Search {
            spec: loaded.search,
            objective,
        })
    }

    /// Give an `external` objective its code: anything that implements
    /// [`Objective`], for example a closure wrapped in [`FnObjective`].
    /// It replaces the search file's `command`, if it gives one (which
    /// is then not run, and whose `max_failures` no longer applies): the
    /// root hash is the same either way. Refused for a search whose
    /// objective is built in (a model, a function or a command), whose
    /// root hash already says what it is.
    pub fn with_objective(mut self, objective: impl Objective + 'static) -> Result<Search, Error> {
        match &mut self.spec.objective {
            ObjectiveSpec::External { runner, .. } => {
                *runner = None;
                self.objective = Some(Box::new(objective));
                Ok(self)
            }
            _ => Err(Error::Input(format!(
                "{}: the objective is built in ({}); only `[objective] external = \"…\"` takes \
                 code from the caller",
                self.spec.file.display(),
                self.spec.objective_name()
            ))),
        }
    }

    /// [`Search::with_objective`] for a closure: `f(params, trial)` returns
    /// the value (`f64`), a `Result<f64, E>` or an [`Evaluation`]
    /// (see [`IntoEvaluation`]).
    ///
    /// [`Evaluation`]: crate::objective::Evaluation
    pub fn with_fn<F, R>(self, f: F) -> Result<Search, Error>
    where
        F: Fn(&crate::value::Params, &Trial<'_>) -> R + Send + Sync + 'static,
        R: IntoEvaluation,
    {
        self.with_objective(FnObjective::new(f))
    }

    /// The resolved search file.
    pub fn spec(&self) -> &config::Search {
        &self.spec
    }

    /// The root hash as hex: the search's identity (design.md).
    pub fn root(&self) -> String {
        self.spec.root().hex()
    }

    /// The number of trials a run makes.
    pub fn budget(&self) -> u64 {
        self.spec.budget()
    }

    /// The objective, once it has its code.
    pub fn objective(&self) -> Option<&dyn Objective> {
        self.objective.as_deref()
    }

    fn objective_or_err(&self) -> Result<&dyn Objective, Error> {
        self.objective.as_deref().ok_or_else(|| {
            Error::Input(format!(
                "{}: the objective `{}` is external: its code is given by the program that runs \
                 the search (Rust: Search::with_fn; Python: hpsearch.optimize), so `hpsearch \
                 run` cannot run it as it is; or give it `command = [...]` to run it from the \
                 CLI (under [objective]: a program that computes it by the command protocol; \
                 the name and version stay the search's identity)",
                self.spec.file.display(),
                self.spec.objective_name()
            ))
        })
    }

    fn columns(&self) -> Columns {
        Columns::new(
            &self.spec,
            self.objective.as_deref().map_or(0, |o| o.n_folds()),
        )
    }

    /// Run the search into `dir`, as `hpsearch run` does: a new folder is
    /// created; an unfinished one of the same search is checked (every
    /// recorded proposal recomputed) and resumed; a finished one is left
    /// as it is; a folder of another search is refused. The journal is the
    /// same, byte for byte, for any thread count and after any stop.
    pub fn run(&self, dir: impl AsRef<Path>, options: RunOptions<'_>) -> Result<Finished, Error> {
        let dir = dir.as_ref();
        let RunOptions {
            threads,
            stop,
            observer,
            storage,
            pull,
        } = options;
        let objective = self.objective_or_err()?;
        let threads = match threads {
            Some(0) => return Err(input("threads must be at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let search = &self.spec;
        let columns = self.columns();
        let budget = search.budget();
        // A worker checks it runs the database's search before it touches
        // the results folder.
        let mut store = match storage {
            Some(t) => Some(Storage::open(t, search, !pull).map_err(storage_error)?),
            None => None,
        };
        let (mut journal, recorded, state, resumed) =
            match journal::open(dir, search, &columns, objective.fold_of_rows()) {
                Ok(Opened::New(j)) => (*j, Vec::new(), search::State::default(), false),
                Ok(Opened::Unfinished(mut u)) => {
                    let rows = std::mem::take(&mut u.rows);
                    let state = search::recorded_state(search, &rows).map_err(input)?;
                    (u.resume(budget).map_err(failed)?, rows, state, true)
                }
                Ok(Opened::Finished(rows)) => {
                    return Ok(Finished {
                        dir: dir.to_path_buf(),
                        ending: Ending::AlreadyComplete,
                        rows,
                    })
                }
                Err(e @ journal::JournalError::Io { .. }) => return Err(failed(e)),
                Err(e) => return Err(input(e)),
            };
        let mut observer = observer;
        if let Some(o) = observer.as_mut() {
            o.start(&recorded, budget, resumed);
        }
        let mut observe = |o: &Outcome| {
            if let Some(obs) = observer.as_mut() {
                obs.committed(o);
            }
        };
        let ran = match store.as_mut() {
            None => search::run(
                search,
                objective,
                &mut journal,
                state,
                budget,
                threads,
                &stop,
                &mut observe,
            ),
            Some(store) => {
                let workers = if pull { 0 } else { threads };
                match store.work(
                    search,
                    objective,
                    &mut journal,
                    state,
                    budget,
                    workers,
                    &stop,
                    &mut observe,
                ) {
                    Ok(n) if n < budget => {
                        let rows = self.rows(dir, &columns)?;
                        return Ok(Finished {
                            dir: dir.to_path_buf(),
                            ending: Ending::Partial { committed: n },
                            rows,
                        });
                    }
                    Ok(_) => Ok(()),
                    Err(StorageError::Search(e)) => Err(e),
                    Err(e) => return Err(storage_error(e)),
                }
            }
        };
        ran.map_err(|e| match e {
            SearchError::Interrupted { committed } => Error::Stopped {
                dir: dir.to_path_buf(),
                committed,
            },
            e => Error::Failed(format!("{}: {e}", dir.display())),
        })?;
        journal.finish().map_err(failed)?;
        Ok(Finished {
            dir: dir.to_path_buf(),
            ending: Ending::Complete,
            rows: self.rows(dir, &columns)?,
        })
    }

    fn rows(&self, dir: &Path, columns: &Columns) -> Result<Vec<Row>, Error> {
        journal::read_rows(&dir.join("trials.csv"), columns, &self.spec.root().hex())
            .map_err(failed)
    }

    /// Drive the search from outside, trial by trial, into `dir` (created,
    /// or resumed as [`Search::run`] resumes it): see [`AskTell`]. The
    /// objective's code is not needed; the journal is the one a run would
    /// write when every trial is told the evaluation the run would make.
    pub fn ask_tell(&self, dir: impl AsRef<Path>) -> Result<AskTell<'_>, Error> {
        AskTell::open(self, dir.as_ref())
    }

    /// [`Search::ask_tell`] for a search shared with the caller, for an
    /// owner that cannot hold a borrow (the Python package's study).
    pub fn ask_tell_shared(
        self: std::sync::Arc<Search>,
        dir: impl AsRef<Path>,
    ) -> Result<AskTell<'static>, Error> {
        AskTell::open_shared(self, dir.as_ref())
    }
}

fn storage_error(e: StorageError) -> Error {
    match e {
        StorageError::Input(m) => Error::Input(m),
        StorageError::Failed(m) => Error::Failed(m),
        StorageError::Search(e) => Error::Failed(e.to_string()),
    }
}

/// Whether no committed trial succeeded (the CLI's exit status 1).
pub fn none_succeeded(rows: &[Row]) -> bool {
    rows.iter().all(|r| r.status != Status::Ok)
}
