//! `Decider` and `checkReport`.

use fleetpath::artifact::Observations;
use fleetpath::decision::DecisionColumns as CoreColumns;
use fleetpath::decision::{Decision, DecisionPolicy, DeviceRecord, DeviceRequest, Tagged};
use napi::Either;
use napi::bindgen_prelude::{ClassInstance, Float64Array, Object, Uint8Array, Uint16Array, Uint32Array};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{Doc, Held, Holds as _, Json, document, holds, instant, invalid, opt_document, to_js, version};
use crate::fleet::Fleet;
use crate::graph::UpgradeGraph;
use crate::rollout::{Calendar, Rollout};
use crate::{Result, core, guard};

fn decision_js(decision: &Decision) -> Result<Json> {
    to_js(&Tagged::of(decision))
}

fn decisions_js(decisions: &[Decision]) -> Result<Json> {
    to_js(&decisions.iter().map(Tagged::of).collect::<Vec<_>>())
}

/// What to tell a device: built once per graph (and target, rollout, calendar, availability),
/// then asked per device request.
#[napi(custom_finalize)]
pub struct Decider {
    inner: fleetpath::decision::Decider,
    held: Held,
}

holds!(Decider);

#[napi]
impl Decider {
    /// A decider over `graph`. Options: `policy` (the decision policy document), `target`
    /// (the version every device is steered to, else each model's newest), `rollout` and
    /// `calendar` (whose stages and windows gate who may update when), `availability` (what the
    /// host last observed of each artifact, by key).
    #[napi(
        constructor,
        ts_args_type = "graph: UpgradeGraph, options?: { policy?: object | string | null; target?: Version | string | null; rollout?: Rollout | null; calendar?: Calendar | null; availability?: object | string | null }"
    )]
    pub fn new(env: napi::Env, graph: &UpgradeGraph, options: Option<Object<'_>>) -> Result<Self> {
        guard(|| {
            let field = |name: &str| -> Result<Option<Doc>> {
                let Some(options) = &options else { return Ok(None) };
                let value: Option<Doc> = options.get(name).map_err(|e| invalid(name, "a JSON value", e.reason))?;
                Ok(value.filter(|v| !v.is_null()))
            };
            let policy: DecisionPolicy = opt_document(field("policy")?)?;
            let mut decider = fleetpath::decision::Decider::new(&graph.inner, policy).map_err(core)?;
            if let Some(target) = field("target")? {
                let target = match target.into_value("target")? {
                    Value::String(target) => target,
                    other => return Err(invalid("target", "a version", other.to_string())),
                };
                decider = decider.with_target(&version(&target)?).map_err(core)?;
            }
            let rollout: Option<Option<ClassInstance<'_, Rollout>>> = match &options {
                Some(o) => o.get("rollout").map_err(|e| invalid("rollout", "a Rollout", e.reason))?,
                None => None,
            };
            let calendar: Option<Option<ClassInstance<'_, Calendar>>> = match &options {
                Some(o) => o.get("calendar").map_err(|e| invalid("calendar", "a Calendar", e.reason))?,
                None => None,
            };
            if let Some(rollout) = rollout.flatten() {
                let calendar = calendar.flatten();
                decider =
                    decider.with_rollout(rollout.inner.clone(), calendar.as_ref().map(|c| &c.inner)).map_err(core)?;
            }
            if let Some(availability) = field("availability")? {
                decider = decider.with_availability(document::<Observations>(availability)?);
            }
            Ok(Self { inner: decider, held: Held::default() }.told(env))
        })
    }

    /// The decision for one device request. With `record` (what the host's registry holds for
    /// the device), the request's claims are checked against it first.
    #[napi(
        ts_args_type = "request: DeviceRequest | string, record?: DeviceRecord | string | null",
        ts_return_type = "Decision"
    )]
    pub fn decide(&self, request: Doc, record: Option<Doc>) -> Result<Json> {
        guard(|| {
            let request: DeviceRequest = document(request)?;
            let decision = match record.filter(|r| !r.is_null()) {
                Some(record) => self.inner.decide_checked(&request, &document::<DeviceRecord>(record)?),
                None => self.inner.decide(&request),
            };
            decision_js(&decision)
        })
    }

    /// The decisions for many requests (a JSON array, or its text), in order.
    #[napi(ts_args_type = "requests: DeviceRequest[] | string", ts_return_type = "Decision[]")]
    pub fn decide_all(&self, requests: Doc) -> Result<Json> {
        guard(|| decisions_js(&self.inner.decide_all(&document::<Vec<DeviceRequest>>(requests)?)))
    }

    /// The decisions for every device of `fleet` at `at`, as columns (typed arrays).
    #[napi(ts_args_type = "fleet: Fleet, at: Date | string | number")]
    pub fn decide_fleet_columns(&self, fleet: &Fleet, at: Either<String, f64>) -> Result<DecisionColumns> {
        guard(|| {
            let mut columns = self.inner.decide_columns(&fleet.inner, instant(at, "at")?);
            // Unix milliseconds stay exact in a double until the year 287396. Collected from the
            // column's own iterator, the doubles take its memory (same size and alignment).
            #[allow(clippy::cast_precision_loss)]
            let at: Vec<f64> = std::mem::take(&mut columns.at_ms)
                .into_iter()
                .map(|ms| if ms == CoreColumns::NO_TIME { f64::NAN } else { ms as f64 })
                .collect();
            Ok(DecisionColumns {
                kind: Uint8Array::new(std::mem::take(&mut columns.kind)),
                kinds: CoreColumns::KINDS.to_vec(),
                reason: Uint16Array::new(std::mem::take(&mut columns.reason)),
                reasons: fleetpath::decision::reasons(),
                next: Uint32Array::new(std::mem::take(&mut columns.next)),
                versions: fleetpath::Version::lines(columns.versions.others()),
                at: Float64Array::new(at),
                host_action: Uint8Array::new(std::mem::take(&mut columns.host_action)),
                host_actions: CoreColumns::HOST_ACTIONS.to_vec(),
            })
        })
    }

    /// The versions of the graph's releases as one text, a line each: the first of every
    /// batch's `versions` (for the JavaScript layer, which keeps them per decider).
    #[napi(js_name = "__releaseVersions", skip_typescript)]
    pub fn release_versions(&self) -> String {
        fleetpath::Version::lines(self.inner.release_versions().iter())
    }

    /// The decision for every device of `fleet` at `at`, in the fleet's order. Decisions are
    /// frozen, and devices with the same decision share one object (as Python's records).
    #[napi(ts_args_type = "fleet: Fleet, at: Date | string | number", ts_return_type = "Readonly<Decision>[]")]
    pub fn decide_fleet(&self, fleet: &Fleet, at: Either<String, f64>) -> Result<(Json, Uint32Array)> {
        // `[distinct decisions, each device's index among them]`: the JavaScript layer both
        // packages share (js-common/api.mjs) makes the array.
        guard(|| {
            let columns = self.inner.decide_columns(&fleet.inner, instant(at, "at")?);
            Ok((decisions_js(columns.distinct())?, Uint32Array::new(columns.indices().to_vec())))
        })
    }
}

/// A fleet's decisions as columns: typed arrays, one element a device, and the name tables
/// their numbers index. Each array is the core's column, handed over without a per-device object.
#[napi(object, object_from_js = false)]
pub struct DecisionColumns {
    /// Per device: an index into `kinds`.
    pub kind: Uint8Array,
    /// `up_to_date`, `wait`, `download`, …
    pub kinds: Vec<&'static str>,
    /// Per device: an index into `reasons`.
    pub reason: Uint16Array,
    /// Every reason code.
    pub reasons: Vec<&'static str>,
    /// Per device: the version to install next, an index into `versions`, or 4294967295 (none).
    pub next: Uint32Array,
    /// The versions `next` indexes: the decider's releases, in the graph's order (one frozen
    /// list its batches share), then any other version a decision names.
    // Here the others alone, as one text of lines: the JavaScript layer both packages share
    // puts the decider's releases (`__releaseVersions`, asked once) before them.
    #[napi(ts_type = "ReadonlyArray<string>")]
    pub versions: String,
    /// Per device: when to ask again, Unix milliseconds (`new Date(at)`), or `NaN`.
    pub at: Float64Array,
    /// Per device: an index into `hostActions` (0: none).
    pub host_action: Uint8Array,
    /// `none`, `request_restore`, `check_availability`, `report_missing`.
    pub host_actions: Vec<&'static str>,
}

/// A device's report (`version`, the version it says it now runs) against the host's record of
/// the hop it was told to take: `null` when accepted, else the refusal (a `refused` decision).
#[napi(ts_args_type = "record: DeviceRecord | string, version: Version | string", ts_return_type = "Decision | null")]
pub fn check_report(record: Doc, version_: String) -> Result<Json> {
    guard(|| {
        let record: DeviceRecord = document(record)?;
        match record.check_report(&version(&version_)?) {
            Ok(()) => Ok(Json::null()),
            Err(refused) => decision_js(&refused),
        }
    })
}
