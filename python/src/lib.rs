//! `hpsearch._native`: the engine for the Python package (`pysrc/hpsearch`
//! wraps it). A search is read and checked as a search file is; it runs
//! into the ordinary results folder through `hpsearch::engine`, so the
//! journal is the CLI's, byte for byte.
//!
//! Ctrl-C: a run happens on a thread of its own while the calling thread
//! waits without the GIL and looks at Python's signals every 50 ms; a
//! KeyboardInterrupt stops the run (what is committed stays, the same call
//! resumes) and is raised again once the run has stopped.

mod convert;
mod objective;

use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use hpsearch::config::{Direction, ObjectiveSpec};
use hpsearch::engine::{self, AskTell as EngineAskTell, Ending, Next, RunOptions};
use hpsearch::interrupt::StopToken;
use hpsearch::journal::{Columns, Row};
use hpsearch::objective::Evaluation;

use objective::{PyObjective, Running, Trial, TrialPruned};

/// The `hpsearch` command line, compiled into the extension so the wheel's
/// `hpsearch` command is the Rust binary's own code.
#[path = "../../src/cli.rs"]
#[allow(dead_code)]
mod cli;

/// How often a waiting call looks at Ctrl-C.
const SIGNALS: Duration = Duration::from_millis(50);

fn engine_err(e: engine::Error) -> PyErr {
    match e {
        engine::Error::Input(m) => PyValueError::new_err(m),
        engine::Error::Failed(m) => PyRuntimeError::new_err(m),
        e @ engine::Error::Stopped { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
    }
}

/// The result columns an `external` objective declares.
fn declared_columns(spec: &hpsearch::config::Search) -> Vec<String> {
    spec.result_columns()
        .map(<[String]>::to_vec)
        .unwrap_or_default()
}

/// A search, read and checked, with its objective when it has one.
#[pyclass(frozen, module = "hpsearch._native")]
struct Search {
    inner: Arc<engine::Search>,
    /// The objective's calls in progress (Ctrl-C interrupts them).
    running: Running,
}

#[pymethods]
impl Search {
    /// The search file `text` (named `file` in errors; relative data paths
    /// are read from its folder), with `objective(trial)` as the code of
    /// an `[objective] external` search.
    #[new]
    #[pyo3(signature = (text, file, objective=None))]
    fn new(
        py: Python<'_>,
        text: String,
        file: PathBuf,
        objective: Option<Py<PyAny>>,
    ) -> PyResult<Search> {
        let search = py
            .detach(|| engine::Search::from_toml(&text, &file))
            .map_err(engine_err)?;
        let running = Running::default();
        let search = match objective {
            Some(func) => {
                let columns = declared_columns(search.spec());
                search
                    .with_objective(PyObjective {
                        func,
                        columns,
                        running: running.clone(),
                    })
                    .map_err(engine_err)?
            }
            None => search,
        };
        Ok(Search {
            inner: Arc::new(search),
            running,
        })
    }

    /// The root hash: the search's identity.
    #[getter]
    fn root(&self) -> String {
        self.inner.root()
    }

    /// The number of trials.
    #[getter]
    fn budget(&self) -> u64 {
        self.inner.budget()
    }

    /// "minimize" or "maximize".
    #[getter]
    fn direction(&self) -> &'static str {
        match self.inner.spec().direction {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        }
    }

    /// The objective's name (`external`, a model, a function, a command).
    #[getter]
    fn objective_name(&self) -> String {
        self.inner.spec().objective_name().to_string()
    }

    /// Whether the objective is external (its code given by the caller).
    #[getter]
    fn external(&self) -> bool {
        matches!(self.inner.spec().objective, ObjectiveSpec::External { .. })
    }

    /// Whether the search has the code to run (built in, or given).
    #[getter]
    fn runnable(&self) -> bool {
        self.inner.objective().is_some()
    }

    /// The parameter names, in name order.
    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.inner
            .spec()
            .space
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Run into `dir` (created, or resumed; a finished one is left as it
    /// is) on `threads` workers (default: one per core). Returns
    /// `(ending, rows)`; Ctrl-C stops the run and raises KeyboardInterrupt.
    #[pyo3(signature = (dir, threads=None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        dir: PathBuf,
        threads: Option<usize>,
    ) -> PyResult<(String, Bound<'py, PyList>)> {
        let search = Arc::clone(&self.inner);
        let stop = StopToken::new();
        let (result, interrupt) = py.detach(|| {
            let (tx, rx) = mpsc::channel();
            std::thread::scope(|s| {
                let token = stop.clone();
                let dir = &dir;
                let search = &search;
                s.spawn(move || {
                    let options = RunOptions {
                        threads,
                        stop: token,
                        ..RunOptions::default()
                    };
                    let _ = tx.send(search.run(dir, options));
                });
                let mut interrupt: Option<PyErr> = None;
                loop {
                    match rx.recv_timeout(SIGNALS) {
                        Ok(r) => return (Some(r), interrupt),
                        Err(mpsc::RecvTimeoutError::Disconnected) => return (None, interrupt),
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                    }
                    // Every Ctrl-C stops the run and interrupts the calls in
                    // progress again (one may have caught the first).
                    let signal = Python::attach(|py| {
                        py.check_signals().inspect_err(|_| {
                            stop.stop();
                            self.running.interrupt(py);
                        })
                    });
                    if let Err(e) = signal {
                        interrupt.get_or_insert(e);
                    }
                }
            })
        });
        let result = result.ok_or_else(|| {
            PyRuntimeError::new_err("hpsearch bug: the search thread panicked (please report it)")
        })?;
        match (result, interrupt) {
            // Stopped by Ctrl-C: say where the journal stands, as the CLI.
            (Err(e @ engine::Error::Stopped { .. }), Some(_)) => Err(engine_err(e)),
            (Err(e), _) => Err(engine_err(e)),
            // The run ended on its own before the stop reached it.
            (Ok(done), _) => {
                let ending = match done.ending {
                    Ending::Complete => "complete".to_string(),
                    Ending::AlreadyComplete => "already_complete".to_string(),
                    Ending::Partial { committed } => format!("partial:{committed}"),
                };
                Ok((ending, rows_to_py(py, &self.inner, &done.rows)?))
            }
        }
    }

    /// Drive the search trial by trial into `dir` (created, or resumed).
    fn ask_tell(&self, py: Python<'_>, dir: PathBuf) -> PyResult<AskTell> {
        let search = Arc::clone(&self.inner);
        let at = py
            .detach(|| search.ask_tell_shared(&dir))
            .map_err(engine_err)?;
        Ok(AskTell {
            search: Arc::clone(&self.inner),
            inner: Mutex::new(Some(at)),
        })
    }
}

fn rows_to_py<'py>(
    py: Python<'py>,
    search: &engine::Search,
    rows: &[Row],
) -> PyResult<Bound<'py, PyList>> {
    let n_folds = search.objective().map_or(0, |o| o.n_folds());
    let columns = Columns::new(search.spec(), n_folds);
    let out = PyList::empty(py);
    for r in rows {
        out.append(convert::row_to_py(
            py,
            &search.spec().space,
            &columns.extra,
            r,
        )?)?;
    }
    Ok(out)
}

/// A search driven trial by trial (Python's `Study.ask` and `Study.tell`).
#[pyclass(frozen, module = "hpsearch._native")]
struct AskTell {
    search: Arc<engine::Search>,
    /// `None` once finished.
    inner: Mutex<Option<EngineAskTell<'static>>>,
}

impl AskTell {
    fn with<T>(&self, f: impl FnOnce(&mut EngineAskTell<'static>) -> PyResult<T>) -> PyResult<T> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the study's state is poisoned"))?;
        match guard.as_mut() {
            Some(at) => f(at),
            None => Err(PyRuntimeError::new_err(
                "the study is finished; create it again to resume",
            )),
        }
    }
}

#[pymethods]
impl AskTell {
    /// The next trial, or None once the whole budget was asked. Raises
    /// RuntimeError when the window allows no new trial until earlier
    /// ones are told.
    fn ask(&self, py: Python<'_>) -> PyResult<Option<Trial>> {
        self.with(|at| match at.ask() {
            Next::Trial(a) => {
                let reports = a.reports();
                Trial::new(py, a.index, a.seed, &a.params, reports, None).map(Some)
            }
            Next::Done => Ok(None),
            Next::Wait => Err(PyRuntimeError::new_err(format!(
                "no trial can be asked until trials {:?} are told: this search proposes from \
                 the results of earlier trials (its window)",
                at.pending()
            ))),
        })
    }

    /// Record trial's result: `value` a number or a dict with `value`
    /// (state "complete"), or state "fail" (with `error`) or "pruned" (at
    /// its last reported value).
    #[pyo3(signature = (trial, value=None, state=None, error=None))]
    fn tell(
        &self,
        py: Python<'_>,
        trial: &Bound<'_, Trial>,
        value: Option<&Bound<'_, PyAny>>,
        state: Option<&str>,
        error: Option<String>,
    ) -> PyResult<()> {
        let t = trial.get();
        let columns = declared_columns(self.search.spec());
        let eval = match (state.unwrap_or("complete"), value) {
            ("complete", Some(v)) => objective::returned(v, &columns),
            ("complete", None) => {
                return Err(PyValueError::new_err(
                    "tell: give the trial's value (or state=\"fail\" or \"pruned\")",
                ))
            }
            ("fail", _) => Evaluation::failed(
                error.unwrap_or_else(|| "failed (told by the caller)".into()),
                Vec::new(),
            ),
            ("pruned", _) => Evaluation::failed(String::new(), Vec::new()),
            (other, _) => {
                return Err(PyValueError::new_err(format!(
                    "tell: state={other:?}; one of \"complete\", \"fail\", \"pruned\""
                )))
            }
        };
        let pruned = state == Some("pruned");
        let Some(mut reports) = t.take_reports() else {
            return Err(PyValueError::new_err(format!(
                "trial {} was already told",
                t.index()
            )));
        };
        if pruned && !reports.prune_now() {
            t.restore_reports(reports);
            return Err(PyValueError::new_err(format!(
                "tell: trial {} is pruned without a reported value; call trial.report(value, \
                 step) first",
                t.index()
            )));
        }
        let eval = reports.settle(eval);
        let index = t.index();
        py.detach(|| self.with(|at| at.tell(index, eval).map_err(engine_err)))
    }

    /// Trials committed to the journal so far.
    #[getter]
    fn committed(&self) -> PyResult<u64> {
        self.with(|at| Ok(at.committed()))
    }

    /// Asked and not yet told.
    #[getter]
    fn pending(&self) -> PyResult<Vec<u64>> {
        self.with(|at| Ok(at.pending()))
    }

    /// The committed trials so far.
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = self.with(|at| at.rows().map_err(engine_err))?;
        rows_to_py(py, &self.search, &rows)
    }

    /// Close the journal (finished when the budget is in it) and return
    /// the rows; asked but untold trials are asked again on resume.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let at = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the study's state is poisoned"))?
            .take();
        match at {
            Some(at) => {
                let rows = py.detach(|| at.finish()).map_err(engine_err)?;
                rows_to_py(py, &self.search, &rows)
            }
            None => Err(PyRuntimeError::new_err("the study is already finished")),
        }
    }
}

/// Retrain trial `trial` (default: the best) of the results folder `dir`
/// with its recorded parameters and seed, and compare with the journal bit
/// for bit (`hpsearch replay`). `objective` is the code of an `external`
/// search (not needed when its file gives a `command`). Returns a dict:
/// `trial`, `same`, `difference`, `status`, `value`, `skipped`.
#[pyfunction]
#[pyo3(signature = (dir, objective=None, trial=None))]
fn replay<'py>(
    py: Python<'py>,
    dir: PathBuf,
    objective: Option<Py<PyAny>>,
    trial: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let refused = |e: hpsearch::replay::ReplayError| PyValueError::new_err(e.to_string());
    let rec = py
        .detach(|| hpsearch::replay::open(&dir, None))
        .map_err(refused)?;
    let external = matches!(rec.search.objective, ObjectiveSpec::External { .. });
    let code = match objective {
        Some(_) if !external => {
            return Err(PyValueError::new_err(format!(
                "{}: the objective is built in ({}); replay it without an objective",
                dir.display(),
                rec.search.objective_name()
            )))
        }
        Some(func) => Some(PyObjective {
            func,
            columns: declared_columns(&rec.search),
            running: Running::default(),
        }),
        None if external && rec.search.runner().is_none() => {
            return Err(PyValueError::new_err(format!(
                "{}: the objective `{}` is external: give its code, \
                 hpsearch.replay(dir, objective)",
                dir.display(),
                rec.search.objective_name()
            )))
        }
        None => None,
    };
    let stop = StopToken::new();
    let done = py
        .detach(|| {
            let code = code
                .as_ref()
                .map(|c| c as &dyn hpsearch::objective::Objective);
            hpsearch::replay::replay_with(rec, trial, &stop, code)
        })
        .map_err(refused)?;
    let d = PyDict::new(py);
    d.set_item("trial", done.trial)?;
    d.set_item("same", done.difference.is_none())?;
    d.set_item("difference", done.difference)?;
    d.set_item("status", done.evaluation.status.name())?;
    d.set_item("value", done.evaluation.value)?;
    d.set_item("skipped", done.skipped)?;
    Ok(d)
}

/// A search file written as a dict, as TOML text.
#[pyfunction]
fn toml_from_dict(d: &Bound<'_, PyDict>) -> PyResult<String> {
    convert::dict_to_toml(d)
}

/// The `hpsearch` command line with `argv` (program name first); returns
/// the exit status.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    use clap::Parser;
    py.detach(|| {
        let parsed = match cli::Cli::try_parse_from(argv) {
            Ok(c) => c,
            Err(e) => {
                let _ = e.print();
                return e.exit_code();
            }
        };
        match cli::execute(parsed) {
            Ok(()) => 0,
            Err(f) => {
                eprintln!("{}: {}", f.label(), f.message);
                f.code
            }
        }
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Search>()?;
    m.add_class::<AskTell>()?;
    m.add_class::<Trial>()?;
    m.add("TrialPruned", m.py().get_type::<TrialPruned>())?;
    m.add_function(wrap_pyfunction!(toml_from_dict, m)?)?;
    m.add_function(wrap_pyfunction!(replay, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    Ok(())
}
