//! The pure half of `fleetpath-aws`: an S3 HEAD response read into an artifact's availability,
//! and the restore request for an archived object. The host makes the calls.

use fleetpath::{Artifact, RestoreTier, RestoreTimes, StorageClass};
use fleetpath_aws::{HeadFields, RestoreRequest};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::convert::{absent, choice, document, instant, int32, json, opt_document, property, s3, to_js};
use crate::{Result, core};

#[wasm_bindgen(typescript_custom_section)]
const OBSERVE_OPTIONS: &str = r"
/**
 * Options of `observeHead` (the same names as the Node addon's).
 */
export interface ObserveOptions {
  /** The artifact the manifest names (its size and SHA-256 are checked against the object). */
  artifact?: Artifact | null;
  /** When a restore was requested, if one was. */
  restoreSince?: Date | string | number | null;
  /** The restore tier (`standard`, `bulk`, `expedited`). */
  tier?: string | null;
  /** Expected restore times per class and tier. */
  restoreTimes?: object | null;
}
";

/// A HEAD response (the SDK's output object, or its JSON text).
fn response(head: &JsValue) -> Result<Value> {
    match json(head, "head")? {
        Value::String(text) => fleetpath::document::from_str("HEAD response", &text).map_err(core),
        value => Ok(value),
    }
}

/// The fields fleetpath reads from a HEAD response (storage class, restore status, size,
/// checksum), checked.
#[wasm_bindgen(js_name = "headFields", unchecked_return_type = "Record<string, unknown>")]
pub fn head_fields(#[wasm_bindgen(unchecked_param_type = "object | string")] head: JsValue) -> Result<JsValue> {
    to_js(&HeadFields::from_response(&response(&head)?).map_err(|e| s3(&e))?)
}

/// An artifact's availability from a HEAD response (`undefined`/`null` head: the object is
/// missing), and what the size and SHA-256 check verified (`null` without an artifact to check).
/// Options: `artifact` (its size and SHA-256 are checked against the object), `restoreSince`
/// (when a restore was requested), `tier`, `restoreTimes`.
#[wasm_bindgen(
    js_name = "observeHead",
    unchecked_return_type = "{ availability: Availability; integrity: { size: boolean; sha256: 'checksum' | 'metadata' | 'not_reported' } | null }"
)]
pub fn observe_head(
    #[wasm_bindgen(unchecked_param_type = "object | string")] head: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date | string | number")] now: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ObserveOptions")] options: JsValue,
) -> Result<JsValue> {
    let fields = HeadFields::from_response(&response(&head)?).map_err(|e| s3(&e))?;
    let now = instant(&now, "now")?;
    let option = |key: &str| Some(property(&options, key)).filter(|v| !absent(v));
    let artifact: Option<Artifact> = option("artifact").map(|a| document(&a, "artifact")).transpose()?;
    let since = option("restoreSince").map(|s| instant(&s, "restoreSince")).transpose()?;
    let tier: RestoreTier = option("tier").map(|t| choice(&t, "tier")).transpose()?.unwrap_or(RestoreTier::Standard);
    let times: RestoreTimes = opt_document(&property(&options, "restoreTimes"), "restoreTimes")?;
    let key = artifact.as_ref().map_or("", |a| a.key.as_str());
    let observed = fields.observe(key, artifact.as_ref(), since.unwrap_or(now), tier, &times);
    to_js(&observed.map_err(|e| s3(&e))?)
}

/// The availability of an object that does not exist.
#[wasm_bindgen(unchecked_return_type = "Availability")]
pub fn missing() -> Result<JsValue> {
    to_js(&fleetpath::Availability::Missing)
}

/// The S3 `RestoreObject` request for an archived object of `storageClass`.
#[wasm_bindgen(
    js_name = "restoreRequest",
    unchecked_return_type = "{ Days?: number; GlacierJobParameters: { Tier: string } }"
)]
pub fn restore_request(
    #[wasm_bindgen(js_name = "storageClass", unchecked_param_type = "string")] storage_class: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "string | null")] tier: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "number | null")] days: JsValue,
) -> Result<JsValue> {
    let class: StorageClass = choice(&storage_class, "storage_class")?;
    let tier: RestoreTier = if absent(&tier) { RestoreTier::Standard } else { choice(&tier, "tier")? };
    let days = if absent(&days) { 7 } else { int32(&days, "days")? };
    to_js(&RestoreRequest::new(class, tier, days).map_err(|e| s3(&e))?)
}
