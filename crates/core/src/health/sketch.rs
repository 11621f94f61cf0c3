//! A mergeable quantile sketch with a fixed relative error, bucketed on the float's bits.
//!
//! # Why not the `sketches-ddsketch` crate
//!
//! We tried it first. Three properties we need it does not have: (1) its bucket index is
//! `floor(ln(v) / ln(γ))`, and `ln` is not correctly rounded on every platform (glibc, musl and
//! the wasm32 `libm` can differ in the last bit), so the same samples could land in different
//! buckets in Python and in a browser; its `Config` compares a computed `ln(γ)`, so a sketch
//! written by one platform may refuse to merge on another; (2) an empty sketch serializes its
//! ±∞ minimum and maximum as JSON `null`, which does not read back; (3) its serialized form is
//! its dense in-memory store (offset, capacity-sized bins), which depends on insertion order.
//!
//! This sketch uses the mapping `DDSketch` calls "bitwise linear" (also `HdrHistogram`'s): the
//! bucket of a positive `v` is its IEEE-754 exponent and top [`PRECISION_BITS`] mantissa bits,
//! `v.to_bits() >> (52 - PRECISION_BITS)`. That is exact integer arithmetic, monotone in `v`,
//! identical on every platform, and gives 128 buckets per power of two: any quantile is within
//! [`RELATIVE_ERROR`] (1/256, 0.39 %) of a sample at the requested rank. Subnormal magnitudes
//! (below 2⁻¹⁰²², whose exponent bits are all zero) are bucketed the same way after shifting
//! their leading one into place, so `5e-324` and `1e-310` are far apart, not tied; the keys of
//! subnormals come first, then those of normal floats, in value order.
//! Negative values use a mirrored store, zero its own count. Counts merge by addition, so
//! merging is exact and order-independent.

use crate::u32_of;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Mantissa bits kept per bucket: 2⁷ = 128 buckets per power of two.
pub const PRECISION_BITS: u32 = 7;
const SHIFT: u32 = 52 - PRECISION_BITS;
/// The worst relative error of a quantile (for normal floats): half a bucket, 2⁻⁸.
pub const RELATIVE_ERROR: f64 = 1.0 / 256.0;
/// A dense store spanning more buckets than this (a factor of 2³² between the smallest and
/// largest magnitude) turns sparse, so odd data cannot allocate megabytes.
const DENSE_LIMIT: usize = 4096;
const DENSE_LIMIT_U32: u32 = 4096;
/// Keys of subnormal magnitudes: 128 per power of two from 2⁻¹⁰⁷⁴ to 2⁻¹⁰²³. A normal
/// magnitude's key is its shifted bits plus [`NORMAL_OFFSET`], so it starts right after them.
const SUBNORMAL_KEYS: u32 = 52 << PRECISION_BITS;
const NORMAL_OFFSET: u32 = SUBNORMAL_KEYS - (1 << PRECISION_BITS);
/// The bucket of +∞, which no finite value reaches.
#[allow(clippy::cast_possible_truncation)]
const INFINITY_KEY: u32 = (0x7FF0_0000_0000_0000u64 >> SHIFT) as u32 + NORMAL_OFFSET;

/// The bucket of a positive, finite, non-zero magnitude.
#[inline]
fn key_of(magnitude: f64) -> u32 {
    let bits = magnitude.to_bits();
    // Finite positive f64 bits are below 0x7FF0_0000_0000_0000, so a key fits in 21 bits.
    #[allow(clippy::cast_possible_truncation)]
    if bits >> 52 != 0 {
        (bits >> SHIFT) as u32 + NORMAL_OFFSET
    } else {
        // Subnormal: the leading one at bit `p` (0 to 51) plays the exponent, the bits after it
        // the mantissa.
        let p = bits.ilog2();
        let fraction = ((bits << (52 - p)) & ((1 << 52) - 1)) >> SHIFT;
        (p << PRECISION_BITS) | fraction as u32
    }
}

/// The smallest magnitude of a bucket, as bits, and the bucket's width in bits.
fn bucket_bits(key: u32) -> (u64, u64) {
    if key >= SUBNORMAL_KEYS {
        (u64::from(key - NORMAL_OFFSET) << SHIFT, 1 << SHIFT)
    } else {
        let (p, fraction) = (key >> PRECISION_BITS, u64::from(key & ((1 << PRECISION_BITS) - 1)));
        if p >= PRECISION_BITS {
            ((1 << p) | (fraction << (p - PRECISION_BITS)), 1 << (p - PRECISION_BITS))
        } else {
            // Fewer bits than a bucket holds: one value per bucket.
            ((1 << p) | (fraction >> (PRECISION_BITS - p)), 1)
        }
    }
}

/// The midpoint of a bucket (within one binade, value and bits are proportional).
fn value_of(key: u32) -> f64 {
    let (lo, width) = bucket_bits(key);
    f64::from_bits(lo + width / 2)
}

/// Counts per bucket key, dense over a range or sparse.
#[derive(Debug, Clone)]
enum Store {
    Dense { offset: u32, bins: Vec<u64> },
    Sparse(BTreeMap<u32, u64>),
}

impl Default for Store {
    fn default() -> Self {
        Self::Dense { offset: 0, bins: Vec::new() }
    }
}

impl Store {
    #[inline]
    fn add(&mut self, key: u32, n: u64) {
        match self {
            Self::Dense { offset, bins } => {
                let i = key.wrapping_sub(*offset) as usize;
                if let Some(slot) = bins.get_mut(i) {
                    *slot += n;
                } else {
                    self.grow_and_add(key, n);
                }
            }
            Self::Sparse(map) => *map.entry(key).or_insert(0) += n,
        }
    }

    #[cold]
    fn grow_and_add(&mut self, key: u32, n: u64) {
        let Self::Dense { offset, bins } = self else { unreachable!("only dense stores grow") };
        if bins.is_empty() {
            *offset = key.saturating_sub(16);
            bins.resize((key - *offset) as usize + 32, 0);
        } else {
            let lo = (*offset).min(key);
            let hi = (*offset + u32_of(bins.len())).max(key + 1);
            if (hi - lo) as usize > DENSE_LIMIT {
                let map = self.iter().collect();
                *self = Self::Sparse(map);
                self.add(key, n);
                return;
            }
            if key < *offset {
                // Leave some room below as well, values drift both ways.
                let new_offset = key.saturating_sub(16).max(hi.saturating_sub(DENSE_LIMIT_U32));
                let shift = (*offset - new_offset) as usize;
                bins.splice(0..0, std::iter::repeat_n(0, shift));
                *offset = new_offset;
            } else {
                let len = ((key - *offset) as usize + 32).min(DENSE_LIMIT);
                bins.resize(len, 0);
            }
        }
        self.add(key, n);
    }

    /// Non-zero buckets in ascending key order.
    fn iter(&self) -> Box<dyn DoubleEndedIterator<Item = (u32, u64)> + '_> {
        match self {
            Self::Dense { offset, bins } => {
                Box::new(bins.iter().enumerate().filter(|(_, c)| **c > 0).map(move |(i, c)| (*offset + u32_of(i), *c)))
            }
            Self::Sparse(map) => Box::new(map.iter().map(|(k, c)| (*k, *c))),
        }
    }

    fn merge(&mut self, other: &Self) {
        for (k, c) in other.iter() {
            self.add(k, c);
        }
    }
}

/// A quantile sketch: approximate quantiles within [`RELATIVE_ERROR`], exact merges.
///
/// ```
/// use fleetpath::health::stats::QuantileSketch;
///
/// let mut a = QuantileSketch::default();
/// let mut b = QuantileSketch::default();
/// for v in 1..=500 { a.add(f64::from(v)); }
/// for v in 501..=1000 { b.add(f64::from(v)); }
/// a.merge(&b);
/// let median = a.quantile(0.5).unwrap();
/// assert!((median - 500.0).abs() <= 500.0 / 256.0);
/// assert_eq!(a.count(), 1000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct QuantileSketch {
    positive: Store,
    negative: Store,
    zero: u64,
    count: u64,
}

impl PartialEq for QuantileSketch {
    fn eq(&self, other: &Self) -> bool {
        self.zero == other.zero
            && self.count == other.count
            && self.positive.iter().eq(other.positive.iter())
            && self.negative.iter().eq(other.negative.iter())
    }
}

impl QuantileSketch {
    /// Adds one finite value (non-finite values are the caller's to reject).
    #[inline]
    pub fn add(&mut self, v: f64) {
        if v > 0.0 {
            self.positive.add(key_of(v), 1);
        } else if v < 0.0 {
            self.negative.add(key_of(-v), 1);
        } else {
            self.zero += 1;
        }
        self.count += 1;
    }

    /// Adds every value of a slice, skipping NaN (a missing sample).
    pub fn add_slice(&mut self, values: &[f64]) {
        for &v in values {
            if !v.is_nan() {
                self.add(v);
            }
        }
    }

    /// How many values it holds.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds another sketch's counts to this one. Exact: merging in any order or grouping gives
    /// the same sketch.
    pub fn merge(&mut self, other: &Self) {
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
        self.zero += other.zero;
        self.count += other.count;
    }

    /// The value at quantile `q` (0 = smallest, 1 = largest; the sample of rank ⌊q·(n−1)⌋),
    /// within [`RELATIVE_ERROR`]; `None` when empty or `q` is not in [0, 1].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rank = (q * (self.count - 1) as f64) as u64;
        let mut seen = 0u64;
        for (key, c) in self.negative.iter().rev() {
            seen += c;
            if seen > rank {
                return Some(-value_of(key));
            }
        }
        seen += self.zero;
        if seen > rank {
            return Some(0.0);
        }
        for (key, c) in self.positive.iter() {
            seen += c;
            if seen > rank {
                return Some(value_of(key));
            }
        }
        None
    }

    /// Every non-empty bucket in ascending value order as (representative value, count).
    pub fn buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let neg = self.negative.iter().rev().map(|(k, c)| (-value_of(k), c));
        let zero = (self.zero > 0).then_some((0.0, self.zero));
        let pos = self.positive.iter().map(|(k, c)| (value_of(k), c));
        neg.chain(zero).chain(pos)
    }

    /// Signed bucket ids in ascending value order: negatives at -2 and below, zero at -1,
    /// positives at 0 and above.
    fn ordered(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        let neg = self.negative.iter().rev().map(|(k, c)| (-i64::from(k) - 2, c));
        let zero = (self.zero > 0).then_some((-1, self.zero));
        let pos = self.positive.iter().map(|(k, c)| (i64::from(k), c));
        neg.chain(zero).chain(pos)
    }
}

impl QuantileSketch {
    /// The bucket (its signed id, in value order) holding the value at quantile `q`, as
    /// [`QuantileSketch::quantile`] finds it.
    pub(crate) fn bucket_at(&self, q: f64) -> Option<i64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rank = (q * (self.count - 1) as f64) as u64;
        let mut seen = 0u64;
        self.ordered()
            .find(|&(_, c)| {
                seen += c;
                seen > rank
            })
            .map(|(id, _)| id)
    }

    /// How many values lie in buckets strictly below `low` or strictly above `high` (signed
    /// bucket ids from [`QuantileSketch::bucket_at`]; `None` leaves that side out).
    pub(crate) fn count_beyond(&self, low: Option<i64>, high: Option<i64>) -> u64 {
        self.ordered()
            .filter(|&(id, _)| low.is_some_and(|l| id < l) || high.is_some_and(|h| id > h))
            .map(|(_, c)| c)
            .sum()
    }
}

/// The z score of an exact one-sided binomial test of "more than a share `expected` of `n`
/// trials succeed" given `successes`: the standard normal quantile of the tail probability
/// `P(X ≥ successes)`, so it reads like the Mann-Whitney z (3.0 ≈ p 0.00135). Clamped to ±38
/// (a tail below 10⁻³⁰⁰ is as significant as anything can be). `successes` and `n` may be
/// fractional: effective counts of autocorrelated samples.
///
/// The tail is the regularised incomplete beta function `I_p(k, n − k + 1)` and the quantile
/// the inverse normal, both from `statrs`: they use `ln`/`exp`, so the z may differ in its
/// last bits between platforms (the counts it comes from never do).
pub(crate) fn binomial_z(successes: f64, n: f64, expected: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    const LIMIT: f64 = 38.0;
    if n.is_nan() || successes.is_nan() || n <= 0.0 || successes < 0.0 {
        return 0.0;
    }
    if successes == 0.0 || expected >= 1.0 {
        // P(X ≥ 0) = 1: no evidence at all.
        return -LIMIT;
    }
    if successes > n || expected <= 0.0 {
        return LIMIT;
    }
    let tail = statrs::function::beta::beta_reg(successes, n - successes + 1.0, expected);
    let z = -Normal::standard().inverse_cdf(tail.clamp(0.0, 1.0));
    if z.is_nan() { 0.0 } else { z.clamp(-LIMIT, LIMIT) }
}

/// One-sided Mann-Whitney U test of "`observed` tends to be larger than `baseline`", from two
/// sketches: values in the same bucket count as ties (normal approximation with the tie
/// correction). Returns the z score (positive: observed larger), 0 when every value ties.
pub(crate) fn mann_whitney_z(baseline: &QuantileSketch, observed: &QuantileSketch) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let (n1, n2) = (observed.count as f64, baseline.count as f64);
    if n1 == 0.0 || n2 == 0.0 {
        return 0.0;
    }
    let mut a = baseline.ordered().peekable();
    let mut b = observed.ordered().peekable();
    let mut below = 0.0; // baseline values in buckets below the current one
    let mut u = 0.0;
    let mut ties = 0.0; // Σ (t³ − t)
    loop {
        let (cb, co) = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(&(ka, ca)), Some(&(kb, cb))) if ka == kb => {
                a.next();
                b.next();
                (ca, cb)
            }
            (Some(&(ka, ca)), Some(&(kb, _))) if ka < kb => {
                a.next();
                (ca, 0)
            }
            (Some(&(_, ca)), None) => {
                a.next();
                (ca, 0)
            }
            (_, Some(&(_, cb))) => {
                b.next();
                (0, cb)
            }
        };
        #[allow(clippy::cast_precision_loss)]
        let (cb, co) = (cb as f64, co as f64);
        u += co * (below + cb / 2.0);
        below += cb;
        let t = cb + co;
        ties += t * t * t - t;
    }
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if var <= 0.0 { 0.0 } else { (u - mean) / var.sqrt() }
}

/// The JSON form: `{"zero": n, "positive": [[bucket, count], …], "negative": [[bucket, count], …]}`
/// with buckets in ascending order (see [`key_of`]). `mapping` 2 is this module's key; a form
/// without it (written before subnormals had buckets of their own: a normal magnitude's bits
/// shifted right by 45, subnormals linear) is converted when read.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SketchForm {
    precision_bits: u32,
    #[serde(default = "first_mapping")]
    mapping: u32,
    zero: u64,
    positive: Vec<(u32, u64)>,
    negative: Vec<(u32, u64)>,
}

const MAPPING: u32 = 2;

fn first_mapping() -> u32 {
    1
}

/// A bucket key of the first mapping as a key of this one (a subnormal bucket of the first
/// mapping, linear, becomes the bucket of its smallest magnitude).
fn from_first_mapping(key: u32) -> u32 {
    if key >= 1 << PRECISION_BITS {
        key.saturating_add(NORMAL_OFFSET)
    } else {
        key_of(f64::from_bits((u64::from(key) << SHIFT).max(1)))
    }
}

impl Serialize for QuantileSketch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SketchForm {
            precision_bits: PRECISION_BITS,
            mapping: MAPPING,
            zero: self.zero,
            positive: self.positive.iter().collect(),
            negative: self.negative.iter().collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for QuantileSketch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let form = SketchForm::deserialize(d)?;
        if form.precision_bits != PRECISION_BITS {
            return Err(D::Error::custom(format!(
                "sketch precision_bits {} is not {PRECISION_BITS}",
                form.precision_bits
            )));
        }
        if !(1..=MAPPING).contains(&form.mapping) {
            return Err(D::Error::custom(format!("sketch mapping {} is not 1 or {MAPPING}", form.mapping)));
        }
        let mut sketch = Self { zero: form.zero, count: form.zero, ..Self::default() };
        for (store, pairs) in [(&mut sketch.positive, &form.positive), (&mut sketch.negative, &form.negative)] {
            let mut last = None;
            for &(k, c) in pairs {
                let k = if form.mapping == 1 { from_first_mapping(k) } else { k };
                if last.is_some_and(|l| l > k || form.mapping == MAPPING && l == k) || k >= INFINITY_KEY || c == 0 {
                    return Err(D::Error::custom(format!(
                        "sketch buckets must be ascending, below the infinity bucket and non-empty (bucket {k})"
                    )));
                }
                last = Some(k);
                store.add(k, c);
                sketch.count += c;
            }
        }
        Ok(sketch)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_and_tight() {
        let mut prev = 0;
        for i in 1..100_000 {
            let v = f64::from(i) * 0.37;
            let k = key_of(v);
            assert!(k >= prev);
            prev = k;
            let mid = value_of(k);
            assert!((mid - v).abs() <= v * RELATIVE_ERROR, "{v} -> {mid}");
        }
    }

    #[test]
    fn subnormals_have_buckets_of_their_own() {
        // Every power of two from the smallest subnormal to the largest normal: keys strictly
        // increase, and each value lies in its bucket.
        let mut prev: Option<(f64, u32)> = None;
        let mut v = f64::from_bits(1);
        while v.is_finite() {
            for m in [v, v * 1.3, v * 1.7] {
                let k = key_of(m);
                // Among the smallest subnormals `v * 1.3` rounds to `v`.
                assert!(prev.is_none_or(|(pm, p)| if m > pm { k > p } else { k == p }), "{m:e}");
                prev = Some((m, k));
                let (lo, width) = bucket_bits(k);
                assert!((lo..lo + width).contains(&m.to_bits()), "{m:e} not in bucket {k}");
                if m >= f64::MIN_POSITIVE * 128.0 || m.to_bits() >= 1 << 14 {
                    assert!((value_of(k) - m).abs() <= m * RELATIVE_ERROR * 2.0, "{m:e} -> {:e}", value_of(k));
                }
            }
            v *= 2.0;
        }
        assert_eq!(key_of(f64::MIN_POSITIVE), SUBNORMAL_KEYS, "the first normal bucket follows the subnormals");
        assert_eq!(key_of(f64::MIN_POSITIVE.next_down()), SUBNORMAL_KEYS - 1);
        assert!(key_of(f64::MAX) < INFINITY_KEY);
        assert_eq!(value_of(key_of(5e-324)), 5e-324);
        // 5e-324 and 1e-310 were one bucket (a tie for the noise gate); now the gate sees them apart.
        let (mut a, mut b) = (QuantileSketch::default(), QuantileSketch::default());
        for _ in 0..50 {
            a.add(5e-324);
            b.add(1e-310);
        }
        assert!(mann_whitney_z(&a, &b) > 8.0);
    }

    #[test]
    fn sketches_of_the_first_mapping_still_read() {
        // 1.0 and 3.0 as the first mapping wrote them (bits >> 45), and a subnormal bucket.
        let old = format!(
            r#"{{"precision_bits":7,"zero":1,"positive":[[0,2],[{},1],[{},4]],"negative":[]}}"#,
            1.0f64.to_bits() >> 45,
            3.0f64.to_bits() >> 45
        );
        let s: QuantileSketch = serde_json::from_str(&old).unwrap();
        assert_eq!(s.count(), 8);
        assert_eq!(s.quantile(1.0), Some(value_of(key_of(3.0))));
        assert!(s.quantile(0.2).unwrap() < 1e-300);
        assert!(serde_json::to_string(&s).unwrap().contains(r#""mapping":2"#));
        let bad = old.replace(r#""zero""#, r#""mapping":3,"zero""#);
        assert!(serde_json::from_str::<QuantileSketch>(&bad).unwrap_err().to_string().contains("mapping 3"));
    }

    #[test]
    fn quantiles_of_signed_values() {
        let mut s = QuantileSketch::default();
        for v in [-3.0, -1.0, 0.0, 0.0, 2.0, 5.0] {
            s.add(v);
        }
        let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * RELATIVE_ERROR;
        assert!(close(s.quantile(0.0).unwrap(), -3.0));
        assert!(close(s.quantile(0.2).unwrap(), -1.0));
        assert_eq!(s.quantile(0.4), Some(0.0));
        assert!(close(s.quantile(0.8).unwrap(), 2.0));
        assert!(close(s.quantile(1.0).unwrap(), 5.0));
        assert_eq!(s.quantile(1.5), None);
        assert_eq!(QuantileSketch::default().quantile(0.5), None);
    }

    #[test]
    fn wide_ranges_turn_sparse_and_round_trip() {
        let mut s = QuantileSketch::default();
        for v in [1e-300, 1.0, 1e300, 3.0, -2e200] {
            s.add(v);
        }
        assert!(matches!(s.positive, Store::Sparse(_)));
        let json = serde_json::to_string(&s).unwrap();
        let back: QuantileSketch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        let bad = json.replace("\"precision_bits\":7", "\"precision_bits\":6");
        assert!(serde_json::from_str::<QuantileSketch>(&bad).unwrap_err().to_string().contains("precision_bits 6"));
    }

    #[test]
    fn mann_whitney_matches_the_textbook_on_distinct_values() {
        // Baseline 1..=5, observed 6..=10: U = 25 (every pair favours observed).
        let mut a = QuantileSketch::default();
        let mut b = QuantileSketch::default();
        for v in 1..=5 {
            a.add(f64::from(v));
            b.add(f64::from(v + 5));
        }
        let z = mann_whitney_z(&a, &b);
        // mean 12.5, var = 25 * 11 / 12 → z = 12.5 / sqrt(22.9167)
        assert!((z - 12.5 / (25.0f64 * 11.0 / 12.0).sqrt()).abs() < 1e-12, "{z}");
        assert!((mann_whitney_z(&b, &a) + z).abs() < 1e-12);
        // All ties: no evidence either way.
        let mut c = QuantileSketch::default();
        c.add(1.0);
        c.add(1.0);
        assert_eq!(mann_whitney_z(&c, &c.clone()), 0.0);
    }
}
