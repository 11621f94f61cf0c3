//! Retries with backoff: when a device should ask again, and when to give up.
//!
//! A firmware download can fail for a while (an artifact being restored from Glacier takes
//! hours; S3 throttles; a device's link drops). Devices must neither hammer the service nor
//! loop forever (rauc-hawkbit-updater re-downloading on 404 for ever is the cautionary tale).
//! A [`RetryPolicy`] turns "this attempt failed at T" into either "retry after T'"
//! ([`RetryDecision::RetryAt`], the instant a device's `Retry-After` should name) or "give up"
//! ([`RetryDecision::GiveUp`], for operators to see).
//!
//! # Jitter without hidden randomness
//!
//! Delays are jittered so that a fleet that failed together does not retry together. The
//! random draws are not random: draw `k` for a device is `XXH3(device id, seed = XXH3(seed ‖
//! k))` scaled to [0, 1). The same policy, seed, device and attempt give the same delay on
//! every platform and binding, and different devices spread evenly.
//!
//! - **Full jitter**: attempt `n` (0-based) waits `U(0, min(cap, base · 2ⁿ))`.
//! - **Decorrelated jitter**: `d₀ = base`, `dₙ = min(cap, U(base, 3 · dₙ₋₁))`.
//! - **None**: `min(cap, base · 2ⁿ)` exactly.
//!
//! ```
//! use fleetpath::retry::RetryDecision;
//! use fleetpath::{RetryPolicy, RetryState};
//!
//! let policy = RetryPolicy::default(); // 30 s base, 1 h cap, full jitter, 12 attempts, 24 h
//! let failed_at: jiff::Timestamp = "2026-11-23T08:00:00Z".parse()?;
//! let (state, decision) = policy.after_failure(RetryState::default(), "press-1-07", failed_at);
//! let RetryDecision::RetryAt { at, attempt } = decision else { unreachable!() };
//! assert_eq!(attempt, 1);
//! assert!(at > failed_at && at <= "2026-11-23T08:00:30Z".parse()?);
//! assert_eq!(state.attempts, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How delays are jittered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// `U(0, min(cap, base · 2ⁿ))`.
    #[default]
    Full,
    /// `min(cap, U(base, 3 · previous))`.
    Decorrelated,
    /// `min(cap, base · 2ⁿ)`.
    None,
}

/// When and how often to retry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// The first delay, in seconds (at least 1).
    pub base_seconds: u32,
    /// No delay is longer, in seconds (at least `base_seconds`).
    pub cap_seconds: u32,
    /// Jitter.
    pub jitter: Jitter,
    /// Give up after this many failed attempts.
    pub max_attempts: u32,
    /// Give up when the first failure is this many seconds old.
    pub give_up_after_seconds: u64,
    /// Seeds the jitter draws (any value; keep it fixed for reproducible delays).
    pub seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_seconds: 30,
            cap_seconds: 3600,
            jitter: Jitter::Full,
            max_attempts: 12,
            give_up_after_seconds: 24 * 3600,
            seed: 0,
        }
    }
}

/// A device's retry history (keep it per device and artifact, between requests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RetryState {
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the first of them failed.
    pub first_failure_at: Option<Timestamp>,
    /// The previous delay, in milliseconds (decorrelated jitter builds on it).
    pub last_delay_ms: u64,
}

/// What to tell the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum RetryDecision {
    /// Ask again at `at` (what a `Retry-After` header should name).
    RetryAt {
        /// When.
        at: Timestamp,
        /// The attempt this retry will be (1 for the first retry).
        attempt: u32,
    },
    /// Stop retrying; an operator must look.
    GiveUp {
        /// Failed attempts.
        attempts: u32,
        /// When the first one failed.
        since: Timestamp,
        /// `max_attempts` or `give_up_after`.
        reason: GiveUpReason,
    },
}

/// Why retries stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUpReason {
    /// `max_attempts` failed attempts.
    MaxAttempts,
    /// The first failure is older than `give_up_after_seconds`.
    GiveUpAfter,
}

/// Draw `k` for a device, uniform in [0, 1).
fn draw(seed: u64, device: &str, k: u32) -> f64 {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..].copy_from_slice(&k.to_le_bytes());
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(device.as_bytes(), xxhash_rust::xxh3::xxh3_64(&key));
    // The top 53 bits, exactly representable: a uniform double in [0, 1).
    #[allow(clippy::cast_precision_loss)]
    let unit = (h >> 11) as f64 / (1u64 << 53) as f64;
    unit
}

impl RetryPolicy {
    /// The delay before retry `attempt` (1 for the first retry) of `device`, in milliseconds,
    /// given the previous delay (for decorrelated jitter).
    pub fn delay_ms(&self, device: &str, attempt: u32, previous_ms: u64) -> u64 {
        let base = u64::from(self.base_seconds.max(1)) * 1000;
        let cap = u64::from(self.cap_seconds.max(self.base_seconds.max(1))) * 1000;
        let n = attempt.saturating_sub(1);
        let exponential = base.saturating_mul(1u64.checked_shl(n.min(62)).unwrap_or(u64::MAX)).min(cap);
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        match self.jitter {
            Jitter::None => exponential,
            // At least 1 ms: a zero delay would be no backoff at all.
            Jitter::Full => ((exponential as f64 * draw(self.seed, device, attempt)) as u64).max(1),
            Jitter::Decorrelated => {
                let previous = if previous_ms == 0 { base } else { previous_ms };
                let high = previous.saturating_mul(3).max(base);
                let span = (high - base) as f64;
                (base + (span * draw(self.seed, device, attempt)) as u64).min(cap)
            }
        }
    }

    /// Records a failed attempt at `at` and says what the device should do next.
    pub fn after_failure(&self, state: RetryState, device: &str, at: Timestamp) -> (RetryState, RetryDecision) {
        let first = state.first_failure_at.unwrap_or(at);
        let attempts = state.attempts.saturating_add(1);
        let elapsed = at.duration_since(first);
        let limit = SignedDuration::from_secs(i64::try_from(self.give_up_after_seconds).unwrap_or(i64::MAX));
        let give_up = if attempts >= self.max_attempts {
            Some(GiveUpReason::MaxAttempts)
        } else if elapsed >= limit {
            Some(GiveUpReason::GiveUpAfter)
        } else {
            None
        };
        if let Some(reason) = give_up {
            let next = RetryState { attempts, first_failure_at: Some(first), last_delay_ms: state.last_delay_ms };
            return (next, RetryDecision::GiveUp { attempts, since: first, reason });
        }
        let delay = self.delay_ms(device, attempts, state.last_delay_ms);
        let wait = SignedDuration::from_millis(i64::try_from(delay).unwrap_or(i64::MAX));
        let retry_at = at.checked_add(wait).unwrap_or(Timestamp::MAX);
        let next = RetryState { attempts, first_failure_at: Some(first), last_delay_ms: delay };
        (next, RetryDecision::RetryAt { at: retry_at, attempt: attempts })
    }
}

crate::document::documents! {
    RetryPolicy => "retry policy";
    RetryState => "retry state";
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_jitter_doubles_up_to_the_cap() {
        let policy = RetryPolicy { jitter: Jitter::None, base_seconds: 30, cap_seconds: 300, ..RetryPolicy::default() };
        let delays: Vec<u64> = (1..=6).map(|a| policy.delay_ms("d", a, 0) / 1000).collect();
        assert_eq!(delays, [30, 60, 120, 240, 300, 300]);
        assert_eq!(policy.delay_ms("d", 200, 0), 300_000, "huge attempt numbers saturate");
    }

    #[test]
    fn gives_up_on_attempts_and_on_age() {
        let policy = RetryPolicy { max_attempts: 3, give_up_after_seconds: 3600, ..RetryPolicy::default() };
        let t0: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        let (s1, d1) = policy.after_failure(RetryState::default(), "d", t0);
        assert!(matches!(d1, RetryDecision::RetryAt { attempt: 1, .. }));
        let (s2, _) = policy.after_failure(s1, "d", t0.checked_add(SignedDuration::from_mins(1)).unwrap());
        let (_, d3) = policy.after_failure(s2, "d", t0.checked_add(SignedDuration::from_mins(2)).unwrap());
        assert_eq!(d3, RetryDecision::GiveUp { attempts: 3, since: t0, reason: GiveUpReason::MaxAttempts });
        let late = t0.checked_add(SignedDuration::from_hours(2)).unwrap();
        let (_, d) = policy.after_failure(s1, "d", late);
        assert_eq!(d, RetryDecision::GiveUp { attempts: 2, since: t0, reason: GiveUpReason::GiveUpAfter });
    }

    #[test]
    fn draws_are_pinned_and_spread() {
        // Pinned: the same on every platform and binding.
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_ms("press-1-07", 1, 0), policy.delay_ms("press-1-07", 1, 0));
        let draws: Vec<f64> = (0..1000).map(|i| draw(7, &format!("device-{i}"), 1)).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / 1000.0;
        assert!((mean - 0.5).abs() < 0.05, "mean of 1000 uniform draws: {mean}");
        let below_tenth = draws.iter().filter(|&&d| d < 0.1).count();
        assert!((60..=140).contains(&below_tenth), "{below_tenth} of 1000 below 0.1");
    }
}
