//! Values between Python and the engine: parameters, result maps, search
//! files written as dicts, and the rows of a journal.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use hpsearch::journal::Row;
use hpsearch::space::{Domain, Space};
use hpsearch::value::{Params, Value};

/// A parameter value as the Python object the objective receives.
pub fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
    })
}

/// A trial's parameters as a dict, in name order.
pub fn params_to_py<'py>(py: Python<'py>, params: &Params) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in params {
        d.set_item(k, value_to_py(py, v)?)?;
    }
    Ok(d)
}

/// A Python object as JSON, as a program's result line would carry it: a
/// number no `f64` holds, NaN or an infinity becomes null (as the command
/// protocol keeps it); an object JSON cannot say becomes its `str`.
pub fn py_to_json(v: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    use serde_json::Value as J;
    if v.is_none() {
        return Ok(J::Null);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(J::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(J::from(i));
        }
        if let Ok(u) = v.extract::<u64>() {
            return Ok(J::from(u));
        }
        return Ok(float_json(v.extract::<f64>()?));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(float_json(v.extract::<f64>()?));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(J::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut m = serde_json::Map::new();
        for (k, x) in d.iter() {
            m.insert(k.str()?.to_cow()?.into_owned(), py_to_json(&x)?);
        }
        return Ok(J::Object(m));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for x in v.try_iter()? {
            out.push(py_to_json(&x?)?);
        }
        return Ok(J::Array(out));
    }
    // A numpy scalar and the like: a number if it says it is one.
    if let Ok(f) = v.extract::<f64>() {
        return Ok(float_json(f));
    }
    Ok(J::String(v.str()?.to_cow()?.into_owned()))
}

fn float_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// A search file written as a dict (the TOML's tables as dicts) as TOML
/// text, so that it is read, checked and hashed as a file would be.
pub fn dict_to_toml(d: &Bound<'_, PyDict>) -> PyResult<String> {
    let toml::Value::Table(t) = py_to_toml(d.as_any(), "")? else {
        return Err(PyValueError::new_err("the search must be a dict"));
    };
    toml::to_string(&t).map_err(|e| PyValueError::new_err(format!("the search as TOML: {e}")))
}

fn py_to_toml(v: &Bound<'_, PyAny>, key: &str) -> PyResult<toml::Value> {
    let bad = |what: &str| {
        PyValueError::new_err(format!(
            "{}: {what} has no TOML form; use a bool, int, float, str, list or dict",
            if key.is_empty() { "the search" } else { key }
        ))
    };
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(toml::Value::Boolean(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        return v
            .extract::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| bad("an integer past 64 bits"));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(v.extract::<f64>()?));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(toml::Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut t = toml::Table::new();
        for (k, x) in d.iter() {
            let Ok(k) = k
                .cast::<PyString>()
                .map(|k| k.to_cow().map(|c| c.into_owned()))
            else {
                return Err(bad(&format!("the key {}", k.repr()?)));
            };
            let k = k?;
            if x.is_none() {
                continue; // None: not given (the default applies)
            }
            let path = if key.is_empty() {
                k.clone()
            } else {
                format!("{key}.{k}")
            };
            t.insert(k, py_to_toml(&x, &path)?);
        }
        return Ok(toml::Value::Table(t));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for x in v.try_iter()? {
            out.push(py_to_toml(&x?, key)?);
        }
        return Ok(toml::Value::Array(out));
    }
    if let Ok(f) = v.extract::<f64>() {
        return Ok(toml::Value::Float(f));
    }
    Err(bad(&format!("{}", v.get_type().name()?)))
}

/// A parameter cell of `trials.csv` as the value it was written from (the
/// space says its type); an empty cell is `None` (not given).
fn cell_value<'py>(
    py: Python<'py>,
    space: &Space,
    name: &str,
    text: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    if text.is_empty() {
        return Ok(None);
    }
    let domain = space
        .params
        .iter()
        .find(|p| p.name == name)
        .map(|p| &p.domain);
    let value = match domain {
        Some(Domain::Float { .. }) => text.parse::<f64>().ok().map(Value::Float),
        Some(Domain::Int { .. }) => text.parse::<i64>().ok().map(Value::Int),
        Some(Domain::Categorical { choices }) | Some(Domain::Values { values: choices }) => {
            choices.iter().find(|c| c.to_string() == text).cloned()
        }
        None => None,
    };
    match value {
        Some(v) => value_to_py(py, &v).map(Some),
        None => Ok(Some(PyString::new(py, text).into_any())),
    }
}

/// A committed trial as the dict the Python layer makes a `FrozenTrial`
/// of: `extra` pairs each result column's name with its cell.
pub fn row_to_py<'py>(
    py: Python<'py>,
    space: &Space,
    extra_names: &[String],
    row: &Row,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("number", row.trial)?;
    d.set_item("seed", row.seed)?;
    d.set_item("status", row.status.name())?;
    d.set_item("value", row.value)?;
    let params = PyDict::new(py);
    for (name, text) in &row.params {
        if let Some(v) = cell_value(py, space, name, text)? {
            params.set_item(name, v)?;
        }
    }
    d.set_item("params", params)?;
    d.set_item("folds", row.folds.clone())?;
    let extra = PyList::empty(py);
    for (name, cell) in extra_names.iter().zip(&row.extra) {
        extra.append((name, cell))?;
    }
    d.set_item("extra", extra)?;
    d.set_item("steps", row.steps.clone())?;
    d.set_item("error", &row.error)?;
    Ok(d)
}
