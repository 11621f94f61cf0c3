//! Mergeable summaries: moments, a linear trend, counter tracking.
//!
//! # Float tolerance
//!
//! Counts, minimum, maximum, sketches and counter increases of whole numbers merge exactly.
//! Sums, means and variances are floats: merging the summaries of any split of the samples
//! equals summarising all of them within about `k · ε · (|mean| / σ)²` relative error for the
//! variance and `k · ε` for the mean (`ε` = 2⁻⁵², `k` the number of merges). The property
//! tests hold merged summaries to 10⁻⁹ (sum, mean) and 10⁻⁶ (variance) relative error. The
//! same samples in the same batches give bit-identical results on every platform: only
//! `+ − × ÷ √` are used, never `ln` or `exp`.

use serde::{Deserialize, Serialize};

/// Count, sum, minimum, maximum, mean and the sum of squared deviations (`m2`) of a series;
/// merged with Chan et al.'s parallel formula, so variances stay accurate for large means.
///
/// The mean of finite values is always finite, even where their sum overflows (values near
/// `f64::MAX`): `sum` is then infinite, `mean` is not. `m2` may overflow where the variance
/// itself is beyond a float; a finding built on it is then inconclusive, never healthy.
///
/// ```
/// use fleetpath::health::stats::Moments;
///
/// let mut all = Moments::of(&[1.0, 2.0, 3.0, f64::NAN, 4.0]); // NaN = missing, skipped
/// assert_eq!(all.count, 4);
/// assert_eq!(all.mean, 2.5);
/// let (a, b) = (Moments::of(&[1.0, 2.0]), Moments::of(&[3.0, 4.0]));
/// let mut merged = a;
/// merged.merge(&b);
/// assert_eq!(merged.variance(), all.variance()); // 5/3
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moments {
    /// Number of values.
    pub count: u64,
    /// Their sum.
    #[serde(with = "float_json")]
    pub sum: f64,
    /// Smallest (0 when empty).
    #[serde(with = "float_json")]
    pub min: f64,
    /// Largest (0 when empty).
    #[serde(with = "float_json")]
    pub max: f64,
    /// Mean (0 when empty).
    #[serde(with = "float_json")]
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    #[serde(with = "float_json")]
    pub m2: f64,
}

impl Moments {
    /// Summarises a slice in two passes (sum, then squared deviations from the mean), skipping
    /// NaN. Four interleaved accumulators keep the passes fast; their order is fixed, so the
    /// result is the same on every platform.
    pub fn of(values: &[f64]) -> Self {
        let mut count = [0u64; 4];
        let mut sum = [0.0f64; 4];
        let mut min = [f64::INFINITY; 4];
        let mut max = [f64::NEG_INFINITY; 4];
        let chunks = values.chunks_exact(4);
        let rest = chunks.remainder();
        for c in chunks {
            for i in 0..4 {
                let v = c[i];
                let present = !v.is_nan();
                count[i] += u64::from(present);
                sum[i] += if present { v } else { 0.0 };
                min[i] = min[i].min(v);
                max[i] = max[i].max(v);
            }
        }
        for (i, &v) in rest.iter().enumerate() {
            let present = !v.is_nan();
            count[i] += u64::from(present);
            sum[i] += if present { v } else { 0.0 };
            min[i] = min[i].min(v);
            max[i] = max[i].max(v);
        }
        let n: u64 = count.iter().sum();
        if n == 0 {
            return Self::default();
        }
        let total = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        #[allow(clippy::cast_precision_loss)]
        let nf = n as f64;
        let mut mean = total / nf;
        if !mean.is_finite() && values.iter().all(|v| v.is_finite() || v.is_nan()) {
            // The sum of values near `f64::MAX` overflowed; their mean does not: add v / n.
            mean = values.iter().filter(|v| !v.is_nan()).map(|v| v / nf).sum();
        }
        let mut m2 = [0.0f64; 4];
        let chunks = values.chunks_exact(4);
        for c in chunks {
            for i in 0..4 {
                let d = c[i] - mean;
                m2[i] += if d.is_nan() { 0.0 } else { d * d };
            }
        }
        for (i, &v) in rest.iter().enumerate() {
            let d = v - mean;
            m2[i] += if d.is_nan() { 0.0 } else { d * d };
        }
        Self {
            count: n,
            sum: total,
            min: min.iter().copied().fold(f64::INFINITY, f64::min),
            max: max.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean,
            m2: (m2[0] + m2[1]) + (m2[2] + m2[3]),
        }
    }

    /// Adds one value (NaN is skipped).
    pub fn push(&mut self, v: f64) {
        if !v.is_nan() {
            self.merge(&Self { count: 1, sum: v, min: v, max: v, mean: v, m2: 0.0 });
        }
    }

    /// Merges another summary into this one (Chan et al.).
    pub fn merge(&mut self, other: &Self) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        #[allow(clippy::cast_precision_loss)]
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        let mean = self.mean + delta * (nb / n);
        // Means of opposite signs near `f64::MAX` overflow their difference, not their average.
        self.mean = if mean.is_finite() { mean } else { self.mean * (na / n) + other.mean * (nb / n) };
        self.m2 += other.m2 + delta * delta * (na * nb / n);
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.count += other.count;
    }

    /// The sample variance (n − 1 in the denominator); 0 below two values.
    pub fn variance(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        if self.count < 2 { 0.0 } else { self.m2 / (self.count - 1) as f64 }
    }
}

/// A least-squares line through (hours since the update, value), kept as means and co-moments
/// so it merges like [`Moments`], plus the sum of squared differences between consecutive
/// values, which estimates the noise's lag-1 autocorrelation.
///
/// Samples taken a minute apart are not independent: a level that wanders makes an ordinary
/// least-squares t score several times too large (with lag-1 autocorrelation ρ = 0.9, about
/// 4.4 times). [`Trend::fit`] estimates ρ from `Var(Δx) = 2σ²(1 − ρ)` and widens the slope's
/// standard error by `√((1 + ρ) / (1 − ρ))` (the effective-sample-size correction of Santer et
/// al., 2000). Merging trends that overlap in time adds no difference for the seam, so their
/// ρ is then approximate; consecutive time ranges merge exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trend {
    /// Number of points.
    pub count: u64,
    /// Mean time, hours since the update.
    #[serde(with = "float_json")]
    pub mean_t: f64,
    /// Mean value.
    #[serde(with = "float_json")]
    pub mean_x: f64,
    /// Σ (t − t̄)².
    #[serde(with = "float_json")]
    pub ctt: f64,
    /// Σ (t − t̄)(x − x̄).
    #[serde(with = "float_json")]
    pub ctx: f64,
    /// Σ (x − x̄)².
    #[serde(with = "float_json")]
    pub cxx: f64,
    /// The earliest time seen, hours since the update.
    #[serde(with = "float_json")]
    pub first_t: f64,
    /// The latest time seen, hours since the update.
    #[serde(with = "float_json")]
    pub last_t: f64,
    /// The value at `first_t`.
    #[serde(with = "float_json")]
    pub first_x: f64,
    /// The value at `last_t`.
    #[serde(with = "float_json")]
    pub last_x: f64,
    /// Σ (xᵢ − xᵢ₋₁)² over consecutive points.
    #[serde(with = "float_json")]
    pub sdd: f64,
    /// How many consecutive pairs `sdd` sums.
    pub pairs: u64,
}

/// A fitted trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Change per hour.
    pub slope: f64,
    /// The slope divided by its standard error.
    pub t: f64,
    /// The fitted value at the latest point.
    pub current: f64,
    /// Hours covered (first to last point).
    pub span_hours: f64,
    /// The residuals' estimated lag-1 autocorrelation, in [0, 0.99].
    pub rho: f64,
}

impl Trend {
    /// Summarises points given as parallel slices in time order, skipping NaN values.
    pub fn of(hours: &[f64], values: &[f64]) -> Self {
        let (mut n, mut st, mut sx, mut first, mut last) = (0u64, 0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        let (mut first_x, mut last_x, mut sdd) = (0.0, 0.0, 0.0);
        for (&t, &x) in hours.iter().zip(values) {
            if !x.is_nan() {
                if n == 0 {
                    first_x = x;
                } else {
                    sdd += (x - last_x) * (x - last_x);
                }
                last_x = x;
                n += 1;
                st += t;
                sx += x;
                first = first.min(t);
                last = last.max(t);
            }
        }
        if n == 0 {
            return Self::default();
        }
        #[allow(clippy::cast_precision_loss)]
        let (mt, mx) = (st / n as f64, sx / n as f64);
        let (mut ctt, mut ctx, mut cxx) = (0.0, 0.0, 0.0);
        for (&t, &x) in hours.iter().zip(values) {
            if !x.is_nan() {
                let (dt, dx) = (t - mt, x - mx);
                ctt += dt * dt;
                ctx += dt * dx;
                cxx += dx * dx;
            }
        }
        Self {
            count: n,
            mean_t: mt,
            mean_x: mx,
            ctt,
            ctx,
            cxx,
            first_t: first,
            last_t: last,
            first_x,
            last_x,
            sdd,
            pairs: n - 1,
        }
    }

    /// Merges another trend summary into this one.
    pub fn merge(&mut self, other: &Self) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        #[allow(clippy::cast_precision_loss)]
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        // The seam between consecutive ranges is one more pair of neighbours.
        if other.first_t > self.last_t {
            self.sdd += (other.first_x - self.last_x).powi(2);
            self.pairs += 1;
        } else if self.first_t > other.last_t {
            self.sdd += (self.first_x - other.last_x).powi(2);
            self.pairs += 1;
        }
        self.sdd += other.sdd;
        self.pairs += other.pairs;
        if other.first_t < self.first_t {
            self.first_x = other.first_x;
        }
        if other.last_t > self.last_t {
            self.last_x = other.last_x;
        }
        let (dt, dx) = (other.mean_t - self.mean_t, other.mean_x - self.mean_x);
        let w = na * nb / n;
        self.mean_t += dt * (nb / n);
        self.mean_x += dx * (nb / n);
        self.ctt += other.ctt + dt * dt * w;
        self.ctx += other.ctx + dt * dx * w;
        self.cxx += other.cxx + dx * dx * w;
        self.count += other.count;
        self.first_t = self.first_t.min(other.first_t);
        self.last_t = self.last_t.max(other.last_t);
    }

    /// The least-squares fit, or `None` with fewer than three points or no spread in time.
    /// Its t score uses the standard error widened for autocorrelation (see above).
    pub fn fit(&self) -> Option<Fit> {
        if self.count < 3 || self.ctt <= 0.0 {
            return None;
        }
        let slope = self.ctx / self.ctt;
        #[allow(clippy::cast_precision_loss)]
        let residual = ((self.cxx - slope * self.ctx) / (self.count - 2) as f64).max(0.0);
        #[allow(clippy::cast_precision_loss)]
        let rho = if self.pairs > 0 && residual > 0.0 {
            (1.0 - self.sdd / self.pairs as f64 / (2.0 * residual)).clamp(0.0, 0.99)
        } else {
            0.0
        };
        let se = (residual / self.ctt * ((1.0 + rho) / (1.0 - rho))).sqrt();
        let t = if se > 0.0 {
            slope / se
        } else if slope == 0.0 {
            0.0
        } else {
            f64::MAX.copysign(slope)
        };
        Some(Fit {
            slope,
            t,
            current: self.mean_x + slope * (self.last_t - self.mean_t),
            span_hours: self.last_t - self.first_t,
            rho,
        })
    }
}

/// A counter's first and last reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    /// Unix seconds.
    pub at: i64,
    /// The counter's value.
    pub value: f64,
}

/// A cumulative counter (errors, crashes, units): its increases, with resets and wraps.
///
/// Consecutive readings `p` then `v` increase it by `v − p`; when `v < p`, by `v + wraps_at −
/// p` if the counter declares a wrap value and `p − v > wraps_at / 2` (a wrap), else by `v`
/// (the device restarted and counts from zero again, a reset). Each interval adds a rate
/// sample, the increase per minute, to the metric's moments and sketch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterTrack {
    /// The earliest reading.
    pub first: Reading,
    /// The latest reading.
    pub last: Reading,
    /// Total increase from the first to the last reading.
    pub increase: f64,
    /// Readings below their predecessor taken as a restart.
    pub resets: u32,
    /// Readings below their predecessor taken as a wrap.
    pub wraps: u32,
}

/// The increase between two readings, and whether it was a reset (`Some(false)`) or a wrap
/// (`Some(true)`).
pub(crate) fn increase(prev: f64, v: f64, wraps_at: Option<f64>) -> (f64, Option<bool>) {
    if v >= prev {
        (v - prev, None)
    } else if let Some(m) = wraps_at.filter(|m| prev - v > m / 2.0) {
        (v + m - prev, Some(true))
    } else {
        (v, Some(false))
    }
}

/// The rate per minute of an increase over `seconds`.
pub(crate) fn per_minute(delta: f64, seconds: i64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let s = seconds as f64;
    delta * 60.0 / s
}

impl CounterTrack {
    /// Walks time-ordered readings (NaN = missing, skipped; equal times are the caller's to
    /// remove), reporting each interval's end time and rate per minute to `rate`.
    pub(crate) fn walk(
        times: &[i64],
        values: &[f64],
        wraps_at: Option<f64>,
        mut rate: impl FnMut(i64, f64),
    ) -> Option<Self> {
        let mut track: Option<Self> = None;
        for (&at, &value) in times.iter().zip(values) {
            if value.is_nan() {
                continue;
            }
            let r = Reading { at, value };
            match &mut track {
                None => track = Some(Self { first: r, last: r, increase: 0.0, resets: 0, wraps: 0 }),
                Some(t) => {
                    t.step(r, wraps_at, &mut rate);
                }
            }
        }
        track
    }

    fn step(&mut self, r: Reading, wraps_at: Option<f64>, rate: &mut impl FnMut(i64, f64)) {
        let (d, kind) = increase(self.last.value, r.value, wraps_at);
        match kind {
            Some(true) => self.wraps += 1,
            Some(false) => self.resets += 1,
            None => {}
        }
        self.increase += d;
        rate(r.at, per_minute(d, r.at - self.last.at));
        self.last = r;
    }

    /// Joins a track that follows this one in time: the interval between them adds one rate
    /// sample. Returns `false` (and changes nothing) when the two overlap in time.
    pub(crate) fn join(&mut self, later: &Self, wraps_at: Option<f64>, rate: impl FnMut(i64, f64)) -> bool {
        if later.first.at <= self.last.at {
            return false;
        }
        let mut rate = rate;
        self.step(later.first, wraps_at, &mut rate);
        self.increase += later.increase;
        self.resets += later.resets;
        self.wraps += later.wraps;
        self.last = later.last;
        true
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp, clippy::cast_precision_loss, clippy::many_single_char_names)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_a_naive_two_pass_computation() {
        let xs: Vec<f64> = (0..1001).map(|i| 1e9 + f64::from(i % 17) * 0.25).collect();
        let m = Moments::of(&xs);
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (xs.len() - 1) as f64;
        assert_eq!(m.count, 1001);
        assert!((m.mean - mean).abs() <= mean * 1e-15);
        assert!((m.variance() - var).abs() <= var * 1e-9, "{} vs {var}", m.variance());
        let mut pushed = Moments::default();
        for &x in &xs {
            pushed.push(x);
        }
        // One value at a time loses a little more (mean 1e9, spread 1.2: condition ~1e18).
        assert!((pushed.variance() - var).abs() <= var * 1e-8, "{} vs {var}", pushed.variance());
        assert_eq!((m.min, m.max), (1e9, 1e9 + 4.0));
        assert_eq!(Moments::of(&[f64::NAN]), Moments::default());
    }

    #[test]
    fn a_trend_recovers_its_slope() {
        let t: Vec<f64> = (0..240).map(|i| f64::from(i) / 60.0).collect();
        let x: Vec<f64> = t.iter().map(|h| 200.0 + 4.0 * h).collect();
        let fit = Trend::of(&t, &x).fit().unwrap();
        assert!((fit.slope - 4.0).abs() < 1e-9);
        assert!((fit.current - (200.0 + 4.0 * 239.0 / 60.0)).abs() < 1e-9);
        let (a, b) = (Trend::of(&t[..100], &x[..100]), Trend::of(&t[100..], &x[100..]));
        let mut m = a;
        m.merge(&b);
        assert!((m.fit().unwrap().slope - 4.0).abs() < 1e-9);
        assert_eq!(fit.span_hours, 239.0 / 60.0);
    }

    #[test]
    fn counters_reset_and_wrap() {
        let mut rates = Vec::new();
        let t =
            CounterTrack::walk(&[0, 60, 120, 180, 240], &[10.0, 12.0, 3.0, f64::NAN, 4_294_967_290.0], None, |_, r| {
                rates.push(r);
            })
            .unwrap();
        // 10→12 (+2), 12→3 reset (+3), 3→4294967290 over two minutes.
        assert_eq!(rates, [2.0, 3.0, (4_294_967_290.0 - 3.0) / 2.0]);
        assert_eq!((t.resets, t.wraps), (1, 0));
        assert_eq!(increase(4_294_967_290.0, 5.0, Some(4_294_967_296.0)), (11.0, Some(true)));
        assert_eq!(increase(1000.0, 5.0, Some(4_294_967_296.0)), (5.0, Some(false)));
    }
}

/// The `f64` fields of stored summaries: finite values as JSON numbers, and the non-finite ones
/// that sums of values near `f64::MAX` can reach as the strings `"inf"`, `"-inf"` and `"nan"`
/// (JSON has no number for them; `serde_json` would write `null`, which no state reads back).
/// Every state that can be written reads back exactly.
mod float_json {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` signature
    pub(super) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        match *v {
            v if v.is_finite() => s.serialize_f64(v),
            v if v.is_nan() => s.serialize_str("nan"),
            v if v > 0.0 => s.serialize_str("inf"),
            _ => s.serialize_str("-inf"),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Float<'a> {
            Number(f64),
            #[serde(borrow)]
            Text(std::borrow::Cow<'a, str>),
        }
        match Float::deserialize(d)? {
            Float::Number(v) => Ok(v),
            Float::Text(t) => match t.as_ref() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "nan" => Ok(f64::NAN),
                other => {
                    Err(D::Error::custom(format!("expected a number, \"inf\", \"-inf\" or \"nan\", found {other:?}")))
                }
            },
        }
    }
}
