//! Property tests of versions and ranges: spellings round-trip, ordering agrees with semver
//! and is total, range semantics agree with semver's.

use std::hash::{BuildHasher, RandomState};

use fleetpath::{Version, VersionRange};
use proptest::prelude::*;

mod common;
use common::{dotted, pre_identifier, vendor_version};

// ---------- versions ----------

fn semver_version() -> impl Strategy<Value = semver::Version> {
    (
        0u64..5,
        0u64..5,
        0u64..5,
        prop::option::of(prop::collection::vec(pre_identifier(), 1..3).prop_map(|ids| dotted(&ids))),
        prop::option::of(prop::collection::vec("[0-9a-z]{1,4}", 1..3).prop_map(|ids| dotted(&ids))),
    )
        .prop_map(|(major, minor, patch, pre, build)| {
            let mut v = semver::Version::new(major, minor, patch);
            if let Some(pre) = pre {
                v.pre = semver::Prerelease::new(&pre).unwrap();
            }
            if let Some(build) = build {
                v.build = semver::BuildMetadata::new(&build).unwrap();
            }
            v
        })
}

proptest! {
    #[test]
    fn display_round_trips(s in vendor_version()) {
        // Leading zeros in numeric pre-release identifiers are not semver: skip those.
        let Ok(v) = Version::parse(&s) else {
            prop_assume!(false);
            unreachable!()
        };
        prop_assert_eq!(v.to_string(), s.clone());
        let again = Version::parse(&v.normalized()).unwrap();
        prop_assert_eq!(&again, &v);
        prop_assert_eq!(again.normalized(), v.normalized());
        let json = serde_json::to_string(&v).unwrap();
        let back: Version = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.as_str(), s.as_str());
    }

    #[test]
    fn ordering_agrees_with_semver(a in semver_version(), b in semver_version(), zeros in 0usize..3) {
        // Spell ours with leading zeros and a prefix: the order must not change.
        let spell = |v: &semver::Version| {
            let mut s = format!("v{z}{}.{z}{}.{}", v.major, v.minor, v.patch, z = "0".repeat(zeros));
            if !v.pre.is_empty() { s.push('-'); s.push_str(v.pre.as_str()); }
            if !v.build.is_empty() { s.push('+'); s.push_str(v.build.as_str()); }
            s
        };
        let (ours_a, ours_b) = (Version::parse(&spell(&a)).unwrap(), Version::parse(&spell(&b)).unwrap());
        prop_assert_eq!(ours_a.cmp(&ours_b), a.cmp(&b));
        prop_assert_eq!(ours_a == ours_b, a == b);
        prop_assert_eq!(ours_a.to_semver().unwrap(), a.clone());
        prop_assert_eq!(Version::from(&a), ours_a);
    }

    #[test]
    fn ordering_is_total_and_consistent(mut vs in prop::collection::vec(vendor_version(), 1..20)) {
        let mut parsed: Vec<Version> = vs.drain(..).filter_map(|s| Version::parse(&s).ok()).collect();
        parsed.sort();
        for w in parsed.windows(2) {
            prop_assert!(w[0] <= w[1]);
        }
        let state = RandomState::new();
        for a in &parsed {
            for b in &parsed {
                prop_assert_eq!(a == b, a.cmp(b) == std::cmp::Ordering::Equal);
                prop_assert_eq!(a.cmp(b), b.cmp(a).reverse());
                if a == b {
                    prop_assert_eq!(state.hash_one(a), state.hash_one(b));
                }
            }
        }
    }
}

// ---------- ranges ----------

/// A comparator semver can read, in both syntaxes.
fn semver_comparator() -> impl Strategy<Value = String> {
    let op = prop_oneof![Just("="), Just(">"), Just(">="), Just("<"), Just("<="), Just("~"), Just("^")];
    prop_oneof![
        (op.clone(), 0u64..4).prop_map(|(op, a)| format!("{op}{a}")),
        (op.clone(), 0u64..4, 0u64..4).prop_map(|(op, a, b)| format!("{op}{a}.{b}")),
        (op, 0u64..4, 0u64..4, 0u64..4, prop::option::of(prop_oneof![Just("alpha"), Just("rc.1"), Just("rc.2")]))
            .prop_map(|(op, a, b, c, pre)| match pre {
                Some(pre) => format!("{op}{a}.{b}.{c}-{pre}"),
                None => format!("{op}{a}.{b}.{c}"),
            }),
        (0u64..4).prop_map(|a| format!("{a}.*")),
        (0u64..4, 0u64..4).prop_map(|(a, b)| format!("{a}.{b}.*")),
    ]
}

proptest! {
    #[test]
    fn ranges_agree_with_semver(
        comparators in prop::collection::vec(semver_comparator(), 1..3),
        versions in prop::collection::vec(semver_version(), 1..10),
    ) {
        let text = comparators.join(", ");
        let ours = VersionRange::parse(&text).unwrap();
        let theirs = semver::VersionReq::parse(&text).unwrap();
        for v in &versions {
            let mine = Version::parse(&v.to_string()).unwrap();
            prop_assert_eq!(ours.matches(&mine), theirs.matches(v), "{} vs {}", text, v);
        }
    }
}
