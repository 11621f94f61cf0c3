//! Health errors.

use crate::Codes;

/// Why a health policy, sample batch or summary was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthError {
    /// The JSON cannot be read as the document: malformed, an unknown or missing field, a
    /// wrong type. Its line, column and path say where.
    #[error(transparent)]
    #[code(source)]
    Json(#[from] crate::JsonError),
    /// A setting out of range.
    #[error("{field}: {reason}")]
    #[code("invalid_setting")]
    InvalidSetting {
        /// The field, as a path (`rules[2].threshold`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A followed device with an empty id or line (fleets refuse them too).
    #[error("{at}: {field} is empty")]
    #[code("empty_field")]
    EmptyField {
        /// Where (`device`, or the id of the device whose line is empty).
        at: String,
        /// `id` or `line`.
        field: &'static str,
    },
    /// Two metrics, rules or devices with one name.
    #[error("{what} {name:?} is defined twice")]
    #[code("duplicate_name")]
    DuplicateName {
        /// `metric`, `built-in metric`, `rule` or `device`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A rule or a sample column names a metric the policy does not know.
    #[error("{at}: unknown metric {metric:?}")]
    #[code("unknown_metric")]
    UnknownMetric {
        /// The metric.
        metric: String,
        /// Where (`rules[1]`, `sample column`).
        at: String,
    },
    /// A rule applied to a metric of the wrong kind.
    #[error("rule {rule:?} needs a {expected} metric, and {metric:?} is not one")]
    #[code("wrong_metric_kind")]
    WrongMetricKind {
        /// The rule.
        rule: String,
        /// The metric.
        metric: String,
        /// The kind the rule needs.
        expected: &'static str,
    },
    /// A sample column whose length differs from the batch's row count.
    #[error("sample column {column:?} has {found} rows, the batch has {expected}")]
    #[code("column_length")]
    ColumnLength {
        /// The column (`time`, `device` or a metric).
        column: String,
        /// The batch's rows.
        expected: usize,
        /// The column's.
        found: usize,
    },
    /// A row's device index beyond the batch's device list.
    #[error("sample row {row}: device index {index} is out of range ({devices} devices)")]
    #[code("device_index")]
    DeviceIndex {
        /// Zero-based row.
        row: usize,
        /// The index.
        index: u32,
        /// How many devices the batch lists.
        devices: usize,
    },
    /// A sample value the metric cannot take.
    #[error("sample row {row}, metric {metric:?}: {value} {reason}")]
    #[code("invalid_value")]
    InvalidValue {
        /// Zero-based row.
        row: usize,
        /// The metric.
        metric: String,
        /// The value, as printed.
        value: String,
        /// Why (`is not finite`, `is outside [0, 1]`, `is negative`).
        reason: &'static str,
    },
    /// Two different samples of one device at one time.
    #[error("device {device:?} has two different samples at {at} (unix seconds)")]
    #[code("conflicting_samples")]
    ConflictingSamples {
        /// The device.
        device: String,
        /// When.
        at: i64,
    },
    /// A device added twice with different lines or update times, or summaries of one device
    /// that disagree on them.
    #[error("device {device:?}: {reason}")]
    #[code("conflicting_device")]
    ConflictingDevice {
        /// The device.
        device: String,
        /// What differs.
        reason: String,
    },
    /// Counter summaries of one device whose time ranges overlap cannot be merged exactly.
    #[error("device {device:?}, counter {metric:?}: summaries overlap in time and cannot be merged")]
    #[code("overlapping_counter")]
    OverlappingCounter {
        /// The device.
        device: String,
        /// The counter.
        metric: String,
    },
    /// A state summarised under other settings than the policy or state it meets.
    #[error("health state does not match: {reason}")]
    #[code("policy_mismatch")]
    PolicyMismatch {
        /// What differs.
        reason: String,
    },
}
