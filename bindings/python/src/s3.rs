//! `fleetpath.s3`: what a `HEAD` of an S3 object says about a firmware artifact, read by
//! `fleetpath-aws`'s pure header code (no SDK), so a Python host using boto3 gets the same
//! availability and integrity answers as the Rust store.

use fleetpath::{Artifact, RestoreTier, RestoreTimes, StorageClass};
use fleetpath_aws::object::{Head, restore_days, restoring_window};
use pyo3::prelude::*;
use serde::Deserialize;

use crate::errors::{guard, json, raise_with, to_py};
use crate::rollout::timestamp;

/// The `HEAD` response fields, as the Python layer gathers them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadFields {
    storage_class: Option<String>,
    archive_status: Option<String>,
    restore: Option<String>,
    content_length: Option<i64>,
    checksum_sha256: Option<String>,
    checksum_type: Option<String>,
    metadata_sha256: Option<String>,
}

/// What [`observe_head`] returns (fields in this order, as the Rust store's `Observation`).
#[derive(serde::Serialize)]
struct Observed {
    availability: fleetpath::Availability,
    integrity: Option<fleetpath_aws::object::Integrity>,
}

/// Availability (and, given the manifest's artifact, integrity) from a `HEAD` (its fields as
/// JSON): `{"availability": …, "integrity": … | None}`. A running restore began at
/// `restore_since` (the host's record of its request), else at `now`.
#[pyfunction]
#[pyo3(signature = (head_json, now, artifact_json=None, restore_since=None, tier="standard", restore_times_json=None))]
pub(crate) fn observe_head<'py>(
    py: Python<'py>,
    head_json: &str,
    now: &str,
    artifact_json: Option<&str>,
    restore_since: Option<&str>,
    tier: &str,
    restore_times_json: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let fields: HeadFields = json(py, "head", head_json)?;
    let now = timestamp(py, now)?;
    let since = restore_since.map(|s| timestamp(py, s)).transpose()?.unwrap_or(now);
    let artifact: Option<Artifact> = artifact_json.map(|a| json(py, "artifact", a)).transpose()?;
    let tier: RestoreTier = json(py, "tier", &serde_json::to_string(tier).unwrap_or_default())?;
    let times: RestoreTimes =
        restore_times_json.map_or_else(|| Ok(RestoreTimes::default()), |t| json(py, "restore times", t))?;
    guard(py, || {
        let head = Head {
            storage_class: fields.storage_class.as_deref(),
            archive_status: fields.archive_status.as_deref(),
            restore: fields.restore.as_deref(),
            content_length: fields.content_length,
            checksum_sha256: fields.checksum_sha256.as_deref(),
            checksum_type: fields.checksum_type.as_deref(),
            metadata_sha256: fields.metadata_sha256.as_deref(),
        };
        let integrity = match &artifact {
            Some(artifact) => Some(head.check(artifact).map_err(|e| {
                let fields = serde_json::to_value(&e).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default();
                raise_with(py, "integrity_mismatch", &e.to_string(), &fields)
            })?),
            None => None,
        };
        let availability = head
            .availability(|class| restoring_window(&times, class, tier, since))
            .map_err(|e| raise_with(py, "bad_header", &e.to_string(), &serde_json::Map::new()))?;
        to_py(py, &Observed { availability, integrity })
    })
}

/// The `RestoreRequest` of boto3's `restore_object` for an object of `class` at `tier`:
/// `{"Days": days, "GlacierJobParameters": {"Tier": "Standard"}}`, without `Days` for
/// Intelligent-Tiering's archive tiers (the rule of `fleetpath-aws`'s store). A tier the
/// class does not offer (Deep Archive has no Expedited) is refused.
#[pyfunction]
pub(crate) fn restore_request<'py>(
    py: Python<'py>,
    storage_class: &str,
    tier: &str,
    days: u32,
) -> PyResult<Bound<'py, PyAny>> {
    let class: StorageClass = json(py, "storage class", &serde_json::to_string(storage_class).unwrap_or_default())?;
    let tier: RestoreTier = json(py, "tier", &serde_json::to_string(tier).unwrap_or_default())?;
    guard(py, || {
        if RestoreTimes::default().duration(class, tier).is_none() {
            let mut fields = serde_json::Map::new();
            fields.insert("class".into(), serde_json::to_value(class).unwrap_or_default());
            fields.insert("tier".into(), serde_json::to_value(tier).unwrap_or_default());
            return Err(raise_with(
                py,
                "tier_unavailable",
                &format!("RestoreObject: {class:?} has no {tier:?} restore"),
                &fields,
            ));
        }
        let tier_name = match tier {
            RestoreTier::Expedited => "Expedited",
            RestoreTier::Standard => "Standard",
            RestoreTier::Bulk => "Bulk",
        };
        let mut request = serde_json::Map::new();
        if let Some(days) = restore_days(class, days) {
            request.insert("Days".into(), days.into());
        }
        request.insert("GlacierJobParameters".into(), serde_json::json!({ "Tier": tier_name }));
        to_py(py, &request)
    })
}
