//! Strategies shared by the property tests.

use proptest::prelude::*;

pub(crate) fn pre_identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..40).prop_map(|n| n.to_string()),
        "[a-z][a-z0-9]{0,5}",
        Just("rc".to_owned()),
        Just("alpha".to_owned()),
    ]
}

pub(crate) fn dotted(ids: &[String]) -> String {
    ids.join(".")
}

/// A vendor spelling: prefix, 1..=8 components with optional leading zeros, suffixes.
pub(crate) fn vendor_version() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just("v"), Just("V")],
        prop::collection::vec((0u64..300, 0usize..3), 1..=8),
        prop::option::of(prop::collection::vec(pre_identifier(), 1..3).prop_map(|ids| dotted(&ids))),
        prop::option::of(prop::collection::vec("[0-9A-Za-z]{1,6}", 1..3).prop_map(|ids| dotted(&ids))),
    )
        .prop_map(|(prefix, parts, pre, build)| {
            let mut s = prefix.to_owned();
            let nums: Vec<String> = parts.iter().map(|(n, zeros)| format!("{}{n}", "0".repeat(*zeros))).collect();
            s.push_str(&nums.join("."));
            if let Some(pre) = pre {
                s.push('-');
                s.push_str(&pre);
            }
            if let Some(build) = build {
                s.push('+');
                s.push_str(&build);
            }
            s
        })
}
