//! `RetryPolicy`.

use fleetpath::RetryState;
use napi::Either;
use napi_derive::napi;

use crate::convert::{Doc, Json, instant, int, int32, opt_document, to_js};
use crate::{Result, guard};

/// Backoff with jitter for failed downloads: pinned delays per device and attempt.
#[napi]
pub struct RetryPolicy {
    inner: fleetpath::RetryPolicy,
}

/// What `RetryPolicy.afterFailure` returns.
#[napi(object, object_from_js = false)]
pub struct AfterFailure {
    /// The retry state to keep (server-side, or sealed when it travels through the device).
    #[napi(ts_type = "RetryState")]
    pub state: Json,
    /// Retry at a time, or give up.
    #[napi(ts_type = "RetryDecision")]
    pub decision: Json,
}

#[napi]
impl RetryPolicy {
    /// The policy document given, or the defaults.
    #[napi(constructor, ts_args_type = "policy?: object | string | null")]
    pub fn new(policy: Option<Doc>) -> Result<Self> {
        guard(|| Ok(Self { inner: opt_document(policy)? }))
    }

    /// The delay before attempt `attempt` (from 1) of `device`, given the previous delay.
    #[napi]
    pub fn delay_ms(&self, device: String, attempt: f64, previous_ms: f64) -> Result<f64> {
        guard(|| {
            let attempt = int32(attempt, "attempt")?;
            let previous = int(previous_ms, "previous_ms", u64::MAX)?;
            // Delays are capped far below 2^53 ms.
            #[allow(clippy::cast_precision_loss)]
            let delay = self.inner.delay_ms(&device, attempt, previous) as f64;
            Ok(delay)
        })
    }

    /// After a failure of `device` at `at`: the next state and whether (and when) to retry.
    #[napi(ts_args_type = "device: string, at: Date | string | number, state?: RetryState | string | null")]
    pub fn after_failure(&self, device: String, at: Either<String, f64>, state: Option<Doc>) -> Result<AfterFailure> {
        guard(|| {
            let state: RetryState = opt_document(state)?;
            let (next, decision) = self.inner.after_failure(state, &device, instant(at, "at")?);
            Ok(AfterFailure { state: to_js(&next)?, decision: to_js(&decision)? })
        })
    }

    /// The policy with every default filled in.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> Result<Json> {
        guard(|| to_js(&self.inner))
    }
}
