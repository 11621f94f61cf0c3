//! Health errors.

/// Why a health policy, sample batch or summary was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthError {
    /// Malformed JSON, an unknown field, a missing field or a wrong type.
    #[error("invalid {what} JSON at line {line}, column {column}: {message}")]
    Json {
        /// `health policy`, `sample batch` or `health state`.
        what: &'static str,
        /// One-based line.
        line: usize,
        /// One-based column.
        column: usize,
        /// What the JSON reader said.
        message: String,
    },
    /// A setting out of range.
    #[error("{field}: {reason}")]
    InvalidSetting {
        /// The field, as a path (`rules[2].threshold`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Two metrics, rules or devices with one name.
    #[error("{what} {name:?} is defined twice")]
    DuplicateName {
        /// `metric`, `built-in metric`, `rule` or `device`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A rule or a sample column names a metric the policy does not know.
    #[error("{at}: unknown metric {metric:?}")]
    UnknownMetric {
        /// The metric.
        metric: String,
        /// Where (`rules[1]`, `sample column`).
        at: String,
    },
    /// A rule applied to a metric of the wrong kind.
    #[error("rule {rule:?} needs a {expected} metric, and {metric:?} is not one")]
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
    ConflictingSamples {
        /// The device.
        device: String,
        /// When.
        at: i64,
    },
    /// A device added twice with different lines or update times, or summaries of one device
    /// that disagree on them.
    #[error("device {device:?}: {reason}")]
    ConflictingDevice {
        /// The device.
        device: String,
        /// What differs.
        reason: String,
    },
    /// Counter summaries of one device whose time ranges overlap cannot be merged exactly.
    #[error("device {device:?}, counter {metric:?}: summaries overlap in time and cannot be merged")]
    OverlappingCounter {
        /// The device.
        device: String,
        /// The counter.
        metric: String,
    },
    /// A state summarised under other settings than the policy or state it meets.
    #[error("health state does not match: {reason}")]
    PolicyMismatch {
        /// What differs.
        reason: String,
    },
}

impl HealthError {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "invalid_json",
        "invalid_setting",
        "duplicate_name",
        "unknown_metric",
        "wrong_metric_kind",
        "column_length",
        "device_index",
        "invalid_value",
        "conflicting_samples",
        "conflicting_device",
        "overlapping_counter",
        "policy_mismatch",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Json { .. } => "invalid_json",
            Self::InvalidSetting { .. } => "invalid_setting",
            Self::DuplicateName { .. } => "duplicate_name",
            Self::UnknownMetric { .. } => "unknown_metric",
            Self::WrongMetricKind { .. } => "wrong_metric_kind",
            Self::ColumnLength { .. } => "column_length",
            Self::DeviceIndex { .. } => "device_index",
            Self::InvalidValue { .. } => "invalid_value",
            Self::ConflictingSamples { .. } => "conflicting_samples",
            Self::ConflictingDevice { .. } => "conflicting_device",
            Self::OverlappingCounter { .. } => "overlapping_counter",
            Self::PolicyMismatch { .. } => "policy_mismatch",
        }
    }
}
