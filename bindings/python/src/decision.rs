//! `fleetpath.Decider`: the per-device update decision, single and batch.

use fleetpath::artifact::Observations;
use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRecord, DeviceRequest};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{document, instant, opt, opt_document, version};
use crate::errors::{core, guard, internal, to_py};
use crate::fleet::fleet_of;
use crate::graph::graph_of;
use crate::rollout::{calendar_of, rollout_of};

/// The update decision over a graph and, optionally, a target, a rollout with its calendar
/// and observed availability (native half of `fleetpath.Decider`). Built once.
#[pyclass(module = "fleetpath._native", frozen, name = "Decider")]
pub(crate) struct PyDecider {
    inner: Decider,
}

/// Decisions as JSON text `[[reason, decision], …]`: one string for a whole batch, which
/// Python's `json.loads` turns into objects faster than building them one by one.
fn batch_json(py: Python<'_>, decisions: &[Decision]) -> PyResult<String> {
    let rows: Vec<(&str, &Decision)> = decisions.iter().map(|d| (d.reason(), d)).collect();
    serde_json::to_string(&rows).map_err(|e| internal(py, format!("decisions as JSON: {e}")))
}

/// Checks a device's report of a finished update against the host's record: `None` when it
/// names the hop issued, else the refusal `(reason, dict)`.
#[pyfunction]
pub(crate) fn check_report<'py>(
    py: Python<'py>,
    record: &Bound<'py, PyAny>,
    version_: &Bound<'py, PyAny>,
) -> PyResult<Option<(&'static str, Bound<'py, PyAny>)>> {
    guard(py, || {
        let record = document::<DeviceRecord>(record, "record")?;
        match record.check_report(&version(version_, "version")?) {
            Ok(()) => Ok(None),
            Err(refused) => Ok(Some((refused.reason(), to_py(py, &refused)?))),
        }
    })
}

#[pymethods]
impl PyDecider {
    #[new]
    #[pyo3(signature = (graph, policy=None, target=None, rollout=None, calendar=None, availability=None))]
    fn new(
        py: Python<'_>,
        graph: &Bound<'_, PyAny>,
        policy: Option<&Bound<'_, PyAny>>,
        target: Option<&Bound<'_, PyAny>>,
        rollout: Option<&Bound<'_, PyAny>>,
        calendar: Option<&Bound<'_, PyAny>>,
        availability: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        guard(py, || {
            let graph = graph_of(graph)?;
            let policy: DecisionPolicy = opt_document(policy, "policy")?;
            // Built without the GIL (route tables per model: milliseconds on a big graph), as a
            // fleet is read and decided: a service reading its fleet in another thread meanwhile.
            let inner = &graph.get().inner;
            let mut decider = py.detach(|| Decider::new(inner, policy)).map_err(|e| core(py, e))?;
            if let Some(target) = opt(target, |t| version(t, "target"))? {
                decider = decider.with_target(&target).map_err(|e| core(py, e))?;
            }
            if let Some(rollout) = opt(rollout, rollout_of)? {
                let calendar = calendar_of(calendar)?;
                let calendar = calendar.as_ref().map(|c| &c.get().inner);
                decider = decider.with_rollout(rollout.get().inner.clone(), calendar).map_err(|e| core(py, e))?;
            }
            if let Some(availability) = opt(availability, |a| document::<Observations>(a, "availability"))? {
                decider = decider.with_availability(availability);
            }
            Ok(Self { inner: decider })
        })
    }

    /// One request's decision: `(reason, dict)`. With the host's `record` of the device, its
    /// claims are checked first (`refused` when they disagree).
    #[pyo3(signature = (request, record=None))]
    fn decide<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        record: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
        guard(py, || {
            let request = document::<DeviceRequest>(request, "request")?;
            let decision = match opt(record, |r| document::<DeviceRecord>(r, "record"))? {
                Some(record) => self.inner.decide_checked(&request, &record),
                None => self.inner.decide(&request),
            };
            Ok((decision.reason(), to_py(py, &decision)?))
        })
    }

    /// Many requests (a list): the same answers as one `decide` each, as [`batch_json`].
    fn decide_all(&self, py: Python<'_>, requests: &Bound<'_, PyAny>) -> PyResult<String> {
        guard(py, || {
            let requests: Vec<DeviceRequest> = document(requests, "requests")?;
            batch_json(py, &self.inner.decide_all(&requests))
        })
    }

    /// Every device of `fleet` asking at `at`, in fleet order, as one Arrow record batch.
    fn decide_fleet_table(
        &self,
        py: Python<'_>,
        fleet: &Bound<'_, PyAny>,
        at: &Bound<'_, PyAny>,
    ) -> PyResult<crate::arrow::PyDecisionTable> {
        guard(py, || {
            let fleet = fleet_of(fleet)?;
            let fleet = fleet.get();
            let at = instant(at, "at")?;
            // Decided without the GIL: other threads run meanwhile.
            let columns = py.detach(|| self.inner.decide_columns(&fleet.inner, at));
            let ids = fleet.id_column().map_err(|e| internal(py, format!("Arrow: {e}")))?;
            crate::arrow::PyDecisionTable::new(ids, columns).map_err(|e| internal(py, format!("Arrow: {e}")))
        })
    }

    /// Every device of `fleet` asking at `at`, in fleet order: the decisions the rows point
    /// to as [`batch_json`], and per device the index of its own among them (`u32` in the
    /// machine's byte order, as `memoryview.cast("I")` reads it in the same process), so the
    /// package builds one record per entry.
    fn decide_fleet<'py>(
        &self,
        py: Python<'py>,
        fleet: &Bound<'py, PyAny>,
        at: &Bound<'py, PyAny>,
    ) -> PyResult<(String, Bound<'py, PyBytes>)> {
        guard(py, || {
            let (fleet, at) = (fleet_of(fleet)?, instant(at, "at")?);
            let fleet = &fleet.get().inner;
            // Decided without the GIL: other threads run meanwhile.
            let columns = py.detach(|| self.inner.decide_columns(fleet, at));
            let indices: Vec<u8> = columns.indices().iter().flat_map(|i| i.to_ne_bytes()).collect();
            Ok((batch_json(py, columns.distinct())?, PyBytes::new(py, &indices)))
        })
    }
}
