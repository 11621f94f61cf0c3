//! The native half of the npm package `fleetpath` (napi-rs). Wrappers only: the core parses,
//! validates, computes and explains; this crate converts JavaScript values to the core's types
//! and back, and `index.js` turns the errors it raises into the package's error classes.
//!
//! Conventions every wrapper follows:
//! - documents (manifests, fleets, policies, events, requests…) arrive as `serde_json::Value`:
//!   a string is the document's JSON text (errors give line and column), anything else its
//!   value (errors give the JSON path); `index.js` has already decoded bytes to text;
//! - times arrive as RFC 3339 text or unix seconds (`index.js` turns a `Date` into text);
//! - versions arrive as text (`index.js` turns a `Version` into its text);
//! - results leave as the core's serde JSON, as plain JavaScript objects;
//! - every body runs inside [`guard`], so a panic becomes the `internal` error, never an abort.

// The addon's items are `pub` for napi-rs; JavaScript, not another crate, reaches them.
#![allow(unreachable_pub)]
// napi-rs hands every argument over as an owned value (it converts it from JavaScript), and
// what a function throws is documented for JavaScript (the `.d.ts`), not as a Rust `# Errors`.
#![allow(clippy::needless_pass_by_value, clippy::missing_errors_doc)]
// napi-rs registers the exported items only outside `cfg(test)` (clippy's test build).
#![cfg_attr(test, allow(dead_code))]

pub mod convert;
mod decision;
mod fleet;
mod graph;
mod health;
mod retry;
mod rollout;
mod s3;
mod trust;
mod version;

use napi_derive::napi;

pub(crate) use convert::{Result, core, guard};

/// Every error code, by module: the core's, then `fleetpath-aws`'s (`s3`).
#[napi]
pub fn error_codes() -> Vec<ErrorModule> {
    let s3 = ("s3", fleetpath_aws::S3Error::CODES);
    let modules = fleetpath::ERROR_CODES.iter().chain([&s3]);
    modules
        .map(|(module, codes)| ErrorModule {
            module: (*module).to_owned(),
            codes: codes.iter().map(|c| (*c).to_owned()).collect(),
        })
        .collect()
}

/// The error codes of one module of the core.
#[napi(object)]
pub struct ErrorModule {
    /// The module (`graph`, `trust`, `s3`…).
    pub module: String,
    /// Its codes (`snake_case`).
    pub codes: Vec<String>,
}

/// Every reason a decision can give.
#[napi]
pub fn decision_reasons() -> Vec<&'static str> {
    fleetpath::decision::reasons()
}

/// The package's version.
#[napi]
pub fn package_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Panics on purpose, to test that a panic reaches JavaScript as `FleetpathError` (`internal`).
///
/// # Panics
/// Always, inside [`guard`], which turns the panic into the `internal` error.
#[napi(js_name = "_panicForTests")]
pub fn panic_for_tests() -> Result<()> {
    guard(|| -> Result<()> { panic!("deliberate test panic") })
}
