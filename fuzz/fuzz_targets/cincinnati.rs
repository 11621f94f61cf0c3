//! Cincinnati graphs: what imports either loads or fails with a typed error; what loads
//! serves a Cincinnati document (for any model and each channel) that imports again and
//! serves the same document (nodes, edges, conditional edges with their risks).
#![no_main]
use fleetpath::{Manifest, UpgradeGraph};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Ok(manifest) = Manifest::from_cincinnati(text) else { return };
    let Ok(graph) = UpgradeGraph::new(manifest) else { return };
    let models: Vec<Option<&str>> = std::iter::once(None).chain(graph.models().into_iter().map(Some)).collect();
    for model in models.into_iter().take(8) {
        let served = graph.to_cincinnati(model);
        let json = serde_json::to_string(&served).expect("a served graph serializes");
        let again = UpgradeGraph::new(Manifest::from_cincinnati(&json).expect("a served graph imports"))
            .expect("a served graph loads");
        let round = again.to_cincinnati(None);
        assert_eq!(round, served);
    }
});
