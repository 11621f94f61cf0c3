//! Property tests of retries: backoff delays stay in bounds and grow in expectation.

use proptest::prelude::*;

// ---------- retries ----------

proptest! {
    #[test]
    fn backoff_delays_stay_in_bounds(
        base in 1u32..120,
        extra in 0u32..7200,
        jitter in prop_oneof![Just(fleetpath::retry::Jitter::Full), Just(fleetpath::retry::Jitter::Decorrelated), Just(fleetpath::retry::Jitter::None)],
        seed in any::<u64>(),
        device in "[a-z0-9-]{1,12}",
    ) {
        let policy = fleetpath::RetryPolicy { base_seconds: base, cap_seconds: base + extra, jitter, seed, max_attempts: 40, ..fleetpath::RetryPolicy::default() };
        let (base_ms, cap_ms) = (u64::from(base) * 1000, u64::from(base + extra) * 1000);
        let mut previous = 0;
        for attempt in 1..=30u32 {
            let delay = policy.delay_ms(&device, attempt, previous);
            let exponential = base_ms.saturating_mul(1u64 << (attempt - 1).min(62)).min(cap_ms);
            match jitter {
                fleetpath::retry::Jitter::Full => prop_assert!((1..=exponential).contains(&delay), "{delay} vs {exponential}"),
                fleetpath::retry::Jitter::Decorrelated => prop_assert!((base_ms..=cap_ms).contains(&delay), "{delay}"),
                fleetpath::retry::Jitter::None => prop_assert_eq!(delay, exponential),
            }
            // Deterministic: the same inputs, the same delay.
            prop_assert_eq!(delay, policy.delay_ms(&device, attempt, previous));
            previous = delay;
        }
    }
}

#[test]
fn backoff_is_non_decreasing_in_expectation() {
    for jitter in [fleetpath::retry::Jitter::Full, fleetpath::retry::Jitter::Decorrelated] {
        let policy = fleetpath::RetryPolicy { jitter, ..fleetpath::RetryPolicy::default() };
        // Mean delay of attempt n over 2000 devices, following each device's own history.
        let mut previous = vec![0u64; 2000];
        let mut means = Vec::new();
        for attempt in 1..=10u32 {
            let mut total = 0u64;
            for (i, prev) in previous.iter_mut().enumerate() {
                let delay = policy.delay_ms(&format!("device-{i}"), attempt, *prev);
                total += delay;
                *prev = delay;
            }
            means.push(total / 2000);
        }
        for pair in means.windows(2) {
            // 5% slack for sampling noise once the cap flattens the curve.
            assert!(pair[1] * 105 >= pair[0] * 100, "{jitter:?}: means {means:?}");
        }
        assert!(means[9] > means[0] * 4, "{jitter:?}: the backoff grows: {means:?}");
    }
}
