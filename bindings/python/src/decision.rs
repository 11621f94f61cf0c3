//! `fleetpath.Decider`: the per-device update decision, single and batch.

use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest, Observations};
use pyo3::prelude::*;

use crate::errors::{core, guard, json, raise, to_py};
use crate::fleet::PyFleet;
use crate::graph::PyGraph;
use crate::rollout::{PyCalendar, PyRollout, timestamp};
use crate::version::extract_version;

/// The update decision over a graph and, optionally, a target, a rollout with its calendar
/// and observed availability (native half of `fleetpath.Decider`). Built once.
#[pyclass(module = "fleetpath._native", frozen, name = "Decider")]
pub(crate) struct PyDecider {
    inner: Decider,
}

impl PyDecider {
    fn with<T>(&self, py: Python<'_>, f: impl FnOnce(&Decider) -> PyResult<T>) -> PyResult<T> {
        guard(py, || f(&self.inner))
    }
}

/// The decision's stable reason code (the core's `Decision::reason`) and its JSON form.
fn with_reason<'py>(py: Python<'py>, decision: &Decision) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
    Ok((decision.reason(), to_py(py, decision)?))
}

/// Requests as Python objects of their JSON form (times already RFC 3339 text).
fn requests<T: serde::de::DeserializeOwned>(py: Python<'_>, what: &str, value: &Bound<'_, PyAny>) -> PyResult<T> {
    pythonize::depythonize(value).map_err(|e| raise(py, "invalid_json", &format!("{what}: {e}")))
}

/// Decisions as JSON text `[[reason, decision], …]`: one string for a whole batch, which
/// Python's `json.loads` turns into objects faster than building them one by one.
fn batch_json(py: Python<'_>, decisions: &[Decision]) -> PyResult<String> {
    let rows: Vec<(&str, &Decision)> = decisions.iter().map(|d| (d.reason(), d)).collect();
    serde_json::to_string(&rows).map_err(|e| raise(py, "internal", &format!("decisions as JSON: {e}")))
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
        let target = target.map(|t| extract_version(py, t)).transpose()?;
        let availability: Option<Observations> = availability_json.map(|t| json(py, "availability", t)).transpose()?;
        // A bad policy or target fails here, not at the first request.
        #[allow(clippy::result_large_err)] // once per Decider; the error goes straight to Python
        let build = || -> Result<Decider, fleetpath::Error> {
            let mut decider = Decider::new(&graph.inner, policy)?;
            if let Some(target) = &target {
                decider = decider.with_target(target)?;
            }
            if let Some(rollout) = rollout {
                decider = decider.with_rollout(rollout.inner.clone(), calendar.map(|c| &c.inner))?;
            }
            if let Some(observed) = availability {
                decider = decider.with_availability(observed);
            }
            Ok(decider)
        };
        let inner = guard(py, || build().map_err(|e| core(py, e)))?;
        Ok(Self { inner })
    }

    /// One request's decision (the request's JSON form as Python objects): `(reason, dict)`.
    fn decide<'py>(&self, py: Python<'py>, request: &Bound<'py, PyAny>) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
        let request: DeviceRequest = requests(py, "device request", request)?;
        self.with(py, |d| with_reason(py, &d.decide(&request)))
    }

    /// Many requests (a list): the same answers as one `decide` each, as [`batch_json`].
    fn decide_all(&self, py: Python<'_>, requests_list: &Bound<'_, PyAny>) -> PyResult<String> {
        let requests: Vec<DeviceRequest> = requests(py, "device requests", requests_list)?;
        self.with(py, |d| batch_json(py, &d.decide_all(&requests)))
    }

    /// Every device of `fleet` asking at `at` (RFC 3339), in fleet order, as [`batch_json`].
    fn decide_fleet(&self, py: Python<'_>, fleet: &PyFleet, at: &str) -> PyResult<String> {
        let at = timestamp(py, at)?;
        self.with(py, |d| batch_json(py, &d.decide_fleet(&fleet.inner, at)))
    }
}
