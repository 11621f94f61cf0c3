//! `planRollout`, `planPrefetch`, `Calendar` and `Rollout`.

use std::sync::Arc;

use fleetpath::artifact::Observations;
use fleetpath::prefetch::PrefetchPolicy;
use fleetpath::{Event, RolloutPlan, RolloutPolicy};
use wasm_bindgen::prelude::*;

use crate::convert::{document, instant, object, opt_document, text, to_js, version};
use crate::fleet::Fleet;
use crate::graph::UpgradeGraph;
use crate::handles::{Handle, find};
use crate::{Result, core};

/// The rollout policy `planRollout` uses when given none, as its document (a start for a policy
/// of one's own).
#[wasm_bindgen(js_name = "defaultRolloutPolicy", unchecked_return_type = "RolloutPolicy")]
pub fn default_rollout_policy() -> Result<JsValue> {
    to_js(&RolloutPolicy::default())
}

/// Plans a rollout's stages (canary, early, production by default) per production line.
#[wasm_bindgen(js_name = "planRollout", unchecked_return_type = "RolloutPlan")]
pub fn plan_rollout(
    graph: &UpgradeGraph,
    fleet: &Fleet,
    #[wasm_bindgen(unchecked_param_type = "Version | string")] target: JsValue,
    #[wasm_bindgen(js_name = "rolloutId", unchecked_param_type = "string")] rollout_id: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "object | string | null")] policy: JsValue,
) -> Result<JsValue> {
    let policy: RolloutPolicy = opt_document(&policy, "policy")?;
    let (target, id) = (version(&target, "target")?, text(&rollout_id, "rollout_id")?);
    to_js(&fleetpath::plan_rollout(&graph.inner, &fleet.inner, &target, &policy, &id).map_err(core)?)
}

/// Which artifacts to check, restore or leave, ahead of the windows that need them.
#[wasm_bindgen(js_name = "planPrefetch", unchecked_return_type = "PrefetchPlan")]
pub fn plan_prefetch(
    rollout: &Rollout,
    graph: &UpgradeGraph,
    #[wasm_bindgen(unchecked_param_type = "object | string")] availability: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date | string | number")] at: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "Calendar | null")] calendar: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "object | string | null")] policy: JsValue,
) -> Result<JsValue> {
    let observed: Observations = document(&availability, "availability")?;
    let policy: PrefetchPolicy = opt_document(&policy, "policy")?;
    let at = instant(&at, "at")?;
    let calendar = find::<fleetpath::Calendar>(&calendar, "calendar", "Calendar")?;
    let calendar = calendar.as_deref();
    to_js(&fleetpath::prefetch::plan_prefetch(&rollout.inner, &graph.inner, calendar, &observed, &policy, at))
}

#[wasm_bindgen(typescript_custom_section)]
const WINDOW_AND_APPLIED: &str = r"
/** A window: when it opens (or the time asked, when already open) and closes, RFC 3339 UTC. */
export interface Window {
  /** When it opens. */
  start: string;
  /** When it closes. */
  end: string;
}

/** What `Rollout.apply` returns: the next state and the actions the host carries out. */
export interface Applied {
  /** The next state. */
  state: Rollout;
  /** The actions, in order. */
  actions: Action[];
}
";

/// Sites' shifts, maintenance windows, holidays and line stops, in each site's time zone.
#[wasm_bindgen]
pub struct Calendar {
    pub(crate) inner: Arc<fleetpath::Calendar>,
    handle: Handle,
}

impl Calendar {
    fn new(inner: fleetpath::Calendar) -> Self {
        let inner = Arc::new(inner);
        Self { handle: Handle::register(&inner), inner }
    }
}

#[wasm_bindgen]
impl Calendar {
    /// Loads a calendar: its JSON text, bytes or the object.
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] calendar: JsValue,
    ) -> Result<Calendar> {
        Ok(Self::new(document(&calendar, "calendar")?))
    }

    /// Whether `stage` may run on `line` of `site` at `at`.
    #[wasm_bindgen(js_name = "isOpen")]
    pub fn is_open(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] site: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] line: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] stage: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Date | string | number")] at: JsValue,
    ) -> Result<bool> {
        let (site, line, stage) = (text(&site, "site")?, text(&line, "line")?, text(&stage, "stage")?);
        self.inner.is_open(&site, &line, &stage, instant(&at, "at")?).map_err(core)
    }

    /// The next window of `stage` on `line` of `site` at or after `after` (`{start, end}`,
    /// RFC 3339 UTC), or `null`.
    #[wasm_bindgen(js_name = "nextWindow", unchecked_return_type = "Window | null")]
    pub fn next_window(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] site: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] line: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] stage: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Date | string | number")] after: JsValue,
    ) -> Result<JsValue> {
        let (site, line, stage) = (text(&site, "site")?, text(&line, "line")?, text(&stage, "stage")?);
        let window = self.inner.next_window(&site, &line, &stage, instant(&after, "after")?).map_err(core)?;
        Ok(window.map_or(JsValue::NULL, |w| {
            object(&[("start", w.start.to_string().into()), ("end", w.end.to_string().into())])
        }))
    }

    /// The calendar as JSON text.
    #[wasm_bindgen(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> String {
        serde_json::to_string(self.inner.spec()).unwrap_or_default()
    }

    /// The number a `Decider`'s options find this calendar by.
    #[wasm_bindgen(getter, js_name = "_handle")]
    pub fn handle(&self) -> u32 {
        self.handle.id()
    }
}

/// A rollout's state: stages, devices, health gates. Immutable: `apply` returns the next state.
#[wasm_bindgen]
pub struct Rollout {
    pub(crate) inner: Arc<fleetpath::Rollout>,
    handle: Handle,
}

impl Rollout {
    fn new(inner: fleetpath::Rollout) -> Self {
        let inner = Arc::new(inner);
        Self { handle: Handle::register(&inner), inner }
    }
}

#[wasm_bindgen]
impl Rollout {
    /// A new rollout from a plan (as `planRollout` returned it) over `fleet` and `graph`.
    #[wasm_bindgen(js_name = "new")]
    pub fn create(
        #[wasm_bindgen(unchecked_param_type = "RolloutPlan | string")] plan: JsValue,
        fleet: &Fleet,
        graph: &UpgradeGraph,
        #[wasm_bindgen(unchecked_optional_param_type = "object | string | null")] policy: JsValue,
    ) -> Result<Rollout> {
        let plan: RolloutPlan = document(&plan, "plan")?;
        let policy: RolloutPolicy = opt_document(&policy, "policy")?;
        Ok(Self::new(fleetpath::Rollout::new(&plan, &fleet.inner, &graph.inner, &policy).map_err(core)?))
    }

    /// A stored state (its JSON text, bytes or the object), checked as it is read.
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] state: JsValue,
    ) -> Result<Rollout> {
        Ok(Self::new(document(&state, "state")?))
    }

    /// The state's JSON text, for storage.
    #[wasm_bindgen(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> String {
        serde_json::to_string(&*self.inner).unwrap_or_default()
    }

    /// The state as a plain object (its JSON form).
    #[wasm_bindgen(js_name = "toJSON", unchecked_return_type = "RolloutState")]
    pub fn to_json(&self) -> Result<JsValue> {
        to_js(&*self.inner)
    }

    /// The state's revision: it grows by one with each applied event.
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> f64 {
        // Revisions stay far below 2^53.
        #[allow(clippy::cast_precision_loss)]
        let revision = self.inner.revision as f64;
        revision
    }

    /// The rollout's id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// Applies an event (`{type: "tick", at}`, `device_reported`, `health_verdict`…):
    /// `{state, actions}`, the next state and the actions the host carries out, in order.
    #[wasm_bindgen(unchecked_return_type = "Applied")]
    pub fn apply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RolloutEvent | string")] event: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Calendar | null")] calendar: JsValue,
    ) -> Result<JsValue> {
        let event: Event = document(&event, "event")?;
        let calendar = find::<fleetpath::Calendar>(&calendar, "calendar", "Calendar")?;
        let (state, actions) = self.inner.apply(&event, calendar.as_deref()).map_err(core)?;
        Ok(object(&[("state", Self::new(state).into()), ("actions", to_js(&actions)?)]))
    }

    /// The number a `Decider`'s options find this rollout by.
    #[wasm_bindgen(getter, js_name = "_handle")]
    pub fn handle(&self) -> u32 {
        self.handle.id()
    }
}
