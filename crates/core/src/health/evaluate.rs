//! Rules applied to summaries: findings, verdicts and their explanations.

use crate::u32_of;
use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::HealthError;
use super::policy::{Change, Direction, HealthPolicy, Limit, MetricKind, MetricSpec, Rule, ScopeKind, Statistic};
use super::sketch::{QuantileSketch, binomial_z, mann_whitney_z};
use super::state::{DeviceHealth, HealthState, MetricSummary};
use super::summary::Moments;

/// Which devices a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every device of the stage.
    Stage,
    /// One production line's devices.
    Line(String),
    /// One device.
    Device(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stage => f.write_str("stage"),
            Self::Line(l) => write!(f, "line {l}"),
            Self::Device(d) => write!(f, "device {d}"),
        }
    }
}

/// Why a rule could not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InconclusiveReason {
    /// The stage has no devices with an update yet.
    NoDevices,
    /// Some device has been observed for less than the monitoring window.
    ObservationTooShort,
    /// No device in the scope reported the metric at all.
    MetricMissing,
    /// Devices report since the update, but too few have a baseline for the metric.
    NoBaseline,
    /// The scope's only device has too few samples.
    TooFewSamples,
    /// Too few of the scope's devices report enough samples.
    TooFewDevices,
    /// The change exceeds the threshold but not the baseline's own variability.
    WithinNoise,
    /// A statistic, change or score is not a finite number (sums of values near `f64::MAX`
    /// overflow): nothing can be concluded from it, neither a pass nor a breach.
    NotRepresentable,
}

/// What a rule concluded for a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Within the threshold, with enough data.
    Pass,
    /// Beyond the threshold and beyond noise.
    Breach,
    /// Cannot say; never counts as a pass.
    Inconclusive {
        /// Why.
        reason: InconclusiveReason,
    },
}

/// A device's part in a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The device.
    pub device: String,
    /// Its line.
    pub line: String,
    /// Its baseline value of the statistic (or its trend's slope per hour).
    pub baseline: f64,
    /// Its observed value (or its projected value at the horizon).
    pub observed: f64,
    /// Its change, measured like the rule's (worse is positive); `None` when infinite (or beyond
    /// a float).
    pub change: Option<f64>,
}

/// A trend rule's fit for a device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// Change per hour (worse is positive).
    pub slope_per_hour: f64,
    /// The slope's t score.
    pub t: f64,
    /// The fitted value now.
    pub current: f64,
    /// The fitted value at the horizon.
    pub projected: f64,
    /// The limit.
    pub limit: f64,
    /// Hours until the fitted line crosses the limit (0 if already past it).
    pub hours_to_limit: Option<f64>,
    /// Hours of points after the warm-up.
    pub span_hours: f64,
}

/// One rule's conclusion for one scope, with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule.
    pub rule: String,
    /// The metric.
    pub metric: String,
    /// Where.
    pub scope: Scope,
    /// What it concluded.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The statistic compared (comparison rules; for `tail_95`/`tail_99`, the end read:
    /// `p95` or `p5`, `p99` or `p1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Statistic>,
    /// How change is measured (comparison rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_kind: Option<Change>,
    /// The statistic before the update (for crash rules: crashes before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// The statistic since the update (for crash rules: crashes since).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<f64>,
    /// The change (worse is positive); `None` with `zero_baseline` when infinite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
    /// The rule's threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The baseline was zero (and below the rule's floor).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub zero_baseline: bool,
    /// The Mann-Whitney z score in the worse direction, when the threshold was exceeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z: Option<f64>,
    /// The z score a breach needed at this point of the monitoring window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z_needed: Option<f64>,
    /// Beyond the threshold but within noise over the whole window: passed as noise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub within_noise: bool,
    /// Baseline samples of the reporting devices.
    pub baseline_samples: u64,
    /// Observed samples of the reporting devices.
    pub observed_samples: u64,
    /// Devices that report enough samples.
    pub devices_reporting: u32,
    /// Devices in the scope.
    pub devices_expected: u32,
    /// Devices that contribute most (largest change first), for findings that are not a pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_devices: Vec<Contribution>,
    /// Trend rules: the device's fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<Projection>,
    /// Recent-window rules: the window, in minutes, ending at the evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u32>,
    /// Exceedance rules: the baseline's tail edges (low, then high), the values past which a
    /// sample counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tail_edges: Vec<f64>,
    /// Exceedance rules: how many observed samples were past them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceedances: Option<u64>,
    /// Exceedance rules: the baselines' lag-1 autocorrelation, in [0, 0.99]; the test counts
    /// samples as `(1 − ρ) / (1 + ρ)` independent trials each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocorrelation: Option<f64>,
    /// One line for people.
    pub message: String,
}

/// The overall conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Every rule passed over the whole monitoring window with enough data.
    Healthy,
    /// A rule breached: roll back.
    Breach,
    /// Not enough to say either way.
    Inconclusive,
}

/// A health gate's conclusion, as the rollout state machine takes it
/// ([`Event::HealthVerdict`](crate::rollout::Event::HealthVerdict), built by
/// [`HealthReport::event`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// No rule breached, with enough data.
    Healthy,
    /// A rule breached: roll back.
    Breach {
        /// The explanation.
        detail: String,
    },
    /// Not enough data to say; never counts as healthy.
    Inconclusive {
        /// Why.
        detail: String,
    },
}

/// The result of [`HealthState::evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// The conclusion.
    pub status: HealthStatus,
    /// Why, in one line.
    pub summary: String,
    /// When it was evaluated.
    pub evaluated_at: Timestamp,
    /// The earliest update in the stage: the observation's start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_from: Option<Timestamp>,
    /// Hours the most recently updated device has been observed.
    pub observed_hours: f64,
    /// Devices followed.
    pub devices: u32,
    /// Every finding, rule by rule (policy order), stage then lines then devices.
    pub findings: Vec<Finding>,
    /// The positions in `findings` of those that are not a pass (breaches and inconclusive
    /// findings), in order.
    #[serde(default)]
    pub problems: Vec<usize>,
}

impl HealthReport {
    /// The verdict for the rollout state machine.
    pub fn verdict(&self) -> Verdict {
        match self.status {
            HealthStatus::Healthy => Verdict::Healthy,
            HealthStatus::Breach => Verdict::Breach { detail: self.summary.clone() },
            HealthStatus::Inconclusive => Verdict::Inconclusive { detail: self.summary.clone() },
        }
    }

    /// Findings that are not a pass (those [`HealthReport::problems`] lists).
    pub fn problem_findings(&self) -> impl Iterator<Item = &Finding> {
        self.problems.iter().filter_map(|&i| self.findings.get(i))
    }
}

impl fmt::Display for HealthReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary)?;
        for finding in &self.findings {
            let tag = match finding.outcome {
                Outcome::Pass => "pass",
                Outcome::Breach => "BREACH",
                Outcome::Inconclusive { .. } => "inconclusive",
            };
            writeln!(f, "  [{tag}] {}", finding.message)?;
            if finding.outcome != Outcome::Pass {
                for c in &finding.top_devices {
                    let change = c.change.map_or_else(|| "from zero".to_owned(), num);
                    writeln!(
                        f,
                        "      {} ({}): {} -> {} (change {change})",
                        c.device,
                        c.line,
                        num(c.baseline),
                        num(c.observed)
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A number for people: at most four decimals, trailing zeros dropped.
fn num(x: f64) -> String {
    // Large values need no decimals; small ones keep four.
    num_places(x, if x.abs() >= 100.0 { 1 } else { 4 })
}

/// Like [`num`] with at most `places` decimals.
fn num_places(x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// A relative change as a multiple: 2.0 -> "3x".
fn times(change: f64) -> String {
    format!("{}x", num_places(change + 1.0, 2))
}

fn pct(x: f64) -> String {
    format!("{}%", num_places(x * 100.0, 2))
}

fn devices(n: u32) -> String {
    if n == 1 { "1 device".to_owned() } else { format!("{n} devices") }
}

/// A statistic of merged summaries.
fn statistic(stat: Statistic, moments: &Moments, sketch: &QuantileSketch) -> Option<f64> {
    if moments.count == 0 {
        return None;
    }
    match stat {
        Statistic::Min => Some(moments.min),
        Statistic::Max => Some(moments.max),
        // Clamp the bucket's midpoint to the values actually seen.
        _ => match stat.quantile() {
            Some(q) => sketch.quantile(q).map(|v| v.clamp(moments.min, moments.max)),
            None => Some(moments.mean),
        },
    }
}

/// The change in the worse direction, or `None` for an infinite change (zero baseline, no
/// floor, worse now). Also says whether the baseline was zero.
fn change_of(kind: Change, dir: Direction, base: f64, obs: f64, floor: f64) -> (Option<f64>, bool) {
    let worse = match dir {
        Direction::HigherIsWorse => obs - base,
        Direction::LowerIsWorse => base - obs,
        Direction::TwoSided => (obs - base).abs(),
    };
    match kind {
        Change::Absolute => (Some(worse), false),
        Change::Level => (Some(obs), false),
        Change::Relative => {
            let zero = base == 0.0;
            let denom = base.abs().max(floor);
            if denom > 0.0 {
                // Values of opposite signs near `f64::MAX` overflow their difference, not the
                // relative change.
                let scaled = || match dir {
                    Direction::HigherIsWorse => obs / denom - base / denom,
                    Direction::LowerIsWorse => base / denom - obs / denom,
                    Direction::TwoSided => (obs / denom - base / denom).abs(),
                };
                (Some(if worse.is_finite() { worse / denom } else { scaled() }), zero)
            } else if worse > 0.0 {
                (None, true)
            } else {
                (Some(0.0), true)
            }
        }
    }
}

/// How far past a limit a value must be to count as past it, not a rounding artefact.
fn rounding_slack(limit: f64) -> f64 {
    1e-9 * limit.abs().max(1e-3)
}

/// Whether a change is beyond a rule's threshold by more than float rounding: a share of
/// 0.97 against 0.99 is 0.020000000000000018 in floats, and must not breach "2 points".
fn exceeds(kind: Change, dir: Direction, change: Option<f64>, threshold: f64) -> bool {
    let slack = rounding_slack(threshold);
    match (kind, change) {
        (_, None) => true,
        (Change::Level, Some(obs)) => match dir {
            // A two-sided level is refused by the policy's validation.
            Direction::HigherIsWorse | Direction::TwoSided => obs > threshold + slack,
            Direction::LowerIsWorse => obs < threshold - slack,
        },
        (_, Some(c)) => c > threshold + slack,
    }
}

struct Ctx<'a> {
    policy: &'a HealthPolicy,
    devices: &'a BTreeMap<String, DeviceHealth>,
    /// The z score a breach needs now.
    z_needed: f64,
    /// Whether the whole monitoring window has been observed.
    window_done: bool,
    /// The evaluation's time, unix seconds.
    now: i64,
}

/// A scope's devices that report enough, and their pooled summaries.
struct Pooled<'g> {
    reporting: Vec<&'g str>,
    baseline: (Moments, QuantileSketch),
    observed: (Moments, QuantileSketch),
}

/// A scope's devices and how many of them must report.
struct Group<'a> {
    scope: Scope,
    ids: Vec<&'a str>,
}

impl HealthState {
    /// Applies a policy's rules at `now`. The report's status is:
    ///
    /// 1. [`HealthStatus::Breach`] if any finding breaches (at any time: a breach does not
    ///    wait for the monitoring window);
    /// 2. else [`HealthStatus::Inconclusive`] if the stage has no devices, the most recently
    ///    updated device has been observed for less than `monitoring_hours`, or any finding
    ///    is inconclusive;
    /// 3. else [`HealthStatus::Healthy`]. Never healthy for lack of data.
    ///
    /// A comparison breaches only when the change is beyond the threshold **and** the
    /// one-sided Mann-Whitney test of the observed samples against the baseline samples
    /// (sketch buckets as ties, normal approximation with tie correction) reaches, in the
    /// worse direction, `z_critical · √(monitoring_hours / observed_hours)` (just
    /// `z_critical` once the window is observed): repeated looks every few minutes need
    /// overwhelming evidence early. Beyond the threshold but within noise is inconclusive
    /// (`within_noise`) until the window is observed, then a pass flagged `within_noise`
    /// (or still inconclusive with `strict_noise`). [`Change::Level`] rules and crash rules
    /// do not test noise.
    ///
    /// # Errors
    /// [`HealthError::PolicyMismatch`] if the policy's metrics or windows differ from the
    /// ones the state was built with; as [`HealthPolicy::validate`].
    pub fn evaluate(&self, policy: &HealthPolicy, now: Timestamp) -> Result<HealthReport, HealthError> {
        policy.validate()?;
        self.check_policy(policy)?;
        let latest = self.devices().values().map(|d| d.updated_at).max();
        #[allow(clippy::cast_precision_loss)]
        let observed_hours = latest.map_or(0.0, |l| (now.as_second() - l.as_second()).max(0) as f64 / 3600.0);
        let window = f64::from(policy.monitoring_hours);
        let window_done = observed_hours >= window;
        // O'Brien-Fleming-style: early looks need a larger z (at least one minute observed).
        let z_needed = if window_done || window == 0.0 {
            policy.z_critical
        } else {
            policy.z_critical * (window / observed_hours.max(1.0 / 60.0)).sqrt()
        };
        let ctx = Ctx { policy, devices: self.devices(), z_needed, window_done, now: now.as_second() };
        let mut findings = Vec::new();
        for rule in &policy.rules {
            let spec = self.metrics().iter().find(|m| m.name == rule.metric()).ok_or_else(|| {
                HealthError::UnknownMetric { metric: rule.metric().to_owned(), at: format!("rule {:?}", rule.name()) }
            })?;
            match rule {
                Rule::Compare { scopes, .. } | Rule::Exceedance { scopes, .. } => {
                    let mut kinds = scopes.clone().unwrap_or_else(|| policy.scopes.clone());
                    kinds.sort();
                    kinds.dedup();
                    for group in ctx.groups(&kinds) {
                        findings.push(match rule {
                            Rule::Compare { .. } => ctx.compare(rule, spec, &group),
                            _ => ctx.exceedance(rule, spec, &group),
                        });
                    }
                }
                Rule::AnyIncrease { .. } => findings.extend(ctx.any_increase(rule)),
                Rule::Trend { .. } => findings.extend(ctx.trend(rule, spec)),
            }
        }

        findings.iter_mut().for_each(refuse_non_finite);
        let devices = u32_of(self.devices().len());
        let observed_from = self.devices().values().map(|d| d.updated_at).min();
        let breaches: Vec<&Finding> = findings.iter().filter(|f| f.outcome == Outcome::Breach).collect();
        let inconclusive = findings.iter().find(|f| matches!(f.outcome, Outcome::Inconclusive { .. }));
        let (status, summary) = if let Some(first) = breaches.first() {
            let more = match breaches.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            (HealthStatus::Breach, format!("breach: {}{more}", first.message))
        } else if devices == 0 {
            (HealthStatus::Inconclusive, "inconclusive: no devices to judge".to_owned())
        } else if !window_done {
            (
                HealthStatus::Inconclusive,
                format!(
                    "inconclusive: observed {} h of the {} h monitoring window, no breach so far",
                    num(observed_hours),
                    policy.monitoring_hours
                ),
            )
        } else if let Some(f) = inconclusive {
            (HealthStatus::Inconclusive, format!("inconclusive: {}", f.message))
        } else {
            (
                HealthStatus::Healthy,
                format!(
                    "healthy: {} rules passed on {devices} devices over {} h",
                    policy.rules.len(),
                    num(observed_hours)
                ),
            )
        };
        let problems = (0..findings.len()).filter(|&i| findings[i].outcome != Outcome::Pass).collect();
        Ok(HealthReport {
            status,
            summary,
            evaluated_at: now,
            observed_from,
            observed_hours,
            devices,
            findings,
            problems,
        })
    }
}

impl<'a> Ctx<'a> {
    fn groups(&self, kinds: &[ScopeKind]) -> Vec<Group<'a>> {
        let mut out = Vec::new();
        for kind in kinds {
            match kind {
                ScopeKind::Stage => {
                    out.push(Group { scope: Scope::Stage, ids: self.devices.keys().map(String::as_str).collect() });
                }
                ScopeKind::Line => {
                    let mut lines: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                    for (id, d) in self.devices {
                        lines.entry(d.line.as_str()).or_default().push(id);
                    }
                    out.extend(lines.into_iter().map(|(l, ids)| Group { scope: Scope::Line(l.to_owned()), ids }));
                }
                ScopeKind::Device => {
                    out.extend(
                        self.devices
                            .keys()
                            .map(|id| Group { scope: Scope::Device(id.clone()), ids: vec![id.as_str()] }),
                    );
                }
            }
        }
        out
    }

    fn needed(&self, expected: usize) -> usize {
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let share = (self.policy.min_reporting_share * expected as f64 - 1e-9).ceil() as usize;
        share.max(self.policy.min_devices as usize)
    }

    fn enough(&self, s: Option<&MetricSummary>) -> bool {
        s.is_some_and(|s| self.enough_count(s.moments.count))
    }

    fn enough_count(&self, count: u64) -> bool {
        count >= u64::from(self.policy.min_samples)
    }

    /// A device's observed values of a metric: everything since its update, or (`window`, in
    /// minutes) the recent buckets that start in the window ending now.
    fn observed(&self, d: &DeviceHealth, metric: &str, window: Option<u32>) -> Option<(Moments, QuantileSketch)> {
        let o = d.observation.get(metric)?;
        let Some(minutes) = window else { return Some((o.moments, o.sketch.clone())) };
        let mut pooled = (Moments::default(), QuantileSketch::default());
        for bucket in o.recent.range(self.now - i64::from(minutes) * 60..self.now).map(|(_, b)| b) {
            pooled.0.merge(&bucket.moments);
            pooled.1.merge(&bucket.sketch);
        }
        Some(pooled)
    }

    /// The z a breach of this rule needs now: the sequential boundary, or a recent window's.
    fn z_for(&self, window: Option<u32>) -> f64 {
        window.map_or(self.z_needed, |w| self.policy.window_z(w))
    }

    /// The devices of a group that report enough samples after (in the rule's window) and,
    /// when `hours` is given, before (in that baseline); with their summaries pooled. Fills
    /// the finding's counts; when too few report, makes it inconclusive and returns `None`.
    fn pool<'g>(
        &self,
        rule: &Rule,
        group: &Group<'g>,
        hours: Option<u32>,
        window: Option<u32>,
        finding: &mut Finding,
    ) -> Option<Pooled<'g>> {
        let metric = rule.metric();
        let mut pooled = Pooled {
            reporting: Vec::new(),
            baseline: (Moments::default(), QuantileSketch::default()),
            observed: (Moments::default(), QuantileSketch::default()),
        };
        for id in group.ids.iter().copied() {
            let d = &self.devices[id];
            let Some(obs) = self.observed(d, metric, window).filter(|o| self.enough_count(o.0.count)) else {
                continue;
            };
            let base = hours.map(|h| self.baseline(d, metric, h));
            if base.is_some_and(|b| !self.enough(b)) {
                continue;
            }
            if let Some(b) = base.flatten() {
                pooled.baseline.0.merge(&b.moments);
                pooled.baseline.1.merge(&b.sketch);
            }
            pooled.observed.0.merge(&obs.0);
            pooled.observed.1.merge(&obs.1);
            pooled.reporting.push(id);
        }
        let expected = group.ids.len();
        let needed = self.needed(expected);
        finding.devices_reporting = u32_of(pooled.reporting.len());
        if pooled.reporting.len() >= needed {
            finding.baseline_samples = pooled.baseline.0.count;
            finding.observed_samples = pooled.observed.0.count;
            return Some(pooled);
        }
        let reason = match (window, self.missing_reason(group, metric, hours)) {
            // Devices that report, just not in the window: too few samples there.
            (Some(_), InconclusiveReason::NoBaseline) => InconclusiveReason::NoBaseline,
            (Some(_), r) if r != InconclusiveReason::MetricMissing && expected == 1 => {
                InconclusiveReason::TooFewSamples
            }
            (_, r) => r,
        };
        let silent: Vec<&str> = group.ids.iter().copied().filter(|id| !pooled.reporting.contains(id)).take(5).collect();
        let when = match (window, hours) {
            (Some(w), Some(_)) => format!("before the update and in the last {w} min"),
            (Some(w), None) => format!("in the last {w} min"),
            (None, _) => "before and after".to_owned(),
        };
        finding.outcome = Outcome::Inconclusive { reason };
        finding.message = format!(
            "{} on {}: {} of {expected} devices report {metric} with at least {} samples {when}, {needed} needed ({}: {}{})",
            rule.name(),
            group.scope,
            pooled.reporting.len(),
            self.policy.min_samples,
            reason_text(reason),
            silent.join(", "),
            if expected - pooled.reporting.len() > silent.len() { ", …" } else { "" },
        );
        None
    }

    /// A device's baseline of a metric over `hours`.
    fn baseline<'d>(&self, d: &'d DeviceHealth, metric: &str, hours: u32) -> Option<&'d MetricSummary> {
        d.baseline_of(metric, hours, self.policy.baseline_hours)
    }

    /// Why a scope cannot be judged, from its devices' summaries (`need_baseline`: the
    /// baseline's length in hours, when the rule needs one).
    fn missing_reason(&self, group: &Group<'_>, metric: &str, need_baseline: Option<u32>) -> InconclusiveReason {
        let any = group.ids.iter().any(|id| {
            let d = &self.devices[*id];
            need_baseline.is_some_and(|h| self.baseline(d, metric, h).is_some())
                || d.baseline.contains_key(metric)
                || d.observation.contains_key(metric)
        });
        let observed_ok = group.ids.iter().filter(|id| self.enough(self.devices[**id].observation.get(metric))).count();
        if !any {
            InconclusiveReason::MetricMissing
        } else if need_baseline.is_some() && observed_ok >= self.needed(group.ids.len()) {
            InconclusiveReason::NoBaseline
        } else if group.ids.len() == 1 {
            InconclusiveReason::TooFewSamples
        } else {
            InconclusiveReason::TooFewDevices
        }
    }

    fn blank(rule: &Rule, scope: Scope, outcome: Outcome, expected: usize, message: String) -> Finding {
        Finding {
            rule: rule.name().to_owned(),
            metric: rule.metric().to_owned(),
            scope,
            outcome,
            statistic: None,
            change_kind: None,
            baseline: None,
            observed: None,
            change: None,
            threshold: None,
            zero_baseline: false,
            z: None,
            z_needed: None,
            within_noise: false,
            baseline_samples: 0,
            observed_samples: 0,
            devices_reporting: 0,
            devices_expected: u32_of(expected),
            top_devices: Vec::new(),
            projection: None,
            window_minutes: None,
            tail_edges: Vec::new(),
            exceedances: None,
            autocorrelation: None,
            message,
        }
    }

    #[allow(clippy::too_many_lines)]
    /// The contributions that matter most: largest `key` first (ties by device id), as many
    /// as the policy names.
    fn top(&self, mut contributions: Vec<Contribution>, key: impl Fn(&Contribution) -> f64) -> Vec<Contribution> {
        contributions.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.device.cmp(&b.device)));
        contributions.truncate(self.policy.top_devices as usize);
        contributions
    }

    fn compare(&self, rule: &Rule, spec: &MetricSpec, group: &Group<'_>) -> Finding {
        let Rule::Compare { metric, statistic: stat, change: kind, threshold, baseline_floor, .. } = rule else {
            unreachable!("compare() is only called for comparison rules")
        };
        let needs_baseline = *kind != Change::Level;
        let hours = rule.baseline_hours(self.policy);
        let direction = rule.direction(spec);
        let window = rule.window_minutes();
        let expected = group.ids.len();
        let mut finding = Self::blank(rule, group.scope.clone(), Outcome::Pass, expected, String::new());
        finding.statistic = Some(*stat);
        finding.change_kind = Some(*kind);
        finding.threshold = Some(*threshold);
        finding.window_minutes = window;
        let Some(Pooled { reporting, baseline: (bm, bs), observed: (om, os) }) =
            self.pool(rule, group, needs_baseline.then_some(hours), window, &mut finding)
        else {
            return finding;
        };
        // A two-sided tail reads both ends and keeps the worse (an infinite change first).
        let read = |(side, dir): (Statistic, Direction)| {
            let base = statistic(side, &bm, &bs);
            let obs = statistic(side, &om, &os).unwrap_or(0.0);
            let (change, zero) = change_of(*kind, dir, base.unwrap_or(0.0), obs, *baseline_floor);
            (side, dir, base, obs, change, zero)
        };
        let rank = |c: Option<f64>| c.unwrap_or(f64::INFINITY);
        let (side, dir, base, obs, change, zero) = stat
            .sides(direction)
            .into_iter()
            .map(read)
            .reduce(|a, b| if rank(b.4) > rank(a.4) { b } else { a })
            .unwrap_or_else(|| read((*stat, direction)));
        finding.statistic = Some(side);
        finding.baseline = base.filter(|_| needs_baseline);
        finding.observed = Some(obs);
        finding.change = change.filter(|_| *kind != Change::Level);
        finding.zero_baseline = zero;
        let beyond = exceeds(*kind, dir, change, *threshold);
        if beyond && *kind != Change::Level {
            let z = mann_whitney_z(&bs, &os);
            let z = match dir {
                Direction::HigherIsWorse => z,
                Direction::LowerIsWorse => -z,
                Direction::TwoSided => z.abs(),
            };
            self.judge(&mut finding, z, window);
        } else if beyond {
            finding.outcome = Outcome::Breach;
        }
        finding.message = describe_compare(&finding, spec, side, *kind, *threshold);
        if finding.outcome != Outcome::Pass {
            let top: Vec<Contribution> = reporting
                .iter()
                .filter_map(|id| {
                    let d = &self.devices[*id];
                    let (om, os) = self.observed(d, metric, window)?;
                    let ob = statistic(side, &om, &os)?;
                    let b = self
                        .baseline(d, metric, hours)
                        .and_then(|b| statistic(side, &b.moments, &b.sketch))
                        .unwrap_or(0.0);
                    let (c, _) = change_of(*kind, dir, b, ob, *baseline_floor);
                    Some(Contribution {
                        device: (*id).to_owned(),
                        line: d.line.clone(),
                        baseline: b,
                        observed: ob,
                        // JSON has no number for a change beyond a float: it reads as infinite.
                        change: c.filter(|c| c.is_finite()),
                    })
                })
                .collect();
            let key = |c: &Contribution| match (*kind, dir, c.change) {
                (_, _, None) => f64::INFINITY,
                (Change::Level, Direction::LowerIsWorse, Some(x)) => -x,
                (_, _, Some(x)) => x,
            };
            finding.top_devices = self.top(top, key);
        }
        finding
    }

    /// A change beyond its threshold: a breach when the test's z reaches what this look
    /// needs, else noise (inconclusive until the monitoring window is observed, then a pass
    /// flagged `within_noise` unless `strict_noise`).
    fn judge(&self, finding: &mut Finding, z: f64, window: Option<u32>) {
        let needed = self.z_for(window);
        finding.z = Some(z);
        finding.z_needed = Some(needed);
        finding.outcome = if z >= needed {
            Outcome::Breach
        } else if self.window_done && !self.policy.strict_noise {
            finding.within_noise = true;
            Outcome::Pass
        } else {
            Outcome::Inconclusive { reason: InconclusiveReason::WithinNoise }
        };
    }

    #[allow(clippy::too_many_lines)]
    fn exceedance(&self, rule: &Rule, spec: &MetricSpec, group: &Group<'_>) -> Finding {
        let Rule::Exceedance { name, metric, quantile, threshold, .. } = rule else {
            unreachable!("exceedance() is only called for exceedance rules")
        };
        let hours = rule.baseline_hours(self.policy);
        let direction = rule.direction(spec);
        let window = rule.window_minutes();
        let mut finding = Self::blank(rule, group.scope.clone(), Outcome::Pass, group.ids.len(), String::new());
        finding.change_kind = Some(Change::Relative);
        finding.threshold = Some(*threshold);
        finding.window_minutes = window;
        let Some(Pooled { reporting, baseline: (bm, bs), observed: (om, os) }) =
            self.pool(rule, group, Some(hours), window, &mut finding)
        else {
            return finding;
        };
        // The tail's edges: the baseline's buckets at the quantiles; beyond means in a bucket
        // past them (a value in the edge's own bucket is a tie, not an exceedance).
        let low = matches!(direction, Direction::LowerIsWorse | Direction::TwoSided).then(|| 1.0 - quantile);
        let high = matches!(direction, Direction::HigherIsWorse | Direction::TwoSided).then_some(*quantile);
        let (low_id, high_id) = (low.and_then(|q| bs.bucket_at(q)), high.and_then(|q| bs.bucket_at(q)));
        let edge = |q: f64| bs.quantile(q).map(|v| v.clamp(bm.min, bm.max));
        finding.tail_edges = low.into_iter().chain(high).filter_map(edge).collect();
        #[allow(clippy::cast_precision_loss)]
        let share = |k: u64, n: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        let base_k = bs.count_beyond(low_id, high_id);
        // A tail the baseline never passed is not impossible: at least one sample's worth.
        let expected = share(base_k.max(1), bm.count);
        let k = os.count_beyond(low_id, high_id);
        let observed = share(k, om.count);
        let change = (observed - expected) / expected;
        finding.baseline = Some(share(base_k, bm.count));
        finding.observed = Some(observed);
        finding.change = Some(change);
        finding.exceedances = Some(k);
        // Autocorrelated samples cluster past the edge: a window of them is worth fewer
        // independent trials. The baselines' lag-1 autocorrelation (of their trends'
        // residuals, weighted by samples) scales both counts by (1 − ρ) / (1 + ρ).
        let (mut weight, mut sum) = (0.0, 0.0);
        for id in &reporting {
            if let Some(b) = self.baseline(&self.devices[*id], metric, hours) {
                #[allow(clippy::cast_precision_loss)]
                let w = b.moments.count as f64;
                weight += w;
                sum += w * b.trend.and_then(|t| t.fit()).map_or(0.0, |f| f.rho);
            }
        }
        let rho = if weight > 0.0 { sum / weight } else { 0.0 };
        finding.autocorrelation = Some(rho);
        if change > threshold + rounding_slack(*threshold) {
            let scale = (1.0 - rho) / (1.0 + rho);
            #[allow(clippy::cast_precision_loss)]
            let z = binomial_z(k as f64 * scale, om.count as f64 * scale, expected);
            self.judge(&mut finding, z, window);
        }
        let side = match direction {
            Direction::HigherIsWorse => format!("above p{}", num_places(quantile * 100.0, 2)),
            Direction::LowerIsWorse => format!("below p{}", num_places((1.0 - quantile) * 100.0, 2)),
            Direction::TwoSided => {
                format!(
                    "below p{} or above p{}",
                    num_places((1.0 - quantile) * 100.0, 2),
                    num_places(quantile * 100.0, 2)
                )
            }
        };
        let edges: Vec<String> = finding.tail_edges.iter().map(|v| num(*v)).collect();
        let head = format!(
            "{name} on {}: {metric} samples {side} of the baseline ({}){}: {} -> {} ({k} of {})",
            group.scope,
            edges.join(", "),
            window.map_or_else(String::new, |w| format!(" in the last {w} min")),
            pct(finding.baseline.unwrap_or(0.0)),
            pct(observed),
            om.count
        );
        let samples = format!("{} vs {} samples, {}", bm.count, om.count, devices(finding.devices_reporting));
        let z = || format!("z = {} vs {}", num(finding.z.unwrap_or(0.0)), num(finding.z_needed.unwrap_or(0.0)));
        finding.message = match finding.outcome {
            Outcome::Breach => format!(
                "{head}, {} the expected share, threshold {}; {}; {samples})",
                times(change),
                times(*threshold),
                z()
            ),
            Outcome::Inconclusive { .. } => format!(
                "{head}, {} the expected share, threshold {}) but the binomial test does not exclude chance ({}; {samples})",
                times(change),
                times(*threshold),
                z()
            ),
            Outcome::Pass if finding.within_noise => format!(
                "{head}, {} the expected share, threshold {}) within chance over the whole window ({}; {samples})",
                times(change),
                times(*threshold),
                z()
            ),
            Outcome::Pass => {
                format!("{head}, {} the expected share, threshold {}; {samples})", times(change), times(*threshold))
            }
        };
        if finding.outcome != Outcome::Pass {
            let top: Vec<Contribution> = reporting
                .iter()
                .filter_map(|id| {
                    let d = &self.devices[*id];
                    let (om, os) = self.observed(d, metric, window)?;
                    let b = self.baseline(d, metric, hours)?;
                    let observed = share(os.count_beyond(low_id, high_id), om.count);
                    Some(Contribution {
                        device: (*id).to_owned(),
                        line: d.line.clone(),
                        baseline: share(b.sketch.count_beyond(low_id, high_id), b.moments.count),
                        observed,
                        change: Some((observed - expected) / expected),
                    })
                })
                .collect();
            let key = |c: &Contribution| c.change.unwrap_or(f64::INFINITY);
            finding.top_devices = self.top(top, key);
        }
        finding
    }

    fn any_increase(&self, rule: &Rule) -> Vec<Finding> {
        let metric = rule.metric();
        let mut out = Vec::new();
        let mut reporting = 0usize;
        let mut total_obs = 0u64;
        for (id, d) in self.devices {
            let obs = d.observation.get(metric);
            if self.enough(obs) {
                reporting += 1;
            }
            let Some(o) = obs else { continue };
            total_obs += o.moments.count;
            let increase = o.counter.map_or(0.0, |c| c.increase);
            if increase > 0.0 {
                let before = d.baseline.get(metric).and_then(|b| b.counter).map_or(0.0, |c| c.increase);
                let mut f = Self::blank(
                    rule,
                    Scope::Device(id.clone()),
                    Outcome::Breach,
                    1,
                    format!(
                        "{} on device {id} (line {}): {metric} rose by {} since the update (baseline window: {})",
                        rule.name(),
                        d.line,
                        num(increase),
                        num(before)
                    ),
                );
                f.baseline = Some(before);
                f.observed = Some(increase);
                f.observed_samples = o.moments.count;
                f.baseline_samples = d.baseline.get(metric).map_or(0, |b| b.moments.count);
                f.devices_reporting = 1;
                out.push(f);
            }
        }
        if !out.is_empty() {
            return out;
        }
        let expected = self.devices.len();
        let group = Group { scope: Scope::Stage, ids: self.devices.keys().map(String::as_str).collect() };
        let needed = self.needed(expected);
        let mut f = if reporting < needed || expected == 0 {
            let reason = self.missing_reason(&group, metric, None);
            Self::blank(
                rule,
                Scope::Stage,
                Outcome::Inconclusive { reason },
                expected,
                format!(
                    "{} on stage: {reporting} of {expected} devices report {metric} with at least {} samples since the update, {needed} needed ({})",
                    rule.name(),
                    self.policy.min_samples,
                    reason_text(reason)
                ),
            )
        } else {
            Self::blank(
                rule,
                Scope::Stage,
                Outcome::Pass,
                expected,
                format!("{} on stage: no {metric} increase on {reporting} reporting devices", rule.name()),
            )
        };
        f.devices_reporting = u32_of(reporting);
        f.observed_samples = total_obs;
        vec![f]
    }

    #[allow(clippy::too_many_lines)]
    fn trend(&self, rule: &Rule, spec: &MetricSpec) -> Vec<Finding> {
        let Rule::Trend { name, metric, limit, horizon_hours, .. } = rule else {
            unreachable!("trend() is only called for trend rules")
        };
        // A two-sided trend is refused by the policy's validation.
        let hi = rule.direction(spec) != Direction::LowerIsWorse;
        let hours = rule.baseline_hours(self.policy);
        let sign = if hi { 1.0 } else { -1.0 };
        let mut out = Vec::new();
        let mut reporting = 0usize;
        let mut steepest: Option<(String, Projection)> = None;
        let mut silent = Vec::new();
        for (id, d) in self.devices {
            let obs = d.observation.get(metric);
            let fit = obs.and_then(|o| o.trend).filter(|t| t.count >= u64::from(self.policy.min_samples));
            let fit = fit.and_then(|t| t.fit()).filter(|f| f.span_hours >= self.policy.trend_min_hours);
            let base =
                self.baseline(d, metric, hours).filter(|b| b.moments.count >= u64::from(self.policy.min_samples));
            // Judged against the baseline's noise when it is larger (see `Fit::against`).
            let fit = fit.map(|f| base.and_then(|b| b.trend?.fit()).map_or(f, |b| f.against(&b)));
            let limit_value = match limit {
                Limit::Absolute(v) => Some(*v),
                Limit::Relative(x) => base.map(|b| b.moments.mean * (1.0 + sign * x)),
            };
            let (Some(fit), Some(limit_value)) = (fit, limit_value) else {
                silent.push(id.as_str());
                continue;
            };
            reporting += 1;
            let slope = sign * fit.slope;
            let t = sign * fit.t;
            let projected = fit.current + fit.slope * horizon_hours;
            let gap = sign * (limit_value - fit.current);
            let hours_to_limit = if gap <= 0.0 {
                Some(0.0)
            } else if slope > 0.0 {
                Some(gap / slope)
            } else {
                None
            };
            let p = Projection {
                slope_per_hour: slope,
                t: t.clamp(-1e9, 1e9),
                current: fit.current,
                projected,
                limit: limit_value,
                hours_to_limit,
                span_hours: fit.span_hours,
            };
            // Past the limit by more than float rounding, like comparisons.
            let crosses = sign * (projected - limit_value) > rounding_slack(limit_value);
            if t >= self.policy.trend_t_critical && slope > 0.0 && crosses {
                let mut f = Self::blank(
                    rule,
                    Scope::Device(id.clone()),
                    Outcome::Breach,
                    1,
                    format!(
                        "{name} on device {id} (line {}): {metric} {} {} per hour (t = {}) over {} h, now {}, projected {} in {} h, past the limit {}{}",
                        d.line,
                        if sign > 0.0 { "climbs" } else { "falls" },
                        num(slope),
                        num(p.t),
                        num(p.span_hours),
                        num(p.current),
                        num(projected),
                        num(*horizon_hours),
                        num(limit_value),
                        match hours_to_limit {
                            Some(h) if h > 0.0 => format!(" (crossing in {} h)", num(h)),
                            Some(_) => " (already past it)".to_owned(),
                            None => String::new(),
                        },
                    ),
                );
                f.devices_reporting = 1;
                f.observed_samples = obs.map_or(0, |o| o.moments.count);
                f.baseline_samples = base.map_or(0, |b| b.moments.count);
                f.baseline = base.map(|b| b.moments.mean);
                f.observed = Some(fit.current);
                f.projection = Some(p);
                out.push(f);
            }
            let steeper = steepest.as_ref().is_none_or(|(_, s)| p.t > s.t);
            if steeper {
                steepest = Some((id.clone(), p));
            }
        }
        if !out.is_empty() {
            return out;
        }
        let expected = self.devices.len();
        let needed = self.needed(expected);
        let mut f = if reporting < needed || expected == 0 {
            let group = Group { scope: Scope::Stage, ids: self.devices.keys().map(String::as_str).collect() };
            let reason = if reporting == 0
                && !silent.is_empty()
                && self.devices.values().all(|d| d.observation.contains_key(metric.as_str()))
            {
                InconclusiveReason::TooFewSamples
            } else {
                self.missing_reason(&group, metric, matches!(limit, Limit::Relative(_)).then_some(hours))
            };
            Self::blank(
                rule,
                Scope::Stage,
                Outcome::Inconclusive { reason },
                expected,
                format!(
                    "{name} on stage: {reporting} of {expected} devices have a {metric} trend over at least {} h after the warm-up{}, {needed} needed ({})",
                    num(self.policy.trend_min_hours),
                    if matches!(limit, Limit::Relative(_)) { " and a baseline" } else { "" },
                    reason_text(reason)
                ),
            )
        } else {
            let detail = steepest.as_ref().map_or_else(String::new, |(id, p)| {
                format!("; steepest: {id}, {} per hour (t = {})", num(p.slope_per_hour), num(p.t))
            });
            let mut f = Self::blank(
                rule,
                Scope::Stage,
                Outcome::Pass,
                expected,
                format!(
                    "{name} on stage: no {metric} {} projected past its limit on {reporting} devices{detail}",
                    if sign > 0.0 { "climb" } else { "fall" }
                ),
            );
            f.projection = steepest.map(|(_, p)| p);
            f
        };
        f.devices_reporting = u32_of(reporting);
        vec![f]
    }
}

/// A finding whose numbers are not finite (values near `f64::MAX` overflow their sums) proves
/// nothing: it becomes inconclusive, whatever its outcome was, so it can never pass a gate.
/// (An infinite relative change from a zero baseline is `change: None`, not a non-finite
/// number, and keeps its breach.)
fn refuse_non_finite(f: &mut Finding) {
    let numbers = [f.baseline, f.observed, f.change, f.z];
    if numbers.iter().flatten().all(|v| v.is_finite()) {
        return;
    }
    let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v}"));
    f.outcome = Outcome::Inconclusive { reason: InconclusiveReason::NotRepresentable };
    f.within_noise = false;
    f.message = format!(
        "{} on {}: {} cannot be judged, its numbers are beyond a 64-bit float (baseline {}, observed {}, change {})",
        f.rule,
        f.scope,
        f.metric,
        show(f.baseline),
        show(f.observed),
        show(f.change),
    );
    // JSON has no number for them: the message keeps them, the fields drop them (so the report
    // reads back as it was written).
    for v in [&mut f.baseline, &mut f.observed, &mut f.change, &mut f.z] {
        *v = v.filter(|v| v.is_finite());
    }
}

fn reason_text(reason: InconclusiveReason) -> &'static str {
    match reason {
        InconclusiveReason::NoDevices => "no devices",
        InconclusiveReason::ObservationTooShort => "observation too short",
        InconclusiveReason::MetricMissing => "metric missing",
        InconclusiveReason::NoBaseline => "no baseline",
        InconclusiveReason::TooFewSamples => "too few samples",
        InconclusiveReason::TooFewDevices => "too few devices reporting",
        InconclusiveReason::WithinNoise => "within noise",
        InconclusiveReason::NotRepresentable => "numbers beyond a 64-bit float",
    }
}

fn describe_compare(f: &Finding, spec: &MetricSpec, stat: Statistic, kind: Change, threshold: f64) -> String {
    let zc = f.z_needed.unwrap_or(0.0);
    let stat_name = stat.as_str();
    let unit = if spec.kind == MetricKind::Counter { " per minute" } else { "" };
    let obs = f.observed.map_or_else(String::new, num);
    let values = match f.baseline {
        Some(b) => format!("{stat_name} {}{unit} {} -> {obs}", spec.name, num(b)),
        None => format!("{stat_name} {}{unit} {obs}", spec.name),
    };
    let (change, limit) = match kind {
        Change::Relative => (
            f.change.map_or_else(|| "from a zero baseline".to_owned(), |c| format!("{} worse", pct(c))),
            pct(threshold),
        ),
        Change::Absolute if spec.kind == MetricKind::Ratio => (
            format!("{} points worse", num(f.change.unwrap_or(0.0) * 100.0)),
            format!("{} points", num(threshold * 100.0)),
        ),
        Change::Absolute => (format!("{} worse", num(f.change.unwrap_or(0.0))), num(threshold)),
        Change::Level => (String::from("level"), num(threshold)),
    };
    let samples = format!("{} vs {} samples, {}", f.baseline_samples, f.observed_samples, devices(f.devices_reporting));
    let head = format!("{} on {}: {values}", f.rule, f.scope);
    match f.outcome {
        Outcome::Breach if kind == Change::Level => format!("{head}, beyond {limit} ({samples})"),
        Outcome::Breach => {
            format!("{head} ({change}, threshold {limit}; z = {} >= {}; {samples})", num(f.z.unwrap_or(0.0)), num(zc))
        }
        Outcome::Inconclusive { .. } => format!(
            "{head} ({change}, threshold {limit}) but within the baseline's noise (z = {} < {}; {samples})",
            num(f.z.unwrap_or(0.0)),
            num(zc)
        ),
        Outcome::Pass if kind == Change::Level => format!("{head}, within {limit} ({samples})"),
        Outcome::Pass if f.within_noise => format!(
            "{head} ({change}, threshold {limit}) within the baseline's noise over the whole window (z = {} < {}; {samples})",
            num(f.z.unwrap_or(0.0)),
            num(zc)
        ),
        Outcome::Pass => format!("{head} ({change}, threshold {limit}; {samples})"),
    }
}
