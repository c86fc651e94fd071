//! A Python callable as the objective of an `external` search, and the
//! trial object it receives (also what `Study.ask` hands out).
//!
//! The callable runs on the search's worker threads, each taking the GIL
//! only for the call: a CPU-bound objective in pure Python therefore runs
//! one at a time, whatever `threads` says (the README says so, and points
//! to `command` programs or code that releases the GIL).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyException, PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyTuple};

use hpsearch::engine::Reports;
use hpsearch::interrupt::StopToken;
use hpsearch::objective::{Evaluation, Objective, TrialInfo};
use hpsearch::value::Params;

use crate::convert::{params_to_py, py_to_json};

pyo3::create_exception!(
    _native,
    TrialPruned,
    PyException,
    "Raised by an objective to end its trial as pruned at its last reported value (as Optuna's TrialPruned)."
);

/// The longest traceback kept in a failed trial's `error` (its end).
const MAX_ERROR: usize = 4000;

/// One trial: its number, seed and parameters, and where intermediate
/// values are reported and the pruner asked.
#[pyclass(frozen, module = "hpsearch._native")]
pub struct Trial {
    index: u64,
    seed: u64,
    params: Py<PyDict>,
    /// `None` once the trial is settled (told, or its call returned).
    reports: Mutex<Option<Reports>>,
    stop: Option<StopToken>,
}

impl Trial {
    pub fn new(
        py: Python<'_>,
        index: u64,
        seed: u64,
        params: &Params,
        reports: Reports,
        stop: Option<StopToken>,
    ) -> PyResult<Trial> {
        Ok(Trial {
            index,
            seed,
            params: params_to_py(py, params)?.unbind(),
            reports: Mutex::new(Some(reports)),
            stop,
        })
    }

    /// The trial index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Put back what `take_reports` took (a tell that was refused).
    pub fn restore_reports(&self, reports: Reports) {
        if let Ok(mut r) = self.reports.lock() {
            *r = Some(reports);
        }
    }

    /// What was reported, taken out: the trial is settled.
    pub fn take_reports(&self) -> Option<Reports> {
        self.reports.lock().ok().and_then(|mut r| r.take())
    }

    fn with_reports<T>(&self, f: impl FnOnce(&mut Reports) -> T) -> PyResult<T> {
        let mut guard = self
            .reports
            .lock()
            .map_err(|_| PyValueError::new_err("the trial's record is poisoned"))?;
        match guard.as_mut() {
            Some(r) => Ok(f(r)),
            None => Err(PyValueError::new_err(format!(
                "trial {} is finished: report and should_prune only while it runs",
                self.index
            ))),
        }
    }

    fn param(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        match self.params.bind(py).get_item(name)? {
            Some(v) => Ok(v.unbind()),
            None => Err(PyKeyError::new_err(format!(
                "{name}: not a parameter of this search's space (the space is declared up front; \
                 add `{name}` to it)"
            ))),
        }
    }
}

#[pymethods]
impl Trial {
    /// The trial's index, from 0 (Optuna's `number`).
    #[getter]
    fn number(&self) -> u64 {
        self.index
    }

    /// The trial's seed: seed the objective's randomness with it.
    #[getter]
    fn seed(&self) -> u64 {
        self.seed
    }

    /// The parameters, a new dict each time.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.params.bind(py).copy()
    }

    /// Whether the search was asked to stop (Ctrl-C): a long objective
    /// may return early; its trial is dropped and runs again on resume.
    #[getter]
    fn should_stop(&self) -> bool {
        self.stop.as_ref().is_some_and(StopToken::is_stopped)
    }

    /// Report an intermediate `value` at `step` (steps strictly
    /// increasing, values finite): a bad report raises ValueError and
    /// fails the trial.
    fn report(&self, value: f64, step: u64) -> PyResult<()> {
        self.with_reports(|r| r.report(step, value))?
            .map_err(PyValueError::new_err)
    }

    /// With a pruner: whether to stop now, given the values reported so
    /// far. Once true, the trial is pruned at that step, whatever it
    /// returns afterwards.
    fn should_prune(&self) -> PyResult<bool> {
        self.with_reports(Reports::should_prune)
    }

    /// The value of parameter `name` (the space is declared up front; the
    /// other arguments, Optuna's bounds, are ignored), so an Optuna
    /// objective runs unchanged.
    #[pyo3(signature = (name, *_args, **_kwargs))]
    fn suggest_float(
        &self,
        py: Python<'_>,
        name: &str,
        _args: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        self.param(py, name)
    }

    /// As `suggest_float`.
    #[pyo3(signature = (name, *_args, **_kwargs))]
    fn suggest_int(
        &self,
        py: Python<'_>,
        name: &str,
        _args: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        self.param(py, name)
    }

    /// As `suggest_float`.
    #[pyo3(signature = (name, *_args, **_kwargs))]
    fn suggest_categorical(
        &self,
        py: Python<'_>,
        name: &str,
        _args: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        self.param(py, name)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Trial(number={}, seed={}, params={})",
            self.index,
            self.seed,
            self.params.bind(py).repr()?
        ))
    }
}

/// What an objective returned, as the evaluation to record: a number, or
/// a dict with a `value` key whose other keys are result columns (the
/// declared `columns`, then the rest as JSON, as a program's result line).
pub fn returned(v: &Bound<'_, PyAny>, columns: &[String]) -> Evaluation {
    if !v.is_instance_of::<PyBool>() {
        if let Ok(x) = v.extract::<f64>() {
            return Evaluation::ok(x, Vec::new());
        }
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let map = match py_to_json(d.as_any()) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => serde_json::Map::new(),
            Err(e) => {
                return Evaluation::failed(format!("the objective's result: {e}"), Vec::new())
            }
        };
        // A non-finite value is said as a program's result line says it
        // (JSON keeps NaN and infinities only as null).
        if let Ok(Some(x)) = d.get_item("value") {
            if let (false, Ok(f)) = (x.is_instance_of::<PyBool>(), x.extract::<f64>()) {
                if !f.is_finite() {
                    let shown = match f {
                        f if f.is_nan() => "NaN",
                        f if f > 0.0 => "Infinity",
                        _ => "-Infinity",
                    };
                    return Evaluation::non_finite_result(columns, &map, shown);
                }
            }
        }
        return Evaluation::from_result(columns, &map);
    }
    let shown = v
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "an object".into());
    Evaluation::failed(
        format!(
            "the objective returned {}; return a float or a dict with a \"value\" key",
            clip(&shown, 200)
        ),
        Vec::new(),
    )
}

/// What an exception raised by the objective makes of the trial:
/// `TrialPruned` prunes it at its last report; KeyboardInterrupt and
/// SystemExit stop the search (the trial runs again on resume); anything
/// else fails it with the traceback in `error`.
pub fn raised(
    py: Python<'_>,
    err: PyErr,
    reports: &mut Reports,
    stop: Option<&StopToken>,
) -> Evaluation {
    if err.is_instance_of::<TrialPruned>(py) {
        if reports.prune_now() {
            // `settle` turns it into the pruned record.
            return Evaluation::failed(String::new(), Vec::new());
        }
        return Evaluation::failed(
            "raised TrialPruned before reporting a value; call trial.report(value, step) first"
                .into(),
            Vec::new(),
        );
    }
    if !err.is_instance_of::<PyException>(py) {
        if let Some(s) = stop {
            s.stop();
        }
        return Evaluation::interrupted();
    }
    Evaluation::failed(traceback(py, &err), Vec::new())
}

/// The exception's traceback as Python prints it, at most `MAX_ERROR`
/// characters (its end, where the error is).
fn traceback(py: Python<'_>, err: &PyErr) -> String {
    let text = py
        .import("traceback")
        .and_then(|tb| {
            tb.call_method1(
                "format_exception",
                (err.get_type(py), err.value(py), err.traceback(py)),
            )
        })
        .and_then(|lines| {
            let parts: Vec<String> = lines.extract()?;
            Ok(parts.concat())
        })
        .unwrap_or_else(|_| err.to_string());
    let text = text.trim_end();
    let count = text.chars().count();
    if count <= MAX_ERROR {
        text.to_string()
    } else {
        let tail: String = text.chars().skip(count - MAX_ERROR).collect();
        format!("…{tail}")
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let head: String = s.chars().take(n).collect();
        format!("{head}…")
    }
}

/// The Python threads running an objective call now, by thread ident:
/// Ctrl-C raises KeyboardInterrupt in each, so a trial that loops in
/// Python stops at its next bytecode (one blocked in C code returns first).
#[derive(Clone, Default)]
pub struct Running(Arc<Mutex<BTreeSet<u64>>>);

impl Running {
    fn enter(&self, _py: Python<'_>) -> u64 {
        // SAFETY: no precondition; it reads the OS thread's identifier.
        let id = unsafe { pyo3::ffi::PyThread_get_thread_ident() } as u64;
        if let Ok(mut set) = self.0.lock() {
            set.insert(id);
        }
        id
    }

    fn leave(&self, _py: Python<'_>, id: u64) {
        if let Ok(mut set) = self.0.lock() {
            set.remove(&id);
        }
    }

    /// Raise KeyboardInterrupt in every running call.
    pub fn interrupt(&self, _py: Python<'_>) {
        let ids: Vec<u64> = self
            .0
            .lock()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            // SAFETY: the GIL is held (`_py`), as the call requires; the
            // exception type is a borrowed, immortal built-in, and an id
            // that names no thread state is ignored (returns 0). Entering
            // and leaving the set happen under the GIL around the call, so
            // an id in the set is a thread inside it.
            unsafe {
                pyo3::ffi::PyThreadState_SetAsyncExc(
                    id as std::os::raw::c_long,
                    pyo3::ffi::PyExc_KeyboardInterrupt,
                );
            }
        }
    }
}

/// A Python callable `objective(trial)` as the search's objective.
pub struct PyObjective {
    pub func: Py<PyAny>,
    /// The declared result columns (`[objective] columns`).
    pub columns: Vec<String>,
    /// The threads inside `func` now.
    pub running: Running,
}

impl Objective for PyObjective {
    fn evaluate(&self, params: &Params, info: &TrialInfo<'_>) -> Evaluation {
        let reports = Reports::new(info.pruner.cloned());
        Python::attach(|py| {
            let trial = match Trial::new(
                py,
                info.index,
                info.seed,
                params,
                reports,
                info.stop.cloned(),
            )
            .and_then(|t| Bound::new(py, t))
            {
                Ok(t) => t,
                Err(e) => {
                    return Evaluation::failed(format!("the trial's object: {e}"), Vec::new())
                }
            };
            let id = self.running.enter(py);
            let out = self.func.call1(py, (trial.clone(),));
            self.running.leave(py, id);
            let mut reports = trial.get().take_reports().unwrap_or_default();
            let eval = match out {
                Ok(v) => returned(v.bind(py), &self.columns),
                Err(e) => raised(py, e, &mut reports, info.stop),
            };
            reports.settle(eval)
        })
    }

    fn n_folds(&self) -> usize {
        0
    }
}
