//! `fleetpath.Fleet`.

use fleetpath::Fleet;
use pyo3::prelude::*;

use crate::errors::{core, guard, to_py};
use crate::graph::PyGraph;

/// Devices, their production lines and the firmware they run (native half of
/// `fleetpath.Fleet`).
#[pyclass(module = "fleetpath._native", frozen, name = "Fleet")]
pub(crate) struct PyFleet {
    pub(crate) inner: Fleet,
}

#[pymethods]
impl PyFleet {
    /// From a plant CSV export (`id,model,line,site,version[,label:…]`).
    #[staticmethod]
    fn from_csv(py: Python<'_>, text: &str) -> PyResult<Self> {
        guard(py, || Fleet::from_csv(text).map(|inner| Self { inner }).map_err(|e| core(py, e)))
    }

    /// From JSON (a list of devices, or `{"devices": [...]}`).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        guard(py, || Fleet::from_json(text).map(|inner| Self { inner }).map_err(|e| core(py, e)))
    }

    /// Every device as a dict.
    fn devices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, self.inner.devices()))
    }

    /// The device with `id`, or `None`.
    fn get<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(py, || self.inner.get(id).map(|d| to_py(py, d)).transpose())
    }

    /// Where a device was stated (`row 3`, `devices[2]`).
    fn origin(&self, id: &str) -> Option<String> {
        self.inner.origin(id).map(str::to_owned)
    }

    /// Production lines and their device counts, sorted by line.
    fn lines(&self) -> Vec<(String, usize)> {
        self.inner.lines().into_iter().map(|(l, n)| (l.to_owned(), n)).collect()
    }

    /// Checks every device's version against the graph.
    fn check_against(&self, py: Python<'_>, graph: &PyGraph) -> PyResult<()> {
        guard(py, || self.inner.check_against(&graph.inner).map_err(|e| core(py, e)))
    }

    fn to_csv(&self) -> String {
        self.inner.to_csv()
    }

    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}
