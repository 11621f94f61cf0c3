//! `fleetpath.Version` and `fleetpath.VersionRange`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use pyo3::basic::CompareOp;
use pyo3::prelude::*;

use crate::convert;
use crate::errors::{core, guard};

/// A vendor firmware version: `6.15.008`, `V1.04`, `0.48.0.34`, `7.6.0-build3401`.
/// Compared numerically (`6.15.008 == 6.15.8 < 6.15.10`); `str()` keeps the spelling.
///
/// >>> from fleetpath import Version
/// >>> Version("v6.15.008") == Version("6.15.8") < Version("6.15.10"), str(Version("v6.15.008"))
/// (True, 'v6.15.008')
/// >>> Version("6.15.0-rc.1") < Version("6.15.0")
/// True
#[pyclass(module = "fleetpath._native", frozen, name = "Version")]
#[derive(Clone)]
pub(crate) struct PyVersion {
    pub(crate) inner: fleetpath::Version,
}

#[pymethods]
impl PyVersion {
    #[new]
    fn new(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || Ok(Self { inner: convert::version(text, "version")? }))
    }

    /// The numeric components (`[6, 15, 8]`).
    ///
    /// >>> Version("0.48.0.34").components
    /// [0, 48, 0, 34]
    #[getter]
    fn components(&self) -> Vec<u64> {
        self.inner.components()
    }

    /// The pre-release part (`"rc.1"`), or `""`.
    ///
    /// >>> Version("6.15.0-rc.1").prerelease, Version("6.15.0").prerelease
    /// ('rc.1', '')
    #[getter]
    fn prerelease(&self) -> String {
        self.inner.pre().to_string()
    }

    /// The build metadata (`"b42"`), or `""`.
    ///
    /// >>> Version("6.15.0+b42").build
    /// 'b42'
    #[getter]
    fn build(&self) -> String {
        self.inner.build().to_string()
    }

    /// Whether it is a pre-release.
    ///
    /// >>> Version("6.15.0-rc.1").is_prerelease
    /// True
    #[getter]
    fn is_prerelease(&self) -> bool {
        self.inner.is_prerelease()
    }

    /// The canonical spelling (no prefix, no leading zeros).
    ///
    /// >>> Version("V01.04").normalized()
    /// '1.4'
    fn normalized(&self) -> String {
        self.inner.normalized()
    }

    /// The `semver` form, where one exists (three components at most).
    ///
    /// >>> Version("v5.6").to_semver()
    /// '5.6.0'
    /// >>> Version("0.48.0.34").to_semver()
    /// Traceback (most recent call last):
    /// fleetpath.errors.NotSemverError: version "0.48.0.34" has more than three significant components and is not semver
    fn to_semver(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.to_semver().map(|v| v.to_string()).map_err(|e| core(py, e))
    }

    fn __str__(&self) -> &str {
        self.inner.as_str()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Version({})", pyo3::types::PyString::new(py, self.inner.as_str()).repr()?))
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.inner.hash(&mut h);
        h.finish()
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.extract::<PyRef<'_, PyVersion>>() else {
            return Ok(py.NotImplemented());
        };
        Ok(op.matches(self.inner.cmp(&other.inner)).into_pyobject(py)?.to_owned().into_any().unbind())
    }

    fn __reduce__(&self, py: Python<'_>) -> (Py<PyAny>, (String,)) {
        (py.get_type::<Self>().into_any().unbind(), (self.inner.as_str().to_owned(),))
    }
}

/// A version range: `>=5.0, <5.6.30`, `5.6.*`, `^6`, `~5.6`, `5.6.* || ^6`.
///
/// >>> from fleetpath import VersionRange
/// >>> r = VersionRange(">=5.0, <5.6.30")
/// >>> r.matches("5.6.14"), "5.6.30" in r, "v5.06.029" in r
/// (True, False, True)
#[pyclass(module = "fleetpath._native", frozen, name = "VersionRange")]
pub(crate) struct PyVersionRange {
    inner: fleetpath::VersionRange,
}

#[pymethods]
impl PyVersionRange {
    #[new]
    fn new(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || {
            let text = convert::text(text, "range")?;
            fleetpath::VersionRange::parse(&text).map(|inner| Self { inner }).map_err(|e| core(py, e))
        })
    }

    /// Whether `version` (a `Version` or a string) is in the range.
    ///
    /// >>> VersionRange("5.6.*").matches(Version("5.6.30")), VersionRange("^6").matches("5.6.30")
    /// (True, False)
    fn matches(&self, py: Python<'_>, version: &Bound<'_, PyAny>) -> PyResult<bool> {
        guard(py, || Ok(self.inner.matches(&convert::version(version, "version")?)))
    }

    fn __contains__(&self, py: Python<'_>, version: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.matches(py, version)
    }

    fn __str__(&self) -> &str {
        self.inner.as_str()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("VersionRange({})", pyo3::types::PyString::new(py, self.inner.as_str()).repr()?))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.extract::<PyRef<'_, PyVersionRange>>().is_ok_and(|o| o.inner.as_str() == self.inner.as_str())
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.inner.as_str().hash(&mut h);
        h.finish()
    }
}
