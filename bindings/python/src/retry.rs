//! `fleetpath.RetryPolicy`: backoff with jitter and give-up, for devices that retry a
//! download. Seeded, so every binding gives the same delays.

use fleetpath::{RetryPolicy, RetryState};
use pyo3::prelude::*;

use crate::errors::{guard, json, raise, to_py};
use crate::rollout::timestamp;

/// Retry delays and give-up rules (native half of `fleetpath.RetryPolicy`).
#[pyclass(module = "fleetpath._native", frozen, name = "RetryPolicy")]
pub(crate) struct PyRetryPolicy {
    inner: RetryPolicy,
}

#[pymethods]
impl PyRetryPolicy {
    /// The policy (JSON), or the defaults.
    #[new]
    #[pyo3(signature = (policy_json=None))]
    fn new(py: Python<'_>, policy_json: Option<&str>) -> PyResult<Self> {
        let inner = policy_json.map_or_else(|| Ok(RetryPolicy::default()), |t| json(py, "retry policy", t))?;
        Ok(Self { inner })
    }

    /// The delay before retry `attempt` (1-based) of `device`, in milliseconds.
    fn delay_ms(&self, py: Python<'_>, device: &str, attempt: u32, previous_ms: u64) -> PyResult<u64> {
        guard(py, || Ok(self.inner.delay_ms(device, attempt, previous_ms)))
    }

    /// After a failure at `at` (RFC 3339): the new retry state and the decision, as dicts.
    #[pyo3(signature = (device, at, state_json=None))]
    fn after_failure<'py>(
        &self,
        py: Python<'py>,
        device: &str,
        at: &str,
        state_json: Option<&str>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let at = timestamp(py, at)?;
        let state: RetryState = state_json.map_or_else(|| Ok(RetryState::default()), |t| json(py, "retry state", t))?;
        guard(py, || {
            let (next, decision) = self.inner.after_failure(state, device, at);
            Ok((to_py(py, &next)?, to_py(py, &decision)?))
        })
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| raise(py, "internal", &e.to_string()))
    }
}
