//! `fleetpath.UpgradeGraph` and `fleetpath.RouteTable`: wrappers; the core parses, validates
//! and searches.

use fleetpath::graph::cincinnati::CincinnatiGraph;
use fleetpath::{Constraints, Path, RouteTable, UpgradeGraph};
use pyo3::prelude::*;

use crate::convert::{self, document, opt_document, opt_text, version};
use crate::errors::{core, guard, to_py};
use crate::version::PyVersion;

/// The upgrade graph of a manifest (native half of `fleetpath.UpgradeGraph`).
#[pyclass(module = "fleetpath._native", frozen, name = "UpgradeGraph")]
pub(crate) struct PyGraph {
    pub(crate) inner: UpgradeGraph,
}

/// A graph argument: `fleetpath.UpgradeGraph` or its native half.
pub(crate) fn graph_of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyGraph>> {
    convert::native::<PyGraph>(obj, "graph", "an UpgradeGraph")
}

fn highlight(path: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Path>> {
    convert::opt(path, |p| document::<Path>(p, "path"))
}

#[pymethods]
impl PyGraph {
    /// Loads and validates a manifest: JSON text, bytes, a path or the document's objects.
    #[staticmethod]
    fn load(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || Ok(Self { inner: document(source, "manifest")? }))
    }

    /// Reads a Cincinnati graph (JSON text, bytes, a path or the objects) as a manifest.
    #[staticmethod]
    fn from_cincinnati(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        let graph = |g: CincinnatiGraph| g.to_manifest().and_then(UpgradeGraph::new).map_err(|e| core(py, e));
        guard(py, || Ok(Self { inner: graph(document(source, "cincinnati graph")?)? }))
    }

    /// The graph as a Cincinnati client of `model` sees it (`None`: any model).
    #[pyo3(signature = (model=None))]
    fn to_cincinnati<'py>(&self, py: Python<'py>, model: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.to_cincinnati(opt_text(model, "model")?.as_deref())))
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
    fn release<'py>(&self, py: Python<'py>, version_: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(py, || self.inner.release(&version(version_, "version")?).map(|r| to_py(py, r)).transpose())
    }

    /// Every hardware model the graph names, sorted.
    fn models(&self) -> Vec<String> {
        self.inner.models().into_iter().map(str::to_owned).collect()
    }

    /// The newest active, non-pre-release release for `model`.
    fn latest_for(&self, py: Python<'_>, model: &Bound<'_, PyAny>) -> PyResult<PyVersion> {
        guard(py, || {
            let model = convert::text(model, "model")?;
            Ok(PyVersion { inner: self.inner.latest_for(&model).map_err(|e| core(py, e))?.version().clone() })
        })
    }

    /// Every upgrade edge (from, to, edge, generated), by source then target.
    fn edges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.edges().collect::<Vec<_>>()))
    }

    /// The fewest-hop path as a dict (`hops`, each with its release and artifact).
    #[pyo3(signature = (from_, to, constraints=None))]
    fn resolve<'py>(
        &self,
        py: Python<'py>,
        from_: &Bound<'py, PyAny>,
        to: &Bound<'py, PyAny>,
        constraints: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || {
            let (from, to) = (version(from_, "from_")?, version(to, "to")?);
            let path = self.inner.resolve(&from, &to, &opt_document::<Constraints>(constraints, "constraints")?);
            to_py(py, &path.map_err(|e| core(py, e))?)
        })
    }

    /// The first hop of `resolve`'s path, or `None` when `from_` is `to`.
    #[pyo3(signature = (from_, to, constraints=None))]
    fn next_hop<'py>(
        &self,
        py: Python<'py>,
        from_: &Bound<'py, PyAny>,
        to: &Bound<'py, PyAny>,
        constraints: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(py, || {
            let (from, to) = (version(from_, "from_")?, version(to, "to")?);
            let hop = self.inner.next_hop(&from, &to, &opt_document::<Constraints>(constraints, "constraints")?);
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
        model: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || {
            let (from, to, model) = (version(from_, "from_")?, version(to, "to")?, opt_text(model, "model")?);
            let route = fleetpath::rollback::rollback_route(&self.inner, &from, &to, model.as_deref());
            to_py(py, &route.map_err(|e| core(py, e))?)
        })
    }

    /// The next hop toward `to` from every release, in one search.
    #[pyo3(signature = (to, constraints=None))]
    fn route_table(
        &self,
        py: Python<'_>,
        to: &Bound<'_, PyAny>,
        constraints: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRouteTable> {
        guard(py, || {
            let table =
                self.inner.route_table(&version(to, "to")?, &opt_document::<Constraints>(constraints, "constraints")?);
            table.map(|inner| PyRouteTable { inner }).map_err(|e| core(py, e))
        })
    }

    /// Lint findings (code, severity, subject, message), in a stable order.
    fn lint<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.lint()))
    }

    /// `lint`, and the edge risks checked against the devices of `fleet`.
    fn lint_fleet<'py>(&self, py: Python<'py>, fleet: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.lint_fleet(&crate::fleet::fleet_of(fleet)?.get().inner)))
    }

    /// Graphviz DOT, with `path` highlighted.
    #[pyo3(signature = (path=None))]
    fn to_dot(&self, py: Python<'_>, path: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        guard(py, || Ok(self.inner.to_dot(highlight(path)?.as_ref())))
    }

    /// Mermaid, with `path` highlighted.
    #[pyo3(signature = (path=None))]
    fn to_mermaid(&self, py: Python<'_>, path: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        guard(py, || Ok(self.inner.to_mermaid(highlight(path)?.as_ref())))
    }

    /// The manifest document as JSON.
    fn to_json(&self) -> String {
        self.inner.to_manifest().to_json()
    }

    fn __len__(&self) -> usize {
        self.inner.releases().len()
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
        guard(py, || {
            let hop = self.inner.next_hop(&version(from_, "from_")?).map_err(|e| core(py, e))?;
            hop.map(|h| to_py(py, &h)).transpose()
        })
    }

    /// The whole path from `from_`.
    fn resolve<'py>(&self, py: Python<'py>, from_: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.resolve(&version(from_, "from_")?).map_err(|e| core(py, e))?))
    }

    /// Hops from `from_` to the target, or `None` when it cannot get there.
    fn hops(&self, py: Python<'_>, from_: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
        guard(py, || Ok(self.inner.hops(&version(from_, "from_")?)))
    }

    /// Every release that reaches the target: `from`, `next`, `hops`.
    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.entries()))
    }
}
