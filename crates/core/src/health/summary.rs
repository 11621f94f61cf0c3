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

/// `b` when it is below `a`, else `a`: a NaN `b` is skipped (a comparison with NaN is false),
/// and of two zeros `a` stays, so a zero min or max has the same sign on every platform.
/// `f64::min` leaves that sign to how a platform lowers it, and its NaN rule took four
/// instructions a lane, which made [`Moments::of`] four times slower than a plain sum.
fn lesser(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// `b` when it is above `a`, else `a` (see [`lesser`]).
fn greater(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
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
                min[i] = lesser(min[i], v);
                max[i] = greater(max[i], v);
            }
        }
        for (i, &v) in rest.iter().enumerate() {
            let present = !v.is_nan();
            count[i] += u64::from(present);
            sum[i] += if present { v } else { 0.0 };
            min[i] = lesser(min[i], v);
            max[i] = greater(max[i], v);
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
            min: min.iter().copied().fold(f64::INFINITY, lesser),
            max: max.iter().copied().fold(f64::NEG_INFINITY, greater),
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
        self.min = lesser(self.min, other.min);
        self.max = greater(self.max, other.max);
        self.count += other.count;
    }

    /// The sample variance (n − 1 in the denominator); 0 below two values.
    pub fn variance(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        if self.count < 2 { 0.0 } else { self.m2 / (self.count - 1) as f64 }
    }
}

/// A least-squares line through (hours since the update, value), kept as means and co-moments
/// so it merges like [`Moments`], plus the sums of squared differences between values one and
/// two samples apart, which estimate the noise's autocorrelation.
///
/// Samples taken a minute apart are not independent: a level that wanders makes an ordinary
/// least-squares t score several times too large (with lag-1 autocorrelation ρ = 0.9, about
/// 4.4 times). [`Trend::fit`] estimates the lag-1 and lag-2 autocorrelations ρ₁, ρ₂ from
/// `Var(xᵢ − xᵢ₋ₖ) = 2σ²(1 − ρₖ)` and widens the slope's standard error by the square root of
/// the long-run variance factor `1 + 2 Σ ρₖ`. The autocorrelations are taken to decay
/// geometrically from lag 1, `ρₖ = ρ₁ φᵏ⁻¹` with `φ = ρ₂ / ρ₁`, which fits AR(1) noise
/// (`φ = ρ₁`, the factor is `(1 + ρ) / (1 − ρ)`, the effective-sample-size correction of Santer
/// et al., 2000) and a wandering level under independent noise (AR(1) plus white noise, where
/// `φ` exceeds `ρ₁`): the factor is `1 + 2ρ₁ / (1 − φ)`, with `φ` at least `ρ₁`, so it is never
/// below the AR(1) factor, and `φ = ρ₁` unless `ρ₂` stands clear of sampling noise. Merging trends that overlap in time adds no differences for the
/// seam, so their autocorrelations are then approximate; consecutive time ranges merge exactly.
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
    /// The value after `first_x` (equal to it with one point).
    #[serde(default, with = "float_json")]
    pub second_x: f64,
    /// The value before `last_x` (equal to it with one point).
    #[serde(default, with = "float_json")]
    pub penultimate_x: f64,
    /// Σ (xᵢ − xᵢ₋₂)² over points two apart. States written before it was kept read as 0
    /// with `pairs2` 0, and the fit then assumes AR(1) noise.
    #[serde(default, with = "float_json")]
    pub sdd2: f64,
    /// How many pairs two apart `sdd2` sums.
    #[serde(default)]
    pub pairs2: u64,
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
    /// The long-run variance factor `1 + 2 Σ ρₖ` the slope's squared standard error was
    /// multiplied by (1 for independent noise).
    pub variance_factor: f64,
    /// The residuals' variance.
    pub residual: f64,
    /// Σ (t − t̄)², hours².
    pub time_spread: f64,
}

impl Fit {
    /// This fit judged against another window's noise (a baseline's): the slope's standard
    /// error uses the larger of the two residual variances, and the baseline's long-run
    /// variance factor unless this window's own lag-1 autocorrelation alone, read as AR(1),
    /// needs a larger one.
    ///
    /// A short window's own residuals understate slow wandering: the fitted line absorbs it,
    /// and the windows whose wandering looks most like a climb are the ones that understate
    /// it most. Its lag-2 estimate is noisy too. Days of baseline know how the series
    /// wanders; an update that makes it noisier keeps its own, larger noise.
    #[must_use]
    pub fn against(self, baseline: &Self) -> Self {
        let residual = self.residual.max(baseline.residual);
        let ar1 = (1.0 + self.rho) / (1.0 - self.rho);
        let variance_factor = baseline.variance_factor.max(ar1);
        let se = (residual * variance_factor / self.time_spread).sqrt();
        // NaN (from infinite values) keeps the window's own fit.
        if se > 0.0 { Self { t: self.slope / se, residual, variance_factor, ..self } } else { self }
    }
}

impl Trend {
    /// Summarises points given as parallel slices in time order, skipping NaN values.
    pub fn of(hours: &[f64], values: &[f64]) -> Self {
        let (mut n, mut st, mut sx, mut first, mut last) = (0u64, 0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        let (mut first_x, mut second_x, mut penultimate_x, mut last_x) = (0.0, 0.0, 0.0, 0.0);
        let (mut sdd, mut sdd2) = (0.0, 0.0);
        for (&t, &x) in hours.iter().zip(values) {
            if x.is_nan() {
                continue;
            }
            if n >= 1 {
                sdd += (x - last_x) * (x - last_x);
            }
            if n >= 2 {
                sdd2 += (x - penultimate_x) * (x - penultimate_x);
            }
            match n {
                0 => (first_x, second_x, penultimate_x) = (x, x, x),
                1 => (second_x, penultimate_x) = (x, last_x),
                _ => penultimate_x = last_x,
            }
            last_x = x;
            n += 1;
            st += t;
            sx += x;
            first = lesser(first, t);
            last = greater(last, t);
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
            second_x,
            penultimate_x,
            sdd2,
            pairs2: n.saturating_sub(2),
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
        // The seam between consecutive ranges adds one pair of neighbours and up to two pairs
        // two apart.
        let seam = if other.first_t > self.last_t {
            Some((*self, *other))
        } else if self.first_t > other.last_t {
            Some((*other, *self))
        } else {
            None
        };
        if let Some((early, late)) = seam {
            self.sdd += (late.first_x - early.last_x).powi(2);
            self.pairs += 1;
            self.sdd2 += (late.first_x - early.penultimate_x).powi(2) * f64::from(u8::from(early.count > 1));
            self.sdd2 += (late.second_x - early.last_x).powi(2) * f64::from(u8::from(late.count > 1));
            self.pairs2 += u64::from(early.count > 1) + u64::from(late.count > 1);
            self.first_x = early.first_x;
            self.second_x = if early.count > 1 { early.second_x } else { late.first_x };
            self.penultimate_x = if late.count > 1 { late.penultimate_x } else { early.last_x };
            self.last_x = late.last_x;
        } else {
            if other.first_t < self.first_t {
                (self.first_x, self.second_x) = (other.first_x, other.second_x);
            }
            if other.last_t > self.last_t {
                (self.last_x, self.penultimate_x) = (other.last_x, other.penultimate_x);
            }
        }
        self.sdd += other.sdd;
        self.pairs += other.pairs;
        self.sdd2 += other.sdd2;
        self.pairs2 += other.pairs2;
        let (dt, dx) = (other.mean_t - self.mean_t, other.mean_x - self.mean_x);
        let w = na * nb / n;
        self.mean_t += dt * (nb / n);
        self.mean_x += dx * (nb / n);
        self.ctt += other.ctt + dt * dt * w;
        self.ctx += other.ctx + dt * dx * w;
        self.cxx += other.cxx + dx * dx * w;
        self.count += other.count;
        self.first_t = lesser(self.first_t, other.first_t);
        self.last_t = greater(self.last_t, other.last_t);
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
        let (rho, variance_factor) = self.autocorrelation(residual);
        let se = (residual / self.ctt * variance_factor).sqrt();
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
            variance_factor,
            residual,
            time_spread: self.ctt,
        })
    }

    /// The lag-1 autocorrelation and the long-run variance factor, given the residuals'
    /// variance (see the type's documentation).
    fn autocorrelation(&self, residual: f64) -> (f64, f64) {
        #[allow(clippy::cast_precision_loss)]
        let at = |sdd: f64, pairs: u64| 1.0 - sdd / pairs as f64 / (2.0 * residual);
        if self.pairs == 0 || residual <= 0.0 {
            return (0.0, 1.0);
        }
        // NaN (from infinite values) falls to the independent case.
        let rho = at(self.sdd, self.pairs);
        if rho.is_nan() || rho <= 0.0 {
            return (0.0, 1.0);
        }
        let rho = rho.min(0.99);
        // φ = ρ₂ / ρ₁ only when ρ₂ stands clear of sampling noise (two standard errors under
        // independence, 2 / √n): a ratio of two small noisy estimates can be anything. Without
        // it, or without lag-2 differences (states from older versions), AR(1): φ = ρ₁.
        let rho2 = if self.pairs2 > 0 { at(self.sdd2, self.pairs2) } else { 0.0 };
        #[allow(clippy::cast_precision_loss)]
        let clear = rho2 > 2.0 / (self.pairs2 as f64).sqrt();
        let decay = if clear && rho2 / rho > rho { (rho2 / rho).min(0.99) } else { rho };
        (rho, 1.0 + 2.0 * rho / (1.0 - decay))
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

/// The rate per minute of an increase over `seconds`. Readings a minute apart (the usual
/// interval) give the increase itself: exact, and without a division per sample.
pub(crate) fn per_minute(delta: f64, seconds: i64) -> f64 {
    if seconds == 60 {
        return delta;
    }
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
    fn min_and_max_skip_nan_and_keep_the_first_zero_on_every_platform() {
        let sign = |v: f64| if v.is_sign_negative() { "-" } else { "+" };
        // Values are read in four lanes (value i in lane i % 4, the tail after the chunks in
        // lanes 0, 1, 2): a lane keeps the first zero it meets, and the lowest lane's stays.
        for (values, min, max) in [
            (vec![0.0, -0.0], "+", "+"),
            (vec![-0.0, 0.0], "-", "-"),
            (vec![f64::NAN, -0.0, 0.0, f64::NAN, 0.0, -0.0, 0.0], "+", "+"),
            (vec![f64::NAN, -0.0, 0.0, f64::NAN, f64::NAN, 0.0], "-", "-"),
            (vec![0.0, f64::NAN, f64::NAN, f64::NAN, -0.0], "+", "+"),
        ] {
            let m = Moments::of(&values);
            assert_eq!((m.min, m.max), (0.0, 0.0), "{values:?}");
            assert_eq!((sign(m.min), sign(m.max)), (min, max), "{values:?}");
        }
        let m = Moments::of(&[f64::NAN, 3.0, f64::NAN, -2.0, 7.5, f64::NAN, 1.0, f64::NAN, -4.0]);
        assert_eq!((m.count, m.min, m.max), (5, -4.0, 7.5));
        let mut merged = Moments::of(&[-0.0, 1.0]);
        merged.merge(&Moments::of(&[0.0, 2.0]));
        assert_eq!((sign(merged.min), merged.max), ("-", 2.0));
    }

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

    /// Standard normal values from a fixed seed (xorshift and Box-Muller).
    fn normals(seed: u64, n: usize) -> Vec<f64> {
        let mut state = seed;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            #[allow(clippy::cast_precision_loss)]
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            u.max(f64::MIN_POSITIVE)
        };
        (0..n).map(|_| (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos()).collect()
    }

    /// AR(1) noise with unit variance and lag-1 correlation `phi`, plus independent noise of
    /// standard deviation `white`, one value a minute.
    fn wandering(seed: u64, n: usize, phi: f64, white: f64) -> (Vec<f64>, Vec<f64>) {
        let (a, e) = (normals(seed, n), normals(seed + 1, n));
        let mut level = 0.0;
        let x = (0..n)
            .map(|i| {
                level = phi * level + (1.0 - phi * phi).sqrt() * a[i];
                level + white * e[i]
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let t = (0..n).map(|i| i as f64 / 60.0).collect();
        (t, x)
    }

    #[test]
    fn the_long_run_variance_factor_follows_the_noise() {
        // Independent noise: no widening.
        let (t, x) = wandering(7, 20_000, 0.0, 1.0);
        let fit = Trend::of(&t, &x).fit().unwrap();
        assert!(fit.rho < 0.03 && fit.variance_factor < 1.1, "{fit:?}");
        // AR(1) 0.9: (1 + ρ) / (1 − ρ) = 19.
        let (t, x) = wandering(11, 20_000, 0.9, 0.0);
        let fit = Trend::of(&t, &x).fit().unwrap();
        assert!((fit.rho - 0.9).abs() < 0.02 && (fit.variance_factor - 19.0).abs() < 3.0, "{fit:?}");
        // AR(1) 0.9 under independent noise of the same variance: ρ₁ = 0.45, but the level's
        // memory makes the long-run factor 1 + 2 · 0.45 / (1 − 0.9) = 10, not the AR(1)
        // reading of ρ₁ alone, 1.45 / 0.55 = 2.6.
        let (t, x) = wandering(13, 20_000, 0.9, 1.0);
        let fit = Trend::of(&t, &x).fit().unwrap();
        assert!((fit.rho - 0.45).abs() < 0.03, "{fit:?}");
        assert!((fit.variance_factor - 10.0).abs() < 2.0, "{fit:?}");
    }

    #[test]
    fn short_windows_are_judged_against_the_baselines_noise() {
        // A wandering level under noise: a week of baseline, then 400 disjoint hours. Under
        // no trend, a t score should spread like a standard normal; an hour's own residuals
        // are flattered by its line (most where the wandering looks like a climb), so its
        // own t scores spread far wider.
        let week = 7 * 24 * 60;
        let (t, x) = wandering(100, week + 400 * 60, 0.9, 1.0);
        let baseline = Trend::of(&t[..week], &x[..week]).fit().unwrap();
        let (mut own, mut judged, mut caught) = (Vec::new(), Vec::new(), 0);
        for hour in 0..400 {
            let window = week + hour * 60..week + (hour + 1) * 60;
            let fit = Trend::of(&t[window.clone()], &x[window.clone()]).fit().unwrap();
            own.push(fit.t);
            judged.push(fit.against(&baseline).t);
            // The same noise with a leak of a baseline standard deviation (1.4) an hour,
            // looked at over 6 hours.
            let long = week + hour * 60..(week + hour * 60 + 360).min(t.len());
            let leaking: Vec<f64> = long.clone().map(|i| x[i] + 1.4 * t[i]).collect();
            let fit = Trend::of(&t[long], &leaking).fit().unwrap();
            caught += usize::from(fit.against(&baseline).t >= 6.0);
        }
        let spread = |v: &[f64]| Moments::of(v).variance().sqrt();
        assert!(spread(&own) > 1.5, "an hour's own t scores spread {}", spread(&own));
        assert!(spread(&judged) < 1.1, "judged against the baseline: {}", spread(&judged));
        assert!(caught >= 390, "the leak is found in {caught} of 395 six-hour windows");
        // A noisier window keeps its own residual variance: three times the noise, a third
        // of the t score.
        let (t, x) = wandering(5, 2000, 0.0, 1.0);
        let (slope, loud): (Vec<f64>, Vec<f64>) = x.iter().zip(&t).map(|(v, h)| (v + h, 3.0 * v + h)).unzip();
        let (quiet, loud) = (Trend::of(&t, &slope).fit().unwrap(), Trend::of(&t, &loud).fit().unwrap());
        let ratio = quiet.against(&quiet).t / loud.against(&quiet).t;
        assert!((ratio - 3.0).abs() < 0.3, "{ratio}");
        assert!((loud.against(&quiet).residual - loud.residual).abs() < 1e-9);
    }

    #[test]
    fn consecutive_pieces_merge_into_the_whole_trend() {
        let (t, x) = wandering(3, 9, 0.8, 0.5);
        let whole = Trend::of(&t, &x);
        // Every split into three consecutive pieces, single points included, each merged with
        // a neighbour.
        for i in 1..t.len() {
            for j in i + 1..t.len() {
                let pieces = [(0, i), (i, j), (j, t.len())].map(|(a, b)| Trend::of(&t[a..b], &x[a..b]));
                for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2]] {
                    let mut m = pieces[order[0]];
                    m.merge(&pieces[order[1]]);
                    m.merge(&pieces[order[2]]);
                    let what = format!("split at {i}, {j}, order {order:?}");
                    assert_eq!(
                        (m.pairs, m.pairs2, m.first_x, m.second_x, m.penultimate_x, m.last_x),
                        (whole.pairs, whole.pairs2, whole.first_x, whole.second_x, whole.penultimate_x, whole.last_x),
                        "{what}"
                    );
                    assert!((m.sdd - whole.sdd).abs() < 1e-9 && (m.sdd2 - whole.sdd2).abs() < 1e-9, "{what}");
                }
            }
        }
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
