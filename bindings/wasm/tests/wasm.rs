//! What only the wasm32 build has, tested inside wasm (`wasm-bindgen-test`, run in Node by
//! scripts/test.sh): errors thrown as JavaScript values the package's `index.js` reads, documents
//! given as JavaScript objects, arguments of the wrong JavaScript type, a store whose answers
//! are JavaScript promises. The whole API is tested from JavaScript (bindings/js-tests and
//! bindings/wasm/tests/*.test.mjs).
#![cfg(target_arch = "wasm32")]

use fleetpath_wasm::graph::UpgradeGraph;
use fleetpath_wasm::store::execute_tasks;
use fleetpath_wasm::version::Version;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

/// The `{code, message, fields}` a thrown error carries (its message is that JSON).
fn payload(thrown: JsValue) -> serde_json::Value {
    let err: js_sys::Error = thrown.dyn_into().expect("an Error");
    let code = js_sys::Reflect::get(&err, &"code".into()).unwrap();
    assert_eq!(code.as_string().as_deref(), Some("FLEETPATH"));
    serde_json::from_str(&String::from(err.message())).unwrap()
}

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

#[wasm_bindgen_test]
fn text_errors_carry_line_and_column() {
    let Err(thrown) = UpgradeGraph::load("{\"format_version\": 1,\n \"releases\": [}".into()) else { panic!() };
    let p = payload(thrown);
    assert_eq!(p["code"], "invalid_json");
    assert_eq!(p["fields"]["line"], 2);
}

#[wasm_bindgen_test]
fn object_documents_give_the_json_path() {
    let manifest = json(r#"{"format_version": 1, "releases": [{"version": 5}]}"#);
    let Err(thrown) = UpgradeGraph::load(manifest) else { panic!() };
    let p = payload(thrown);
    assert_eq!(p["code"], "invalid_json");
    assert_eq!(p["fields"]["path"], "releases[0].version");
    let graph = UpgradeGraph::load(json(r#"{"format_version": 1, "releases": [{"version": "1.0"}]}"#)).unwrap();
    assert_eq!(graph.size(), 1);
}

#[wasm_bindgen_test]
fn arguments_of_the_wrong_type_are_invalid_input() {
    for junk in [JsValue::TRUE, JsValue::NULL, JsValue::UNDEFINED, js_sys::Symbol::for_("s").into(), json("[1]")] {
        let Err(thrown) = Version::new(junk) else { panic!() };
        let p = payload(thrown);
        assert_eq!(p["code"], "invalid_input");
        assert_eq!(p["fields"]["what"], "version");
    }
    // A BigInt inside a document cannot become JSON: refused, not thrown as a TypeError.
    let big = js_sys::Object::new();
    js_sys::Reflect::set(&big, &"format_version".into(), &js_sys::BigInt::from(1_u32).into()).unwrap();
    let Err(thrown) = UpgradeGraph::load(big.into()) else { panic!() };
    assert_eq!(payload(thrown)["code"], "invalid_input");
}

#[wasm_bindgen_test]
async fn a_store_of_promises_drives_the_executor() {
    let availability = js_sys::Function::new_with_args(
        "key",
        "return Promise.resolve(key === 'fw/a.bin' ? {state: 'available', class: 'standard'} : {state: 'missing'})",
    );
    let store = js_sys::Object::new();
    js_sys::Reflect::set(&store, &"availability".into(), &availability).unwrap();
    let tasks =
        json(r#"[{"key": "fw/a.bin", "kind": {"type": "check"}}, {"key": "fw/b.bin", "kind": {"type": "check"}}]"#);
    let reports = execute_tasks(store.into(), tasks).await.unwrap();
    let reports: serde_json::Value =
        serde_json::from_str(&js_sys::JSON::stringify(&reports).unwrap().as_string().unwrap()).unwrap();
    assert_eq!(reports[0]["outcome"], "observed");
    assert_eq!(reports[0]["availability"]["state"], "available");
    assert_eq!(reports[1]["outcome"], "missing");
}
