//! Fleets from Arrow tabular data (`fleetpath.Fleet.from_arrow`): any object with
//! `__arrow_c_stream__` (a pyarrow `Table` or `RecordBatchReader`, a polars or pandas
//! `DataFrame`, a `DuckDB` result) or `__arrow_c_array__` (a record batch), read through the
//! Arrow `PyCapsule` interface without one Python object per cell. The core reads the columns
//! ([`fleetpath::fleet::FleetTable`]); this module only turns Arrow arrays into text cells.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::types::{Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, ArrowPrimitiveType, LargeStringArray, RecordBatch, RecordBatchOptions, RecordBatchReader as _, StringArray,
    StringViewArray, StructArray,
};
use arrow_schema::{ArrowError, DataType, Schema};
use fleetpath::fleet::{FleetTable, TextColumn};
use fleetpath::{Fleet, FleetError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::errors::core;

/// An Arrow column's cells as text.
enum Cells {
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
    /// Dictionary-encoded text (pandas' and polars' categoricals): each row's key, `None` where
    /// the row is null.
    Dictionary(Vec<Option<usize>>, Box<Cells>),
    /// Whole numbers, as their decimal text (ids and lines are often numbers in a frame).
    Numbers(Vec<Option<String>>),
    /// A column of nulls only (Arrow's `null` type).
    Nulls(usize),
}

impl TextColumn for Cells {
    fn rows(&self) -> usize {
        match self {
            Self::Utf8(a) => a.len(),
            Self::LargeUtf8(a) => a.len(),
            Self::Utf8View(a) => a.len(),
            Self::Dictionary(keys, _) => keys.len(),
            Self::Numbers(cells) => cells.len(),
            Self::Nulls(n) => *n,
        }
    }

    fn cell(&self, i: usize) -> Option<&str> {
        match self {
            Self::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Self::LargeUtf8(a) => a.is_valid(i).then(|| a.value(i)),
            Self::Utf8View(a) => a.is_valid(i).then(|| a.value(i)),
            Self::Dictionary(keys, values) => {
                let key = keys.get(i).copied().flatten()?;
                if key < values.rows() { values.cell(key) } else { None }
            }
            Self::Numbers(cells) => cells.get(i)?.as_deref(),
            Self::Nulls(_) => None,
        }
    }
}

/// Whole numbers' decimal text.
fn numbers<T: ArrowPrimitiveType>(array: &dyn Array) -> Cells
where
    T::Native: ToString,
{
    Cells::Numbers(array.as_primitive::<T>().iter().map(|n| n.map(|n| n.to_string())).collect())
}

/// Whether a column of this type is read (text, whole numbers, nulls, or a dictionary of
/// those), checked against the table's schema before any batch is read.
fn readable(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, values) => readable(values),
        other => other.is_integer(),
    }
}

impl Cells {
    /// A column's cells (of a [`readable`] type, validated).
    fn of(array: &dyn Array) -> Result<Self, ArrowError> {
        Ok(match array.data_type() {
            DataType::Utf8 => Self::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Self::LargeUtf8(array.as_string::<i64>().clone()),
            DataType::Utf8View => Self::Utf8View(array.as_string_view().clone()),
            DataType::Null => Self::Nulls(array.len()),
            DataType::Int8 => numbers::<Int8Type>(array),
            DataType::Int16 => numbers::<Int16Type>(array),
            DataType::Int32 => numbers::<Int32Type>(array),
            DataType::Int64 => numbers::<Int64Type>(array),
            DataType::UInt8 => numbers::<UInt8Type>(array),
            DataType::UInt16 => numbers::<UInt16Type>(array),
            DataType::UInt32 => numbers::<UInt32Type>(array),
            DataType::UInt64 => numbers::<UInt64Type>(array),
            DataType::Dictionary(..) => {
                let dictionary = array.as_any_dictionary();
                let values = Self::of(dictionary.values().as_ref())?;
                // `normalized_keys` asserts a dictionary has values: one without (a column of
                // nulls only) has no key to read. The keys were validated to lie within them.
                if values.rows() == 0 {
                    return Ok(Self::Dictionary(vec![None; array.len()], Box::new(values)));
                }
                let nulls = dictionary.keys().logical_nulls();
                let keys = dictionary.normalized_keys().into_iter().enumerate();
                let keys = keys.map(|(i, key)| nulls.as_ref().is_none_or(|n| n.is_valid(i)).then_some(key));
                Self::Dictionary(keys.collect(), Box::new(values))
            }
            other => return Err(ArrowError::InvalidArgumentError(format!("a column of {other}"))),
        })
    }
}

/// Whether `name` is the column pandas' Arrow export makes of an index that is not a column
/// (`__index_level_0__`: a frame's index once rows were filtered or sorted), which is left out.
fn pandas_index(name: &str) -> bool {
    name.strip_prefix("__index_level_")
        .and_then(|rest| rest.strip_suffix("__"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A fleet read from a stream of record batches (`rows`: how many the table says it has).
fn read(
    reader: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
    schema: &Schema,
    rows: usize,
) -> Result<Fleet, TableError> {
    let kept: Vec<usize> = (0..schema.fields().len()).filter(|&k| !pandas_index(schema.field(k).name())).collect();
    let names: Vec<&str> = kept.iter().map(|&k| schema.field(k).name().as_str()).collect();
    let mut table = FleetTable::new(&names, rows)?;
    // Every column's type is checked once, from the schema, even for a table without rows.
    if let Some(field) = kept.iter().map(|&k| schema.field(k)).find(|field| !readable(field.data_type())) {
        return Err(FleetTable::not_text(field.name(), &field.data_type().to_string()).into());
    }
    for batch in reader {
        let batch = batch.map_err(TableError::Arrow)?;
        let mut cells = Vec::with_capacity(kept.len());
        for &k in &kept {
            // The C data interface imports arrays unchecked: offsets, UTF-8 and dictionary
            // keys are checked here, before any cell is read (a producer's malformed buffers
            // would otherwise be read out of bounds).
            let column = batch.column(k);
            column.to_data().validate_full().map_err(TableError::Arrow)?;
            cells.push(Cells::of(column.as_ref()).map_err(TableError::Arrow)?);
        }
        table = table.read(&cells.iter().map(|c| c as &dyn TextColumn).collect::<Vec<_>>())?;
    }
    Ok(table.finish()?)
}

/// Why a table could not be read: the fleet's error, or the stream's own.
pub(crate) enum TableError {
    Fleet(FleetError),
    Arrow(ArrowError),
}

impl From<FleetError> for TableError {
    fn from(e: FleetError) -> Self {
        Self::Fleet(e)
    }
}

/// Whether `obj` is Arrow tabular data (what [`fleet_of`] reads).
pub(crate) fn is_table(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.hasattr("__arrow_c_stream__")? || obj.hasattr("__arrow_c_array__")?)
}

/// The devices of Arrow tabular data, or the error to raise.
pub(crate) fn fleet_of(obj: &Bound<'_, PyAny>) -> PyResult<Fleet> {
    let py = obj.py();
    // The row count only reserves room (a stream may not know it).
    let rows = obj.len().unwrap_or(0);
    let read = if obj.hasattr("__arrow_c_stream__")? {
        let stream = obj.call_method1("__arrow_c_stream__", (py.None(),))?;
        let reader = take_stream(&stream).map_err(|e| arrow_error(py, &e))?;
        let schema = reader.schema();
        // Read without the GIL, as text is: a producer that needs it (a Python generator
        // behind a pyarrow reader) takes it itself.
        py.detach(|| read(reader, &schema, rows))
    } else if obj.hasattr("__arrow_c_array__")? {
        let batch = take_array(obj)?.map_err(|e| arrow_error(py, &e))?;
        read(std::iter::once(Ok(batch.clone())), &batch.schema(), rows)
    } else {
        return Err(crate::convert::invalid(
            "fleet",
            "Arrow tabular data (__arrow_c_stream__ or __arrow_c_array__)",
            obj,
        ));
    };
    read.map_err(|e| match e {
        TableError::Fleet(e) => core(py, e),
        TableError::Arrow(e) => arrow_error(py, &e),
    })
}

/// An error of the Arrow data itself (a stream that failed, a malformed array), as the
/// fleet's `InvalidTableError`.
fn arrow_error(py: Python<'_>, e: &ArrowError) -> PyErr {
    core(py, FleetError::Table { message: format!("the Arrow data cannot be read: {e}") })
}

/// The pointer a capsule holds, checked to be named `name` (what `method` returned).
fn pointer(
    obj: &Bound<'_, PyAny>,
    method: &str,
    name: &std::ffi::CStr,
) -> Result<std::ptr::NonNull<std::ffi::c_void>, ArrowError> {
    let not = |e: PyErr| ArrowError::CDataInterface(format!("{method} returned no {name:?} capsule ({e})"));
    obj.cast::<PyCapsule>().map_err(|e| not(e.into()))?.pointer_checked(Some(name)).map_err(not)
}

/// The stream an `arrow_array_stream` capsule holds, moved out of it (the capsule is left
/// released, as the `PyCapsule` interface asks of a consumer).
#[allow(unsafe_code)]
fn take_stream(capsule: &Bound<'_, PyAny>) -> Result<ArrowArrayStreamReader, ArrowError> {
    let pointer = pointer(capsule, "__arrow_c_stream__", c"arrow_array_stream")?;
    // SAFETY: a capsule named `arrow_array_stream` holds a valid, initialized
    // `ArrowArrayStream` (the PyCapsule interface's contract, its name checked above);
    // `from_raw` moves it out and leaves a released one, which the capsule's destructor
    // then skips, so the stream is released exactly once, by the reader.
    unsafe { ArrowArrayStreamReader::from_raw(pointer.as_ptr().cast::<FFI_ArrowArrayStream>()) }
}

/// The record batch of an object with `__arrow_c_array__`: a struct array of the columns,
/// without null rows.
#[allow(unsafe_code)]
fn take_array(obj: &Bound<'_, PyAny>) -> PyResult<Result<RecordBatch, ArrowError>> {
    let py = obj.py();
    let pair = obj.call_method1("__arrow_c_array__", (py.None(),))?;
    let Ok((schema, array)) = pair.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() else {
        return Ok(Err(ArrowError::CDataInterface("__arrow_c_array__ returned no pair of capsules".into())));
    };
    let method = "__arrow_c_array__";
    let (schema, array) = match (pointer(&schema, method, c"arrow_schema"), pointer(&array, method, c"arrow_array")) {
        (Ok(schema), Ok(array)) => (schema, array),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    // SAFETY: capsules named `arrow_schema` and `arrow_array` hold a valid schema and array
    // (the PyCapsule interface's contract, their names checked above). The schema is only
    // borrowed (its capsule keeps and releases it); the array is moved out, leaving a
    // released one, so it is released once, by the imported data.
    let data = unsafe {
        let schema = &*schema.as_ptr().cast::<FFI_ArrowSchema>();
        let array = FFI_ArrowArray::from_raw(array.as_ptr().cast::<FFI_ArrowArray>());
        if array.is_released() {
            return Ok(Err(ArrowError::CDataInterface("__arrow_c_array__ returned an array already consumed".into())));
        }
        arrow_array::ffi::from_ffi(array, schema)
    };
    Ok(data.and_then(|data| {
        let DataType::Struct(fields) = data.data_type().clone() else {
            return Err(ArrowError::CDataInterface(format!("an array of {}, not a record batch", data.data_type())));
        };
        // Imported unchecked (see `read`): the struct's own shape first, before it is split.
        data.validate_full()?;
        let columns = StructArray::from(data);
        if columns.null_count() > 0 {
            return Err(ArrowError::CDataInterface("a record batch with null rows".into()));
        }
        let rows = RecordBatchOptions::new().with_row_count(Some(columns.len()));
        RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns.columns().to_vec(), &rows)
    }))
}
