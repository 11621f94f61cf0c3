//! `fleetpath.Fleet`.

use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, GenericStringArray, OffsetSizeTrait};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::ArrowError;
use fleetpath::Fleet;
use pyo3::prelude::*;

use crate::convert::{self, Source, source, text};
use crate::errors::{core, guard, to_py};
use crate::graph::graph_of;

/// Devices, their models, lines, sites and versions (native half of `fleetpath.Fleet`).
#[pyclass(module = "fleetpath._native", frozen, name = "Fleet")]
pub(crate) struct PyFleet {
    pub(crate) inner: Fleet,
    /// The device ids as an Arrow column, built by the first decision table over the fleet
    /// (the fleet never changes) and shared by the later ones.
    ids: OnceLock<ArrayRef>,
}

impl PyFleet {
    fn new(inner: Fleet) -> Self {
        Self { inner, ids: OnceLock::new() }
    }

    /// The device ids in fleet order, as an Arrow string column: the fleet's text and ends
    /// copied as they are (`large_string` when the ids pass 2 GiB).
    pub(crate) fn id_column(&self) -> Result<ArrayRef, ArrowError> {
        if let Some(ids) = self.ids.get() {
            return Ok(Arc::clone(ids));
        }
        let (text, ends) = self.inner.id_text();
        let values = Buffer::from(text.as_bytes());
        let ids = match string_column::<i32>(ends, values.clone()) {
            Some(column) => column,
            // Past 2 GiB of ids: 64-bit offsets, which any text's length fits (an `isize`).
            None => string_column::<i64>(ends, values)
                .unwrap_or_else(|| Err(ArrowError::ComputeError("device ids past 2^63 bytes".into()))),
        }?;
        Ok(Arc::clone(self.ids.get_or_init(|| ids)))
    }
}

/// A string column of `values` cut at `ends`; `None` when an end does not fit `O`.
fn string_column<O: OffsetSizeTrait>(ends: &[usize], values: Buffer) -> Option<Result<ArrayRef, ArrowError>> {
    let offsets: Vec<O> = std::iter::once(0).chain(ends.iter().copied()).map(O::from_usize).collect::<Option<_>>()?;
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Some(GenericStringArray::<O>::try_new(offsets, values, None).map(|a| Arc::new(a) as ArrayRef))
}

/// A fleet argument: `fleetpath.Fleet` or its native half.
pub(crate) fn fleet_of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyFleet>> {
    convert::native::<PyFleet>(obj, "fleet", "a Fleet")
}

#[pymethods]
impl PyFleet {
    /// A plant's CSV export (text, bytes or a path).
    #[staticmethod]
    fn from_csv(py: Python<'_>, csv: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || {
            let Source::Text(text) = source(csv, "fleet CSV")? else {
                return Err(convert::invalid("fleet CSV", "CSV text, bytes or a path", csv));
            };
            // Read without the GIL, as documents are (see `convert::document`).
            py.detach(|| Fleet::from_csv(&text)).map(Self::new).map_err(|e| core(py, e))
        })
    }

    /// Arrow tabular data: a pyarrow `Table`, `RecordBatch` or `RecordBatchReader`, a polars or
    /// pandas `DataFrame`, any object with `__arrow_c_stream__` or `__arrow_c_array__`.
    #[staticmethod]
    fn from_arrow(py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || crate::table::fleet_of(table).map(Self::new))
    }

    /// A fleet: CSV or JSON text (`{"devices": […]}`), bytes, a path, the JSON's objects, a
    /// list of device dicts or Arrow tabular data.
    #[staticmethod]
    fn load(py: Python<'_>, source_: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || {
            if crate::table::is_table(source_)? {
                return crate::table::fleet_of(source_).map(Self::new);
            }
            let fleet = match source(source_, "fleet")? {
                // Read without the GIL, as documents are (see `convert::document`).
                Source::Text(text) => py.detach(|| Fleet::from_text(&text)),
                Source::Value(value) => Fleet::from_value(value),
            };
            fleet.map(Self::new).map_err(|e| core(py, e))
        })
    }

    fn devices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner.devices()))
    }

    /// The device ids, in the order stated.
    fn ids(&self) -> Vec<&str> {
        self.inner.ids().collect()
    }

    fn get<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(py, || self.inner.get(&text(id, "id")?).map(|d| to_py(py, &d)).transpose())
    }

    fn origin(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        guard(py, || Ok(self.inner.origin(&text(id, "id")?)))
    }

    fn lines(&self) -> Vec<(String, usize)> {
        self.inner.lines().into_iter().map(|(l, n)| (l.to_owned(), n)).collect()
    }

    fn check_against(&self, py: Python<'_>, graph: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(py, || self.inner.check_against(&graph_of(graph)?.get().inner).map_err(|e| core(py, e)))
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
