//! `fleetpath.s3`: what a `HEAD` of an S3 object says about a firmware artifact, read by
//! `fleetpath-aws`'s pure code (no SDK), so a Python host using boto3 gets the same
//! availability and integrity answers as the Rust store.

use fleetpath::{Artifact, Availability, RestoreTier, RestoreTimes, StorageClass};
use fleetpath_aws::{HeadFields, RestoreRequest};
use pyo3::prelude::*;

use crate::convert::{Source, choice, document, instant, int, opt, opt_document, source};
use crate::errors::{core, guard, s3, to_py};

/// A `HEAD` response (boto3's `head_object` dict, or raw HTTP headers) as JSON.
fn response(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    match source(obj, "response")? {
        Source::Value(value) => Ok(value),
        Source::Text(text) => fleetpath::document::from_str("HEAD response", &text).map_err(|e| core(obj.py(), e)),
    }
}

/// The fields the rules read, from a `HEAD` response.
#[pyfunction]
pub(crate) fn head_fields<'py>(py: Python<'py>, head: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || to_py(py, &HeadFields::from_response(&response(head)?).map_err(|e| s3(py, &e))?))
}

/// Availability (and, given the manifest's artifact, integrity) from a `HEAD` response:
/// `{"availability": …, "integrity": … | None}`. A running restore began at `restore_since`
/// (the host's record of its request), else at `now`.
#[pyfunction]
#[pyo3(signature = (head, now, artifact=None, restore_since=None, tier=None, restore_times=None))]
pub(crate) fn observe_head<'py>(
    py: Python<'py>,
    head: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
    artifact: Option<&Bound<'py, PyAny>>,
    restore_since: Option<&Bound<'py, PyAny>>,
    tier: Option<&Bound<'py, PyAny>>,
    restore_times: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let fields = HeadFields::from_response(&response(head)?).map_err(|e| s3(py, &e))?;
        let now = instant(now, "now")?;
        let since = opt(restore_since, |s| instant(s, "restore_since"))?;
        let artifact: Option<Artifact> = opt(artifact, |a| document(a, "artifact"))?;
        let tier: RestoreTier = opt(tier, |t| choice(t, "tier"))?.unwrap_or(RestoreTier::Standard);
        let times: RestoreTimes = opt_document(restore_times, "restore_times")?;
        let key = artifact.as_ref().map_or("", |a| a.key.as_str());
        let observed = fields.observe(key, artifact.as_ref(), since.unwrap_or(now), tier, &times);
        to_py(py, &observed.map_err(|e| s3(py, &e))?)
    })
}

/// The availability of an object S3 answered 404 for.
#[pyfunction]
pub(crate) fn missing(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &Availability::Missing)
}

/// boto3's `RestoreRequest` for an object of `storage_class` at `tier`.
#[pyfunction]
#[pyo3(signature = (storage_class, tier=None, days=None))]
pub(crate) fn restore_request<'py>(
    py: Python<'py>,
    storage_class: &Bound<'py, PyAny>,
    tier: Option<&Bound<'py, PyAny>>,
    days: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let class: StorageClass = choice(storage_class, "storage_class")?;
        let tier: RestoreTier = opt(tier, |t| choice(t, "tier"))?.unwrap_or(RestoreTier::Standard);
        let days = opt(days, |d| int(d, "days", "0 to 4294967295"))?.unwrap_or(7);
        to_py(py, &RestoreRequest::new(class, tier, days).map_err(|e| s3(py, &e))?)
    })
}
