//! The pure half of `fleetpath-aws`: an S3 HEAD response read into an artifact's availability,
//! and the restore request for an archived object. The host makes the calls.

use fleetpath::{Artifact, RestoreTier, RestoreTimes, StorageClass};
use fleetpath_aws::{HeadFields, RestoreRequest};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::convert::{absent, choice, document, instant, int, json, opt_document, property, s3, to_js};
use crate::{Result, core};

/// A HEAD response (the SDK's output object, or its JSON text).
fn response(head: &JsValue) -> Result<Value> {
    match json(head, "head")? {
        Value::String(text) => fleetpath::document::from_str("HEAD response", &text).map_err(core),
        value => Ok(value),
    }
}

/// The fields fleetpath reads from a HEAD response (storage class, restore status, size,
/// checksum), checked.
#[wasm_bindgen(js_name = "headFields")]
pub fn head_fields(head: JsValue) -> Result<JsValue> {
    to_js(&HeadFields::from_response(&response(&head)?).map_err(|e| s3(&e))?)
}

/// An artifact's availability from a HEAD response (`undefined`/`null` head: the object is
/// missing). Options: `artifact` (its size and SHA-256 are checked against the object),
/// `restore_since` (when a restore was requested), `tier`, `restore_times`.
#[wasm_bindgen(js_name = "observeHead")]
pub fn observe_head(head: JsValue, now: JsValue, options: JsValue) -> Result<JsValue> {
    let fields = HeadFields::from_response(&response(&head)?).map_err(|e| s3(&e))?;
    let now = instant(&now, "now")?;
    let option = |key: &str| Some(property(&options, key)).filter(|v| !absent(v));
    let artifact: Option<Artifact> = option("artifact").map(|a| document(&a, "artifact")).transpose()?;
    let since = option("restore_since").map(|s| instant(&s, "restore_since")).transpose()?;
    let tier: RestoreTier = option("tier").map(|t| choice(&t, "tier")).transpose()?.unwrap_or(RestoreTier::Standard);
    let times: RestoreTimes = opt_document(&property(&options, "restore_times"), "restore_times")?;
    let key = artifact.as_ref().map_or("", |a| a.key.as_str());
    let observed = fields.observe(key, artifact.as_ref(), since.unwrap_or(now), tier, &times);
    to_js(&observed.map_err(|e| s3(&e))?)
}

/// The availability of an object that does not exist.
#[wasm_bindgen]
pub fn missing() -> Result<JsValue> {
    to_js(&fleetpath::Availability::Missing)
}

/// The S3 `RestoreObject` request for an archived object of `storageClass`.
#[wasm_bindgen(js_name = "restoreRequest")]
pub fn restore_request(storage_class: JsValue, tier: JsValue, days: JsValue) -> Result<JsValue> {
    let class: StorageClass = choice(&storage_class, "storage_class")?;
    let tier: RestoreTier = if absent(&tier) { RestoreTier::Standard } else { choice(&tier, "tier")? };
    let days = if absent(&days) { 7 } else { int(&days, "days", u64::from(u32::MAX))? };
    let days = u32::try_from(days).unwrap_or(u32::MAX);
    to_js(&RestoreRequest::new(class, tier, days).map_err(|e| s3(&e))?)
}
