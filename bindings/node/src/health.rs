//! `HealthPolicy`, `HealthState`, `healthEvent` and `healthReportText`.

use fleetpath::health::{CohortDevice, HealthReport, SampleView};
use napi::Either;
use napi::bindgen_prelude::{BigInt64Array, Float64Array, Object, Uint32Array};
use napi_derive::napi;

use crate::convert::{Doc, Json, count, document, instant, invalid, to_js};
use crate::{Result, core, guard};

/// A health policy: which metrics, which rules, how long a baseline and observation.
#[napi]
pub struct HealthPolicy {
    pub(crate) inner: fleetpath::health::HealthPolicy,
}

#[napi]
impl HealthPolicy {
    /// The seed's defaults (7-day baseline, 24 h observation), or the policy document given.
    #[napi(constructor, ts_args_type = "policy?: string | Uint8Array | object | null")]
    pub fn new(policy: Option<Doc>) -> Result<Self> {
        guard(|| Ok(Self { inner: crate::convert::opt_document(policy)? }))
    }

    /// The policy with every default filled in, as a plain object.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> Result<Json> {
        guard(|| to_js(&self.inner))
    }
}

/// A device column: typed (read in place) or plain numbers (each checked).
type DeviceColumn = Either<Uint32Array, Vec<f64>>;
/// A time column: whole unix seconds, typed (read in place) or plain numbers (each checked).
type TimeColumn = Either<BigInt64Array, Vec<f64>>;
/// A metric column: typed (read in place) or plain numbers with `null` for a missing value.
type ValueColumn = Either<Float64Array, Vec<Option<f64>>>;

/// A field of a batch object, typed; napi-rs's refusal becomes `invalid_input` naming it.
fn field<T: napi::bindgen_prelude::FromNapiValue>(object: &Object<'_>, key: &str, expected: &str) -> Result<Option<T>> {
    object.get::<T>(key).map_err(|e| invalid(key, expected, e.reason))
}

/// Whole numbers in `0..=max` from a plain array, each checked.
fn whole<T: TryFrom<i64>>(values: &[f64], what: &str, range: &str) -> Result<Vec<T>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            #[allow(clippy::cast_possible_truncation)]
            let whole = (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64);
            whole
                .and_then(|w| T::try_from(w).ok())
                .ok_or_else(|| invalid(&format!("{what}[{i}]"), range, format!("{v}")))
        })
        .collect()
}

/// Followed devices' health summaries: ingest samples, evaluate against the baseline.
#[napi]
pub struct HealthState {
    inner: fleetpath::health::HealthState,
}

#[napi]
impl HealthState {
    /// An empty state under `policy` (the seed's defaults when absent).
    #[napi(constructor)]
    pub fn new(policy: Option<&HealthPolicy>) -> Result<Self> {
        guard(|| {
            let policy = policy.map(|p| p.inner.clone()).unwrap_or_default();
            fleetpath::health::HealthState::new(&policy).map(|inner| Self { inner }).map_err(core)
        })
    }

    /// A stored state (its JSON text, bytes or the object).
    #[napi(factory, ts_args_type = "state: string | Uint8Array | object")]
    pub fn load(state: Doc) -> Result<Self> {
        guard(|| Ok(Self { inner: document(state)? }))
    }

    /// The state as a plain object, for storage (`JSON.stringify` gives its text).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> Result<Json> {
        guard(|| to_js(&self.inner))
    }

    /// Starts following a device updated at `updatedAt`.
    #[napi(ts_args_type = "id: string, line: string, updatedAt: Date | string | number")]
    pub fn add_device(&mut self, id: String, line: String, updated_at: Either<String, f64>) -> Result<()> {
        guard(|| {
            let device = CohortDevice { id, line, updated_at: instant(updated_at, "updated_at")? };
            self.inner.add_device(device).map_err(core)
        })
    }

    /// `addDevice` for each `{id, line, updated_at}` (the JSON form).
    #[napi(ts_args_type = "devices: string | Array<{ id: string; line: string; updated_at: string | number }>")]
    pub fn add_devices(&mut self, devices: Doc) -> Result<()> {
        guard(|| {
            let devices: Vec<CohortDevice> = document(devices)?;
            devices.into_iter().try_for_each(|d| self.inner.add_device(d)).map_err(core)
        })
    }

    /// The followed devices' summaries, by id.
    #[napi(ts_return_type = "Record<string, Record<string, unknown>>")]
    pub fn devices(&self) -> Result<Json> {
        guard(|| to_js(self.inner.devices()))
    }

    /// The metrics it summarises, built-in and the policy's.
    #[napi(ts_return_type = "Array<Record<string, unknown>>")]
    pub fn metrics(&self) -> Result<Json> {
        guard(|| to_js(self.inner.metrics()))
    }

    /// How many devices it follows.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        count(self.inner.devices().len())
    }

    /// Ingests a batch: columns `{devices, device, time, metrics}` (typed arrays, `Uint32Array`
    /// devices, `BigInt64Array` times and `Float64Array` values, are read in place; plain arrays
    /// are checked element by element), or the JSON form's text.
    #[napi(
        ts_args_type = "batch: string | Uint8Array | { devices: string[]; device: Uint32Array | number[]; time: BigInt64Array | number[]; metrics?: Record<string, Float64Array | Array<number | null>> }",
        ts_return_type = "IngestReport"
    )]
    pub fn ingest(&mut self, batch: Either<String, Object<'_>>) -> Result<Json> {
        guard(|| {
            let columns = match batch {
                Either::A(text) => {
                    let batch = fleetpath::health::SampleBatch::from_json(&text).map_err(core)?;
                    return to_js(&self.inner.ingest(&batch).map_err(core)?);
                }
                Either::B(columns) => columns,
            };
            let keys = Object::keys(&columns).map_err(|e| invalid("batch", "an object", e.reason))?;
            fleetpath::health::SampleBatch::check_keys(keys.iter().map(String::as_str)).map_err(core)?;
            let devices: Vec<String> = field(&columns, "devices", "a list of device ids")?.unwrap_or_default();
            let device: Option<DeviceColumn> =
                field(&columns, "device", "a Uint32Array or an array of device indices")?;
            let time: Option<TimeColumn> = field(&columns, "time", "a BigInt64Array or an array of unix seconds")?;
            let (plain_device, plain_time): (Vec<u32>, Vec<i64>);
            let device: &[u32] = match &device {
                Some(Either::A(typed)) => typed,
                Some(Either::B(plain)) => {
                    plain_device = whole(plain, "device", "a device index (0 to 4294967295)")?;
                    &plain_device
                }
                None => &[],
            };
            let time: &[i64] = match &time {
                Some(Either::A(typed)) => typed,
                Some(Either::B(plain)) => {
                    plain_time = whole(plain, "time", "whole unix seconds")?;
                    &plain_time
                }
                None => &[],
            };
            let mut metrics: Vec<(String, std::borrow::Cow<'_, [f64]>)> = Vec::new();
            let table: Option<Object<'_>> = field(&columns, "metrics", "an object of columns")?;
            let mut owned: Vec<(String, ValueColumn)> = Vec::new();
            if let Some(table) = &table {
                for name in Object::keys(table).map_err(|e| invalid("metrics", "an object of columns", e.reason))? {
                    let what = format!("metrics[{name:?}]");
                    let column: Option<ValueColumn> = field(table, &name, "a Float64Array or an array of numbers")
                        .map_err(|_| {
                            invalid(&what, "a Float64Array or an array of numbers (null when missing)", "another value")
                        })?;
                    if let Some(column) = column {
                        owned.push((name, column));
                    }
                }
            }
            for (name, column) in &owned {
                let values = match column {
                    Either::A(typed) => std::borrow::Cow::Borrowed(&typed[..]),
                    Either::B(plain) => plain.iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
                };
                metrics.push((name.clone(), values));
            }
            let view = SampleView::new(&devices, device, time, metrics.iter().map(|(n, v)| (n.as_str(), &v[..])));
            to_js(&self.inner.ingest_view(&view.map_err(core)?).map_err(core)?)
        })
    }

    /// Merges another state's summaries into this one.
    #[napi]
    pub fn merge(&mut self, other: &HealthState) -> Result<()> {
        guard(|| self.inner.merge(&other.inner).map_err(core))
    }

    /// Evaluates under `policy` (the seed's defaults when absent) at `now`.
    #[napi(
        ts_args_type = "policy: HealthPolicy | null | undefined, now: Date | string | number",
        ts_return_type = "HealthReport"
    )]
    pub fn evaluate(&self, policy: Option<&HealthPolicy>, now: Either<String, f64>) -> Result<Json> {
        guard(|| {
            let policy = policy.map(|p| p.inner.clone()).unwrap_or_default();
            to_js(&self.inner.evaluate(&policy, instant(now, "now")?).map_err(core)?)
        })
    }
}

/// The rollout event (`health_verdict`) of a health report for `stage`.
#[napi(ts_args_type = "report: HealthReport | string, stage: string", ts_return_type = "RolloutEvent")]
pub fn health_event(report: Doc, stage: String) -> Result<Json> {
    guard(|| to_js(&document::<HealthReport>(report)?.event(&stage)))
}

/// A health report explained in words, as the core writes it.
#[napi(ts_args_type = "report: HealthReport | string")]
pub fn health_report_text(report: Doc) -> Result<String> {
    guard(|| Ok(document::<HealthReport>(report)?.to_string()))
}
