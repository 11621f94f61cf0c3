//! `Version` and `VersionRange`.

use napi_derive::napi;

use crate::{Result, core, guard};

/// A firmware version as vendors write them (`v5.6.14`, `6.15.008`, `5.6.14-rc1`): parsed once,
/// compared numerically, kept as written.
#[napi]
pub struct Version {
    pub(crate) inner: fleetpath::Version,
}

#[napi]
impl Version {
    /// Parses `text`; throws the version's own error (`empty_component`, …) when it is not one.
    #[napi(constructor)]
    pub fn new(text: String) -> Result<Self> {
        guard(|| Ok(Self { inner: crate::convert::version(&text)? }))
    }

    /// The numeric components (`[5, 6, 14]`).
    #[napi(getter)]
    pub fn components(&self) -> Vec<f64> {
        // Components above 2^53 print exactly in `normalized()`; as numbers they round.
        #[allow(clippy::cast_precision_loss)]
        self.inner.components().into_iter().map(|c| c as f64).collect()
    }

    /// The pre-release part (`rc1`), empty when there is none.
    #[napi(getter)]
    pub fn prerelease(&self) -> String {
        self.inner.pre().to_string()
    }

    /// The build metadata (after `+`), empty when there is none.
    #[napi(getter)]
    pub fn build(&self) -> String {
        self.inner.build().to_string()
    }

    /// Whether it is a pre-release.
    #[napi(getter)]
    pub fn is_prerelease(&self) -> bool {
        self.inner.is_prerelease()
    }

    /// The normalized form (`5.6.14`): no `v`, no leading zeros.
    #[napi]
    pub fn normalized(&self) -> String {
        self.inner.normalized()
    }

    /// The strict `SemVer` 2.0 form; throws `not_semver` when there is none.
    #[napi]
    pub fn to_semver(&self) -> Result<String> {
        self.inner.to_semver().map(|v| v.to_string()).map_err(core)
    }

    /// Compares with another version: -1, 0 or 1 (for `Array.prototype.sort`).
    #[napi(ts_args_type = "other: Version | string")]
    pub fn compare(&self, other: String) -> Result<i32> {
        guard(|| Ok(self.inner.cmp(&crate::convert::version(&other)?) as i32))
    }

    /// Whether it equals another version numerically (`v5.6.14` equals `5.6.14`).
    #[napi(ts_args_type = "other: Version | string")]
    pub fn equals(&self, other: String) -> Result<bool> {
        guard(|| Ok(self.inner == crate::convert::version(&other)?))
    }

    /// The version as written.
    #[napi]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        self.inner.as_str().to_owned()
    }

    /// `JSON.stringify` writes the version as written.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> String {
        self.inner.as_str().to_owned()
    }
}

/// A version range (`>=5.6.0, <5.6.30`), as manifests write them.
#[napi]
pub struct VersionRange {
    inner: fleetpath::VersionRange,
}

#[napi]
impl VersionRange {
    /// Parses `text`; throws `invalid_range` when it is not one.
    #[napi(constructor)]
    pub fn new(text: String) -> Result<Self> {
        guard(|| fleetpath::VersionRange::parse(&text).map(|inner| Self { inner }).map_err(core))
    }

    /// Whether `version` is in the range.
    #[napi(ts_args_type = "version: Version | string")]
    pub fn matches(&self, version: String) -> Result<bool> {
        guard(|| Ok(self.inner.matches(&crate::convert::version(&version)?)))
    }

    /// The range as written.
    #[napi]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        self.inner.as_str().to_owned()
    }

    /// `JSON.stringify` writes the range as written.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> String {
        self.inner.as_str().to_owned()
    }
}
