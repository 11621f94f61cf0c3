//! `Decider` and `checkReport`.

use fleetpath::artifact::Observations;
use fleetpath::decision::DecisionColumns as CoreColumns;
use fleetpath::decision::{Decision, DecisionPolicy, DeviceRecord, DeviceRequest, Tagged};
use wasm_bindgen::prelude::*;

use crate::convert::{absent, document, instant, invalid, kind, object, opt_document, property, to_js, version};
use crate::fleet::Fleet;
use crate::graph::UpgradeGraph;
use crate::handles::lookup;
use crate::{Result, core};

fn decisions_js(decisions: &[Decision]) -> Result<JsValue> {
    to_js(&decisions.iter().map(Tagged::of).collect::<Vec<_>>())
}

fn strings(names: &[&str]) -> js_sys::Array {
    names.iter().map(|n| JsValue::from_str(n)).collect()
}

#[wasm_bindgen(typescript_custom_section)]
const DECISION_COLUMNS: &str = r"
/**
 * A fleet's decisions as columns: typed arrays, one element a device, and the name tables
 * their numbers index. Each array is the core's column, handed over without a per-device object.
 */
export interface Decider {
  /**
   * `decideFleetColumns` as an Apache Arrow table, built with `arrow` (the host's
   * `apache-arrow` module): columns `device` (utf8), `kind`, `reason`, `next` and `host_action`
   * (dictionary-encoded utf8; `next` null where there is no version to install) and `at`
   * (timestamp[ms, UTC], null where there is no time to ask again), as Python's
   * `decide_fleet_table`. Added by the JavaScript wrapper both packages share.
   */
  decideFleetTable<A extends ArrowModule>(fleet: Fleet, at: Date | string | number, arrow: A): InstanceType<A['Table']>;
}

export interface DecisionColumns {
  /** Per device: an index into `kinds`. */
  kind: Uint8Array;
  /** `up_to_date`, `wait`, `download`, … */
  kinds: string[];
  /** Per device: an index into `reasons`. */
  reason: Uint16Array;
  /** Every reason code. */
  reasons: string[];
  /** Per device: the version to install next, an index into `versions`, or 4294967295 (none). */
  next: Uint32Array;
  /**
   * The versions `next` indexes: the decider's releases, in the graph's order (one frozen list
   * its batches share), then any other version a decision names.
   */
  versions: readonly string[];
  /** Per device: when to ask again, Unix milliseconds (`new Date(at)`), or `NaN`. */
  at: Float64Array;
  /** Per device: an index into `hostActions` (0: none). */
  hostAction: Uint8Array;
  /** `none`, `request_restore`, `check_availability`, `report_missing`. */
  hostActions: string[];
}
";

/// What to tell a device: built once per graph (and target, rollout, calendar, availability),
/// then asked per device request.
#[wasm_bindgen]
pub struct Decider {
    inner: fleetpath::decision::Decider,
}

#[wasm_bindgen]
impl Decider {
    /// A decider over `graph`. Options: `policy` (the decision policy document), `target`
    /// (the version every device is steered to, else each model's newest), `rollout` and
    /// `calendar` (whose stages and windows gate who may update when), `availability` (what the
    /// host last observed of each artifact, by key).
    #[wasm_bindgen(constructor)]
    pub fn new(
        graph: &UpgradeGraph,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ policy?: object | string | null; target?: Version | string | null; rollout?: Rollout | null; calendar?: Calendar | null; availability?: object | string | null }"
        )]
        options: JsValue,
    ) -> Result<Decider> {
        if !absent(&options) && !options.is_object() {
            return Err(invalid("options", "an object", kind(&options)));
        }
        let field = |name: &str| Some(property(&options, name)).filter(|v| !absent(v));
        let policy: DecisionPolicy = opt_document(&property(&options, "policy"), "policy")?;
        let mut decider = fleetpath::decision::Decider::new(&graph.inner, policy).map_err(core)?;
        if let Some(target) = field("target") {
            decider = decider.with_target(&version(&target, "target")?).map_err(core)?;
        }
        let calendar = lookup::<fleetpath::Calendar>(&options, "calendar", "Calendar")?;
        if let Some(rollout) = lookup::<fleetpath::Rollout>(&options, "rollout", "Rollout")? {
            decider = decider.with_rollout(rollout, calendar.as_deref()).map_err(core)?;
        }
        if let Some(availability) = field("availability") {
            decider = decider.with_availability(document::<Observations>(&availability, "availability")?);
        }
        Ok(Self { inner: decider })
    }

    /// The decision for one device request. With `record` (what the host's registry holds for
    /// the device), the request's claims are checked against it first.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn decide(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DeviceRequest | string")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DeviceRecord | string | null")] record: JsValue,
    ) -> Result<JsValue> {
        let request: DeviceRequest = document(&request, "request")?;
        let decision = if absent(&record) {
            self.inner.decide(&request)
        } else {
            self.inner.decide_checked(&request, &document::<DeviceRecord>(&record, "record")?)
        };
        to_js(&Tagged::of(&decision))
    }

    /// The decisions for many requests (a JSON array, or its text), in order.
    #[wasm_bindgen(js_name = "decideAll", unchecked_return_type = "Decision[]")]
    pub fn decide_all(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DeviceRequest[] | string")] requests: JsValue,
    ) -> Result<JsValue> {
        decisions_js(&self.inner.decide_all(&document::<Vec<DeviceRequest>>(&requests, "requests")?))
    }

    /// The decisions for every device of `fleet` at `at`, as columns: typed arrays, one element
    /// a device, and the name tables their numbers index (`kind`/`kinds`, `reason`/`reasons`,
    /// `next`/`versions` with 4294967295 for none, `at` in Unix milliseconds or `NaN`,
    /// `hostAction`/`hostActions`).
    #[wasm_bindgen(js_name = "decideFleetColumns", unchecked_return_type = "DecisionColumns")]
    pub fn decide_fleet_columns(
        &self,
        fleet: &Fleet,
        #[wasm_bindgen(unchecked_param_type = "Date | string | number")] at: JsValue,
    ) -> Result<JsValue> {
        let columns = self.inner.decide_columns(&fleet.inner, instant(&at, "at")?);
        // Unix milliseconds stay exact in a double until the year 287396.
        #[allow(clippy::cast_precision_loss)]
        let at: Vec<f64> =
            columns.at_ms.iter().map(|&ms| if ms == CoreColumns::NO_TIME { f64::NAN } else { ms as f64 }).collect();
        // The versions no release is, as one text of lines: the JavaScript layer both packages
        // share puts the decider's releases (`__releaseVersions`, asked once) before them.
        let versions = JsValue::from_str(&fleetpath::Version::lines(columns.versions.others()));
        Ok(object(&[
            ("kind", js_sys::Uint8Array::from(&columns.kind[..]).into()),
            ("kinds", strings(CoreColumns::KINDS).into()),
            ("reason", js_sys::Uint16Array::from(&columns.reason[..]).into()),
            ("reasons", strings(&fleetpath::decision::reasons()).into()),
            ("next", js_sys::Uint32Array::from(&columns.next[..]).into()),
            ("versions", versions),
            ("at", js_sys::Float64Array::from(&at[..]).into()),
            ("hostAction", js_sys::Uint8Array::from(&columns.host_action[..]).into()),
            ("hostActions", strings(CoreColumns::HOST_ACTIONS).into()),
        ]))
    }

    /// The versions of the graph's releases as one text, a line each: the first of every
    /// batch's `versions` (for the JavaScript layer, which keeps them per decider).
    #[wasm_bindgen(js_name = "__releaseVersions", skip_typescript)]
    pub fn release_versions(&self) -> String {
        fleetpath::Version::lines(self.inner.release_versions().iter())
    }

    /// The decision for every device of `fleet` at `at`, in the fleet's order. Decisions are
    /// frozen, and devices with the same decision share one object (as Python's records).
    #[wasm_bindgen(js_name = "decideFleet", unchecked_return_type = "Readonly<Decision>[]")]
    pub fn decide_fleet(
        &self,
        fleet: &Fleet,
        #[wasm_bindgen(unchecked_param_type = "Date | string | number")] at: JsValue,
    ) -> Result<JsValue> {
        // `[distinct decisions, each device's index among them]`: the JavaScript layer both
        // packages share (js-common/api.mjs) makes the array.
        let columns = self.inner.decide_columns(&fleet.inner, instant(&at, "at")?);
        let rows: JsValue = js_sys::Uint32Array::from(columns.indices()).into();
        Ok(js_sys::Array::of2(&decisions_js(columns.distinct())?, &rows).into())
    }
}

/// A device's report (`version`, the version it says it now runs) against the host's record of
/// the hop it was told to take: `null` when accepted, else the refusal (a `refused` decision).
#[wasm_bindgen(js_name = "checkReport", unchecked_return_type = "Decision | null")]
pub fn check_report(
    #[wasm_bindgen(unchecked_param_type = "DeviceRecord | string")] record: JsValue,
    #[wasm_bindgen(js_name = "version", unchecked_param_type = "Version | string")] version_: JsValue,
) -> Result<JsValue> {
    let record: DeviceRecord = document(&record, "record")?;
    match record.check_report(&version(&version_, "version")?) {
        Ok(()) => Ok(JsValue::NULL),
        Err(refused) => to_js(&Tagged::of(&refused)),
    }
}
