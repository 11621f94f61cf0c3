//! Metrics, rules and the health policy.

use serde::{Deserialize, Serialize};

use super::HealthError;

/// What a metric's samples are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A level sampled as is (cycle time, CPU, memory).
    Gauge,
    /// A share in [0, 1]; booleans are 0 or 1 (MQTT connected). Its mean is the share.
    Ratio,
    /// A cumulative count that may reset (device restart) or wrap (errors, crashes, units).
    /// Summarised as its increase per minute between consecutive readings.
    Counter,
}

/// Which way is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger values are worse (cycle time, errors, memory).
    HigherIsWorse,
    /// Smaller values are worse (connected share, units produced, quality pass rate).
    LowerIsWorse,
    /// A large move either way is worse (temperature, pressure, a set point): changes are
    /// distances (`|observed − baseline|`), tail statistics read both ends and report the
    /// worse one, and the noise test is two-sided (`|z|`). Not for `level` changes or trends,
    /// which need one worse direction.
    TwoSided,
}

impl Direction {
    /// Its JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HigherIsWorse => "higher_is_worse",
            Self::LowerIsWorse => "lower_is_worse",
            Self::TwoSided => "two_sided",
        }
    }
}

/// A metric: built in (see [`MetricSpec::builtin`]) or declared in the policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// Its name, as the sample columns spell it.
    pub name: String,
    /// What its samples are.
    pub kind: MetricKind,
    /// Which way is worse.
    pub direction: Direction,
    /// For counters: the value at which the counter wraps to zero (e.g. 4294967296).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wraps_at: Option<f64>,
}

impl MetricSpec {
    fn new(name: &str, kind: MetricKind, direction: Direction) -> Self {
        Self { name: name.to_owned(), kind, direction, wraps_at: None }
    }

    /// The seed's metrics, sampled every 60 s by the device's health component:
    ///
    /// | name | kind | worse |
    /// |---|---|---|
    /// | `mqtt_connected` | ratio (1 connected, 0 not) | lower |
    /// | `component_crashes` | counter | higher |
    /// | `cycle_time_ms` | gauge | higher |
    /// | `error_count` | counter | higher |
    /// | `cpu_percent` | gauge | higher |
    /// | `memory_mb` | gauge | higher |
    /// | `units_produced` | counter | lower |
    /// | `quality_pass_rate` | ratio | lower |
    pub fn builtin() -> Vec<Self> {
        use Direction::{HigherIsWorse as Hi, LowerIsWorse as Lo};
        use MetricKind::{Counter, Gauge, Ratio};
        vec![
            Self::new("mqtt_connected", Ratio, Lo),
            Self::new("component_crashes", Counter, Hi),
            Self::new("cycle_time_ms", Gauge, Hi),
            Self::new("error_count", Counter, Hi),
            Self::new("cpu_percent", Gauge, Hi),
            Self::new("memory_mb", Gauge, Hi),
            Self::new("units_produced", Counter, Lo),
            Self::new("quality_pass_rate", Ratio, Lo),
        ]
    }
}

/// Which statistic of the samples a rule compares.
///
/// Quantiles come from the sketch (within 0.39 %, clamped to the values seen); `min`, `max`
/// and `mean` are exact. A tail is only worth watching in the worse direction: `p95`/`p99`
/// read the upper tail, which a drop on a lower-is-worse metric never reaches. `tail_95` and
/// `tail_99` pick the worse tail from the rule's direction (`p95`/`p5`, `p99`/`p1`, both ends
/// when two-sided).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// The mean (exact).
    Mean,
    /// The median.
    Median,
    /// The smallest value (exact).
    Min,
    /// The 1st percentile.
    P1,
    /// The 5th percentile.
    P5,
    /// The 95th percentile.
    P95,
    /// The 99th percentile.
    P99,
    /// The largest value (exact).
    Max,
    /// The 95th percentile in the worse direction: `p95` when higher is worse, `p5` when lower
    /// is worse, the worse of the two when two-sided.
    #[serde(rename = "tail_95")]
    Tail95,
    /// The 99th percentile in the worse direction: `p99`, `p1`, or the worse of the two.
    #[serde(rename = "tail_99")]
    Tail99,
}

impl Statistic {
    /// Its JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Median => "median",
            Self::Min => "min",
            Self::P1 => "p1",
            Self::P5 => "p5",
            Self::P95 => "p95",
            Self::P99 => "p99",
            Self::Max => "max",
            Self::Tail95 => "tail_95",
            Self::Tail99 => "tail_99",
        }
    }

    /// The quantile it reads from the sketch, for the quantiles.
    pub(crate) fn quantile(self) -> Option<f64> {
        match self {
            Self::Median => Some(0.5),
            Self::P1 => Some(0.01),
            Self::P5 => Some(0.05),
            Self::P95 => Some(0.95),
            Self::P99 => Some(0.99),
            Self::Mean | Self::Min | Self::Max | Self::Tail95 | Self::Tail99 => None,
        }
    }

    /// What a rule with this statistic and direction reads: one statistic and its direction
    /// (both ends for a two-sided tail: the low end lower-is-worse, the high end
    /// higher-is-worse, so each is judged where it is worse).
    pub(crate) fn sides(self, direction: Direction) -> Vec<(Self, Direction)> {
        use Direction::{HigherIsWorse as Hi, LowerIsWorse as Lo, TwoSided as Two};
        let (low, high) = match self {
            Self::Tail95 => (Self::P5, Self::P95),
            Self::Tail99 => (Self::P1, Self::P99),
            other => return vec![(other, direction)],
        };
        match direction {
            Hi => vec![(high, Hi)],
            Lo => vec![(low, Lo)],
            Two => vec![(low, Lo), (high, Hi)],
        }
    }
}

/// The recent windows' bucket, in minutes: a window is counted to the bucket.
pub const RECENT_BUCKET_MINUTES: u32 = 5;

/// How a rule measures change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// `(observed − baseline) / max(|baseline|, baseline_floor)`, signed so that worse is
    /// positive; threshold 0.10 means "10 % worse".
    Relative,
    /// `observed − baseline`, signed so that worse is positive; for ratios, in shares
    /// (0.02 = 2 percentage points).
    Absolute,
    /// The observed value alone, no baseline: breaches when it is worse than the threshold.
    Level,
}

/// Where a trend would become a problem.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Limit {
    /// A fixed value (e.g. 900 MB of a 1 GB device).
    Absolute(f64),
    /// The device's own baseline mean times `1 + x` (0.25: a quarter above its baseline).
    Relative(f64),
}

/// Where rules are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// All devices of the stage together.
    Stage,
    /// Each production line's devices of the stage.
    Line,
    /// Each device alone.
    Device,
}

/// One health rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Compare a statistic after the update with the baseline's.
    Compare {
        /// The rule's name, unique in the policy.
        name: String,
        /// The metric.
        metric: String,
        /// Which statistic.
        statistic: Statistic,
        /// How change is measured.
        change: Change,
        /// Breaches when the change is greater (for [`Change::Level`]: when the observed
        /// value is worse) by more than float rounding (10⁻⁹ of the threshold, at least
        /// 10⁻¹²): a change exactly at the threshold passes.
        threshold: f64,
        /// For [`Change::Relative`]: the smallest denominator, so a zero or tiny baseline
        /// gives a finite change. 0 means a zero baseline makes any worsening an infinite
        /// change (reported as `zero_baseline`).
        #[serde(default)]
        baseline_floor: f64,
        /// Where to apply it; the policy's `scopes` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scopes: Option<Vec<ScopeKind>>,
        /// Which way is worse for this rule; the metric's direction when absent (for example
        /// `two_sided` on a higher-is-worse gauge to also catch a drop).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
        /// The baseline: this many hours before each device's update; the policy's
        /// `baseline_hours` when absent (a metric with a shorter usable history).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baseline_hours: Option<u32>,
        /// Compare only the last this many minutes (a multiple of 5, to the 5-minute bucket)
        /// instead of everything since the update: a brief regression is not diluted by a
        /// long good observation. Looked at again and again, each look needs the stricter z
        /// of [`HealthPolicy::window_z`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_minutes: Option<u32>,
    },
    /// Counts the samples beyond the baseline's tail — above its `quantile` when higher is
    /// worse, below its `1 − quantile` when lower is worse, beyond either when two-sided — and
    /// compares their share with the baseline's own share beyond it, with an exact binomial
    /// test. A few bad samples among many (a 25-minute latency spike in a day) barely move a
    /// percentile and never a whole-distribution test, but they are many times the tail's
    /// expected share.
    Exceedance {
        /// The rule's name.
        name: String,
        /// The metric.
        metric: String,
        /// Where the tail starts, in (0.5, 1): 0.99 is the baseline's p99 (p1 when lower is
        /// worse).
        quantile: f64,
        /// Breaches when the share beyond the tail is above the baseline's share by more than
        /// this, relatively (2.0: three times the baseline's share), and the binomial test
        /// agrees.
        threshold: f64,
        /// Where to apply it; the policy's `scopes` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scopes: Option<Vec<ScopeKind>>,
        /// Which way is worse; the metric's direction when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
        /// The baseline's length in hours; the policy's when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baseline_hours: Option<u32>,
        /// Count only the last this many minutes (as for comparisons).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_minutes: Option<u32>,
    },
    /// Any increase of a counter after the update breaches at once, per device, with no
    /// noise test (component crashes).
    AnyIncrease {
        /// The rule's name.
        name: String,
        /// The counter.
        metric: String,
    },
    /// A steady climb (in the worse direction), per device, projected to cross a limit within
    /// `horizon_hours` (memory leaks, cumulative drift).
    Trend {
        /// The rule's name.
        name: String,
        /// The metric.
        metric: String,
        /// The limit.
        limit: Limit,
        /// How far ahead to project, in hours.
        #[serde(default = "default_horizon")]
        horizon_hours: f64,
        /// Which way is worse (`higher_is_worse` or `lower_is_worse`); the metric's direction
        /// when absent. A trend needs one worse direction.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
        /// For a relative limit: the baseline's length in hours; the policy's when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baseline_hours: Option<u32>,
    },
}

fn default_horizon() -> f64 {
    24.0
}

impl Rule {
    /// The rule's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Compare { name, .. }
            | Self::Exceedance { name, .. }
            | Self::AnyIncrease { name, .. }
            | Self::Trend { name, .. } => name,
        }
    }

    /// The metric it reads.
    pub fn metric(&self) -> &str {
        match self {
            Self::Compare { metric, .. }
            | Self::Exceedance { metric, .. }
            | Self::AnyIncrease { metric, .. }
            | Self::Trend { metric, .. } => metric,
        }
    }

    /// Which way is worse for it: its own `direction`, else the metric's.
    pub fn direction(&self, metric: &MetricSpec) -> Direction {
        match self {
            Self::Compare { direction: Some(d), .. }
            | Self::Exceedance { direction: Some(d), .. }
            | Self::Trend { direction: Some(d), .. } => *d,
            _ => metric.direction,
        }
    }

    /// The length of its baseline in hours: its own `baseline_hours`, else the policy's.
    pub fn baseline_hours(&self, policy: &HealthPolicy) -> u32 {
        match self {
            Self::Compare { baseline_hours: Some(h), .. }
            | Self::Exceedance { baseline_hours: Some(h), .. }
            | Self::Trend { baseline_hours: Some(h), .. } => *h,
            _ => policy.baseline_hours,
        }
    }

    /// The recent window it looks at, in minutes (comparisons and exceedances that have one).
    pub fn window_minutes(&self) -> Option<u32> {
        match self {
            Self::Compare { window_minutes, .. } | Self::Exceedance { window_minutes, .. } => *window_minutes,
            _ => None,
        }
    }

    /// The seed's rules. What each one means exactly:
    ///
    /// - `connection_failures`: the share of samples in which the device reported MQTT
    ///   disconnected (`1 − mean(mqtt_connected)`) rose by more than **2 percentage points**
    ///   over the baseline's share. (An absolute "> 2 % of samples" rule would fail every
    ///   update on a line that was already flaky; use `change: level` for that reading.)
    /// - `cycle_time`: mean `cycle_time_ms` more than **10 %** above the baseline mean.
    /// - `error_rate`: errors per minute (`error_count` increases, resets handled) more than
    ///   **5 %** above the baseline rate, measured against at least 1 error per hour: with
    ///   fewer errors than that before the update, the change is `(after − before) / (1/60)`.
    ///   Stage scope only: one device's error count is noisier than 5 %.
    /// - `component_crash`: any increase of `component_crashes` on any device breaches at
    ///   once.
    /// - `memory_leak`: a significant climb of `memory_mb` on a device, projected to pass
    ///   its baseline mean + 25 % within 24 hours.
    pub fn seed_defaults() -> Vec<Self> {
        vec![
            Self::Compare {
                name: "connection_failures".into(),
                metric: "mqtt_connected".into(),
                statistic: Statistic::Mean,
                change: Change::Absolute,
                threshold: 0.02,
                baseline_floor: 0.0,
                scopes: None,
                direction: None,
                baseline_hours: None,
                window_minutes: None,
            },
            Self::Compare {
                name: "cycle_time".into(),
                metric: "cycle_time_ms".into(),
                statistic: Statistic::Mean,
                change: Change::Relative,
                threshold: 0.10,
                baseline_floor: 0.0,
                scopes: None,
                direction: None,
                baseline_hours: None,
                window_minutes: None,
            },
            Self::Compare {
                name: "error_rate".into(),
                metric: "error_count".into(),
                statistic: Statistic::Mean,
                change: Change::Relative,
                threshold: 0.05,
                baseline_floor: 1.0 / 60.0,
                // A device's error count varies by more than 5 % from day to day: per line
                // this rule would mostly test noise (and false-alarm about once in 16
                // healthy canaries of 17 single-device lines, measured).
                scopes: Some(vec![ScopeKind::Stage]),
                direction: None,
                baseline_hours: None,
                window_minutes: None,
            },
            Self::AnyIncrease { name: "component_crash".into(), metric: "component_crashes".into() },
            Self::Trend {
                name: "memory_leak".into(),
                metric: "memory_mb".into(),
                limit: Limit::Relative(0.25),
                horizon_hours: 24.0,
                direction: None,
                baseline_hours: None,
            },
        ]
    }
}

/// Everything the health check needs to know, with the seed's defaults.
///
/// The JSON form (every field optional; `metrics` adds to the built-in ones, `rules`
/// replaces the defaults):
///
/// ```
/// use fleetpath::health::HealthPolicy;
///
/// let policy = HealthPolicy::from_json(r#"{
///   "monitoring_hours": 24,
///   "metrics": [{"name": "scrap_count", "kind": "counter", "direction": "higher_is_worse"}],
///   "rules": [
///     {"check": "compare", "name": "scrap", "metric": "scrap_count",
///      "statistic": "mean", "change": "relative", "threshold": 0.2, "baseline_floor": 0.01},
///     {"check": "any_increase", "name": "crash", "metric": "component_crashes"}
///   ]
/// }"#)?;
/// assert_eq!(policy.rules.len(), 2);
/// assert_eq!(policy.baseline_hours, 168);
/// # Ok::<(), fleetpath::health::HealthError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthPolicy {
    /// The baseline: this many hours before each device's update (7 days).
    pub baseline_hours: u32,
    /// A healthy verdict needs every device observed this long after its update (24 h).
    pub monitoring_hours: u32,
    /// A device needs this many samples of a metric in each window to count as reporting it.
    pub min_samples: u32,
    /// At least this share of a scope's devices must report a metric (0.9).
    pub min_reporting_share: f64,
    /// And at least this many devices (1).
    pub min_devices: u32,
    /// The Mann-Whitney z score a change must reach, in the worse direction, to breach once
    /// the monitoring window is observed (3.0, one-sided p ≈ 0.00135). Earlier looks need
    /// `z_critical · √(monitoring_hours / observed_hours)`, an O'Brien-Fleming-style boundary:
    /// judging every 5 minutes must not multiply false alarms, yet a gross regression still
    /// breaches within the hour.
    pub z_critical: f64,
    /// What a change beyond its threshold but within the baseline's noise means once the
    /// whole monitoring window is observed with enough samples: `false` (default) judges it
    /// noise and passes it (flagged `within_noise`); `true` keeps it inconclusive, so such a
    /// stage needs a person. Before the window ends it is always inconclusive.
    pub strict_noise: bool,
    /// The t score a trend's slope must reach to count (6.0; per-minute samples are
    /// autocorrelated, so this is strict on purpose).
    pub trend_t_critical: f64,
    /// Samples this soon after the update are left out of trends (caches warm up).
    pub trend_warmup_minutes: u32,
    /// A trend needs at least this many hours of points after the warm-up.
    pub trend_min_hours: f64,
    /// Where comparison rules apply unless a rule says otherwise.
    pub scopes: Vec<ScopeKind>,
    /// How many contributing devices a finding names.
    pub top_devices: u32,
    /// Metrics beyond the built-in ones.
    pub metrics: Vec<MetricSpec>,
    /// The rules.
    pub rules: Vec<Rule>,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            baseline_hours: 168,
            monitoring_hours: 24,
            min_samples: 30,
            min_reporting_share: 0.9,
            min_devices: 1,
            z_critical: 3.0,
            strict_noise: false,
            trend_t_critical: 6.0,
            trend_warmup_minutes: 30,
            trend_min_hours: 1.0,
            scopes: vec![ScopeKind::Stage, ScopeKind::Line],
            top_devices: 3,
            metrics: Vec::new(),
            rules: Rule::seed_defaults(),
        }
    }
}

impl HealthPolicy {
    /// Reads and validates a policy.
    ///
    /// # Errors
    /// [`HealthError::Json`] for malformed JSON, unknown fields or wrong types; otherwise as
    /// [`HealthPolicy::validate`].
    pub fn from_json(text: &str) -> Result<Self, HealthError> {
        let policy: Self = crate::document::from_str("health policy", text)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Reads and validates a policy from a parsed JSON value.
    ///
    /// # Errors
    /// As [`HealthPolicy::from_json`] (JSON errors without line or column).
    pub fn from_value(value: serde_json::Value) -> Result<Self, HealthError> {
        let policy: Self = crate::document::from_value("health policy", value)?;
        policy.validate()?;
        Ok(policy)
    }

    /// The z a recent-window rule needs at every look: `z_critical`'s one-sided tail divided
    /// among the `monitoring_hours · 60 / window_minutes` disjoint windows of the monitoring
    /// window (Bonferroni), so that looking at every window of the stage does not multiply
    /// false alarms. For `z_critical` 3 and 24 h: 3.86 with a 60-minute window, 3.40 with 6 h.
    ///
    /// ```
    /// let policy = fleetpath::health::HealthPolicy::default();
    /// assert!((policy.window_z(60) - 3.86).abs() < 0.01);
    /// assert!((policy.window_z(360) - 3.40).abs() < 0.01);
    /// ```
    pub fn window_z(&self, window_minutes: u32) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        let windows = (f64::from(self.monitoring_hours) * 60.0 / f64::from(window_minutes.max(1))).ceil().max(1.0);
        let normal = Normal::standard();
        let tail = normal.sf(self.z_critical) / windows;
        (-normal.inverse_cdf(tail)).clamp(self.z_critical, 38.0)
    }

    /// Built-in metrics followed by the policy's own.
    pub fn all_metrics(&self) -> Vec<MetricSpec> {
        let mut all = MetricSpec::builtin();
        all.extend(self.metrics.iter().cloned());
        all
    }

    /// Checks every setting, metric and rule.
    ///
    /// # Errors
    /// [`HealthError::InvalidSetting`], [`HealthError::DuplicateName`],
    /// [`HealthError::UnknownMetric`] or [`HealthError::WrongMetricKind`], naming the field.
    pub fn validate(&self) -> Result<(), HealthError> {
        let bad = |field: String, reason: &str| Err(HealthError::InvalidSetting { field, reason: reason.to_owned() });
        if self.baseline_hours == 0 {
            return bad("baseline_hours".into(), "must be at least 1");
        }
        if !(self.min_reporting_share > 0.0 && self.min_reporting_share <= 1.0) {
            return bad("min_reporting_share".into(), "must be in (0, 1]");
        }
        if self.min_samples < 2 {
            return bad("min_samples".into(), "must be at least 2");
        }
        if self.min_devices == 0 {
            return bad("min_devices".into(), "must be at least 1");
        }
        for (field, v) in [
            ("z_critical", self.z_critical),
            ("trend_t_critical", self.trend_t_critical),
            ("trend_min_hours", self.trend_min_hours),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(field.into(), "must be a finite number, 0 or more");
            }
        }
        if self.scopes.is_empty() {
            return bad("scopes".into(), "must name at least one scope");
        }
        let all = self.all_metrics();
        for (i, m) in all.iter().enumerate() {
            let at = format!("metrics[{}]", i.saturating_sub(MetricSpec::builtin().len()));
            if m.name.is_empty() {
                return bad(format!("{at}.name"), "must not be empty");
            }
            if all[..i].iter().any(|o| o.name == m.name) {
                let what = if i >= MetricSpec::builtin().len() && MetricSpec::builtin().iter().any(|b| b.name == m.name)
                {
                    "built-in metric"
                } else {
                    "metric"
                };
                return Err(HealthError::DuplicateName { what, name: m.name.clone() });
            }
            match (m.kind, m.wraps_at) {
                (MetricKind::Counter, Some(w)) if !(w.is_finite() && w > 0.0) => {
                    return bad(format!("{at}.wraps_at"), "must be a positive number");
                }
                (MetricKind::Gauge | MetricKind::Ratio, Some(_)) => {
                    return bad(format!("{at}.wraps_at"), "only counters wrap");
                }
                _ => {}
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            self.validate_rule(i, rule, &all)?;
        }
        Ok(())
    }

    /// Checks the `i`-th rule against the policy's metrics (`all`).
    fn validate_rule(&self, i: usize, rule: &Rule, all: &[MetricSpec]) -> Result<(), HealthError> {
        let bad = |field: String, reason: &str| Err(HealthError::InvalidSetting { field, reason: reason.to_owned() });
        let at = format!("rules[{i}]");
        if rule.name().is_empty() {
            return bad(format!("{at}.name"), "must not be empty");
        }
        if self.rules[..i].iter().any(|o| o.name() == rule.name()) {
            return Err(HealthError::DuplicateName { what: "rule", name: rule.name().to_owned() });
        }
        let Some(metric) = all.iter().find(|m| m.name == rule.metric()) else {
            return Err(HealthError::UnknownMetric { metric: rule.metric().to_owned(), at });
        };
        if let Rule::Compare { baseline_hours: Some(0), .. }
        | Rule::Exceedance { baseline_hours: Some(0), .. }
        | Rule::Trend { baseline_hours: Some(0), .. } = rule
        {
            return bad(format!("{at}.baseline_hours"), "must be at least 1");
        }
        if let Some(w) = rule.window_minutes()
            && (w == 0 || w % RECENT_BUCKET_MINUTES != 0)
        {
            return bad(format!("{at}.window_minutes"), "must be a positive multiple of 5");
        }
        let direction = rule.direction(metric);
        match rule {
            Rule::Compare { change: Change::Level, .. } if direction == Direction::TwoSided => {
                return bad(
                    format!("{at}.change"),
                    "a level needs one worse direction (the rule or its metric is two_sided): give the rule higher_is_worse or lower_is_worse",
                );
            }
            Rule::Trend { .. } if direction == Direction::TwoSided => {
                return bad(
                    format!("{at}.direction"),
                    "a trend needs one worse direction (the rule or its metric is two_sided): give the rule higher_is_worse or lower_is_worse",
                );
            }
            _ => {}
        }
        match rule {
            Rule::Compare { threshold, baseline_floor, scopes, change, .. } => {
                if !(threshold.is_finite() && (*threshold >= 0.0 || *change == Change::Level)) {
                    return bad(format!("{at}.threshold"), "must be a finite number, 0 or more");
                }
                if !(baseline_floor.is_finite() && *baseline_floor >= 0.0) {
                    return bad(format!("{at}.baseline_floor"), "must be a finite number, 0 or more");
                }
                if scopes.as_ref().is_some_and(Vec::is_empty) {
                    return bad(format!("{at}.scopes"), "must name at least one scope");
                }
            }
            Rule::Exceedance { quantile, threshold, scopes, .. } => {
                if !(*quantile > 0.5 && *quantile < 1.0) {
                    return bad(format!("{at}.quantile"), "must be in (0.5, 1)");
                }
                if !(threshold.is_finite() && *threshold >= 0.0) {
                    return bad(format!("{at}.threshold"), "must be a finite number, 0 or more");
                }
                if scopes.as_ref().is_some_and(Vec::is_empty) {
                    return bad(format!("{at}.scopes"), "must name at least one scope");
                }
            }
            Rule::AnyIncrease { .. } => {
                if metric.kind != MetricKind::Counter {
                    return Err(HealthError::WrongMetricKind {
                        rule: rule.name().to_owned(),
                        metric: metric.name.clone(),
                        expected: "counter",
                    });
                }
            }
            Rule::Trend { limit, horizon_hours, .. } => {
                if !(horizon_hours.is_finite() && *horizon_hours > 0.0) {
                    return bad(format!("{at}.horizon_hours"), "must be a positive number");
                }
                let (Limit::Absolute(v) | Limit::Relative(v)) = limit;
                if !v.is_finite() {
                    return bad(format!("{at}.limit"), "must be a finite number");
                }
            }
        }
        Ok(())
    }
}
