//! Manifest loading: reading text gives what reading a Manifest then compiling it gives (the
//! same graph or the same error); what loads writes back a manifest that loads to the same
//! releases, lints, exports, and answers a path and a route table between its own releases
//! without panicking.
#![no_main]
use fleetpath::{Constraints, UpgradeGraph};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    // Read from text (plain release and edge entries read by their own reader, the rest
    // borrowed from the text where it can be) as read into a Manifest first: the same graph,
    // or the same error.
    let read = UpgradeGraph::from_json(text);
    match (&read, &fleetpath::Manifest::from_json(text).and_then(UpgradeGraph::new)) {
        (Ok(a), Ok(b)) => assert_eq!(a.to_manifest(), b.to_manifest()),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("from_json: {a:?}, Manifest then new: {b:?}"),
    }
    let Ok(graph) = read else { return };
    let written = graph.to_manifest().to_json();
    let again = UpgradeGraph::from_json(&written).expect("a loaded manifest reads back");
    assert_eq!(again.releases().len(), graph.releases().len());
    let _ = graph.lint();
    let _ = graph.to_dot(None);
    let _ = graph.to_mermaid(None);
    let releases = graph.releases();
    let (Some(first), Some(last)) = (releases.first(), releases.last()) else { return };
    let none = Constraints::default();
    if let Ok(path) = graph.resolve(first.version(), last.version(), &none) {
        assert_eq!(&path.from, first.version());
        assert_eq!(&path.to, last.version());
        let table = graph.route_table(last.version(), &none).expect("a reachable target has a table");
        assert_eq!(table.hops(first.version()), Some(u32::try_from(path.hops.len()).unwrap()));
    }
    for model in graph.models() {
        if let Ok(latest) = graph.latest_for(model) {
            let _ = graph.route_table(
                latest.version(),
                &Constraints { model: Some(model.to_owned()), ..Constraints::default() },
            );
        }
    }
});
