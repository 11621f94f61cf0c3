//! `Fleet`.

use wasm_bindgen::prelude::*;

use crate::convert::{Doc, count, doc, object, opt_js, read, text, to_js};
use crate::graph::UpgradeGraph;
use crate::{Result, core};

#[wasm_bindgen(typescript_custom_section)]
const LINE_COUNT: &str = r"
/** A production line and how many devices it holds. */
export interface LineCount {
  /** The line. */
  line: string;
  /** Its devices. */
  devices: number;
}
";

/// A fleet: devices with model, production line, site and version, as the registry records them.
#[wasm_bindgen]
pub struct Fleet {
    pub(crate) inner: fleetpath::Fleet,
}

#[wasm_bindgen]
impl Fleet {
    /// Loads a fleet: CSV or JSON text (told apart by the first character), bytes, the
    /// `{"devices": [...]}` object or an array of devices.
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object | object[]")] fleet: JsValue,
    ) -> Result<Fleet> {
        let inner = match doc(&fleet, "fleet")? {
            Doc::Text(text) => fleetpath::Fleet::from_text(&text).map_err(core)?,
            // Any other value: the document, or its list of devices alone.
            value => read(value)?,
        };
        Ok(Self { inner })
    }

    /// `Fleet.load` as a promise, as the Node package has it (there it runs off the event
    /// loop; here, on one thread, before the promise settles). Rejects with the error `load`
    /// throws.
    #[wasm_bindgen(js_name = "loadAsync")]
    #[allow(clippy::unused_async)] // async for its promise: the Node package's signature
    pub async fn load_async(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object | object[]")] fleet: JsValue,
    ) -> Result<Fleet> {
        Self::load(fleet)
    }

    /// Reads a fleet from CSV text (`id,model,line,version[,site]`, any column order).
    #[wasm_bindgen(js_name = "fromCsv")]
    pub fn from_csv(#[wasm_bindgen(unchecked_param_type = "string")] csv: JsValue) -> Result<Fleet> {
        fleetpath::Fleet::from_csv(&text(&csv, "csv")?).map(|inner| Self { inner }).map_err(core)
    }

    /// How many devices it holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        count(self.inner.len())
    }

    /// Every device, in the order given.
    #[wasm_bindgen(unchecked_return_type = "Device[]")]
    pub fn devices(&self) -> Result<JsValue> {
        to_js(&self.inner.devices())
    }

    /// The device ids, in the order given (no object per device).
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn ids(&self) -> js_sys::Array {
        self.inner.ids().map(JsValue::from_str).collect()
    }

    /// The device `id`, or `null`.
    #[wasm_bindgen(unchecked_return_type = "Device | null")]
    pub fn get(&self, #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> Result<JsValue> {
        opt_js(self.inner.get(&text(&id, "id")?).as_ref())
    }

    /// Where the device `id` was stated (`row 3`, `devices[2]`), or `null`.
    #[wasm_bindgen(unchecked_return_type = "string | null")]
    pub fn origin(&self, #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> Result<JsValue> {
        Ok(self.inner.origin(&text(&id, "id")?).map_or(JsValue::NULL, JsValue::from))
    }

    /// The production lines and their sizes: `[{line, devices}]`.
    #[wasm_bindgen(unchecked_return_type = "LineCount[]")]
    pub fn lines(&self) -> js_sys::Array {
        self.inner
            .lines()
            .into_iter()
            .map(|(line, n)| object(&[("line", line.into()), ("devices", count(n).into())]))
            .collect()
    }

    /// Throws when a device runs a version or model the graph does not know.
    #[wasm_bindgen(js_name = "checkAgainst")]
    pub fn check_against(&self, graph: &UpgradeGraph) -> Result<()> {
        self.inner.check_against(&graph.inner).map_err(core)
    }

    /// The fleet as CSV text.
    #[wasm_bindgen(js_name = "toCsv")]
    pub fn to_csv(&self) -> String {
        self.inner.to_csv()
    }

    /// The fleet as JSON text.
    #[wasm_bindgen(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> String {
        self.inner.to_json()
    }
}
