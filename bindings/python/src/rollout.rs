//! `fleetpath.plan_rollout`, `fleetpath.Calendar` and `fleetpath.Rollout` (the state machine).
//! Policies, events and timestamps cross as JSON text (the interchange format); results as
//! Python objects of the same JSON.

use fleetpath::{Calendar, Event, Rollout, RolloutPlan, RolloutPolicy, plan_rollout};
use jiff::Timestamp;
use pyo3::prelude::*;

use crate::errors::{core, guard, json, raise, to_py};
use crate::fleet::PyFleet;
use crate::graph::PyGraph;
use crate::version::extract_version;

pub(crate) fn timestamp(py: Python<'_>, text: &str) -> PyResult<Timestamp> {
    text.parse().map_err(|e| raise(py, "invalid_time", &format!("timestamp {text:?}: {e}")))
}

fn policy(py: Python<'_>, policy_json: Option<&str>) -> PyResult<RolloutPolicy> {
    policy_json.map_or_else(|| Ok(RolloutPolicy::default()), |text| json(py, "rollout policy", text))
}

/// Plans the stages of a rollout of `target` over `fleet` (a dict of the plan).
#[pyfunction]
#[pyo3(name = "plan_rollout", signature = (graph, fleet, target, rollout_id, policy_json=None))]
pub(crate) fn py_plan_rollout<'py>(
    py: Python<'py>,
    graph: &PyGraph,
    fleet: &PyFleet,
    target: &Bound<'py, PyAny>,
    rollout_id: &str,
    policy_json: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let target = extract_version(py, target)?;
    let policy = policy(py, policy_json)?;
    guard(py, || {
        let plan = plan_rollout(&graph.inner, &fleet.inner, &target, &policy, rollout_id).map_err(|e| core(py, e))?;
        to_py(py, &plan)
    })
}

/// The prefetch plan of a rollout: which archived artifacts to restore, at which tier and by
/// when, so each is ready when its stage's window opens (a dict of the plan).
#[pyfunction]
#[pyo3(name = "plan_prefetch", signature = (rollout, graph, availability_json, at, calendar=None, policy_json=None))]
pub(crate) fn py_plan_prefetch<'py>(
    py: Python<'py>,
    rollout: &PyRollout,
    graph: &PyGraph,
    availability_json: &str,
    at: &str,
    calendar: Option<&PyCalendar>,
    policy_json: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let observed: std::collections::BTreeMap<String, fleetpath::Availability> =
        json(py, "availability", availability_json)?;
    let policy: fleetpath::prefetch::PrefetchPolicy = policy_json
        .map_or_else(|| Ok(fleetpath::prefetch::PrefetchPolicy::default()), |t| json(py, "prefetch policy", t))?;
    let at = timestamp(py, at)?;
    guard(py, || {
        let plan = fleetpath::prefetch::plan_prefetch(
            &rollout.inner,
            &graph.inner,
            calendar.map(|c| &c.inner),
            &observed,
            &policy,
            at,
        );
        to_py(py, &plan)
    })
}

/// Shift and maintenance calendars per site (native half of `fleetpath.Calendar`).
#[pyclass(module = "fleetpath._native", frozen, name = "Calendar")]
pub(crate) struct PyCalendar {
    pub(crate) inner: Calendar,
}

#[pymethods]
impl PyCalendar {
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        guard(py, || Calendar::from_json(text).map(|inner| Self { inner }).map_err(|e| core(py, e)))
    }

    /// Whether `line` at `site` is open for `stage` at `at` (RFC 3339 text).
    fn is_open(&self, py: Python<'_>, site: &str, line: &str, stage: &str, at: &str) -> PyResult<bool> {
        let at = timestamp(py, at)?;
        guard(py, || self.inner.is_open(site, line, stage, at).map_err(|e| core(py, e)))
    }

    /// The window containing `after`, or the next one: `{"start", "end"}` in UTC, or `None`.
    fn next_window<'py>(
        &self,
        py: Python<'py>,
        site: &str,
        line: &str,
        stage: &str,
        after: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let after = timestamp(py, after)?;
        guard(py, || {
            self.inner
                .next_window(site, line, stage, after)
                .map_err(|e| core(py, e))?
                .map(|w| to_py(py, &w))
                .transpose()
        })
    }

    /// The calendar document as JSON.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.spec()).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
    }
}

/// A rollout's state (native half of `fleetpath.Rollout`).
#[pyclass(module = "fleetpath._native", frozen, name = "Rollout")]
pub(crate) struct PyRollout {
    pub(crate) inner: Rollout,
}

#[pymethods]
impl PyRollout {
    /// A new rollout (revision 0) from a plan's JSON.
    #[staticmethod]
    #[pyo3(signature = (plan_json, fleet, graph, policy_json=None))]
    fn new(
        py: Python<'_>,
        plan_json: &str,
        fleet: &PyFleet,
        graph: &PyGraph,
        policy_json: Option<&str>,
    ) -> PyResult<Self> {
        let plan: RolloutPlan = json(py, "rollout plan", plan_json)?;
        let policy = policy(py, policy_json)?;
        guard(py, || {
            Rollout::new(&plan, &fleet.inner, &graph.inner, &policy)
                .map(|inner| Self { inner })
                .map_err(|e| core(py, e))
        })
    }

    /// A stored state.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        Ok(Self { inner: json(py, "rollout state", text)? })
    }

    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
    }

    /// The state as Python objects (the JSON form).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner))
    }

    #[getter]
    fn revision(&self) -> u64 {
        self.inner.revision
    }

    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// Applies an event (its JSON): the new state and the actions, as dicts.
    #[pyo3(signature = (event_json, calendar=None))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        event_json: &str,
        calendar: Option<&PyCalendar>,
    ) -> PyResult<(PyRollout, Bound<'py, PyAny>)> {
        let event: Event = json(py, "rollout event", event_json)?;
        guard(py, || {
            let (state, actions) = self.inner.apply(&event, calendar.map(|c| &c.inner)).map_err(|e| core(py, e))?;
            Ok((PyRollout { inner: state }, to_py(py, &actions)?))
        })
    }
}
