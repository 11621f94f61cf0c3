//! `fleetpath._native`: the pyo3 half of the `fleetpath` Python package. Wrappers only: the
//! core parses, validates and decides; the pure-Python package around it converts inputs
//! (paths, bytes, dicts, datetimes) and wraps results in frozen objects.
//!
//! The module names mirror the core's (`version`, `graph`, `fleet`, `rollout`, `health`, `decision`);
//! `errors` is the one place core errors become Python exceptions.

mod convert;
mod decision;
mod errors;
mod fleet;
mod graph;
mod health;
mod retry;
mod rollout;
mod s3;
mod version;

use pyo3::prelude::*;

/// Every core error code, grouped by module, and `fleetpath-aws`'s S3 codes (`fleetpath.ERROR_CODES`).
fn error_codes() -> Vec<(&'static str, Vec<&'static str>)> {
    let core = fleetpath::ERROR_CODES.iter().map(|(module, codes)| (*module, codes.to_vec()));
    core.chain(std::iter::once(("s3", fleetpath_aws::S3Error::CODES.to_vec()))).collect()
}

/// Panics on purpose, to test that a panic reaches Python as `FleetpathError` (`internal`).
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    errors::guard(py, || -> PyResult<()> { panic!("deliberate test panic") })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ERROR_CODES", error_codes())?;
    m.add("DECISION_REASONS", fleetpath::decision::reasons())?;
    m.add_class::<version::PyVersion>()?;
    m.add_class::<version::PyVersionRange>()?;
    m.add_class::<graph::PyGraph>()?;
    m.add_class::<graph::PyRouteTable>()?;
    m.add_class::<fleet::PyFleet>()?;
    m.add_class::<rollout::PyCalendar>()?;
    m.add_class::<rollout::PyRollout>()?;
    m.add_class::<decision::PyDecider>()?;
    m.add_class::<retry::PyRetryPolicy>()?;
    m.add("BUFFER_PROTOCOL", health::BUFFER_PROTOCOL)?;
    m.add_class::<health::PyHealthPolicy>()?;
    m.add_class::<health::PyHealthState>()?;
    m.add_function(wrap_pyfunction!(health::health_event, m)?)?;
    m.add_function(wrap_pyfunction!(health::_column_address, m)?)?;
    m.add_function(wrap_pyfunction!(s3::observe_head, m)?)?;
    m.add_function(wrap_pyfunction!(s3::head_fields, m)?)?;
    m.add_function(wrap_pyfunction!(s3::missing, m)?)?;
    m.add_function(wrap_pyfunction!(s3::restore_request, m)?)?;
    m.add_function(wrap_pyfunction!(rollout::py_plan_prefetch, m)?)?;
    m.add_function(wrap_pyfunction!(rollout::py_plan_rollout, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
