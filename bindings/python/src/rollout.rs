//! `fleetpath.plan_rollout`, `fleetpath.plan_prefetch`, `fleetpath.Calendar` and
//! `fleetpath.Rollout` (the state machine). Documents (policies, plans, events, states,
//! availability) come in as text or objects and are read by the core; results go out as the
//! Python objects of their JSON.

use fleetpath::artifact::Observations;
use fleetpath::prefetch::PrefetchPolicy;
use fleetpath::{Calendar, Event, Rollout, RolloutPlan, RolloutPolicy, plan_rollout};
use pyo3::prelude::*;

use crate::convert::{self, document, instant, opt_document, text, version};
use crate::errors::{core, guard, internal, to_py};
use crate::fleet::fleet_of;
use crate::graph::graph_of;

/// A calendar argument (`None` passes).
pub(crate) fn calendar_of<'py>(obj: Option<&Bound<'py, PyAny>>) -> PyResult<Option<Bound<'py, PyCalendar>>> {
    convert::opt(obj, |c| convert::native::<PyCalendar>(c, "calendar", "a Calendar"))
}

/// A rollout argument: `fleetpath.Rollout` or its native half.
pub(crate) fn rollout_of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyRollout>> {
    convert::native::<PyRollout>(obj, "rollout", "a Rollout")
}

/// The rollout policy `plan_rollout` uses when given none (a dict of the policy document).
#[pyfunction]
pub(crate) fn default_rollout_policy(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    guard(py, || to_py(py, &RolloutPolicy::default()))
}

/// Plans the stages of a rollout of `target` over `fleet` (a dict of the plan).
#[pyfunction]
#[pyo3(name = "plan_rollout", signature = (graph, fleet, target, rollout_id, policy=None))]
pub(crate) fn py_plan_rollout<'py>(
    py: Python<'py>,
    graph: &Bound<'py, PyAny>,
    fleet: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    rollout_id: &Bound<'py, PyAny>,
    policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let (graph, fleet) = (graph_of(graph)?, fleet_of(fleet)?);
        let (target, id) = (version(target, "target")?, text(rollout_id, "rollout_id")?);
        let policy: RolloutPolicy = opt_document(policy, "policy")?;
        let plan = plan_rollout(&graph.get().inner, &fleet.get().inner, &target, &policy, &id);
        to_py(py, &plan.map_err(|e| core(py, e))?)
    })
}

/// The prefetch plan of a rollout: which archived artifacts to restore, at which tier and by
/// when, so each is ready when its stage's window opens (a dict of the plan).
#[pyfunction]
#[pyo3(name = "plan_prefetch", signature = (rollout, graph, availability, at, calendar=None, policy=None))]
pub(crate) fn py_plan_prefetch<'py>(
    py: Python<'py>,
    rollout: &Bound<'py, PyAny>,
    graph: &Bound<'py, PyAny>,
    availability: &Bound<'py, PyAny>,
    at: &Bound<'py, PyAny>,
    calendar: Option<&Bound<'py, PyAny>>,
    policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let rollout = rollout_of(rollout)?;
        let graph = graph_of(graph)?;
        let observed: Observations = document(availability, "availability")?;
        let policy: PrefetchPolicy = opt_document(policy, "policy")?;
        let calendar = calendar_of(calendar)?;
        let plan = fleetpath::prefetch::plan_prefetch(
            &rollout.get().inner,
            &graph.get().inner,
            calendar.as_ref().map(|c| &c.get().inner),
            &observed,
            &policy,
            instant(at, "at")?,
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
    /// A calendar document: JSON text, bytes, a path or the objects.
    #[staticmethod]
    fn load(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || Ok(Self { inner: document(source, "calendar")? }))
    }

    /// Whether `line` at `site` is open for `stage` at `at`.
    fn is_open(
        &self,
        py: Python<'_>,
        site: &Bound<'_, PyAny>,
        line: &Bound<'_, PyAny>,
        stage: &Bound<'_, PyAny>,
        at: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        guard(py, || {
            let (site, line, stage) = (text(site, "site")?, text(line, "line")?, text(stage, "stage")?);
            self.inner.is_open(&site, &line, &stage, instant(at, "at")?).map_err(|e| core(py, e))
        })
    }

    /// The window containing `after`, or the next one: `{"start", "end"}` in UTC, or `None`.
    fn next_window<'py>(
        &self,
        py: Python<'py>,
        site: &Bound<'py, PyAny>,
        line: &Bound<'py, PyAny>,
        stage: &Bound<'py, PyAny>,
        after: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(py, || {
            let (site, line, stage) = (text(site, "site")?, text(line, "line")?, text(stage, "stage")?);
            let window = self.inner.next_window(&site, &line, &stage, instant(after, "after")?);
            window.map_err(|e| core(py, e))?.map(|w| to_py(py, &w)).transpose()
        })
    }

    /// The calendar document as JSON.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(self.inner.spec()).map_err(|e| internal(py, e.to_string()))
    }
}

/// A rollout's state (native half of `fleetpath.Rollout`).
#[pyclass(module = "fleetpath._native", frozen, name = "Rollout")]
pub(crate) struct PyRollout {
    pub(crate) inner: Rollout,
}

#[pymethods]
impl PyRollout {
    /// A new rollout (revision 0) from a plan.
    #[staticmethod]
    #[pyo3(signature = (plan, fleet, graph, policy=None))]
    fn new(
        py: Python<'_>,
        plan: &Bound<'_, PyAny>,
        fleet: &Bound<'_, PyAny>,
        graph: &Bound<'_, PyAny>,
        policy: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        guard(py, || {
            let plan: RolloutPlan = document(plan, "plan")?;
            let policy: RolloutPolicy = opt_document(policy, "policy")?;
            let (fleet, graph) = (fleet_of(fleet)?, graph_of(graph)?);
            let rollout = Rollout::new(&plan, &fleet.get().inner, &graph.get().inner, &policy);
            rollout.map(|inner| Self { inner }).map_err(|e| core(py, e))
        })
    }

    /// A stored state: JSON text, bytes or the objects.
    #[staticmethod]
    fn load(py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || Ok(Self { inner: document(state, "state")? }))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| internal(py, e.to_string()))
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

    /// Applies an event: the new state and the actions, as dicts.
    #[pyo3(signature = (event, calendar=None))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
        calendar: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(PyRollout, Bound<'py, PyAny>)> {
        guard(py, || {
            let event: Event = document(event, "event")?;
            let calendar = calendar_of(calendar)?;
            let applied = self.inner.apply(&event, calendar.as_ref().map(|c| &c.get().inner));
            let (state, actions) = applied.map_err(|e| core(py, e))?;
            Ok((PyRollout { inner: state }, to_py(py, &actions)?))
        })
    }
}
