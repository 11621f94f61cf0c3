//! `Version` and `VersionRange`.

use wasm_bindgen::prelude::*;

use crate::convert::{text, to_js, version};
use crate::{Result, core};

/// A firmware version as vendors write them (`v5.6.14`, `6.15.008`, `5.6.14-rc1`): parsed once,
/// compared numerically, kept as written.
#[wasm_bindgen]
pub struct Version {
    pub(crate) inner: fleetpath::Version,
}

#[wasm_bindgen]
impl Version {
    /// Parses `text`; throws the version's own error (`empty_component`, …) when it is not one.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "string")] text: JsValue) -> Result<Version> {
        Ok(Self { inner: version(&text, "version")? })
    }

    /// The numeric components (`[5, 6, 14]`).
    #[wasm_bindgen(getter, unchecked_return_type = "number[]")]
    pub fn components(&self) -> Result<JsValue> {
        // Components above 2^53 print exactly in `normalized()`; as numbers they round.
        #[allow(clippy::cast_precision_loss)]
        let numbers: Vec<f64> = self.inner.components().into_iter().map(|c| c as f64).collect();
        to_js(&numbers)
    }

    /// The pre-release part (`rc1`), empty when there is none.
    #[wasm_bindgen(getter)]
    pub fn prerelease(&self) -> String {
        self.inner.pre().to_string()
    }

    /// The build metadata (after `+`), empty when there is none.
    #[wasm_bindgen(getter)]
    pub fn build(&self) -> String {
        self.inner.build().to_string()
    }

    /// Whether it is a pre-release.
    #[wasm_bindgen(getter, js_name = "isPrerelease")]
    pub fn is_prerelease(&self) -> bool {
        self.inner.is_prerelease()
    }

    /// The normalized form (`5.6.14`): no `v`, no leading zeros.
    pub fn normalized(&self) -> String {
        self.inner.normalized()
    }

    /// The strict `SemVer` 2.0 form; throws `not_semver` when there is none.
    #[wasm_bindgen(js_name = "toSemver")]
    pub fn to_semver(&self) -> Result<String> {
        self.inner.to_semver().map(|v| v.to_string()).map_err(core)
    }

    /// Compares with another version: -1, 0 or 1 (for `Array.prototype.sort`).
    pub fn compare(&self, #[wasm_bindgen(unchecked_param_type = "Version | string")] other: JsValue) -> Result<i32> {
        Ok(self.inner.cmp(&version(&other, "other")?) as i32)
    }

    /// Whether it equals another version numerically (`v5.6.14` equals `5.6.14`).
    pub fn equals(&self, #[wasm_bindgen(unchecked_param_type = "Version | string")] other: JsValue) -> Result<bool> {
        Ok(self.inner == version(&other, "other")?)
    }

    /// The version as written.
    #[wasm_bindgen(js_name = "toString")]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        self.inner.as_str().to_owned()
    }

    /// `JSON.stringify` writes the version as written.
    #[wasm_bindgen(js_name = "toJSON")]
    pub fn to_json(&self) -> String {
        self.inner.as_str().to_owned()
    }
}

/// A version range (`>=5.6.0, <5.6.30`), as manifests write them.
#[wasm_bindgen]
pub struct VersionRange {
    inner: fleetpath::VersionRange,
}

#[wasm_bindgen]
impl VersionRange {
    /// Parses `text`; throws `invalid_range` when it is not one.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = "text", unchecked_param_type = "string")] range: JsValue,
    ) -> Result<VersionRange> {
        fleetpath::VersionRange::parse(&text(&range, "range")?).map(|inner| Self { inner }).map_err(core)
    }

    /// Whether `version` is in the range.
    pub fn matches(
        &self,
        #[wasm_bindgen(js_name = "version", unchecked_param_type = "Version | string")] version_: JsValue,
    ) -> Result<bool> {
        Ok(self.inner.matches(&version(&version_, "version")?))
    }

    /// The range as written.
    #[wasm_bindgen(js_name = "toString")]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        self.inner.as_str().to_owned()
    }

    /// `JSON.stringify` writes the range as written.
    #[wasm_bindgen(js_name = "toJSON")]
    pub fn to_json(&self) -> String {
        self.inner.as_str().to_owned()
    }
}
