//! Per-device summaries kept between runs: ingest, merge.

use crate::u32_of;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::policy::{HealthPolicy, MetricKind, MetricSpec, RECENT_BUCKET_MINUTES, Rule};
use super::sketch::QuantileSketch;
use super::summary::{CounterTrack, Moments, Trend};
use super::{HealthError, SampleBatch, SampleView};

/// A device whose health is followed: its production line and when it was updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortDevice {
    /// Device id.
    pub id: String,
    /// Production line.
    pub line: String,
    /// When it reported the update installed: the baseline ends and the observation starts.
    /// Read from RFC 3339 text or unix seconds; written as RFC 3339.
    #[serde(deserialize_with = "crate::document::instant")]
    pub updated_at: Timestamp,
}

/// One metric of one device in one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSummary {
    /// Moments of the values (for counters: of the per-minute rates).
    pub moments: Moments,
    /// Their quantile sketch.
    pub sketch: QuantileSketch,
    /// For counters: first and last readings, increase, resets and wraps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<CounterTrack>,
    /// The values' trend over time: after the update and its warm-up; over the whole baseline
    /// for metrics that exceedance rules read (its lag-1 autocorrelation scales their test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    /// After the update, for metrics that recent-window rules read: the values in 5-minute
    /// buckets by the bucket's start (unix seconds), the last window's worth before the
    /// latest bucket kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recent: BTreeMap<i64, RecentBucket>,
}

/// The values of one metric of one device in one 5-minute bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecentBucket {
    /// Their moments.
    pub moments: Moments,
    /// Their quantile sketch.
    pub sketch: QuantileSketch,
}

impl RecentBucket {
    fn merge(&mut self, other: &Self) {
        self.moments.merge(&other.moments);
        self.sketch.merge(&other.sketch);
    }
}

/// A bucket's seconds.
const BUCKET: i64 = RECENT_BUCKET_MINUTES as i64 * 60;

/// Values (with their times, in order) added to their buckets; only those within `keep`
/// seconds before the latest one's bucket (older ones would be pruned at once).
fn add_recent(recent: &mut BTreeMap<i64, RecentBucket>, times: &[i64], values: &[f64], keep: i64) {
    // Pruning keeps buckets relative to the latest non-empty one: so does this.
    let Some(last) = times.iter().zip(values).rev().find(|(_, v)| !v.is_nan()).map(|(t, _)| *t) else { return };
    let mut from = times.partition_point(|&t| t < bucket_start(last).saturating_sub(keep));
    while from < times.len() {
        let start = bucket_start(times[from]);
        let to = from + times[from..].partition_point(|&t| t < start.saturating_add(BUCKET));
        let bucket = RecentBucket { moments: Moments::of(&values[from..to]), sketch: sketch_of(&values[from..to]) };
        if bucket.moments.count > 0 {
            recent.entry(start).or_default().merge(&bucket);
        }
        from = to;
    }
}

/// The start of the bucket holding `t` (saturating at the ends of time, which hostile states
/// may hold).
fn bucket_start(t: i64) -> i64 {
    t.saturating_sub(t.rem_euclid(BUCKET))
}

/// Drops the buckets older than `keep` seconds before the latest one.
fn prune_recent(recent: &mut BTreeMap<i64, RecentBucket>, keep: i64) {
    if let Some(&latest) = recent.keys().next_back() {
        *recent = recent.split_off(&latest.saturating_sub(keep));
    }
}

fn sketch_of(values: &[f64]) -> QuantileSketch {
    let mut sketch = QuantileSketch::default();
    sketch.add_slice(values);
    sketch
}

/// A device's summaries before (baseline) and after (observation) its update, by metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceHealth {
    /// Production line.
    pub line: String,
    /// When it was updated.
    pub updated_at: Timestamp,
    /// Before the update.
    pub baseline: BTreeMap<String, MetricSummary>,
    /// Since the update.
    pub observation: BTreeMap<String, MetricSummary>,
    /// Baselines of other lengths that rules ask for (their `baseline_hours`): hours, then
    /// metric.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rule_baselines: BTreeMap<u32, BTreeMap<String, MetricSummary>>,
}

impl DeviceHealth {
    /// Its baseline summary of a metric over the `hours` before its update (`default_hours`:
    /// the policy's, kept in [`DeviceHealth::baseline`]).
    pub fn baseline_of(&self, metric: &str, hours: u32, default_hours: u32) -> Option<&MetricSummary> {
        if hours == default_hours { self.baseline.get(metric) } else { self.rule_baselines.get(&hours)?.get(metric) }
    }

    fn empty(line: String, updated_at: Timestamp) -> Self {
        Self {
            line,
            updated_at,
            baseline: BTreeMap::new(),
            observation: BTreeMap::new(),
            rule_baselines: BTreeMap::new(),
        }
    }

    /// Every window's summaries, the rule baselines by their hours.
    fn windows(&self) -> impl Iterator<Item = (Window, &BTreeMap<String, MetricSummary>)> {
        [(Window::Baseline, &self.baseline), (Window::Observation, &self.observation)]
            .into_iter()
            .chain(self.rule_baselines.iter().map(|(h, m)| (Window::RuleBaseline(*h), m)))
    }

    fn window_mut(&mut self, window: Window) -> &mut BTreeMap<String, MetricSummary> {
        match window {
            Window::Baseline => &mut self.baseline,
            Window::Observation => &mut self.observation,
            Window::RuleBaseline(h) => self.rule_baselines.entry(h).or_default(),
        }
    }
}

/// What [`HealthState::ingest`] did with each row. Nothing is dropped silently: every row is
/// counted in exactly one of `baseline`, `observation`, `before_baseline`, `unknown_device`
/// and `duplicates`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Rows in the batch.
    pub rows: u64,
    /// Rows in a device's baseline window (the longest, when rules ask for longer ones).
    pub baseline: u64,
    /// Rows at or after a device's update.
    pub observation: u64,
    /// Rows older than a device's (longest) baseline window.
    pub before_baseline: u64,
    /// Rows of devices not in the state.
    pub unknown_device: u64,
    /// Rows repeating another row exactly (same device, time and values).
    pub duplicates: u64,
    /// Those devices (sorted).
    pub unknown_devices: Vec<String>,
}

/// The settings summaries depend on; states merge only when these agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    baseline_hours: u32,
    trend_warmup_minutes: u32,
    metrics: Vec<MetricSpec>,
    /// The other baselines rules ask for, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rule_baselines: Vec<RuleBaseline>,
    /// The metrics recent-window rules read, with their longest window, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    recent_windows: Vec<RecentWindow>,
    /// The metrics whose baselines keep a trend (for its noise and autocorrelation: those
    /// exceedance and trend rules read), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    baseline_trends: Vec<String>,
}

/// The longest recent window rules read of a metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecentWindow {
    metric: String,
    minutes: u32,
}

/// A baseline of another length than the policy's, for a metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBaseline {
    metric: String,
    hours: u32,
}

impl Settings {
    fn of(policy: &HealthPolicy) -> Self {
        let mut rule_baselines: Vec<RuleBaseline> = policy
            .rules
            .iter()
            .filter(|r| matches!(r, Rule::Compare { .. } | Rule::Trend { .. }))
            .map(|r| RuleBaseline { metric: r.metric().to_owned(), hours: r.baseline_hours(policy) })
            .filter(|b| b.hours != policy.baseline_hours)
            .collect();
        rule_baselines.sort();
        rule_baselines.dedup();
        let mut recent_windows: Vec<RecentWindow> = Vec::new();
        for rule in &policy.rules {
            let Some(minutes) = rule.window_minutes() else { continue };
            match recent_windows.iter_mut().find(|w| w.metric == rule.metric()) {
                Some(w) => w.minutes = w.minutes.max(minutes),
                None => recent_windows.push(RecentWindow { metric: rule.metric().to_owned(), minutes }),
            }
        }
        recent_windows.sort();
        let mut baseline_trends: Vec<String> = policy
            .rules
            .iter()
            .filter(|r| matches!(r, Rule::Exceedance { .. } | Rule::Trend { .. }))
            .map(|r| r.metric().to_owned())
            .collect();
        baseline_trends.sort();
        baseline_trends.dedup();
        Self {
            baseline_hours: policy.baseline_hours,
            trend_warmup_minutes: policy.trend_warmup_minutes,
            metrics: policy.all_metrics(),
            rule_baselines,
            recent_windows,
            baseline_trends,
        }
    }

    /// How many seconds of recent buckets a metric keeps before its latest (none: `None`).
    fn recent_keep(&self, metric: &str) -> Option<i64> {
        self.recent_windows.iter().find(|w| w.metric == metric).map(|w| i64::from(w.minutes) * 60)
    }

    /// Where a window's trend starts for a device updated at `updated_at` (unix seconds): the
    /// observation's after the warm-up; a baseline's from its first point, when a rule needs
    /// its noise (exceedance and trend rules); none otherwise.
    fn trend_from(&self, metric: &str, observing: bool, updated_at: i64) -> Option<(i64, i64)> {
        if observing {
            Some((updated_at, updated_at + i64::from(self.trend_warmup_minutes) * 60))
        } else {
            self.baseline_trends.iter().any(|m| m == metric).then_some((updated_at, i64::MIN))
        }
    }

    /// The longest baseline, in hours.
    fn longest_baseline(&self) -> u32 {
        self.rule_baselines.iter().map(|b| b.hours).fold(self.baseline_hours, u32::max)
    }

    fn differences(&self, theirs: &Self, who: &str) -> Result<(), HealthError> {
        // A list for a message, "none" when empty.
        fn listing<T>(items: &[T], item: impl Fn(&T) -> String) -> String {
            if items.is_empty() { "none".to_owned() } else { items.iter().map(item).collect::<Vec<_>>().join(", ") }
        }
        let baselines = |b: &[RuleBaseline]| listing(b, |b| format!("{} {} h", b.metric, b.hours));
        let reason = if self.baseline_hours != theirs.baseline_hours {
            format!("baseline_hours is {} in the state and {} in {who}", self.baseline_hours, theirs.baseline_hours)
        } else if self.recent_windows != theirs.recent_windows {
            let show = |w: &[RecentWindow]| listing(w, |w| format!("{} {} min", w.metric, w.minutes));
            format!(
                "the recent windows kept are {} in the state and {} in {who}",
                show(&self.recent_windows),
                show(&theirs.recent_windows)
            )
        } else if self.baseline_trends != theirs.baseline_trends {
            format!(
                "the baselines with trends are [{}] in the state and [{}] in {who}",
                self.baseline_trends.join(", "),
                theirs.baseline_trends.join(", ")
            )
        } else if self.rule_baselines != theirs.rule_baselines {
            format!(
                "the rules' own baselines are {} in the state and {} in {who}",
                baselines(&self.rule_baselines),
                baselines(&theirs.rule_baselines)
            )
        } else if self.trend_warmup_minutes != theirs.trend_warmup_minutes {
            format!(
                "trend_warmup_minutes is {} in the state and {} in {who}",
                self.trend_warmup_minutes, theirs.trend_warmup_minutes
            )
        } else if self.metrics != theirs.metrics {
            format!("the metric definitions differ between the state and {who}")
        } else {
            return Ok(());
        };
        Err(HealthError::PolicyMismatch { reason })
    }
}

/// The health summaries of a stage's devices, kept between runs (serialize it) and merged
/// across shards.
///
/// ```
/// use fleetpath::health::{CohortDevice, HealthPolicy, HealthState, SampleBatch};
///
/// let policy = HealthPolicy::default();
/// let mut state = HealthState::new(&policy)?;
/// let updated_at: jiff::Timestamp = "2026-11-23T14:00:00Z".parse()?;
/// state.add_device(CohortDevice { id: "press-1-01".into(), line: "L1".into(), updated_at })?;
///
/// let mut batch = SampleBatch::new(&["cycle_time_ms"]);
/// let t0 = updated_at.as_second();
/// for minute in -120..60 {
///     batch.push("press-1-01", t0 + 60 * minute, &[800.0]);
/// }
/// batch.push("press-9-99", t0, &[800.0]);
/// let report = state.ingest(&batch)?;
/// assert_eq!((report.baseline, report.observation, report.unknown_device), (120, 60, 1));
///
/// // Two shards summarise halves; merging gives the same state.
/// let json = serde_json::to_string(&state).unwrap();
/// let back: HealthState = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, state);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthState {
    settings: Settings,
    devices: BTreeMap<String, DeviceHealth>,
}

/// Which window a row falls in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Window {
    Baseline,
    Observation,
    /// A rule's baseline of this many hours.
    RuleBaseline(u32),
}

impl HealthState {
    /// An empty state for a policy.
    ///
    /// # Errors
    /// As [`HealthPolicy::validate`].
    pub fn new(policy: &HealthPolicy) -> Result<Self, HealthError> {
        policy.validate()?;
        Ok(Self { settings: Settings::of(policy), devices: BTreeMap::new() })
    }

    /// Reads a state written by `serde_json` (or any binding's `to_json`).
    ///
    /// # Errors
    /// [`HealthError::Json`].
    pub fn from_json(text: &str) -> Result<Self, HealthError> {
        Ok(crate::document::from_str("health state", text)?)
    }

    /// Reads a state from a parsed JSON value.
    ///
    /// # Errors
    /// [`HealthError::Json`] (without line or column).
    pub fn from_value(value: serde_json::Value) -> Result<Self, HealthError> {
        Ok(crate::document::from_value("health state", value)?)
    }

    /// Starts following a device. Adding it again with the same line and update time does
    /// nothing.
    ///
    /// # Errors
    /// [`HealthError::ConflictingDevice`] if it is already followed with another line or
    /// update time.
    pub fn add_device(&mut self, device: CohortDevice) -> Result<(), HealthError> {
        if device.id.is_empty() {
            return Err(HealthError::EmptyField { at: "device".to_owned(), field: "id" });
        }
        if device.line.is_empty() {
            return Err(HealthError::EmptyField { at: format!("device {:?}", device.id), field: "line" });
        }
        if let Some(known) = self.devices.get(&device.id) {
            return check_same(&device.id, known, &device.line, device.updated_at);
        }
        self.devices.insert(device.id, DeviceHealth::empty(device.line, device.updated_at));
        Ok(())
    }

    /// The followed devices, by id.
    pub fn devices(&self) -> &BTreeMap<String, DeviceHealth> {
        &self.devices
    }

    /// The metrics it summarises (built-in and the policy's).
    pub fn metrics(&self) -> &[MetricSpec] {
        &self.settings.metrics
    }

    /// Whether a policy's metrics and windows are the ones this state was built with.
    ///
    /// # Errors
    /// [`HealthError::PolicyMismatch`] naming the difference.
    pub fn check_policy(&self, policy: &HealthPolicy) -> Result<(), HealthError> {
        self.settings.differences(&Settings::of(policy), "the policy")
    }

    /// Adds a batch of samples. Each followed device's rows are sorted by time; rows in the
    /// `baseline_hours` before its update go to its baseline (and those in a rule's own
    /// `baseline_hours` to that rule's baseline), rows at or after it to its observation. The
    /// result does not depend on the order of the rows.
    ///
    /// # Errors
    /// The batch's shape ([`SampleBatch::check_shape`]); [`HealthError::UnknownMetric`] for a
    /// column the policy does not define; [`HealthError::InvalidValue`] for an infinite value,
    /// a ratio outside [0, 1] or a negative counter; [`HealthError::ConflictingSamples`] for
    /// two different rows of one device at one time; [`HealthError::OverlappingCounter`] when
    /// a counter's readings overlap those already summarised. On error the state is
    /// unchanged.
    pub fn ingest(&mut self, batch: &SampleBatch) -> Result<IngestReport, HealthError> {
        self.ingest_view(&batch.view()?)
    }

    /// As [`HealthState::ingest`], over borrowed columns ([`SampleView`]): the same result
    /// for the same rows, without copying the columns first.
    ///
    /// # Errors
    /// As [`HealthState::ingest`]; the view's shape was checked when it was made. On error
    /// the state is unchanged.
    pub fn ingest_view(&mut self, batch: &SampleView<'_>) -> Result<IngestReport, HealthError> {
        let columns = self.columns(batch)?;
        let mut report = IngestReport { rows: batch.len() as u64, ..IngestReport::default() };

        // Batch device index → followed device id.
        let known: Vec<Option<&str>> =
            batch.devices.iter().map(|d| self.devices.get_key_value(d.as_str()).map(|(k, _)| k.as_str())).collect();
        let runs = device_runs(batch, &known, &columns, &mut report)?;

        let mut partial: BTreeMap<String, DeviceHealth> = BTreeMap::new();
        let mut scratch = Scratch::default();
        for run in &runs {
            let id = known[run.device as usize].unwrap_or_default();
            let device = &self.devices[id];
            let u = device.updated_at.as_second();
            let start = |hours: u32| u - i64::from(hours) * 3600;
            // Rows of one device that are already contiguous and in time order are used in
            // place; others are gathered.
            let contiguous = run.rows.windows(2).all(|w| w[1] == w[0] + 1);
            let span = run.rows[0] as usize..run.rows[0] as usize + run.rows.len();
            let times: &[i64] = if contiguous {
                &batch.time[span.clone()]
            } else {
                scratch.times.clear();
                scratch.times.extend(run.rows.iter().map(|&r| batch.time[r as usize]));
                &scratch.times
            };
            let first = times.partition_point(|&t| t < start(self.settings.longest_baseline()));
            let b0 = times.partition_point(|&t| t < start(self.settings.baseline_hours));
            let o0 = times.partition_point(|&t| t < u);
            report.before_baseline += first as u64;
            report.baseline += (o0 - first) as u64;
            report.observation += (times.len() - o0) as u64;
            let mut health = DeviceHealth::empty(device.line.clone(), device.updated_at);
            for &(spec, column) in &columns {
                let values: &[f64] = if contiguous {
                    &column[span.clone()]
                } else {
                    scratch.values.clear();
                    scratch.values.extend(run.rows.iter().map(|&r| column[r as usize]));
                    &scratch.values
                };
                let rule_windows = self
                    .settings
                    .rule_baselines
                    .iter()
                    .filter(|b| b.metric == spec.name)
                    .map(|b| (Window::RuleBaseline(b.hours), times.partition_point(|&t| t < start(b.hours))..o0));
                let windows = [(Window::Baseline, b0..o0), (Window::Observation, o0..times.len())];
                for (window, range) in windows.into_iter().chain(rule_windows) {
                    if range.is_empty() {
                        continue;
                    }
                    let observing = window == Window::Observation;
                    let trend_from = self.settings.trend_from(&spec.name, observing, u);
                    let keep = if observing { self.settings.recent_keep(&spec.name) } else { None };
                    let summary =
                        summarise(spec, &times[range.clone()], &values[range], trend_from, keep, &mut scratch.hours);
                    if let Some(summary) = summary {
                        health.window_mut(window).insert(spec.name.clone(), summary);
                    }
                }
            }
            partial.insert(id.to_owned(), health);
        }
        let other = Self { settings: self.settings.clone(), devices: partial };
        self.merge(&other)?;
        Ok(report)
    }

    /// The batch's metric columns with their specs, values checked against the kind.
    fn columns<'b>(&'b self, batch: &SampleView<'b>) -> Result<Vec<(&'b MetricSpec, &'b [f64])>, HealthError> {
        let mut out = Vec::with_capacity(batch.metrics.len());
        for &(name, column) in &batch.metrics {
            let Some(spec) = self.settings.metrics.iter().find(|m| m.name == name) else {
                return Err(HealthError::UnknownMetric { metric: name.to_owned(), at: "sample column".into() });
            };
            let bad = |row: usize, v: f64, reason| HealthError::InvalidValue {
                row,
                metric: name.to_owned(),
                value: v.to_string(),
                reason,
            };
            let ok = |v: f64| match spec.kind {
                MetricKind::Gauge => v.is_finite(),
                MetricKind::Ratio => (0.0..=1.0).contains(&v),
                MetricKind::Counter => v.is_finite() && v >= 0.0,
            };
            // One branch-free pass; locate the culprit only when something is wrong.
            if !column.iter().fold(true, |acc, &v| acc & (v.is_nan() | ok(v))) {
                let (row, &v) = column.iter().enumerate().find(|(_, v)| !v.is_nan() && !ok(**v)).unwrap_or((0, &0.0));
                let reason = match spec.kind {
                    _ if !v.is_finite() => "is not finite",
                    MetricKind::Ratio => "is outside [0, 1]",
                    _ => "is negative",
                };
                return Err(bad(row, v, reason));
            }
            out.push((spec, column));
        }
        Ok(out)
    }

    /// Merges another state's summaries into this one: the union of devices, and for a
    /// device in both, each window's summaries merged (counters joined in time order).
    ///
    /// # Errors
    /// [`HealthError::PolicyMismatch`] when the states were built under different settings,
    /// [`HealthError::ConflictingDevice`] when a device's line or update time differs, and
    /// [`HealthError::OverlappingCounter`] when a counter's readings overlap in time. On error
    /// this state is unchanged.
    pub fn merge(&mut self, other: &Self) -> Result<(), HealthError> {
        self.settings.differences(&other.settings, "the other state")?;
        // Check everything first, so a refused merge changes nothing.
        for (id, theirs) in &other.devices {
            let Some(ours) = self.devices.get(id) else { continue };
            check_same(id, ours, &theirs.line, theirs.updated_at)?;
            for (window, yours) in theirs.windows() {
                let Some(mine) = ours.windows().find(|(w, _)| *w == window).map(|(_, m)| m) else { continue };
                for (metric, y) in yours {
                    if let (Some(a), Some(b)) = (mine.get(metric).and_then(|m| m.counter), y.counter) {
                        let disjoint = a.last.at < b.first.at || b.last.at < a.first.at;
                        if !disjoint {
                            return Err(HealthError::OverlappingCounter { device: id.clone(), metric: metric.clone() });
                        }
                    }
                }
            }
        }
        for (id, theirs) in &other.devices {
            let Some(ours) = self.devices.get_mut(id) else {
                self.devices.insert(id.clone(), theirs.clone());
                continue;
            };
            let u = ours.updated_at.as_second();
            for (window, yours) in theirs.windows() {
                let observing = window == Window::Observation;
                let mine = ours.window_mut(window);
                for (metric, y) in yours {
                    let spec = self.settings.metrics.iter().find(|m| &m.name == metric);
                    let wraps_at = spec.and_then(|s| s.wraps_at);
                    let keep = if observing { self.settings.recent_keep(metric) } else { None };
                    match mine.get_mut(metric) {
                        None => {
                            mine.insert(metric.clone(), y.clone());
                        }
                        Some(m) => {
                            let trend_from = self.settings.trend_from(metric, observing, u);
                            merge_summary(m, y, wraps_at, trend_from, keep);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_same(id: &str, known: &DeviceHealth, line: &str, updated_at: Timestamp) -> Result<(), HealthError> {
    let reason = if known.line != line {
        format!("line {:?} differs from {:?}", line, known.line)
    } else if known.updated_at != updated_at {
        format!("updated_at {updated_at} differs from {}", known.updated_at)
    } else {
        return Ok(());
    };
    Err(HealthError::ConflictingDevice { device: id.to_owned(), reason })
}

/// Merges one metric's summaries; counters are joined in time order (checked disjoint).
fn merge_summary(
    a: &mut MetricSummary,
    b: &MetricSummary,
    wraps_at: Option<f64>,
    observing: Option<(i64, i64)>,
    keep: Option<i64>,
) {
    if let (Some(ca), Some(cb)) = (a.counter, b.counter) {
        let (mut earlier, later) = if ca.last.at < cb.first.at { (ca, cb) } else { (cb, ca) };
        let mut boundary = None;
        earlier.join(&later, wraps_at, |end, rate| boundary = Some((end, rate)));
        a.counter = Some(earlier);
        if let Some((end, rate)) = boundary {
            a.moments.push(rate);
            a.sketch.add(rate);
            if let Some(keep) = keep {
                add_recent(&mut a.recent, &[end], &[rate], keep);
            }
            if let Some((u, warm)) = observing
                && end >= warm
            {
                let mut t = a.trend.unwrap_or_default();
                #[allow(clippy::cast_precision_loss)]
                t.merge(&Trend::of(&[(end - u) as f64 / 3600.0], &[rate]));
                a.trend = Some(t);
            }
        }
    } else if a.counter.is_none() {
        a.counter = b.counter;
    }
    a.moments.merge(&b.moments);
    a.sketch.merge(&b.sketch);
    match (&mut a.trend, &b.trend) {
        (Some(x), Some(y)) => x.merge(y),
        (None, Some(y)) => a.trend = Some(*y),
        _ => {}
    }
    for (start, bucket) in &b.recent {
        a.recent.entry(*start).or_default().merge(bucket);
    }
    if let Some(keep) = keep {
        prune_recent(&mut a.recent, keep);
    }
}

/// Summarises one window of one metric of one device; `observing` = (update, warm-up end)
/// in unix seconds when the window is the observation; `keep`: the seconds of recent buckets
/// to keep, for a metric recent-window rules read.
fn summarise(
    spec: &MetricSpec,
    times: &[i64],
    values: &[f64],
    observing: Option<(i64, i64)>,
    keep: Option<i64>,
    hours: &mut Vec<f64>,
) -> Option<MetricSummary> {
    let to_hours = |t: i64, u: i64| {
        #[allow(clippy::cast_precision_loss)]
        let h = (t - u) as f64 / 3600.0;
        h
    };
    match spec.kind {
        MetricKind::Gauge | MetricKind::Ratio => {
            let moments = Moments::of(values);
            if moments.count == 0 {
                return None;
            }
            let mut sketch = QuantileSketch::default();
            sketch.add_slice(values);
            let trend = observing.and_then(|(u, warm)| {
                let from = times.partition_point(|&t| t < warm);
                hours.clear();
                hours.extend(times[from..].iter().map(|&t| to_hours(t, u)));
                let trend = Trend::of(hours, &values[from..]);
                (trend.count > 0).then_some(trend)
            });
            let mut recent = BTreeMap::new();
            if let Some(keep) = keep {
                add_recent(&mut recent, times, values, keep);
                prune_recent(&mut recent, keep);
            }
            Some(MetricSummary { moments, sketch, counter: None, trend, recent })
        }
        MetricKind::Counter => {
            let mut rates = Vec::new();
            let mut rate_times = Vec::new();
            let track = CounterTrack::walk(times, values, spec.wraps_at, |end, rate| {
                rates.push(rate);
                rate_times.push(end);
            })?;
            let moments = Moments::of(&rates);
            let mut sketch = QuantileSketch::default();
            sketch.add_slice(&rates);
            let trend = observing.and_then(|(u, warm)| {
                let from = rate_times.partition_point(|&t| t < warm);
                hours.clear();
                hours.extend(rate_times[from..].iter().map(|&t| to_hours(t, u)));
                let trend = Trend::of(hours, &rates[from..]);
                (trend.count > 0).then_some(trend)
            });
            let mut recent = BTreeMap::new();
            if let Some(keep) = keep {
                add_recent(&mut recent, &rate_times, &rates, keep);
                prune_recent(&mut recent, keep);
            }
            Some(MetricSummary { moments, sketch, counter: Some(track), trend, recent })
        }
    }
}

#[derive(Default)]
struct Scratch {
    times: Vec<i64>,
    values: Vec<f64>,
    hours: Vec<f64>,
}

/// A followed device's rows, in time order, duplicates removed.
struct Run {
    device: u32,
    rows: Vec<u32>,
}

/// Groups the rows of followed devices by device, sorted by time; counts unknown devices and
/// exact duplicates; refuses two different rows of a device at one time.
fn device_runs(
    batch: &SampleView<'_>,
    known: &[Option<&str>],
    columns: &[(&MetricSpec, &[f64])],
    report: &mut IngestReport,
) -> Result<Vec<Run>, HealthError> {
    let mut per_device: Vec<Vec<u32>> = vec![Vec::new(); batch.devices.len()];
    let mut unknown = vec![false; batch.devices.len()];
    for (row, &d) in batch.device.iter().enumerate() {
        if known[d as usize].is_some() {
            per_device[d as usize].push(u32_of(row));
        } else {
            report.unknown_device += 1;
            unknown[d as usize] = true;
        }
    }
    report.unknown_devices = batch.devices.iter().zip(&unknown).filter(|(_, u)| **u).map(|(d, _)| d.clone()).collect();
    report.unknown_devices.sort();
    let same_values = |a: u32, b: u32| columns.iter().all(|(_, c)| c[a as usize].to_bits() == c[b as usize].to_bits());
    let mut runs = Vec::new();
    for (d, mut rows) in per_device.into_iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        if !rows.is_sorted_by_key(|&r| batch.time[r as usize]) {
            rows.sort_by_key(|&r| batch.time[r as usize]);
        }
        // Equal times: keep one copy of identical rows, refuse different ones. Which copy is
        // kept does not matter, they are identical.
        let before = rows.len();
        let mut conflict = None;
        rows.dedup_by(|later, earlier| {
            let same_time = batch.time[*later as usize] == batch.time[*earlier as usize];
            if same_time && !same_values(*later, *earlier) {
                conflict = Some(batch.time[*later as usize]);
            }
            same_time
        });
        if let Some(at) = conflict {
            return Err(HealthError::ConflictingSamples { device: batch.devices[d].clone(), at });
        }
        report.duplicates += (before - rows.len()) as u64;
        runs.push(Run { device: u32_of(d), rows });
    }
    Ok(runs)
}
