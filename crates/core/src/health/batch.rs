//! Columnar sample batches.

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
    /// Per metric, one value per row.
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
    /// An empty batch with these metric columns.
    pub fn new(metrics: &[&str]) -> Self {
        Self { metrics: metrics.iter().map(|m| ((*m).to_owned(), Column::default())).collect(), ..Self::default() }
    }

    /// Reads a batch and checks its shape.
    ///
    /// # Errors
    /// [`HealthError::Json`], or as [`SampleBatch::check_shape`].
    pub fn from_json(text: &str) -> Result<Self, HealthError> {
        let batch: Self = serde_json::from_str(text).map_err(|e| {
            let (line, column, message) = crate::json_error_parts(&e);
            HealthError::Json { what: "sample batch", line, column, message }
        })?;
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
        let next = u32::try_from(self.devices.len()).unwrap_or(u32::MAX);
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
        let rows = self.time.len();
        let columns = std::iter::once(("device", self.device.len()))
            .chain(self.metrics.iter().map(|(name, c)| (name.as_str(), c.0.len())));
        for (column, found) in columns {
            if found != rows {
                return Err(HealthError::ColumnLength { column: column.to_owned(), expected: rows, found });
            }
        }
        if let Some((row, &index)) = self.device.iter().enumerate().find(|(_, i)| **i as usize >= self.devices.len()) {
            return Err(HealthError::DeviceIndex { row, index, devices: self.devices.len() });
        }
        let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for d in &self.devices {
            if !seen.insert(d) {
                return Err(HealthError::DuplicateName { what: "device", name: d.clone() });
            }
        }
        Ok(())
    }
}
