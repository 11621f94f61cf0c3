//! The pure half of `fleetpath-aws`: an S3 HEAD response read into an artifact's availability,
//! and the restore request for an archived object. The host makes the calls.

use fleetpath::{Artifact, RestoreTier, RestoreTimes, StorageClass};
use fleetpath_aws::{HeadFields, RestoreRequest};
use napi::Either;
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{Doc, Json, choice, document, instant, int32, opt_document, s3, to_js};
use crate::{Result, core, guard};

/// A HEAD response (the SDK's output object, or its JSON text).
fn response(head: Doc) -> Result<Value> {
    match head.into_value("head")? {
        Value::String(text) => fleetpath::document::from_str("HEAD response", &text).map_err(core),
        value => Ok(value),
    }
}

/// The fields fleetpath reads from a HEAD response (storage class, restore status, size,
/// checksum), checked.
#[napi(ts_args_type = "head: object | string", ts_return_type = "Record<string, unknown>")]
pub fn head_fields(head: Doc) -> Result<Json> {
    guard(|| to_js(&HeadFields::from_response(&response(head)?).map_err(|e| s3(&e))?))
}

/// Options of `observeHead`.
#[napi(object, object_to_js = false)]
pub struct ObserveOptions {
    /// The artifact the manifest names (its size and SHA-256 are checked against the object).
    #[napi(ts_type = "Artifact | null")]
    pub artifact: Option<Doc>,
    /// When a restore was requested, if one was.
    #[napi(ts_type = "Date | string | number | null")]
    pub restore_since: Option<Either<String, f64>>,
    /// The restore tier (`standard`, `bulk`, `expedited`).
    pub tier: Option<String>,
    /// Expected restore times per class and tier.
    #[napi(ts_type = "object | null")]
    pub restore_times: Option<Doc>,
}

/// An artifact's availability from a HEAD response (`undefined`/`null` head: the object is
/// missing), and what the size and SHA-256 check verified (`null` without an artifact to check).
#[napi(
    ts_args_type = "head: object | string, now: Date | string | number, options?: ObserveOptions",
    ts_return_type = "{ availability: Availability; integrity: { size: boolean; sha256: 'checksum' | 'metadata' | 'not_reported' } | null }"
)]
pub fn observe_head(head: Doc, now: Either<String, f64>, options: Option<ObserveOptions>) -> Result<Json> {
    guard(|| {
        let fields = HeadFields::from_response(&response(head)?).map_err(|e| s3(&e))?;
        let now = instant(now, "now")?;
        let (artifact, since, tier, times) = match options {
            Some(o) => (o.artifact, o.restore_since, o.tier, o.restore_times),
            None => (None, None, None, None),
        };
        let artifact: Option<Artifact> = artifact.filter(|a| !a.is_null()).map(document).transpose()?;
        let since = since.map(|s| instant(s, "restoreSince")).transpose()?;
        let tier: RestoreTier = tier.map(choice).transpose()?.unwrap_or(RestoreTier::Standard);
        let times: RestoreTimes = opt_document(times)?;
        let key = artifact.as_ref().map_or("", |a| a.key.as_str());
        let observed = fields.observe(key, artifact.as_ref(), since.unwrap_or(now), tier, &times);
        to_js(&observed.map_err(|e| s3(&e))?)
    })
}

/// The availability of an object that does not exist.
#[napi(ts_return_type = "Availability")]
pub fn missing() -> Result<Json> {
    to_js(&fleetpath::Availability::Missing)
}

/// The S3 `RestoreObject` request for an archived object of `storageClass`.
#[napi(
    ts_args_type = "storageClass: string, tier?: string | null, days?: number | null",
    ts_return_type = "{ Days?: number; GlacierJobParameters: { Tier: string } }"
)]
pub fn restore_request(storage_class: String, tier: Option<String>, days: Option<f64>) -> Result<Json> {
    guard(|| {
        let class: StorageClass = choice(storage_class)?;
        let tier: RestoreTier = tier.map(choice).transpose()?.unwrap_or(RestoreTier::Standard);
        let days = days.map(|d| int32(d, "days")).transpose()?.unwrap_or(7);
        to_js(&RestoreRequest::new(class, tier, days).map_err(|e| s3(&e))?)
    })
}
