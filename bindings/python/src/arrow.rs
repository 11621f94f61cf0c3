//! `fleetpath._native.DecisionTable`: a fleet's decisions as one Arrow record batch, handed to
//! `pyarrow`, `polars` or `pandas` through the Arrow `PyCapsule` interface (`__arrow_c_array__`,
//! `__arrow_c_stream__`, `__arrow_c_schema__`), without one Python object per device.
//!
//! Columns: `device` (utf8), `kind`, `reason`, `next` and `host_action` (dictionary-encoded
//! utf8; `next` null without a download or rollback), `at` (timestamp in ms, UTC; null when
//! there is no time to ask again).

use std::sync::Arc;

use arrow_array::types::{UInt8Type, UInt16Type, UInt32Type};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, RecordBatch, RecordBatchIterator, StringArray, StructArray,
    TimestampMillisecondArray, UInt8Array, UInt16Array, UInt32Array,
};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use fleetpath::decision::DecisionColumns;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::errors::{guard, internal, to_py};

/// A fleet's decisions as an Arrow record batch (native half of `fleetpath.DecisionTable`).
#[pyclass(module = "fleetpath._native", frozen, name = "DecisionTable")]
pub(crate) struct PyDecisionTable {
    batch: RecordBatch,
    columns: DecisionColumns,
}

fn dictionary<K: arrow_array::types::ArrowDictionaryKeyType>(
    keys: arrow_array::PrimitiveArray<K>,
    values: &[&str],
) -> Result<ArrayRef, arrow_schema::ArrowError> {
    Ok(Arc::new(DictionaryArray::<K>::try_new(keys, Arc::new(StringArray::from(values.to_vec())))?))
}

impl PyDecisionTable {
    /// The table of `columns` beside the fleet's `ids`. The per-device columns move into the
    /// Arrow arrays without a copy; the rows and distinct decisions stay for [`Self::row`].
    pub(crate) fn new(ids: ArrayRef, mut columns: DecisionColumns) -> Result<Self, arrow_schema::ArrowError> {
        let reasons = fleetpath::decision::reasons();
        let versions: Vec<&str> = columns.versions.iter().map(fleetpath::Version::as_str).collect();
        let next = std::mem::take(&mut columns.next);
        let valid = next.iter().map(|&n| n != DecisionColumns::NONE).collect::<NullBuffer>();
        let next = UInt32Array::new(ScalarBuffer::from(next), Some(valid).filter(|v| v.null_count() > 0));
        let at = std::mem::take(&mut columns.at_ms);
        let valid = at.iter().map(|&ms| ms != DecisionColumns::NO_TIME).collect::<NullBuffer>();
        let at = TimestampMillisecondArray::new(ScalarBuffer::from(at), Some(valid).filter(|v| v.null_count() > 0))
            .with_timezone("UTC");
        let kind = UInt8Array::from(std::mem::take(&mut columns.kind));
        let reason = UInt16Array::from(std::mem::take(&mut columns.reason));
        let host_action = UInt8Array::from(std::mem::take(&mut columns.host_action));
        let batch = RecordBatch::try_from_iter([
            ("device", ids),
            ("kind", dictionary::<UInt8Type>(kind, DecisionColumns::KINDS)?),
            ("reason", dictionary::<UInt16Type>(reason, &reasons)?),
            ("next", dictionary::<UInt32Type>(next, &versions)?),
            ("at", Arc::new(at) as ArrayRef),
            ("host_action", dictionary::<UInt8Type>(host_action, DecisionColumns::HOST_ACTIONS)?),
        ])?;
        Ok(Self { batch, columns })
    }
}

fn arrow_error(py: Python<'_>, e: &arrow_schema::ArrowError) -> PyErr {
    internal(py, format!("Arrow: {e}"))
}

#[pymethods]
impl PyDecisionTable {
    fn __len__(&self) -> usize {
        self.columns.len()
    }

    /// Device `i`'s decision: `(reason, the core's JSON form)`.
    fn row<'py>(&self, py: Python<'py>, i: usize) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
        guard(py, || {
            let decision = self.columns.get(i).ok_or_else(|| {
                crate::convert::invalid_found(py, "i", &format!("a row below {}", self.columns.len()), i.to_string())
            })?;
            Ok((decision.reason(), to_py(py, &*decision)?))
        })
    }

    /// The batch's schema, as an `arrow_schema` capsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let schema = arrow_schema::ffi::FFI_ArrowSchema::try_from(self.batch.schema().as_ref())
            .map_err(|e| arrow_error(py, &e))?;
        Ok(PyCapsule::new_with_value(py, schema, c"arrow_schema")?.into_any())
    }

    /// The batch as a struct array: `(arrow_schema, arrow_array)` capsules.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let _ = requested_schema; // the batch has one form
        let (array, schema) = arrow_array::ffi::to_ffi(&StructArray::from(self.batch.clone()).into_data())
            .map_err(|e| arrow_error(py, &e))?;
        let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?.into_any();
        Ok((schema, PyCapsule::new_with_value(py, array, c"arrow_array")?.into_any()))
    }

    /// The batch as a one-batch stream: an `arrow_array_stream` capsule.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = requested_schema;
        let batches = RecordBatchIterator::new(vec![Ok(self.batch.clone())], self.batch.schema());
        let stream = arrow_array::ffi_stream::FFI_ArrowArrayStream::new(Box::new(batches));
        Ok(PyCapsule::new_with_value(py, stream, c"arrow_array_stream")?.into_any())
    }
}
