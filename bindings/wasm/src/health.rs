//! `HealthPolicy`, `HealthState`, `healthEvent` and `healthReportText`.

use std::sync::Arc;

use fleetpath::health::{CohortDevice, HealthReport, SampleView};
use wasm_bindgen::prelude::*;

use crate::convert::{count, document, instant, invalid, kind, opt_document, property, text, texts, to_js};
use crate::handles::{Handle, find};
use crate::{Result, core};

/// A health policy: which metrics, which rules, how long a baseline and observation.
#[wasm_bindgen]
pub struct HealthPolicy {
    inner: Arc<fleetpath::health::HealthPolicy>,
    handle: Handle,
}

/// The policy an argument names: a `HealthPolicy`, or the seed's defaults when absent.
fn policy_of(value: &JsValue) -> Result<fleetpath::health::HealthPolicy> {
    Ok(find::<fleetpath::health::HealthPolicy>(value, "policy", "HealthPolicy")?
        .as_deref()
        .cloned()
        .unwrap_or_default())
}

#[wasm_bindgen]
impl HealthPolicy {
    /// The seed's defaults (7-day baseline, 24 h observation), or the policy document given.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "string | Uint8Array | object | null")] policy: JsValue,
    ) -> Result<HealthPolicy> {
        let inner = Arc::new(opt_document(&policy, "policy")?);
        Ok(Self { handle: Handle::register(&inner), inner })
    }

    /// The number other calls find this policy by.
    #[wasm_bindgen(getter, js_name = "_handle")]
    pub fn handle(&self) -> u32 {
        self.handle.id()
    }

    /// The policy with every default filled in, as a plain object.
    #[wasm_bindgen(js_name = "toJSON", unchecked_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> Result<JsValue> {
        to_js(&*self.inner)
    }
}

/// Whole numbers of a plain array column, each checked.
fn whole<T: TryFrom<i64>>(array: &js_sys::Array, what: &str, range: &str) -> Result<Vec<T>> {
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let refused =
                || invalid(&format!("{what}[{i}]"), range, v.as_f64().map_or_else(|| kind(&v), |n| format!("{n}")));
            let n = v.as_f64().ok_or_else(refused)?;
            #[allow(clippy::cast_possible_truncation)]
            let whole = (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64);
            whole.and_then(|w| T::try_from(w).ok()).ok_or_else(refused)
        })
        .collect()
}

/// The device column: a `Uint32Array` or an array of device indices.
fn device_column(value: &JsValue) -> Result<Vec<u32>> {
    if let Some(typed) = value.dyn_ref::<js_sys::Uint32Array>() {
        return Ok(typed.to_vec());
    }
    match value.dyn_ref::<js_sys::Array>() {
        Some(array) => whole(array, "device", "a device index (0 to 4294967295)"),
        None => Err(invalid("device", "a Uint32Array or an array of device indices", kind(value))),
    }
}

/// The time column: a `BigInt64Array` or an array of whole unix seconds.
fn time_column(value: &JsValue) -> Result<Vec<i64>> {
    if let Some(typed) = value.dyn_ref::<js_sys::BigInt64Array>() {
        return Ok(typed.to_vec());
    }
    match value.dyn_ref::<js_sys::Array>() {
        Some(array) => whole(array, "time", "whole unix seconds"),
        None => Err(invalid("time", "a BigInt64Array or an array of unix seconds", kind(value))),
    }
}

/// A metric column: a `Float64Array`, or an array of numbers with `null` for a missing value.
fn value_column(value: &JsValue, what: &str) -> Result<Vec<f64>> {
    if let Some(typed) = value.dyn_ref::<js_sys::Float64Array>() {
        return Ok(typed.to_vec());
    }
    let expected = "a Float64Array or an array of numbers (null when missing)";
    let array = value.dyn_ref::<js_sys::Array>().ok_or_else(|| invalid(what, expected, kind(value)))?;
    array
        .iter()
        .map(|v| {
            if v.is_null() { Ok(f64::NAN) } else { v.as_f64().ok_or_else(|| invalid(what, expected, "another value")) }
        })
        .collect()
}

/// Followed devices' health summaries: ingest samples, evaluate against the baseline.
#[wasm_bindgen]
pub struct HealthState {
    inner: fleetpath::health::HealthState,
}

#[wasm_bindgen]
impl HealthState {
    /// An empty state under `policy` (the seed's defaults when absent).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "HealthPolicy | null")] policy: JsValue,
    ) -> Result<HealthState> {
        let policy = policy_of(&policy)?;
        fleetpath::health::HealthState::new(&policy).map(|inner| Self { inner }).map_err(core)
    }

    /// A stored state (its JSON text, bytes or the object).
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] state: JsValue,
    ) -> Result<HealthState> {
        Ok(Self { inner: document(&state, "state")? })
    }

    /// The state as a plain object, for storage (`JSON.stringify` gives its text).
    #[wasm_bindgen(js_name = "toJSON", unchecked_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> Result<JsValue> {
        to_js(&self.inner)
    }

    /// Starts following a device updated at `updatedAt`.
    #[wasm_bindgen(js_name = "addDevice")]
    pub fn add_device(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] line: JsValue,
        #[wasm_bindgen(js_name = "updatedAt", unchecked_param_type = "Date | string | number")] updated_at: JsValue,
    ) -> Result<()> {
        let (id, line) = (text(&id, "id")?, text(&line, "line")?);
        let device = CohortDevice { id, line, updated_at: instant(&updated_at, "updated_at")? };
        self.inner.add_device(device).map_err(core)
    }

    /// `addDevice` for each `{id, line, updated_at}` (the JSON form).
    #[wasm_bindgen(js_name = "addDevices")]
    pub fn add_devices(
        &mut self,
        #[wasm_bindgen(
            unchecked_param_type = "string | Array<{ id: string; line: string; updated_at: string | number }>"
        )]
        devices: JsValue,
    ) -> Result<()> {
        let devices: Vec<CohortDevice> = document(&devices, "devices")?;
        devices.into_iter().try_for_each(|d| self.inner.add_device(d)).map_err(core)
    }

    /// The followed devices' summaries, by id.
    #[wasm_bindgen(unchecked_return_type = "Record<string, Record<string, unknown>>")]
    pub fn devices(&self) -> Result<JsValue> {
        to_js(self.inner.devices())
    }

    /// The metrics it summarises, built-in and the policy's.
    #[wasm_bindgen(unchecked_return_type = "Array<Record<string, unknown>>")]
    pub fn metrics(&self) -> Result<JsValue> {
        to_js(self.inner.metrics())
    }

    /// How many devices it follows.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        count(self.inner.devices().len())
    }

    /// Ingests a batch: columns `{devices, device, time, metrics}` (`Uint32Array` devices,
    /// `BigInt64Array` times and `Float64Array` values, or plain arrays checked element by
    /// element), or the JSON form's text.
    #[wasm_bindgen(unchecked_return_type = "IngestReport")]
    pub fn ingest(
        &mut self,
        #[wasm_bindgen(
            unchecked_param_type = "string | Uint8Array | { devices: string[]; device: Uint32Array | number[]; time: BigInt64Array | number[]; metrics?: Record<string, Float64Array | Array<number | null>> }"
        )]
        batch: JsValue,
    ) -> Result<JsValue> {
        if let Some(text) = batch.as_string() {
            let batch = fleetpath::health::SampleBatch::from_json(&text).map_err(core)?;
            return to_js(&self.inner.ingest(&batch).map_err(core)?);
        }
        if !batch.is_object() || js_sys::Array::is_array(&batch) {
            return Err(invalid("batch", "an object of columns or JSON text", kind(&batch)));
        }
        let keys: Vec<String> =
            js_sys::Object::keys::<JsValue>(batch.unchecked_ref()).iter().filter_map(|k| k.as_string()).collect();
        fleetpath::health::SampleBatch::check_keys(keys.iter().map(String::as_str)).map_err(core)?;
        let field = |key: &str| Some(property(&batch, key)).filter(|v| !v.is_undefined());
        let devices = field("devices").map(|v| texts(&v, "devices")).transpose()?.unwrap_or_default();
        let device = field("device").map(|v| device_column(&v)).transpose()?.unwrap_or_default();
        let time = field("time").map(|v| time_column(&v)).transpose()?.unwrap_or_default();
        let mut metrics: Vec<(String, Vec<f64>)> = Vec::new();
        if let Some(table) = field("metrics") {
            if !table.is_object() || js_sys::Array::is_array(&table) {
                return Err(invalid("metrics", "an object of columns", kind(&table)));
            }
            for name in js_sys::Object::keys::<JsValue>(table.unchecked_ref()).iter().filter_map(|k| k.as_string()) {
                let column = property(&table, &name);
                if !column.is_undefined() {
                    metrics.push((name.clone(), value_column(&column, &format!("metrics[{name:?}]"))?));
                }
            }
        }
        let view = SampleView::new(&devices, &device, &time, metrics.iter().map(|(n, v)| (n.as_str(), &v[..])));
        to_js(&self.inner.ingest_view(&view.map_err(core)?).map_err(core)?)
    }

    /// Merges another state's summaries into this one.
    pub fn merge(&mut self, other: &HealthState) -> Result<()> {
        self.inner.merge(&other.inner).map_err(core)
    }

    /// Evaluates under `policy` (the seed's defaults when absent) at `now`.
    #[wasm_bindgen(unchecked_return_type = "HealthReport")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HealthPolicy | null | undefined")] policy: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Date | string | number")] now: JsValue,
    ) -> Result<JsValue> {
        let policy = policy_of(&policy)?;
        to_js(&self.inner.evaluate(&policy, instant(&now, "now")?).map_err(core)?)
    }
}

/// The rollout event (`health_verdict`) of a health report for `stage`.
#[wasm_bindgen(js_name = "healthEvent", unchecked_return_type = "RolloutEvent")]
pub fn health_event(
    #[wasm_bindgen(unchecked_param_type = "HealthReport | string")] report: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] stage: JsValue,
) -> Result<JsValue> {
    let report: HealthReport = document(&report, "report")?;
    to_js(&report.event(&text(&stage, "stage")?))
}

/// A health report explained in words, as the core writes it.
#[wasm_bindgen(js_name = "healthReportText")]
pub fn health_report_text(
    #[wasm_bindgen(unchecked_param_type = "HealthReport | string")] report: JsValue,
) -> Result<String> {
    Ok(document::<HealthReport>(&report, "report")?.to_string())
}
