//! `fleetpath.HealthPolicy` and `fleetpath.HealthState`: health summaries and verdicts.
//!
//! Sample columns (a batch given as a dict `{"devices", "device", "time", "metrics"}`) are
//! read by [`Column::read`]:
//!
//! - an object exporting the buffer protocol with the column's exact native type (`d` for
//!   values, `q`/`l` for times, `I` for device indices), one-dimensional and C-contiguous:
//!   read in place when the module is built for the stable ABI of Python 3.11 or later, where
//!   the buffer protocol is part of it ([`BUFFER_PROTOCOL`]); copied once otherwise;
//! - numpy `datetime64` times: as whole seconds;
//! - anything else iterable: element by element (`None` is a missing value in a metric
//!   column; aware datetimes in the time column).

use fleetpath::health::{CohortDevice, HealthPolicy, HealthReport, HealthState, SampleBatch, SampleView};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::{self, Source, document, instant, source, text};
use crate::errors::{core, guard, internal, to_py};

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

    /// A policy document (JSON text, bytes, a path or the objects), validated.
    #[staticmethod]
    fn load(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || Ok(Self { inner: document(source, "health policy")? }))
    }

    /// The policy with every default filled in, as JSON.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| internal(py, e.to_string()))
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
    /// Buffer formats of exactly this type.
    const FORMATS: &'static [&'static str];
    /// What a missing value (`None`) becomes, if it may be missing.
    const MISSING: Option<Self>;
    /// What an element must be, for messages.
    const WHAT: &'static str;
    fn from_ne(bytes: &[u8]) -> Self;
    /// An element that is not of the plain type (a datetime in the time column).
    fn other(item: &Bound<'_, PyAny>, what: &str) -> Option<PyResult<Self>> {
        let _ = (item, what);
        None
    }
}

macro_rules! column_value {
    ($t:ty, $formats:expr, $missing:expr, $what:expr) => {
        const SIZE: usize = std::mem::size_of::<$t>();
        const FORMATS: &'static [&'static str] = $formats;
        const MISSING: Option<Self> = $missing;
        const WHAT: &'static str = $what;
        fn from_ne(bytes: &[u8]) -> Self {
            let mut a = [0u8; std::mem::size_of::<$t>()];
            a.copy_from_slice(bytes);
            <$t>::from_ne_bytes(a)
        }
    };
}
impl ColumnValue for f64 {
    column_value!(f64, &["d"], Some(f64::NAN), "a number");
}
impl ColumnValue for u32 {
    column_value!(u32, &["I", "L"], None, "a device index (0 to 4294967295)");
}
impl ColumnValue for i64 {
    column_value!(i64, &["q", "l"], None, "unix seconds or an aware datetime");
    fn other(item: &Bound<'_, PyAny>, what: &str) -> Option<PyResult<Self>> {
        let datetime = item.py().import("datetime").and_then(|m| m.getattr("datetime")).ok()?;
        // The second an aware datetime falls in.
        item.is_instance(&datetime).ok()?.then(|| instant(item, what).map(jiff::Timestamp::as_second))
    }
}

/// Capacity to reserve for a column that says it holds `len` items: a hint, never trusted
/// (an object may claim any length).
fn capacity_hint(len: Option<usize>) -> usize {
    len.unwrap_or(0).min(1 << 16)
}

impl<T: ColumnValue> Column<T> {
    fn read(what: &str, object: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = object.py();
        if object.is_instance_of::<pyo3::types::PyString>() || object.is_instance_of::<PyBytes>() {
            return Err(convert::invalid(what, "a column of numbers", object));
        }
        // numpy arrays: numbers only (complex values would lose their imaginary part); datetime64
        // times as whole seconds, as int64.
        let kind = object.getattr("dtype").and_then(|d| d.getattr("kind")).ok();
        let kind = kind.and_then(|k| k.extract::<String>().ok()).unwrap_or_default();
        if !kind.is_empty() && !"biufM".contains(kind.as_str()) {
            return Err(convert::invalid_found(py, what, T::WHAT, format!("an array of dtype kind {kind:?}")));
        }
        if T::SIZE == 8 && T::MISSING.is_none() && kind == "M" {
            let seconds = object.call_method1("astype", ("datetime64[s]",))?.call_method1("view", ("int64",))?;
            return Self::read(what, &seconds);
        }
        if let Ok(view) = py.import("builtins")?.getattr("memoryview")?.call1((object,)) {
            let ndim = view.getattr("ndim")?.extract::<usize>()?;
            if ndim != 1 {
                return Err(convert::invalid_found(py, what, "a one-dimensional column", format!("{ndim} dimensions")));
            }
            let format: String = view.getattr("format")?.extract()?;
            let exact = view.getattr("c_contiguous")?.extract::<bool>()?
                && view.getattr("itemsize")?.extract::<usize>()? == T::SIZE
                && T::FORMATS.contains(&format.trim_start_matches(['@', '=']));
            if exact {
                #[cfg(buffer_protocol)]
                if let Ok(buffer) = pyo3::buffer::PyBuffer::<T>::get(object) {
                    return Ok(Self::Buffer(buffer));
                }
                let bytes = view.call_method0("tobytes")?;
                let bytes = bytes.cast::<PyBytes>().map_err(|_| convert::invalid(what, "a buffer", object))?;
                return Ok(Self::Owned(bytes.as_bytes().chunks_exact(T::SIZE).map(T::from_ne).collect()));
            }
        }
        let items = object.try_iter().map_err(|_| convert::invalid(what, "a column of numbers", object))?;
        let mut values = Vec::with_capacity(capacity_hint(object.len().ok()));
        for (i, item) in items.enumerate() {
            if i == SampleBatch::MAX_ROWS {
                let expected = format!("at most {} rows", SampleBatch::MAX_ROWS);
                return Err(convert::invalid_found(py, what, &expected, "more".into()));
            }
            let item = item?;
            let at = || format!("{what}[{i}]");
            let value = if item.is_none() {
                T::MISSING.ok_or_else(|| convert::invalid_found(py, &at(), T::WHAT, "None".into()))?
            } else if let Some(value) = T::other(&item, &at()) {
                value?
            } else if item.is_instance_of::<pyo3::types::PyBool>() || item.is_instance_of::<pyo3::types::PyComplex>() {
                return Err(convert::invalid(&at(), T::WHAT, &item));
            } else {
                item.extract::<T>().map_err(|_| {
                    let repr = item.repr().map_or_else(|_| convert::type_name(&item), |r| r.to_string());
                    convert::invalid_found(py, &at(), T::WHAT, repr)
                })?
            };
            values.push(value);
        }
        Ok(Self::Owned(values))
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

#[pymethods]
impl PyHealthState {
    #[new]
    #[pyo3(signature = (policy=None))]
    fn new(py: Python<'_>, policy: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(py, || {
            let policy = policy_of(policy)?;
            HealthState::new(&policy).map(|inner| Self { inner }).map_err(|e| core(py, e))
        })
    }

    /// A stored state (its JSON: text, bytes, a path or the objects).
    #[staticmethod]
    fn load(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(py, || Ok(Self { inner: document(source, "health state")? }))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| internal(py, e.to_string()))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || to_py(py, &self.inner))
    }

    /// Starts following a device updated at `updated_at`.
    fn add_device(
        &mut self,
        py: Python<'_>,
        id: &Bound<'_, PyAny>,
        line: &Bound<'_, PyAny>,
        updated_at: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        guard(py, || {
            let device = CohortDevice {
                id: text(id, "id")?,
                line: text(line, "line")?,
                updated_at: instant(updated_at, "updated_at")?,
            };
            self.inner.add_device(device).map_err(|e| core(py, e))
        })
    }

    /// [`add_device`](Self::add_device) for each `{"id", "line", "updated_at"}`.
    fn add_devices(&mut self, py: Python<'_>, devices: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(py, || {
            let devices: Vec<CohortDevice> = document(devices, "devices")?;
            devices.into_iter().try_for_each(|d| self.inner.add_device(d)).map_err(|e| core(py, e))
        })
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

    /// Ingests a batch: a dict of columns (lists, numpy arrays, buffers), or the JSON form
    /// (text, bytes, a path).
    fn ingest<'py>(&mut self, py: Python<'py>, batch: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || {
            let Ok(columns) = batch.cast::<PyDict>() else {
                let batch: SampleBatch = match source(batch, "batch")? {
                    Source::Text(text) => SampleBatch::from_json(&text).map_err(|e| core(py, e))?,
                    Source::Value(value) => SampleBatch::from_value(value).map_err(|e| core(py, e))?,
                };
                return to_py(py, &self.inner.ingest(&batch).map_err(|e| core(py, e))?);
            };
            let keys: Vec<String> =
                columns.keys().iter().map(|k| text(&k, "batch (a key)")).collect::<PyResult<_>>()?;
            SampleBatch::check_keys(keys.iter().map(String::as_str)).map_err(|e| core(py, e))?;
            let get = |key: &str| columns.get_item(key);
            let devices: Vec<String> = match get("devices")? {
                Some(list) if !list.is_instance_of::<pyo3::types::PyString>() => list
                    .try_iter()
                    .map_err(|_| convert::invalid("devices", "a list of device ids", &list))?
                    .enumerate()
                    .map(|(i, d)| text(&d?, &format!("devices[{i}]")))
                    .collect::<PyResult<_>>()?,
                other => {
                    return Err(convert::invalid("devices", "a list of device ids", &other.unwrap_or(batch.clone())));
                }
            };
            let column = |key: &str| get(key).map(|c| c.unwrap_or_else(|| py.None().into_bound(py)));
            let device = Column::<u32>::read("device", &column("device")?)?;
            let time = Column::<i64>::read("time", &column("time")?)?;
            let mut values = Vec::new();
            if let Some(metrics) = get("metrics")?.filter(|m| !m.is_none()) {
                let metrics =
                    metrics.cast::<PyDict>().map_err(|_| convert::invalid("metrics", "a dict of columns", &metrics))?;
                for (name, values_) in metrics.iter() {
                    let name = text(&name, "metrics (a name)")?;
                    let read = Column::<f64>::read(&format!("metrics[{name:?}]"), &values_)?;
                    values.push((name, read));
                }
            }
            let view = SampleView::new(
                &devices,
                device.slice(),
                time.slice(),
                values.iter().map(|(n, c)| (n.as_str(), c.slice())),
            );
            let report = self.inner.ingest_view(&view.map_err(|e| core(py, e))?).map_err(|e| core(py, e))?;
            to_py(py, &report)
        })
    }

    /// Merges another state's summaries into this one.
    fn merge(&mut self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(py, || {
            let other = convert::native::<PyHealthState>(other, "other", "a HealthState")?;
            let other = other
                .try_borrow()
                .map_err(|_| convert::invalid_found(py, "other", "another HealthState", "the same state".into()))?;
            self.inner.merge(&other.inner).map_err(|e| core(py, e))
        })
    }

    /// Evaluates under `policy` at `now`: `(report dict, report text)`.
    #[pyo3(signature = (policy=None, now=None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        policy: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, String)> {
        guard(py, || {
            let policy = policy_of(policy)?;
            let now = now.map_or_else(
                || Err(convert::invalid_found(py, "now", "a time", "nothing".into())),
                |n| instant(n, "now"),
            )?;
            let report = self.inner.evaluate(&policy, now).map_err(|e| core(py, e))?;
            Ok((to_py(py, &report)?, report.to_string()))
        })
    }
}

/// A health policy argument: `HealthPolicy`, its native half, or `None` (the seed's).
fn policy_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<HealthPolicy> {
    let policy = convert::opt(obj, |p| convert::native::<PyHealthPolicy>(p, "policy", "a HealthPolicy"))?;
    Ok(policy.map_or_else(HealthPolicy::default, |p| p.get().inner.clone()))
}

/// The rollout event (`health_verdict`) of a report for `stage`, as a dict.
#[pyfunction]
pub(crate) fn health_event<'py>(
    py: Python<'py>,
    report: &Bound<'py, PyAny>,
    stage: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let report: HealthReport = document(report, "report")?;
        to_py(py, &report.event(&text(stage, "stage")?))
    })
}

/// Where a values column would be read from (tests: proves buffers are read in place).
#[pyfunction]
pub(crate) fn _column_address(py: Python<'_>, column: &Bound<'_, PyAny>) -> PyResult<usize> {
    guard(py, || Ok(Column::<f64>::read("column", column)?.slice().as_ptr() as usize))
}
