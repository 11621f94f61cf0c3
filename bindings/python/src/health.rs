//! `fleetpath.HealthPolicy` and `fleetpath.HealthState`: health summaries and verdicts.
//!
//! Sample columns arrive from the Python layer as `(mode, object)` pairs:
//!
//! - `"buffer"`: an object exporting the buffer protocol with the column's exact native type
//!   (`d` for values, `q`/`l` for times, `I` for device indices), one-dimensional and
//!   C-contiguous: read in place, nothing copied. Only when the module is built for the
//!   stable ABI of Python 3.11 or later, where the buffer protocol is part of it
//!   ([`BUFFER_PROTOCOL`]).
//! - `"raw"`: `bytes` holding the packed native values (what the Python 3.9 ABI build gets
//!   from a buffer: one copy, made in C).
//! - `"seq"`: any iterable of numbers (`None` is a missing value in a metric column).

use fleetpath::health::{CohortDevice, HealthPolicy, HealthReport, HealthState, SampleBatch, SampleView};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{core, guard, json, raise, to_py};
use crate::rollout::timestamp;

/// Whether columns can be read in place through the buffer protocol (stable ABI ≥ 3.11).
pub(crate) const BUFFER_PROTOCOL: bool = cfg!(buffer_protocol);

/// A health policy (native half of `fleetpath.HealthPolicy`).
#[pyclass(module = "fleetpath._native", frozen, name = "HealthPolicy")]
pub(crate) struct PyHealthPolicy {
    pub(crate) inner: HealthPolicy,
}

#[pymethods]
impl PyHealthPolicy {
    /// The seed's defaults.
    #[staticmethod]
    fn default() -> Self {
        Self { inner: HealthPolicy::default() }
    }

    /// A policy document (JSON text), validated.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        guard(py, || HealthPolicy::from_json(text).map(|inner| Self { inner }).map_err(|e| core(py, e)))
    }

    /// The policy with every default filled in, as JSON.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| raise(py, "internal", &e.to_string()))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner))
    }
}

/// One column of a batch: borrowed from a Python buffer, or owned.
enum Column<T: ColumnValue> {
    #[cfg(buffer_protocol)]
    Buffer(pyo3::buffer::PyBuffer<T>),
    Owned(Vec<T>),
}

/// What a buffer may hold (nothing, in builds without the buffer protocol).
#[cfg(buffer_protocol)]
trait BufferElement: pyo3::buffer::Element {}
#[cfg(buffer_protocol)]
impl<T: pyo3::buffer::Element> BufferElement for T {}
#[cfg(not(buffer_protocol))]
trait BufferElement {}
#[cfg(not(buffer_protocol))]
impl<T> BufferElement for T {}

/// The element types of sample columns.
trait ColumnValue: BufferElement + Copy + for<'a, 'py> FromPyObject<'a, 'py> {
    const SIZE: usize;
    /// What a missing value (`None`) becomes, if it may be missing.
    const MISSING: Option<Self>;
    /// What an element must be, for messages.
    const WHAT: &'static str;
    fn from_ne(bytes: &[u8]) -> Self;
}

macro_rules! column_value {
    ($t:ty, $missing:expr, $what:expr) => {
        impl ColumnValue for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            const MISSING: Option<Self> = $missing;
            const WHAT: &'static str = $what;
            fn from_ne(bytes: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(bytes);
                <$t>::from_ne_bytes(a)
            }
        }
    };
}
column_value!(f64, Some(f64::NAN), "a number");
column_value!(i64, None, "an integer (unix seconds)");
column_value!(u32, None, "a device index (0 to 4294967295)");

impl<T: ColumnValue> Column<T> {
    fn read(py: Python<'_>, what: &str, mode: &str, object: &Bound<'_, PyAny>) -> PyResult<Self> {
        let invalid = |message: String| raise(py, "invalid_input", &format!("{what}: {message}"));
        match mode {
            #[cfg(buffer_protocol)]
            "buffer" => {
                let buffer = pyo3::buffer::PyBuffer::<T>::get(object)
                    .map_err(|e| invalid(format!("not a buffer of the column's type ({e})")))?;
                if buffer.dimensions() != 1 || !buffer.is_c_contiguous() {
                    return Err(invalid("a buffer must be one-dimensional and contiguous".into()));
                }
                Ok(Self::Buffer(buffer))
            }
            "raw" => {
                let bytes = object.cast::<PyBytes>().map_err(|_| invalid("raw columns are bytes".into()))?.as_bytes();
                if bytes.len() % T::SIZE != 0 {
                    return Err(invalid(format!(
                        "{} bytes is not a whole number of {}-byte values",
                        bytes.len(),
                        T::SIZE
                    )));
                }
                Ok(Self::Owned(bytes.chunks_exact(T::SIZE).map(T::from_ne).collect()))
            }
            "seq" => {
                let mut values = Vec::with_capacity(object.len().unwrap_or(0));
                for (i, item) in object.try_iter().map_err(|_| invalid("not a sequence".into()))?.enumerate() {
                    let item = item?;
                    if item.is_none() {
                        values.push(T::MISSING.ok_or_else(|| invalid(format!("[{i}] is None, not {}", T::WHAT)))?);
                        continue;
                    }
                    let value = item.extract::<T>().map_err(|_| {
                        let kind = item.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                        let repr = item.repr().map(|r| r.to_string()).unwrap_or_default();
                        invalid(format!("[{i}] is {repr} ({kind}), not {}", T::WHAT))
                    })?;
                    values.push(value);
                }
                Ok(Self::Owned(values))
            }
            other => Err(invalid(format!("unknown column mode {other:?}"))),
        }
    }

    /// The values, in place.
    fn slice(&self) -> &[T] {
        match self {
            #[cfg(buffer_protocol)]
            Self::Buffer(buffer) => buffer_slice(buffer),
            Self::Owned(values) => values,
        }
    }
}

/// A contiguous buffer's items as a plain slice, read in place.
#[cfg(buffer_protocol)]
#[allow(unsafe_code)]
fn buffer_slice<T: ColumnValue>(buffer: &pyo3::buffer::PyBuffer<T>) -> &[T] {
    let Some(ptr) = buffer.as_slice_ptr() else { return &[] };
    // SAFETY: `as_slice_ptr` is `Some` only for a C-contiguous buffer whose item type is
    // `T` (checked by `PyBuffer::<T>::get`); the buffer stays exported (and its memory
    // alive) for as long as `buffer` is borrowed, which bounds the returned slice. The
    // slice is read while this thread holds the GIL and runs no Python code, so no Python
    // code can write to it meanwhile: the same contract numpy's read-only borrows rely on.
    unsafe { ptr.as_ref() }
}

/// Followed devices' summaries (native half of `fleetpath.HealthState`).
#[pyclass(module = "fleetpath._native", name = "HealthState")]
pub(crate) struct PyHealthState {
    inner: HealthState,
}

type Columns<'py> =
    (Vec<String>, (String, Bound<'py, PyAny>), (String, Bound<'py, PyAny>), Vec<(String, String, Bound<'py, PyAny>)>);

#[pymethods]
impl PyHealthState {
    #[new]
    fn new(py: Python<'_>, policy: &PyHealthPolicy) -> PyResult<Self> {
        guard(py, || HealthState::new(&policy.inner).map(|inner| Self { inner }).map_err(|e| core(py, e)))
    }

    /// A stored state (its JSON).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        guard(py, || HealthState::from_json(text).map(|inner| Self { inner }).map_err(|e| core(py, e)))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| raise(py, "internal", &e.to_string()))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner))
    }

    /// Starts following a device (`updated_at` RFC 3339 text).
    fn add_device(&mut self, py: Python<'_>, id: String, line: String, updated_at: &str) -> PyResult<()> {
        let updated_at = timestamp(py, updated_at)?;
        guard(py, || self.inner.add_device(CohortDevice { id, line, updated_at }).map_err(|e| core(py, e)))
    }

    /// The followed devices' summaries, by id (the JSON form).
    fn devices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, self.inner.devices()))
    }

    /// The metrics it summarises, built-in and the policy's.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, self.inner.metrics()))
    }

    fn __len__(&self) -> usize {
        self.inner.devices().len()
    }

    /// Ingests a batch given as JSON text.
    fn ingest_json<'py>(&mut self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || {
            let batch = SampleBatch::from_json(text).map_err(|e| core(py, e))?;
            let report = self.inner.ingest(&batch).map_err(|e| core(py, e))?;
            to_py(py, &report)
        })
    }

    /// Ingests columns `(devices, (mode, device), (mode, time), [(name, mode, values)])`.
    fn ingest_columns<'py>(&mut self, py: Python<'py>, columns: Columns<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (devices, (device_mode, device), (time_mode, time), metrics) = columns;
        let device = Column::<u32>::read(py, "device", &device_mode, &device)?;
        let time = Column::<i64>::read(py, "time", &time_mode, &time)?;
        let mut values = Vec::with_capacity(metrics.len());
        for (name, mode, column) in &metrics {
            values.push((name.as_str(), Column::<f64>::read(py, &format!("metrics[{name:?}]"), mode, column)?));
        }
        guard(py, || {
            let view =
                SampleView::new(&devices, device.slice(), time.slice(), values.iter().map(|(n, c)| (*n, c.slice())))
                    .map_err(|e| core(py, e))?;
            let report = self.inner.ingest_view(&view).map_err(|e| core(py, e))?;
            to_py(py, &report)
        })
    }

    /// Merges another state's summaries into this one.
    fn merge(&mut self, py: Python<'_>, other: &PyHealthState) -> PyResult<()> {
        guard(py, || self.inner.merge(&other.inner).map_err(|e| core(py, e)))
    }

    /// Evaluates under `policy` at `now` (RFC 3339 text): `(report dict, report text)`.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        policy: &PyHealthPolicy,
        now: &str,
    ) -> PyResult<(Bound<'py, PyAny>, String)> {
        let now = timestamp(py, now)?;
        guard(py, || {
            let report = self.inner.evaluate(&policy.inner, now).map_err(|e| core(py, e))?;
            Ok((to_py(py, &report)?, report.to_string()))
        })
    }
}

/// The rollout event (`health_verdict`) of a report (its JSON) for `stage`, as a dict.
#[pyfunction]
pub(crate) fn health_event<'py>(py: Python<'py>, report_json: &str, stage: &str) -> PyResult<Bound<'py, PyAny>> {
    let report: HealthReport = json(py, "health report", report_json)?;
    guard(py, || to_py(py, &report.event(stage)))
}

/// Where a values column would be read from (tests: proves buffers are read in place).
#[pyfunction]
pub(crate) fn _column_address(py: Python<'_>, mode: &str, column: &Bound<'_, PyAny>) -> PyResult<usize> {
    let column = Column::<f64>::read(py, "column", mode, column)?;
    Ok(column.slice().as_ptr() as usize)
}
