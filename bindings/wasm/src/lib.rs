//! The Rust half of the npm package `fleetpath-wasm` (wasm-bindgen). Wrappers only: the core
//! parses, validates, computes and explains; this crate converts JavaScript values to the
//! core's types and back, and the package's `index.js` (shared with the Node package) turns
//! the errors it throws into the package's error classes.
//!
//! The same conventions as the Node addon (`bindings/node`), so both packages answer alike:
//! - documents (manifests, fleets, policies, events, requests…) arrive as any JavaScript value:
//!   a string is the document's JSON text (errors give line and column), anything else its
//!   value (errors give the JSON path); `index.js` has already decoded bytes to text;
//! - times arrive as RFC 3339 text or unix seconds (`index.js` turns a `Date` into text);
//! - versions arrive as text (`index.js` turns a `Version` into its text);
//! - results leave as the core's serde JSON, as plain JavaScript objects (`JSON.parse`);
//! - every argument is checked here, so a value of the wrong type is `invalid_input`.
//!
//! Panics: wasm32 builds abort on panic (no unwinding), so a panic traps the instance. The panic
//! hook installed at start keeps the panic's `internal` error; `index.js` rethrows it as
//! `FleetpathError` and restores the stack pointer the trap left behind, so the instance stays
//! usable (see `takePanic`).

// wasm-bindgen hands arguments over as owned values, and what a function throws is documented
// for JavaScript (the `.d.ts`), not as a Rust `# Errors` section.
#![allow(clippy::needless_pass_by_value, clippy::missing_errors_doc)]
// The exported items are `pub` for wasm-bindgen; JavaScript, not another crate, reaches them.
#![allow(unreachable_pub)]

pub mod convert;
pub mod decision;
pub mod fleet;
pub mod graph;
mod handles;
pub mod health;
pub mod retry;
pub mod rollout;
pub mod s3;
pub mod store;
pub mod trust;
pub mod version;

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

pub(crate) use convert::{Result, core};

/// The plain objects results are made of and arguments take, for the TypeScript declarations:
/// the Node package's `types.d.ts`, the one source both packages' types come from. Each export's
/// types below name them, as the Node package's `ts_args_type`/`ts_return_type` do.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../../node/types.d.ts");

thread_local! {
    /// The `internal` error of the last panic, as the payload `index.js` rebuilds.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the panic hook (wasm-bindgen runs this when the module is instantiated).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("unknown panic").to_owned();
        let payload = convert::payload(&fleetpath::Error::Internal { message });
        // `try_with`: a panic while the thread-local is being torn down must not panic again.
        let _ = PANIC.try_with(|p| p.replace(Some(payload)));
    }));
}

/// The `internal` error of the panic that just trapped the instance, once, or `undefined`.
#[wasm_bindgen(js_name = "takePanic")]
pub fn take_panic() -> Option<String> {
    PANIC.with(RefCell::take)
}

#[wasm_bindgen(typescript_custom_section)]
const ERROR_MODULE: &str = r"
/** The error codes of one module of the core. */
export interface ErrorModule {
  /** The module (`graph`, `trust`, `s3`…). */
  module: string;
  /** Its codes (`snake_case`). */
  codes: string[];
}
";

/// Every error code, by module: the core's, then `fleetpath-aws`'s (`s3`).
#[wasm_bindgen(js_name = "errorCodes", unchecked_return_type = "ErrorModule[]")]
pub fn error_codes() -> Result<JsValue> {
    let s3 = ("s3", fleetpath_aws::S3Error::CODES);
    let modules: Vec<serde_json::Value> = fleetpath::ERROR_CODES
        .iter()
        .chain([&s3])
        .map(|(module, codes)| serde_json::json!({ "module": module, "codes": codes }))
        .collect();
    convert::to_js(&modules)
}

/// Every reason a decision can give.
#[wasm_bindgen(js_name = "decisionReasons")]
pub fn decision_reasons() -> Vec<String> {
    fleetpath::decision::reasons().into_iter().map(str::to_owned).collect()
}

/// The package's version.
#[wasm_bindgen(js_name = "packageVersion")]
pub fn package_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Panics on purpose, to test that a panic reaches JavaScript as `FleetpathError` (`internal`).
///
/// # Panics
/// Always.
#[wasm_bindgen(js_name = "_panicForTests")]
pub fn panic_for_tests() {
    panic!("deliberate test panic");
}
