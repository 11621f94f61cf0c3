//! `fleetpath.Decider`: the per-device update decision, single and batch.

use std::collections::BTreeMap;

use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest};
use fleetpath::{Availability, Calendar, Rollout, UpgradeGraph, Version};
use pyo3::prelude::*;

use crate::errors::{core, guard, json, to_py};
use crate::fleet::PyFleet;
use crate::graph::PyGraph;
use crate::rollout::{PyCalendar, PyRollout, timestamp};
use crate::version::extract_version;

/// The inputs of a core `Decider`, owned (the core's borrows them for one batch; this builds
/// it per call, so answer many devices with one `decide_all` or `decide_fleet`).
#[pyclass(module = "fleetpath._native", frozen, name = "Decider")]
pub(crate) struct PyDecider {
    graph: UpgradeGraph,
    policy: DecisionPolicy,
    target: Option<Version>,
    rollout: Option<Rollout>,
    calendar: Option<Calendar>,
    availability: Option<BTreeMap<String, Availability>>,
}

impl PyDecider {
    fn with<T>(&self, py: Python<'_>, f: impl FnOnce(&Decider<'_>) -> PyResult<T>) -> PyResult<T> {
        guard(py, || {
            let mut decider = Decider::new(&self.graph, self.policy.clone()).map_err(|e| core(py, e))?;
            if let Some(target) = &self.target {
                decider = decider.with_target(target).map_err(|e| core(py, e))?;
            }
            if let Some(rollout) = &self.rollout {
                decider = decider.with_rollout(rollout, self.calendar.as_ref()).map_err(|e| core(py, e))?;
            }
            if let Some(observed) = &self.availability {
                decider = decider.with_availability(observed);
            }
            f(&decider)
        })
    }
}

/// The decision's stable reason code (the core's `Decision::reason`) and its JSON form.
fn with_reason<'py>(py: Python<'py>, decision: &Decision) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
    Ok((decision.reason(), to_py(py, decision)?))
}

#[pymethods]
impl PyDecider {
    #[new]
    #[pyo3(signature = (graph, policy_json=None, target=None, rollout=None, calendar=None, availability_json=None))]
    fn new(
        py: Python<'_>,
        graph: &PyGraph,
        policy_json: Option<&str>,
        target: Option<&Bound<'_, PyAny>>,
        rollout: Option<&PyRollout>,
        calendar: Option<&PyCalendar>,
        availability_json: Option<&str>,
    ) -> PyResult<Self> {
        let policy = policy_json.map_or_else(|| Ok(DecisionPolicy::default()), |t| json(py, "decision policy", t))?;
        let decider = Self {
            graph: graph.inner.clone(),
            policy,
            target: target.map(|t| extract_version(py, t)).transpose()?,
            rollout: rollout.map(|r| r.inner.clone()),
            calendar: calendar.map(|c| c.inner.clone()),
            availability: availability_json.map(|t| json(py, "availability", t)).transpose()?,
        };
        // Built once now so a bad policy or target fails here, not at the first request.
        decider.with(py, |_| Ok(()))?;
        Ok(decider)
    }

    /// One request's decision (the request as JSON): `(reason, decision dict)`.
    fn decide<'py>(&self, py: Python<'py>, request_json: &str) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
        let request: DeviceRequest = json(py, "device request", request_json)?;
        self.with(py, |d| with_reason(py, &d.decide(&request)))
    }

    /// Many requests (a JSON list): the same answers as one `decide` each.
    fn decide_all<'py>(
        &self,
        py: Python<'py>,
        requests_json: &str,
    ) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>)>> {
        let requests: Vec<DeviceRequest> = json(py, "device requests", requests_json)?;
        self.with(py, |d| d.decide_all(&requests).iter().map(|x| with_reason(py, x)).collect())
    }

    /// Every device of `fleet` asking at `at` (RFC 3339), in fleet order.
    fn decide_fleet<'py>(
        &self,
        py: Python<'py>,
        fleet: &PyFleet,
        at: &str,
    ) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>)>> {
        let at = timestamp(py, at)?;
        self.with(py, |d| d.decide_fleet(&fleet.inner, at).iter().map(|x| with_reason(py, x)).collect())
    }
}
