//! Columnar sample batches.

use crate::u32_of;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::HealthError;

/// One metric's values, one per row; `NaN` (JSON `null`) where the device sent none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Column(pub Vec<f64>);

impl Serialize for Column {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|v| if v.is_nan() { None } else { Some(*v) }))
    }
}

impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let values: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(Self(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect()))
    }
}

/// Samples of many devices, column by column: row `i` is device `devices[device[i]]` at
/// `time[i]` (unix seconds, UTC) with `metrics[m][i]` for each metric `m`.
///
/// The JSON form is the same:
///
/// ```
/// use fleetpath::health::SampleBatch;
///
/// let batch = SampleBatch::from_json(r#"{
///   "devices": ["press-1-01", "press-1-02"],
///   "device": [0, 1, 0],
///   "time": [1763884800, 1763884800, 1763884860],
///   "metrics": {"cycle_time_ms": [812.5, 790.0, null], "mqtt_connected": [1, 1, 0]}
/// }"#)?;
/// assert_eq!(batch.len(), 3);
///
/// let mut built = SampleBatch::new(&["cycle_time_ms", "mqtt_connected"]);
/// built.push("press-1-01", 1763884800, &[812.5, 1.0]);
/// built.push("press-1-02", 1763884800, &[790.0, 1.0]);
/// built.push("press-1-01", 1763884860, &[f64::NAN, 0.0]);
/// assert_eq!(built, batch);
/// # Ok::<(), fleetpath::health::HealthError>(())
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleBatch {
    /// Device ids.
    pub devices: Vec<String>,
    /// Per row, an index into `devices`.
    pub device: Vec<u32>,
    /// Per row, unix seconds.
    pub time: Vec<i64>,
    /// Per metric, one value per row (none: no metric columns).
    #[serde(default)]
    pub metrics: BTreeMap<String, Column>,
    #[serde(skip)]
    index: FxHashMap<String, u32>,
}

impl PartialEq for SampleBatch {
    fn eq(&self, other: &Self) -> bool {
        self.devices == other.devices
            && self.device == other.device
            && self.time == other.time
            && self.metrics.len() == other.metrics.len()
            && self.metrics.iter().zip(&other.metrics).all(|((ka, a), (kb, b))| {
                ka == kb && a.0.len() == b.0.len() && a.0.iter().zip(&b.0).all(|(x, y)| x.to_bits() == y.to_bits())
            })
    }
}

impl SampleBatch {
    /// The most rows a batch a host hands over column by column may hold (split bigger
    /// batches; summaries merge). Bindings stop reading a column here, so an endless or
    /// absurdly long iterable costs bounded work.
    pub const MAX_ROWS: usize = 1 << 24;

    /// The fields of the JSON form, in order.
    pub const KEYS: [&'static str; 4] = ["devices", "device", "time", "metrics"];

    /// Checks the keys of a batch given column by column (a binding's dict of arrays) as its
    /// JSON form is checked: every key known; `devices`, `device` and `time` present.
    ///
    /// ```
    /// use fleetpath::health::SampleBatch;
    /// assert!(SampleBatch::check_keys(["devices", "device", "time"]).is_ok());
    /// let err = SampleBatch::check_keys(["devices", "device", "time", "metricz"]).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid sample batch JSON (metricz): unknown field `metricz`, expected one of `devices`, `device`, `time`, `metrics`");
    /// ```
    ///
    /// # Errors
    /// [`HealthError::Json`] (code `invalid_json`), as reading the JSON form would give.
    pub fn check_keys<'k>(keys: impl IntoIterator<Item = &'k str>) -> Result<(), HealthError> {
        let error = |path: &str, message: String| crate::JsonError::at("sample batch", 0, 0, path, message).into();
        let mut seen = [false; 4];
        for key in keys {
            let Some(i) = Self::KEYS.iter().position(|k| *k == key) else {
                let expected = Self::KEYS.map(|k| format!("`{k}`")).join(", ");
                return Err(error(key, format!("unknown field `{key}`, expected one of {expected}")));
            };
            seen[i] = true;
        }
        match seen[..3].iter().position(|s| !s) {
            Some(i) => Err(error("", format!("missing field `{}`", Self::KEYS[i]))),
            None => Ok(()),
        }
    }

    /// An empty batch with these metric columns.
    pub fn new(metrics: &[&str]) -> Self {
        Self { metrics: metrics.iter().map(|m| ((*m).to_owned(), Column::default())).collect(), ..Self::default() }
    }

    /// Reads a batch and checks its shape.
    ///
    /// # Errors
    /// [`HealthError::Json`], or as [`SampleBatch::check_shape`].
    pub fn from_json(text: &str) -> Result<Self, HealthError> {
        let batch: Self = crate::document::from_str("sample batch", text)?;
        batch.check_shape()?;
        Ok(batch)
    }

    /// Reads a batch from a parsed JSON value and checks its shape.
    ///
    /// # Errors
    /// As [`SampleBatch::from_json`] (JSON errors without line or column).
    pub fn from_value(value: serde_json::Value) -> Result<Self, HealthError> {
        let batch: Self = crate::document::from_value("sample batch", value)?;
        batch.check_shape()?;
        Ok(batch)
    }

    /// Appends a row; `values` follow the metric columns in name order (as
    /// [`SampleBatch::new`] got them, sorted). Missing values are `NaN`; a short `values`
    /// leaves the remaining metrics missing.
    pub fn push(&mut self, device: &str, time: i64, values: &[f64]) {
        if self.index.len() != self.devices.len() {
            self.index = self.devices.iter().zip(0u32..).map(|(d, i)| (d.clone(), i)).collect();
        }
        let next = u32_of(self.devices.len());
        let i = *self.index.entry(device.to_owned()).or_insert_with(|| {
            self.devices.push(device.to_owned());
            next
        });
        self.device.push(i);
        self.time.push(time);
        let mut values = values.iter();
        for column in self.metrics.values_mut() {
            column.0.push(values.next().copied().unwrap_or(f64::NAN));
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Checks that every column has one value per row, device indices are in range and no
    /// device is listed twice. Values are checked against their metric's kind on ingest.
    ///
    /// # Errors
    /// [`HealthError::ColumnLength`], [`HealthError::DeviceIndex`] or
    /// [`HealthError::DuplicateName`].
    pub fn check_shape(&self) -> Result<(), HealthError> {
        self.view().map(|_| ())
    }

    /// The batch as a [`SampleView`] (borrowed; its shape checked).
    ///
    /// # Errors
    /// As [`SampleBatch::check_shape`].
    pub fn view(&self) -> Result<SampleView<'_>, HealthError> {
        SampleView::new(
            &self.devices,
            &self.device,
            &self.time,
            self.metrics.iter().map(|(n, c)| (n.as_str(), c.0.as_slice())),
        )
    }
}

/// A sample batch over borrowed columns: the same rows as a [`SampleBatch`], read in place
/// from memory someone else owns (a binding's numpy arrays or buffers), so ingesting a large
/// batch copies nothing. Row `i` is device `devices[device[i]]` at `time[i]` (unix seconds)
/// with `metrics[m][i]` for each metric column; `NaN` is a missing value.
///
/// ```
/// use fleetpath::health::{CohortDevice, HealthPolicy, HealthState, SampleView};
///
/// let policy = HealthPolicy::default();
/// let mut state = HealthState::new(&policy)?;
/// state.add_device(CohortDevice { id: "press-1-01".into(), line: "L1".into(), updated_at: "2026-11-23T14:00:00Z".parse()? })?;
/// let devices = ["press-1-01".to_owned()];
/// let (device, time) = ([0u32, 0], [1_795_442_340_i64, 1_795_442_460]); // a minute before and after
/// let cycle = [812.5, f64::NAN];
/// let view = SampleView::new(&devices, &device, &time, [("cycle_time_ms", &cycle[..])])?;
/// let report = state.ingest_view(&view)?;
/// assert_eq!((report.baseline, report.observation), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SampleView<'a> {
    pub(super) devices: &'a [String],
    pub(super) device: &'a [u32],
    pub(super) time: &'a [i64],
    /// By name; names unique.
    pub(super) metrics: Vec<(&'a str, &'a [f64])>,
}

impl<'a> SampleView<'a> {
    /// A view over these columns, its shape checked: every column has one value per row,
    /// device indices are in range, no device or metric is listed twice. Metric columns are
    /// taken in name order, whatever order they come in.
    ///
    /// # Errors
    /// [`HealthError::ColumnLength`], [`HealthError::DeviceIndex`] or
    /// [`HealthError::DuplicateName`].
    pub fn new(
        devices: &'a [String],
        device: &'a [u32],
        time: &'a [i64],
        metrics: impl IntoIterator<Item = (&'a str, &'a [f64])>,
    ) -> Result<Self, HealthError> {
        let mut metrics: Vec<(&str, &[f64])> = metrics.into_iter().collect();
        metrics.sort_by_key(|(name, _)| *name);
        if let Some(w) = metrics.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(HealthError::DuplicateName { what: "metric column", name: w[0].0.to_owned() });
        }
        let rows = time.len();
        let columns = std::iter::once(("device", device.len())).chain(metrics.iter().map(|(name, c)| (*name, c.len())));
        for (column, found) in columns {
            if found != rows {
                return Err(HealthError::ColumnLength { column: column.to_owned(), expected: rows, found });
            }
        }
        if let Some((row, &index)) = device.iter().enumerate().find(|(_, i)| **i as usize >= devices.len()) {
            return Err(HealthError::DeviceIndex { row, index, devices: devices.len() });
        }
        let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for d in devices {
            if !seen.insert(d) {
                return Err(HealthError::DuplicateName { what: "device", name: d.clone() });
            }
        }
        Ok(Self { devices, device, time, metrics })
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
}
