//! `RetryPolicy`.

use fleetpath::RetryState;
use wasm_bindgen::prelude::*;

use crate::Result;
use crate::convert::{instant, int, int32, object, opt_document, text, to_js};

#[wasm_bindgen(typescript_custom_section)]
const AFTER_FAILURE: &str = r"
/** What `RetryPolicy.afterFailure` returns. */
export interface AfterFailure {
  /** The retry state to keep (server-side, or sealed when it travels through the device). */
  state: RetryState;
  /** Retry at a time, or give up. */
  decision: RetryDecision;
}
";

/// Backoff with jitter for failed downloads: pinned delays per device and attempt.
#[wasm_bindgen]
pub struct RetryPolicy {
    inner: fleetpath::RetryPolicy,
}

#[wasm_bindgen]
impl RetryPolicy {
    /// The policy document given, or the defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "object | string | null")] policy: JsValue,
    ) -> Result<RetryPolicy> {
        Ok(Self { inner: opt_document(&policy, "policy")? })
    }

    /// The delay before attempt `attempt` (from 1) of `device`, given the previous delay.
    #[wasm_bindgen(js_name = "delayMs")]
    pub fn delay_ms(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] device: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] attempt: JsValue,
        #[wasm_bindgen(js_name = "previousMs", unchecked_param_type = "number")] previous_ms: JsValue,
    ) -> Result<f64> {
        let device = text(&device, "device")?;
        let attempt = int32(&attempt, "attempt")?;
        let previous = int(&previous_ms, "previous_ms", u64::MAX)?;
        // Delays are capped far below 2^53 ms.
        #[allow(clippy::cast_precision_loss)]
        let delay = self.inner.delay_ms(&device, attempt, previous) as f64;
        Ok(delay)
    }

    /// After a failure of `device` at `at`: `{state, decision}`, the next state and whether
    /// (and when) to retry.
    #[wasm_bindgen(js_name = "afterFailure", unchecked_return_type = "AfterFailure")]
    pub fn after_failure(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] device: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Date | string | number")] at: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RetryState | string | null")] state: JsValue,
    ) -> Result<JsValue> {
        let device = text(&device, "device")?;
        let state: RetryState = opt_document(&state, "state")?;
        let (next, decision) = self.inner.after_failure(state, &device, instant(&at, "at")?);
        Ok(object(&[("state", to_js(&next)?), ("decision", to_js(&decision)?)]))
    }

    /// The policy with every default filled in.
    #[wasm_bindgen(js_name = "toJSON", unchecked_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> Result<JsValue> {
        to_js(&self.inner)
    }
}
