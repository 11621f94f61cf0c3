//! `planRollout`, `planPrefetch`, `Calendar` and `Rollout`.

use fleetpath::artifact::Observations;
use fleetpath::prefetch::PrefetchPolicy;
use fleetpath::{Event, RolloutPlan, RolloutPolicy};
use napi::Either;
use napi_derive::napi;

use crate::convert::{Doc, Json, document, instant, opt_document, time_text, to_js, version};
use crate::fleet::Fleet;
use crate::graph::UpgradeGraph;
use crate::{Result, core, guard};

/// The rollout policy `planRollout` uses when given none, as its document (a start for a policy
/// of one's own).
#[napi(ts_return_type = "RolloutPolicy")]
pub fn default_rollout_policy() -> Result<Json> {
    guard(|| to_js(&RolloutPolicy::default()))
}

/// Plans a rollout's stages (canary, early, production by default) per production line.
#[napi(
    ts_args_type = "graph: UpgradeGraph, fleet: Fleet, target: Version | string, rolloutId: string, policy?: object | string | null",
    ts_return_type = "RolloutPlan"
)]
pub fn plan_rollout(
    graph: &UpgradeGraph,
    fleet: &Fleet,
    target: String,
    rollout_id: String,
    policy: Option<Doc>,
) -> Result<Json> {
    guard(|| {
        let policy: RolloutPolicy = opt_document(policy)?;
        let plan = fleetpath::plan_rollout(&graph.inner, &fleet.inner, &version(&target)?, &policy, &rollout_id);
        to_js(&plan.map_err(core)?)
    })
}

/// Which artifacts to check, restore or leave, ahead of the windows that need them.
#[napi(
    ts_args_type = "rollout: Rollout, graph: UpgradeGraph, availability: object | string, at: Date | string | number, calendar?: Calendar | null, policy?: object | string | null",
    ts_return_type = "PrefetchPlan"
)]
pub fn plan_prefetch(
    rollout: &Rollout,
    graph: &UpgradeGraph,
    availability: Doc,
    at: Either<String, f64>,
    calendar: Option<&Calendar>,
    policy: Option<Doc>,
) -> Result<Json> {
    guard(|| {
        let observed: Observations = document(availability)?;
        let policy: PrefetchPolicy = opt_document(policy)?;
        let at = instant(at, "at")?;
        let calendar = calendar.map(|c| &c.inner);
        to_js(&fleetpath::prefetch::plan_prefetch(&rollout.inner, &graph.inner, calendar, &observed, &policy, at))
    })
}

/// Sites' shifts, maintenance windows, holidays and line stops, in each site's time zone.
#[napi]
pub struct Calendar {
    pub(crate) inner: fleetpath::Calendar,
}

/// A window: when it opens (or the time asked, when already open) and closes, RFC 3339 UTC.
#[napi(object)]
pub struct Window {
    /// When it opens.
    pub start: String,
    /// When it closes.
    pub end: String,
}

#[napi]
impl Calendar {
    /// Loads a calendar: its JSON text, bytes or the object.
    #[napi(factory, ts_args_type = "calendar: string | Uint8Array | object")]
    pub fn load(calendar: Doc) -> Result<Self> {
        guard(|| Ok(Self { inner: document(calendar)? }))
    }

    /// Whether `stage` may run on `line` of `site` at `at`.
    #[napi(ts_args_type = "site: string, line: string, stage: string, at: Date | string | number")]
    pub fn is_open(&self, site: String, line: String, stage: String, at: Either<String, f64>) -> Result<bool> {
        guard(|| self.inner.is_open(&site, &line, &stage, instant(at, "at")?).map_err(core))
    }

    /// The next window of `stage` on `line` of `site` at or after `after`, or `null`.
    #[napi(ts_args_type = "site: string, line: string, stage: string, after: Date | string | number")]
    pub fn next_window(
        &self,
        site: String,
        line: String,
        stage: String,
        after: Either<String, f64>,
    ) -> Result<Option<Window>> {
        guard(|| {
            let window = self.inner.next_window(&site, &line, &stage, instant(after, "after")?).map_err(core)?;
            Ok(window.map(|w| Window { start: time_text(w.start), end: time_text(w.end) }))
        })
    }

    /// The calendar as JSON text.
    #[napi(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> Result<String> {
        guard(|| Ok(serde_json::to_string(self.inner.spec()).unwrap_or_default()))
    }
}

/// A rollout's state: stages, devices, health gates. Immutable: `apply` returns the next state.
#[napi]
pub struct Rollout {
    pub(crate) inner: fleetpath::Rollout,
}

/// What `Rollout.apply` returns: the next state and the actions the host carries out.
#[napi(object, object_from_js = false)]
pub struct Applied {
    /// The next state.
    pub state: Rollout,
    /// The actions, in order.
    #[napi(ts_type = "Action[]")]
    pub actions: Json,
}

#[napi]
impl Rollout {
    /// A new rollout from a plan (as `planRollout` returned it) over `fleet` and `graph`.
    #[napi(
        factory,
        js_name = "new",
        ts_args_type = "plan: RolloutPlan | string, fleet: Fleet, graph: UpgradeGraph, policy?: object | string | null"
    )]
    pub fn create(plan: Doc, fleet: &Fleet, graph: &UpgradeGraph, policy: Option<Doc>) -> Result<Self> {
        guard(|| {
            let plan: RolloutPlan = document(plan)?;
            let policy: RolloutPolicy = opt_document(policy)?;
            let inner = fleetpath::Rollout::new(&plan, &fleet.inner, &graph.inner, &policy).map_err(core)?;
            Ok(Self { inner })
        })
    }

    /// A stored state (its JSON text, bytes or the object), checked as it is read.
    #[napi(factory, ts_args_type = "state: string | Uint8Array | object")]
    pub fn load(state: Doc) -> Result<Self> {
        guard(|| Ok(Self { inner: document(state)? }))
    }

    /// The state's JSON text, for storage.
    #[napi(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> Result<String> {
        guard(|| Ok(serde_json::to_string(&self.inner).unwrap_or_default()))
    }

    /// The state as a plain object (its JSON form).
    #[napi(js_name = "toJSON", ts_return_type = "RolloutState")]
    pub fn to_json(&self) -> Result<Json> {
        guard(|| to_js(&self.inner))
    }

    /// The state's revision: it grows by one with each applied event.
    #[napi(getter)]
    pub fn revision(&self) -> f64 {
        // Revisions stay far below 2^53.
        #[allow(clippy::cast_precision_loss)]
        let revision = self.inner.revision as f64;
        revision
    }

    /// The rollout's id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// Applies an event (`{type: "tick", at}`, `device_reported`, `health_verdict`…).
    #[napi(ts_args_type = "event: RolloutEvent | string, calendar?: Calendar | null")]
    pub fn apply(&self, event: Doc, calendar: Option<&Calendar>) -> Result<Applied> {
        guard(|| {
            let event: Event = document(event)?;
            let (state, actions) = self.inner.apply(&event, calendar.map(|c| &c.inner)).map_err(core)?;
            Ok(Applied { state: Rollout { inner: state }, actions: to_js(&actions)? })
        })
    }
}
