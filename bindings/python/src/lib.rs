//! `fleetpath._native`: the pyo3 half of the `fleetpath` Python package. Wrappers only: the
//! core parses, validates and decides; the pure-Python package around it converts inputs
//! (paths, bytes, dicts, datetimes) and wraps results in frozen objects.
//!
//! The module names mirror the core's (`version`, `graph`, `fleet`, `rollout`, `health`, `decision`);
//! `errors` is the one place core errors become Python exceptions.

mod arrow;
mod convert;
mod decision;
mod errors;
mod fleet;
mod graph;
mod health;
mod retry;
mod rollout;
mod s3;
mod table;
mod trust;
mod version;

use pyo3::prelude::*;

/// Panics on purpose, to test that a panic reaches Python as `FleetpathError` (`internal`).
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    errors::guard(py, || -> PyResult<()> { panic!("deliberate test panic") })
}

/// The native half of the `fleetpath` package.
#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::_panic_for_tests;
    #[pymodule_export]
    use crate::arrow::PyDecisionTable;
    #[pymodule_export]
    use crate::decision::{PyDecider, check_report};
    #[pymodule_export]
    use crate::fleet::PyFleet;
    #[pymodule_export]
    use crate::graph::{PyGraph, PyRouteTable};
    #[pymodule_export]
    use crate::health::{_column_address, PyHealthPolicy, PyHealthState, health_event};
    #[pymodule_export]
    use crate::retry::PyRetryPolicy;
    #[pymodule_export]
    use crate::rollout::{PyCalendar, PyRollout, default_rollout_policy, py_plan_prefetch, py_plan_rollout};
    #[pymodule_export]
    use crate::s3::{head_fields, missing, observe_head, restore_request};
    #[pymodule_export]
    use crate::trust::{
        key_from_seed, open_retry, public_key, seal_retry, sign, trusted_keys, verify, verify_signatures,
    };
    #[pymodule_export]
    use crate::version::{PyVersion, PyVersionRange};

    /// Whether columns can be read in place through the buffer protocol (stable ABI ≥ 3.11).
    #[pymodule_export]
    const BUFFER_PROTOCOL: bool = crate::health::BUFFER_PROTOCOL;

    /// The package's version.
    #[pymodule_export]
    #[allow(non_upper_case_globals)]
    const __version__: &str = env!("CARGO_PKG_VERSION");

    /// Every error code, by module: the core's, then `fleetpath-aws`'s (`s3`).
    #[pyfunction]
    fn error_codes() -> Vec<(&'static str, Vec<&'static str>)> {
        let s3 = ("s3", fleetpath_aws::S3Error::CODES);
        fleetpath::ERROR_CODES.iter().chain([&s3]).map(|(module, codes)| (*module, codes.to_vec())).collect()
    }

    /// Every reason a decision can give.
    #[pyfunction]
    fn decision_reasons() -> Vec<&'static str> {
        fleetpath::decision::reasons()
    }
}
