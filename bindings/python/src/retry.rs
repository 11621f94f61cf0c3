//! `fleetpath.RetryPolicy`: backoff with jitter and give-up, for devices that retry a
//! download. Seeded, so every binding gives the same delays.

use fleetpath::{RetryPolicy, RetryState};
use pyo3::prelude::*;

use crate::convert::{instant, int, opt_document, text};
use crate::errors::{guard, internal, to_py};

/// A retry policy (native half of `fleetpath.RetryPolicy`).
#[pyclass(module = "fleetpath._native", frozen, name = "RetryPolicy")]
pub(crate) struct PyRetryPolicy {
    inner: RetryPolicy,
}

#[pymethods]
impl PyRetryPolicy {
    #[new]
    #[pyo3(signature = (policy=None))]
    fn new(py: Python<'_>, policy: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(py, || Ok(Self { inner: opt_document(policy, "policy")? }))
    }

    /// The delay before attempt `attempt` (from 1) of `device`, in milliseconds.
    fn delay_ms(
        &self,
        py: Python<'_>,
        device: &Bound<'_, PyAny>,
        attempt: &Bound<'_, PyAny>,
        previous_ms: &Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        guard(py, || {
            let attempt = int(attempt, "attempt", "0 to 4294967295")?;
            let previous = int(previous_ms, "previous_ms", "0 to 18446744073709551615")?;
            Ok(self.inner.delay_ms(&text(device, "device")?, attempt, previous))
        })
    }

    /// After a failed attempt at `at`: the next state and the decision (retry at, or give up).
    #[pyo3(signature = (device, at, state=None))]
    fn after_failure<'py>(
        &self,
        py: Python<'py>,
        device: &Bound<'py, PyAny>,
        at: &Bound<'py, PyAny>,
        state: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        guard(py, || {
            let state: RetryState = opt_document(state, "state")?;
            let (next, decision) = self.inner.after_failure(state, &text(device, "device")?, instant(at, "at")?);
            Ok((to_py(py, &next)?, to_py(py, &decision)?))
        })
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| internal(py, e.to_string()))
    }
}
