//! What the fuzz targets share: the seed documents (built once), text from bytes, and the
//! round-trip check every loader must pass: what a type writes, it reads back equal.

use std::sync::OnceLock;

use fleetpath::{Calendar, Document, Fleet, Rollout, UpgradeGraph};

/// The input as text, if it is UTF-8 (every loader takes text; bindings refuse other bytes
/// before the core sees them).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The seed's graph, fleet, calendar and a started rollout over them.
pub struct Seed {
    /// `examples/data/seed-ip-module.json`.
    pub graph: UpgradeGraph,
    /// `examples/data/plant-340.csv`.
    pub fleet: Fleet,
    /// `examples/data/plant-calendar.json`.
    pub calendar: Calendar,
    /// A rollout to 6.15.008, started at 2026-11-23T08:00:00Z.
    pub rollout: Rollout,
}

/// The seed, loaded once per process.
pub fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let read = |path: &str| std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let graph = UpgradeGraph::from_json(&read("examples/data/seed-ip-module.json")).unwrap();
        let fleet = Fleet::from_csv(&read("examples/data/plant-340.csv")).unwrap();
        let calendar = Calendar::from_json(&read("examples/data/plant-calendar.json")).unwrap();
        let target = fleetpath::Version::parse("6.15.008").unwrap();
        let policy = fleetpath::RolloutPolicy::default();
        let plan = fleetpath::plan_rollout(&graph, &fleet, &target, &policy, "fuzz").unwrap();
        let rollout = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
        let start = fleetpath::Event::Start { at: at("2026-11-23T08:00:00Z") };
        let (rollout, _) = rollout.apply(&start, Some(&calendar)).unwrap();
        Seed { graph, fleet, calendar, rollout }
    })
}

/// An instant from RFC 3339 text the targets write themselves.
pub fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

/// Reads `T` from `text`; if it loads, writes it, reads that back and writes it again: the
/// two texts must be equal (compared as text, so that a NaN in a health summary counts as
/// equal to itself).
pub fn round_trip<T: Document + serde::Serialize>(text: &str) -> Option<T> {
    let value = T::from_json(text).ok()?;
    Some(written_back(value))
}

/// `value` after the round trip of [`round_trip`].
pub fn written_back<T: Document + serde::Serialize>(value: T) -> T {
    let written = serde_json::to_string(&value).expect("a loaded document serializes");
    let again = T::from_json(&written)
        .unwrap_or_else(|e| panic!("{} does not read back its own JSON: {e}\n{written}", T::NAME));
    let rewritten = serde_json::to_string(&again).expect("a loaded document serializes");
    assert_eq!(written, rewritten, "{} changes through its own JSON", T::NAME);
    again
}
