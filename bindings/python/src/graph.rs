//! `fleetpath.UpgradeGraph` and `fleetpath.RouteTable`: wrappers; the core parses, validates
//! and searches.

use fleetpath::{Constraints, Path, RouteTable, UpgradeGraph};
use pyo3::prelude::*;

use crate::errors::{core, guard, raise, to_py};
use crate::version::{PyVersion, extract_version};

/// The upgrade graph of a manifest (native half of `fleetpath.UpgradeGraph`).
#[pyclass(module = "fleetpath._native", frozen, name = "UpgradeGraph")]
pub(crate) struct PyGraph {
    pub(crate) inner: UpgradeGraph,
}

fn constraints(model: Option<String>, allow_blocked: bool, max_hops: Option<u32>) -> Constraints {
    Constraints { model, allow_blocked, max_hops }
}

fn highlight(py: Python<'_>, path_json: Option<&str>) -> PyResult<Option<Path>> {
    path_json
        .map(|text| serde_json::from_str::<Path>(text).map_err(|e| raise(py, "invalid_json", &format!("path: {e}"))))
        .transpose()
}

#[pymethods]
impl PyGraph {
    /// Loads and validates a manifest document (JSON text).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        guard(py, || UpgradeGraph::from_json(text).map(|inner| Self { inner }).map_err(|e| core(py, e)))
    }

    #[getter]
    fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// Every release, oldest first, as dicts (the manifest's fields, `version` as written).
    fn releases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, self.inner.releases()))
    }

    /// The release of `version`, or `None`.
    fn release<'py>(&self, py: Python<'py>, version: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let version = extract_version(py, version)?;
        guard(py, || self.inner.release(&version).map(|r| to_py(py, r)).transpose())
    }

    /// Every hardware model the graph names, sorted.
    fn models(&self) -> Vec<String> {
        self.inner.models().into_iter().map(str::to_owned).collect()
    }

    /// The newest active, non-pre-release release for `model`.
    fn latest_for(&self, model: &str) -> Option<PyVersion> {
        self.inner.latest_for(model).map(|r| PyVersion { inner: r.version().clone() })
    }

    /// The fewest-hop path as a dict (`hops`, each with its release and artifact).
    #[pyo3(signature = (from_, to, model=None, allow_blocked=false, max_hops=None))]
    fn resolve<'py>(
        &self,
        py: Python<'py>,
        from_: &Bound<'py, PyAny>,
        to: &Bound<'py, PyAny>,
        model: Option<String>,
        allow_blocked: bool,
        max_hops: Option<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (from, to) = (extract_version(py, from_)?, extract_version(py, to)?);
        guard(py, || {
            let path = self.inner.resolve(&from, &to, &constraints(model, allow_blocked, max_hops));
            to_py(py, &path.map_err(|e| core(py, e))?)
        })
    }

    /// The first hop of `resolve`'s path, or `None` when `from_` is `to`.
    #[pyo3(signature = (from_, to, model=None, allow_blocked=false, max_hops=None))]
    fn next_hop<'py>(
        &self,
        py: Python<'py>,
        from_: &Bound<'py, PyAny>,
        to: &Bound<'py, PyAny>,
        model: Option<String>,
        allow_blocked: bool,
        max_hops: Option<u32>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let (from, to) = (extract_version(py, from_)?, extract_version(py, to)?);
        guard(py, || {
            let hop = self.inner.next_hop(&from, &to, &constraints(model, allow_blocked, max_hops));
            hop.map_err(|e| core(py, e))?.map(|h| to_py(py, &h)).transpose()
        })
    }

    /// The route back from `from_` to `to` over declared downgrades (a rollback).
    #[pyo3(signature = (from_, to, model=None))]
    fn rollback_route<'py>(
        &self,
        py: Python<'py>,
        from_: &Bound<'py, PyAny>,
        to: &Bound<'py, PyAny>,
        model: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (from, to) = (extract_version(py, from_)?, extract_version(py, to)?);
        guard(py, || {
            let route = fleetpath::rollback::rollback_route(&self.inner, &from, &to, model).map_err(|e| core(py, e))?;
            to_py(py, &route)
        })
    }

    /// The next hop toward `to` from every release, in one search.
    #[pyo3(signature = (to, model=None, allow_blocked=false, max_hops=None))]
    fn route_table(
        &self,
        py: Python<'_>,
        to: &Bound<'_, PyAny>,
        model: Option<String>,
        allow_blocked: bool,
        max_hops: Option<u32>,
    ) -> PyResult<PyRouteTable> {
        let to = extract_version(py, to)?;
        guard(py, || {
            let table = self.inner.route_table(&to, &constraints(model, allow_blocked, max_hops));
            table.map(|inner| PyRouteTable { inner }).map_err(|e| core(py, e))
        })
    }

    /// Lint findings (code, severity, subject, message), in a stable order.
    fn lint<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.lint()))
    }

    /// Graphviz DOT, with `path_json` (a path's JSON) highlighted.
    #[pyo3(signature = (path_json=None))]
    fn to_dot(&self, py: Python<'_>, path_json: Option<&str>) -> PyResult<String> {
        guard(py, || Ok(self.inner.to_dot(highlight(py, path_json)?.as_ref())))
    }

    /// Mermaid, with `path_json` highlighted.
    #[pyo3(signature = (path_json=None))]
    fn to_mermaid(&self, py: Python<'_>, path_json: Option<&str>) -> PyResult<String> {
        guard(py, || Ok(self.inner.to_mermaid(highlight(py, path_json)?.as_ref())))
    }

    /// The manifest document as JSON.
    fn to_json(&self) -> String {
        self.inner.to_manifest().to_json()
    }
}

/// The next hop from every release toward one target (native half of `fleetpath.RouteTable`).
#[pyclass(module = "fleetpath._native", frozen, name = "RouteTable")]
pub(crate) struct PyRouteTable {
    inner: RouteTable,
}

#[pymethods]
impl PyRouteTable {
    #[getter]
    fn target(&self) -> PyVersion {
        PyVersion { inner: self.inner.target().clone() }
    }

    /// The next hop from `from_`, or `None` at the target.
    fn next_hop<'py>(&self, py: Python<'py>, from_: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let from = extract_version(py, from_)?;
        guard(py, || self.inner.next_hop(&from).map_err(|e| core(py, e))?.map(|h| to_py(py, &h)).transpose())
    }

    /// The whole path from `from_`.
    fn resolve<'py>(&self, py: Python<'py>, from_: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let from = extract_version(py, from_)?;
        guard(py, || to_py(py, &self.inner.resolve(&from).map_err(|e| core(py, e))?))
    }

    /// Hops from `from_` to the target, or `None` when it cannot get there.
    fn hops(&self, py: Python<'_>, from_: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
        Ok(self.inner.hops(&extract_version(py, from_)?))
    }

    /// Every release that reaches the target: `from`, `next`, `hops`.
    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.entries()))
    }
}
