//! The one place core errors become Python exceptions, and panics become `FleetpathError`
//! with code `internal` instead of crossing into Python.
//!
//! The exception classes live in the pure-Python module `fleetpath.errors` (generated from
//! [`fleetpath::ERROR_CODES`] and checked by the parity test), so they form a real hierarchy
//! that editors see: `FleetpathError(Exception)`, input errors also `ValueError`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// Raises the class registered for `code` with `message` and the error's `fields`.
fn raise(py: Python<'_>, code: &str, message: &str, fields: &serde_json::Map<String, serde_json::Value>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py.import("fleetpath.errors")?.getattr("error_class")?.call1((code,))?;
        let fields = pythonize::pythonize(py, fields).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let instance = class.call1((message, fields))?;
        instance.setattr("code", code)?;
        Ok(PyErr::from_value(instance))
    };
    // Only when the package itself is broken: still an exception, never a panic.
    build().unwrap_or_else(|e| PyRuntimeError::new_err(format!("[{code}] {message} (and fleetpath.errors: {e})")))
}

/// A core error as its Python exception.
pub(crate) fn core(py: Python<'_>, err: impl Into<fleetpath::Error>) -> PyErr {
    let err = err.into();
    raise(py, err.code(), &err.to_string(), &err.fields())
}

/// A `fleetpath-aws` error as its Python exception.
pub(crate) fn s3(py: Python<'_>, err: &fleetpath_aws::S3Error) -> PyErr {
    raise(py, err.code(), &err.to_string(), &err.fields())
}

/// A bug: `FleetpathError` with code `internal`.
pub(crate) fn internal(py: Python<'_>, message: impl Into<String>) -> PyErr {
    core(py, fleetpath::Error::Internal { message: message.into() })
}

/// Runs `f`, turning a panic into `FleetpathError` (code `internal`).
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(internal(py, what))
        }
    }
}

/// A serde value as Python objects (dicts, lists, str, int, float, bool, None).
pub(crate) fn to_py<'py, T: serde::Serialize + ?Sized>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| internal(py, format!("conversion to Python: {e}")))
}
